//! Reading a segment from any process. Every byte of the segment is
//! untrusted: each offset and length is checked against the mapping before
//! use, every loop is bounded, and nothing here panics on what it reads.

use super::layout::*;
use super::words::{fence, load_bytes, pause, AtomicU64, Ordering, Region};
use super::ShmError;

/// Waits on a locked slot this many times (yielding the CPU every 64)
/// before giving up with [`ShmError::Busy`]: a writer holds a slot for a
/// few stores, so only a stopped writer gets anywhere near it.
#[cfg(not(loom))]
const MAX_SPINS: u32 = 1 << 16;
/// (A loom model explores every interleaving: a few waits show them all.)
#[cfg(loom)]
const MAX_SPINS: u32 = 3;

/// Where a value was found: enough to record a use of it (see
/// [`crate::store::Use`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
  pub slot: u32,
  pub hash: u64,
}

/// One version of an entry, as one consistent read saw it: the segment's
/// generation, the slot, and the slot's state word (even), which changes
/// with every change of the slot (its sequence goes up by two each time,
/// and it wraps only after 2^47 of them). While a slot's state word stays
/// the same, so do its entry word and its record (a record is reused only
/// after its slot moved off it, which is a change), so a version names one
/// key and one value text. See [`Reader::get_since`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
  pub generation: u64,
  pub slot: u32,
  pub state: u64,
}

/// What [`Reader::get_since`] found of a live entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
  pub found: Found,
  /// The version read now.
  pub version: Version,
  /// Whether it is the version the caller held: then the value was not
  /// copied (`out` is empty), as the caller has it already.
  pub unchanged: bool,
}

pub struct Reader<R: Region> {
  region: R,
  capacity: usize,
  arena_at: usize,
  arena_words: usize,
  generation: u64,
}

impl<R: Region> Reader<R> {
  /// Opens a segment a writer created, checking its header against the
  /// region's size.
  pub fn open(region: R) -> Result<Self, ShmError> {
    let words = region.words();
    if words.len() < HEADER_WORDS || words[H_MAGIC].load(Ordering::Acquire) != MAGIC {
      return Err(ShmError::BadHeader);
    }
    let field = |i: usize| words[i].load(Ordering::Relaxed);
    let capacity = usize::try_from(field(H_CAPACITY)).map_err(|_| ShmError::BadHeader)?;
    let arena_words = usize::try_from(field(H_ARENA_WORDS)).map_err(|_| ShmError::BadHeader)?;
    let fits = capacity
      .checked_mul(SLOT_WORDS)
      .and_then(|slots| slots.checked_add(HEADER_WORDS))
      .and_then(|arena| arena.checked_add(arena_words))
      .is_some_and(|total| total <= words.len());
    let slots_ok = capacity > 0 && capacity <= u32::MAX as usize;
    if field(H_VERSION) != VERSION || !slots_ok || !fits {
      return Err(ShmError::BadHeader);
    }
    Ok(Reader {
      generation: field(H_GENERATION),
      region,
      capacity,
      arena_at: arena_at(capacity),
      arena_words,
    })
  }

  /// Slots of the segment.
  pub fn capacity(&self) -> usize {
    self.capacity
  }

  pub fn generation(&self) -> u64 {
    self.generation
  }

  /// 0 while this segment is current; else the generation that replaced
  /// it, or [`CLOSED`].
  pub fn superseded(&self) -> u64 {
    self.words()[H_SUPERSEDED].load(Ordering::Acquire)
  }

  /// Who writes this segment: its process id and its start (store ms).
  pub fn writer(&self) -> (u64, u64) {
    let words = self.words();
    (
      words[H_WRITER_PID].load(Ordering::Relaxed),
      words[H_WRITER_START].load(Ordering::Relaxed),
    )
  }

  /// The writer's last sign of life, in store milliseconds.
  pub fn heartbeat(&self) -> u64 {
    self.words()[H_HEARTBEAT].load(Ordering::Acquire)
  }

