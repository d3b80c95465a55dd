use std::time::{Duration, Instant};

use super::*;

const PLAIN: SetOptions = SetOptions {
  ttl: None,
  condition: Condition::Always,
  keep_ttl: false,
};

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
  tx.set(&key("a"), b"[0,1,2,3]", &PLAIN).unwrap();
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
  tx.set(&key(""), b"1", &PLAIN).unwrap();
  tx.set(&key("__proto__"), b"2", &PLAIN).unwrap();
  assert_eq!(tx.get(&key("")), Some(&b"1"[..]));
  assert_eq!(tx.get(&key("__proto__")), Some(&b"2"[..]));
}

#[test]
fn bytes_follow_every_change() {
  let store = Store::new(StoreConfig::default());
  let (a, b) = (key("a"), key("bb"));
  let mut tx = store.begin();
  tx.set(&a, b"12345", &PLAIN).unwrap();
  tx.set(&b, b"1", &PLAIN).unwrap();
  drop(tx);
  assert_eq!(store.bytes(), a.len() + 5 + b.len() + 1);
  store.begin().set(&a, b"1", &PLAIN).unwrap();
  assert_eq!(store.bytes(), a.len() + 1 + b.len() + 1);
  store.begin().remove(&b);
  assert_eq!(store.bytes(), a.len() + 1);
}

#[test]
fn lru_evicts_least_recently_used() {
  let store = lru(3);
  let mut tx = store.begin();
  for k in ["a", "b", "c"] {
    tx.set(&key(k), b"1", &PLAIN).unwrap();
  }
  // Reading "a" makes "b" the least recently used.
  assert!(tx.get(&key("a")).is_some());
  tx.set(&key("d"), b"1", &PLAIN).unwrap();
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
  tx.set(&key("a"), b"1", &PLAIN).unwrap();
  tx.set(&key("b"), b"1", &PLAIN).unwrap();
  tx.set(&key("b"), b"2", &PLAIN).unwrap();
  assert!(tx.get(&key("a")).is_some());
  assert_eq!(tx.get(&key("b")), Some(&b"2"[..]));
}

#[test]
fn idle_entries_expire_and_reads_slide_the_deadline() {
  let store = idle(1000);
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  store.begin_at(at(0)).set(&key("a"), b"1", &PLAIN).unwrap();
  store.begin_at(at(0)).set(&key("b"), b"1", &PLAIN).unwrap();
  // Reading "a" at 900 ms moves its deadline to 1900 ms.
  assert!(store.begin_at(at(900)).get(&key("a")).is_some());
  assert!(
    store.begin_at(at(1000)).get(&key("b")).is_none(),
    "b expired"
  );
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
    store
      .begin_at(at(i as u64 * 100))
      .set(&key(k), b"1", &PLAIN)
      .unwrap();
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
  store.begin_at(t0).set(&key("a"), b"1", &PLAIN).unwrap();
  assert!(!store
    .begin_at(t0 + Duration::from_millis(10))
    .remove(&key("a")));
  assert!(store.is_empty());
}

#[test]
fn incr_counts_from_zero_and_keeps_non_numbers() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  assert_eq!(tx.incr(&key("n"), 1.0, None), Ok(1.0));
  assert_eq!(tx.incr(&key("n"), 1.0, None), Ok(2.0));
  assert_eq!(tx.get(&key("n")), Some(&b"2"[..]));
  tx.set(&key("f"), b"1.5", &PLAIN).unwrap();
  assert_eq!(tx.incr(&key("f"), 1.0, None), Ok(2.5));
  tx.set(&key("s"), b"\"5\"", &PLAIN).unwrap();
  assert_eq!(tx.incr(&key("s"), 1.0, None), Err(StoreError::NotANumber));
  assert_eq!(tx.get(&key("s")), Some(&b"\"5\""[..]));
  tx.set(&key("big"), b"1.7976931348623157e308", &PLAIN)
    .unwrap();
  assert_eq!(
    tx.incr(&key("big"), f64::MAX, None),
    Err(StoreError::NotANumber)
  );
  // Past 2^53 - 1 a number is no longer an exact integer: refused, value kept (as on Redis).
  tx.set(&key("max"), b"9007199254740990", &PLAIN).unwrap();
  assert_eq!(tx.incr(&key("max"), 1.0, None), Ok(9007199254740991.0));
  assert_eq!(
    tx.incr(&key("max"), 1.0, None),
    Err(StoreError::UnsafeInteger)
  );
  assert_eq!(tx.get(&key("max")), Some(&b"9007199254740991"[..]));
}

