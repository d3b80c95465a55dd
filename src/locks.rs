//! Named locks with FIFO waiters, leases and fencing tokens.
//!
//! A lock is held by an *owner* (one connected process: a socket
//! connection, a worker on the IPC channel, or the hosting process itself)
//! for at most its lease. Waiters are served in the order they asked.
//! Every grant carries a fencing token larger than any before it, so a
//! resource guarded by the lock can refuse a holder whose lease already
//! ran out. When an owner goes away (its process exited or was killed),
//! its locks are released and its waiting requests dropped at once.
//!
//! The table only decides; it answers the grants its changes produce, and
//! the caller delivers them to their owners.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Who holds or waits: a connection or process, numbered by the host.
pub type Owner = u64;

/// A lock given to a waiter that asked earlier: tell `owner` that its
/// request `request` now holds the lock with `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
  pub owner: Owner,
  pub request: u64,
  pub key: Box<[u8]>,
  pub token: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Acquire {
  /// Held now, with this fencing token.
  Granted(u64),
  /// Someone holds it; the request waits its turn (answered later by a [`Grant`]).
  Queued,
  /// Someone holds it and the caller would not wait.
  Busy,
}

#[derive(Default)]
pub struct LockTable {
  locks: HashMap<Box<[u8]>, Lock>,
  last_token: u64,
}

struct Lock {
  holder: Holder,
  waiters: VecDeque<Waiter>,
}

struct Holder {
  owner: Owner,
  token: u64,
  until: Instant,
}

struct Waiter {
  owner: Owner,
  request: u64,
  lease: Duration,
}

impl LockTable {
  /// Takes `key` for `lease` if it is free; otherwise queues the request
  /// (when `wait`) or answers [`Acquire::Busy`].
  pub fn acquire(
    &mut self,
    key: &[u8],
    owner: Owner,
    request: u64,
    lease: Duration,
    wait: bool,
    now: Instant,
  ) -> Acquire {
    self.expire_lease(key, now);
    match self.locks.get_mut(key) {
      None => {
        self.last_token += 1;
        let holder = Holder {
          owner,
          token: self.last_token,
          until: now + lease,
        };
        self.locks.insert(
          key.into(),
          Lock {
            holder,
            waiters: VecDeque::new(),
          },
        );
        Acquire::Granted(self.last_token)
      }
      Some(lock) if wait => {
        lock.waiters.push_back(Waiter {
          owner,
          request,
          lease,
        });
        Acquire::Queued
      }
      Some(_) => Acquire::Busy,
    }
  }

  /// Releases `key` if `token` still holds it; answers whether it did, and
  /// the grant to the next waiter if there is one.
  pub fn release(&mut self, key: &[u8], token: u64, now: Instant) -> (bool, Option<Grant>) {
    match self.locks.get(key) {
      Some(lock) if lock.holder.token == token => (true, self.pass_on(key, now)),
      _ => (false, None),
    }
  }

  /// Gives the holder of `token` more time; answers whether it still held the lock.
  pub fn extend(&mut self, key: &[u8], token: u64, lease: Duration, now: Instant) -> bool {
    self.expire_lease(key, now);
    match self.locks.get_mut(key) {
      Some(lock) if lock.holder.token == token => {
        lock.holder.until = now + lease;
        true
      }
      _ => false,
    }
  }

  /// A waiting request gave up (its wait ran out): drop it from the queue.
  /// Answers whether it was still waiting.
  pub fn cancel(&mut self, key: &[u8], owner: Owner, request: u64) -> bool {
    let Some(lock) = self.locks.get_mut(key) else {
      return false;
    };
    let before = lock.waiters.len();
    lock
      .waiters
      .retain(|w| !(w.owner == owner && w.request == request));
    lock.waiters.len() != before
  }

  /// `owner` is gone: release what it held, forget what it waited for.
  pub fn owner_gone(&mut self, owner: Owner, now: Instant) -> Vec<Grant> {
    let mut held = Vec::new();
    for (key, lock) in self.locks.iter_mut() {
      lock.waiters.retain(|w| w.owner != owner);
      if lock.holder.owner == owner {
        held.push(key.clone());
      }
    }
    held
      .iter()
      .filter_map(|key| self.pass_on(key, now))
      .collect()
  }

  /// Releases every lock whose lease ran out; answers the grants that follow.
  pub fn expire_leases(&mut self, now: Instant) -> Vec<Grant> {
    let expired: Vec<Box<[u8]>> = self
      .locks
      .iter()
      .filter(|(_, lock)| lock.holder.until <= now)
      .map(|(key, _)| key.clone())
      .collect();
    expired
      .iter()
      .filter_map(|key| self.pass_on(key, now))
      .collect()
  }

  /// The earliest lease end, for a sweeper to know when to look again.
  pub fn next_lease_end(&self) -> Option<Instant> {
    self.locks.values().map(|lock| lock.holder.until).min()
  }

  /// Locks held now.
  pub fn len(&self) -> usize {
    self.locks.len()
  }

