//! Uses of entries that were read without the store's lock, applied later.
//!
//! A read that only looks (a reader in another process, say) cannot move
//! the entry in the LRU order, restart its idle timer or count a hit. It
//! records a [`Use`] here instead, and the store applies every recorded
//! use, in order, at the start of its next transaction, before anything
//! else can evict or expire by recency. The log is bounded: when it is full
//! a use is dropped (and counted), so a flood of reads can cost the host
//! neither memory nor time; a dropped use only leaves an entry's recency
//! and idle time as they were, and its hit uncounted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::storage::Slot;

/// Uses waiting to be applied at most; more are dropped.
pub const CAPACITY: usize = 4096;

/// One read of the entry at `slot`, at store millisecond `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Use {
  pub slot: Slot,
  pub at: u64,
}

#[derive(Default)]
pub struct UseLog {
  queue: Mutex<Vec<Use>>,
  /// Whether `queue` may hold something: checked without its lock.
  pending: AtomicBool,
  dropped: AtomicU64,
}

impl UseLog {
  /// Records a use; answers false when the log was full and it was dropped.
  pub fn record(&self, used: Use) -> bool {
    let mut queue = self.queue.lock();
    if queue.len() >= CAPACITY {
      self.dropped.fetch_add(1, Ordering::Relaxed);
      return false;
    }
    queue.push(used);
    self.pending.store(true, Ordering::Release);
    true
  }

  /// Takes every recorded use, oldest first.
  pub fn take(&self) -> Vec<Use> {
    if !self.pending.load(Ordering::Acquire) {
      return Vec::new();
    }
    let mut queue = self.queue.lock();
    self.pending.store(false, Ordering::Release);
    std::mem::take(&mut *queue)
  }

  /// Uses dropped so far because the log was full.
  pub fn dropped(&self) -> u64 {
    self.dropped.load(Ordering::Relaxed)
  }
}
