//! The subscriber: a second connection, in subscribed mode, on a thread of
//! its own. It hears two things:
//!
//! - lock releases, on the store's unlock channel ([`super::layout`]),
//!   passed to the client thread so its waiters try again at once;
//! - keyspace notifications (`PSUBSCRIBE __keyspace@<db>__:<prefix>*`),
//!   once a watch needs them: each becomes a watch event for every
//!   subscription of its namespace whose pattern matches the key. Redis
//!   sends the event's name, never the value, so `set` events carry none.
//!
//! Pub/sub is fire-and-forget: what is published while the connection is
//! down (or not yet up) is lost. So once the first connection is subscribed,
//! and after every reconnection, the client's lock waiters all try again;
//! after a reconnection each subscription also gets a `reset` event (look
//! again at what you watch).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use redis::{Client, Msg};

use super::job::{Job, Output};
use super::layout::Layout;
use super::link::connect;
use crate::error::StoreError;
use crate::protocol::{self, Events};
use crate::store::{ChangeKind, Glob};

/// How often the thread looks up from a quiet connection (to stop, or to subscribe to more).
const POLL: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

struct Sub {
  id: u64,
  ns: Vec<u8>,
  glob: Glob,
}

#[derive(Default)]
struct State {
  started: bool,
  locks: bool,
  keyspace: bool,
  /// The keyspace pattern is subscribed on the current connection.
  keyspace_live: bool,
  subs: Vec<Sub>,
  checked: bool,
  /// The near-cache is on: this connection also receives tracking invalidations.
  near: bool,
  /// The subscriber connection's client id, while it is up (where invalidations go).
  client_id: Option<i64>,
}

pub struct Subscriber {
  client: Client,
  layout: Layout,
  db: i64,
  timeout: Duration,
  connect_timeout: Duration,
  jobs: Sender<Job>,
  out: Output,
  state: Mutex<State>,
  changed: Condvar,
  stop: AtomicBool,
}

/// What a subscriber connects to and how.
pub(super) struct Setup {
  pub client: Client,
  pub layout: Layout,
  pub db: i64,
  pub timeout: Duration,
  pub connect_timeout: Duration,
  /// Also receive the near-cache's tracking invalidations (and start at once).
  pub near: bool,
}

impl Subscriber {
  pub(super) fn start(setup: Setup, jobs: Sender<Job>, out: Output) -> Arc<Self> {
    let Setup {
      client,
      layout,
      db,
      timeout,
      connect_timeout,
      near,
    } = setup;
    let me = Arc::new(Subscriber {
      client,
      layout,
      db,
      timeout,
      connect_timeout,
      jobs,
      out,
      state: Mutex::new(State {
        near,
        ..State::default()
      }),
      changed: Condvar::new(),
      stop: AtomicBool::new(false),
    });
    if near {
      let mut state = me.state.lock();
      me.ensure_thread(&mut state);
    }
    me
  }

  /// The id of the connection tracking invalidations go to, while it is up.
  pub fn client_id(&self) -> Option<i64> {
    self.state.lock().client_id
  }

  /// Tells JavaScript, in order with this connection's own news, that the
  /// near-cache may be used (`#+`): only while the client's connection
  /// tracks with this subscriber's current id.
  pub fn announce_tracking(&self, tracking: Option<i64>) {
    let state = self.state.lock();
    if tracking.is_some() && tracking == state.client_id {
      (self.out)("#+".to_string());
    }
  }

  /// Lock waiters need release messages: start listening (once).
  pub fn want_locks(self: &Arc<Self>) {
    let mut state = self.state.lock();
    state.locks = true;
    self.ensure_thread(&mut state);
  }

  pub fn notifications_checked(&self) -> bool {
    self.state.lock().checked
  }

  pub fn set_notifications_checked(&self) {
    self.state.lock().checked = true;
  }

  /// Adds a subscription; answers once keyspace notifications are subscribed (within `timeout`).
  pub fn watch(
    self: &Arc<Self>,
    id: u64,
    ns: Vec<u8>,
    glob: Glob,
    timeout: Duration,
  ) -> Result<(), StoreError> {
    let mut state = self.state.lock();
    state.keyspace = true;
    self.ensure_thread(&mut state);
    let deadline = Instant::now() + timeout;
    while !state.keyspace_live {
      if self.changed.wait_until(&mut state, deadline).timed_out() && !state.keyspace_live {
        return Err(StoreError::Timeout(
          "the subscriber connection could not subscribe to keyspace notifications in time".into(),
        ));
      }
    }
    state.subs.push(Sub { id, ns, glob });
    Ok(())
  }

  pub fn unwatch(&self, id: u64) -> bool {
    let mut state = self.state.lock();
    let before = state.subs.len();
    state.subs.retain(|sub| sub.id != id);
    state.subs.len() != before
  }

  pub fn stop(&self) {
    self.stop.store(true, Ordering::Release);
    self.changed.notify_all();
  }

  fn ensure_thread(self: &Arc<Self>, state: &mut State) {
    if state.started {
      return;
    }
    state.started = true;
    let me = self.clone();
    let _ = thread::Builder::new()
      .name("sharedmemory-redis-sub".into())
      .spawn(move || me.run());
  }

  fn stopped(&self) -> bool {
    self.stop.load(Ordering::Acquire)
  }

