//! Snapshots: the store written to a file, and read back by the next host.
//!
//! - [`format`]: the file's bytes (a versioned, checksummed header, then
//!   the entries), written and read; a file is checked whole before
//!   anything of it is used.
//! - [`wall`]: TTL deadlines as wall-clock time in the file (the store
//!   counts `CLOCK_MONOTONIC`, which starts again at boot).
//! - [`file`]: writing a file atomically (a temporary file in the same
//!   directory, fsync, rename, fsync of the directory), reading one, and
//!   setting a bad one aside.
//! - [`writer`]: the background thread that writes a snapshot every
//!   interval, and the last one when the host hands over.
//!
//! A snapshot is taken in one hold of the store's lock ([`capture`]): each
//! live entry's bytes are copied into one buffer already laid out as the
//! file's body, sized once from what the store holds, so the hold costs a
//! copy of the store's bytes and nothing else (no allocation per entry,
//! no checksum, no I/O). Copying in chunks, with the lock let go between
//! them, would cost as much in all and would not be consistent (an `mset`
//! could be half in it). The checksum and the write happen on the writer's
//! thread, with the lock free. At most one copy exists at a time, so the
//! memory it takes is bounded by the store's own size.

pub mod file;
pub mod format;
pub mod wall;
pub mod writer;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::store::{qualify, split, SetOptions, Storage, Store, Txn, NEVER};

pub use format::{Corrupt, Image, Snapshot, SERIALIZATIONS};

/// Which of a snapshot's entries a new host takes (see [`restore`]).
#[derive(Debug, Default)]
pub enum Fill {
  /// Every entry: the store is empty, nothing newer is known.
  #[default]
  All,
  /// Only keys the store does not hold: what it holds is newer (taken
  /// over from a dead host's segment that could not show everything).
  Missing,
  /// Only these keys, when the store does not hold them: the dead host's
  /// segment showed every key it held, and these without their values
  /// (too large to be published). Any other key of the snapshot was
  /// removed since it was written.
  Only(HashSet<Box<[u8]>>),
}

/// What [`restore`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
  /// Entries now in the store.
  pub restored: usize,
  /// Entries whose deadline had passed: dropped.
  pub expired: usize,
  /// Entries this store refused (a value over its `max_value_bytes`), or
  /// left out by the [`Fill`] rule.
  pub skipped: usize,
}

/// Copies every live entry of the store into an [`Image`], in one hold of
/// the lock `tx` holds (see the module's notes), with deadlines as
/// wall-clock milliseconds given `wall_now`, the wall clock now.
pub fn capture<S: Storage>(tx: &Txn<'_, S>, wall_now: u64) -> Image {
  let (entries, bytes) = tx.held();
  capture_into(
    tx,
    wall_now,
    Vec::with_capacity(bytes + entries * format::ENTRY_HEAD),
  )
}

/// A buffer for copying `store` into, allocated and its pages touched
/// before the copy takes the lock (a short hold reads how much the store
/// holds): so the hold that copies pays no page faults. An eighth more
/// than the store holds now, for what is written in between.
pub fn buffer_for<S: Storage>(store: &Store<S>) -> Vec<u8> {
  let (entries, bytes) = store.begin().held();
  let size = bytes + entries * format::ENTRY_HEAD;
  let mut buffer = vec![0u8; size + size / 8 + 4096];
  // vec! may map zero pages lazily: write them, so they are faulted in now.
  buffer.iter_mut().step_by(4096).for_each(|byte| *byte = 1);
  buffer.clear();
  buffer
}

/// As [`capture`], into `buffer` (from [`buffer_for`]; it grows if it must).
pub fn capture_into<S: Storage>(tx: &Txn<'_, S>, wall_now: u64, buffer: Vec<u8>) -> Image {
  let now = tx.now_ms();
  let mut image = Image::with_buffer(tx.version(), wall_now, buffer);
  for (full, entry) in tx.live_entries() {
    let (ns, key) = split(full);
    let deadline = (entry.expires != NEVER).then(|| wall::deadline(entry.expires, now, wall_now));
    image.push(ns, key, entry.value, deadline);
  }
  image
}