#[test]
fn too_large_values_and_keys_are_refused_and_change_nothing() {
  let store = Store::new(StoreConfig {
    max_value_bytes: 4,
    ..StoreConfig::default()
  });
  let mut tx = store.begin();
  tx.set(&key("a"), b"1", &PLAIN).unwrap();
  assert_eq!(
    tx.set(&key("a"), b"12345", &PLAIN),
    Err(StoreError::ValueTooLarge { size: 5, limit: 4 })
  );
  let long = key(&"k".repeat(MAX_KEY_BYTES));
  assert!(matches!(
    tx.set(&long, b"1", &PLAIN),
    Err(StoreError::KeyTooLarge { .. })
  ));
  assert_eq!(
    tx.set_many(&[(&key("b"), b"1"), (&key("c"), b"123456")], None),
    Err(StoreError::ValueTooLarge { size: 6, limit: 4 })
  );
  assert_eq!(tx.get(&key("a")), Some(&b"1"[..]));
  assert_eq!(
    tx.get(&key("b")),
    None,
    "a refused multi-set stores nothing"
  );
}

#[test]
fn stats_count_operations() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  tx.set(&key("a"), b"1", &PLAIN).unwrap();
  tx.get(&key("a"));
  tx.get(&key("x"));
  tx.remove(&key("a"));
  drop(tx);
  let stats = store.stats();
  assert_eq!(
    (stats.sets, stats.hits, stats.misses, stats.deletes),
    (1, 1, 1, 1)
  );
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
          store.begin().incr(&key("n"), 1.0, None).unwrap();
        }
      })
    })
    .collect();
  for t in threads {
    t.join().unwrap();
  }
  assert_eq!(store.begin().get(&key("n")), Some(&b"4000"[..]));
}

fn ttl(ms: u64) -> SetOptions {
  SetOptions {
    ttl: Some(ms),
    ..PLAIN
  }
}

#[test]
fn ttl_keys_vanish_at_their_deadline_and_are_reclaimed() {
  let store = Store::new(StoreConfig::default());
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  store
    .begin_at(at(0))
    .set(&key("a"), b"1", &ttl(1000))
    .unwrap();
  store
    .begin_at(at(0))
    .set(&key("b"), b"1", &ttl(5000))
    .unwrap();
  store.begin_at(at(0)).set(&key("c"), b"1", &PLAIN).unwrap();
  assert_eq!(store.begin_at(at(400)).ttl(&key("a")), 600);
  assert_eq!(store.begin_at(at(400)).ttl(&key("c")), -1);
  assert_eq!(store.begin_at(at(400)).ttl(&key("nope")), -2);
  assert!(store.begin_at(at(999)).has(&key("a")));
  assert!(
    !store.begin_at(at(1000)).has(&key("a")),
    "invisible at once"
  );
  // Nobody reads "b" again: the sweep gives its memory back.
  assert_eq!(store.begin_at(at(5000)).expire_due(usize::MAX), 1);
  assert_eq!(store.len(), 1);
  assert_eq!(store.stats().expirations, 2);
  assert_eq!(store.state.lock().deadlines.len(), 0);
}

#[test]
fn a_ttl_too_long_for_an_i64_is_never_negative() {
  // Found by fuzzing (fuzz/corpus/store_ops/huge_ttl.txt): JavaScript allows {ttl: 1e300}.
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  tx.set(&key("a"), b"1", &ttl(u64::MAX)).unwrap();
  assert_eq!(tx.ttl(&key("a")), i64::MAX);
  assert!(tx.expire(&key("a"), u64::MAX / 2 + 1));
  assert_eq!(tx.ttl(&key("a")), i64::MAX);
}

