//! Passing the shared segment's descriptor over the socket (`SCM_RIGHTS`).
//!
//! A client asks for it on a connection of its own: its handshake frame is
//! [`SEGMENT_REQUEST`] followed by the token, so the server checks the
//! peer's user and the token exactly as for any connection. The server then
//! sends one message of [`SEGMENT_REPLY`] carrying the descriptor and closes
//! the connection; a connection of batches never carries one, so its frames
//! are never mixed with control data. The descriptor is the host's
//! read-only one of its current generation (see [`crate::shm::Published`]):
//! whatever the client does with it, it can only map it for reading.

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use interprocess::local_socket::{prelude::*, Stream};

use super::frame::write_frame;
use crate::shm::follow::Source;
use crate::shm::memfd::Mapping;
use crate::shm::reader::Reader;

/// How long a reader waits for the segment's descriptor: its host's
/// socket thread answers at once unless the host is stopped, and then the
/// read asks the host instead (and tries again a little later).
pub const FETCH_TIMEOUT: Duration = Duration::from_millis(250);

/// The segment of the store served on a socket, asked for over it.
pub struct OverSocket {
  pub name: String,
  pub token: Box<[u8]>,
}

impl Source<Mapping> for OverSocket {
  fn open(&mut self) -> io::Result<Reader<Mapping>> {
    let fd = fetch_segment(&self.name, &self.token, FETCH_TIMEOUT)?;
    crate::shm::open_fd(&fd)
  }
}

/// What leads the token in the handshake frame of a request for the segment.
pub const SEGMENT_REQUEST: &[u8] = b"segment:";
/// The bytes of the message that carries the descriptor.
pub const SEGMENT_REPLY: &[u8] = b"fd";

/// The token presented by a handshake frame that asks for the segment.
pub fn segment_request(presented: &[u8]) -> Option<&[u8]> {
  presented.strip_prefix(SEGMENT_REQUEST)
}

/// The socket descriptor of `stream`.
fn raw(stream: &Stream) -> io::Result<RawFd> {
  #[allow(irrefutable_let_patterns)]
  if let Stream::UdSocket(stream) = stream {
    return Ok(stream.as_fd().as_raw_fd());
  }
  Err(io::ErrorKind::Unsupported.into())
}

/// Sends `fd` with [`SEGMENT_REPLY`] on `stream`.
pub fn send_fd(stream: &Stream, fd: RawFd) -> io::Result<()> {
  let mut payload = SEGMENT_REPLY.to_vec();
  let mut iov = libc::iovec {
    iov_base: payload.as_mut_ptr().cast(),
    iov_len: payload.len(),
  };
  // SAFETY: CMSG_SPACE only computes a size.
  let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
  let mut control = vec![0u64; space.div_ceil(8)]; // aligned for cmsghdr
                                                   // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the call.
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.as_mut_ptr().cast();
  msg.msg_controllen = space as _;
  // SAFETY: the control buffer has room for one cmsghdr with one descriptor.
  unsafe {
    let cmsg = libc::CMSG_FIRSTHDR(&msg);
    (*cmsg).cmsg_level = libc::SOL_SOCKET;
    (*cmsg).cmsg_type = libc::SCM_RIGHTS;
    (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
    std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
  }
  // SAFETY: a valid socket and message.
  let sent = unsafe { libc::sendmsg(raw(stream)?, &msg, libc::MSG_NOSIGNAL) };
  if sent < 0 {
    return Err(io::Error::last_os_error());
  }
  if sent as usize != payload.len() {
    return Err(io::Error::new(io::ErrorKind::WriteZero, "short sendmsg"));
  }
  Ok(())
}

/// Receives the message [`send_fd`] sends, within `timeout`: the
/// descriptor, or an error when the message is anything else (any
/// descriptor that came with it is closed).
pub fn receive_fd(stream: &Stream, timeout: Duration) -> io::Result<OwnedFd> {
  stream.set_recv_timeout(Some(timeout.max(Duration::from_millis(1))))?;
  let mut payload = [0u8; 16];
  let mut iov = libc::iovec {
    iov_base: payload.as_mut_ptr().cast(),
    iov_len: payload.len(),
  };
  // Room for a few descriptors, so that a message with more is seen whole (and refused).
  // SAFETY: CMSG_SPACE only computes a size.
  let space = unsafe { libc::CMSG_SPACE(4 * std::mem::size_of::<RawFd>() as u32) } as usize;
  let mut control = vec![0u64; space.div_ceil(8)];
  // SAFETY: as in send_fd.
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.as_mut_ptr().cast();
  msg.msg_controllen = space as _;
  // SAFETY: a valid socket and message; descriptors arrive close-on-exec.
  let got = unsafe { libc::recvmsg(raw(stream)?, &mut msg, libc::MSG_CMSG_CLOEXEC) };
  if got < 0 {
    return Err(io::Error::last_os_error());
  }
  // Every descriptor that arrived is owned here, so none leaks whatever else is wrong.
  let mut fds = Vec::new();
  // SAFETY: walking the control data the kernel wrote, within msg_controllen.
  unsafe {
    let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
    while !cmsg.is_null() {
      if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
        let data = libc::CMSG_DATA(cmsg);
        let bytes = (*cmsg).cmsg_len as usize - (data as usize - cmsg as usize);
        for i in 0..bytes / std::mem::size_of::<RawFd>() {
          let fd = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
          fds.push(OwnedFd::from_raw_fd(fd));
        }
      }
      cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
    }
  }
  let whole = msg.msg_flags & (libc::MSG_CTRUNC | libc::MSG_TRUNC) == 0;
  if got as usize != SEGMENT_REPLY.len()
    || &payload[..got as usize] != SEGMENT_REPLY
    || !whole
    || fds.len() != 1
  {
    return Err(io::Error::new(
      io::ErrorKind::InvalidData,
      "the server did not send one segment descriptor",
    ));
  }
  Ok(fds.pop().expect("one"))
}

/// Asks the server on socket `name` for its segment's descriptor, with
/// `token`, within `timeout` (checking first that the server runs as our user).
pub fn fetch_segment(name: &str, token: &[u8], timeout: Duration) -> io::Result<OwnedFd> {
  let deadline = Instant::now() + timeout;
  let stream = Stream::connect(super::socket_name(name)?)?;
  super::client::check_server_user(&stream)?;
  stream.set_send_timeout(Some(timeout))?;
  let mut presented = SEGMENT_REQUEST.to_vec();
  presented.extend_from_slice(token);
  write_frame(&stream, &presented)?;
  receive_fd(&stream, deadline.saturating_duration_since(Instant::now()))
}
