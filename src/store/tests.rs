use std::time::{Duration, Instant};

use super::*;

fn key(s: &str) -> Vec<u8> {
  serde_json::to_vec(s).unwrap()
}

fn lru(max: usize) -> Store {
  Store::new(StoreConfig {
    max_entries: Some(max),
    ..StoreConfig::default()
  })
}

fn idle(ms: u64) -> Store {
  Store::new(StoreConfig {
    idle_expiry: Some(Duration::from_millis(ms)),
    ..StoreConfig::default()
  })
}

#[test]
fn set_get_remove() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  assert_eq!(tx.get(&key("a")), None);
  tx.set(&key("a"), b"[0,1,2,3]").unwrap();
  assert_eq!(tx.get(&key("a")), Some(&b"[0,1,2,3]"[..]));
  assert!(tx.remove(&key("a")));
  assert!(!tx.remove(&key("a")));
  assert_eq!(tx.get(&key("a")), None);
  drop(tx);
  assert!(store.is_empty(), "remove leaves no ghost entry");
  assert_eq!(store.bytes(), 0);
}

#[test]
fn empty_and_prototype_keys_are_ordinary() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  tx.set(&key(""), b"1").unwrap();
  tx.set(&key("__proto__"), b"2").unwrap();
  assert_eq!(tx.get(&key("")), Some(&b"1"[..]));
  assert_eq!(tx.get(&key("__proto__")), Some(&b"2"[..]));
}

#[test]
fn bytes_follow_every_change() {
  let store = Store::new(StoreConfig::default());
  let (a, b) = (key("a"), key("bb"));
  let mut tx = store.begin();
  tx.set(&a, b"12345").unwrap();
  tx.set(&b, b"1").unwrap();
  drop(tx);
  assert_eq!(store.bytes(), a.len() + 5 + b.len() + 1);
  store.begin().set(&a, b"1").unwrap();
  assert_eq!(store.bytes(), a.len() + 1 + b.len() + 1);
  store.begin().remove(&b);
  assert_eq!(store.bytes(), a.len() + 1);
}

#[test]
fn lru_evicts_least_recently_used() {
  let store = lru(3);
  let mut tx = store.begin();
  for k in ["a", "b", "c"] {
    tx.set(&key(k), b"1").unwrap();
  }
  // Reading "a" makes "b" the least recently used.
  assert!(tx.get(&key("a")).is_some());
  tx.set(&key("d"), b"1").unwrap();
  assert!(tx.get(&key("b")).is_none());
  for k in ["a", "c", "d"] {
    assert!(tx.get(&key(k)).is_some(), "{k} kept");
  }
  drop(tx);
  assert_eq!(store.len(), 3);
  assert_eq!(store.stats().evictions, 1);
}

#[test]
fn overwriting_does_not_evict() {
  let store = lru(2);
  let mut tx = store.begin();
  tx.set(&key("a"), b"1").unwrap();
  tx.set(&key("b"), b"1").unwrap();
  tx.set(&key("b"), b"2").unwrap();
  assert!(tx.get(&key("a")).is_some());
  assert_eq!(tx.get(&key("b")), Some(&b"2"[..]));
}

#[test]
fn idle_entries_expire_and_reads_slide_the_deadline() {
  let store = idle(1000);
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  store.begin_at(at(0)).set(&key("a"), b"1").unwrap();
  store.begin_at(at(0)).set(&key("b"), b"1").unwrap();
  // Reading "a" at 900 ms moves its deadline to 1900 ms.
  assert!(store.begin_at(at(900)).get(&key("a")).is_some());
  assert!(store.begin_at(at(1000)).get(&key("b")).is_none(), "b expired");
  assert!(store.begin_at(at(1899)).get(&key("a")).is_some());
  assert!(store.begin_at(at(2898)).get(&key("a")).is_some());
  assert!(store.begin_at(at(3899)).get(&key("a")).is_none());
  assert!(store.is_empty(), "expired entries are removed on access");
  assert_eq!(store.stats().expirations, 2);
}

