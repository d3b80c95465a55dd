//! What the store reports to an observer (the watch registry) about the
//! changes each transaction made, in the order it made them.

/// Why a key changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
  /// Written (set, incr, getset, cas, mset...): the change carries the new value.
  Set,
  /// Removed by a caller (delete, remove, clear).
  Delete,
  /// Removed because its TTL or idle time ran out.
  Expire,
  /// Removed to stay within the entry or byte bound.
  Evict,
}

impl ChangeKind {
  pub fn name(self) -> &'static str {
    match self {
      ChangeKind::Set => "set",
      ChangeKind::Delete => "delete",
      ChangeKind::Expire => "expire",
      ChangeKind::Evict => "evict",
    }
  }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
  pub kind: ChangeKind,
  /// The stored (namespace-qualified) key.
  pub key: Box<[u8]>,
  /// The new value, for [`ChangeKind::Set`].
  pub value: Option<Box<[u8]>>,
}

/// Told about every transaction's changes while the store's lock is still
/// held, so observers see changes in the order the store applied them. It
/// must not block, and must not call back into the store.
pub trait Observer: Send + Sync {
  fn changed(&self, changes: &[Change]);
}
