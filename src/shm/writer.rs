//! The one writer of a segment (the host's store thread). It publishes
//! each change under the slot's sequence lock; its allocator's bookkeeping
//! (free lists, the bump pointer) lives in its own heap, since readers
//! never need it.

use super::layout::*;
use super::words::{fence, load_bytes, same_bytes, store_pair, AtomicU64, Ordering, Region};

/// The segment cannot take the entry: out of slots (past 7/8 of them,
/// tombstones included) or out of arena. Nothing was changed; the storage
/// that publishes (see [`super::mirror`]) then moves to a larger generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// How a segment is sized.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
  /// Slots (at least 8; any number).
  pub capacity: usize,
  pub arena_words: usize,
}

/// Slots of a store's first generation (and the fewest of any).
pub const MIN_SLOTS: usize = 1 << 12;
/// Arena words of a store's first generation (1 MiB), and the fewest of any.
pub const MIN_ARENA_WORDS: usize = 1 << 17;
/// The most slots a generation may have (2^28: 4 GiB of slot table).
pub const MAX_SLOTS: usize = 1 << 28;
/// The most arena words a generation may have (2^32: 32 GiB, what a
/// slot's record offset can name).
pub const MAX_ARENA_WORDS: usize = MAX_RECORD;

impl Shape {
  /// The first generation of a store: small. The segment grows with the
  /// store by generations (see [`Shape::grown`]), so nobody guesses a size.
  pub fn first() -> Shape {
    Shape {
      capacity: MIN_SLOTS,
      arena_words: MIN_ARENA_WORDS,
    }
  }

  /// The next generation for `live` entries whose records take
  /// `record_words` words (size classes included): slots for 8/5 of them
  /// (5/8 full, so it takes 2/5 as many again before it is 7/8 full and
  /// grows: the slot table, whose every page is touched, stays within 8/5
  /// to 8/7 slots per entry), and twice their arena (whose pages are only
  /// touched as records are written). None past [`MAX_SLOTS`] or
  /// [`MAX_ARENA_WORDS`].
  pub fn grown(live: usize, record_words: usize) -> Option<Shape> {
    let capacity = live
      .checked_add(1)?
      .checked_mul(8)?
      .div_ceil(5)
      .max(MIN_SLOTS);
    let arena_words = record_words.checked_mul(2)?.max(MIN_ARENA_WORDS);
    (capacity <= MAX_SLOTS && arena_words <= MAX_ARENA_WORDS).then_some(Shape {
      capacity,
      arena_words,
    })
  }

  /// Slots (at least 8; any number, not only powers of two).
  pub fn capacity(&self) -> usize {
    self.capacity.max(8)
  }

  /// Words of the whole segment.
  pub fn words(&self) -> usize {
    segment_words(self.capacity(), self.arena_words)
  }
}

/// Who writes, for readers to tell a live writer from a dead one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity {
  pub generation: u64,
  pub pid: u64,
  pub start_ms: u64,
}

pub struct Writer<R: Region> {
  region: R,
  capacity: usize,
  arena_words: usize,
  /// Slots holding an entry or a tombstone: bounded to 7/8 of `capacity`.
  used: usize,
  live: u64,
  arena: Arena,
}

impl<R: Region> Writer<R> {
  /// Lays out a new, empty segment in `region` (zeroed, at least
  /// `shape.words()` words) and publishes its header.
  pub fn create(region: R, shape: Shape, who: Identity) -> Self {
    let capacity = shape.capacity();
    let words = region.words();
    assert!(
      words.len() >= shape.words(),
      "the region is smaller than the shape"
    );
    for (field, value) in [
      (H_VERSION, VERSION),
      (H_GENERATION, who.generation),
      (H_SUPERSEDED, 0),
      (H_CAPACITY, capacity as u64),
      (H_ARENA_WORDS, shape.arena_words as u64),
      (H_WRITER_PID, who.pid),
      (H_WRITER_START, who.start_ms),
      (H_HEARTBEAT, who.start_ms),
      (H_LIVE, 0),
    ] {
      words[field].store(value, Ordering::Relaxed);
    }
    words[H_MAGIC].store(MAGIC, Ordering::Release);
    Writer {
      region,
      capacity,
      arena_words: shape.arena_words,
      used: 0,
      live: 0,
      arena: Arena::default(),
    }
  }

