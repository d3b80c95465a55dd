//! The hosting side of the local socket: an accept thread, and one thread
//! per connection that applies each batch to the store and writes the reply.

use std::io::{self, BufReader};
use std::sync::Arc;
use std::thread;

use interprocess::local_socket::{prelude::*, ListenerOptions, Stream};

use super::frame::{read_frame, write_frame};
use super::{same_secret, socket_name, HANDSHAKE_OK, HANDSHAKE_TIMEOUT};
use crate::protocol::apply_batch;
use crate::store::Store;

/// Starts serving `store` on the socket `name`; connections must present `token`.
/// The threads run for the rest of the process and never keep Node alive.
pub fn serve(store: Arc<Store>, name: &str, token: &[u8]) -> io::Result<()> {
  let listener = ListenerOptions::new()
    .name(socket_name(name)?)
    .create_sync()?;
  let token: Arc<[u8]> = token.into();
  thread::Builder::new()
    .name("sharedmemory-accept".into())
    .spawn(move || {
      for connection in listener.incoming() {
        let Ok(stream) = connection else { continue };
        let (store, token) = (store.clone(), token.clone());
        let _ = thread::Builder::new()
          .name("sharedmemory-conn".into())
          .spawn(move || {
            if authenticate(&stream, &token).is_ok() {
              let _ = answer(&stream, &store);
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

fn answer(stream: &Stream, store: &Store) -> io::Result<()> {
  let mut input = BufReader::with_capacity(64 * 1024, stream);
  let mut batch = Vec::new();
  while read_frame(&mut input, &mut batch)? {
    let reply = match std::str::from_utf8(&batch) {
      Ok(text) => apply_batch(store, text),
      Err(_) => apply_batch(store, "not UTF-8"),
    };
    write_frame(stream, reply.as_bytes())?;
  }
  Ok(())
}
