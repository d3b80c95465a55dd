//! Where entries live today: a hash index over a slab of entries kept in
//! recency order, with byte accounting, in this process's heap. It is the
//! [`Storage`] every store uses unless told otherwise.
//!
//! Layout, chosen for memory per entry (the store may hold millions of
//! small entries): each entry's key and value share one allocation, after
//! the key's length (1 byte under 128, else 3: so a cell is 40 bytes, not
//! 48); entries sit in one `Vec` and are linked into the recency list by
//! index (`u32`, not pointers); the hash index holds only those indexes.

use hashbrown::HashTable;

use super::key::split;
use super::storage::{hash_key, Entry, Removed, Slot, Storage};

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

struct Cell {
  /// The key's length (see [`prefix`]), the key's bytes, then the value's;
  /// empty while the slot is free.
  data: Box<[u8]>,
  /// Neighbours in the recency list (toward the most / least recently used).
  newer: u32,
  older: u32,
  touched: u64,
  expires: u64,
}

impl Cell {
  /// Where the key starts and the value starts in `data`.
  fn bounds(&self) -> (usize, usize) {
    bounds(&self.data)
  }

  fn key(&self) -> &[u8] {
    let (key, value) = self.bounds();
    &self.data[key..value]
  }

  fn entry(&self) -> Entry<'_> {
    Entry {
      value: &self.data[self.bounds().1..],
      touched: self.touched,
      expires: self.expires,
    }
  }

  /// Takes the entry out, leaving the cell free.
  fn take(&mut self) -> Removed {
    let (key, value) = self.bounds();
    Removed::new(std::mem::take(&mut self.data), key, value, self.expires)
  }
}

/// A cell's data for `key` and `value`: the key's length first, in one
/// byte when under 128, else in three (the first with its top bit set; keys
/// are at most 64 KiB), then the key, then the value.
fn prefix(key: &[u8], value: &[u8]) -> Box<[u8]> {
  let n = key.len();
  // Exactly as long as it will be: no reallocation when boxed.
  let head = if n < 0x80 { 1 } else { 3 };
  let mut data = Vec::with_capacity(head + n + value.len());
  if n < 0x80 {
    data.push(n as u8);
  } else {
    data.extend_from_slice(&[0x80 | (n >> 16) as u8, (n >> 8) as u8, n as u8]);
  }
  data.extend_from_slice(key);
  data.extend_from_slice(value);
  data.into_boxed_slice()
}

/// Where the key and the value start in data made by [`prefix`].
fn bounds(data: &[u8]) -> (usize, usize) {
  match data.first() {
    Some(&n) if n < 0x80 => (1, 1 + n as usize),
    Some(&high) => {
      let n = ((high & 0x7F) as usize) << 16 | (data[1] as usize) << 8 | data[2] as usize;
      (3, 3 + n)
    }
    None => (0, 0),
  }
}

/// The heap storage (see [`Storage`] for what it promises).
pub struct Table {
  index: HashTable<u32>,
  slots: Vec<Cell>,
  /// Free slots, chained through `older`.
  free: u32,
  newest: u32,
  oldest: u32,
  len: usize,
  bytes: usize,
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
    }
  }
}

impl Storage for Table {
  fn len(&self) -> usize {
    self.len
  }

  /// Key plus value bytes of every entry.
  fn bytes(&self) -> usize {
    self.bytes
  }

  fn find(&self, key: &[u8]) -> Option<(Slot, Entry<'_>)> {
    let hash = hash_key(key);
    let index = self.index_of(key, hash)?;
    Some((Slot { index, hash }, self.slots[index as usize].entry()))
  }

  fn touch(&mut self, found: Slot, at: u64) -> Option<(&[u8], Entry<'_>)> {
    let i = found.index;
    let slot = self.slots.get(i as usize)?;
    // A freed slot has no data, and a reused one another key.
    if slot.data.is_empty() || hash_key(slot.key()) != found.hash {
      return None;
    }
    self.detach(i);
    self.attach_newest(i);
    let slot = &mut self.slots[i as usize];
    slot.touched = slot.touched.max(at);
    Some((slot.key(), slot.entry()))
  }

  /// Changes an entry's TTL deadline without changing its recency.
  fn set_expires(&mut self, key: &[u8], expires: u64) {
    if let Some(i) = self.index_of(key, hash_key(key)) {
      self.slots[i as usize].expires = expires;
    }
  }

