//! A worker's connection to the hosting process's socket.
//!
//! Writes happen on the caller's thread, so a batch leaves as soon as it is
//! flushed. One reader thread takes reply frames off the socket: the reply
//! a synchronous call waits for is handed to it directly; every other reply
//! goes to the `on_reply` callback (which wakes the JS thread once per
//! batch), and so do the server's pushes. The server answers frames in
//! order, so a frame's reply is known by counting replies (pushes, which do
//! not start with `[`, are not counted).
//!
//! A synchronous call made while every earlier batch has been answered
//! goes over a second, direct connection instead, whose reply the calling
//! thread reads itself: one thread hand-over less. It cannot overtake
//! anything, since nothing is in flight. That connection is an owner of its
//! own on the server, so locks and watches, which belong to their
//! connection, must always be sent with [`SocketClient::send`].

use std::io::{self, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use interprocess::local_socket::{prelude::*, Stream};
use interprocess::TryClone;
use parking_lot::{Condvar, Mutex};

use super::frame::{read_frame, write_frame, MAX_FRAME_BYTES};
use super::{socket_name, Until, HANDSHAKE_MAX_BYTES, HANDSHAKE_OK, HANDSHAKE_TIMEOUT};

#[derive(Debug, PartialEq, Eq)]
pub enum SyncError {
  /// No reply within the deadline (the reply, when it comes, goes to `on_reply`).
  Timeout,
  /// The connection is closed.
  Closed,
}

impl SyncError {
  /// The code its requests fail with (as `StoreError::code`'s, stable for JavaScript).
  pub fn code(&self) -> &'static str {
    match self {
      SyncError::Timeout => "ERR_TIMEOUT",
      SyncError::Closed => "ERR_HOST_EXITED",
    }
  }

  /// What its requests fail with, for a call that waited `timeout`.
  pub fn message(&self, timeout: Duration) -> String {
    match self {
      SyncError::Timeout => format!(
        "no reply within {} ms (the timeout option)",
        timeout.as_millis()
      ),
      SyncError::Closed => "the socket to the process serving the store is closed".into(),
    }
  }
}

pub struct SocketClient {
  writer: Mutex<Writer>,
  shared: Arc<Shared>,
  /// A second connection for synchronous calls made while nothing is in
  /// flight on the first: the caller's thread reads the reply itself, with
  /// no hand-over from the reader thread. Opened at the first such call.
  direct: Mutex<Option<Direct>>,
  name: String,
  token: Box<[u8]>,
  send_timeout: Duration,
  /// Set by [`SocketClient::close`]: no direct connection is opened after it.
  closed: AtomicBool,
}

struct Writer {
  stream: Stream,
  /// Frames written so far: the next frame's sequence number.
  sent: u64,
}

#[derive(Default)]
struct Shared {
  slot: Mutex<Slot>,
  arrived: Condvar,
}

/// Where a synchronous call waits for its reply.
#[derive(Default)]
struct Slot {
  /// Replies read so far (pushes not counted).
  received: u64,
  waiting_for: Option<u64>,
  reply: Option<String>,
  closed: bool,
}

impl SocketClient {
  /// Connects and completes the handshake. `on_reply` gets every reply
  /// nobody waits for synchronously, then `None` once the connection closes.
  /// A write that cannot proceed for `send_timeout` breaks the connection.
  pub fn connect<F>(
    name: &str,
    token: &[u8],
    send_timeout: Duration,
    mut on_reply: F,
  ) -> io::Result<SocketClient>
  where
    F: FnMut(Option<String>) + Send + 'static,
  {
    let stream = handshake(name, token, send_timeout)?;
    let reader = stream.try_clone()?;
    let shared = Arc::new(Shared::default());
    let replies = shared.clone();
    thread::Builder::new()
      .name("sharedmemory-replies".into())
      .spawn(move || {
        let mut input = BufReader::with_capacity(64 * 1024, reader);
        let mut frame = Vec::new();
        while let Ok(true) = read_frame(&mut input, &mut frame, MAX_FRAME_BYTES) {
          // The frame becomes the text without a copy; the next frame gets a new buffer.
          let text = String::from_utf8(std::mem::take(&mut frame))
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
          if !text.starts_with('[') {
            // A push, not the reply to a frame we sent.
            on_reply(Some(text));
            continue;
          }
          let mut slot = replies.slot.lock();
          let seq = slot.received;
          slot.received += 1;
          if slot.waiting_for == Some(seq) {
            slot.waiting_for = None;
            slot.reply = Some(text);
            replies.arrived.notify_all();
          } else {
            drop(slot);
            on_reply(Some(text));
          }
        }
        replies.slot.lock().closed = true;
        replies.arrived.notify_all();
        on_reply(None);
      })?;

    Ok(SocketClient {
      writer: Mutex::new(Writer { stream, sent: 0 }),
      shared,
      direct: Mutex::new(None),
      name: name.into(),
      token: token.into(),
      send_timeout,
      closed: AtomicBool::new(false),
    })
  }

