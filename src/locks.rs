//! Named locks with FIFO waiters, leases and fencing tokens.
//!
//! A lock is held by an *owner* (one connected process: a socket
//! connection, a worker on the IPC channel, or the hosting process itself)
//! for at most its lease. Waiters are served in the order they asked, each
//! for at most its own wait. Every grant carries a fencing token larger than
//! any before it, so a resource guarded by the lock can refuse a holder
//! whose lease already ran out. When an owner goes away (its process exited
//! or was killed), its locks are released and its waiting requests dropped
//! at once.
//!
//! Fencing tokens keep growing across hosts: a token is
//! `epoch * 2^32 + n`, where `n` counts this host's grants and the epoch
//! is the host's number in the line of hosts of one store (the next host
//! of a store found by name takes the previous one's epoch plus one, see
//! lib/election.js). Epochs below 2^21 keep every token a safe integer for
//! JavaScript (below 2^53); a host makes up to 2^32 grants before its
//! tokens run into the next epoch's (they still grow).
//!
//! The table only decides. A request that cannot be answered at once is
//! answered later by a [`Notice`], which the table hands back from whatever
//! call produced it; the caller delivers notices to their owners.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Who holds or waits: a connection or process, numbered by the host.
pub type Owner = u64;

/// The later answer to a request that waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
  /// `owner`'s request `request` now holds `key` with fencing token `token`.
  Granted {
    owner: Owner,
    request: u64,
    key: Box<[u8]>,
    token: u64,
  },
  /// `owner`'s request `request` waited its whole wait for `key` in vain.
  TimedOut {
    owner: Owner,
    request: u64,
    key: Box<[u8]>,
  },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Acquire {
  /// Held now, with this fencing token.
  Granted(u64),
  /// Someone holds it; the request waits its turn (answered by a [`Notice`]).
  Queued,
  /// Someone holds it and the caller would not wait.
  Busy,
}

/// What a request for a lock asks.
#[derive(Debug, Clone, Copy)]
pub struct LockRequest {
  pub owner: Owner,
  /// The caller's id for the request, given back in its notice.
  pub request: u64,
  /// How long the lock is held at most once granted.
  pub lease: Duration,
  /// How long to wait for it: zero to not wait, `None` to wait as long as it takes.
  pub wait: Option<Duration>,
}

/// Bits of a fencing token below its epoch.
pub const EPOCH_SHIFT: u32 = 32;
/// The largest epoch: tokens then stay below 2^53.
pub const MAX_EPOCH: u64 = (1 << (53 - EPOCH_SHIFT)) - 1;

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
  until: Option<Instant>,
}

impl LockTable {
  /// Takes `key` if it is free; otherwise queues the request (when it may
  /// wait) or answers [`Acquire::Busy`]. A lease of the current holder that
  /// has run out is noticed here, which may produce notices for others.
  pub fn acquire(&mut self, key: &[u8], ask: LockRequest, now: Instant) -> (Acquire, Vec<Notice>) {
    let notices = self.expire_key(key, now);
    let answer = match self.locks.get_mut(key) {
      None => {
        let token = self.next_token();
        let holder = Holder {
          owner: ask.owner,
          token,
          until: now + ask.lease,
        };
        self.locks.insert(
          key.into(),
          Lock {
            holder,
            waiters: VecDeque::new(),
          },
        );
        Acquire::Granted(token)
      }
      Some(_) if ask.wait == Some(Duration::ZERO) => Acquire::Busy,
      Some(lock) => {
        lock.waiters.push_back(Waiter {
          owner: ask.owner,
          request: ask.request,
          lease: ask.lease,
          until: ask.wait.map(|wait| now + wait),
        });
        Acquire::Queued
      }
    };
    (answer, notices)
  }

