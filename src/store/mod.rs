//! The key/value store: one table, guarded by one lock, with an entry-count
//! bound (LRU) and sliding expiry.
//!
//! All access goes through a [`Txn`]: it holds the lock and one reading of
//! the clock, so a whole batch of requests is applied atomically and sees
//! one consistent time.

mod config;
mod stats;
mod table;

use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};

pub use config::{StoreConfig, DEFAULT_MAX_VALUE_BYTES, MAX_KEY_BYTES};
pub use stats::Stats;
use table::Table;

use crate::error::StoreError;

pub struct Store {
  config: StoreConfig,
  state: Mutex<State>,
}

#[derive(Default)]
struct State {
  table: Table,
  stats: Stats,
}

impl Store {
  pub fn new(config: StoreConfig) -> Self {
    Store {
      config,
      state: Mutex::new(State::default()),
    }
  }

  pub fn config(&self) -> &StoreConfig {
    &self.config
  }

  /// Locks the store for a series of operations at the current time.
  pub fn begin(&self) -> Txn<'_> {
    let state = self.state.lock();
    // Read the clock once the lock is held, so times never go backwards
    // from one transaction to the next.
    self.begin_locked(state, Instant::now())
  }

  /// Locks the store for a series of operations at a given time (tests use
  /// this to drive expiry without sleeping).
  pub fn begin_at(&self, now: Instant) -> Txn<'_> {
    self.begin_locked(self.state.lock(), now)
  }

  fn begin_locked<'a>(&'a self, state: MutexGuard<'a, State>, now: Instant) -> Txn<'a> {
    Txn {
      state,
      config: &self.config,
      now,
    }
  }

  /// Number of entries, counting expired ones not yet swept.
  pub fn len(&self) -> usize {
    self.state.lock().table.len()
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Encoded key and value bytes held.
  pub fn bytes(&self) -> usize {
    self.state.lock().table.bytes()
  }

  pub fn stats(&self) -> Stats {
    let state = self.state.lock();
    Stats {
      entries: state.table.len() as u64,
      bytes: state.table.bytes() as u64,
      ..state.stats
    }
  }
}

/// A locked view of the store at one instant.
pub struct Txn<'a> {
  state: MutexGuard<'a, State>,
  config: &'a StoreConfig,
  now: Instant,
}

impl Txn<'_> {
  /// The value under `key`, marking it as used (which also restarts its idle timer).
  pub fn get(&mut self, key: &[u8]) -> Option<&[u8]> {
    let hit = self.drop_if_idle(key);
    let state = &mut *self.state;
    if hit {
      state.stats.hits += 1;
      state.table.touch(key, self.now).map(|entry| &*entry.value)
    } else {
      state.stats.misses += 1;
      None
    }
  }

  /// Stores `value` under `key`, then evicts the least recently used entries
  /// beyond the entry bound.
  pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    self.check(key, value)?;
    self.put(key, value.into());
    Ok(())
  }

  /// Stores every pair, or none of them when one is refused.
  pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), StoreError> {
    for (key, value) in pairs {
      self.check(key, value)?;
    }
    for (key, value) in pairs {
      self.put(key, (*value).into());
    }
    Ok(())
  }

  /// Removes `key`; answers whether a live entry was there.
  pub fn remove(&mut self, key: &[u8]) -> bool {
    let live = self.drop_if_idle(key);
    if live {
      self.state.table.remove(key);
      self.state.stats.deletes += 1;
    }
    live
  }

  /// Adds `by` to the number under `key` (a missing key counts as 0) and
  /// answers the result. A value that is not a number is left as it was.
  pub fn incr(&mut self, key: &[u8], by: f64) -> Result<f64, StoreError> {
    check_key(key)?;
    let current = match self.get(key) {
      None => 0.0,
      Some(bytes) => serde_json::from_slice::<f64>(bytes).map_err(|_| StoreError::NotANumber)?,
    };
    let next = current + by;
    if !next.is_finite() {
      return Err(StoreError::NotANumber);
    }
    self.put(key, format_number(next).into_bytes().into_boxed_slice());
    Ok(next)
  }

  /// Removes up to `limit` entries whose idle time has run out; answers how many.
  pub fn expire_idle(&mut self, limit: usize) -> usize {
    let Some(idle) = self.config.idle_expiry else {
      return 0;
    };
    let mut removed = 0;
    while removed < limit {
      match self.state.table.oldest() {
        Some(entry) if self.now.saturating_duration_since(entry.touched) >= idle => {
          self.state.table.remove_oldest();
          removed += 1;
        }
        _ => break,
      }
    }
    self.state.stats.expirations += removed as u64;
    removed
  }

  fn check(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    check_key(key)?;
    let limit = self.config.max_value_bytes;
    if value.len() > limit {
      return Err(StoreError::ValueTooLarge {
        size: value.len(),
        limit,
      });
    }
    Ok(())
  }

  fn put(&mut self, key: &[u8], value: Box<[u8]>) {
    let state = &mut *self.state;
    state.table.insert(key, value, self.now);
    state.stats.sets += 1;
    if let Some(max) = self.config.max_entries {
      while state.table.len() > max && state.table.remove_oldest() {
        state.stats.evictions += 1;
      }
    }
    // Writes also pay for a little of the expiry sweep, so a busy store
    // stays clean between background sweeps.
    self.expire_idle(8);
  }

  /// Removes `key` when its idle time has run out; answers whether a live entry remains.
  fn drop_if_idle(&mut self, key: &[u8]) -> bool {
    let state = &mut *self.state;
    let Some(entry) = state.table.peek(key) else {
      return false;
    };
    match self.config.idle_expiry {
      Some(idle) if self.now.saturating_duration_since(entry.touched) >= idle => {
        state.table.remove(key);
        state.stats.expirations += 1;
        false
      }
      _ => true,
    }
  }
}

fn check_key(key: &[u8]) -> Result<(), StoreError> {
  if key.len() > MAX_KEY_BYTES {
    return Err(StoreError::KeyTooLarge {
      size: key.len(),
      limit: MAX_KEY_BYTES,
    });
  }
  Ok(())
}

/// Writes a number as JSON that `JSON.parse` reads back to the same value.
fn format_number(n: f64) -> String {
  // Rust prints the shortest text that round-trips, and whole numbers
  // without a fraction, which is what JSON needs.
  format!("{n}")
}

#[cfg(test)]
mod tests;
