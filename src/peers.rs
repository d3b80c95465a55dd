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
    let owner = self.last.fetch_add(1, Ordering::Relaxed) + 1;
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