  /// The value of `key` into `out` (its previous contents are lost), if it
  /// is there and has not expired by store millisecond `now`.
  pub fn get(&self, key: &[u8], now: u64, out: &mut Vec<u8>) -> Result<Option<Found>, ShmError> {
    self.lookup(key, now, out, true)
  }

  /// As [`Reader::get`] for a caller that holds the value of `key` at
  /// version `held` (from an earlier read of it): when its slot still is
  /// that version, it is read there, with no probe and no copy (`out` left
  /// empty), and checked for expiry as `get` checks it; else the key is
  /// looked up as `get` does, and `out` holds the value. A held version of
  /// another generation is no longer current.
  pub fn get_since(
    &self,
    key: &[u8],
    now: u64,
    out: &mut Vec<u8>,
    held: Option<Version>,
  ) -> Result<Option<Since>, ShmError> {
    let keep = held.filter(|held| held.generation == self.generation);
    if let Some(held) = keep {
      if let Some(live) = self.at_held(key, now, held)? {
        out.clear();
        return Ok(live.map(|found| Since {
          found,
          version: held,
          unchanged: true,
        }));
      }
    }
    match self.find(key, now, out, true)? {
      None => Ok(None),
      Some(Live {
        elsewhere: true, ..
      }) => Err(ShmError::Elsewhere),
      Some(Live { found, state, .. }) => {
        out.drain(..key.len());
        Ok(Some(Since {
          found,
          version: Version {
            generation: self.generation,
            slot: found.slot,
            state,
          },
          unchanged: false,
        }))
      }
    }
  }

  /// A held version read at its slot, with no probe and no copy: when
  /// the slot's state word still is `held.state` (consistently read), the
  /// slot holds what it held when that version was read, `key`'s entry
  /// (the tag and the key's length are checked too); answers it, live by
  /// `now` or not (expired). None when the slot changed (or is changing):
  /// look the key up.
  fn at_held(
    &self,
    key: &[u8],
    now: u64,
    held: Version,
  ) -> Result<Option<Option<Found>>, ShmError> {
    let slot = held.slot as usize;
    if slot >= self.capacity || key.len() > MAX_KEY_BYTES {
      return Ok(None);
    }
    let words = self.words();
    if words[H_SUPERSEDED].load(Ordering::Acquire) != 0 {
      return Err(ShmError::Superseded);
    }
    let hash = slot_hash(key);
    let at = slot_at(slot);
    let seq = &words[at + S_SEQ];
    let before = seq.load(Ordering::Acquire);
    // An odd (locked) word is never a held one: the look-up waits for it.
    if before != held.state || tag_in(before) != tag_of(hash) {
      return Ok(None);
    }
    let (record, klen, vlen) = unpack_entry(words[at + S_ENTRY].load(Ordering::Relaxed));
    let expires = if has_deadline(before) {
      self.deadline_at(record, klen, vlen)
    } else {
      Some(NEVER)
    };
    fence(Ordering::Acquire);
    if seq.load(Ordering::Relaxed) != before {
      return Ok(None);
    }
    if klen != key.len() || vlen == ELSEWHERE {
      return Ok(None);
    }
    let expires = expires.ok_or(ShmError::Corrupt)?;
    Ok(Some((expires > now).then_some(Found {
      slot: held.slot,
      hash,
    })))
  }

  /// The deadline word of a record that has one, if the record lies inside the arena.
  fn deadline_at(&self, record: usize, klen: usize, vlen: usize) -> Option<u64> {
    let size = record_words(klen.checked_add(stored_len(vlen))?, true);
    if klen > MAX_KEY_BYTES || record.checked_add(size)? > self.arena_words {
      return None;
    }
    Some(self.words()[self.arena_at + record].load(Ordering::Relaxed))
  }

