//! Where everything sits in a segment. Every field is a little-endian u64
//! word; offsets count words, never bytes, and are relative to the start
//! of the segment (slots, arena) or of the arena (records).
//!
//! ```text
//! header   HEADER_WORDS words: the fields below
//! slots    capacity × SLOT_WORDS words: {seq | deadline? | tag, record | key length | value length}
//! arena    arena_words words of records: {[expires], key bytes ++ value bytes, padding}
//! ```
//!
//! Version 2 (16-byte slots, the tag beside the sequence, no deadline word
//! for an entry without a TTL, any number of slots) keeps a small entry
//! in about half the bytes of version 1 (32-byte slots, a power of two of
//! them, a full hash word, a deadline word in every record).

/// "SMSEGMNT" read as a little-endian u64: written last when a segment is
/// created (release), so a reader that sees it sees a whole header.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SMSEGMNT");
/// Changes whenever this layout does; a reader refuses any other.
pub const VERSION: u64 = 2;

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
/// Slots (any number from 1 to 2^32; see [`home`]).
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

pub const SLOT_WORDS: usize = 2;
// Slot fields (word offsets within a slot).
/// The slot's state, in one word: its sequence in the low [`SEQ_BITS`]
/// bits (odd while the writer changes the slot), then [`DEADLINE_BIT`],
/// then the tag in the top [`TAG_BITS`] bits: [`EMPTY`], [`TOMBSTONE`],
/// or the key's [`tag_of`] its hash. One load tells a reader whether the
/// slot is locked, empty, another key's, or maybe its own.
pub const S_SEQ: usize = 0;
/// Where the entry's record is and how long it is: see [`pack_entry`].
pub const S_ENTRY: usize = 1;

/// Bits of a slot's sequence: it wraps (within them) after 2^47 changes
/// of the one slot, far more than a writer makes while one read copies.
pub const SEQ_BITS: u32 = 48;
pub const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
/// Set when the slot's record starts with a deadline word (its TTL); an
/// entry without one has none ([`NEVER`]).
pub const DEADLINE_BIT: u64 = 1 << SEQ_BITS;
pub const TAG_BITS: u32 = 15;
const TAG_SHIFT: u32 = 64 - TAG_BITS;

/// Tags of a slot without an entry.
pub const EMPTY: u64 = 0;
pub const TOMBSTONE: u64 = 1;

/// The tag of a key whose [`slot_hash`] is `hash`: its top bits, kept
/// clear of the two marker values. Its slot comes from the low bits
/// ([`home`]), so keys that probe the same slots still differ in tag.
pub fn tag_of(hash: u64) -> u64 {
  (hash >> TAG_SHIFT).max(TOMBSTONE + 1)
}

/// A slot's state word: sequence `seq`, `tag`, whether its record has a deadline.
pub fn state_word(seq: u64, tag: u64, deadline: bool) -> u64 {
  (seq & SEQ_MASK) | if deadline { DEADLINE_BIT } else { 0 } | tag << TAG_SHIFT
}

/// The tag of a state word.
pub fn tag_in(state: u64) -> u64 {
  state >> TAG_SHIFT
}

/// Whether a state word says its record has a deadline.
pub fn has_deadline(state: u64) -> bool {
  state & DEADLINE_BIT != 0
}

/// The first slot of the probe sequence of `hash` in `capacity` slots
/// (any number of them, at most 2^32): the low 32 bits of the hash scaled
/// to the table, so the table need not be a power of two.
pub fn home(hash: u64, capacity: usize) -> usize {
  (((hash & 0xFFFF_FFFF) * capacity as u64) >> 32) as usize
}

/// Bits of [`S_ENTRY`]: the record's offset in the arena (words), the
/// key's length, the value's length (or [`ELSEWHERE`]).
const RECORD_BITS: u32 = 32;
const KEY_BITS: u32 = 17;
const VALUE_BITS: u32 = 15;

/// The most arena words a record offset can name.
pub const MAX_RECORD: usize = 1 << RECORD_BITS;

/// Words of a record's deadline, when it has one ([`DEADLINE_BIT`]).
pub const RECORD_HEAD_WORDS: usize = 1;
/// The deadline of an entry without a TTL.
pub const NEVER: u64 = u64::MAX;

/// The longest key a segment holds (as the store's own bound).
pub const MAX_KEY_BYTES: usize = crate::store::MAX_KEY_BYTES;

/// A slot's hash of `key`: [`crate::store::hash_key`], kept clear of the
/// two marker values.
pub fn slot_hash(key: &[u8]) -> u64 {
  crate::store::hash_key(key).max(TOMBSTONE + 1)
}

/// Words of a record holding `bytes` bytes of key and value, and a
/// deadline word first when `deadline`.
pub fn record_words(bytes: usize, deadline: bool) -> usize {
  usize::from(deadline) * RECORD_HEAD_WORDS + bytes.div_ceil(8)
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
pub const ELSEWHERE: usize = (1 << VALUE_BITS) - 1;

/// Bytes of a value length as stored: [`ELSEWHERE`] stores none.
pub fn stored_len(value_len: usize) -> usize {
  if value_len == ELSEWHERE {
    0
  } else {
    value_len
  }
}

/// An [`S_ENTRY`] word: record offset in the low 32 bits, then the key's
/// length (17 bits: up to [`MAX_KEY_BYTES`]), then the value's (15 bits:
/// up to [`MAX_PUBLISHED_VALUE`], or [`ELSEWHERE`]). None when one does not fit.
pub fn pack_entry(record: usize, key: usize, value: usize) -> Option<u64> {
  (record < MAX_RECORD && key < 1 << KEY_BITS && value < 1 << VALUE_BITS).then_some(
    record as u64 | (key as u64) << RECORD_BITS | (value as u64) << (RECORD_BITS + KEY_BITS),
  )
}

/// An [`S_ENTRY`] word's record offset, key length and value length.
pub fn unpack_entry(word: u64) -> (usize, usize, usize) {
  (
    (word & (MAX_RECORD as u64 - 1)) as usize,
    (word >> RECORD_BITS & ((1 << KEY_BITS) - 1)) as usize,
    (word >> (RECORD_BITS + KEY_BITS)) as usize,
  )
}

const _: () = assert!(RECORD_BITS + KEY_BITS + VALUE_BITS == 64);
const _: () = assert!(MAX_KEY_BYTES < 1 << KEY_BITS && MAX_PUBLISHED_VALUE < ELSEWHERE);
const _: () = assert!(SEQ_BITS + 1 + TAG_BITS == 64);