  /// Frames sent on the main connection and not answered yet.
  pub fn unanswered(&self) -> u64 {
    let sent = self.writer.lock().sent;
    sent.saturating_sub(self.shared.slot.lock().received)
  }

  /// Sends a batch whose reply goes to `on_reply`.
  pub fn send(&self, batch: &[u8]) -> io::Result<()> {
    let mut writer = self.writer.lock();
    write_frame(&writer.stream, batch)?;
    writer.sent += 1;
    Ok(())
  }

  /// Sends a batch and waits for its reply. Batches sent before it are
  /// applied before it, so order holds across both kinds of call.
  pub fn request(&self, batch: &[u8], timeout: Duration) -> Result<String, SyncError> {
    {
      let mut writer = self.writer.lock();
      let seq = writer.sent;
      // With every earlier batch answered, the direct connection cannot
      // overtake any of them: use it (holding the writer, so nothing is
      // sent meanwhile).
      if self.shared.slot.lock().received == seq {
        if let Some(answer) = self.request_direct(batch, timeout) {
          return answer;
        }
      }
      {
        let mut slot = self.shared.slot.lock();
        if slot.closed {
          return Err(SyncError::Closed);
        }
        slot.waiting_for = Some(seq);
        slot.reply = None;
      }
      if write_frame(&writer.stream, batch).is_err() {
        self.shared.slot.lock().waiting_for = None;
        return Err(SyncError::Closed);
      }
      writer.sent += 1;
    }
    let deadline = Instant::now() + timeout;
    let mut slot = self.shared.slot.lock();
    loop {
      if let Some(reply) = slot.reply.take() {
        return Ok(reply);
      }
      if slot.closed {
        slot.waiting_for = None;
        return Err(SyncError::Closed);
      }
      if self
        .shared
        .arrived
        .wait_until(&mut slot, deadline)
        .timed_out()
        && slot.reply.is_none()
      {
        slot.waiting_for = None;
        return Err(SyncError::Timeout);
      }
    }
  }
}

impl SocketClient {
  /// A synchronous call on the direct connection; None when that
  /// connection cannot be opened (nothing was sent: use the other one).
  fn request_direct(&self, batch: &[u8], timeout: Duration) -> Option<Result<String, SyncError>> {
    let mut direct = self.direct.lock();
    if self.closed.load(Ordering::Acquire) {
      return Some(Err(SyncError::Closed));
    }
    if direct.is_none() {
      let stream = handshake(&self.name, &self.token, self.send_timeout).ok()?;
      *direct = Some(Direct {
        input: BufReader::with_capacity(64 * 1024, stream),
        timeout: None,
      });
    }
    let answer = direct.as_mut()?.exchange(batch, timeout);
    if answer.is_err() {
      // A late reply must not be taken for the next call's: start afresh.
      *direct = None;
    }
    Some(answer)
  }
}

/// The direct connection, read through a buffer so a reply usually takes one read.
struct Direct {
  input: BufReader<Stream>,
  /// The receive timeout set on the socket, so it is only set again when it changes.
  timeout: Option<Duration>,
}

