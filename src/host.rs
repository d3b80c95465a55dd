//! Everything a hosting process serves, in one place: the store, the lock
//! table, the watch registry, and the processes connected to them.
//!
//! Every transport hands its request batches to [`Host::apply`] with the
//! [`Owner`] they came from: the socket server one owner per connection,
//! the hosting process's JavaScript one per IPC worker and one for itself.
//! Answers that come later (a lock granted to a waiter, a wait that ran
//! out) and watch events are pushed to the owner's [`Sink`].

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::StoreError;
use crate::locks::{LockTable, Notice};
use crate::peers::{Owner, Peers, Sink};
use crate::protocol;
use crate::store::{key_text, split, Store, StoreConfig};
use crate::sweeper::Alarm;
use crate::watch::Watches;

/// Expired entries removed per lock acquisition by [`Host::tick`], so
/// requests never wait long behind a sweep.
const SWEEP_CHUNK: usize = 1024;

pub struct Host {
  store: Arc<Store>,
  locks: Mutex<LockTable>,
  watches: Arc<Watches>,
  peers: Arc<Peers>,
  alarm: Arc<Alarm>,
}

impl Host {
  pub fn new(config: StoreConfig) -> Self {
    let store = Arc::new(Store::new(config));
    let peers = Arc::new(Peers::default());
    let watches = Arc::new(Watches::new(peers.clone()));
    store.set_observer(watches.clone());
    Host {
      store,
      locks: Mutex::new(LockTable::default()),
      watches,
      peers,
      alarm: Arc::new(Alarm::default()),
    }
  }

  pub fn store(&self) -> &Store {
    &self.store
  }

  /// Registers a connected process; its pushes go to `sink`.
  pub fn connect(&self, sink: Arc<dyn Sink>) -> Owner {
    self.peers.add(sink)
  }

  /// A process went away (it exited, was killed, or closed its
  /// connection): its locks pass to their next waiters at once, its waits
  /// and watches end.
  pub fn disconnect(&self, owner: Owner) {
    let notices = self.locks.lock().owner_gone(owner, Instant::now());
    self.watches.owner_gone(&self.store, owner);
    self.peers.remove(owner);
    self.deliver(notices);
  }

  /// Applies a request batch from `owner` and answers the reply batch (see [`protocol`]).
  pub fn apply(&self, owner: Owner, batch: &str) -> String {
    protocol::apply_batch(self, owner, batch)
  }

  /// Background work: removes expired entries, ends leases and waits that
  /// ran out. Answers when the next lease or wait runs out.
  pub fn tick(&self) -> Option<Instant> {
    loop {
      let mut tx = self.store.begin();
      let removed = tx.expire_due(SWEEP_CHUNK) + tx.expire_idle(SWEEP_CHUNK);
      drop(tx);
      if removed < SWEEP_CHUNK {
        break;
      }
    }
    let mut locks = self.locks.lock();
    let notices = locks.expire(Instant::now());
    let next = locks.next_deadline();
    drop(locks);
    self.deliver(notices);
    next
  }

  /// What the sweeper waits on; woken early when a lock deadline comes sooner.
  pub fn alarm(&self) -> &Arc<Alarm> {
    &self.alarm
  }

  /// Runs `f` on the lock table. The notices it produces for others are
  /// added to `notices` (delivered once the batch is applied), and the
  /// sweeper is woken in time for the next lease or wait to run out.
  pub(crate) fn with_locks<R>(
    &self,
    notices: &mut Vec<Notice>,
    f: impl FnOnce(&mut LockTable) -> (R, Vec<Notice>),
  ) -> R {
    let mut locks = self.locks.lock();
    let (answer, more) = f(&mut locks);
    let next = locks.next_deadline();
    drop(locks);
    notices.extend(more);
    if let Some(at) = next {
      self.alarm.set(at);
    }
    answer
  }

  pub(crate) fn watches(&self) -> &Watches {
    &self.watches
  }

  /// Sends later answers to the owners that wait for them.
  pub(crate) fn deliver(&self, notices: Vec<Notice>) {
    for notice in notices {
      // A push of one reply: `!` and a reply batch, as src/protocol.rs writes them.
      let mut push = String::from("![");
      let owner = match notice {
        Notice::Granted {
          owner,
          request,
          token,
          ..
        } => {
          protocol::write_value(&mut push, request, token.to_string().as_bytes());
          owner
        }
        Notice::TimedOut {
          owner,
          request,
          key,
          ..
        } => {
          protocol::write_error(&mut push, Some(request), &lock_timeout(&key));
          owner
        }
      };
      push.push(']');
      self.peers.send(owner, push, true);
    }
  }
}

/// The error of a lock request that did not get the lock on (stored) `key` in time.
pub(crate) fn lock_timeout(key: &[u8]) -> StoreError {
  StoreError::LockTimeout(key_text(split(key).1))
}