  pub fn is_empty(&self) -> bool {
    self.locks.is_empty()
  }

  fn expire_lease(&mut self, key: &[u8], now: Instant) -> Option<Grant> {
    match self.locks.get(key) {
      Some(lock) if lock.holder.until <= now => self.pass_on(key, now),
      _ => None,
    }
  }

  /// The holder of `key` is done: the first waiter takes over, or the lock goes.
  fn pass_on(&mut self, key: &[u8], now: Instant) -> Option<Grant> {
    let lock = self.locks.get_mut(key)?;
    match lock.waiters.pop_front() {
      Some(next) => {
        self.last_token += 1;
        lock.holder = Holder {
          owner: next.owner,
          token: self.last_token,
          until: now + next.lease,
        };
        Some(Grant {
          owner: next.owner,
          request: next.request,
          key: key.into(),
          token: self.last_token,
        })
      }
      None => {
        self.locks.remove(key);
        None
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const LEASE: Duration = Duration::from_secs(10);

  #[test]
  fn waiters_are_served_in_order_with_growing_tokens() {
    let mut table = LockTable::default();
    let now = Instant::now();
    assert_eq!(
      table.acquire(b"k", 1, 10, LEASE, true, now),
      Acquire::Granted(1)
    );
    assert_eq!(
      table.acquire(b"k", 2, 20, LEASE, true, now),
      Acquire::Queued
    );
    assert_eq!(
      table.acquire(b"k", 3, 30, LEASE, true, now),
      Acquire::Queued
    );
    assert_eq!(table.acquire(b"k", 4, 40, LEASE, false, now), Acquire::Busy);
    let (released, next) = table.release(b"k", 1, now);
    assert!(released);
    assert_eq!(
      next.map(|g| (g.owner, g.request, g.token)),
      Some((2, 20, 2))
    );
    let (_, next) = table.release(b"k", 2, now);
    assert_eq!(next.map(|g| (g.owner, g.token)), Some((3, 3)));
    assert_eq!(table.release(b"k", 3, now), (true, None));
    assert!(table.is_empty());
  }

  #[test]
  fn a_stale_token_releases_nothing() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", 1, 1, LEASE, true, now);
    assert_eq!(table.release(b"k", 99, now), (false, None));
    assert_eq!(table.len(), 1);
  }

  #[test]
  fn an_owner_that_goes_away_hands_its_locks_on_and_stops_waiting() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"a", 1, 1, LEASE, true, now);
    table.acquire(b"b", 2, 2, LEASE, true, now);
    table.acquire(b"a", 2, 3, LEASE, true, now); // 2 waits for a
    table.acquire(b"b", 1, 4, LEASE, true, now); // 1 waits for b
    table.acquire(b"b", 3, 5, LEASE, true, now); // 3 waits for b after 1
    let grants = table.owner_gone(1, now);
    assert_eq!(grants.len(), 1);
    assert_eq!(
      (grants[0].owner, grants[0].request, &*grants[0].key),
      (2, 3, &b"a"[..])
    );
    // 1 no longer waits for b: when 2 releases b, 3 gets it.
    let token_b = 2;
    let (_, next) = table.release(b"b", token_b, now);
    assert_eq!(next.map(|g| g.owner), Some(3));
  }

  #[test]
  fn a_lease_that_runs_out_releases_the_lock() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", 1, 1, Duration::from_millis(100), true, now);
    table.acquire(b"k", 2, 2, LEASE, true, now);
    assert_eq!(
      table.next_lease_end(),
      Some(now + Duration::from_millis(100))
    );
    assert!(table
      .expire_leases(now + Duration::from_millis(99))
      .is_empty());
    let grants = table.expire_leases(now + Duration::from_millis(100));
    assert_eq!(
      grants
        .iter()
        .map(|g| (g.owner, g.token))
        .collect::<Vec<_>>(),
      vec![(2, 2)]
    );
    // The old holder's token no longer works.
    assert_eq!(table.release(b"k", 1, now), (false, None));
  }

  #[test]
  fn an_expired_lease_is_noticed_on_acquire_and_extend() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", 1, 1, Duration::from_millis(10), true, now);
    let later = now + Duration::from_millis(10);
    assert!(!table.extend(b"k", 1, LEASE, later));
    assert_eq!(
      table.acquire(b"k", 2, 2, LEASE, false, later),
      Acquire::Granted(2)
    );
    assert!(table.extend(b"k", 2, LEASE, later));
  }

  #[test]
  fn a_cancelled_waiter_is_skipped() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", 1, 1, LEASE, true, now);
    table.acquire(b"k", 2, 2, LEASE, true, now);
    table.acquire(b"k", 3, 3, LEASE, true, now);
    assert!(table.cancel(b"k", 2, 2));
    assert!(!table.cancel(b"k", 2, 2));
    let (_, next) = table.release(b"k", 1, now);
    assert_eq!(next.map(|g| g.owner), Some(3));
  }
}