#[test]
fn expire_persist_and_plain_set_manage_the_ttl() {
  let store = Store::new(StoreConfig::default());
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  let mut tx = store.begin_at(at(0));
  assert!(!tx.expire(&key("a"), 100), "missing key");
  tx.set(&key("a"), b"1", &PLAIN).unwrap();
  assert!(tx.expire(&key("a"), 100));
  assert_eq!(tx.ttl(&key("a")), 100);
  assert!(tx.persist(&key("a")));
  assert!(!tx.persist(&key("a")), "no TTL left to remove");
  assert!(tx.expire(&key("a"), 100));
  tx.set(
    &key("a"),
    b"2",
    &SetOptions {
      keep_ttl: true,
      ..PLAIN
    },
  )
  .unwrap();
  assert_eq!(tx.ttl(&key("a")), 100, "keepTtl");
  tx.set(&key("a"), b"3", &PLAIN).unwrap();
  assert_eq!(
    tx.ttl(&key("a")),
    -1,
    "a plain set clears the TTL, as in Redis"
  );
  tx.expire(&key("a"), 100);
  drop(tx);
  assert_eq!(
    store.state.lock().deadlines.len(),
    1,
    "one index entry per key, whatever the changes"
  );
  assert!(store.begin_at(at(100)).get(&key("a")).is_none());
  assert_eq!(store.state.lock().deadlines.len(), 0);
}

#[test]
fn nx_and_xx_store_only_when_they_should() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  let nx = SetOptions {
    condition: Condition::IfAbsent,
    ..PLAIN
  };
  let xx = SetOptions {
    condition: Condition::IfPresent,
    ..PLAIN
  };
  assert_eq!(tx.set(&key("a"), b"1", &xx), Ok(false));
  assert_eq!(tx.get(&key("a")), None);
  assert_eq!(tx.set(&key("a"), b"1", &nx), Ok(true));
  assert_eq!(tx.set(&key("a"), b"2", &nx), Ok(false));
  assert_eq!(tx.set(&key("a"), b"3", &xx), Ok(true));
  assert_eq!(tx.get(&key("a")), Some(&b"3"[..]));
}

#[test]
fn incr_keeps_the_ttl_and_sets_one_only_on_create() {
  let store = Store::new(StoreConfig::default());
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  assert_eq!(
    store.begin_at(at(0)).incr(&key("w"), 1.0, Some(1000)),
    Ok(1.0)
  );
  assert_eq!(
    store.begin_at(at(500)).incr(&key("w"), 1.0, Some(1000)),
    Ok(2.0)
  );
  assert_eq!(
    store.begin_at(at(500)).ttl(&key("w")),
    500,
    "the window does not slide"
  );
  assert_eq!(
    store.begin_at(at(1000)).incr(&key("w"), 1.0, Some(1000)),
    Ok(1.0),
    "a new window"
  );
}

#[test]
fn get_set_and_compare_and_set() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  assert_eq!(tx.get_set(&key("a"), b"1"), Ok(None));
  assert_eq!(
    tx.get_set(&key("a"), b"2").unwrap().as_deref(),
    Some(&b"1"[..])
  );
  assert_eq!(tx.compare_and_set(&key("b"), None, b"1"), Ok(true));
  assert_eq!(
    tx.compare_and_set(&key("b"), None, b"2"),
    Ok(false),
    "exists already"
  );
  assert_eq!(tx.compare_and_set(&key("b"), Some(b"9"), b"3"), Ok(false));
  assert_eq!(tx.compare_and_set(&key("b"), Some(b"1"), b"4"), Ok(true));
  assert_eq!(
    tx.compare_and_set(&key("c"), Some(b"1"), b"4"),
    Ok(false),
    "missing"
  );
  assert_eq!(tx.get(&key("b")), Some(&b"4"[..]));
}