  pub fn region(&self) -> &R {
    &self.region
  }

  /// Says whether records' deadlines include an idle deadline (see [`H_SLIDING`]).
  pub fn mark_sliding(&self, sliding: bool) {
    self.words()[H_SLIDING].store(u64::from(sliding), Ordering::Release);
  }

  /// Which generation of its writer's segments this is.
  pub fn generation(&self) -> u64 {
    self.words()[H_GENERATION].load(Ordering::Relaxed)
  }

  /// Slots of the segment.
  pub fn capacity(&self) -> usize {
    self.capacity
  }

  /// Bytes of the whole segment (what its memory file holds).
  pub fn bytes(&self) -> usize {
    segment_words(self.capacity, self.arena_words) * 8
  }

  /// Publishes `value` under `key`, expiring at store millisecond `expires`
  /// ([`NEVER`]: no TTL).
  pub fn set(&mut self, key: &[u8], value: &[u8], expires: u64) -> Result<(), Full> {
    if key.len() > MAX_KEY_BYTES {
      return Err(Full);
    }
    // A large value stays with the host: readers find the key and ask it.
    let (value, value_len) = if value.len() > MAX_PUBLISHED_VALUE {
      (&[][..], ELSEWHERE)
    } else {
      (value, value.len())
    };
    let hash = slot_hash(key);
    let found = self.probe(key, hash).ok_or(Full)?;
    self.place(found, hash, key, value, value_len, expires)
  }

  /// Writes a new record of `key` then `value` (the value's length is
  /// `value_len`, or [`ELSEWHERE`] with no bytes) and points the slot
  /// `found` at it, freeing the record it replaces.
  fn place(
    &mut self,
    found: Probe,
    hash: u64,
    key: &[u8],
    value: &[u8],
    value_len: usize,
    expires: u64,
  ) -> Result<(), Full> {
    let new_slot = matches!(found, Probe::Free { empty: true, .. });
    if new_slot && (self.used + 1) * 8 > self.capacity * 7 {
      return Err(Full);
    }
    let deadline = expires != NEVER;
    let size = record_words(key.len() + value.len(), deadline);
    let record = self.arena.alloc(size, self.arena_words).ok_or(Full)?;
    let Some(entry) = pack_entry(record, key.len(), value_len) else {
      self.arena.free((record, size_class(size)));
      return Err(Full);
    };
    let words = self.region.words();
    let mut at = arena_at(self.capacity) + record;
    if deadline {
      words[at].store(expires, Ordering::Relaxed);
      at += RECORD_HEAD_WORDS;
    }
    store_pair(words, at, key, value);
    let tag = tag_of(hash);
    match found {
      Probe::Found(slot) => {
        let old = self.record_of(slot);
        self.publish(slot, tag, deadline, entry);
        self.arena.free(old);
      }
      Probe::Free { slot, empty } => {
        self.publish(slot, tag, deadline, entry);
        self.used += usize::from(empty);
        self.live += 1;
        self.words()[H_LIVE].store(self.live, Ordering::Relaxed);
      }
    }
    Ok(())
  }

  /// Removes `key`; answers whether it was there.
  pub fn remove(&mut self, key: &[u8]) -> bool {
    let Some(Probe::Found(slot)) = self.probe(key, slot_hash(key)) else {
      return false;
    };
    let old = self.record_of(slot);
    self.publish(slot, TOMBSTONE, false, 0);
    self.arena.free(old);
    self.live -= 1;
    self.words()[H_LIVE].store(self.live, Ordering::Relaxed);
    true
  }

