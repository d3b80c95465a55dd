//! The fast transport: a local socket served by Rust threads in the
//! hosting process, so requests never wait for its JavaScript event loop.
//!
//! - [`server`]: the listener and, per connected process, a thread
//!   answering its batches and one writing what the host pushes to it.
//! - [`outbox`]: the queue of pushes for one connection.
//! - [`client`]: a connection from a worker, with a reader thread for
//!   replies and a blocking path for synchronous calls.
//! - [`frame`]: length-prefixed messages on the socket.
//! - [`rights`]: the shared segment's descriptor, passed on a connection
//!   of its own (`SCM_RIGHTS`).
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
pub mod host_lock;
pub mod outbox;
pub mod rights;
pub mod server;

use std::io::{self, Read};
use std::time::{Duration, Instant};

use interprocess::local_socket::{
  prelude::*, GenericFilePath, GenericNamespaced, Name, Stream, ToFsName, ToNsName,
};

/// What the server answers to an accepted handshake.
pub const HANDSHAKE_OK: &[u8] = b"ok";
/// How long either side waits for the other's part of the handshake, in
/// all: the deadline is set when the connection is accepted (or made) and
/// is not renewed by the bytes that arrive.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest handshake frame either side reads. A token is 64 hex
/// digits (see lib/transports/socket.js), and the answer is
/// [`HANDSHAKE_OK`]; a header declaring more closes the connection before
/// anything else is read.
pub const HANDSHAKE_MAX_BYTES: usize = 256;

/// Socket names live in Linux's abstract namespace (no file, so nothing
/// is left behind by a crash); elsewhere interprocess maps them to a path.
/// A name that starts with `/` is a socket file at that path (the election
/// by lock file, [`host_lock`], where abstract names do not exist).
pub fn socket_name(name: &str) -> std::io::Result<Name<'_>> {
  if name.starts_with('/') {
    name.to_fs_name::<GenericFilePath>()
  } else {
    name.to_ns_name::<GenericNamespaced>()
  }
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
  a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads from a stream until a fixed deadline: each read waits at most for
/// the time left, so a peer sending a byte now and then cannot stretch it.
/// Leaves a receive timeout set on the stream; reset it afterwards.
pub struct Until<'a> {
  pub stream: &'a Stream,
  pub deadline: Instant,
}

impl Read for Until<'_> {
  fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    let left = self.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
      return Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "the handshake took too long",
      ));
    }
    // A zero timeout would mean none at all: wait at least a millisecond.
    self
      .stream
      .set_recv_timeout(Some(left.max(Duration::from_millis(1))))?;
    let mut stream = self.stream;
    stream.read(buf)
  }
}

#[cfg(test)]
mod tests;
