//! The hosting side of the local socket: an accept thread, and for each
//! connection a thread that applies each batch and writes its reply, and a
//! thread that writes what the host pushes to it.
//!
//! What a peer may cost the server is bounded (see [`Limits`], and
//! "Limits" in the README): a connection that has not presented the token
//! yet may send at most [`HANDSHAKE_MAX_BYTES`] within one fixed deadline,
//! only [`MAX_HANDSHAKING`] of them wait at once, and no frame's buffer
//! grows beyond the bytes that actually arrived.
//!
//! [`serve`] answers a [`Server`]: serving goes on for the rest of the
//! process unless [`Server::stop`] is called, which frees the name and
//! closes every connection (their owners' locks and watches end).

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use interprocess::local_socket::{prelude::*, ListenerOptions, Stream};
use interprocess::TryClone;
use parking_lot::Mutex;

use super::frame::{read_frame, write_frame, FrameTooLarge, MAX_FRAME_BYTES};
use super::outbox::Outbox;
use super::rights;
use super::{
  same_secret, socket_name, Until, HANDSHAKE_MAX_BYTES, HANDSHAKE_OK, HANDSHAKE_TIMEOUT,
};
use crate::error::StoreError;
use crate::host::Host;
use crate::protocol;

/// How many accepted connections may wait for their handshake at once.
/// An honest one completes within microseconds of being accepted (the
/// client writes its token right after connecting), so even a cluster of
/// many workers starting together stays far below this; beyond it, new
/// connections are closed at once instead of each getting a thread.
pub const MAX_HANDSHAKING: usize = 64;

/// The longest pause of the accept loop after consecutive failures of
/// `accept()` (out of file descriptors, for instance): it waits 1 ms after
/// the first, doubling each time up to this, instead of spinning.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_millis(100);

/// A connection's read buffer is given back after a batch that made it
/// grow beyond this, so a burst of large batches does not stay resident.
const KEEP_READ_BUFFER: usize = 8 * 1024 * 1024;

/// What the server tolerates from its peers.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
  /// The whole time a new connection has to present its token.
  pub handshake_timeout: Duration,
  /// How many connections may wait for their handshake at once.
  pub max_handshaking: usize,
  /// The largest request batch frame; a larger one is answered with an
  /// `ERR_PROTOCOL` reply and the connection is closed.
  pub max_batch_bytes: usize,
}

impl Default for Limits {
  fn default() -> Self {
    Limits {
      handshake_timeout: HANDSHAKE_TIMEOUT,
      max_handshaking: MAX_HANDSHAKING,
      max_batch_bytes: MAX_FRAME_BYTES,
    }
  }
}

/// Starts serving `host` on the socket `name`; connections must present `token`.
/// The threads run until [`Server::stop`] (or for the rest of the process)
/// and never keep Node alive. Fails with [`io::ErrorKind::AddrInUse`] when
/// another socket holds the name: binding is how hosts are elected.
pub fn serve(host: Arc<Host>, name: &str, token: &[u8]) -> io::Result<Server> {
  serve_with(host, name, token, Limits::default())
}

/// [`serve`] with other limits (tests use short deadlines and small bounds).
pub fn serve_with(host: Arc<Host>, name: &str, token: &[u8], limits: Limits) -> io::Result<Server> {
  let listener = ListenerOptions::new()
    .name(socket_name(name)?)
    .create_sync()?;
  let listener_fd = raw_fd_of_listener(&listener);
  let token: Arc<[u8]> = token.into();
  let handshaking = Arc::new(AtomicUsize::new(0));
  let live = Arc::new(Live::default());
  let accepting = live.clone();
  let accept = thread::Builder::new()
    .name("sharedmemory-accept".into())
    .spawn(move || {
      let live = accepting;
      let mut backoff = Backoff::default();
      for connection in listener.incoming() {
        if live.stopped() {
          break; // the listener is dropped below: the name is free
        }
        let stream = match connection {
          Ok(stream) => {
            backoff.reset();
            stream
          }
          Err(_) => {
            thread::sleep(backoff.next_pause());
            continue;
          }
        };
        // Checked here, before the connection costs a thread: another
        // user's connection is closed at once.
        if !same_user(&stream) {
          continue;
        }
        let deadline = Instant::now() + limits.handshake_timeout;
        let Some(waiting) = Waiting::take(&handshaking, limits.max_handshaking) else {
          continue; // too many wait for their handshake already: closed
        };
        // Known to stop() from now on, so it can be closed with the server;
        // None once the server stopped (the stream is closed here).
        let Some(registered) = live.register(&stream) else {
          break;
        };
        let (host, token) = (host.clone(), token.clone());
        // If the thread cannot start, the closure is dropped: the stream
        // closes and the waiting slot is given back.
        let _ = thread::Builder::new()
          .name("sharedmemory-conn".into())
          .spawn(move || {
            let _registered = registered;
            let asked = authenticate(&stream, &token, deadline);
            drop(waiting);
            match asked {
              Ok(Asked::Batches) => {
                let _ = serve_connection(stream, &host, limits.max_batch_bytes);
              }
              // A store that publishes no segment just closes the connection.
              Ok(Asked::Segment) => {
                if let Some(fd) = host.segment_fd() {
                  let _ = rights::send_fd(&stream, fd);
                }
              }
              Err(_) => {}
            }
          });
      }
    })?;
  Ok(Server {
    listener_fd,
    live,
    accept: Some(accept),
  })
}