/// Stores a snapshot's entries, least recently used first (so the store's
/// recency order is the snapshot's), as `fill` says; entries whose
/// wall-clock deadline is past `wall_now` are dropped, the others keep
/// their deadline.
pub fn restore<S: Storage>(
  tx: &mut Txn<'_, S>,
  snapshot: &Snapshot<'_>,
  wall_now: u64,
  fill: &Fill,
) -> Restored {
  let mut done = Restored::default();
  for record in snapshot.entries.iter().rev() {
    let full = qualify(record.ns, record.key);
    let wanted = match fill {
      Fill::All => true,
      Fill::Missing => tx.peek(&full).is_none(),
      Fill::Only(keys) => keys.contains(&*full) && tx.peek(&full).is_none(),
    };
    if !wanted {
      done.skipped += 1;
      continue;
    }
    let ttl = match record.deadline {
      None => None,
      Some(deadline) => match wall::remaining(deadline, wall_now) {
        Some(ms) => Some(ms),
        None => {
          done.expired += 1;
          continue;
        }
      },
    };
    let options = SetOptions {
      ttl,
      ..Default::default()
    };
    match tx.set(&full, record.value, &options) {
      Ok(_) => done.restored += 1,
      Err(_) => done.skipped += 1,
    }
  }
  done
}

/// Why a snapshot file was not loaded. The store starts without it.
#[derive(Debug)]
pub enum LoadError {
  /// The file exists but cannot be read. It is left where it is (and the
  /// host should not write over what it could not read).
  Unreadable { path: PathBuf, err: io::Error },
  /// It is not a snapshot this build can use; it was renamed to `kept_as`
  /// (or could not be: `kept_as` is the error).
  Corrupt {
    path: PathBuf,
    why: Corrupt,
    kept_as: Result<PathBuf, String>,
  },
  /// It was written by a store of another `serialization`; set aside as
  /// a corrupt one is (its values would be misread).
  Mismatch {
    path: PathBuf,
    found: &'static str,
    expected: &'static str,
    kept_as: Result<PathBuf, String>,
  },
}

impl LoadError {
  pub fn code(&self) -> &'static str {
    match self {
      LoadError::Unreadable { .. } => "ERR_SNAPSHOT_FAILED",
      LoadError::Corrupt { .. } => "ERR_SNAPSHOT_CORRUPT",
      LoadError::Mismatch { .. } => "ERR_SERIALIZATION_MISMATCH",
    }
  }

  /// Whether the host may write snapshots to the path (not over a file it could not read).
  pub fn may_write(&self) -> bool {
    !matches!(self, LoadError::Unreadable { .. })
  }
}

impl fmt::Display for LoadError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let kept = |kept_as: &Result<PathBuf, String>| match kept_as {
      Ok(aside) => format!("it was renamed to {}", aside.display()),
      Err(err) => format!("it could not be renamed aside ({err})"),
    };
    match self {
      LoadError::Unreadable { path, err } => write!(
        f,
        "the snapshot {} cannot be read ({err}); the store starts empty and writes no snapshot over it",
        path.display()
      ),
      LoadError::Corrupt { path, why, kept_as } => write!(
        f,
        "the snapshot {} was not loaded: {why}; {}, and the store starts empty",
        path.display(),
        kept(kept_as)
      ),
      LoadError::Mismatch {
        path,
        found,
        expected,
        kept_as,
      } => write!(
        f,
        "the snapshot {} was written with serialization '{found}' and this store uses '{expected}': not loaded; {}, and the store starts empty",
        path.display(),
        kept(kept_as)
      ),
    }
  }
}

/// Loads the snapshot at `path` (if there is one) into `store`, as `fill`
/// says, for a store of `serialization` (an index of [`SERIALIZATIONS`]).
/// The file is read and checked whole before the store is touched; a bad
/// one is set aside (`<path>.corrupt-<ms>`, `<path>.mismatch-<ms>`).
pub fn load<S: Storage>(
  store: &Store<S>,
  path: &Path,
  serialization: u8,
  fill: &Fill,
) -> Result<Restored, LoadError> {
  let bytes = match file::read(path) {
    Ok(Some(bytes)) => bytes,
    Ok(None) => return Ok(Restored::default()),
    Err(err) => {
      return Err(LoadError::Unreadable {
        path: path.into(),
        err,
      })
    }
  };
  let aside = |why: &str| file::set_aside(path, why, wall::now_ms()).map_err(|err| err.to_string());
  let snapshot = match format::parse(&bytes) {
    Ok(snapshot) => snapshot,
    Err(why) => {
      return Err(LoadError::Corrupt {
        path: path.into(),
        why,
        kept_as: aside("corrupt"),
      })
    }
  };
  if snapshot.serialization != serialization {
    let name = |i: u8| SERIALIZATIONS.get(i as usize).copied().unwrap_or("?");
    return Err(LoadError::Mismatch {
      path: path.into(),
      found: name(snapshot.serialization),
      expected: name(serialization),
      kept_as: aside("mismatch"),
    });
  }
  let mut tx = store.begin();
  Ok(restore(&mut tx, &snapshot, wall::now_ms(), fill))
}

#[cfg(test)]
mod tests;