  /// [`Reader::get`], with the sequence re-check as a switch: only the
  /// negative control of the stress test turns it off, to show that the
  /// check is what keeps torn values out.
  pub(crate) fn lookup(
    &self,
    key: &[u8],
    now: u64,
    out: &mut Vec<u8>,
    recheck: bool,
  ) -> Result<Option<Found>, ShmError> {
    match self.find(key, now, out, recheck)? {
      None => Ok(None),
      Some(Live {
        elsewhere: true, ..
      }) => Err(ShmError::Elsewhere),
      Some(Live { found, .. }) => {
        out.drain(..key.len());
        Ok(Some(found))
      }
    }
  }

  /// What the store's `ttl` answers for `key` at store millisecond `now`:
  /// -2 when it is missing or expired, -1 when it has no TTL, else the
  /// milliseconds left. [`ShmError::Sliding`] when records' deadlines
  /// include idle deadlines (they do not tell the TTL: ask the host).
  /// `out` is scratch space.
  pub fn ttl(&self, key: &[u8], now: u64, out: &mut Vec<u8>) -> Result<i64, ShmError> {
    if self.words()[H_SLIDING].load(Ordering::Acquire) != 0 {
      return Err(ShmError::Sliding);
    }
    Ok(match self.find(key, now, out, true)? {
      None => -2,
      Some(Live { expires: NEVER, .. }) => -1,
      Some(Live { expires, .. }) => i64::try_from(expires - now).unwrap_or(i64::MAX),
    })
  }

  /// The live entry of `key` (not expired by `now`): `out` then holds its
  /// key's bytes and its value's.
  fn find(
    &self,
    key: &[u8],
    now: u64,
    out: &mut Vec<u8>,
    recheck: bool,
  ) -> Result<Option<Live>, ShmError> {
    if self.words()[H_SUPERSEDED].load(Ordering::Acquire) != 0 {
      return Err(ShmError::Superseded);
    }
    if key.len() > MAX_KEY_BYTES {
      return Ok(None);
    }
    let hash = slot_hash(key);
    let tag = tag_of(hash);
    let mut slot = home(hash, self.capacity);
    for _ in 0..self.capacity {
      let at = slot;
      slot = if slot + 1 == self.capacity {
        0
      } else {
        slot + 1
      };
      match self.read_slot(at, tag, Some(key), out, recheck)? {
        Slot::Empty => return Ok(None),
        Slot::Other => continue,
        Slot::Match { expires, .. } if expires <= now => return Ok(None),
        Slot::Match {
          expires,
          elsewhere,
          state,
          ..
        } => {
          return Ok(Some(Live {
            found: Found {
              slot: at as u32,
              hash,
            },
            expires,
            elsewhere,
            state,
          }))
        }
      }
    }
    Ok(None)
  }

  /// Every entry of the segment still live at store millisecond `now`
  /// (but those whose value is too large to be published):
  /// `f(key, value, expires)` for each, in slot order; answers how many.
  /// Each slot is read consistently (as `get` reads it); a slot that does
  /// not add up, or stays locked, is skipped. For a new host taking over
  /// from one that died, whose segment it still maps.
  pub fn for_each(&self, now: u64, mut f: impl FnMut(&[u8], &[u8], u64)) -> usize {
    let mut seen = 0;
    self.for_each_key(now, |key, value, expires| {
      if let Some(value) = value {
        f(key, value, expires);
        seen += 1;
      }
    });
    seen
  }

