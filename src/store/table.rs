//! Where entries live: a map kept in recency order, with byte accounting.
//!
//! This is the store's only storage. Policies (LRU bound, expiry, TTLs,
//! namespaces) are written against the small interface below, so another
//! storage (a shared-memory segment, later) can take its place without
//! touching them.

use lru::LruCache;

/// `Entry::expires` of an entry without a TTL.
pub const NEVER: u64 = u64::MAX;

/// One stored value. Times are store milliseconds (see `Store`).
#[derive(Debug)]
pub struct Entry {
  pub value: Box<[u8]>,
  /// When it was last read or written.
  pub touched: u64,
  /// When its TTL runs out, or [`NEVER`].
  pub expires: u64,
}

/// Keys and values are opaque bytes. The least recently touched entry is
/// always the oldest, so both LRU eviction and sliding expiry work from the
/// same end.
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

/// The bytes an entry is accounted for.
pub fn size_of(key: &[u8], entry: &Entry) -> usize {
  key.len() + entry.value.len()
}

impl Table {
  pub fn len(&self) -> usize {
    self.map.len()
  }

  /// Key plus value bytes of every entry.
  pub fn bytes(&self) -> usize {
    self.bytes
  }

  /// Looks at an entry without changing its recency.
  pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
    self.map.peek(key)
  }

  /// Marks an entry as used at `now` and returns it.
  pub fn touch(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
    let entry = self.map.get_mut(key)?;
    entry.touched = now;
    Some(entry)
  }

  /// Changes an entry's TTL deadline without changing its recency.
  pub fn set_expires(&mut self, key: &[u8], expires: u64) {
    if let Some(entry) = self.map.peek_mut(key) {
      entry.expires = expires;
    }
  }

  /// Stores `entry` under `key` as the most recently used; answers the entry it replaced.
  pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
    self.bytes += size_of(key, &entry);
    if let Some(slot) = self.map.get_mut(key) {
      let old = std::mem::replace(slot, entry);
      self.bytes -= size_of(key, &old);
      Some(old)
    } else {
      self.map.push(key.into(), entry);
      None
    }
  }

  /// Removes an entry and answers it.
  pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
    let (key, entry) = self.map.pop_entry(key)?;
    self.bytes -= size_of(&key, &entry);
    Some(entry)
  }

  /// The least recently used entry.
  pub fn oldest(&self) -> Option<(&[u8], &Entry)> {
    self.map.peek_lru().map(|(key, entry)| (&**key, entry))
  }

  /// Every key, most recently used first.
  pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
    self.map.iter().map(|(key, _)| &**key)
  }
}
