//! Loom models of the segment's protocol: the writer's and the reader's own
//! code (src/shm/words.rs swaps in loom's atomics), run under every
//! interleaving loom explores (up to 2 preemptions per run, so the models
//! run in seconds). `RUSTFLAGS="--cfg loom" cargo test --release loom`.
//!
//! - an overwrite, then another that reuses the first record at once: a
//!   reader sees one whole value, never a mix;
//! - a removal, and the freed record reused by another key: a reader of the
//!   removed key sees it whole or not at all;
//! - the negative control: the same overwrite, read without the sequence
//!   re-check, is caught mixing values.

use std::sync::Arc;

use loom::thread;

use super::layout::NEVER;
use super::reader::Reader;
use super::words::{zeroed, AtomicU64};
use super::writer::{Identity, Shape, Writer};
use super::ShmError;

type Heap = Arc<Box<[AtomicU64]>>;

/// 15 bytes of one letter: with the key, a record of two words of bytes.
fn value(letter: u8) -> Vec<u8> {
  vec![letter; 15]
}

fn segment() -> (Writer<Heap>, Reader<Heap>) {
  let shape = Shape {
    capacity: 8,
    arena_words: 32,
  };
  let region = Arc::new(zeroed(shape.words()));
  let writer = Writer::create(region.clone(), shape, Identity::default());
  (writer, Reader::open(region).unwrap())
}

fn model(f: impl Fn() + Sync + Send + 'static) {
  let mut builder = loom::model::Builder::new();
  builder.preemption_bound = Some(2);
  builder.check(f);
}

/// What a reader may see of "a": nothing (or a wait cut short), or one whole value.
fn whole(read: Result<Option<Vec<u8>>, ShmError>, letters: &[u8]) {
  match read {
    Ok(None) | Err(ShmError::Busy) => {}
    Ok(Some(seen)) => assert!(
      letters.iter().any(|&l| seen == value(l)),
      "a torn value: {:?}",
      String::from_utf8_lossy(&seen)
    ),
    Err(err) => panic!("{err}"),
  }
}

fn overwrites(recheck: bool) {
  model(move || {
    let (mut w, r) = segment();
    w.set(b"a", &value(b'A'), NEVER).unwrap();
    let reader = thread::spawn(move || {
      let mut out = Vec::new();
      let read = r
        .lookup(b"a", 0, &mut out, recheck)
        .map(|found| found.map(|_| out));
      whole(read, b"ABC");
    });
    w.set(b"a", &value(b'B'), NEVER).unwrap(); // a new record; A's is freed
    w.set(b"a", &value(b'C'), NEVER).unwrap(); // A's record, reused at once
    reader.join().unwrap();
  });
}

#[test]
fn loom_overwrites_with_immediate_record_reuse_are_never_read_torn() {
  overwrites(true);
}

#[test]
#[should_panic(expected = "a torn value")]
fn loom_negative_control_without_the_recheck_a_torn_value_is_found() {
  overwrites(false);
}

#[test]
fn loom_a_removed_key_whose_record_another_key_reuses_is_read_whole_or_not_at_all() {
  model(|| {
    let (mut w, r) = segment();
    w.set(b"a", &value(b'A'), NEVER).unwrap();
    let reader = thread::spawn(move || {
      let mut out = Vec::new();
      let read = r.get(b"a", 0, &mut out).map(|found| found.map(|_| out));
      whole(read, b"A");
    });
    assert!(w.remove(b"a"));
    w.set(b"b", &value(b'B'), NEVER).unwrap(); // "a"'s record, reused
    reader.join().unwrap();
  });
}

#[test]
fn loom_a_held_version_is_answered_unchanged_only_while_it_is_current() {
  model(|| {
    let (mut w, r) = segment();
    w.set(b"a", &value(b'A'), NEVER).unwrap();
    let mut out = Vec::new();
    let held = r
      .get_since(b"a", 0, &mut out, None)
      .unwrap()
      .unwrap()
      .version;
    let reader = thread::spawn(move || {
      let mut out = Vec::new();
      match r.get_since(b"a", 0, &mut out, Some(held)) {
        Ok(Some(since)) if since.unchanged => assert!(out.is_empty(), "nothing copied"),
        // Changed under it: one whole later value, never A's record reused.
        read => whole(read.map(|since| since.map(|_| out)), b"BC"),
      }
      r
    });
    w.set(b"a", &value(b'B'), NEVER).unwrap(); // a new record; A's is freed
    w.set(b"a", &value(b'C'), NEVER).unwrap(); // A's record, reused at once
    let r = reader.join().unwrap();
    let since = r.get_since(b"a", 0, &mut out, Some(held)).unwrap().unwrap();
    assert!(
      !since.unchanged,
      "a version held from before the writes is not current"
    );
    assert_eq!(out, value(b'C'));
  });
}