  /// Releases `key` if `owner` still holds it with `token`; answers whether
  /// it did, and the notice to the next waiter if there is one. Tokens are
  /// small sequential numbers anyone can guess, so the token alone is not
  /// enough: only the owner the lock was granted to can release it.
  pub fn release(
    &mut self,
    key: &[u8],
    owner: Owner,
    token: u64,
    now: Instant,
  ) -> (bool, Vec<Notice>) {
    match self.locks.get(key) {
      Some(lock) if lock.holder.is(owner, token) => (true, self.pass_on(key, now)),
      _ => (false, Vec::new()),
    }
  }

  /// Gives `owner`, holding `key` with `token`, a new lease from now;
  /// answers whether it still held the lock.
  pub fn extend(
    &mut self,
    key: &[u8],
    owner: Owner,
    token: u64,
    lease: Duration,
    now: Instant,
  ) -> (bool, Vec<Notice>) {
    let notices = self.expire_key(key, now);
    match self.locks.get_mut(key) {
      Some(lock) if lock.holder.is(owner, token) => {
        lock.holder.until = now + lease;
        (true, notices)
      }
      _ => (false, notices),
    }
  }

  /// `owner` is gone: release what it held, forget what it waited for.
  pub fn owner_gone(&mut self, owner: Owner, now: Instant) -> Vec<Notice> {
    let mut held = Vec::new();
    for (key, lock) in self.locks.iter_mut() {
      lock.waiters.retain(|w| w.owner != owner);
      if lock.holder.owner == owner {
        held.push(key.clone());
      }
    }
    held.iter().flat_map(|key| self.pass_on(key, now)).collect()
  }

  /// Ends every lease and every wait that has run out, answering the notices that follow.
  pub fn expire(&mut self, now: Instant) -> Vec<Notice> {
    let due: Vec<Box<[u8]>> = self
      .locks
      .iter()
      .filter(|(_, lock)| lock.next_deadline() <= now)
      .map(|(key, _)| key.clone())
      .collect();
    due
      .iter()
      .flat_map(|key| self.expire_key(key, now))
      .collect()
  }

  /// When the next lease or wait runs out, for a timer to know when to look again.
  pub fn next_deadline(&self) -> Option<Instant> {
    self.locks.values().map(Lock::next_deadline).min()
  }

  /// Locks held now.
  pub fn len(&self) -> usize {
    self.locks.len()
  }

  pub fn is_empty(&self) -> bool {
    self.locks.is_empty()
  }

  /// Starts this table's tokens in `epoch` (clamped to [`MAX_EPOCH`]):
  /// every later token is above `epoch * 2^32`. Tokens never go down: a
  /// lower epoch than the tokens already given changes nothing.
  pub fn set_epoch(&mut self, epoch: u64) {
    let base = epoch.min(MAX_EPOCH) << EPOCH_SHIFT;
    self.last_token = self.last_token.max(base);
  }

  fn next_token(&mut self) -> u64 {
    self.last_token += 1;
    self.last_token
  }

  /// Ends the waits on `key` that ran out, then its lease if that ran out.
  fn expire_key(&mut self, key: &[u8], now: Instant) -> Vec<Notice> {
    let Some(lock) = self.locks.get_mut(key) else {
      return Vec::new();
    };
    let mut notices = Vec::new();
    lock.waiters.retain(|w| {
      let waiting = w.until.is_none_or(|until| until > now);
      if !waiting {
        notices.push(Notice::TimedOut {
          owner: w.owner,
          request: w.request,
          key: key.into(),
        });
      }
      waiting
    });
    if lock.holder.until <= now {
      notices.extend(self.pass_on(key, now));
    }
    notices
  }

  /// The holder of `key` is done: the first waiter takes over, or the lock goes.
  fn pass_on(&mut self, key: &[u8], now: Instant) -> Vec<Notice> {
    let token = self.last_token + 1;
    let Some(lock) = self.locks.get_mut(key) else {
      return Vec::new();
    };
    match lock.waiters.pop_front() {
      Some(next) => {
        lock.holder = Holder {
          owner: next.owner,
          token,
          until: now + next.lease,
        };
        self.last_token = token;
        vec![Notice::Granted {
          owner: next.owner,
          request: next.request,
          key: key.into(),
          token,
        }]
      }
      None => {
        self.locks.remove(key);
        Vec::new()
      }
    }
  }
}

