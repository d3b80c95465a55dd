//! Everything a hosting process serves, in one place: the store, the lock
//! table, the watch registry, and the processes connected to them.
//!
//! Every transport hands its request batches to [`Host::apply`] with the
//! [`Owner`] they came from: the socket server one owner per connection,
//! the hosting process's JavaScript one per IPC worker and one for itself.
//! A batch is read by [`protocol`], each request run by [`exec`] under one
//! store transaction, and the replies written back by [`protocol`].
//! Answers that come later (a lock granted to a waiter, a wait that ran
//! out) and watch events are pushed to the owner's [`Sink`].
//!
//! With persistence, the host writes [`snapshot`]s of its store and, at
//! start, loads the last one; when it hands over ([`Host::hand_over`]) it
//! writes a last one and applies nothing more, so every write it answered
//! is in the file the next host loads.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::StoreError;
use crate::exec::{self, lock_timeout, Context};
use crate::locks::{LockTable, Notice};
use crate::op::Reply;
use crate::peers::{Owner, Peers, Sink};
use crate::protocol::{self, Replies};
use crate::shm::memfd::Mapping;
use crate::shm::mirror::Mirrored;
use crate::shm::writer::Shape;
use crate::shm::{Published, Publishing};
use crate::snapshot::writer::{OnFailure, Persister, Plan, Source};
use crate::snapshot::{self, Fill, Image, LoadError, Restored};
use crate::store::{clock, Store, StoreConfig, Table};
use crate::sweeper::{Alarm, Timed};
use crate::watch::Watches;

/// Expired entries removed per lock acquisition by [`Host::tick`], so
/// requests never wait long behind a sweep.
const SWEEP_CHUNK: usize = 1024;

/// Requests of one batch applied under one hold of the store's lock. A
/// longer batch is applied in chunks of this many, each one atomic, with
/// other peers let in between; a chunk of small requests takes well under
/// a millisecond.
pub const BATCH_CHUNK: usize = 1024;

/// Where a host's entries live: its heap, published to a shared segment
/// when it has one.
pub type HostStorage = Mirrored<Table, Arc<Mapping>>;

pub struct Host {
  store: Arc<Store<HostStorage>>,
  /// The segment readers in other processes map, when there is one.
  segment: Option<Published>,
  locks: Mutex<LockTable>,
  watches: Arc<Watches>,
  peers: Arc<Peers>,
  alarm: Arc<Alarm>,
  /// Set by [`Host::retire`]: every later batch fails.
  retired: AtomicBool,
  /// Set (under the store's lock) once the last snapshot is taken: no
  /// batch is applied after it.
  handed_over: AtomicBool,
  /// Which of a snapshot's entries to load, given what was taken over from
  /// a dead host's segment ([`Host::import`]).
  fill: Mutex<Fill>,
  persister: Mutex<Option<Persister>>,
}

impl Host {
  /// A host whose store lives in its heap only.
  pub fn new(config: StoreConfig) -> Self {
    Host::build(config, None)
  }

  /// A host that also publishes its store to a shared segment of `shape`,
  /// which readers in other processes can map (see [`crate::shm`]).
  /// Its first generation has `shape`; it grows with the store.
  pub fn with_segment(config: StoreConfig, shape: Shape) -> std::io::Result<Self> {
    let (published, writer, generations) = Published::create(shape)?;
    Ok(Host::build(config, Some((published, writer, generations))))
  }

  /// A host over a segment, its writer and where its later generations
  /// come from, when it publishes one.
  fn build(config: StoreConfig, published: Option<Publishing>) -> Self {
    let (segment, writer, generations) = match published {
      Some((segment, writer, generations)) => (Some(segment), Some(writer), Some(generations)),
      None => (None, None, None),
    };
    let storage = Mirrored::new(Table::default(), writer, generations, config.idle_ms());
    let store = Arc::new(Store::with_storage(config, storage));
    let peers = Arc::new(Peers::default());
    let watches = Arc::new(Watches::new(peers.clone()));
    store.set_observer(watches.clone());
    Host {
      store,
      segment,
      locks: Mutex::new(LockTable::default()),
      watches,
      peers,
      alarm: Arc::new(Alarm::default()),
      retired: AtomicBool::new(false),
      handed_over: AtomicBool::new(false),
      fill: Mutex::new(Fill::All),
      persister: Mutex::new(None),
    }
  }

  pub fn store(&self) -> &Store<HostStorage> {
    &self.store
  }

