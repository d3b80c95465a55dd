//! A background thread that does the host's timed work: removes expired
//! entries (so memory is given back even for keys nobody reads again) and
//! ends lock leases and waits that ran out.
//!
//! It wakes every `interval`, or earlier when its owner sets the [`Alarm`]
//! for a lock deadline. It knows its owner only as [`Timed`], holds only a
//! weak reference to it, and stops when the owner is dropped or the
//! sweeper is. Being a plain thread, it never keeps a Node.js process alive.

use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// What the sweeper works for.
pub trait Timed: Send + Sync {
  /// Does the timed work that is due; answers when it is next due, if
  /// sooner than the sweeper's interval.
  fn tick(&self) -> Option<Instant>;
  /// Set to wake the sweeper early.
  fn alarm(&self) -> &Arc<Alarm>;
}

/// How often expired entries are looked for when nothing asks for sooner.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The sweep interval for a store: [`INTERVAL`], or a few times per idle
/// period when entries expire after `idle_expiry` unused and that is shorter.
pub fn interval_for(idle_expiry: Option<Duration>) -> Duration {
  idle_expiry.map_or(INTERVAL, |idle| {
    (idle / 4).clamp(Duration::from_millis(10), INTERVAL)
  })
}

/// Wakes the sweeper early.
#[derive(Default)]
pub struct Alarm {
  state: Mutex<AlarmState>,
  ring: Condvar,
}

#[derive(Default)]
struct AlarmState {
  stopped: bool,
  at: Option<Instant>,
}

impl Alarm {
  /// Asks the sweeper to run by `at` at the latest.
  pub fn set(&self, at: Instant) {
    let mut state = self.state.lock();
    if state.at.is_none_or(|current| at < current) {
      state.at = Some(at);
      self.ring.notify_all();
    }
  }

  fn stop(&self) {
    self.state.lock().stopped = true;
    self.ring.notify_all();
  }

  /// Sleeps until `deadline` or the alarm, whichever is first; answers false once stopped.
  fn sleep(&self, deadline: Instant) -> bool {
    let mut state = self.state.lock();
    loop {
      if state.stopped {
        return false;
      }
      let until = state.at.map_or(deadline, |at| at.min(deadline));
      if Instant::now() >= until {
        state.at = None;
        return true;
      }
      self.ring.wait_until(&mut state, until);
    }
  }
}

pub struct Sweeper {
  alarm: Arc<Alarm>,
  thread: Option<JoinHandle<()>>,
}

impl Sweeper {
  /// Runs `owner`'s timed work every `interval` (or sooner) until dropped.
  pub fn start<T: Timed + 'static>(owner: &Arc<T>, interval: Duration) -> std::io::Result<Sweeper> {
    let alarm = owner.alarm().clone();
    let host: Weak<T> = Arc::downgrade(owner);
    let wake = alarm.clone();
    let thread = thread::Builder::new()
      .name("sharedmemory-sweeper".into())
      .spawn(move || loop {
        // The host is only borrowed while working, never while sleeping.
        let next_deadline = match host.upgrade() {
          Some(host) => host.tick(),
          None => return,
        };
        let mut deadline = Instant::now() + interval;
        if let Some(at) = next_deadline {
          deadline = deadline.min(at);
        }
        if !wake.sleep(deadline) {
          return;
        }
      })?;
    Ok(Sweeper {
      alarm,
      thread: Some(thread),
    })
  }
}

impl Drop for Sweeper {
  fn drop(&mut self) {
    self.alarm.stop();
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::host::Host;
  use crate::store::StoreConfig;
  use crate::watch::Collect;

  #[test]
  fn removes_expired_entries_in_the_background() {
    let host = Arc::new(Host::new(StoreConfig {
      idle_expiry: Some(Duration::from_millis(20)),
      ..StoreConfig::default()
    }));
    host
      .store()
      .begin()
      .set(b"\"a\"", b"1", &Default::default())
      .unwrap();
    let _sweeper = Sweeper::start(&host, Duration::from_millis(10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !host.store().is_empty() {
      assert!(
        Instant::now() < deadline,
        "the sweeper never removed the entry"
      );
      thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(host.store().stats().expirations, 1);
  }

  #[test]
  fn ends_a_lease_on_time_even_with_a_long_interval() {
    let host = Arc::new(Host::new(StoreConfig::default()));
    let _sweeper = Sweeper::start(&host, Duration::from_secs(3600)).unwrap();
    let (a, b) = (Arc::new(Collect::default()), Arc::new(Collect::default()));
    let (owner_a, owner_b) = (host.connect(|_| a.clone()), host.connect(|_| b.clone()));
    let granted = host.apply(owner_a, r#"[[1,"lock","k",{"lease":50}]]"#);
    assert_eq!(granted, "[[1,1,1]]");
    assert_eq!(
      host.apply(owner_b, r#"[[9,"lock","k",{"lease":1000}]]"#),
      "[]",
      "b waits"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.0.lock().is_empty() {
      assert!(Instant::now() < deadline, "the lease never ran out");
      thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(*b.0.lock(), vec!["![[9,1,2]]".to_string()]);
  }

  #[test]
  fn stops_when_dropped() {
    let host = Arc::new(Host::new(StoreConfig::default()));
    let sweeper = Sweeper::start(&host, Duration::from_secs(3600)).unwrap();
    drop(sweeper); // joins: would hang here if the thread ignored the signal
  }
}
