//! Counters of what the store has done since it was created.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  /// Entries held now (expired ones not yet swept included).
  pub entries: u64,
  /// Encoded key and value bytes held now.
  pub bytes: u64,
  pub hits: u64,
  pub misses: u64,
  pub sets: u64,
  pub deletes: u64,
  /// Entries removed because their idle time ran out.
  pub expirations: u64,
  /// Entries removed to stay within the entry bound.
  pub evictions: u64,
}
