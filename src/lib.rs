//! Rust side of `sharedmemory`.
//!
//! - [`store`]: the key/value store (namespaces, TTLs, LRU bound, sliding
//!   expiry, byte accounting).
//! - [`op`]: the typed operation (`Op`) and its answer (`Reply`), between
//!   the wire and the store.
//! - [`protocol`]: the batch format every transport carries: batches read
//!   into `Op`s, replies and pushes written back.
//! - [`exec`]: runs an `Op` against the store, the locks and the watches.
//! - [`host`]: what a hosting process serves: the store, locks and watches,
//!   and the processes connected to them.
//! - [`locks`]: named locks with FIFO waiters, leases and fencing tokens.
//! - [`watch`]: change notifications.
//! - [`peers`]: connected processes and how pushes reach them.
//! - [`socket`]: the local-socket transport, served by Rust threads.
//! - [`sweeper`]: the background thread for expiry, leases and waits.
//! - `binding`: the thin napi layer that exposes the above to JavaScript.
#![deny(clippy::all)]

pub mod error;
pub mod exec;
pub mod host;
pub mod locks;
pub mod op;
pub mod peers;
pub mod protocol;
pub mod socket;
pub mod store;
pub mod sweeper;
pub mod watch;

mod binding;
