//! The seam between the store's policies and where its entries live.
//!
//! [`super::Store`] writes its policies (namespaces, TTLs, the LRU bound,
//! sliding expiry, byte accounting) against [`Storage`] alone; the heap
//! [`super::table::Table`] is today's implementation. Another one (a
//! segment other processes map, so they can read without asking the host)
//! takes its place by implementing the same trait.
//!
//! What a storage shares with readers in other processes is fixed here, not
//! left to each implementation: times are store milliseconds
//! ([`super::clock`], the same in every process), and keys are found by
//! [`hash_key`], a hash with a fixed seed, so any process computes the same
//! hash for the same key.

/// `expires` of an entry without a TTL.
pub const NEVER: u64 = u64::MAX;

/// The seed of [`hash_key`]: the bytes of "SHAREDME" read as a little-endian u64.
pub const HASH_SEED: u64 = u64::from_le_bytes(*b"SHAREDME");

/// The hash every storage and reader uses for a stored key: XXH3-64 of its
/// bytes with [`HASH_SEED`]. XXH3 is a published, versioned algorithm, so
/// the value does not depend on this build.
pub fn hash_key(key: &[u8]) -> u64 {
  xxhash_rust::xxh3::xxh3_64_with_seed(key, HASH_SEED)
}

/// One stored entry, as a storage shows it. Times are store milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
  pub value: &'a [u8],
  /// When it was last read or written.
  pub touched: u64,
  /// When its TTL runs out, or [`NEVER`].
  pub expires: u64,
}

/// Where a found entry sits: enough for a use of it to be applied later
/// ([`Storage::touch`]), even after the entry has moved on. A slot that
/// has since been freed, or given to another key, is told apart by `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
  pub index: u32,
  /// [`hash_key`] of the entry's key.
  pub hash: u64,
}

/// An entry taken out of a storage (removed, or replaced by a new value).
#[derive(Debug)]
pub struct Removed {
  data: Box<[u8]>,
  key_at: usize,
  value_at: usize,
  pub expires: u64,
}

impl Removed {
  /// `data` holds, from `key_at`, the key's bytes, then from `value_at`
  /// the value's (what comes before `key_at` is the storage's own).
  pub fn new(data: Box<[u8]>, key_at: usize, value_at: usize, expires: u64) -> Self {
    Removed {
      data,
      key_at,
      value_at,
      expires,
    }
  }

  pub fn value(&self) -> &[u8] {
    &self.data[self.value_at..]
  }

  /// The bytes the entry was accounted for: its key's and value's.
  pub fn size(&self) -> usize {
    self.data.len() - self.key_at
  }
}

/// Keys and values are opaque bytes. Entries are kept in recency order:
/// the least recently touched is always the oldest, so both LRU eviction
/// and sliding expiry work from the same end. Nothing that only looks
/// (`find`, `peek`, `oldest`, `entries`) changes anything.
pub trait Storage: Send {
  fn len(&self) -> usize;

  fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Key plus value bytes of every entry.
  fn bytes(&self) -> usize;

  /// Finds an entry, and where it sits.
  fn find(&self, key: &[u8]) -> Option<(Slot, Entry<'_>)>;

  fn peek(&self, key: &[u8]) -> Option<Entry<'_>> {
    self.find(key).map(|(_, entry)| entry)
  }

  /// A use of the entry at `slot` at `at`: it becomes the most recently
  /// used, touched no earlier than `at`. Answers its key and entry, or None
  /// (and does nothing) when the slot no longer holds the entry found there.
  fn touch(&mut self, slot: Slot, at: u64) -> Option<(&[u8], Entry<'_>)>;

  /// Changes an entry's TTL deadline without changing its recency.
  fn set_expires(&mut self, key: &[u8], expires: u64);

  /// Stores `value` under `key` as the most recently used entry; answers
  /// the entry it replaced.
  fn insert(&mut self, key: &[u8], value: &[u8], touched: u64, expires: u64) -> Option<Removed>;

  /// Removes an entry and answers it.
  fn remove(&mut self, key: &[u8]) -> Option<Removed>;

  /// The least recently used entry.
  fn oldest(&self) -> Option<(&[u8], Entry<'_>)>;

  /// The least recently used entry whose stored key is in namespace `ns`
  /// (see [`super::split`]). This default walks every entry; a storage that
  /// can walk from the oldest end does better.
  fn oldest_in(&self, ns: &[u8]) -> Option<(&[u8], Entry<'_>)> {
    self
      .entries()
      .filter(|(key, _)| super::same(super::split(key).0, ns))
      .last()
  }

  /// Every entry with its key, most recently used first.
  fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)>;

  /// The key a shared segment this storage publishes holds at `slot`, if
  /// its hash there is `hash` (a reader's report of a read; see
  /// [`super::Txn::use_published`]). None for a storage that publishes nothing.
  fn published_key(&self, _slot: u32, _hash: u64) -> Option<Vec<u8>> {
    None
  }

  /// Bytes of the shared segment this storage publishes to (0: none).
  fn published_bytes(&self) -> usize {
    0
  }

  /// Every key, most recently used first.
  fn keys(&self) -> impl Iterator<Item = &[u8]> {
    self.entries().map(|(key, _)| key)
  }
}