  /// Changes the TTL deadline of `key`; answers whether it is there. An
  /// entry whose record has no deadline word gets a new record with one
  /// (which may not fit: [`Full`]).
  pub fn set_expires(&mut self, key: &[u8], expires: u64) -> Result<bool, Full> {
    let hash = slot_hash(key);
    let Some(Probe::Found(slot)) = self.probe(key, hash) else {
      return Ok(false);
    };
    let state = self.state(slot);
    if has_deadline(state) {
      let (record, _) = self.record_of(slot);
      self.lock(slot);
      self.words()[arena_at(self.capacity) + record].store(expires, Ordering::Relaxed);
      self.unlock(slot, state, tag_in(state), true);
      return Ok(true);
    }
    if expires == NEVER {
      return Ok(true);
    }
    let (_, key_len, value_len) = self.entry_of(slot);
    let mut bytes = Vec::new();
    let at = arena_at(self.capacity) + self.record_of(slot).0;
    load_bytes(
      self.words(),
      at,
      key_len + stored_len(value_len),
      &mut bytes,
    )
    .ok_or(Full)?;
    let (key, value) = bytes.split_at(key_len);
    self.place(Probe::Found(slot), hash, key, value, value_len, expires)?;
    Ok(true)
  }

  /// The key at `slot`, if the slot holds an entry whose hash is `hash`.
  pub fn key_at(&self, slot: u32, hash: u64) -> Option<Vec<u8>> {
    let slot = slot as usize;
    if slot >= self.capacity || tag_in(self.state(slot)) != tag_of(hash) {
      return None;
    }
    self.stored_key(slot).filter(|key| slot_hash(key) == hash)
  }

  /// Entries published.
  pub fn len(&self) -> usize {
    self.live as usize
  }

  pub fn is_empty(&self) -> bool {
    self.live == 0
  }

  /// Tells readers to stop using this segment: generation `by` replaces it
  /// ([`CLOSED`]: nothing does). Nothing is published here afterwards.
  pub fn supersede(&self, by: u64) {
    self.words()[H_SUPERSEDED].store(by, Ordering::Release);
  }

  fn words(&self) -> &[AtomicU64] {
    self.region.words()
  }

  /// A slot's state word (see [`S_SEQ`]). Only this writer changes slots:
  /// its own relaxed loads see its own stores.
  fn state(&self, slot: usize) -> u64 {
    self.words()[slot_at(slot) + S_SEQ].load(Ordering::Relaxed)
  }

  /// A slot's record offset, key length and value length.
  fn entry_of(&self, slot: usize) -> (usize, usize, usize) {
    unpack_entry(self.words()[slot_at(slot) + S_ENTRY].load(Ordering::Relaxed))
  }

  /// Where `key` is, or the first free slot on its probe sequence (a
  /// tombstone before an empty one). None when every slot is taken.
  fn probe(&self, key: &[u8], hash: u64) -> Option<Probe> {
    let tag = tag_of(hash);
    let mut slot = home(hash, self.capacity);
    let mut tombstone = None;
    for _ in 0..self.capacity {
      match tag_in(self.state(slot)) {
        EMPTY => {
          return Some(match tombstone {
            Some(slot) => Probe::Free { slot, empty: false },
            None => Probe::Free { slot, empty: true },
          })
        }
        TOMBSTONE => {
          tombstone.get_or_insert(slot);
        }
        t if t == tag && self.key_is(slot, key) => return Some(Probe::Found(slot)),
        _ => {}
      }
      slot += 1;
      if slot == self.capacity {
        slot = 0;
      }
    }
    tombstone.map(|slot| Probe::Free { slot, empty: false })
  }

  /// Whether an occupied slot holds `key` (compared in place: no copy).
  fn key_is(&self, slot: usize, key: &[u8]) -> bool {
    let (record, key_len, _) = self.entry_of(slot);
    key_len == key.len() && same_bytes(self.words(), self.key_at_word(slot, record), key)
  }

  /// The key of an occupied slot, read from its record.
  fn stored_key(&self, slot: usize) -> Option<Vec<u8>> {
    let (record, key_len, _) = self.entry_of(slot);
    let mut key = Vec::new();
    load_bytes(
      self.words(),
      self.key_at_word(slot, record),
      key_len,
      &mut key,
    )?;
    Some(key)
  }

  /// The word where the key of the occupied slot `slot`, whose record is
  /// at `record`, starts: after its deadline word, if it has one.
  fn key_at_word(&self, slot: usize, record: usize) -> usize {
    let head = usize::from(has_deadline(self.state(slot))) * RECORD_HEAD_WORDS;
    arena_at(self.capacity) + record + head
  }

