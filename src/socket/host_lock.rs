//! The election where abstract socket names do not exist: whoever holds an
//! exclusive `flock` on the store's lock file hosts it, on a socket file
//! beside it. The kernel releases the lock when its holder dies, even on
//! SIGKILL, as it frees an abstract name; the socket file a dead host left
//! behind is removed by the next holder of the lock before it binds, and
//! only by it, so no live host's socket is ever removed.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// The lock on a store's lock file, held while this process hosts it.
/// Dropping it releases the lock.
pub struct HostLock {
  file: File,
  /// The socket file this host serves on: removed before the lock goes.
  socket: Option<String>,
}

impl HostLock {
  /// Takes the lock on `path` (created `0600` if missing, never through a
  /// symbolic link) if nobody holds it: `None` when another process does.
  pub fn try_take(path: &str) -> io::Result<Option<HostLock>> {
    let file = OpenOptions::new()
      .read(true)
      .write(true)
      .create(true)
      .mode(0o600)
      .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
      .open(path)?;
    // SAFETY: the descriptor is open (owned by `file`); flock only locks it.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
      let err = io::Error::last_os_error();
      return match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(None),
        _ => Err(err),
      };
    }
    Ok(Some(HostLock { file, socket: None }))
  }

  /// Removes what a dead host left at `socket` (this process holds the lock,
  /// so no live host serves there), and removes it again when the lock goes.
  pub fn claim_socket(&mut self, socket: &str) -> io::Result<()> {
    match std::fs::remove_file(socket) {
      Ok(()) => {}
      Err(err) if err.kind() == io::ErrorKind::NotFound => {}
      Err(err) => return Err(err),
    }
    self.socket = Some(socket.to_string());
    Ok(())
  }
}

impl Drop for HostLock {
  fn drop(&mut self) {
    if let Some(socket) = self.socket.take() {
      let _ = std::fs::remove_file(socket);
    }
    let _ = &self.file; // closed after this: the lock is released
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn one_holder_at_a_time_and_the_next_after_it() {
    let dir = std::env::temp_dir().join(format!("sm-host-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.lock");
    let path = path.to_str().unwrap();
    let first = HostLock::try_take(path)
      .unwrap()
      .expect("a free lock is taken");
    assert!(
      HostLock::try_take(path).unwrap().is_none(),
      "held: not taken twice"
    );
    drop(first);
    assert!(
      HostLock::try_take(path).unwrap().is_some(),
      "released: taken again"
    );
    std::fs::remove_dir_all(&dir).unwrap();
  }
}
