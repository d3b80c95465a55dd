//! The processes connected to a host, and how a message the host starts
//! (a lock granted later, a watch event) reaches each of them.
//!
//! Each connected process is an [`Owner`] with a [`Sink`]: the socket
//! transport gives each connection its own outbox; processes served by the
//! hosting process's JavaScript (IPC workers, the host itself) share one
//! callback into it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// How many watch-event pushes may wait in a sink that is told when each
/// one is delivered, before further ones are dropped.
pub const MAX_QUEUED: usize = 4096;

/// The count of pushes waiting in one sink, for sinks that cannot see their
/// own queue (the hosting process's JavaScript, while its thread is busy).
#[derive(Default)]
pub struct Backlog {
  queued: AtomicUsize,
  lost: AtomicU64,
}

impl Backlog {
  /// Whether a push may be queued now (every push admitted must be matched
  /// by [`Backlog::delivered`]). Watch events are dropped, and counted, while
  /// the queue is full.
  pub fn admit(&self, essential: bool) -> bool {
    if !essential && self.queued.load(Ordering::Relaxed) >= MAX_QUEUED {
      self.lost.fetch_add(1, Ordering::Relaxed);
      return false;
    }
    self.queued.fetch_add(1, Ordering::Relaxed);
    true
  }

  /// One admitted push reached its destination (or failed to). Once the
  /// queue is empty after events were dropped, answers how many, to be
  /// reported as `~{"lost":n}` (admitted as an essential push).
  pub fn delivered(&self) -> Option<u64> {
    if self.queued.fetch_sub(1, Ordering::Relaxed) == 1 {
      let lost = self.lost.swap(0, Ordering::Relaxed);
      if lost > 0 {
        return Some(lost);
      }
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
    if self.0.backlog.admit(essential) {
      hand_on(&self.0, message);
    }
  }
}

/// Hands one admitted push on. Once it is taken, and dropped events left
/// the queue empty, says how many were dropped.
fn hand_on<H: Handoff>(counted: &Arc<Counted<H>>, message: Push) {
  let again = counted.clone();
  let taken = Box::new(move || {
    if let Some(lost) = again.backlog.delivered() {
      if again.backlog.admit(true) {
        hand_on(&again, lost_push(lost));
      }
    }
  });
  if !counted.handoff.hand(message, taken) {
    counted.backlog.delivered();
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn drops_only_events_beyond_the_bound_and_reports_them_once_drained() {
    let backlog = Backlog::default();
    for _ in 0..MAX_QUEUED {
      assert!(backlog.admit(false));
    }
    assert!(!backlog.admit(false));
    assert!(!backlog.admit(false));
    assert!(backlog.admit(true), "an essential push always goes");
    for _ in 0..MAX_QUEUED {
      assert_eq!(backlog.delivered(), None);
    }
    assert_eq!(
      backlog.delivered(),
      Some(2),
      "reported once the queue is empty"
    );
    assert!(backlog.admit(false));
    assert_eq!(backlog.delivered(), None, "nothing new lost");
  }
}