  /// As [`Reader::for_each`], but also every live key whose value is held
  /// by the host only (over [`super::layout::MAX_PUBLISHED_VALUE`] bytes): with `None`
  /// for its value. So a host taking over knows every key the dead one
  /// held, even those whose values it must find elsewhere (a snapshot).
  /// Answers false, having seen nothing, when the segment is closed or
  /// replaced: then it does not show what its writer held.
  pub fn for_each_key(&self, now: u64, mut f: impl FnMut(&[u8], Option<&[u8]>, u64)) -> bool {
    if self.words()[H_SUPERSEDED].load(Ordering::Acquire) != 0 {
      return false;
    }
    let mut out = Vec::new();
    for slot in 0..self.capacity {
      let tag = tag_in(self.words()[slot_at(slot) + S_SEQ].load(Ordering::Relaxed));
      if tag == EMPTY || tag == TOMBSTONE {
        continue;
      }
      let Ok(Slot::Match {
        expires,
        elsewhere,
        key_len: klen,
        ..
      }) = self.read_slot(slot, tag, None, &mut out, true)
      else {
        continue;
      };
      if expires > now && tag_of(slot_hash(&out[..klen])) == tag {
        let value = (!elsewhere).then(|| &out[klen..]);
        f(&out[..klen], value, expires);
      }
    }
    true
  }

  fn words(&self) -> &[AtomicU64] {
    self.region.words()
  }

  /// Reads one slot consistently: retried while the writer changes it.
  /// A match is the slot holding `tag` and `key` (with no key: any key of
  /// that tag, for [`Reader::for_each`]); then `out` holds the key's
  /// bytes followed by the value's.
  fn read_slot(
    &self,
    slot: usize,
    tag: u64,
    key: Option<&[u8]>,
    out: &mut Vec<u8>,
    recheck: bool,
  ) -> Result<Slot, ShmError> {
    let words = self.words();
    let at = slot_at(slot);
    let seq = &words[at + S_SEQ];
    let mut spins = 0u32;
    loop {
      let before = seq.load(Ordering::Acquire);
      if before % 2 == 1 {
        spins += 1;
        if spins >= MAX_SPINS {
          return Err(ShmError::Busy);
        }
        pause(spins);
        continue;
      }
      // The tag sits in the sequence's own word: read whole, with it.
      match tag_in(before) {
        EMPTY => return Ok(Slot::Empty),
        found if found != tag => return Ok(Slot::Other),
        _ => {}
      }
      let (record, klen, vlen) = unpack_entry(words[at + S_ENTRY].load(Ordering::Relaxed));
      let copied = self.copy_record(record, has_deadline(before), klen, vlen, out);
      fence(Ordering::Acquire);
      if recheck && seq.load(Ordering::Relaxed) != before {
        continue;
      }
      // Consistent now: a record that does not fit is damage, not a race.
      let expires = copied.ok_or(ShmError::Corrupt)?;
      return Ok(
        if key.is_none_or(|key| klen == key.len() && out[..klen] == *key) {
          Slot::Match {
            expires,
            elsewhere: vlen == ELSEWHERE,
            key_len: klen,
            state: before,
          }
        } else {
          Slot::Other
        },
      );
    }
  }

  /// Copies a record's deadline ([`NEVER`] when it has no deadline word)
  /// and bytes, if it lies inside the arena.
  fn copy_record(
    &self,
    record: usize,
    deadline: bool,
    klen: usize,
    vlen: usize,
    out: &mut Vec<u8>,
  ) -> Option<u64> {
    if klen > MAX_KEY_BYTES {
      return None;
    }
    let bytes = klen.checked_add(stored_len(vlen))?;
    let size = record_words(bytes, deadline);
    if record.checked_add(size)? > self.arena_words {
      return None;
    }
    let mut at = self.arena_at + record;
    let mut expires = NEVER;
    if deadline {
      expires = self.words()[at].load(Ordering::Relaxed);
      at += RECORD_HEAD_WORDS;
    }
    load_bytes(self.words(), at, bytes, out)?;
    Some(expires)
  }
}

struct Live {
  found: Found,
  expires: u64,
  elsewhere: bool,
  /// The slot's state word when it was read.
  state: u64,
}

enum Slot {
  Empty,
  /// A tombstone, or another key.
  Other,
  Match {
    expires: u64,
    /// The value is not published (see [`ELSEWHERE`]).
    elsewhere: bool,
    /// `out` holds this many bytes of key, then the value.
    key_len: usize,
    /// The slot's state word (even) the read was consistent with.
    state: u64,
  },
}