impl Holder {
  /// Whether this grant is `owner`'s, with fencing token `token`.
  fn is(&self, owner: Owner, token: u64) -> bool {
    self.owner == owner && self.token == token
  }
}

impl Lock {
  fn next_deadline(&self) -> Instant {
    let waits = self.waiters.iter().filter_map(|w| w.until);
    waits.fold(self.holder.until, Instant::min)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const LEASE: Duration = Duration::from_secs(10);

  fn ask(owner: Owner, request: u64) -> LockRequest {
    LockRequest {
      owner,
      request,
      lease: LEASE,
      wait: None,
    }
  }

  fn granted(notices: &[Notice]) -> Vec<(Owner, u64, u64)> {
    notices
      .iter()
      .filter_map(|n| match n {
        Notice::Granted {
          owner,
          request,
          token,
          ..
        } => Some((*owner, *request, *token)),
        Notice::TimedOut { .. } => None,
      })
      .collect()
  }

  #[test]
  fn waiters_are_served_in_order_with_growing_tokens() {
    let mut table = LockTable::default();
    let now = Instant::now();
    assert_eq!(table.acquire(b"k", ask(1, 10), now).0, Acquire::Granted(1));
    assert_eq!(table.acquire(b"k", ask(2, 20), now).0, Acquire::Queued);
    assert_eq!(table.acquire(b"k", ask(3, 30), now).0, Acquire::Queued);
    let no_wait = LockRequest {
      wait: Some(Duration::ZERO),
      ..ask(4, 40)
    };
    assert_eq!(table.acquire(b"k", no_wait, now).0, Acquire::Busy);
    let (released, next) = table.release(b"k", 1, 1, now);
    assert!(released);
    assert_eq!(granted(&next), vec![(2, 20, 2)]);
    let (_, next) = table.release(b"k", 2, 2, now);
    assert_eq!(granted(&next), vec![(3, 30, 3)]);
    assert_eq!(table.release(b"k", 3, 3, now), (true, vec![]));
    assert!(table.is_empty());
  }

  #[test]
  fn a_stale_token_releases_nothing() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", ask(1, 1), now);
    assert_eq!(table.release(b"k", 1, 99, now), (false, vec![]));
    assert_eq!(table.len(), 1);
  }