  /// The record of an occupied slot: its offset and size class. (The
  /// offset is of its first word: its deadline, when it has one.)
  fn record_of(&self, slot: usize) -> (usize, usize) {
    let (record, key_len, value_len) = self.entry_of(slot);
    let deadline = has_deadline(self.state(slot));
    let size = record_words(key_len + stored_len(value_len), deadline);
    (record, size_class(size))
  }

  /// Writes a slot's fields under its sequence lock.
  fn publish(&self, slot: usize, tag: u64, deadline: bool, entry: u64) {
    let state = self.lock(slot);
    self.words()[slot_at(slot) + S_ENTRY].store(entry, Ordering::Relaxed);
    self.unlock(slot, state, tag, deadline);
  }

  /// Makes the slot's sequence odd (its tag stays). The release fence
  /// orders everything written after it (this slot's fields, and any later
  /// reuse of the record it pointed to) after the odd value, for any
  /// reader. Answers the state word before.
  fn lock(&self, slot: usize) -> u64 {
    let seq = &self.words()[slot_at(slot) + S_SEQ];
    let even = seq.load(Ordering::Relaxed);
    seq.store(even + 1, Ordering::Relaxed); // even & SEQ_MASK < SEQ_MASK: no carry into the flags
    fence(Ordering::Release);
    even
  }

  /// Ends the change: the sequence even again (two past `before`), with
  /// the slot's new tag and deadline flag.
  fn unlock(&self, slot: usize, before: u64, tag: u64, deadline: bool) {
    let next = state_word((before & SEQ_MASK) + 2, tag, deadline);
    self.words()[slot_at(slot) + S_SEQ].store(next, Ordering::Release);
  }
}

/// Records the writer's sign of life in a segment it writes, at store
/// millisecond `now`, from outside the writer (which lives under the
/// store's lock): the heartbeat is a word of its own.
pub fn heartbeat(region: &impl Region, now: u64) {
  region.words()[H_HEARTBEAT].store(now, Ordering::Release);
}

enum Probe {
  Found(usize),
  Free { slot: usize, empty: bool },
}

/// Words the record of an entry with this key and value takes in a
/// segment, size class included (a value too large to publish takes none),
/// with a deadline word when it has a TTL (`deadline`).
pub fn record_size(key_len: usize, value_len: usize, deadline: bool) -> usize {
  let value_len = if value_len > MAX_PUBLISHED_VALUE {
    0
  } else {
    value_len
  };
  size_class(record_words(key_len + value_len, deadline))
}

/// A record's size class in words: exact up to 32 words (256 bytes), then
/// steps of an eighth of the power of two below (at most 12.5 % waste).
pub fn size_class(words: usize) -> usize {
  if words <= 32 {
    return words;
  }
  let step = 1usize << (usize::BITS - 1 - words.leading_zeros() - 3);
  words.div_ceil(step) * step
}

/// The place of size class `class` (a value [`size_class`] answers) in a
/// list of them all: classes up to 32 words are their own index, then
/// each power of two has 8 (classes 8/8 to 15/8 of it), so an arena of
/// 2^32 words has fewer than 256.
pub(super) fn class_index(class: usize) -> usize {
  if class <= 32 {
    return class;
  }
  let power = (usize::BITS - 1 - class.leading_zeros()) as usize; // 5 or more
  32 + (power - 5) * 8 + (class >> (power - 3)) - 8
}

/// Records of the arena by size class: freed ones are reused at once (the
/// sequence lock makes that safe), new ones are cut from the end.
#[derive(Default)]
struct Arena {
  bump: usize,
  /// Freed records, by [`class_index`] of their size class.
  free: Vec<Vec<usize>>,
}

impl Arena {
  fn alloc(&mut self, words: usize, limit: usize) -> Option<usize> {
    let class = size_class(words);
    if let Some(record) = self.free.get_mut(class_index(class)).and_then(Vec::pop) {
      return Some(record);
    }
    let end = self.bump.checked_add(class)?;
    if end > limit {
      return None;
    }
    let record = self.bump;
    self.bump = end;
    Some(record)
  }

  fn free(&mut self, (record, class): (usize, usize)) {
    let index = class_index(class);
    if self.free.len() <= index {
      self.free.resize_with(index + 1, Vec::new);
    }
    self.free[index].push(record);
  }
}
