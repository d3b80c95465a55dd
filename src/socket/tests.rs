//! The socket transport end to end, inside one process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::client::{SocketClient, SyncError};
use super::server::serve;
use crate::host::Host;
use crate::store::StoreConfig;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
  format!(
    "sharedmemory-test-{}-{}",
    std::process::id(),
    NEXT.fetch_add(1, Ordering::Relaxed)
  )
}

fn server() -> (Arc<Host>, String) {
  let host = Arc::new(Host::new(StoreConfig::default()));
  let name = unique_name();
  serve(host.clone(), &name, b"secret").unwrap();
  (host, name)
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
  let (host, name) = server();
  let a = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  let b = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  for _ in 0..100 {
    a.request(br#"[[1,"incr","n",1]]"#, SECOND * 30).unwrap();
    b.request(br#"[[1,"incr","n",1]]"#, SECOND * 30).unwrap();
  }
  assert_eq!(host.store().begin().get(br#""n""#), Some(&b"200"[..]));
}

#[test]
fn a_closed_connection_ends_the_reply_stream() {
  let name = unique_name();
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
}

#[test]
fn a_lock_passes_on_when_its_holders_connection_closes_and_pushes_skip_the_reply_count() {
  let (_host, name) = server();
  let (holder_tx, holder_rx) = mpsc::channel();
  let holder = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = holder_tx.send(reply);
  })
  .unwrap();
  // Locks and watches belong to the connection: they are sent, never made synchronously.
  holder
    .send(br#"[[1,"lock","k",{"lease":60000,"wait":null}]]"#)
    .unwrap();
  assert_eq!(
    holder_rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("[[1,1,1]]")
  );
  let (tx, rx) = mpsc::channel();
  let waiter = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = tx.send(reply);
  })
  .unwrap();
  // Queued: its batch's reply has nothing for it.
  waiter
    .send(br#"[[5,"lock","k",{"lease":60000,"wait":null}],[6,"watch","k",1]]"#)
    .unwrap();
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("[[6,0]]")
  );
  drop(holder); // as if its process were killed: the socket closes
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("![[5,1,2]]")
  );
  holder_writes(&name);
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some(r#"~[[1,"set","k","v"]]"#)
  );
  // Pushes were not counted as replies: an async batch and a sync one
  // right behind it each get their own reply.
  waiter.send(br#"[[7,"get","k",0]]"#).unwrap();
  assert_eq!(
    waiter
      .request(br#"[[8,"get","k",0]]"#, SECOND * 30)
      .unwrap(),
    "[[8,1,\"v\"]]"
  );
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("[[7,1,\"v\"]]")
  );
}

#[test]
fn sync_calls_with_nothing_in_flight_keep_order_over_the_direct_connection() {
  let (_host, name) = server();
  let (tx, rx) = mpsc::channel();
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = tx.send(reply);
  })
  .unwrap();
  for i in 0..200 {
    client
      .send(format!(r#"[[{i},"set","n",{i}]]"#).as_bytes())
      .unwrap();
    // Right behind an async set: it must see it, whichever connection it takes.
    let reply = client
      .request(br#"[[0,"get","n",0]]"#, SECOND * 30)
      .unwrap();
    assert_eq!(reply, format!("[[0,1,{i}]]"));
    if i % 2 == 0 {
      // Let the async reply arrive, so the next sync call finds nothing in flight.
      while rx.recv_timeout(SECOND * 30).unwrap().as_deref() != Some(&format!("[[{i},0]]")) {}
    }
  }
}

fn holder_writes(name: &str) {
  let other = SocketClient::connect(name, b"secret", SECOND * 5, |_| {}).unwrap();
  other
    .request(br#"[[1,"set","k","v"]]"#, SECOND * 30)
    .unwrap();
}
