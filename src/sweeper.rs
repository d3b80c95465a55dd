//! A background thread that removes expired entries, so memory is given
//! back even for keys nobody reads again.
//!
//! It holds only a weak reference to the store and stops when the store is
//! dropped or the sweeper is. Being a plain thread, it never keeps a Node.js
//! process alive.

use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::store::Store;

/// Entries removed per lock acquisition, so requests never wait long behind a sweep.
const SWEEP_CHUNK: usize = 1024;

pub struct Sweeper {
  stop: Arc<(Mutex<bool>, Condvar)>,
  thread: Option<JoinHandle<()>>,
}

impl Sweeper {
  /// Sweeps `store` every `interval` until dropped.
  pub fn start(store: &Arc<Store>, interval: Duration) -> std::io::Result<Sweeper> {
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let store: Weak<Store> = Arc::downgrade(store);
    let signal = stop.clone();
    let thread = thread::Builder::new()
      .name("sharedmemory-sweeper".into())
      .spawn(move || loop {
        {
          let (stopped, wake) = &*signal;
          let mut stopped = stopped.lock();
          if !*stopped {
            wake.wait_for(&mut stopped, interval);
          }
          if *stopped {
            return;
          }
        }
        let Some(store) = store.upgrade() else { return };
        loop {
          let mut tx = store.begin();
          let removed = tx.expire_due(SWEEP_CHUNK) + tx.expire_idle(SWEEP_CHUNK);
          drop(tx);
          if removed < SWEEP_CHUNK {
            break;
          }
        }
      })?;
    Ok(Sweeper {
      stop,
      thread: Some(thread),
    })
  }
}

impl Drop for Sweeper {
  fn drop(&mut self) {
    let (stopped, wake) = &*self.stop;
    *stopped.lock() = true;
    wake.notify_all();
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::store::StoreConfig;
  use std::time::Instant;

  #[test]
  fn removes_expired_entries_in_the_background() {
    let store = Arc::new(Store::new(StoreConfig {
      idle_expiry: Some(Duration::from_millis(20)),
      ..StoreConfig::default()
    }));
    store
      .begin()
      .set(b"\"a\"", b"1", &Default::default())
      .unwrap();
    let _sweeper = Sweeper::start(&store, Duration::from_millis(10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !store.is_empty() {
      assert!(
        Instant::now() < deadline,
        "the sweeper never removed the entry"
      );
      thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(store.stats().expirations, 1);
  }

  #[test]
  fn stops_when_dropped() {
    let store = Arc::new(Store::new(StoreConfig::default()));
    let sweeper = Sweeper::start(&store, Duration::from_secs(3600)).unwrap();
    drop(sweeper); // joins: would hang here if the thread ignored the signal
  }
}