  /// Stores `value` under `key` as the most recently used entry; answers
  /// the entry it replaced.
  fn insert(&mut self, key: &[u8], value: &[u8], touched: u64, expires: u64) -> Option<Removed> {
    let data = prefix(key, value);
    self.bytes += key.len() + value.len();
    let hash = hash_key(key);
    if let Some(i) = self.index_of(key, hash) {
      self.detach(i);
      self.attach_newest(i);
      let slot = &mut self.slots[i as usize];
      let old = slot.take();
      slot.data = data;
      slot.touched = touched;
      slot.expires = expires;
      self.bytes -= old.size();
      return Some(old);
    }
    let slot = Cell {
      data,
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
    let Table { index, slots, .. } = self;
    index.insert_unique(hash, i, |&j| hash_key(slots[j as usize].key()));
    self.attach_newest(i);
    self.len += 1;
    None
  }

  /// Removes an entry and answers it.
  fn remove(&mut self, key: &[u8]) -> Option<Removed> {
    let hash = hash_key(key);
    let slots = &self.slots;
    let found = self
      .index
      .find_entry(hash, |&i| slots[i as usize].key() == key)
      .ok()?;
    let (i, _) = found.remove();
    Some(self.release(i))
  }

  /// The least recently used entry.
  fn oldest(&self) -> Option<(&[u8], Entry<'_>)> {
    match self.oldest {
      NIL => None,
      i => {
        let slot = &self.slots[i as usize];
        Some((slot.key(), slot.entry()))
      }
    }
  }

  /// Walks from the least recently used end: past the older entries of
  /// other namespaces, to the first of `ns`.
  fn oldest_in(&self, ns: &[u8]) -> Option<(&[u8], Entry<'_>)> {
    let mut i = self.oldest;
    while i != NIL {
      let slot = &self.slots[i as usize];
      if super::same(split(slot.key()).0, ns) {
        return Some((slot.key(), slot.entry()));
      }
      i = slot.newer;
    }
    None
  }

  /// Every entry with its key, most recently used first.
  fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
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
}

impl Table {
  fn index_of(&self, key: &[u8], hash: u64) -> Option<u32> {
    self
      .index
      .find(hash, |&i| self.slots[i as usize].key() == key)
      .copied()
  }

  /// Frees slot `i` (already out of the index) and answers what it held.
  fn release(&mut self, i: u32) -> Removed {
    self.detach(i);
    let slot = &mut self.slots[i as usize];
    let removed = slot.take();
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
  use crate::store::storage::NEVER;

  #[test]
  fn keeps_recency_order_and_reuses_free_slots() {
    let mut t = Table::default();
    t.insert(b"a", b"1", 0, NEVER);
    t.insert(b"b", b"22", 0, NEVER);
    t.insert(b"c", b"333", 0, NEVER);
    assert_eq!(t.keys().collect::<Vec<_>>(), vec![&b"c"[..], b"b", b"a"]);
    let (slot, _) = t.find(b"a").unwrap();
    assert_eq!(t.touch(slot, 5).map(|(key, _)| key), Some(&b"a"[..]));
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

  #[test]
  fn keys_of_every_length_read_back_and_a_cell_is_40_bytes() {
    assert_eq!(std::mem::size_of::<Cell>(), 40);
    let mut t = Table::default();
    for n in [0, 1, 127, 128, 255, 256, 4096, 65_535, 65_536] {
      let key = vec![b'k'; n];
      let value = format!("value of {n}");
      assert!(t.insert(&key, value.as_bytes(), 0, NEVER).is_none());
      assert_eq!(t.peek(&key).unwrap().value, value.as_bytes());
      assert_eq!(t.find(&key).map(|(_, e)| e.value.len()), Some(value.len()));
      let old = t.insert(&key, b"v", 0, NEVER).unwrap();
      assert_eq!(
        (old.value(), old.size()),
        (value.as_bytes(), n + value.len())
      );
    }
    assert_eq!(t.keys().map(<[u8]>::len).max(), Some(65_536));
    assert_eq!(
      t.bytes(),
      [0, 1, 127, 128, 255, 256, 4096, 65_535, 65_536]
        .iter()
        .sum::<usize>()
        + 9
    );
    let removed = t.remove(&[b'k'; 128]).unwrap();
    assert_eq!((removed.value(), removed.size()), (&b"v"[..], 129));
  }

  #[test]
  fn a_use_of_a_slot_that_changed_hands_is_ignored() {
    let mut t = Table::default();
    t.insert(b"a", b"1", 0, NEVER);
    t.insert(b"b", b"2", 0, NEVER);
    let (slot, _) = t.find(b"a").unwrap();
    t.remove(b"a").unwrap();
    assert_eq!(t.touch(slot, 5), None, "a freed slot");
    t.insert(b"c", b"3", 1, NEVER);
    assert_eq!(t.find(b"c").unwrap().0.index, slot.index, "reused");
    assert_eq!(t.touch(slot, 5), None, "a slot holding another key");
    assert_eq!(
      t.oldest().map(|(key, e)| (key, e.touched)),
      Some((&b"b"[..], 0))
    );
    let (fresh, _) = t.find(b"b").unwrap();
    assert_eq!(
      t.touch(fresh, 9).map(|(key, e)| (key, e.touched)),
      Some((&b"b"[..], 9))
    );
    assert_eq!(
      t.touch(fresh, 4).unwrap().1.touched,
      9,
      "an older use does not turn time back"
    );
  }
}
