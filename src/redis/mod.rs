//! The Redis backend's Rust side: the same batches every transport
//! carries ([`crate::protocol`]), applied to a Redis server instead of our
//! own store. JavaScript sees it as one more transport
//! (`lib/backends/redis.js`), so ordering, timeouts and callbacks stay
//! the batching backend's.
//!
//! - [`layout`]: where keys, namespaces, locks and fencing counters live in
//!   the Redis keyspace.
//! - [`plan`]: each operation as Redis commands, and the answers back as a reply.
//! - [`script`]: the Lua scripts of the read-modify-write operations.
//! - [`link`]: the connection, its timeouts and its reconnection.
//! - [`client`]: the I/O thread that applies batches, and the lock waiters.
//! - [`events`]: the subscriber connection (lock releases, keyspace notifications).
//!
//! It uses the `redis` crate's sync connections on threads of our own (no
//! async runtime), so sync calls are a plain blocking round trip.

pub mod client;
pub mod events;
pub mod job;
pub mod layout;
pub mod link;
pub mod plan;
pub mod script;

use std::time::Duration;

pub use client::RedisClient;

/// What a Redis store is, as `init({redis})` gives it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
  /// `redis://`, `rediss://` (TLS), `unix://` or `redis+unix://`.
  pub url: String,
  /// Starts every key this package writes.
  pub prefix: String,
  /// `hashTag: 'namespace'`: every key of a namespace in one hash slot.
  pub tag_namespace: bool,
  /// The sliding expiry (ms), from `cache: {type: 'expire'}`.
  pub sliding: Option<u64>,
  /// Bounds every round trip.
  pub timeout: Duration,
  /// Bounds connecting.
  pub connect_timeout: Duration,
  /// `notifications: 'configure'`: let watch() turn keyspace notifications on.
  pub configure_notifications: bool,
  /// The server is a node of a Redis Cluster: commands are routed by slot.
  pub cluster: bool,
  /// The near-cache is on: connections track what they read.
  pub near_tracking: bool,
}
