//! The processes connected to a host, and how a message the host starts
//! (a lock granted later, a watch event) reaches each of them.
//!
//! Each connected process is an [`Owner`] with a [`Sink`]: the socket
//! transport gives each connection its own outbox; processes served by the
//! hosting process's JavaScript (IPC workers, the host itself) share one
//! callback into it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

pub use crate::locks::Owner;
use crate::protocol::lost_push;

/// A pushed message: `!` and a reply batch (answers that come later, such
/// as a lock granted to a waiter), or `~` and watch events.
pub type Push = String;

/// Where pushes for one owner go. `push` must never block: a sink that
/// cannot keep up drops what is not `essential` (watch events) and says so
/// later, but never drops an essential push (an answer someone waits for).
pub trait Sink: Send + Sync {
  fn push(&self, message: Push, essential: bool);
}

#[derive(Default)]
pub struct Peers {
  sinks: Mutex<HashMap<Owner, Arc<dyn Sink>>>,
  last: AtomicU64,
}

impl Peers {
  /// Numbers a newly connected process.
  pub fn add(&self, sink: Arc<dyn Sink>) -> Owner {
    self.add_with(|_| sink)
  }

  /// Numbers a newly connected process whose sink needs to know its number.
  pub fn add_with(&self, sink_for: impl FnOnce(Owner) -> Arc<dyn Sink>) -> Owner {
    let owner = self.last.fetch_add(1, Ordering::Relaxed) + 1;
    let sink = sink_for(owner);
    self.sinks.lock().insert(owner, sink);
    owner
  }

  pub fn remove(&self, owner: Owner) {
    self.sinks.lock().remove(&owner);
  }

  /// Sends to `owner`, if it is still connected.
  pub fn send(&self, owner: Owner, message: Push, essential: bool) {
    let sink = self.sinks.lock().get(&owner).cloned();
    if let Some(sink) = sink {
      sink.push(message, essential);
    }
  }
}

/// How many pushes may wait for one peer before further watch events to
/// it are dropped (essential pushes are never dropped, but count).
pub const MAX_QUEUED: usize = 4096;

/// How many bytes of pushes may wait for one peer before further watch
/// events to it are dropped: 8 MiB. Events carry their values (up to
/// `maxValueSize` each), so a count alone would let one stopped peer hold
/// gigabytes. One event larger than this is still queued when nothing else
/// waits for that peer, so every value can be watched.
pub const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

/// Whether a watch event of `bytes` may join the `entries` pushes of
/// `queued` bytes already waiting for one peer.
pub fn room_for(entries: usize, queued: usize, bytes: usize) -> bool {
  entries == 0 || (entries < MAX_QUEUED && queued.saturating_add(bytes) <= MAX_QUEUED_BYTES)
}

/// The count and size of the pushes waiting in one sink, for sinks that
/// cannot see their own queue (the hosting process's JavaScript, while its
/// thread is busy).
#[derive(Default)]
pub struct Backlog {
  state: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
  entries: usize,
  bytes: usize,
  /// Watch events dropped since the queue was last empty.
  lost: u64,
}

impl Backlog {
  /// Whether a push of `bytes` may be queued now (every push admitted must
  /// be matched by [`Backlog::delivered`] with the same size). Watch events
  /// are dropped, and counted, while the queue is full (see [`room_for`]).
  pub fn admit(&self, bytes: usize, essential: bool) -> bool {
    let mut state = self.state.lock();
    if !essential && !room_for(state.entries, state.bytes, bytes) {
      state.lost += 1;
      return false;
    }
    state.entries += 1;
    state.bytes += bytes;
    true
  }

  /// One admitted push of `bytes` reached its destination (or failed to).
  /// Once the queue is empty after events were dropped, answers how many,
  /// to be reported as `~{"lost":n}` (admitted as an essential push).
  pub fn delivered(&self, bytes: usize) -> Option<u64> {
    let mut state = self.state.lock();
    state.entries = state.entries.saturating_sub(1);
    state.bytes = state.bytes.saturating_sub(bytes);
    if state.entries == 0 && state.lost > 0 {
      return Some(std::mem::take(&mut state.lost));
    }
    None
  }
}

/// How a [`CountedSink`] hands a push on to a destination that takes it
/// later (the hosting process's JavaScript, once its thread is free).
pub trait Handoff: Send + Sync + 'static {
  /// Queues `push`, and calls `taken` once the destination has it. Answers
  /// false when the push could not be queued at all (`taken` is then never called).
  fn hand(&self, push: Push, taken: Box<dyn FnOnce() + Send>) -> bool;
}

/// A sink for a destination that cannot tell how far behind it is: it
/// counts what it handed on and not yet taken in a [`Backlog`].
pub struct CountedSink<H: Handoff>(Arc<Counted<H>>);

struct Counted<H> {
  handoff: H,
  backlog: Backlog,
}

impl<H: Handoff> CountedSink<H> {
  pub fn new(handoff: H) -> Self {
    CountedSink(Arc::new(Counted {
      handoff,
      backlog: Backlog::default(),
    }))
  }
}

impl<H: Handoff> Sink for CountedSink<H> {
  fn push(&self, message: Push, essential: bool) {
    if self.0.backlog.admit(message.len(), essential) {
      hand_on(&self.0, message);
    }
  }
}

/// Hands one admitted push on. Once it is taken, and dropped events left
/// the queue empty, says how many were dropped.
fn hand_on<H: Handoff>(counted: &Arc<Counted<H>>, message: Push) {
  let (again, bytes) = (counted.clone(), message.len());
  let taken = Box::new(move || {
    if let Some(lost) = again.backlog.delivered(bytes) {
      let report = lost_push(lost);
      if again.backlog.admit(report.len(), true) {
        hand_on(&again, report);
      }
    }
  });
  if !counted.handoff.hand(message, taken) {
    counted.backlog.delivered(bytes);
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn drops_only_events_beyond_the_bound_and_reports_them_once_drained() {
    let backlog = Backlog::default();
    for _ in 0..MAX_QUEUED {
      assert!(backlog.admit(10, false));
    }
    assert!(!backlog.admit(10, false));
    assert!(!backlog.admit(10, false));
    assert!(backlog.admit(10, true), "an essential push always goes");
    for _ in 0..MAX_QUEUED {
      assert_eq!(backlog.delivered(10), None);
    }
    assert_eq!(
      backlog.delivered(10),
      Some(2),
      "reported once the queue is empty"
    );
    assert!(backlog.admit(10, false));
    assert_eq!(backlog.delivered(10), None, "nothing new lost");
  }

  #[test]
  fn the_bound_counts_bytes_too() {
    const MIB: usize = 1024 * 1024;
    let backlog = Backlog::default();
    for _ in 0..MAX_QUEUED_BYTES / MIB {
      assert!(backlog.admit(MIB, false));
    }
    assert!(!backlog.admit(MIB, false), "8 MiB wait already");
    assert!(!backlog.admit(1, false));
    assert!(backlog.admit(MIB, true), "an essential push always goes");
    for _ in 0..MAX_QUEUED_BYTES / MIB {
      assert_eq!(backlog.delivered(MIB), None);
    }
    assert_eq!(backlog.delivered(MIB), Some(2));
    // With nothing waiting, one event larger than the bound still goes.
    assert!(backlog.admit(MAX_QUEUED_BYTES * 2, false));
    assert!(!backlog.admit(1, false));
    assert_eq!(backlog.delivered(MAX_QUEUED_BYTES * 2), Some(1));
  }
}
