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

use parking_lot::{Mutex, MutexGuard};

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

  pub(crate) fn locks(&self) -> MutexGuard<'_, LockTable> {
    self.locks.lock()
  }

  pub(crate) fn watches(&self) -> &Watches {
    &self.watches
  }

  /// Sends later answers to the owners that wait for them.
  pub(crate) fn deliver(&self, notices: Vec<Notice>) {
    for notice in notices {
      let reply = match notice {
        Notice::Granted { request, token, .. } => format!("[[{request},1,{token}]]"),
        Notice::TimedOut {
          request, ref key, ..
        } => {
          let err = StoreError::LockTimeout(key_text(split(key).1));
          let code = serde_json::to_string(err.code()).unwrap_or_default();
          let message = serde_json::to_string(&err.to_string()).unwrap_or_default();
          format!("[[{request},2,{code},{message}]]")
        }
      };
      let owner = match notice {
        Notice::Granted { owner, .. } | Notice::TimedOut { owner, .. } => owner,
      };
      self.peers.send(owner, format!("!{reply}"), true);
    }
  }
}
