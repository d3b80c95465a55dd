//! The thread that writes a host's snapshots: every interval while the
//! store changed, and a last one when the host hands over.
//!
//! It knows its owner only as a [`Source`] of [`Image`]s and holds only a
//! weak reference to it, so it stops when the owner is dropped, and when
//! [`Persister::finish`] or dropping stops it. Being a plain thread, it
//! never keeps a Node.js process alive.
//!
//! One write at a time: the periodic writes and the last one take the same
//! lock, and each writes only an image newer than the last one written. So
//! a periodic write that was under way when the host handed over finishes
//! first, and one that copied the store before the last copy was taken
//! never replaces it. A failing write is reported once, until one succeeds
//! again.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::file::write_atomic;
use super::format::Image;

/// What the writer works for.
pub trait Source: Send + Sync {
  /// A copy of the store, taken now.
  fn capture(&self) -> Image;
}

/// Where and how often, and what the header says of the store.
#[derive(Debug, Clone)]
pub struct Plan {
  pub path: PathBuf,
  pub interval: Duration,
  /// An index of [`super::format::SERIALIZATIONS`].
  pub serialization: u8,
}

/// Told of each periodic write that failed after one that did not (and of the first).
pub type OnFailure = Box<dyn Fn(&io::Error) + Send + Sync>;

pub struct Persister {
  shared: Arc<Shared>,
  thread: Option<JoinHandle<()>>,
}

struct Shared {
  plan: Plan,
  on_failure: OnFailure,
  stopped: Mutex<bool>,
  ring: Condvar,
  written: Mutex<Written>,
}

#[derive(Default)]
struct Written {
  /// The version of the last image written, if any.
  version: Option<u64>,
  /// Whether the last write failed (and was reported).
  failing: bool,
  /// The last snapshot is written: nothing may replace it.
  finished: bool,
}

impl Persister {
  /// Writes `source`'s snapshots as `plan` says until finished or dropped.
  pub fn start<T: Source + 'static>(
    source: &Arc<T>,
    plan: Plan,
    on_failure: OnFailure,
  ) -> io::Result<Persister> {
    let shared = Arc::new(Shared {
      plan,
      on_failure,
      stopped: Mutex::new(false),
      ring: Condvar::new(),
      written: Mutex::new(Written::default()),
    });
    let source: Weak<T> = Arc::downgrade(source);
    let work = shared.clone();
    let thread = thread::Builder::new()
      .name("sharedmemory-snapshot".into())
      .spawn(move || {
        while work.sleep() {
          // The source is only borrowed while copying, never while writing or sleeping.
          let Some(image) = source.upgrade().map(|source| source.capture()) else {
            return;
          };
          let _ = work.write(&image, false);
        }
      })?;
    Ok(Persister {
      shared,
      thread: Some(thread),
    })
  }

  /// Writes `image` as the last snapshot, on this thread, after any write
  /// under way; later periodic writes do nothing. Answers how the write went.
  pub fn finish(&self, image: &Image) -> io::Result<()> {
    self.shared.stop();
    self.shared.write(image, true)
  }

  /// Writes `image` now, on this thread (unless a newer one is written already).
  pub fn write_now(&self, image: &Image) -> io::Result<()> {
    self.shared.write(image, false)
  }
}

impl Shared {
  /// Sleeps one interval; answers false once stopped.
  fn sleep(&self) -> bool {
    let deadline = Instant::now() + self.plan.interval;
    let mut stopped = self.stopped.lock();
    while !*stopped {
      if self.ring.wait_until(&mut stopped, deadline).timed_out() {
        return !*stopped;
      }
    }
    false
  }

  fn stop(&self) {
    *self.stopped.lock() = true;
    self.ring.notify_all();
  }

  fn write(&self, image: &Image, last: bool) -> io::Result<()> {
    let mut written = self.written.lock();
    if written.finished
      || written
        .version
        .is_some_and(|version| version >= image.version)
    {
      written.finished |= last;
      return Ok(());
    }
    let header = image.header(self.plan.serialization);
    let outcome = write_atomic(&self.plan.path, &[&header, &image.body]);
    match &outcome {
      Ok(()) => {
        written.version = Some(image.version);
        written.failing = false;
      }
      Err(err) => {
        // The last write's failure is the caller's to report (it answers it).
        if !written.failing && !last {
          (self.on_failure)(err);
        }
        written.failing = true;
      }
    }
    written.finished |= last;
    outcome
  }
}

impl Drop for Persister {
  fn drop(&mut self) {
    self.shared.stop();
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}
