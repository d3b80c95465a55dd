//! Where everything sits in a segment. Every field is a little-endian u64
//! word; offsets count words, never bytes, and are relative to the start
//! of the segment (slots, arena) or of the arena (records).
//!
//! ```text
//! header   HEADER_WORDS words: the fields below
//! slots    capacity × SLOT_WORDS words: {seq, hash, record, lengths}
//! arena    arena_words words of records: {expires, key bytes ++ value bytes, padding}
//! ```

/// "SMSEGMNT" read as a little-endian u64: written last when a segment is
/// created (release), so a reader that sees it sees a whole header.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SMSEGMNT");
/// Changes whenever this layout does; a reader refuses any other.
pub const VERSION: u64 = 1;

#[cfg(not(loom))]
pub const HEADER_WORDS: usize = 512;
/// (Under loom every word is a modelled atomic: the header is cut to the fields it has.)
#[cfg(loom)]
pub const HEADER_WORDS: usize = 16;

// Header fields (word indexes).
pub const H_MAGIC: usize = 0;
pub const H_VERSION: usize = 1;
/// Which generation of the writer's segments this is (1, 2, ...).
pub const H_GENERATION: usize = 2;
/// 0 while current; the generation that replaced it, or `u64::MAX` once closed.
pub const H_SUPERSEDED: usize = 3;
/// Slots: a power of two.
pub const H_CAPACITY: usize = 4;
pub const H_ARENA_WORDS: usize = 5;
pub const H_WRITER_PID: usize = 6;
/// Store milliseconds when the writer started, to tell a reused pid apart.
pub const H_WRITER_START: usize = 7;
/// Store milliseconds of the writer's last sign of life.
pub const H_HEARTBEAT: usize = 8;
/// Live entries (for readers' statistics only).
pub const H_LIVE: usize = 9;
/// 1 when the store expires idle entries: a record's deadline is then the
/// earlier of its TTL and its idle deadline, so it does not tell the TTL.
pub const H_SLIDING: usize = 10;

/// `H_SUPERSEDED` of a segment its writer closed.
pub const CLOSED: u64 = u64::MAX;

pub const SLOT_WORDS: usize = 4;
// Slot fields (word offsets within a slot).
/// Odd while the writer changes the slot.
pub const S_SEQ: usize = 0;
/// [`EMPTY`], [`TOMBSTONE`], or the key's [`slot_hash`].
pub const S_HASH: usize = 1;
/// The record's offset in the arena.
pub const S_RECORD: usize = 2;
/// Key length in the low 32 bits, value length in the high 32.
pub const S_LENGTHS: usize = 3;

pub const EMPTY: u64 = 0;
pub const TOMBSTONE: u64 = 1;

/// Words of a record before its bytes: its TTL deadline.
pub const RECORD_HEAD_WORDS: usize = 1;
/// `expires` of an entry without a TTL.
pub const NEVER: u64 = u64::MAX;

/// The longest key a segment holds (as the store's own bound).
pub const MAX_KEY_BYTES: usize = crate::store::MAX_KEY_BYTES;

/// A slot's hash of `key`: [`crate::store::hash_key`], kept clear of the
/// two marker values.
pub fn slot_hash(key: &[u8]) -> u64 {
  crate::store::hash_key(key).max(TOMBSTONE + 1)
}

/// Words of a record holding `bytes` bytes of key and value.
pub fn record_words(bytes: usize) -> usize {
  RECORD_HEAD_WORDS + bytes.div_ceil(8)
}

/// The word offset of slot `i`.
pub fn slot_at(i: usize) -> usize {
  HEADER_WORDS + i * SLOT_WORDS
}

/// The word offset of the arena in a segment of `capacity` slots.
pub fn arena_at(capacity: usize) -> usize {
  HEADER_WORDS + capacity * SLOT_WORDS
}

/// Words of a whole segment.
pub fn segment_words(capacity: usize, arena_words: usize) -> usize {
  arena_at(capacity) + arena_words
}

/// Values longer than this are not published: their slot holds the key and
/// [`ELSEWHERE`] as the value's length, and a reader asks the host. Copying
/// a large value through the segment costs more than a reply carries it.
pub const MAX_PUBLISHED_VALUE: usize = 16 * 1024;
/// The value length of a slot whose value is held by the host only.
pub const ELSEWHERE: usize = u32::MAX as usize;

/// Bytes of a value length as stored: [`ELSEWHERE`] stores none.
pub fn stored_len(value_len: usize) -> usize {
  if value_len == ELSEWHERE {
    0
  } else {
    value_len
  }
}

pub fn pack_lengths(key: usize, value: usize) -> u64 {
  key as u64 | (value as u64) << 32
}

pub fn unpack_lengths(word: u64) -> (usize, usize) {
  ((word & 0xFFFF_FFFF) as usize, (word >> 32) as usize)
}