/// A store being served on a socket.
pub struct Server {
  /// The listener's descriptor, owned by the accept thread until it ends
  /// (which only [`Server::stop`] makes it do, after using it).
  listener_fd: RawFd,
  live: Arc<Live>,
  accept: Option<JoinHandle<()>>,
}

impl Server {
  /// Stops serving: the name is free for another process to bind once this
  /// returns, and every connection is closed (their owners disconnected
  /// from the host, so their locks pass on and their watches end). Calling
  /// it again does nothing.
  pub fn stop(&mut self) {
    let Some(accept) = self.accept.take() else {
      return;
    };
    self.live.stop();
    // Wakes the accept thread: on Linux, accept() on a listening socket
    // that was shut down fails at once. It then sees the stop and drops
    // the listener, which frees the name.
    // SAFETY: the accept thread owns the descriptor and has not ended (it
    // only ends after the stop above), so it is open; shutdown only
    // changes the socket's state.
    unsafe { libc::shutdown(self.listener_fd, libc::SHUT_RDWR) };
    let _ = accept.join();
  }
}

/// The connections a server has accepted and not yet closed, so that
/// stopping it can close them; None once it stopped.
#[derive(Default)]
struct Live {
  connections: Mutex<Option<HashMap<u64, Stream>>>,
  stopped: AtomicBool,
  next: AtomicU64,
}

impl Live {
  fn stopped(&self) -> bool {
    self.stopped.load(Ordering::Acquire)
  }

  /// Keeps a handle on `stream` (a duplicate descriptor, so the number
  /// stays valid until the answer is dropped) until the answer is dropped;
  /// None when the server has stopped.
  fn register(self: &Arc<Self>, stream: &Stream) -> Option<Registered> {
    let copy = stream.try_clone().ok()?;
    let mut connections = self.connections.lock();
    if self.stopped() {
      return None;
    }
    let id = self.next.fetch_add(1, Ordering::Relaxed);
    connections
      .get_or_insert_with(HashMap::new)
      .insert(id, copy);
    Some(Registered {
      live: self.clone(),
      id,
    })
  }

  /// Marks the server stopped and shuts every live connection down: their
  /// threads read the end of the stream and finish.
  fn stop(&self) {
    let mut connections = self.connections.lock();
    self.stopped.store(true, Ordering::Release);
    for stream in connections
      .take()
      .into_iter()
      .flat_map(|map| map.into_values())
    {
      shut_down(&stream);
    }
  }
}

/// A connection known to [`Live`], forgotten when dropped.
struct Registered {
  live: Arc<Live>,
  id: u64,
}

impl Drop for Registered {
  fn drop(&mut self) {
    if let Some(map) = self.live.connections.lock().as_mut() {
      map.remove(&self.id);
    }
  }
}

/// Ends both directions of a connection, for every handle on it.
fn shut_down(stream: &Stream) {
  #[allow(irrefutable_let_patterns)]
  if let Stream::UdSocket(stream) = stream {
    // SAFETY: the descriptor is open (owned by `stream`); shutdown only changes the socket's state.
    unsafe { libc::shutdown(stream.as_fd().as_raw_fd(), libc::SHUT_RDWR) };
  }
}

fn raw_fd_of_listener(listener: &interprocess::local_socket::Listener) -> RawFd {
  #[allow(irrefutable_let_patterns)]
  if let interprocess::local_socket::Listener::UdSocket(listener) = listener {
    return listener.as_fd().as_raw_fd();
  }
  -1
}

/// The pause after each consecutive failure of `accept()`: 1, 2, 4, ... ms,
/// up to [`ACCEPT_BACKOFF_MAX`].
#[derive(Default)]
struct Backoff {
  failures: u32,
}

impl Backoff {
  fn next_pause(&mut self) -> Duration {
    let pause = Duration::from_millis(1 << self.failures.min(16)).min(ACCEPT_BACKOFF_MAX);
    self.failures = self.failures.saturating_add(1);
    pause
  }

  fn reset(&mut self) {
    self.failures = 0;
  }
}

/// One of the bounded places for a connection waiting for its handshake,
/// given back when dropped.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
  fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Waiting> {
    count
      .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < max).then_some(n + 1)
      })
      .ok()
      .map(|_| Waiting(count.clone()))
  }
}