  /// Takes every live entry of another host's segment (one that died,
  /// still mapped by `reader`) into this store, keeping their deadlines;
  /// answers how many. Entries this store already holds are replaced.
  /// What the segment showed decides what a snapshot loaded next adds
  /// ([`Fill`]): the segment is newer than any snapshot.
  pub fn import(&self, reader: &crate::shm::reader::Reader<Mapping>) -> usize {
    let mut tx = self.store.begin();
    let now = tx.now_ms();
    let mut taken = 0;
    let mut elsewhere = HashSet::new();
    let complete = reader.for_each_key(now, |key, value, expires| {
      let Some(value) = value else {
        elsewhere.insert(Box::<[u8]>::from(key));
        return;
      };
      let ttl = (expires != crate::shm::layout::NEVER).then(|| expires.saturating_sub(now).max(1));
      let options = crate::store::SetOptions {
        ttl,
        ..Default::default()
      };
      if tx.set(key, value, &options).is_ok() {
        taken += 1;
      }
    });
    *self.fill.lock() = if complete {
      Fill::Only(elsewhere)
    } else {
      Fill::Missing
    };
    taken
  }

  /// Starts the fencing tokens of this host's locks in `epoch` (see
  /// [`crate::locks`]): a host elected after another takes its epoch plus one.
  pub fn set_epoch(&self, epoch: u64) {
    self.locks.lock().set_epoch(epoch);
  }

  /// The process hosting this store closed it: every later batch, from
  /// any owner still connected (another thread of the process), fails with
  /// `ERR_HOST_EXITED`.
  pub fn retire(&self) {
    self.retired.store(true, Ordering::Release);
  }

  /// Whether [`Host::retire`] was called.
  pub fn is_retired(&self) -> bool {
    self.retired.load(Ordering::Acquire)
  }

  /// Loads the snapshot `plan` names, as what was taken over allows (see
  /// [`Host::import`]), then writes one every `plan.interval` on a thread
  /// of its own until [`Host::hand_over`]; periodic write failures go to
  /// `on_failure`. A snapshot that cannot be used is answered as the error
  /// (set aside, unless unreadable); the store then starts without it, and
  /// persists unless the file could not be read at all.
  pub fn persist(
    self: &Arc<Self>,
    plan: Plan,
    on_failure: OnFailure,
  ) -> std::io::Result<Result<Restored, LoadError>> {
    let fill = std::mem::take(&mut *self.fill.lock());
    let loaded = snapshot::load(&self.store, &plan.path, plan.serialization, &fill);
    if loaded.as_ref().err().is_none_or(LoadError::may_write) {
      let persister = Persister::start(self, plan, on_failure)?;
      *self.persister.lock() = Some(persister);
    }
    Ok(loaded)
  }

  /// Ends this host's persistence: the store applies no batch from now on
  /// (each request is answered `ERR_HOST_EXITED`, not applied), and a last
  /// snapshot of it is written, on this thread. Answers how that write
  /// went; None when this host does not persist (then nothing changes).
  pub fn hand_over(&self) -> Option<std::io::Result<()>> {
    let persister = self.persister.lock().take()?;
    let buffer = snapshot::buffer_for(&self.store);
    let image = {
      let tx = self.store.begin();
      self.handed_over.store(true, Ordering::Release);
      snapshot::capture_into(&tx, snapshot::wall::now_ms(), buffer)
    };
    Some(persister.finish(&image))
  }

  /// The read-only descriptor of the segment this host publishes, if any.
  pub fn segment_fd(&self) -> Option<i32> {
    self.segment.as_ref().map(Published::read_only_fd)
  }

  /// Bytes of the current generation of the segment (0 when there is none).
  pub fn segment_bytes(&self) -> usize {
    self.segment.as_ref().map_or(0, Published::bytes)
  }

  /// Registers a connected process; its pushes go to the sink `sink_for`
  /// makes, given the process's new owner number.
  pub fn connect(&self, sink_for: impl FnOnce(Owner) -> Arc<dyn Sink>) -> Owner {
    self.peers.add_with(sink_for)
  }

  /// A process went away (it exited, was killed, or closed its
  /// connection): its locks pass to their next waiters at once, its waits
  /// and watches end.
  pub fn disconnect(&self, owner: Owner) {
    let notices = self.locks.lock().owner_gone(owner, Instant::now());
    self.watches.owner_gone(&self.store, owner);
    self.peers.remove(owner);
    self.deliver(notices);
  }

