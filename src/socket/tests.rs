//! The socket transport end to end, inside one process.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use interprocess::local_socket::{prelude::*, Stream};
use interprocess::TryClone;

use super::client::{SocketClient, SyncError};
use super::frame::{read_frame, write_frame, MAX_FRAME_BYTES};
use super::server::{serve, serve_with, Limits};
use super::{socket_name, HANDSHAKE_MAX_BYTES, HANDSHAKE_OK};
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
    super::frame::read_frame(&stream, &mut token, super::HANDSHAKE_MAX_BYTES).unwrap();
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

fn server_with(limits: Limits) -> String {
  let host = Arc::new(Host::new(StoreConfig::default()));
  let name = unique_name();
  serve_with(host, &name, b"secret", limits).unwrap();
  name
}

/// A connection that has sent nothing yet, and gives up reading after 30 s.
fn raw(name: &str) -> Stream {
  let stream = Stream::connect(socket_name(name).unwrap()).unwrap();
  stream.set_recv_timeout(Some(SECOND * 30)).unwrap();
  stream
}

/// Reads until the server closes the connection: true once it has, false
/// if it stays open for the 30 s the read waits.
fn closed_by_server(stream: &Stream) -> bool {
  let mut sink = [0u8; 64];
  let mut stream = stream;
  loop {
    match stream.read(&mut sink) {
      Ok(0) => return true,
      Ok(_) => continue,
      Err(err)
        if matches!(
          err.kind(),
          std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) =>
      {
        return false
      }
      Err(_) => return true, // reset: closed with what we sent unread
    }
  }
}

/// Long enough that a test seeing a connection closed knows the handshake
/// deadline did not close it.
const PATIENT: Limits = Limits {
  handshake_timeout: Duration::from_secs(600),
  max_handshaking: 64,
  max_batch_bytes: MAX_FRAME_BYTES,
};

#[test]
fn a_handshake_header_claiming_a_gigabyte_closes_the_connection_at_once() {
  let name = server_with(PATIENT);
  let stream = raw(&name);
  (&stream).write_all(&(1u32 << 30).to_le_bytes()).unwrap();
  assert!(closed_by_server(&stream));
  // One byte over the handshake limit is refused too, one under is read.
  let stream = raw(&name);
  (&stream)
    .write_all(&(HANDSHAKE_MAX_BYTES as u32 + 1).to_le_bytes())
    .unwrap();
  assert!(closed_by_server(&stream));
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  assert_eq!(
    client.request(br#"[[1,"get","k",0]]"#, SECOND * 30),
    Ok("[[1,0]]".into())
  );
}

#[test]
fn a_bare_token_without_its_length_closes_the_connection_at_once() {
  let name = server_with(PATIENT);
  let stream = raw(&name);
  // Its first four bytes, read as a length, claim about 962 MB.
  (&stream)
    .write_all(b"a3f9c2d07e5b4a1f8c6d2e9b0a7f3c5d1e8b4a6f2c9d0e7b3a5f1c8d6e2b9a04")
    .unwrap();
  assert!(closed_by_server(&stream));
}

#[test]
fn a_trickling_handshake_is_cut_at_its_total_deadline() {
  let deadline = Duration::from_millis(300);
  let name = server_with(Limits {
    handshake_timeout: deadline,
    ..PATIENT
  });
  let started = Instant::now();
  let stream = raw(&name);
  let watcher = stream.try_clone().unwrap();
  let (closed_tx, closed_rx) = mpsc::channel();
  std::thread::spawn(move || {
    let closed = closed_by_server(&watcher);
    let _ = closed_tx.send((closed, started.elapsed()));
  });
  // 250 bytes, one every 20 ms: 5 s in all, each byte well within the
  // deadline of the one before.
  let declared = 250;
  (&stream)
    .write_all(&(declared as u32).to_le_bytes())
    .unwrap();
  let mut sent = 0;
  let outcome = loop {
    if let Ok(outcome) = closed_rx.try_recv() {
      break outcome;
    }
    if sent == declared {
      break closed_rx.recv().unwrap();
    }
    if (&stream).write_all(b"x").is_ok() {
      sent += 1;
    }
    std::thread::sleep(Duration::from_millis(20));
  };
  let (closed, after) = outcome;
  assert!(closed, "the server closed the connection");
  assert!(after >= deadline, "not before its deadline ({after:?})");
  assert!(
    sent < declared,
    "cut while it was still trickling, after {sent} of {declared} bytes ({after:?})"
  );
}

#[test]
fn only_a_few_connections_may_wait_for_their_handshake_at_once() {
  let name = server_with(Limits {
    max_handshaking: 2,
    ..PATIENT
  });
  let first = raw(&name);
  let second = raw(&name);
  // Accepted in order: these two wait, the next one is closed at once.
  let third = raw(&name);
  assert!(closed_by_server(&third));
  assert!(SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).is_err());
  drop(first);
  drop(second);
  // Their places come back once the server has seen them go.
  let until = Instant::now() + SECOND * 30;
  let client = loop {
    match SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}) {
      Ok(client) => break client,
      Err(err) if Instant::now() < until => {
        let _ = err;
        std::thread::sleep(Duration::from_millis(10));
      }
      Err(err) => panic!("still refused: {err}"),
    }
  };
  assert_eq!(
    client.request(br#"[[1,"get","k",0]]"#, SECOND * 30),
    Ok("[[1,0]]".into())
  );
}

