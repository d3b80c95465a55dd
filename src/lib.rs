//! Rust side of `sharedmemory`.
//!
//! - [`store`]: the key/value store (namespaces, TTLs, LRU bound, sliding
//!   expiry, byte accounting).
//! - [`op`]: the typed operation (`Op`) and its answer (`Reply`), between
//!   the wire and the store.
//! - [`protocol`]: the batch format every transport carries: batches read
//!   into `Op`s, replies and pushes written back.
//! - [`exec`]: runs an `Op` against the store, the locks and the watches.
//! - [`host`]: what a hosting process serves: the store, locks and watches,
//!   and the processes connected to them.
//! - [`locks`]: named locks with FIFO waiters, leases and fencing tokens.
//! - [`watch`]: change notifications.
//! - [`peers`]: connected processes and how pushes reach them.
//! - [`socket`]: the local-socket transport, served by Rust threads.
//! - [`redis`]: the same batches applied to a Redis server (the Redis backend).
//! - [`sweeper`]: the background thread for expiry, leases and waits.
//! - [`threads`]: the store a process's `worker_threads` share.
//! - [`snapshot`]: the store written to a file (atomically, checksummed)
//!   on a thread of its own, and loaded by the next host.
//! - `binding`: the thin napi layer that exposes the above to JavaScript.
//! - `fuzzing` (tests and fuzz builds only): the checks the fuzz targets
//!   in `fuzz/` run, which `cargo test` also runs over their seed corpus.
#![deny(clippy::all)]

pub mod error;
pub mod exec;
pub mod host;
pub mod locks;
pub mod op;
pub mod peers;
pub mod protocol;
pub mod redis;
pub mod shm;
pub mod snapshot;
pub mod socket;
pub mod store;
pub mod sweeper;
pub mod threads;
pub mod watch;

mod binding;

/// For tests: a small deterministic generator (xorshift64), so a random
/// test replays the same work on every run.
#[cfg(test)]
pub(crate) struct TestRng(pub u64);

#[cfg(test)]
impl TestRng {
  pub fn next(&mut self) -> u64 {
    self.0 ^= self.0 << 13;
    self.0 ^= self.0 >> 7;
    self.0 ^= self.0 << 17;
    self.0
  }

  /// A number below `n`.
  pub fn below(&mut self, n: u64) -> u64 {
    self.next() % n
  }
}

#[cfg(any(test, fuzzing))]
pub mod fuzzing;

/// The modules from the bottom up. A module may use those below it, never
/// one beside or above it, so there is no import circle and background
/// work (the sweeper) does not know its owner. Tests may use anything.
#[cfg(test)]
mod layers {
  const LAYERS: &[&str] = &[
    "error", "store", "shm", "snapshot", "locks", "op", "protocol", "peers", "watch", "exec",
    "sweeper", "host", "threads", "socket", "redis", "binding", "fuzzing",
  ];

  fn sources(module: &str) -> Vec<(String, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = src.join(format!("{module}.rs"));
    let paths: Vec<_> = if file.exists() {
      vec![file]
    } else {
      std::fs::read_dir(src.join(module))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap() != "tests.rs")
        .collect()
    };
    paths
      .into_iter()
      .map(|path| {
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text
          .split("#[cfg(test)]\nmod tests")
          .next()
          .unwrap()
          .to_string();
        (path.display().to_string(), code)
      })
      .collect()
  }

  #[test]
  fn no_module_uses_one_beside_or_above_it() {
    let mut seen = 0;
    for (level, module) in LAYERS.iter().enumerate() {
      for (path, code) in sources(module) {
        // Code only: a doc comment may point anywhere.
        let uses = code
          .lines()
          .filter(|line| line.contains("crate::") && !line.trim_start().starts_with("//"));
        for line in uses {
          seen += 1;
          let used = line.split("crate::").nth(1).unwrap();
          let used = used
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap();
          let at = LAYERS.iter().position(|m| *m == used);
          let at = at.unwrap_or_else(|| panic!("{path}: {used} is in no layer: add it to LAYERS"));
          assert!(
            at < level || used == *module,
            "{path} uses crate::{used}, which is not below {module}: {line}"
          );
        }
      }
    }
    assert!(seen > 20, "found the uses ({seen})");
  }
}
