//! The socket transport end to end, inside one process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::client::{SocketClient, SyncError};
use super::server::serve;
use crate::store::{Store, StoreConfig};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
  format!(
    "sharedmemory-test-{}-{}",
    std::process::id(),
    NEXT.fetch_add(1, Ordering::Relaxed)
  )
}

fn server() -> (Arc<Store>, String) {
  let store = Arc::new(Store::new(StoreConfig::default()));
  let name = unique_name();
  serve(store.clone(), &name, b"secret").unwrap();
  (store, name)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn async_and_sync_requests_keep_their_order() {
  let (_store, name) = server();
  let (tx, rx) = mpsc::channel();
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    tx.send(reply).unwrap()
  })
  .unwrap();
  client.send(br#"[[1,"set","a",1]]"#).unwrap();
  client.send(br#"[[2,"incr","a",1]]"#).unwrap();
  // Sent after the two above, so it sees both.
  let reply = client
    .request(br#"[[3,"get","a",0]]"#, SECOND * 30)
    .unwrap();
  assert_eq!(reply, "[[3,1,2]]");
  assert_eq!(rx.recv().unwrap().as_deref(), Some("[[1,0]]"));
  assert_eq!(rx.recv().unwrap().as_deref(), Some("[[2,1,2]]"));
}

#[test]
fn a_wrong_token_is_refused() {
  let (_store, name) = server();
  let refused = SocketClient::connect(&name, b"guess", SECOND * 5, |_| {});
  assert!(refused.is_err());
}

#[test]
fn clients_share_one_store() {
  let (store, name) = server();
  let a = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  let b = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  for _ in 0..100 {
    a.request(br#"[[1,"incr","n",1]]"#, SECOND * 30).unwrap();
    b.request(br#"[[1,"incr","n",1]]"#, SECOND * 30).unwrap();
  }
  assert_eq!(store.begin().get(br#""n""#), Some(&b"200"[..]));
}

#[test]
fn a_closed_connection_ends_the_reply_stream() {
  let name = unique_name();
  let store = Arc::new(Store::new(StoreConfig::default()));
  // A server that accepts the handshake and then hangs up.
  let listener = interprocess::local_socket::ListenerOptions::new()
    .name(super::socket_name(&name).unwrap())
    .create_sync()
    .unwrap();
  let hang_up = std::thread::spawn(move || {
    use interprocess::local_socket::prelude::*;
    let stream = listener.incoming().next().unwrap().unwrap();
    let mut token = Vec::new();
    super::frame::read_frame(&stream, &mut token).unwrap();
    super::frame::write_frame(&stream, super::HANDSHAKE_OK).unwrap();
  });
  let (tx, rx) = mpsc::channel();
  let client = SocketClient::connect(&name, b"x", SECOND * 5, move |reply| {
    tx.send(reply).unwrap()
  })
  .unwrap();
  hang_up.join().unwrap();
  assert_eq!(rx.recv().unwrap(), None);
  assert_eq!(client.request(b"[]", SECOND * 30), Err(SyncError::Closed));
  drop(store);
}