/// A connection that has presented the token.
fn authenticated(name: &str) -> Stream {
  let stream = raw(name);
  write_frame(&stream, b"secret").unwrap();
  let mut answer = Vec::new();
  assert!(read_frame(&stream, &mut answer, HANDSHAKE_MAX_BYTES).unwrap());
  assert_eq!(answer, HANDSHAKE_OK);
  stream
}

#[test]
fn a_batch_over_the_limit_gets_a_coded_reply_and_the_connection_closes() {
  let name = server_with(Limits {
    max_batch_bytes: 1024,
    ..PATIENT
  });
  let stream = authenticated(&name);
  write_frame(&stream, br#"[[1,"set","k",1]]"#).unwrap();
  (&stream).write_all(&2048u32.to_le_bytes()).unwrap();
  let mut reply = Vec::new();
  assert!(read_frame(&stream, &mut reply, MAX_FRAME_BYTES).unwrap());
  assert_eq!(reply, b"[[1,0]]");
  assert!(read_frame(&stream, &mut reply, MAX_FRAME_BYTES).unwrap());
  assert_eq!(
    String::from_utf8(reply.clone()).unwrap(),
    r#"[[null,2,"ERR_PROTOCOL","malformed request: a frame of 2048 bytes is over the limit of 1024 bytes; the connection is closed"]]"#
  );
  assert!(!read_frame(&stream, &mut reply, MAX_FRAME_BYTES).unwrap());
}

#[test]
fn after_the_handshake_a_claim_beyond_the_frame_limit_is_refused_and_a_claim_within_it_costs_nothing_yet(
) {
  let (host, name) = server();
  let stream = authenticated(&name);
  (&stream).write_all(&u32::MAX.to_le_bytes()).unwrap();
  let mut reply = Vec::new();
  assert!(read_frame(&stream, &mut reply, MAX_FRAME_BYTES).unwrap());
  assert!(reply.starts_with(br#"[[null,2,"ERR_PROTOCOL""#));
  assert!(!read_frame(&stream, &mut reply, MAX_FRAME_BYTES).unwrap());
  // A claim of exactly the limit waits for its bytes; the store serves others meanwhile.
  let claimer = authenticated(&name);
  (&claimer)
    .write_all(&(MAX_FRAME_BYTES as u32).to_le_bytes())
    .unwrap();
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  client
    .request(br#"[[1,"set","k","v"]]"#, SECOND * 30)
    .unwrap();
  assert_eq!(host.store().begin().get(br#""k""#), Some(&br#""v""#[..]));
}

#[test]
fn another_connection_cannot_release_or_extend_a_lock_by_guessing_its_token() {
  let (_host, name) = server();
  let (tx, rx) = mpsc::channel();
  let holder = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = tx.send(reply);
  })
  .unwrap();
  holder
    .send(br#"[[1,"lock","k",{"lease":60000,"wait":null}]]"#)
    .unwrap();
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("[[1,1,1]]")
  );
  let intruder = SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).unwrap();
  assert_eq!(
    intruder.request(br#"[[2,"extend","k",[1,1]]]"#, SECOND * 30),
    Ok("[[2,1,false]]".into())
  );
  assert_eq!(
    intruder.request(br#"[[3,"unlock","k",1]]"#, SECOND * 30),
    Ok("[[3,1,false]]".into())
  );
  holder.send(br#"[[4,"unlock","k",1]]"#).unwrap();
  assert_eq!(
    rx.recv_timeout(SECOND * 30).unwrap().as_deref(),
    Some("[[4,1,true]]")
  );
}

#[test]
fn a_name_is_held_by_one_server_and_stopping_frees_it_and_closes_its_connections() {
  let host = Arc::new(Host::new(StoreConfig::default()));
  let name = unique_name();
  let mut first = serve(host.clone(), &name, b"secret").unwrap();
  // Binding is the election: a second server of the name is refused.
  let taken = serve(host.clone(), &name, b"other").err().unwrap();
  assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);

  let (tx, rx) = mpsc::channel();
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = tx.send(reply);
  })
  .unwrap();
  assert_eq!(
    client
      .request(br#"[[1,"incr","n",1]]"#, SECOND * 30)
      .unwrap(),
    "[[1,1,1]]"
  );
  first.stop();
  // The connection is closed: the reply stream ends.
  assert_eq!(rx.recv_timeout(SECOND * 30).unwrap(), None);
  // Nothing is served under the name any more, and it can be bound again.
  assert!(SocketClient::connect(&name, b"secret", SECOND * 5, |_| {}).is_err());
  let mut second = serve(host.clone(), &name, b"other").unwrap();
  let again = SocketClient::connect(&name, b"other", SECOND * 5, |_| {}).unwrap();
  assert_eq!(
    again.request(br#"[[1,"get","n",0]]"#, SECOND * 30).unwrap(),
    "[[1,1,1]]"
  );
  second.stop();
  second.stop(); // a second stop does nothing
}

#[test]
fn a_closed_client_ends_its_reply_stream_and_sends_no_more() {
  let (_host, name) = server();
  let (tx, rx) = mpsc::channel();
  let client = SocketClient::connect(&name, b"secret", SECOND * 5, move |reply| {
    let _ = tx.send(reply);
  })
  .unwrap();
  client.close();
  assert_eq!(rx.recv_timeout(SECOND * 30).unwrap(), None);
  assert!(client.send(br#"[[1,"get","n",0]]"#).is_err());
  assert_eq!(
    client.request(br#"[[2,"get","n",0]]"#, SECOND * 5),
    Err(SyncError::Closed)
  );
}

/// At the descriptor limit, accept() fails for as long as the limit holds
/// (the connections wait in the backlog): the accept thread must wait
/// between tries, not spin. The limit is the whole process's, so the test
/// runs itself again as a child process that lowers its own.
#[test]
fn at_the_descriptor_limit_the_accept_loop_does_not_spin() {
  const CHILD: &str = "SHAREDMEMORY_TEST_FD_LIMIT_CHILD";
  if std::env::var_os(CHILD).is_some() {
    return descriptor_limit_child();
  }
  let output = std::process::Command::new(std::env::current_exe().unwrap())
    .args([
      "--exact",
      "socket::tests::at_the_descriptor_limit_the_accept_loop_does_not_spin",
      "--nocapture",
      "--test-threads=1",
    ])
    .env(CHILD, "1")
    .output()
    .unwrap();
  let printed =
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
  assert!(output.status.success(), "the child failed:\n{printed}");
  assert!(
    printed.contains("accept loop CPU"),
    "the child ran the check:\n{printed}"
  );
}

fn cpu_seconds() -> f64 {
  // SAFETY: getrusage fills the struct it is given.
  let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
  unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
  let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
  seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn descriptor_limit_child() {
  let (_host, name) = server();
  let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
  // SAFETY: get/setrlimit on this process's own descriptor limit.
  let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
  assert_eq!(
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
    0
  );
  limit.rlim_cur = open + 8;
  assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
  // Connect until no descriptor is left: the server's accepts fail from then on.
  let mut clients = Vec::new();
  while let Ok(client) = Stream::connect(socket_name(&name).unwrap()) {
    clients.push(client);
    assert!(clients.len() < 64, "the limit did not hold");
  }
  let before = cpu_seconds();
  std::thread::sleep(Duration::from_secs(2));
  let used = cpu_seconds() - before;
  println!(
    "accept loop CPU over 2 s at the descriptor limit: {used:.3} s ({} clients)",
    clients.len()
  );
  assert!(
    used < 0.5,
    "the accept loop spun: {used:.3} s of CPU in 2 s"
  );
}

#[test]
fn the_segment_descriptor_is_passed_over_the_socket_sealed_and_read_only_to_the_right_token_only() {
  use super::rights::{fetch_segment, OverSocket};
  use crate::shm::follow::Following;
  use std::os::fd::AsRawFd;
  let tiny = crate::shm::writer::Shape {
    capacity: 8,
    arena_words: 64,
  };
  let host = Arc::new(Host::with_segment(StoreConfig::default(), tiny).unwrap());
  let name = unique_name();
  serve(host.clone(), &name, b"secret").unwrap();
  host.apply(0, r#"[[1,"set","a",1]]"#);

  assert!(
    fetch_segment(&name, b"guess", SECOND * 5).is_err(),
    "no descriptor without the token"
  );
  let fd = fetch_segment(&name, b"secret", SECOND * 5).unwrap();
  // SAFETY: F_GETFL and F_GET_SEALS on a descriptor we own.
  let (flags, seals) = unsafe {
    (
      libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
      libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS),
    )
  };
  assert_eq!(
    flags & libc::O_ACCMODE,
    libc::O_RDONLY,
    "a read-only descriptor"
  );
  let wanted = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_FUTURE_WRITE;
  assert_eq!(seals & wanted, wanted, "sealed: seals {seals:#x}");
  // SAFETY: a fresh mapping attempt, checked and undone.
  let writable = unsafe {
    let at = libc::mmap(
      std::ptr::null_mut(),
      4096,
      libc::PROT_READ | libc::PROT_WRITE,
      libc::MAP_SHARED,
      fd.as_raw_fd(),
      0,
    );
    if at != libc::MAP_FAILED {
      libc::munmap(at, 4096);
    }
    at != libc::MAP_FAILED
  };
  assert!(!writable, "it cannot be mapped for writing");

  // A reader over the socket follows the segment as it grows.
  let mut reader = Following::open(OverSocket {
    name: name.clone(),
    token: b"secret"[..].into(),
  })
  .unwrap();
  let mut out = Vec::new();
  for i in 0..2000 {
    host.apply(0, &format!(r#"[[1,"set","k{i}",{i}]]"#));
  }
  let now = crate::store::clock::now_ms();
  assert!(matches!(
    reader.get(b"\"k1999\"", now, &mut out),
    Ok(Some(_))
  ));
  assert_eq!(out, b"1999");
  assert!(reader.reader().generation() > 1);
}
