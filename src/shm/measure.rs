//! A measurement, not a check: what a write costs the host, with and
//! without a shared segment to publish to. Run it with
//! `cargo test --release --lib measure_writes -- --ignored --nocapture`.
//!
//! Each write is a transaction of its own (as a batch of one request is),
//! on small entries (keys `"k:000123"`, 19-byte values), over a warm store
//! of 1,000 keys: an increment of one key (benchmark workload C), an
//! overwrite, an overwrite with a TTL, and a new key set then removed.
//! Every case runs `ROUNDS` times, interleaved, and prints its median and
//! its fastest round (the least disturbed by whatever else the machine
//! runs). `MEASURE_WRITES=incr/on` (a case, then `on` or `off`) runs that
//! one case once instead: for counting its instructions under
//! `valgrind --tool=callgrind --toggle-collect='*measure*time*'`, which
//! no other process on the machine disturbs.

use std::time::Instant;

use crate::store::{SetOptions, Storage, Store, StoreConfig, Table};

use super::mirror::Mirrored;
use super::writer::Shape;
use super::Published;

const KEYS: usize = 1_000;
const OPS: usize = 100_000;
const ROUNDS: usize = 9;
const VALUE: &[u8] = b"\"value-of-seventeen\"";

fn key(i: usize) -> Vec<u8> {
  format!("\"k:{i:06}\"").into_bytes()
}

fn warm<S: Storage>(store: &Store<S>) {
  let mut tx = store.begin();
  for i in 0..KEYS {
    tx.set(&key(i), VALUE, &SetOptions::default()).unwrap();
  }
}

/// Nanoseconds per operation of `case` on `store`.
fn time<S: Storage>(store: &Store<S>, case: &str, keys: &[Vec<u8>]) -> f64 {
  let ttl = SetOptions {
    ttl: Some(3_600_000),
    ..Default::default()
  };
  let plain = SetOptions::default();
  let fresh: Vec<Vec<u8>> = (0..KEYS).map(|i| key(KEYS + i)).collect();
  let started = Instant::now();
  for n in 0..OPS {
    let k = &keys[n % KEYS];
    let mut tx = store.begin();
    match case {
      "incr" => {
        tx.incr(b"\"counter\"", 1.0, None).unwrap();
      }
      "set" => {
        tx.set(k, VALUE, &plain).unwrap();
      }
      "set ttl" => {
        tx.set(k, VALUE, &ttl).unwrap();
      }
      "set+del" => {
        let k = &fresh[n % KEYS];
        tx.set(k, VALUE, &plain).unwrap();
        drop(tx);
        store.begin().remove(k);
      }
      _ => unreachable!(),
    }
  }
  started.elapsed().as_nanos() as f64 / OPS as f64
}

#[test]
#[ignore]
fn measure_writes() {
  let shared = {
    let (_published, writer, generations) = Published::create(Shape::first()).unwrap();
    let storage = Mirrored::new(Table::default(), Some(writer), Some(generations), None);
    // The descriptors of `_published` close here; the writer keeps its mapping.
    Store::with_storage(StoreConfig::default(), storage)
  };
  let heap = Store::with_storage(
    StoreConfig::default(),
    Mirrored::<Table, std::sync::Arc<super::memfd::Mapping>>::new(
      Table::default(),
      None,
      None,
      None,
    ),
  );
  warm(&shared);
  warm(&heap);
  let keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();
  let cases = ["incr", "set", "set ttl", "set+del"];
  if let Ok(one) = std::env::var("MEASURE_WRITES") {
    let (case, on) = one
      .split_once('/')
      .expect("MEASURE_WRITES=case/on or case/off");
    let ns = if on == "on" {
      time(&shared, case, &keys)
    } else {
      time(&heap, case, &keys)
    };
    println!("measure_writes {case:8} shared reads {on} {ns:7.1} ns/op");
    return;
  }
  let mut seen = vec![Vec::new(); cases.len() * 2];
  for _ in 0..ROUNDS {
    for (c, case) in cases.iter().enumerate() {
      seen[2 * c].push(time(&shared, case, &keys));
      seen[2 * c + 1].push(time(&heap, case, &keys));
    }
  }
  for (c, case) in cases.iter().enumerate() {
    let sorted = |i: usize| {
      let mut v = seen[i].clone();
      v.sort_by(f64::total_cmp);
      (v[v.len() / 2], v[0])
    };
    let (on, on_min) = sorted(2 * c);
    let (off, off_min) = sorted(2 * c + 1);
    println!(
      "measure_writes {case:8} ns/op, median (fastest): shared reads on {on:6.1} ({on_min:6.1}), off {off:6.1} ({off_min:6.1})"
    );
  }
}
