//! Counters of what the store has done, kept per namespace.

use std::collections::HashMap;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  /// Entries held now (expired ones not yet swept included).
  pub entries: u64,
  /// Stored key and value bytes held now.
  pub bytes: u64,
  pub hits: u64,
  pub misses: u64,
  pub sets: u64,
  pub deletes: u64,
  /// Entries removed because their TTL or idle time ran out.
  pub expirations: u64,
  /// Entries removed to stay within the entry or byte bound.
  pub evictions: u64,
}

impl Stats {
  fn add(&mut self, other: &Stats) {
    self.entries += other.entries;
    self.bytes += other.bytes;
    self.hits += other.hits;
    self.misses += other.misses;
    self.sets += other.sets;
    self.deletes += other.deletes;
    self.expirations += other.expirations;
    self.evictions += other.evictions;
  }
}

/// Stats of the default namespace and of every namespace used so far,
/// keyed by the namespace's JSON string text.
#[derive(Default)]
pub struct Counters {
  default: Stats,
  named: HashMap<Box<[u8]>, Stats>,
}

impl Counters {
  /// The counters of namespace `ns` (empty: the default namespace).
  pub fn of(&mut self, ns: &[u8]) -> &mut Stats {
    if ns.is_empty() {
      &mut self.default
    } else if self.named.contains_key(ns) {
      self.named.get_mut(ns).expect("checked above")
    } else {
      self.named.entry(ns.into()).or_default()
    }
  }

  pub fn get(&self, ns: &[u8]) -> Stats {
    if ns.is_empty() {
      self.default
    } else {
      self.named.get(ns).copied().unwrap_or_default()
    }
  }

  pub fn total(&self) -> Stats {
    let mut total = self.default;
    for stats in self.named.values() {
      total.add(stats);
    }
    total
  }

  /// Every namespace with its counters, the default one (empty name) first.
  pub fn each(&self) -> impl Iterator<Item = (&[u8], &Stats)> {
    std::iter::once((&b""[..], &self.default))
      .chain(self.named.iter().map(|(ns, stats)| (&**ns, stats)))
  }
}
