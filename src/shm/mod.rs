//! A segment of shared memory that one process (the host) writes and every
//! local process may read without sending a message: the store's entries,
//! published so that a read costs a look-up instead of a round trip.
//!
//! - [`layout`]: where everything sits in the segment (all 64-bit words).
//! - [`words`]: the segment as words touched only through atomics, and
//!   bytes packed into them.
//! - [`writer`]: the one writer: publishes sets, removals and TTL changes
//!   under per-slot sequence locks, with its allocator in its own heap.
//! - [`reader`]: any process's reader: bounded, checked, never trusting a
//!   byte of the segment.
//! - [`mirror`]: a store's storage that publishes every change to a
//!   segment, so the segment always shows what the store holds.
//! - [`report`]: what a reader writes down of its reads for the host
//!   (uses, at most once per window per entry, and hit and miss counts).
//! - [`memfd`]: the operating-system part: an anonymous, sealed memory
//!   file, mapped read-write by the host and read-only by readers.
//!
//! The protocol, in short (`../shared/research/shm.md` has the study): a
//! slot's sequence word is odd while the writer changes the slot; a reader
//! reads it, copies what it needs with relaxed atomic loads, and reads it
//! again after an acquire fence, retrying when it changed. The writer makes
//! the slot odd, with a release fence, before it frees or reuses a record,
//! so a reader that copied a reused record always sees the change and
//! retries: records are reused at once, with no epochs and no registry of
//! readers. Entries are never moved between slots (linear probing with
//! tombstones), so a miss needs no table-wide re-check.

pub mod layout;
pub mod memfd;
pub mod mirror;
pub mod reader;
pub mod report;
pub mod words;
pub mod writer;

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use memfd::Mapping;
use writer::{Identity, Shape, Writer};

/// Why a read from a segment failed. None of these is a miss: a caller
/// answers them by asking the host instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShmError {
  /// The segment is not one this build can read (magic, version or sizes).
  BadHeader,
  /// A slot stayed locked for longer than a reader waits (a writer that
  /// stopped mid-change).
  Busy,
  /// Something in the segment points outside it, or does not add up.
  Corrupt,
  /// The writer has replaced this segment with a newer one, or closed it.
  Superseded,
  /// The entry's value is too large to be published: the host holds it.
  Elsewhere,
}

impl fmt::Display for ShmError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(match self {
      ShmError::BadHeader => "the shared segment has a header this build cannot read",
      ShmError::Busy => "a slot of the shared segment stayed locked too long",
      ShmError::Corrupt => "the shared segment holds an offset or length that does not fit",
      ShmError::Superseded => "the shared segment was replaced or closed by its writer",
      ShmError::Elsewhere => "the value is too large for the shared segment: the host holds it",
    })
  }
}

impl std::error::Error for ShmError {}

/// A segment a host publishes: its memory file, a read-only descriptor of
/// it to hand to readers, and the mapping the writer writes through.
pub struct Published {
  _file: OwnedFd,
  read_only: OwnedFd,
  mapping: Arc<Mapping>,
}

impl Published {
  /// Creates a segment of `shape` and its writer, as generation 1 of this process.
  pub fn create(shape: Shape) -> io::Result<(Published, Writer<Arc<Mapping>>)> {
    let (file, mapping) = memfd::create("sharedmemory", shape.words() * 8)?;
    let read_only = memfd::read_only(&file)?;
    let mapping = Arc::new(mapping);
    let who = Identity {
      generation: 1,
      pid: u64::from(std::process::id()),
      start_ms: crate::store::clock::now_ms(),
    };
    let writer = Writer::create(mapping.clone(), shape, who);
    Ok((
      Published {
        _file: file,
        read_only,
        mapping,
      },
      writer,
    ))
  }

  /// The read-only descriptor readers open (as `/proc/<pid>/fd/<fd>`).
  pub fn read_only_fd(&self) -> RawFd {
    self.read_only.as_raw_fd()
  }

  /// Records a sign of life (see [`layout::H_HEARTBEAT`]).
  pub fn heartbeat(&self, now: u64) {
    writer::heartbeat(&self.mapping, now);
  }
}

/// Opens, read-only, the segment that process `pid` publishes as its
/// descriptor `fd` (the same user's process: the kernel checks).
pub fn open_published(pid: u32, fd: i32) -> io::Result<reader::Reader<Mapping>> {
  let file = std::fs::File::open(format!("/proc/{pid}/fd/{fd}"))?;
  let mapping = memfd::map_read_only(&OwnedFd::from(file))?;
  reader::Reader::open(mapping).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

#[cfg(test)]
mod tests;