#[test]
fn sweep_removes_only_expired_entries() {
  let store = idle(1000);
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  for (i, k) in ["a", "b", "c"].iter().enumerate() {
    store.begin_at(at(i as u64 * 100)).set(&key(k), b"1").unwrap();
  }
  assert_eq!(store.begin_at(at(1150)).expire_idle(usize::MAX), 2);
  assert_eq!(store.len(), 1);
  assert_eq!(store.begin_at(at(1150)).get(&key("c")), Some(&b"1"[..]));
  assert_eq!(store.begin_at(at(5000)).expire_idle(usize::MAX), 1);
  assert_eq!(store.bytes(), 0);
}

#[test]
fn removing_an_expired_key_reports_it_absent() {
  let store = idle(10);
  let t0 = Instant::now();
  store.begin_at(t0).set(&key("a"), b"1").unwrap();
  assert!(!store.begin_at(t0 + Duration::from_millis(10)).remove(&key("a")));
  assert!(store.is_empty());
}

#[test]
fn incr_counts_from_zero_and_keeps_non_numbers() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  assert_eq!(tx.incr(&key("n"), 1.0), Ok(1.0));
  assert_eq!(tx.incr(&key("n"), 1.0), Ok(2.0));
  assert_eq!(tx.get(&key("n")), Some(&b"2"[..]));
  tx.set(&key("f"), b"1.5").unwrap();
  assert_eq!(tx.incr(&key("f"), 1.0), Ok(2.5));
  tx.set(&key("s"), b"\"5\"").unwrap();
  assert_eq!(tx.incr(&key("s"), 1.0), Err(StoreError::NotANumber));
  assert_eq!(tx.get(&key("s")), Some(&b"\"5\""[..]));
  tx.set(&key("big"), b"1.7976931348623157e308").unwrap();
  assert_eq!(tx.incr(&key("big"), f64::MAX), Err(StoreError::NotANumber));
}

#[test]
fn too_large_values_and_keys_are_refused_and_change_nothing() {
  let store = Store::new(StoreConfig {
    max_value_bytes: 4,
    ..StoreConfig::default()
  });
  let mut tx = store.begin();
  tx.set(&key("a"), b"1").unwrap();
  assert_eq!(
    tx.set(&key("a"), b"12345"),
    Err(StoreError::ValueTooLarge { size: 5, limit: 4 })
  );
  let long = key(&"k".repeat(MAX_KEY_BYTES));
  assert!(matches!(tx.set(&long, b"1"), Err(StoreError::KeyTooLarge { .. })));
  assert_eq!(
    tx.set_many(&[(&key("b"), b"1"), (&key("c"), b"123456")]),
    Err(StoreError::ValueTooLarge { size: 6, limit: 4 })
  );
  assert_eq!(tx.get(&key("a")), Some(&b"1"[..]));
  assert_eq!(tx.get(&key("b")), None, "a refused multi-set stores nothing");
}

#[test]
fn stats_count_operations() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  tx.set(&key("a"), b"1").unwrap();
  tx.get(&key("a"));
  tx.get(&key("x"));
  tx.remove(&key("a"));
  drop(tx);
  let stats = store.stats();
  assert_eq!((stats.sets, stats.hits, stats.misses, stats.deletes), (1, 1, 1, 1));
  assert_eq!((stats.entries, stats.bytes), (0, 0));
}

#[test]
fn store_is_shared_safely_between_threads() {
  let store = std::sync::Arc::new(lru(100));
  let threads: Vec<_> = (0..4)
    .map(|_| {
      let store = store.clone();
      std::thread::spawn(move || {
        for _ in 0..1000 {
          store.begin().incr(&key("n"), 1.0).unwrap();
        }
      })
    })
    .collect();
  for t in threads {
    t.join().unwrap();
  }
  assert_eq!(store.begin().get(&key("n")), Some(&b"4000"[..]));
}
