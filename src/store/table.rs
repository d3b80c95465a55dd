//! Where entries live: a hash index over a slab of entries kept in recency
//! order, with byte accounting.
//!
//! This is the store's only storage. Policies (LRU bound, expiry, TTLs,
//! namespaces) are written against the small interface below, so another
//! storage (a shared-memory segment, later) can take its place without
//! touching them.
//!
//! Layout, chosen for memory per entry (the store may hold millions of
//! small entries): each entry's key and value share one allocation; entries
//! sit in one `Vec` and are linked into the recency list by index (`u32`,
//! not pointers); the hash index holds only those indexes.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// `expires` of an entry without a TTL.
pub const NEVER: u64 = u64::MAX;

/// One stored entry, as the table shows it. Times are store milliseconds (see `Store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
  pub value: &'a [u8],
  /// When it was last read or written.
  pub touched: u64,
  /// When its TTL runs out, or [`NEVER`].
  pub expires: u64,
}

/// An entry taken out of the table (removed, or replaced by a new value).
#[derive(Debug)]
pub struct Removed {
  data: Box<[u8]>,
  key_len: usize,
  pub expires: u64,
}

impl Removed {
  pub fn value(&self) -> &[u8] {
    &self.data[self.key_len..]
  }

  /// The bytes the entry was accounted for.
  pub fn size(&self) -> usize {
    self.data.len()
  }
}

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

struct Slot {
  /// The key's bytes, then the value's; empty while the slot is free.
  data: Box<[u8]>,
  key_len: u32,
  /// Neighbours in the recency list (toward the most / least recently used).
  newer: u32,
  older: u32,
  touched: u64,
  expires: u64,
}

impl Slot {
  fn key(&self) -> &[u8] {
    &self.data[..self.key_len as usize]
  }

  fn entry(&self) -> Entry<'_> {
    Entry {
      value: &self.data[self.key_len as usize..],
      touched: self.touched,
      expires: self.expires,
    }
  }
}

/// Keys and values are opaque bytes. The least recently touched entry is
/// always the oldest, so both LRU eviction and sliding expiry work from the
/// same end.
pub struct Table {
  index: HashTable<u32>,
  slots: Vec<Slot>,
  /// Free slots, chained through `older`.
  free: u32,
  newest: u32,
  oldest: u32,
  len: usize,
  bytes: usize,
  hasher: DefaultHashBuilder,
}

impl Default for Table {
  fn default() -> Self {
    Table {
      index: HashTable::new(),
      slots: Vec::new(),
      free: NIL,
      newest: NIL,
      oldest: NIL,
      len: 0,
      bytes: 0,
      hasher: DefaultHashBuilder::default(),
    }
  }
}

impl Table {
  pub fn len(&self) -> usize {
    self.len
  }

  /// Key plus value bytes of every entry.
  pub fn bytes(&self) -> usize {
    self.bytes
  }