  #[test]
  fn an_owner_that_goes_away_hands_its_locks_on_and_stops_waiting() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"a", ask(1, 1), now);
    table.acquire(b"b", ask(2, 2), now);
    table.acquire(b"a", ask(2, 3), now); // 2 waits for a
    table.acquire(b"b", ask(1, 4), now); // 1 waits for b
    table.acquire(b"b", ask(3, 5), now); // 3 waits for b after 1
    assert_eq!(granted(&table.owner_gone(1, now)), vec![(2, 3, 3)]);
    // 1 no longer waits for b: when 2 releases b, 3 gets it.
    let (_, next) = table.release(b"b", 2, 2, now);
    assert_eq!(granted(&next), vec![(3, 5, 4)]);
  }

  #[test]
  fn a_lease_that_runs_out_passes_the_lock_on() {
    let mut table = LockTable::default();
    let now = Instant::now();
    let short = LockRequest {
      lease: Duration::from_millis(100),
      ..ask(1, 1)
    };
    table.acquire(b"k", short, now);
    table.acquire(b"k", ask(2, 2), now);
    assert_eq!(
      table.next_deadline(),
      Some(now + Duration::from_millis(100))
    );
    assert!(table.expire(now + Duration::from_millis(99)).is_empty());
    let notices = table.expire(now + Duration::from_millis(100));
    assert_eq!(granted(&notices), vec![(2, 2, 2)]);
    // The old holder's token no longer works.
    assert!(!table.release(b"k", 1, 1, now).0);
  }

  #[test]
  fn an_expired_lease_noticed_on_acquire_still_tells_the_waiter() {
    let mut table = LockTable::default();
    let now = Instant::now();
    let short = LockRequest {
      lease: Duration::from_millis(10),
      ..ask(1, 1)
    };
    table.acquire(b"k", short, now);
    table.acquire(b"k", ask(2, 2), now);
    let later = now + Duration::from_millis(10);
    let (answer, notices) = table.acquire(b"k", ask(3, 3), later);
    assert_eq!(granted(&notices), vec![(2, 2, 2)], "2 was first in line");
    assert_eq!(answer, Acquire::Queued);
    assert!(!table.extend(b"k", 1, 1, LEASE, later).0);
    assert!(table.extend(b"k", 2, 2, LEASE, later).0);
  }

  #[test]
  fn a_wait_that_runs_out_times_out_alone() {
    let mut table = LockTable::default();
    let now = Instant::now();
    table.acquire(b"k", ask(1, 1), now);
    let brief = LockRequest {
      wait: Some(Duration::from_millis(50)),
      ..ask(2, 2)
    };
    table.acquire(b"k", brief, now);
    table.acquire(b"k", ask(3, 3), now);
    assert_eq!(table.next_deadline(), Some(now + Duration::from_millis(50)));
    let notices = table.expire(now + Duration::from_millis(50));
    assert_eq!(
      notices,
      vec![Notice::TimedOut {
        owner: 2,
        request: 2,
        key: b"k"[..].into()
      }]
    );
    let (_, next) = table.release(b"k", 1, 1, now + Duration::from_millis(60));
    assert_eq!(granted(&next), vec![(3, 3, 2)]);
  }

  #[test]
  fn tokens_of_a_later_epoch_are_above_every_token_of_an_earlier_one() {
    let now = Instant::now();
    let mut old = LockTable::default();
    old.set_epoch(3);
    let (Acquire::Granted(first), _) = old.acquire(b"k", ask(1, 1), now) else {
      panic!("free lock not granted")
    };
    assert_eq!(first, (3 << EPOCH_SHIFT) + 1);
    let mut next = LockTable::default();
    next.set_epoch(4);
    let (Acquire::Granted(second), _) = next.acquire(b"k", ask(1, 1), now) else {
      panic!("free lock not granted")
    };
    assert!(second > first);
    // A lower epoch never makes tokens go down; the largest stays a safe integer.
    next.set_epoch(1);
    let (Acquire::Granted(third), _) = next.acquire(b"j", ask(1, 2), now) else {
      panic!("free lock not granted")
    };
    assert!(third > second);
    let mut last = LockTable::default();
    last.set_epoch(u64::MAX);
    let (Acquire::Granted(top), _) = last.acquire(b"k", ask(1, 1), now) else {
      panic!("free lock not granted")
    };
    assert!(top < 1 << 53);
  }

  #[test]
  fn another_owner_with_the_right_token_can_neither_release_nor_extend() {
    let mut table = LockTable::default();
    let now = Instant::now();
    let short = LockRequest {
      lease: Duration::from_millis(100),
      ..ask(1, 1)
    };
    assert_eq!(table.acquire(b"k", short, now).0, Acquire::Granted(1));
    table.acquire(b"k", ask(2, 2), now);
    // Owner 2 guesses the holder's token: nothing changes for owner 1.
    assert_eq!(table.release(b"k", 2, 1, now), (false, vec![]));
    assert!(!table.extend(b"k", 2, 1, LEASE, now).0);
    assert_eq!(
      table.next_deadline(),
      Some(now + Duration::from_millis(100)),
      "the holder's lease is as it was"
    );
    // The holder itself still can.
    assert!(table.extend(b"k", 1, 1, LEASE, now).0);
    let (released, next) = table.release(b"k", 1, 1, now);
    assert!(released);
    assert_eq!(granted(&next), vec![(2, 2, 2)]);
  }
}
