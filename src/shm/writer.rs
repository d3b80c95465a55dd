//! The one writer of a segment (the host's store thread). It publishes
//! each change under the slot's sequence lock; its allocator's bookkeeping
//! (free lists, the bump pointer) lives in its own heap, since readers
//! never need it.

use super::layout::*;
use super::words::{fence, store_bytes, AtomicU64, Ordering, Region};
use std::collections::HashMap;

/// The segment cannot take the entry: out of slots (past 7/8 of them,
/// tombstones included) or out of arena. Nothing was changed; the storage
/// that publishes (see [`super::mirror`]) then moves to a larger generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// How a segment is sized.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
  /// Slots; rounded up to a power of two (at least 8).
  pub capacity: usize,
  pub arena_words: usize,
}

/// Slots of a store's first generation (and the fewest of any).
pub const MIN_SLOTS: usize = 1 << 12;
/// Arena words of a store's first generation (1 MiB), and the fewest of any.
pub const MIN_ARENA_WORDS: usize = 1 << 17;
/// The most slots a generation may have (2^28: 8 GiB of slot table).
pub const MAX_SLOTS: usize = 1 << 28;
/// The most arena words a generation may have (2^34: 128 GiB).
pub const MAX_ARENA_WORDS: usize = 1 << 34;

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
  /// `record_words` words (size classes included): at most half full in
  /// slots and arena, so it takes as many new entries again before it
  /// grows. None past [`MAX_SLOTS`] or [`MAX_ARENA_WORDS`].
  pub fn grown(live: usize, record_words: usize) -> Option<Shape> {
    let capacity = live
      .checked_add(1)?
      .checked_mul(2)?
      .checked_next_power_of_two()?
      .max(MIN_SLOTS);
    let arena_words = record_words.checked_mul(2)?.max(MIN_ARENA_WORDS);
    (capacity <= MAX_SLOTS && arena_words <= MAX_ARENA_WORDS).then_some(Shape {
      capacity,
      arena_words,
    })
  }

  pub fn capacity(&self) -> usize {
    self.capacity.max(8).next_power_of_two()
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
    let new_slot = matches!(found, Probe::Free { empty: true, .. });
    if new_slot && (self.used + 1) * 8 > self.capacity * 7 {
      return Err(Full);
    }
    let size = record_words(key.len() + value.len());
    let record = self.arena.alloc(size, self.arena_words).ok_or(Full)?;
    let words = self.region.words();
    let at = arena_at(self.capacity) + record;
    words[at].store(expires, Ordering::Relaxed);
    let mut bytes = Vec::with_capacity(key.len() + value.len());
    bytes.extend_from_slice(key);
    bytes.extend_from_slice(value);
    store_bytes(words, at + RECORD_HEAD_WORDS, &bytes);
    let lengths = pack_lengths(key.len(), value_len);
    match found {
      Probe::Found(slot) => {
        let old = self.record_of(slot);
        self.publish(slot, hash, record as u64, lengths);
        self.arena.free(old);
      }
      Probe::Free { slot, empty } => {
        self.publish(slot, hash, record as u64, lengths);
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
    self.publish(slot, TOMBSTONE, 0, 0);
    self.arena.free(old);
    self.live -= 1;
    self.words()[H_LIVE].store(self.live, Ordering::Relaxed);
    true
  }

  /// Changes the TTL deadline of `key`; answers whether it is there.
  pub fn set_expires(&mut self, key: &[u8], expires: u64) -> bool {
    let Some(Probe::Found(slot)) = self.probe(key, slot_hash(key)) else {
      return false;
    };
    let (record, _) = self.record_of(slot);
    let seq = self.lock(slot);
    self.words()[arena_at(self.capacity) + record].store(expires, Ordering::Relaxed);
    self.unlock(slot, seq);
    true
  }

  /// The key at `slot`, if the slot holds an entry whose hash is `hash`.
  pub fn key_at(&self, slot: u32, hash: u64) -> Option<Vec<u8>> {
    let slot = slot as usize;
    if slot >= self.capacity || self.words()[slot_at(slot) + S_HASH].load(Ordering::Relaxed) != hash
    {
      return None;
    }
    self.stored_key(slot)
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

  /// Where `key` is, or the first free slot on its probe sequence (a
  /// tombstone before an empty one). None when every slot is taken.
  fn probe(&self, key: &[u8], hash: u64) -> Option<Probe> {
    let mask = self.capacity - 1;
    let mut tombstone = None;
    for step in 0..self.capacity {
      let slot = (hash as usize + step) & mask;
      let at = slot_at(slot);
      // Only this writer changes slots: its own relaxed loads see its own stores.
      match self.words()[at + S_HASH].load(Ordering::Relaxed) {
        EMPTY => {
          return Some(match tombstone {
            Some(slot) => Probe::Free { slot, empty: false },
            None => Probe::Free { slot, empty: true },
          })
        }
        TOMBSTONE => {
          tombstone.get_or_insert(slot);
        }
        h if h == hash && self.key_is(slot, key) => return Some(Probe::Found(slot)),
        _ => {}
      }
    }
    tombstone.map(|slot| Probe::Free { slot, empty: false })
  }

  fn key_is(&self, slot: usize, key: &[u8]) -> bool {
    let (klen, _) = unpack_lengths(self.words()[slot_at(slot) + S_LENGTHS].load(Ordering::Relaxed));
    klen == key.len() && self.stored_key(slot).as_deref() == Some(key)
  }

  /// The key of an occupied slot, read from its record.
  fn stored_key(&self, slot: usize) -> Option<Vec<u8>> {
    let (record, _) = self.record_of(slot);
    let (klen, _) = unpack_lengths(self.words()[slot_at(slot) + S_LENGTHS].load(Ordering::Relaxed));
    let mut key = Vec::with_capacity(klen);
    let at = arena_at(self.capacity) + record + RECORD_HEAD_WORDS;
    super::words::load_bytes(self.words(), at, klen, &mut key)?;
    Some(key)
  }

  /// The record of an occupied slot: its offset and size class.
  fn record_of(&self, slot: usize) -> (usize, usize) {
    let at = slot_at(slot);
    let record = self.words()[at + S_RECORD].load(Ordering::Relaxed) as usize;
    let (klen, vlen) = unpack_lengths(self.words()[at + S_LENGTHS].load(Ordering::Relaxed));
    (record, size_class(record_words(klen + stored_len(vlen))))
  }

  /// Writes a slot's fields under its sequence lock.
  fn publish(&self, slot: usize, hash: u64, record: u64, lengths: u64) {
    let at = slot_at(slot);
    let seq = self.lock(slot);
    let words = self.words();
    words[at + S_HASH].store(hash, Ordering::Relaxed);
    words[at + S_RECORD].store(record, Ordering::Relaxed);
    words[at + S_LENGTHS].store(lengths, Ordering::Relaxed);
    self.unlock(slot, seq);
  }

  /// Makes the slot's sequence odd. The release fence orders everything
  /// written after it (this slot's fields, and any later reuse of the
  /// record it pointed to) after the odd value, for any reader.
  fn lock(&self, slot: usize) -> u64 {
    let seq = &self.words()[slot_at(slot) + S_SEQ];
    let even = seq.load(Ordering::Relaxed);
    seq.store(even + 1, Ordering::Relaxed);
    fence(Ordering::Release);
    even
  }

  fn unlock(&self, slot: usize, even: u64) {
    self.words()[slot_at(slot) + S_SEQ].store(even + 2, Ordering::Release);
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
/// segment, size class included (a value too large to publish takes none).
pub fn record_size(key_len: usize, value_len: usize) -> usize {
  let value_len = if value_len > MAX_PUBLISHED_VALUE {
    0
  } else {
    value_len
  };
  size_class(record_words(key_len + value_len))
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

/// Records of the arena by size class: freed ones are reused at once (the
/// sequence lock makes that safe), new ones are cut from the end.
#[derive(Default)]
struct Arena {
  bump: usize,
  free: HashMap<usize, Vec<usize>>,
}

impl Arena {
  fn alloc(&mut self, words: usize, limit: usize) -> Option<usize> {
    let class = size_class(words);
    if let Some(record) = self.free.get_mut(&class).and_then(Vec::pop) {
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
    self.free.entry(class).or_default().push(record);
  }
}
