//! What a store is allowed to hold and for how long.

use std::time::Duration;

/// Largest encoded key the store accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 64 * 1024;
/// Default for [`StoreConfig::max_value_bytes`]: 16 MiB of encoded value.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
  /// Evict the least recently used entries beyond this many (`{cache: {type: 'LRU', max}}`).
  pub max_entries: Option<usize>,
  /// Evict the least recently used entries while keys and values take more bytes than this.
  pub max_bytes: Option<usize>,
  /// Remove entries not read or written for this long (`{cache: {type: 'expire', expire}}`).
  pub idle_expiry: Option<Duration>,
  /// Reject values whose encoding is longer than this.
  pub max_value_bytes: usize,
}

/// Bounds on what one namespace holds (`ns(name, {max, maxBytes})`), enforced
/// on that namespace alone, beside the store-wide ones of [`StoreConfig`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
  /// Evict the namespace's least recently used entries beyond this many.
  pub max_entries: Option<usize>,
  /// Evict the namespace's least recently used entries while its keys and values take more bytes than this.
  pub max_bytes: Option<usize>,
}

impl Bounds {
  pub fn is_none(&self) -> bool {
    self.max_entries.is_none() && self.max_bytes.is_none()
  }
}

impl StoreConfig {
  /// The idle expiry in whole milliseconds (at least 1), as the store and
  /// what publishes it count it.
  pub fn idle_ms(&self) -> Option<u64> {
    self
      .idle_expiry
      .map(|idle| (idle.as_millis() as u64).max(1))
  }
}

impl Default for StoreConfig {
  fn default() -> Self {
    StoreConfig {
      max_entries: None,
      max_bytes: None,
      idle_expiry: None,
      max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
    }
  }
}