impl Drop for Waiting {
  fn drop(&mut self) {
    self.0.fetch_sub(1, Ordering::AcqRel);
  }
}

/// Whether the peer runs as our own user.
fn same_user(stream: &Stream) -> bool {
  // SAFETY: geteuid has no preconditions and cannot fail.
  let me = unsafe { libc::geteuid() };
  matches!(stream.peer_creds(), Ok(creds) if creds.euid() == Some(me))
}

/// Accepts only a peer that presents the token, in one frame of at most
/// [`HANDSHAKE_MAX_BYTES`], before `deadline`.
fn authenticate(stream: &Stream, token: &[u8], deadline: Instant) -> io::Result<Asked> {
  let mut presented = Vec::new();
  let until = Until { stream, deadline };
  if !read_frame(until, &mut presented, HANDSHAKE_MAX_BYTES)? {
    return Err(io::ErrorKind::UnexpectedEof.into());
  }
  let (asked, presented) = match rights::segment_request(&presented) {
    Some(presented) => (Asked::Segment, presented),
    None => (Asked::Batches, &presented[..]),
  };
  if !same_secret(presented, token) {
    return Err(io::Error::new(
      io::ErrorKind::PermissionDenied,
      "wrong token",
    ));
  }
  stream.set_recv_timeout(None)?;
  if asked == Asked::Batches {
    write_frame(stream, HANDSHAKE_OK)?;
  }
  Ok(asked)
}

/// What an authenticated connection is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
  /// Batches, answered in order, and pushes.
  Batches,
  /// The segment's descriptor, once (see [`rights`]).
  Segment,
}

/// Serves one connected process (one owner) until it disconnects; then its
/// locks and watches end.
fn serve_connection(stream: Stream, host: &Host, max_batch_bytes: usize) -> io::Result<()> {
  // Replies and pushes share the socket: one frame at a time.
  let writer = Arc::new(Mutex::new(stream.try_clone()?));
  let outbox = Arc::new(Outbox::default());
  let owner = host.connect(|_| outbox.clone());
  let pushes = {
    let (outbox, writer) = (outbox.clone(), writer.clone());
    thread::Builder::new()
      .name("sharedmemory-push".into())
      .spawn(move || outbox.drain(|frame| write_frame(&*writer.lock(), frame)))
  };
  let served = answer(&stream, host, owner, &writer, max_batch_bytes);
  outbox.close();
  host.disconnect(owner);
  if let Ok(pushes) = pushes {
    let _ = pushes.join();
  }
  served
}

fn answer(
  stream: &Stream,
  host: &Host,
  owner: u64,
  writer: &Mutex<Stream>,
  max_batch_bytes: usize,
) -> io::Result<()> {
  let mut input = BufReader::with_capacity(64 * 1024, stream);
  let mut batch = Vec::new();
  loop {
    match read_frame(&mut input, &mut batch, max_batch_bytes) {
      Ok(true) => {}
      Ok(false) => return Ok(()),
      Err(err) => {
        if let Some(too_large) = FrameTooLarge::of(&err) {
          // Its requests cannot be read, so the reply names none of them;
          // then the connection closes, since the rest of the frame is not read.
          let why = format!("{too_large}; the connection is closed");
          let reply = protocol::batch_error(&StoreError::Protocol(why));
          let _ = write_frame(&*writer.lock(), reply.as_bytes());
        }
        return Err(err);
      }
    }
    let reply = match std::str::from_utf8(&batch) {
      Ok(text) => host.apply(owner, text),
      Err(_) => protocol::batch_error(&StoreError::Protocol("the batch is not UTF-8".into())),
    };
    write_frame(&*writer.lock(), reply.as_bytes())?;
    if batch.capacity() > KEEP_READ_BUFFER {
      batch = Vec::new();
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_accept_loop_backs_off_up_to_its_ceiling_and_starts_over_after_a_success() {
    let mut backoff = Backoff::default();
    let pauses: Vec<u64> = (0..10)
      .map(|_| backoff.next_pause().as_millis() as u64)
      .collect();
    assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 64, 100, 100, 100]);
    for _ in 0..100 {
      backoff.next_pause();
    }
    assert_eq!(backoff.next_pause(), ACCEPT_BACKOFF_MAX);
    backoff.reset();
    assert_eq!(backoff.next_pause(), Duration::from_millis(1));
  }

  #[test]
  fn waiting_places_are_bounded_and_given_back() {
    let count = Arc::new(AtomicUsize::new(0));
    let first = Waiting::take(&count, 2).unwrap();
    let _second = Waiting::take(&count, 2).unwrap();
    assert!(Waiting::take(&count, 2).is_none());
    drop(first);
    assert!(Waiting::take(&count, 2).is_some());
  }
}
