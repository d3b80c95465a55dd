//! What the Redis client's thread is asked to do ([`Job`]) and where its
//! answers go ([`Output`]). The client (`client.rs`) runs the jobs and the
//! subscriber (`events.rs`) queues some of them: with both types here,
//! neither module needs the other's insides.

use std::sync::mpsc;
use std::sync::Arc;

/// What the client hands to JavaScript: reply batches, pushes (`!` a lock
/// granted later, `~` watch events), and `?` answers to a ping.
pub type Output = Arc<dyn Fn(String) + Send + Sync>;

pub(super) enum Job {
  Batch(String),
  Sync(String, mpsc::SyncSender<String>),
  Ping,
  /// A lock was released (its physical key): its waiters try again.
  Released(Vec<u8>),
  /// The subscriber (re)subscribed: every waiter tries again (a release may have gone unheard).
  Resubscribed,
  Close,
}