  /// Applies a request batch from `owner` and answers the reply batch (see
  /// [`protocol`]): atomically, under one store transaction, up to
  /// [`BATCH_CHUNK`] requests; a longer batch in chunks of that many, in
  /// order, each one atomic. Never fails: a request that cannot be read
  /// gets an `ERR_PROTOCOL` reply, and the others are still applied.
  pub fn apply(&self, owner: Owner, batch: &str) -> String {
    if self.is_retired() {
      return protocol::fail_batch(
        batch,
        "ERR_HOST_EXITED",
        "the process hosting this store closed it",
      );
    }
    let requests = match protocol::parse_batch(batch) {
      Ok(requests) => requests,
      Err(err) => return protocol::batch_error(&err),
    };
    let mut replies = Replies::with_capacity(requests.len());
    let mut cx = Context::new(&self.store, &self.locks, &self.watches, owner);
    let mut tx = self.store.begin();
    // Read under the store's lock: a batch begun before the last snapshot
    // was taken is in it; one begun after is not applied.
    let mut handed_over = self.handed_over.load(Ordering::Acquire);
    for (i, request) in requests.into_iter().enumerate() {
      if i > 0 && i % BATCH_CHUNK == 0 {
        tx.yield_to_waiters();
        handed_over = self.handed_over.load(Ordering::Acquire);
      }
      match request {
        Ok(request) if handed_over => {
          replies.push(request.id, &Reply::Failed(StoreError::HandedOver))
        }
        Ok(request) => replies.push(
          request.id,
          &exec::run(&mut tx, &mut cx, request.id, request.ns, request.op),
        ),
        Err(unreadable) => replies.unreadable(&unreadable),
      }
    }
    drop(tx);
    if let Some(at) = cx.lock_deadline {
      self.alarm.set(at);
    }
    self.deliver(cx.notices);
    replies.finish()
  }

  /// Sends later answers to the owners that wait for them.
  fn deliver(&self, notices: Vec<Notice>) {
    for notice in notices {
      let (owner, push) = match notice {
        Notice::Granted {
          owner,
          request,
          token,
          ..
        } => (
          owner,
          protocol::later_push(request, &Reply::Int(token as i64)),
        ),
        Notice::TimedOut {
          owner,
          request,
          key,
        } => (
          owner,
          protocol::later_push(request, &Reply::Failed(lock_timeout(&key))),
        ),
      };
      self.peers.send(owner, push, true);
    }
  }
}

impl Source for Host {
  /// A copy of the store, taken in one hold of its lock, into a buffer
  /// made ready before it.
  fn capture(&self) -> Image {
    let buffer = snapshot::buffer_for(&self.store);
    snapshot::capture_into(&self.store.begin(), snapshot::wall::now_ms(), buffer)
  }
}

impl Timed for Host {
  /// Removes expired entries, ends leases and waits that ran out. Answers
  /// when the next lease or wait runs out.
  fn tick(&self) -> Option<Instant> {
    if let Some(segment) = &self.segment {
      segment.heartbeat(clock::now_ms());
    }
    loop {
      let mut tx = self.store.begin();
      let removed = tx.expire_due(SWEEP_CHUNK) + tx.expire_idle(SWEEP_CHUNK);
      drop(tx);
      if removed < SWEEP_CHUNK {
        break;
      }
    }
    let mut locks = self.locks.lock();
    let notices = locks.expire(Instant::now());
    let next = locks.next_deadline();
    drop(locks);
    self.deliver(notices);
    next
  }

  fn alarm(&self) -> &Arc<Alarm> {
    &self.alarm
  }
}

#[cfg(test)]
mod tests {
  //! A batch end to end: read, run, written back.
  use super::*;

  fn store() -> Host {
    Host::new(StoreConfig::default())
  }

  fn apply_batch(host: &Host, batch: &str) -> String {
    host.apply(0, batch)
  }