  fn run(self: Arc<Self>) {
    let mut backoff = Duration::from_millis(25);
    let mut connections = 0u64;
    while !self.stopped() {
      let mut con = match connect(&self.client, self.timeout, self.connect_timeout, &[]) {
        Ok(con) => con,
        Err(_) => {
          let mut state = self.state.lock();
          self.changed.wait_for(&mut state, backoff);
          backoff = (backoff * 2).min(MAX_BACKOFF);
          continue;
        }
      };
      backoff = Duration::from_millis(25);
      if con.set_read_timeout(Some(POLL)).is_err() {
        continue;
      }
      let near = self.state.lock().near;
      let id = if near {
        match redis::cmd("CLIENT").arg("ID").query::<i64>(&mut con) {
          Ok(id) => Some(id),
          Err(_) => continue,
        }
      } else {
        None
      };
      let mut pubsub = con.as_pubsub();
      if pubsub.subscribe(self.layout.unlock_channel()).is_err() {
        continue;
      }
      if near && pubsub.subscribe(INVALIDATE).is_err() {
        continue;
      }
      let pattern = format!("__keyspace@{}__:{}", self.db, self.layout.all_pattern());
      let mut live = false;
      if self.state.lock().keyspace {
        if pubsub.psubscribe(&pattern).is_err() {
          continue;
        }
        live = true;
      }
      {
        let mut state = self.state.lock();
        state.keyspace_live = live;
        state.client_id = id;
      }
      self.changed.notify_all();
      connections += 1;
      if connections > 1 {
        self.reset();
      } else {
        // The first connection too: a lock waiter queued while this thread
        // was still connecting missed any release published before now, so
        // it tries again (and with the near-cache, the client tracks with
        // this id from now on).
        let _ = self.jobs.send(Job::Resubscribed);
      }
      loop {
        if self.stopped() {
          return;
        }
        if !live && self.state.lock().keyspace {
          if pubsub.psubscribe(&pattern).is_err() {
            break;
          }
          live = true;
          self.state.lock().keyspace_live = true;
          self.changed.notify_all();
        }
        match pubsub.get_message() {
          Ok(msg) => self.handle(&msg),
          Err(err) if err.is_timeout() => {}
          Err(_) => break,
        }
      }
      let mut state = self.state.lock();
      state.keyspace_live = false;
      if state.client_id.take().is_some() {
        // Invalidations may be lost from now on: nothing cached may be served.
        (self.out)("#-".to_string());
      }
    }
  }

  /// After a reconnection: every subscription is told to look again, and lock waiters try again.
  fn reset(&self) {
    let _ = self.jobs.send(Job::Resubscribed);
    let ids: Vec<u64> = self.state.lock().subs.iter().map(|sub| sub.id).collect();
    if !ids.is_empty() {
      (self.out)(protocol::reset_push(&ids));
    }
  }

  fn handle(&self, msg: &Msg) {
    let channel = msg.get_channel_name();
    if channel == INVALIDATE {
      return self.invalidate(msg);
    }
    if channel == self.layout.unlock_channel() {
      let _ = self
        .jobs
        .send(Job::Released(msg.get_payload_bytes().to_vec()));
      return;
    }
    let Some(physical) = channel.split_once("__:").map(|(_, key)| key) else {
      return;
    };
    let Some(kind) = event_kind(msg.get_payload_bytes()) else {
      return;
    };
    let Some(parsed) = self.layout.parse(physical.as_bytes()) else {
      return;
    };
    let text: String = serde_json::from_slice(&parsed.key).unwrap_or_default();
    let mut events = Events::default();
    let mut any = false;
    for sub in self.state.lock().subs.iter() {
      if crate::store::same(&sub.ns, &parsed.ns) && sub.glob.matches(&text) {
        events.add(sub.id, kind, &parsed.key, None);
        any = true;
      }
    }
    if any {
      (self.out)(events.finish());
    }
  }
}

impl Subscriber {
  /// A tracking invalidation: the keys whose cached values must go
  /// (`#` and the JSON array of their ids), or all of them (`#*`, on FLUSHDB).
  fn invalidate(&self, msg: &Msg) {
    let keys = match msg.get_payload::<redis::Value>() {
      Ok(redis::Value::Array(keys)) => keys,
      _ => return (self.out)("#*".to_string()),
    };
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
      let redis::Value::BulkString(physical) = key else {
        continue;
      };
      if let Some(parsed) = self.layout.parse(&physical) {
        let id = format!(
          "{}\u{0}{}",
          String::from_utf8_lossy(&parsed.ns),
          String::from_utf8_lossy(&parsed.key)
        );
        ids.push(id);
      }
    }
    if !ids.is_empty() {
      (self.out)(format!(
        "#{}",
        serde_json::to_string(&ids).unwrap_or_default()
      ));
    }
  }
}

/// Where Redis sends tracking invalidations to a redirect connection.
const INVALIDATE: &str = "__redis__:invalidate";

/// A keyspace event's name as a watch event's kind; None for those watch
/// does not report (a TTL set or removed, ...).
pub fn event_kind(event: &[u8]) -> Option<ChangeKind> {
  Some(match event {
    b"set" | b"incrby" | b"decrby" | b"incrbyfloat" | b"append" | b"setrange" | b"rename_to"
    | b"copy_to" => ChangeKind::Set,
    b"del" | b"rename_from" => ChangeKind::Delete,
    b"expired" => ChangeKind::Expire,
    b"evicted" => ChangeKind::Evict,
    _ => return None,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn keyspace_events_map_to_watch_kinds() {
    assert_eq!(event_kind(b"set"), Some(ChangeKind::Set));
    assert_eq!(event_kind(b"incrby"), Some(ChangeKind::Set));
    assert_eq!(event_kind(b"del"), Some(ChangeKind::Delete));
    assert_eq!(event_kind(b"expired"), Some(ChangeKind::Expire));
    assert_eq!(event_kind(b"evicted"), Some(ChangeKind::Evict));
    // Setting or removing a TTL changes no value.
    assert_eq!(event_kind(b"expire"), None);
    assert_eq!(event_kind(b"persist"), None);
  }
}
