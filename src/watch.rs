//! Change notifications: who watches which keys, and turning the store's
//! changes into events for them.
//!
//! A subscription is an owner's, numbered by the owner, and names a
//! namespace and a glob pattern (a plain key is a pattern matching only
//! itself). The store tells the registry about each transaction's changes
//! while still under its lock, so every owner gets its events in the order
//! the store applied them: one push per owner per transaction, never
//! blocking the store (a slow owner's sink drops events, see [`Sink`]).
//!
//! An event push is `~` followed by `[[subscription, kind, key], ...]`,
//! with the new value as a fourth element for `set` events.

use std::sync::Arc;

use parking_lot::Mutex;

#[cfg(test)]
use crate::peers::Sink;
use crate::peers::{Owner, Peers};
use crate::protocol::Events;
use crate::store::{key_text, split, Change, Glob, Observer, Storage, Store};

struct Subscription {
  owner: Owner,
  id: u64,
  ns: Box<[u8]>,
  pattern: Glob,
}

pub struct Watches {
  subs: Mutex<Vec<Subscription>>,
  peers: Arc<Peers>,
}

impl Watches {
  pub fn new(peers: Arc<Peers>) -> Self {
    Watches {
      subs: Mutex::new(Vec::new()),
      peers,
    }
  }

  /// Starts sending `owner` the changes of the keys of `ns` matching `pattern`.
  pub fn subscribe<S: Storage>(
    &self,
    store: &Store<S>,
    owner: Owner,
    id: u64,
    ns: &[u8],
    pattern: &str,
  ) {
    let mut subs = self.subs.lock();
    subs.retain(|s| !(s.owner == owner && s.id == id));
    subs.push(Subscription {
      owner,
      id,
      ns: ns.into(),
      pattern: Glob::new(pattern),
    });
    store.observe(true);
  }

  /// Stops a subscription; answers whether there was one.
  pub fn unsubscribe<S: Storage>(&self, store: &Store<S>, owner: Owner, id: u64) -> bool {
    self.remove(store, |s| s.owner == owner && s.id == id)
  }

  /// Drops every subscription of an owner that went away.
  pub fn owner_gone<S: Storage>(&self, store: &Store<S>, owner: Owner) {
    self.remove(store, |s| s.owner == owner);
  }

  fn remove<S: Storage>(&self, store: &Store<S>, doomed: impl Fn(&Subscription) -> bool) -> bool {
    let mut subs = self.subs.lock();
    let before = subs.len();
    subs.retain(|s| !doomed(s));
    if subs.is_empty() {
      store.observe(false);
    }
    subs.len() != before
  }
}

impl Observer for Watches {
  fn changed(&self, changes: &[Change]) {
    let subs = self.subs.lock();
    // Events grouped by owner, each group in the order of the changes.
    let mut pushes: Vec<(Owner, Events)> = Vec::new();
    for change in changes {
      let (ns, key) = split(&change.key);
      let mut text = None;
      for sub in subs.iter().filter(|s| crate::store::same(&s.ns, ns)) {
        let text = text.get_or_insert_with(|| key_text(key));
        if !sub.pattern.matches(text) {
          continue;
        }
        let push = match pushes.iter().position(|(owner, _)| *owner == sub.owner) {
          Some(i) => &mut pushes[i].1,
          None => {
            pushes.push((sub.owner, Events::default()));
            &mut pushes.last_mut().expect("just pushed").1
          }
        };
        push.add(sub.id, change.kind, key, change.value.as_deref());
      }
    }
    drop(subs);
    for (owner, push) in pushes {
      self.peers.send(owner, push.finish(), false);
    }
  }
}

/// A sink that keeps what it is sent, for tests.
#[cfg(test)]
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<String>>);

#[cfg(test)]
impl Sink for Collect {
  fn push(&self, message: String, _essential: bool) {
    self.0.lock().push(message);
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::store::{qualify, SetOptions, StoreConfig};

  fn key(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).unwrap()
  }

  #[test]
  fn watchers_get_matching_changes_in_order_and_nothing_else() {
    let store = Arc::new(Store::new(StoreConfig {
      max_entries: Some(2),
      ..StoreConfig::default()
    }));
    let peers = Arc::new(Peers::default());
    let watches = Arc::new(Watches::new(peers.clone()));
    store.set_observer(watches.clone());
    let (a, b) = (Arc::new(Collect::default()), Arc::new(Collect::default()));
    let (owner_a, owner_b) = (peers.add(a.clone()), peers.add(b.clone()));
    watches.subscribe(&store, owner_a, 1, b"", "user:*");
    watches.subscribe(&store, owner_b, 7, b"", "user:1");
    watches.subscribe(&store, owner_b, 8, &key("ns"), "*");
    let plain = SetOptions::default();
    {
      let mut tx = store.begin();
      tx.set(&key("user:1"), b"{\"n\":1}", &plain).unwrap();
      tx.set(&key("job:1"), b"1", &plain).unwrap();
      tx.remove(&key("user:1"));
    }
    store
      .begin()
      .set(&qualify(&key("ns"), &key("k")), b"2", &plain)
      .unwrap(); // evicts job:1
    assert_eq!(
      *a.0.lock(),
      vec![r#"~[[1,"set","user:1",{"n":1}],[1,"delete","user:1"]]"#.to_string()]
    );
    assert_eq!(
      *b.0.lock(),
      vec![
        r#"~[[7,"set","user:1",{"n":1}],[7,"delete","user:1"]]"#.to_string(),
        r#"~[[8,"set","k",2]]"#.to_string(),
      ]
    );
    assert!(watches.unsubscribe(&store, owner_a, 1));
    watches.owner_gone(&store, owner_b);
    store.begin().set(&key("user:2"), b"1", &plain).unwrap();
    assert_eq!(a.0.lock().len(), 1, "unsubscribed");
    assert_eq!(b.0.lock().len(), 2, "gone");
  }
}
