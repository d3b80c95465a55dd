//! The fast transport: a local socket served by Rust threads in the
//! hosting process, so requests never wait for its JavaScript event loop.
//!
//! - [`server`]: the listener and, per connected process, a thread
//!   answering its batches and one writing what the host pushes to it.
//! - [`outbox`]: the queue of pushes for one connection.
//! - [`client`]: a connection from a worker, with a reader thread for
//!   replies and a blocking path for synchronous calls.
//! - [`frame`]: length-prefixed messages on the socket.
//!
//! A connection starts with a handshake: the client sends the token it was
//! given over the cluster IPC channel; the server checks that the peer runs
//! as the same user (SO_PEERCRED) and that the token matches, answers
//! [`HANDSHAKE_OK`], and from then on every frame the client sends is a
//! batch (see [`crate::protocol`]), answered by its reply batch, in order.
//! Between replies the server may send pushes (frames that start with `!`
//! or `~`, where a reply batch starts with `[`), which the client tells
//! apart and does not count as replies.

pub mod client;
pub mod frame;
pub mod outbox;
pub mod server;

use std::time::Duration;

use interprocess::local_socket::{GenericNamespaced, Name, ToNsName};

/// What the server answers to an accepted handshake.
pub const HANDSHAKE_OK: &[u8] = b"ok";
/// How long either side waits for the other's part of the handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Socket names live in Linux's abstract namespace (no file, so nothing
/// is left behind by a crash); elsewhere interprocess maps them to a path.
pub fn socket_name(name: &str) -> std::io::Result<Name<'_>> {
  name.to_ns_name::<GenericNamespaced>()
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
  a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