#[test]
fn namespaces_are_apart_and_clear_alone() {
  let store = Store::new(StoreConfig::default());
  let (a, b) = (key("a"), key("b"));
  let mut tx = store.begin();
  tx.set(&qualify(&a, &key("k")), b"1", &PLAIN).unwrap();
  tx.set(&qualify(&b, &key("k")), b"2", &PLAIN).unwrap();
  tx.set(&key("k"), b"3", &PLAIN).unwrap();
  tx.set(&key("other"), b"4", &PLAIN).unwrap();
  assert_eq!(tx.get(&qualify(&a, &key("k"))), Some(&b"1"[..]));
  assert_eq!(tx.size(&a), 1);
  assert_eq!(tx.size(b""), 2);
  let mut keys = tx.keys(b"", None);
  keys.sort();
  assert_eq!(
    keys,
    vec![key("k").into_boxed_slice(), key("other").into_boxed_slice()]
  );
  assert_eq!(tx.clear(&a), 1);
  assert_eq!(tx.get(&qualify(&a, &key("k"))), None);
  assert_eq!(tx.get(&qualify(&b, &key("k"))), Some(&b"2"[..]));
  assert_eq!(tx.get(&key("k")), Some(&b"3"[..]));
  let (total, by_ns) = tx.stats();
  assert_eq!(total.entries, 3);
  let of = |ns: &[u8]| by_ns.iter().find(|(name, _)| &**name == ns).unwrap().1;
  assert_eq!(
    (of(&a).entries, of(&a).deletes, of(&a).hits, of(&a).misses),
    (0, 1, 1, 1)
  );
  assert_eq!((of(&b).entries, of(&b).sets), (1, 1));
  assert_eq!(of(b"").entries, 2);
}

#[test]
fn keys_match_globs_and_skip_expired_entries() {
  let store = Store::new(StoreConfig::default());
  let t0 = Instant::now();
  let mut tx = store.begin_at(t0);
  for k in ["user:1", "user:2", "job:1"] {
    tx.set(&key(k), b"1", &PLAIN).unwrap();
  }
  tx.set(&key("user:3"), b"1", &ttl(10)).unwrap();
  drop(tx);
  let mut tx = store.begin_at(t0 + Duration::from_millis(10));
  let mut keys = tx.keys(b"", Some(&Glob::new("user:*")));
  keys.sort();
  assert_eq!(
    keys,
    vec![
      key("user:1").into_boxed_slice(),
      key("user:2").into_boxed_slice()
    ]
  );
  assert_eq!(tx.size(b""), 3);
}

#[test]
fn max_bytes_evicts_across_namespaces() {
  let store = Store::new(StoreConfig {
    max_bytes: Some(100),
    ..StoreConfig::default()
  });
  let mut tx = store.begin();
  let ns = key("n");
  tx.set(&qualify(&ns, &key("a")), &[b'1'; 40], &PLAIN)
    .unwrap();
  tx.set(&key("b"), &[b'1'; 40], &PLAIN).unwrap();
  tx.set(&key("c"), &[b'1'; 40], &PLAIN).unwrap();
  assert_eq!(
    tx.get(&qualify(&ns, &key("a"))),
    None,
    "the oldest entry, in another namespace, went"
  );
  assert!(tx.get(&key("b")).is_some() && tx.get(&key("c")).is_some());
  assert!(matches!(
    tx.set(&key("d"), &[b'1'; 100], &PLAIN),
    Err(StoreError::ValueTooLarge { .. })
  ));
  drop(tx);
  assert!(store.bytes() <= 100);
  assert_eq!(store.stats().evictions, 1);
}

/// Reads a key as a reader without the lock would: a look-up, and a use recorded for later.
fn read_later(store: &Store, at: Instant, k: &str) -> Option<Vec<u8>> {
  let tx = store.begin_at(at);
  let slot = tx.find(&key(k))?;
  let value = tx.peek(&key(k)).map(<[u8]>::to_vec);
  drop(tx);
  let at = store.anchor.ms_at(at);
  assert!(store.record_use(Use { slot, at }));
  value
}