  #[test]
  fn applies_requests_in_order() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set","a",[0,1,2,3]],[2,"get","a",0],[3,"del","a",0],[4,"get","a",0],[5,"del","a",0]]"#,
    );
    assert_eq!(
      reply,
      r#"[[1,0],[2,1,[0,1,2,3]],[3,1,true],[4,0],[5,1,false]]"#
    );
  }

  #[test]
  fn values_are_stored_as_sent() {
    let s = store();
    apply_batch(&s, r#"[[1,"set","k",{"b":1,"a":"\u00e9"}]]"#);
    assert_eq!(
      apply_batch(&s, r#"[[2,"get","k",0]]"#),
      r#"[[2,1,{"b":1,"a":"\u00e9"}]]"#
    );
  }

  #[test]
  fn incr_and_mset() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"incr","n",1],[2,"incr","n",1],[3,"mset",null,[["x",1],["y","two"]]],[4,"get","y",0],[5,"incr","y",1]]"#,
    );
    assert!(
      reply.starts_with(r#"[[1,1,1],[2,1,2],[3,0],[4,1,"two"],[5,2,"ERR_NOT_A_NUMBER","#),
      "{reply}"
    );
  }

  #[test]
  fn bad_requests_fail_alone() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set",5,1],[2,"nope","a",0],"junk",[3],[4,"set","ok",true],[5,"mset",null,[[1,2]]]]"#,
    );
    let replies: Vec<serde_json::Value> = serde_json::from_str(&reply).unwrap();
    let codes: Vec<_> = replies.iter().map(|r| r[2].clone()).collect();
    assert_eq!(replies[0][2], "ERR_INVALID_KEY");
    assert_eq!(replies[1][2], "ERR_PROTOCOL");
    assert_eq!(replies[2][0], serde_json::Value::Null);
    assert_eq!(replies[3][0], 3);
    assert_eq!(replies[4], serde_json::json!([4, 0]), "{codes:?}");
    assert_eq!(replies[5][2], "ERR_INVALID_KEY");
    assert_eq!(apply_batch(&s, r#"[[6,"get","ok",0]]"#), "[[6,1,true]]");
  }

  #[test]
  fn a_batch_that_is_not_an_array_gets_one_error() {
    let reply = apply_batch(&store(), "{\"x\":1");
    assert!(reply.starts_with(r#"[[null,2,"ERR_PROTOCOL","#), "{reply}");
  }

  #[test]
  fn options_namespaces_and_the_extended_operations() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set","k","d"],[2,"set","k","a",{"ns":"a"}],[3,"get","k",0,{"ns":"a"}],[4,"set","k","x",{"nx":true}],
          [5,"set","k","y",{"xx":true,"ttl":60000}],[6,"has","k",0],[7,"mget",null,["k","z"]],[8,"keys",null,"k*"],
          [9,"size",null,0,{"ns":"a"}],[10,"getset","g",1],[11,"cas","g",[2,1]],[12,"cas","g",[3]],[13,"persist","k",0],
          [14,"ttl","k",0],[15,"expire","zz",5],[16,"clear",null,0,{"ns":"a"}],[17,"get","k",0,{"ns":"a"}],[18,"get","k",0],
          [19,"incr","w",1,{"ttl":1000}],[20,"set","k",1,{"ns":5}],[21,"set","k",1,{"ttl":-1}]]"#,
    );
    let replies: Vec<serde_json::Value> = serde_json::from_str(&reply).unwrap();
    let expect = serde_json::json!([
      [1, 0],
      [2, 0],
      [3, 1, "a"],
      [4, 1, false],
      [5, 1, true],
      [6, 1, true],
      [7, 1, [[1, "y"], [0]]],
      [8, 1, ["k"]],
      [9, 1, 1],
      [10, 0],
      [11, 1, true],
      [12, 1, false],
      [13, 1, true],
      [14, 1, -1],
      [15, 1, false],
      [16, 0],
      [17, 0],
      [18, 1, "y"],
      [19, 1, 1]
    ]);
    assert_eq!(serde_json::Value::from(replies[..19].to_vec()), expect);
    assert_eq!(replies[19][2], "ERR_PROTOCOL");
    assert_eq!(replies[20][2], "ERR_PROTOCOL");
    let stats: serde_json::Value =
      serde_json::from_str(&apply_batch(&s, r#"[[1,"stats",null,0]]"#)).unwrap();
    assert_eq!(stats[0][2]["total"]["entries"], 3);
    assert_eq!(stats[0][2]["namespaces"]["a"]["entries"], 0);
    assert_eq!(stats[0][2]["namespaces"][""]["entries"], 3);
  }

  #[test]
  fn a_long_batch_lets_others_in_between_its_chunks() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let host = Arc::new(store());
    let n = 64 * BATCH_CHUNK;
    let batch = format!(
      "[{}]",
      (0..n)
        .map(|i| format!(r#"[{i},"incr","n",1]"#))
        .collect::<Vec<_>>()
        .join(",")
    );
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
      let (host, done) = (host.clone(), done.clone());
      std::thread::spawn(move || {
        // Answers the first count seen strictly inside a batch: one that ran between its chunks.
        while !done.load(Ordering::Relaxed) {
          let reply = host.apply(2, r#"[[1,"get","n",0]]"#);
          let count: u64 = serde_json::from_str::<serde_json::Value>(&reply).unwrap()[0][2]
            .as_u64()
            .unwrap_or(0);
          if count % n as u64 != 0 {
            return Some(count);
          }
        }
        None
      })
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while !reader.is_finished() && Instant::now() < deadline {
      let reply = host.apply(1, &batch);
      assert!(
        reply.ends_with(&format!("[{},1,{}]]", n - 1, 0)) || reply.len() > n,
        "every request answered"
      );
    }
    done.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();
    assert!(
      seen.is_some(),
      "another caller never got in during a batch of {n} requests"
    );
  }

  #[test]
  fn a_published_store_is_read_from_its_segment_and_reads_come_back_as_uses() {
    let config = StoreConfig {
      max_entries: Some(3),
      ..StoreConfig::default()
    };
    let host = Host::with_segment(config, Shape::first()).unwrap();
    let fd = host.segment_fd().expect("published");
    let reader = crate::shm::open_published(std::process::id(), fd).unwrap();
    let read = |key: &str| {
      let mut out = Vec::new();
      let found = reader
        .get(key.as_bytes(), clock::now_ms(), &mut out)
        .unwrap();
      found.map(|_| String::from_utf8(out).unwrap())
    };
    apply_batch(
      &host,
      r#"[[1,"set","a",{"x":1}],[2,"set","b",2],[3,"set","c",3,{"ns":"n"}]]"#,
    );
    assert_eq!(read(r#""a""#).as_deref(), Some(r#"{"x":1}"#));
    assert_eq!(
      read(r#""n""c""#).as_deref(),
      Some("3"),
      "a namespaced key, as the store keeps it"
    );
    // "a" read elsewhere, then reported: it is the most recent, so a new key evicts "b".
    let mut report =
      crate::shm::report::ReadReport::new(reader.capacity(), std::time::Duration::from_secs(1));
    let found = reader
      .get(br#""a""#, clock::now_ms(), &mut Vec::new())
      .unwrap();
    report.note(br#""a""#, found);
    report.note(br#""n""zz""#, None);
    report.note(br#""n""zz""#, None);
    let used = report.take().unwrap();
    assert_eq!(
      apply_batch(&host, &format!(r#"[[4,"used",null,{used}]]"#)),
      "[[4,0]]"
    );
    apply_batch(&host, r#"[[5,"set","d",4]]"#);
    assert_eq!(
      read(r#""b""#),
      None,
      "evicted, and gone from the segment too"
    );
    assert_eq!(read(r#""a""#).as_deref(), Some(r#"{"x":1}"#));
    let stats = host.store().stats();
    assert_eq!((stats.hits, stats.misses), (1, 2));
    let (_, namespaces) = host.store().begin().stats();
    let n = namespaces
      .iter()
      .find(|(name, _)| &**name == br#""n""#)
      .unwrap();
    assert_eq!(n.1.misses, 2, "the misses are counted in their namespace");
  }

  #[test]
  fn a_new_host_takes_over_what_the_old_one_published() {
    let old = Host::with_segment(StoreConfig::default(), Shape::first()).unwrap();
    apply_batch(
      &old,
      r#"[[1,"set","a",{"x":1}],[2,"set","t",2,{"ttl":60000}],[3,"set","n",3,{"ns":"ns"}],[4,"set","gone",4],[5,"del","gone",0]]"#,
    );
    let reader = crate::shm::open_published(std::process::id(), old.segment_fd().unwrap()).unwrap();
    let new = store();
    apply_batch(&new, r#"[[1,"set","a","overwritten"]]"#);
    assert_eq!(new.import(&reader), 3);
    drop(old); // the segment lives on while mapped
    let reply = apply_batch(
      &new,
      r#"[[1,"get","a",0],[2,"ttl","t",0],[3,"get","n",0,{"ns":"ns"}],[4,"has","gone",0]]"#,
    );
    let replies: Vec<serde_json::Value> = serde_json::from_str(&reply).unwrap();
    assert_eq!(replies[0], serde_json::json!([1, 1, {"x": 1}]));
    let ttl = replies[1][2].as_i64().unwrap();
    assert!(ttl > 50_000 && ttl <= 60_000, "the deadline is kept: {ttl}");
    assert_eq!(replies[2], serde_json::json!([3, 1, 3]));
    assert_eq!(replies[3], serde_json::json!([4, 1, false]));
  }

  #[test]
  fn the_segment_grows_with_the_store_and_readers_follow_it_by_its_one_descriptor() {
    use crate::shm::follow::{Following, ProcFd};
    let tiny = Shape {
      capacity: 8,
      arena_words: 64,
    };
    let host = Host::with_segment(StoreConfig::default(), tiny).unwrap();
    let fd = host.segment_fd().unwrap();
    let first = crate::shm::open_published(std::process::id(), fd).unwrap();
    let first_bytes = host.segment_bytes();
    let mut reader = Following::open(ProcFd {
      pid: std::process::id(),
      fd,
    })
    .unwrap();
    let mut out = Vec::new();
    for i in 0..10_000 {
      apply_batch(&host, &format!(r#"[[{i},"set","k{i}",{i}]]"#));
      if i % 1000 == 999 {
        for j in (0..=i).step_by(37) {
          let found = reader.get(format!(r#""k{j}""#).as_bytes(), clock::now_ms(), &mut out);
          assert!(
            matches!(found, Ok(Some(_))),
            "k{j} after {i} sets: {found:?}"
          );
          assert_eq!(out, j.to_string().as_bytes());
        }
      }
    }
    assert_eq!(
      host.segment_fd(),
      Some(fd),
      "one descriptor number for every generation"
    );
    assert!(reader.reader().generation() > 2, "it grew more than once");
    assert!(host.segment_bytes() > first_bytes);
    assert_eq!(
      first.get(b"\"k0\"", clock::now_ms(), &mut out),
      Err(crate::shm::ShmError::Superseded),
      "the first generation, still mapped, says it was replaced"
    );
    let stats = apply_batch(&host, r#"[[1,"stats",null,0]]"#);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats[0][2]["segmentBytes"], host.segment_bytes());
  }

  /// The writer of a segment SIGKILLed during a write storm (another
  /// process: see src/shm/stress.rs, which a loom build leaves out).
  #[cfg(not(loom))]
  mod killed {
    use super::*;
    use crate::shm::stress::{check, key, writer, KEYS};
    use std::time::Duration;

    #[test]
    fn a_host_killed_mid_storm_leaves_a_segment_readers_survive_and_a_new_host_takes_over() {
      let (mut w, _out, pid, fd) = writer(Duration::from_secs(600));
      let reader = crate::shm::open_published(pid, fd).unwrap();
      // Wait until the storm is well under way: every key written many times.
      let deadline = Instant::now() + Duration::from_secs(60);
      let mut out = Vec::new();
      loop {
        assert!(Instant::now() < deadline, "the writer never got going");
        if let Ok(Some(_)) = reader.get(&key(KEYS - 1), clock::now_ms(), &mut out) {
          if check(KEYS - 1, &out).is_some_and(|version| version > 1000) {
            break;
          }
        }
        std::thread::yield_now();
      }
      w.kill().unwrap(); // SIGKILL, mid-write most likely
      w.wait().unwrap();
      // The mapping outlives its writer. Every key is a checked value, or (a
      // slot the writer died in) an error after a bounded wait: never torn.
      let (mut whole, mut busy) = (0, 0);
      for i in 0..KEYS {
        match reader.get(&key(i), clock::now_ms(), &mut out) {
          Ok(Some(_)) => {
            assert!(
              check(i, &out).is_some(),
              "key {i}: a torn value after the kill"
            );
            whole += 1;
          }
          Err(crate::shm::ShmError::Busy) => busy += 1,
          other => panic!("key {i}: {other:?}"),
        }
      }
      assert!(busy <= 1, "the writer was inside one slot at most");
      eprintln!("after SIGKILL mid-storm: {whole} keys whole, {busy} slot left locked");
      assert_eq!(whole + busy, KEYS);
      // A new host takes the dead one's entries over, each one whole.
      let host = Host::new(crate::store::StoreConfig::default());
      assert_eq!(host.import(&reader), whole);
      let tx = host.store().begin();
      for i in 0..KEYS {
        if let Some(value) = tx.peek(&key(i)) {
          assert!(check(i, value).is_some(), "key {i}: taken over torn");
        }
      }
    }
  }
}
