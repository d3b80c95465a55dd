//! Where entries live: a map kept in recency order, with byte accounting.
//!
//! This is the store's only storage. Policies (LRU bound, sliding expiry)
//! are written against the small interface below, so another storage (a
//! shared-memory segment, later) can take its place without touching them.

use std::time::Instant;

use lru::LruCache;

/// One stored value: its encoded bytes and when it was last read or written.
#[derive(Debug)]
pub struct Entry {
  pub value: Box<[u8]>,
  pub touched: Instant,
}

/// Keys and values are opaque encoded bytes. The least recently touched
/// entry is always the oldest, so both LRU eviction and sliding expiry work
/// from the same end.
pub struct Table {
  map: LruCache<Box<[u8]>, Entry>,
  bytes: usize,
}

impl Default for Table {
  fn default() -> Self {
    Table {
      map: LruCache::unbounded(),
      bytes: 0,
    }
  }
}

impl Table {
  pub fn len(&self) -> usize {
    self.map.len()
  }

  /// Encoded key plus value bytes of every entry.
  pub fn bytes(&self) -> usize {
    self.bytes
  }

  /// Looks at an entry without changing its recency.
  pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
    self.map.peek(key)
  }

  /// Marks an entry as used now and returns it.
  pub fn touch(&mut self, key: &[u8], now: Instant) -> Option<&Entry> {
    let entry = self.map.get_mut(key)?;
    entry.touched = now;
    Some(entry)
  }

  /// Stores `value` under `key` as the most recently used entry.
  pub fn insert(&mut self, key: &[u8], value: Box<[u8]>, now: Instant) {
    let added = value.len();
    if let Some(entry) = self.map.get_mut(key) {
      self.bytes = self.bytes - entry.value.len() + added;
      entry.value = value;
      entry.touched = now;
    } else {
      self.bytes += key.len() + added;
      self.map.push(
        key.into(),
        Entry {
          value,
          touched: now,
        },
      );
    }
  }

  /// Removes an entry; answers whether there was one.
  pub fn remove(&mut self, key: &[u8]) -> bool {
    match self.map.pop_entry(key) {
      Some((key, entry)) => {
        self.bytes -= key.len() + entry.value.len();
        true
      }
      None => false,
    }
  }

  /// The least recently used entry.
  pub fn oldest(&self) -> Option<&Entry> {
    self.map.peek_lru().map(|(_, entry)| entry)
  }

  /// Removes the least recently used entry; answers whether there was one.
  pub fn remove_oldest(&mut self) -> bool {
    match self.map.pop_lru() {
      Some((key, entry)) => {
        self.bytes -= key.len() + entry.value.len();
        true
      }
      None => false,
    }
  }
}
