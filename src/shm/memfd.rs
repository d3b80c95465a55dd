//! The operating-system part of a segment: an anonymous memory file
//! (`memfd_create`), which has no name in any filesystem, so nothing is
//! left behind when processes die; sealed against shrinking and growing,
//! so a reader's mapping can never lose pages under it (no SIGBUS), and
//! against any write but through its writer's mapping; mapped read-write by
//! its writer and read-only by everyone else.

use super::words::{AtomicU64, Region};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// A shared mapping of a whole memory file.
pub struct Mapping {
  ptr: NonNull<libc::c_void>,
  bytes: usize,
  writable: bool,
}

// SAFETY: the mapping is only ever accessed through atomics (see `Region`).
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
  fn map(fd: &OwnedFd, bytes: usize, writable: bool) -> io::Result<Mapping> {
    if bytes == 0 || bytes % 8 != 0 {
      return Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "a segment is a whole number of words",
      ));
    }
    let prot = if writable {
      libc::PROT_READ | libc::PROT_WRITE
    } else {
      libc::PROT_READ
    };
    // SAFETY: a fresh shared mapping of `bytes` bytes of an open file; the
    // result is checked before use.
    let ptr = unsafe {
      libc::mmap(
        std::ptr::null_mut(),
        bytes,
        prot,
        libc::MAP_SHARED,
        fd.as_raw_fd(),
        0,
      )
    };
    if ptr == libc::MAP_FAILED {
      return Err(io::Error::last_os_error());
    }
    let ptr = NonNull::new(ptr).ok_or_else(|| io::Error::other("mmap answered null"))?;
    Ok(Mapping {
      ptr,
      bytes,
      writable,
    })
  }

  pub fn bytes(&self) -> usize {
    self.bytes
  }

  pub fn writable(&self) -> bool {
    self.writable
  }
}

impl Region for Mapping {
  fn words(&self) -> &[AtomicU64] {
    // SAFETY: the mapping is page-aligned, `bytes` long and lives as long
    // as `self`; AtomicU64 has the layout of u64, and every access through
    // this slice is atomic. A read-only mapping is only ever loaded from.
    unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU64>(), self.bytes / 8) }
  }
}

impl Drop for Mapping {
  fn drop(&mut self) {
    // SAFETY: unmaps exactly what `map` mapped; nothing borrows it any more.
    unsafe { libc::munmap(self.ptr.as_ptr(), self.bytes) };
  }
}

/// Creates a sealed memory file of `bytes` bytes (zeroed) and maps it
/// read-write: the writer's side of a new segment.
pub fn create(name: &str, bytes: usize) -> io::Result<(OwnedFd, Mapping)> {
  let name =
    std::ffi::CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
  // SAFETY: a valid C string and flags; the result is checked.
  let fd =
    unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
  if fd < 0 {
    return Err(io::Error::last_os_error());
  }
  // SAFETY: `fd` was just opened and is owned by nobody else.
  let fd = unsafe { OwnedFd::from_raw_fd(fd) };
  File::from(fd.try_clone()?).set_len(bytes as u64)?;
  // SAFETY: F_ADD_SEALS on our own memfd, with valid seal flags.
  let sealed = unsafe {
    libc::fcntl(
      fd.as_raw_fd(),
      libc::F_ADD_SEALS,
      libc::F_SEAL_SHRINK | libc::F_SEAL_GROW,
    )
  };
  if sealed < 0 {
    return Err(io::Error::last_os_error());
  }
  let mapping = Mapping::map(&fd, bytes, true)?;
  // Now that the writer has its mapping, nobody may write the file by any
  // other way, nor map it writable again (Linux 5.1 and later; older
  // kernels refuse the seal, and readers' descriptors are read-only anyway).
  // SAFETY: as above.
  unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_FUTURE_WRITE) };
  Ok((fd, mapping))
}

/// A read-only descriptor of the same file, for handing to readers: they
/// can map it, but never for writing.
pub fn read_only(fd: &OwnedFd) -> io::Result<OwnedFd> {
  let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
  Ok(File::open(path)?.into())
}

/// Maps a segment's memory file read-only: a reader's side. The file must
/// be sealed against shrinking, or a writer could pull pages from under it.
pub fn map_read_only(fd: &OwnedFd) -> io::Result<Mapping> {
  // SAFETY: F_GET_SEALS on an open descriptor.
  let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
  if seals < 0 || seals & libc::F_SEAL_SHRINK == 0 {
    return Err(io::Error::new(
      io::ErrorKind::InvalidData,
      "the segment is not sealed against shrinking",
    ));
  }
  let bytes = File::from(fd.try_clone()?).metadata()?.len();
  let bytes = usize::try_from(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
  Mapping::map(fd, bytes, false)
}

/// Makes descriptor `to` name what `from` names (atomically: whoever opens
/// `to` meanwhile gets one or the other, never neither); `from` stays open.
pub fn replace(from: &OwnedFd, to: &OwnedFd) -> io::Result<()> {
  // SAFETY: two open descriptors of ours; `to` is closed and reopened in
  // one step by the kernel, and stays owned by its OwnedFd.
  let done = unsafe { libc::dup3(from.as_raw_fd(), to.as_raw_fd(), libc::O_CLOEXEC) };
  if done < 0 {
    return Err(io::Error::last_os_error());
  }
  Ok(())
}
