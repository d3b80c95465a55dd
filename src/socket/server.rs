//! The hosting side of the local socket: an accept thread, and for each
//! connection a thread that applies each batch and writes its reply, and a
//! thread that writes what the host pushes to it.

use std::io::{self, BufReader};
use std::sync::Arc;
use std::thread;

use interprocess::local_socket::{prelude::*, ListenerOptions, Stream};
use interprocess::TryClone;
use parking_lot::Mutex;

use super::frame::{read_frame, write_frame};
use super::outbox::Outbox;
use super::{same_secret, socket_name, HANDSHAKE_OK, HANDSHAKE_TIMEOUT};
use crate::error::StoreError;
use crate::host::Host;
use crate::protocol;

/// Starts serving `host` on the socket `name`; connections must present `token`.
/// The threads run for the rest of the process and never keep Node alive.
pub fn serve(host: Arc<Host>, name: &str, token: &[u8]) -> io::Result<()> {
  let listener = ListenerOptions::new()
    .name(socket_name(name)?)
    .create_sync()?;
  let token: Arc<[u8]> = token.into();
  thread::Builder::new()
    .name("sharedmemory-accept".into())
    .spawn(move || {
      for connection in listener.incoming() {
        let Ok(stream) = connection else { continue };
        let (host, token) = (host.clone(), token.clone());
        let _ = thread::Builder::new()
          .name("sharedmemory-conn".into())
          .spawn(move || {
            if authenticate(&stream, &token).is_ok() {
              let _ = serve_connection(stream, &host);
            }
          });
      }
    })?;
  Ok(())
}

/// Accepts only a peer running as our own user that knows the token.
fn authenticate(stream: &Stream, token: &[u8]) -> io::Result<()> {
  let refused = |why| Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
  // SAFETY: geteuid has no preconditions and cannot fail.
  let me = unsafe { libc::geteuid() };
  if stream.peer_creds()?.euid() != Some(me) {
    return refused("the peer runs as another user");
  }
  stream.set_recv_timeout(Some(HANDSHAKE_TIMEOUT))?;
  let mut presented = Vec::new();
  if !read_frame(stream, &mut presented)? || !same_secret(&presented, token) {
    return refused("wrong token");
  }
  stream.set_recv_timeout(None)?;
  write_frame(stream, HANDSHAKE_OK)
}

/// Serves one connected process (one owner) until it disconnects; then its
/// locks and watches end.
fn serve_connection(stream: Stream, host: &Host) -> io::Result<()> {
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
  let served = answer(&stream, host, owner, &writer);
  outbox.close();
  host.disconnect(owner);
  if let Ok(pushes) = pushes {
    let _ = pushes.join();
  }
  served
}

fn answer(stream: &Stream, host: &Host, owner: u64, writer: &Mutex<Stream>) -> io::Result<()> {
  let mut input = BufReader::with_capacity(64 * 1024, stream);
  let mut batch = Vec::new();
  while read_frame(&mut input, &mut batch)? {
    let reply = match std::str::from_utf8(&batch) {
      Ok(text) => host.apply(owner, text),
      Err(_) => protocol::batch_error(&StoreError::Protocol("the batch is not UTF-8".into())),
    };
    write_frame(&*writer.lock(), reply.as_bytes())?;
  }
  Ok(())
}