impl Direct {
  /// Writes one batch and reads its reply on the caller's thread.
  fn exchange(&mut self, batch: &[u8], timeout: Duration) -> Result<String, SyncError> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    let stream = self.input.get_ref();
    write_frame(stream, batch).map_err(|_| SyncError::Closed)?;
    if self.timeout != timeout {
      stream
        .set_recv_timeout(timeout)
        .map_err(|_| SyncError::Closed)?;
      self.timeout = timeout;
    }
    let mut frame = Vec::new();
    loop {
      match read_frame(&mut self.input, &mut frame, MAX_FRAME_BYTES) {
        Ok(true) if frame.first() == Some(&b'[') => {
          return Ok(
            String::from_utf8(frame)
              .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()),
          )
        }
        Ok(true) => continue, // a push (this connection holds no locks or watches, so none is expected)
        Ok(false) => return Err(SyncError::Closed),
        Err(err)
          if matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
          ) =>
        {
          return Err(SyncError::Timeout)
        }
        Err(_) => return Err(SyncError::Closed),
      }
    }
  }
}

/// The socket's name is held by a process of another user. Any local
/// user may bind a name in Linux's abstract namespace, so a client checks
/// whom it reached before presenting its token (which would give the token
/// away) and refuses: it never talks to a foreign server.
#[derive(Debug)]
pub struct ForeignServer {
  /// The server's effective uid, when the kernel told it.
  pub uid: Option<u32>,
}

impl std::fmt::Display for ForeignServer {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self.uid {
      Some(uid) => write!(
        f,
        "the socket is held by a process of another user (uid {uid})"
      ),
      None => write!(
        f,
        "the user of the process holding the socket cannot be told"
      ),
    }
  }
}

impl std::error::Error for ForeignServer {}

impl ForeignServer {
  /// The ForeignServer inside `err`, if that is why it failed.
  pub fn of(err: &io::Error) -> Option<&ForeignServer> {
    err.get_ref()?.downcast_ref::<ForeignServer>()
  }
}

/// Fails with a [`ForeignServer`] unless the peer runs as our own user.
pub(crate) fn check_server_user(stream: &Stream) -> io::Result<()> {
  // SAFETY: geteuid has no preconditions and cannot fail.
  let me = unsafe { libc::geteuid() };
  let uid = stream.peer_creds().ok().and_then(|creds| creds.euid());
  if uid == Some(me) {
    return Ok(());
  }
  Err(io::Error::new(
    io::ErrorKind::PermissionDenied,
    ForeignServer { uid },
  ))
}

/// Connects to the socket `name`, checks that the server runs as our user,
/// and presents `token`.
fn handshake(name: &str, token: &[u8], send_timeout: Duration) -> io::Result<Stream> {
  let stream = Stream::connect(socket_name(name)?)?;
  check_server_user(&stream)?;
  stream.set_send_timeout(Some(send_timeout))?;
  write_frame(&stream, token)?;
  let until = Until {
    stream: &stream,
    deadline: Instant::now() + HANDSHAKE_TIMEOUT,
  };
  let mut answer = Vec::new();
  if !read_frame(until, &mut answer, HANDSHAKE_MAX_BYTES)? || answer != HANDSHAKE_OK {
    return Err(io::Error::new(
      io::ErrorKind::PermissionDenied,
      "the server refused the connection",
    ));
  }
  stream.set_recv_timeout(None)?;
  Ok(stream)
}

impl SocketClient {
  /// Closes the connection (and the direct one): the server sees this
  /// client go (its locks pass on at once), the reader thread ends and
  /// hands `None` to `on_reply`, and later sends fail.
  pub fn close(&self) {
    shut_down(&self.writer.lock().stream);
    let mut direct = self.direct.lock();
    self.closed.store(true, Ordering::Release);
    if let Some(direct) = direct.take() {
      shut_down(direct.input.get_ref());
    }
  }
}

/// Ends both directions of a connection, for every handle on it.
fn shut_down(stream: &Stream) {
  #[cfg(unix)]
  {
    use std::os::fd::{AsFd, AsRawFd};
    #[allow(irrefutable_let_patterns)]
    if let Stream::UdSocket(stream) = stream {
      // SAFETY: the descriptor is open (owned by `stream`); shutdown only changes the socket's state.
      unsafe { libc::shutdown(stream.as_fd().as_raw_fd(), libc::SHUT_RDWR) };
    }
  }
}

impl Drop for SocketClient {
  /// The reader thread holds its own handle on the socket: shut the socket
  /// down, so the server sees this client go (its locks pass on at once)
  /// and the reader thread ends.
  fn drop(&mut self) {
    self.close();
  }
}
