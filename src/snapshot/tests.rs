//! Snapshots: the format round trip, every kind of damage refused whole,
//! TTLs across the file, the fill rules, files on disk and the writer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::format::{parse, Corrupt, Image, FORMAT_VERSION};
use super::*;
use crate::host::Host;
use crate::store::{Store, StoreConfig};

fn set(store: &Store, key: &str, value: &str, ttl: Option<u64>) {
  let options = SetOptions {
    ttl,
    ..Default::default()
  };
  store
    .begin()
    .set(key.as_bytes(), value.as_bytes(), &options)
    .unwrap();
}

fn get(store: &Store, key: &str) -> Option<String> {
  store
    .begin()
    .get(key.as_bytes())
    .map(|v| String::from_utf8(v.to_vec()).unwrap())
}

fn ttl(store: &Store, key: &str) -> i64 {
  store.begin().ttl(key.as_bytes())
}

/// A store with a bit of everything: namespaces, TTLs, none.
fn filled() -> Store {
  let store = Store::new(StoreConfig::default());
  set(&store, r#""a""#, r#"{"x":[1,2]}"#, None);
  set(&store, r#""t""#, "2", Some(60_000));
  set(&store, r#""ns""k""#, r#""in a namespace""#, None);
  set(&store, r#""é\"q""#, r#""ünïcode""#, Some(3_600_000));
  store
}

fn file_of(store: &Store) -> Vec<u8> {
  capture(&store.begin(), wall::now_ms()).to_bytes(0)
}

fn restored(bytes: &[u8], fill: &Fill) -> (Store, Restored) {
  let store = Store::new(StoreConfig::default());
  let snapshot = parse(bytes).unwrap();
  let done = restore(&mut store.begin(), &snapshot, wall::now_ms(), fill);
  (store, done)
}

#[test]
fn a_store_survives_the_round_trip_with_its_ttls() {
  let bytes = file_of(&filled());
  let (copy, done) = restored(&bytes, &Fill::All);
  assert_eq!(
    done,
    Restored {
      restored: 4,
      expired: 0,
      skipped: 0
    }
  );
  assert_eq!(get(&copy, r#""a""#).as_deref(), Some(r#"{"x":[1,2]}"#));
  assert_eq!(
    get(&copy, r#""ns""k""#).as_deref(),
    Some(r#""in a namespace""#)
  );
  assert_eq!(get(&copy, r#""é\"q""#).as_deref(), Some(r#""ünïcode""#));
  assert_eq!(ttl(&copy, r#""a""#), -1, "no TTL stays none");
  let t = ttl(&copy, r#""t""#);
  assert!(t > 50_000 && t <= 60_000, "the deadline is kept: {t}");
  assert_eq!(
    copy.begin().keys(br#""ns""#, None),
    vec![Box::from(&br#""k""#[..])]
  );
}

#[test]
fn recency_order_is_kept() {
  let store = Store::new(StoreConfig::default());
  for key in ["1", "2", "3"] {
    set(&store, &format!("\"{key}\""), key, None);
  }
  get(&store, r#""1""#); // 1 is now the most recently used: 2 is the oldest
  let bounded = Store::new(StoreConfig {
    max_entries: Some(3),
    ..StoreConfig::default()
  });
  let bytes = file_of(&store);
  restore(
    &mut bounded.begin(),
    &parse(&bytes).unwrap(),
    wall::now_ms(),
    &Fill::All,
  );
  set(&bounded, r#""4""#, "4", None);
  assert_eq!(
    get(&bounded, r#""2""#),
    None,
    "the oldest is evicted first, as before the snapshot"
  );
  assert!(get(&bounded, r#""1""#).is_some() && get(&bounded, r#""3""#).is_some());
}

#[test]
fn entries_past_their_deadline_are_dropped_at_load() {
  let now = wall::now_ms();
  let mut image = Image::with_capacity(1, now, 2, 16);
  image.push(b"", br#""gone""#, b"1", Some(now - 1));
  image.push(b"", br#""kept""#, b"2", Some(now + 60_000));
  let (store, done) = restored(&image.to_bytes(0), &Fill::All);
  assert_eq!((done.restored, done.expired), (1, 1));
  assert_eq!(get(&store, r#""gone""#), None);
  assert!(ttl(&store, r#""kept""#) > 50_000);
}

#[test]
fn expired_entries_are_not_written() {
  let store = filled();
  let later = Instant::now() + Duration::from_secs(120);
  let image = capture(&store.begin_at(later), wall::now_ms());
  assert_eq!(image.count, 3, "the 60 s TTL ran out by then");
}

#[test]
fn every_truncation_is_refused() {
  let bytes = file_of(&filled());
  for len in 0..bytes.len() {
    let err = parse(&bytes[..len]).expect_err("a truncated file is refused");
    assert!(matches!(err, Corrupt::Truncated { .. }), "{len}: {err:?}");
  }
}

#[test]
fn every_flipped_byte_is_refused() {
  let bytes = file_of(&filled());
  for at in 0..bytes.len() {
    for bit in [0x01u8, 0x80] {
      let mut damaged = bytes.clone();
      damaged[at] ^= bit;
      assert!(
        parse(&damaged).is_err(),
        "byte {at} ^ {bit:#x} went unnoticed"
      );
    }
  }
}

#[test]
fn another_version_and_trailing_bytes_are_refused() {
  let mut bytes = file_of(&filled());
  let mut other = bytes.clone();
  other[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
  assert_eq!(
    parse(&other).unwrap_err(),
    Corrupt::Version(FORMAT_VERSION + 1)
  );
  assert_eq!(
    parse(b"not a snapshot at all, but long enough for a header").unwrap_err(),
    Corrupt::Magic
  );
  bytes.push(0);
  assert!(matches!(
    parse(&bytes).unwrap_err(),
    Corrupt::Trailing { .. }
  ));
}

/// A file whose checksum holds over a body that does not add up.
fn resealed(body: Vec<u8>, count: u64) -> Vec<u8> {
  let image = Image {
    version: 1,
    written: 0,
    count,
    body,
  };
  image.to_bytes(0)
}

#[test]
fn a_valid_checksum_over_a_malformed_body_is_refused() {
  let good = Image::with_capacity(1, 0, 0, 0);
  let mut one = good;
  one.push(b"", br#""k""#, b"1", None);
  let body = one.body.clone();
  for (what, bytes) in [
    ("a count larger than the body", resealed(body.clone(), 2)),
    ("a count smaller than the body", resealed(body.clone(), 0)),
    ("an absurd count", resealed(body.clone(), u64::MAX)),
    ("a length past the end", {
      let mut b = body.clone();
      b[8..12].copy_from_slice(&1000u32.to_le_bytes());
      resealed(b, 1)
    }),
    ("a key that is not a JSON string", {
      let mut b = body.clone();
      b[20] = b'x';
      resealed(b, 1)
    }),
    ("an empty value", {
      let mut b = Image::with_capacity(1, 0, 1, 4);
      b.push(b"", br#""k""#, b"", None);
      resealed(b.body, 1)
    }),
    ("a value that is not UTF-8", {
      let mut b = Image::with_capacity(1, 0, 1, 4);
      b.push(b"", br#""k""#, &[0xff, 0xfe], None);
      resealed(b.body, 1)
    }),
  ] {
    assert!(
      matches!(parse(&bytes), Err(Corrupt::Malformed(_))),
      "{what}: {:?}",
      parse(&bytes)
    );
  }
  let unknown_flags = Image {
    version: 1,
    written: 0,
    count: 1,
    body,
  };
  assert!(matches!(
    parse(&unknown_flags.to_bytes(7)),
    Err(Corrupt::Malformed(_))
  ));
}

#[test]
fn the_fill_rules() {
  let bytes = file_of(&filled());
  let store = Store::new(StoreConfig::default());
  set(&store, r#""a""#, r#""newer""#, None);
  let snapshot = parse(&bytes).unwrap();
  let done = restore(
    &mut store.begin(),
    &snapshot,
    wall::now_ms(),
    &Fill::Missing,
  );
  assert_eq!((done.restored, done.skipped), (3, 1));
  assert_eq!(
    get(&store, r#""a""#).as_deref(),
    Some(r#""newer""#),
    "what the store holds is newer"
  );

  let store = Store::new(StoreConfig::default());
  let only = [Box::<[u8]>::from(&br#""ns""k""#[..])]
    .into_iter()
    .collect();
  let done = restore(
    &mut store.begin(),
    &snapshot,
    wall::now_ms(),
    &Fill::Only(only),
  );
  assert_eq!((done.restored, done.skipped), (1, 3));
  assert_eq!(
    get(&store, r#""a""#),
    None,
    "removed since the snapshot: not brought back"
  );
  assert!(get(&store, r#""ns""k""#).is_some());
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
  fn new() -> Self {
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir =
      std::env::temp_dir().join(format!("sharedmemory-snapshot-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
  }

  fn names(&self) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&self.0)
      .unwrap()
      .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
      .collect();
    names.sort();
    names
  }
}

impl Drop for TempDir {
  fn drop(&mut self) {
    let _ = std::fs::remove_dir_all(&self.0);
  }
}

#[test]
fn a_bad_file_is_set_aside_and_the_store_starts_empty() {
  let dir = TempDir::new();
  let path = dir.0.join("store.snap");
  let mut bytes = file_of(&filled());
  let last = bytes.len() - 1;
  bytes[last] ^= 1;
  std::fs::write(&path, &bytes).unwrap();
  let store = Store::new(StoreConfig::default());
  let err = load(&store, &path, 0, &Fill::All).unwrap_err();
  assert_eq!(err.code(), "ERR_SNAPSHOT_CORRUPT");
  assert!(err.to_string().contains("checksum"), "{err}");
  assert!(store.is_empty(), "nothing of it was loaded");
  let names = dir.names();
  assert_eq!(names.len(), 1);
  assert!(names[0].starts_with("store.snap.corrupt-"), "{names:?}");
  assert_eq!(
    std::fs::read(dir.0.join(&names[0])).unwrap(),
    bytes,
    "kept as it was"
  );

  std::fs::write(&path, file_of(&filled())).unwrap();
  let err = load(&store, &path, 1, &Fill::All).unwrap_err();
  assert_eq!(err.code(), "ERR_SERIALIZATION_MISMATCH");
  assert!(store.is_empty());
  assert!(!path.exists());
  assert_eq!(
    load(&store, &path, 0, &Fill::All).unwrap(),
    Restored::default(),
    "no file: nothing to load"
  );
}

#[test]
fn files_are_written_atomically_and_privately() {
  use std::os::unix::fs::PermissionsExt;
  let dir = TempDir::new();
  let path = dir.0.join("s");
  file::write_atomic(&path, &[b"one", b"two"]).unwrap();
  assert_eq!(std::fs::read(&path).unwrap(), b"onetwo");
  assert_eq!(
    std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
    0o600
  );
  assert_eq!(dir.names(), vec!["s"], "no temporary file is left");
  let missing = dir.0.join("no-such-dir").join("s");
  assert!(file::write_atomic(&missing, &[b"x"]).is_err());
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
  let deadline = Instant::now() + Duration::from_secs(60);
  while !done() {
    assert!(Instant::now() < deadline, "{what} never happened");
    std::thread::sleep(Duration::from_millis(2));
  }
}

fn plan(path: &std::path::Path, interval_ms: u64) -> writer::Plan {
  writer::Plan {
    path: path.into(),
    interval: Duration::from_millis(interval_ms),
    serialization: 0,
  }
}

#[test]
fn a_host_writes_snapshots_hands_over_and_the_next_host_loads_them() {
  let dir = TempDir::new();
  let path = dir.0.join("host.snap");
  let host = Arc::new(Host::new(StoreConfig::default()));
  let loaded = host.persist(plan(&path, 5), Box::new(|_| {})).unwrap();
  assert_eq!(loaded.unwrap(), Restored::default());
  host.apply(0, r#"[[1,"set","a",1],[2,"set","t",2,{"ttl":60000}]]"#);
  wait_for("a periodic snapshot", || {
    std::fs::read(&path).is_ok_and(|bytes| parse(&bytes).is_ok_and(|s| s.entries.len() == 2))
  });
  let before = std::fs::metadata(&path).unwrap().modified().unwrap();
  host.apply(0, r#"[[3,"set","b",3]]"#);
  assert!(host.hand_over().unwrap().is_ok());
  assert!(host.hand_over().is_none(), "once");
  let refused = host.apply(0, r#"[[4,"set","c",4],[5,"get","a",0]]"#);
  assert!(
    refused.starts_with(r#"[[4,2,"ERR_HOST_EXITED","#),
    "{refused}"
  );
  let bytes = std::fs::read(&path).unwrap();
  assert_eq!(
    parse(&bytes).unwrap().entries.len(),
    3,
    "the last write is in the last snapshot"
  );
  assert!(std::fs::metadata(&path).unwrap().modified().unwrap() >= before);

  let next = Arc::new(Host::new(StoreConfig::default()));
  let loaded = next
    .persist(plan(&path, 3_600_000), Box::new(|_| {}))
    .unwrap();
  assert_eq!(loaded.unwrap().restored, 3);
  let reply = next.apply(0, r#"[[1,"get","b",0],[2,"ttl","t",0]]"#);
  let replies: serde_json::Value = serde_json::from_str(&reply).unwrap();
  assert_eq!(replies[0], serde_json::json!([1, 1, 3]));
  assert!(replies[1][2].as_i64().unwrap() > 50_000);
}

#[test]
fn a_failing_write_is_reported_once_until_one_succeeds() {
  let dir = TempDir::new();
  let sub = dir.0.join("sub");
  let path = sub.join("s.snap");
  let reports = Arc::new(AtomicUsize::new(0));
  let host = Arc::new(Host::new(StoreConfig::default()));
  let counted = reports.clone();
  let on_failure = Box::new(move |_: &std::io::Error| {
    counted.fetch_add(1, Ordering::SeqCst);
  });
  host.persist(plan(&path, 2), on_failure).unwrap().unwrap();
  for i in 0..20 {
    host.apply(0, &format!(r#"[[1,"set","k",{i}]]"#));
    std::thread::sleep(Duration::from_millis(3));
  }
  wait_for("a report", || reports.load(Ordering::SeqCst) > 0);
  assert_eq!(reports.load(Ordering::SeqCst), 1, "reported once");
  std::fs::create_dir_all(&sub).unwrap();
  host.apply(0, r#"[[1,"set","k","last"]]"#);
  wait_for("a snapshot once the directory exists", || path.exists());
  assert!(host.hand_over().unwrap().is_ok());
}

#[test]
fn a_host_that_took_over_a_complete_segment_loads_only_what_it_lacked() {
  use crate::shm::writer::Shape;
  let dir = TempDir::new();
  let path = dir.0.join("s.snap");
  // The snapshot holds "old" (deleted since) and "big" (too large to be published).
  let big = format!("\"{}\"", "x".repeat(20_000));
  let old = Host::with_segment(StoreConfig::default(), Shape::first()).unwrap();
  old.apply(
    0,
    &format!(r#"[[1,"set","old",1],[2,"set","big",{big}],[3,"set","a",1]]"#),
  );
  let image = capture(&old.store().begin(), wall::now_ms());
  file::write_atomic(&path, &[&image.header(0), &image.body]).unwrap();
  old.apply(0, r#"[[1,"del","old",0],[2,"set","a",2]]"#);
  let reader = crate::shm::open_published(std::process::id(), old.segment_fd().unwrap()).unwrap();
  let new = Arc::new(Host::new(StoreConfig::default()));
  assert_eq!(new.import(&reader), 1, "a; big is not in the segment");
  let loaded = new
    .persist(plan(&path, 3_600_000), Box::new(|_| {}))
    .unwrap()
    .unwrap();
  assert_eq!((loaded.restored, loaded.skipped), (1, 2));
  let reply = new.apply(
    0,
    r#"[[1,"get","a",0],[2,"has","old",0],[3,"has","big",0]]"#,
  );
  assert_eq!(reply, "[[1,1,2],[2,1,false],[3,1,true]]");
}

/// A measurement, not a check (run it with `cargo test --release measure_snapshot -- --ignored
/// --nocapture`): how long the store's lock is held to copy it, and how long the write takes,
/// for 1M small entries and for 100k entries of 1 KiB.
#[test]
#[ignore]
fn measure_snapshot() {
  let dir = TempDir::new();
  for (entries, value_len) in [(1_000_000usize, 19usize), (100_000, 1024)] {
    let store = Store::new(StoreConfig::default());
    let value = format!("\"{}\"", "v".repeat(value_len - 2));
    {
      let mut tx = store.begin();
      for i in 0..entries {
        let key = format!("\"k:{i:06}\"");
        let ttl = (i % 2 == 0).then_some(3_600_000);
        let options = SetOptions {
          ttl,
          ..Default::default()
        };
        tx.set(key.as_bytes(), value.as_bytes(), &options).unwrap();
      }
    }
    let buffer = buffer_for(&store);
    let started = Instant::now();
    let image = capture_into(&store.begin(), wall::now_ms(), buffer);
    let held = started.elapsed();
    let path = dir.0.join("measure.snap");
    let started = Instant::now();
    let header = image.header(0);
    file::write_atomic(&path, &[&header, &image.body]).unwrap();
    let written = started.elapsed();
    let started = Instant::now();
    let bytes = file::read(&path).unwrap().unwrap();
    let loaded = Store::new(StoreConfig::default());
    let done = restore(
      &mut loaded.begin(),
      &parse(&bytes).unwrap(),
      wall::now_ms(),
      &Fill::All,
    );
    let load = started.elapsed();
    assert_eq!(done.restored, entries);
    println!(
      "{entries} entries of {value_len} B: {:.1} MB file; lock held {held:?} to copy; checksum + write + fsync {written:?}; read + check + load {load:?}",
      bytes.len() as f64 / 1e6
    );
  }
}
