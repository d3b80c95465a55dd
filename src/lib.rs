//! Rust side of `sharedmemory`.
//!
//! - [`store`]: the key/value store (LRU bound, sliding expiry, byte accounting).
//! - [`protocol`]: the batch format every transport carries, and how a batch
//!   is applied to a store.
//! - [`locks`]: named locks with FIFO waiters, leases and fencing tokens.
//! - [`socket`]: the local-socket transport, served by Rust threads.
//! - [`sweeper`]: the background thread that removes expired entries.
//! - `binding`: the thin napi layer that exposes the above to JavaScript.
#![deny(clippy::all)]

pub mod error;
pub mod locks;
pub mod protocol;
pub mod socket;
pub mod store;
pub mod sweeper;

mod binding;