#[test]
fn a_use_recorded_for_later_keeps_lru_order_idle_time_and_hits() {
  let store = Store::new(StoreConfig {
    max_entries: Some(2),
    idle_expiry: Some(Duration::from_millis(1000)),
    ..StoreConfig::default()
  });
  let t0 = Instant::now();
  let at = |ms| t0 + Duration::from_millis(ms);
  store.begin_at(at(0)).set(&key("a"), b"1", &PLAIN).unwrap();
  store.begin_at(at(0)).set(&key("b"), b"2", &PLAIN).unwrap();
  assert_eq!(read_later(&store, at(900), "a"), Some(b"1".to_vec()));
  assert_eq!(store.stats().hits, 0, "not applied yet");
  // The next transaction applies the use first: "b" is now the oldest.
  store
    .begin_at(at(950))
    .set(&key("c"), b"3", &PLAIN)
    .unwrap();
  let tx = store.begin_at(at(1899));
  assert!(tx.peek(&key("b")).is_none(), "b was evicted, not a");
  assert!(
    tx.peek(&key("a")).is_some(),
    "a's idle timer restarted at 900 ms"
  );
  drop(tx);
  assert_eq!((store.stats().hits, store.stats().evictions), (1, 1));
}

#[test]
fn the_use_log_is_bounded_and_counts_what_it_drops() {
  let store = Store::new(StoreConfig::default());
  store.begin().set(&key("a"), b"1", &PLAIN).unwrap();
  let slot = store.begin().find(&key("a")).unwrap();
  let at = clock::now_ms();
  for _ in 0..uses::CAPACITY {
    assert!(store.record_use(Use { slot, at }));
  }
  assert!(!store.record_use(Use { slot, at }));
  assert_eq!(store.dropped_uses(), 1);
  drop(store.begin());
  assert_eq!(store.stats().hits, uses::CAPACITY as u64);
  assert!(
    store.record_use(Use { slot, at }),
    "room again once applied"
  );
}

/// The same random work on two stores, one reading directly and one
/// reading as a lock-free reader would: every answer, the LRU order and the
/// counters agree.
#[test]
fn reads_applied_later_behave_as_reads_applied_at_once() {
  let config = || StoreConfig {
    max_entries: Some(8),
    idle_expiry: Some(Duration::from_millis(50)),
    ..StoreConfig::default()
  };
  let (direct, later) = (Store::new(config()), Store::new(config()));
  let t0 = Instant::now();
  let mut rng = crate::TestRng(0x9E37_79B9_7F4A_7C15);
  let mut next = move |n: u64| rng.below(n);
  let mut ms = 0;
  for _ in 0..20_000 {
    ms += next(4);
    let at = t0 + Duration::from_millis(ms);
    let k = format!("k{}", next(12));
    if next(3) == 0 {
      let value = ms.to_string();
      direct
        .begin_at(at)
        .set(&key(&k), value.as_bytes(), &PLAIN)
        .unwrap();
      later
        .begin_at(at)
        .set(&key(&k), value.as_bytes(), &PLAIN)
        .unwrap();
    } else {
      let got = direct.begin_at(at).get(&key(&k)).map(<[u8]>::to_vec);
      let mut tx = later.begin_at(at);
      if tx.find(&key(&k)).is_none() {
        assert_eq!(tx.get(&key(&k)), None, "a miss counts as one"); // and removes an expired entry
        drop(tx);
        assert_eq!(got, None);
      } else {
        drop(tx);
        assert_eq!(read_later(&later, at, &k), got);
      }
    }
  }
  drop(later.begin_at(t0 + Duration::from_millis(ms)));
  let order = |store: &Store| {
    store
      .begin()
      .state
      .table
      .keys()
      .map(<[u8]>::to_vec)
      .collect::<Vec<_>>()
  };
  assert_eq!(order(&direct), order(&later));
  assert_eq!(direct.stats(), later.stats());
}

