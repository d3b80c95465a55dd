//! Snapshot files on disk: written atomically, read whole, set aside when bad.
//!
//! A write goes to a temporary file beside the target (the same
//! directory, so the same file system), which is synced, renamed over the
//! target, and the directory synced: a reader (or a crash at any point)
//! finds the previous snapshot or the new one, whole, never a mix. The
//! files are created `0600`: they hold the store's data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes `parts`, one after the other, as the file at `path`, atomically.
pub fn write_atomic(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
  let temporary = temporary_of(path);
  let written = write_synced(&temporary, parts).and_then(|()| fs::rename(&temporary, path));
  if let Err(err) = written {
    let _ = fs::remove_file(&temporary);
    return Err(err);
  }
  // The rename is durable once the directory is.
  File::open(directory_of(path))?.sync_all()
}

fn write_synced(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
  let mut file = OpenOptions::new()
    .write(true)
    .create(true)
    .truncate(true)
    .mode(0o600)
    .open(path)?;
  for part in parts {
    file.write_all(part)?;
  }
  file.sync_all()
}

/// The file's bytes, or None when there is no file.
pub fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
  match fs::read(path) {
    Ok(bytes) => Ok(Some(bytes)),
    Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
    Err(err) => Err(err),
  }
}

/// Renames the file at `path` to `<path>.<why>-<stamp>` (a bad snapshot,
/// kept for whoever wants to look at it rather than overwritten) and
/// answers the new path.
pub fn set_aside(path: &Path, why: &str, stamp: u64) -> io::Result<PathBuf> {
  let mut name = path.as_os_str().to_owned();
  name.push(format!(".{why}-{stamp}"));
  let aside = PathBuf::from(name);
  fs::rename(path, &aside)?;
  Ok(aside)
}

/// `.<name>.tmp-<pid>` beside `path`: one process writes one at a time
/// (see [`super::writer`]), so the pid keeps writers apart.
fn temporary_of(path: &Path) -> PathBuf {
  let name = path
    .file_name()
    .map_or_else(|| "snapshot".into(), |name| name.to_string_lossy());
  directory_of(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

fn directory_of(path: &Path) -> &Path {
  match path.parent() {
    Some(dir) if !dir.as_os_str().is_empty() => dir,
    _ => Path::new("."),
  }
}