  /// Looks at an entry without changing its recency.
  pub fn peek(&self, key: &[u8]) -> Option<Entry<'_>> {
    self.find(key).map(|i| self.slots[i as usize].entry())
  }

  /// Marks an entry as used at `now` (the most recently used) and returns it.
  pub fn touch(&mut self, key: &[u8], now: u64) -> Option<Entry<'_>> {
    let i = self.find(key)?;
    self.detach(i);
    self.attach_newest(i);
    let slot = &mut self.slots[i as usize];
    slot.touched = now;
    Some(slot.entry())
  }

  /// Changes an entry's TTL deadline without changing its recency.
  pub fn set_expires(&mut self, key: &[u8], expires: u64) {
    if let Some(i) = self.find(key) {
      self.slots[i as usize].expires = expires;
    }
  }

  /// Stores `value` under `key` as the most recently used entry; answers
  /// the entry it replaced.
  pub fn insert(
    &mut self,
    key: &[u8],
    value: &[u8],
    touched: u64,
    expires: u64,
  ) -> Option<Removed> {
    let mut data = Vec::with_capacity(key.len() + value.len());
    data.extend_from_slice(key);
    data.extend_from_slice(value);
    let data = data.into_boxed_slice();
    self.bytes += data.len();
    if let Some(i) = self.find(key) {
      self.detach(i);
      self.attach_newest(i);
      let slot = &mut self.slots[i as usize];
      let old = Removed {
        data: std::mem::replace(&mut slot.data, data),
        key_len: key.len(),
        expires: slot.expires,
      };
      slot.touched = touched;
      slot.expires = expires;
      self.bytes -= old.size();
      return Some(old);
    }
    let slot = Slot {
      data,
      key_len: key.len() as u32,
      newer: NIL,
      older: NIL,
      touched,
      expires,
    };
    let i = match self.free {
      NIL => {
        self.slots.push(slot);
        (self.slots.len() - 1) as u32
      }
      i => {
        self.free = self.slots[i as usize].older;
        self.slots[i as usize] = slot;
        i
      }
    };
    let hash = self.hasher.hash_one(key);
    let Table {
      index,
      slots,
      hasher,
      ..
    } = self;
    index.insert_unique(hash, i, |&j| hasher.hash_one(slots[j as usize].key()));
    self.attach_newest(i);
    self.len += 1;
    None
  }

  /// Removes an entry and answers it.
  pub fn remove(&mut self, key: &[u8]) -> Option<Removed> {
    let hash = self.hasher.hash_one(key);
    let slots = &self.slots;
    let found = self
      .index
      .find_entry(hash, |&i| slots[i as usize].key() == key)
      .ok()?;
    let (i, _) = found.remove();
    Some(self.release(i))
  }

  /// The least recently used entry.
  pub fn oldest(&self) -> Option<(&[u8], Entry<'_>)> {
    match self.oldest {
      NIL => None,
      i => {
        let slot = &self.slots[i as usize];
        Some((slot.key(), slot.entry()))
      }
    }
  }

  /// Every entry with its key, most recently used first.
  pub fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
    let mut next = self.newest;
    std::iter::from_fn(move || match next {
      NIL => None,
      i => {
        let slot = &self.slots[i as usize];
        next = slot.older;
        Some((slot.key(), slot.entry()))
      }
    })
  }

  /// Every key, most recently used first.
  pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
    self.entries().map(|(key, _)| key)
  }

  fn find(&self, key: &[u8]) -> Option<u32> {
    let hash = self.hasher.hash_one(key);
    self
      .index
      .find(hash, |&i| self.slots[i as usize].key() == key)
      .copied()
  }

  /// Frees slot `i` (already out of the index) and answers what it held.
  fn release(&mut self, i: u32) -> Removed {
    self.detach(i);
    let slot = &mut self.slots[i as usize];
    let removed = Removed {
      data: std::mem::take(&mut slot.data),
      key_len: slot.key_len as usize,
      expires: slot.expires,
    };
    slot.older = self.free;
    self.free = i;
    self.len -= 1;
    self.bytes -= removed.size();
    removed
  }

  fn detach(&mut self, i: u32) {
    let (newer, older) = {
      let slot = &self.slots[i as usize];
      (slot.newer, slot.older)
    };
    match newer {
      NIL => self.newest = older,
      n => self.slots[n as usize].older = older,
    }
    match older {
      NIL => self.oldest = newer,
      o => self.slots[o as usize].newer = newer,
    }
  }

  fn attach_newest(&mut self, i: u32) {
    let old_newest = self.newest;
    {
      let slot = &mut self.slots[i as usize];
      slot.newer = NIL;
      slot.older = old_newest;
    }
    match old_newest {
      NIL => self.oldest = i,
      n => self.slots[n as usize].newer = i,
    }
    self.newest = i;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn keeps_recency_order_and_reuses_free_slots() {
    let mut t = Table::default();
    t.insert(b"a", b"1", 0, NEVER);
    t.insert(b"b", b"22", 0, NEVER);
    t.insert(b"c", b"333", 0, NEVER);
    assert_eq!(t.keys().collect::<Vec<_>>(), vec![&b"c"[..], b"b", b"a"]);
    t.touch(b"a", 5);
    assert_eq!(t.oldest().map(|(k, _)| k), Some(&b"b"[..]));
    let old = t.insert(b"b", b"x", 6, 9).unwrap();
    assert_eq!(old.value(), b"22");
    assert_eq!(t.keys().collect::<Vec<_>>(), vec![&b"b"[..], b"a", b"c"]);
    assert_eq!(t.bytes(), 2 + 2 + 4);
    assert_eq!(t.remove(b"a").unwrap().value(), b"1");
    assert!(t.remove(b"a").is_none());
    t.insert(b"d", b"4", 7, NEVER);
    assert_eq!(t.slots.len(), 3, "the freed slot was reused");
    assert_eq!(
      t.peek(b"b"),
      Some(Entry {
        value: b"x",
        touched: 6,
        expires: 9
      })
    );
    assert_eq!(t.len(), 3);
    for key in [&b"b"[..], b"c", b"d"] {
      t.remove(key).unwrap();
    }
    assert_eq!(
      (t.len(), t.bytes(), t.oldest().is_none(), t.keys().count()),
      (0, 0, true, 0)
    );
  }
}