#[test]
fn a_namespace_bound_evicts_only_that_namespace() {
  // The scenario of issue 12: a store-wide max of 100 used to let 100 cache
  // writes evict a login; the cache's own bound keeps it to itself.
  let store = lru(1000);
  let mut tx = store.begin();
  let (sessions, cache) = (key("sessions"), key("cache"));
  tx.set(
    &qualify(&sessions, &key("sid-1")),
    br#"{"user":"ada"}"#,
    &PLAIN,
  )
  .unwrap();
  assert_eq!(
    tx.bound(
      &cache,
      Bounds {
        max_entries: Some(100),
        max_bytes: None
      }
    ),
    0
  );
  for i in 0..250 {
    tx.set(&qualify(&cache, &key(&format!("c{i}"))), b"1", &PLAIN)
      .unwrap();
  }
  assert_eq!(tx.size(&cache), 100, "the cache holds its bound");
  assert!(
    tx.get(&qualify(&cache, &key("c149"))).is_none()
      && tx.get(&qualify(&cache, &key("c150"))).is_some(),
    "its own least recently used went first"
  );
  assert_eq!(
    tx.get(&qualify(&sessions, &key("sid-1"))),
    Some(&br#"{"user":"ada"}"#[..]),
    "the oldest entry of the store, in another namespace, stayed"
  );
  let (_, namespaces) = tx.stats();
  let of = |ns: &[u8]| namespaces.iter().find(|(name, _)| &**name == ns).unwrap().1;
  assert_eq!((of(&cache).evictions, of(&sessions).evictions), (150, 0));
  assert_eq!(tx.bounds_of(&cache).unwrap().max_entries, Some(100));
  assert_eq!(tx.bounds_of(&sessions), None);
}

#[test]
fn a_namespace_byte_bound_evicts_now_refuses_what_never_fits_and_can_be_lifted() {
  let store = Store::new(StoreConfig::default());
  let mut tx = store.begin();
  let (ns, other) = (key("n"), key("o"));
  for i in 0..10 {
    tx.set(&qualify(&ns, &key(&format!("k{i}"))), &[b'1'; 20], &PLAIN)
      .unwrap();
  }
  tx.set(&qualify(&other, &key("keep")), &[b'1'; 200], &PLAIN)
    .unwrap();
  // Each entry takes 3 + 5 key bytes and 20 value bytes: 28; 100 holds 3.
  let bounds = Bounds {
    max_entries: None,
    max_bytes: Some(100),
  };
  assert_eq!(tx.bound(&ns, bounds), 7, "bounding evicts at once");
  assert_eq!(tx.size(&ns), 3);
  assert!(tx
    .stats()
    .1
    .iter()
    .all(|(name, stats)| **name != *ns || stats.bytes <= 100));
  assert!(matches!(
    tx.set(&qualify(&ns, &key("big")), &[b'1'; 100], &PLAIN),
    Err(StoreError::ValueTooLarge { .. })
  ));
  assert_eq!(tx.size(&ns), 3, "a refused value changed nothing");
  assert!(tx.has(&qualify(&other, &key("keep"))));
  // Lifted: the namespace grows again.
  tx.bound(&ns, Bounds::default());
  assert_eq!(tx.bounds_of(&ns), None);
  for i in 10..20 {
    tx.set(&qualify(&ns, &key(&format!("k{i}"))), &[b'1'; 20], &PLAIN)
      .unwrap();
  }
  assert_eq!(tx.size(&ns), 13);
}

#[test]
fn store_wide_bounds_still_hold_beside_namespace_bounds() {
  let store = lru(5);
  let mut tx = store.begin();
  let ns = key("n");
  tx.bound(
    &ns,
    Bounds {
      max_entries: Some(10),
      max_bytes: None,
    },
  );
  for i in 0..8 {
    tx.set(&qualify(&ns, &key(&format!("k{i}"))), b"1", &PLAIN)
      .unwrap();
  }
  drop(tx);
  assert_eq!(store.len(), 5);
}
