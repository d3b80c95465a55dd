//! What the threads of one process share: the store their process uses.
//!
//! Node gives every `worker_threads` thread its own instance of the addon
//! (its own JavaScript objects), but the library is loaded once per
//! process, so this registry is one for the whole process. The thread that
//! set up the process's part (the main thread's `init()`) publishes it
//! here under a key: the [`Host`] itself when the process hosts the store,
//! so other threads use it directly (each as an owner of its own, with its
//! own locks and watches), and in every case a description its JavaScript
//! reads (how to reach the host: the socket and limits a client found).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::host::Host;

/// What a process publishes for its threads under one key.
#[derive(Clone)]
pub struct Published {
  /// The store, when this process hosts it.
  pub host: Option<Arc<Host>>,
  /// What JavaScript needs besides (opaque here).
  pub info: String,
}

static REGISTRY: Mutex<Option<HashMap<String, Published>>> = Mutex::new(None);

/// Publishes `entry` under `key`, replacing what was there.
pub fn publish(key: &str, entry: Published) {
  REGISTRY
    .lock()
    .get_or_insert_with(HashMap::new)
    .insert(key.to_string(), entry);
}

/// What is published under `key`, if anything.
pub fn find(key: &str) -> Option<Published> {
  REGISTRY.lock().as_ref()?.get(key).cloned()
}

/// Removes what is published under `key`.
pub fn withdraw(key: &str) {
  if let Some(map) = REGISTRY.lock().as_mut() {
    map.remove(key);
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::store::StoreConfig;

  #[test]
  fn a_thread_finds_the_host_another_published() {
    let host = Arc::new(Host::new(StoreConfig::default()));
    publish(
      "test-key",
      Published {
        host: Some(host.clone()),
        info: "{}".into(),
      },
    );
    let found = std::thread::spawn(|| find("test-key"))
      .join()
      .unwrap()
      .expect("published");
    assert!(Arc::ptr_eq(found.host.as_ref().unwrap(), &host));
    withdraw("test-key");
    assert!(find("test-key").is_none());
  }
}
