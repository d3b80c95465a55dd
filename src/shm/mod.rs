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
//! - [`reading`]: what a reading process keeps (its reader, its report,
//!   its buffers), and which values need no parser.
//! - [`report`]: what a reader writes down of its reads for the host
//!   (uses, at most once per window per entry, and hit and miss counts).
//! - [`follow`]: a reader that follows its writer to each new generation.
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

pub mod follow;
pub mod layout;
pub mod memfd;
pub mod mirror;
pub mod reader;
pub mod reading;
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
  /// The store expires idle entries, so a record's deadline does not tell
  /// its TTL: the host answers `ttl`.
  Sliding,
  /// This process closed its view of the segment.
  Closed,
  /// A key longer than any a store holds: the host answers it (with its error).
  LongKey,
}

impl fmt::Display for ShmError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(match self {
      ShmError::BadHeader => "the shared segment has a header this build cannot read",
      ShmError::Busy => "a slot of the shared segment stayed locked too long",
      ShmError::Corrupt => "the shared segment holds an offset or length that does not fit",
      ShmError::Superseded => "the shared segment was replaced or closed by its writer",
      ShmError::Elsewhere => "the value is too large for the shared segment: the host holds it",
      ShmError::Sliding => "with idle expiry, the shared segment does not show TTLs",
      ShmError::Closed => "the shared segment was closed",
      ShmError::LongKey => "the key is longer than any the store holds",
    })
  }
}

impl std::error::Error for ShmError {}

/// The segments a host publishes, one generation after another: readers
/// find the current one as one descriptor number of the host's
/// ([`Published::read_only_fd`]), which each new generation takes over
/// (`dup3`, atomically), so whoever opens it gets the newest.
pub struct Published {
  shared: Arc<Current>,
}

/// A new segment: what the host keeps, its first generation's writer, and
/// where the next generations come from.
pub type Publishing = (
  Published,
  Writer<Arc<Mapping>>,
  Box<dyn mirror::Generations<Arc<Mapping>>>,
);

/// What the host and its generations share.
struct Current {
  /// A read-only descriptor of the current generation: always this number.
  read_only: OwnedFd,
  /// The current generation's mapping (for the heartbeat) and its size.
  mapping: parking_lot::Mutex<Arc<Mapping>>,
  /// Who writes: the same for every generation, but its number.
  who: Identity,
}

/// Makes the host's generations (see [`mirror::Generations`]).
struct Memfds {
  shared: Arc<Current>,
  /// The memory file of the current generation, and of one being filled.
  file: OwnedFd,
  next: Option<OwnedFd>,
}

impl Published {
  /// Creates generation 1 of this process's segment, of `shape`; answers
  /// it, its writer, and where later generations come from.
  pub fn create(shape: Shape) -> io::Result<Publishing> {
    let who = Identity {
      generation: 1,
      pid: u64::from(std::process::id()),
      start_ms: crate::store::clock::now_ms(),
    };
    let (file, mapping) = memfd::create("sharedmemory", shape.words() * 8)?;
    let read_only = memfd::read_only(&file)?;
    let mapping = Arc::new(mapping);
    let writer = Writer::create(mapping.clone(), shape, who);
    let shared = Arc::new(Current {
      read_only,
      mapping: parking_lot::Mutex::new(mapping),
      who,
    });
    let generations = Memfds {
      shared: shared.clone(),
      file,
      next: None,
    };
    Ok((Published { shared }, writer, Box::new(generations)))
  }

  /// The read-only descriptor readers open (as `/proc/<pid>/fd/<fd>`): the
  /// current generation, whichever it is.
  pub fn read_only_fd(&self) -> RawFd {
    self.shared.read_only.as_raw_fd()
  }

  /// Bytes of the current generation.
  pub fn bytes(&self) -> usize {
    self.shared.mapping.lock().bytes()
  }

  /// Records a sign of life (see [`layout::H_HEARTBEAT`]).
  pub fn heartbeat(&self, now: u64) {
    writer::heartbeat(&*self.shared.mapping.lock(), now);
  }
}

impl mirror::Generations<Arc<Mapping>> for Memfds {
  fn create(&mut self, shape: Shape, number: u64) -> io::Result<Writer<Arc<Mapping>>> {
    let (file, mapping) = memfd::create("sharedmemory", shape.words() * 8)?;
    let who = Identity {
      generation: number,
      ..self.shared.who
    };
    let writer = Writer::create(Arc::new(mapping), shape, who);
    self.next = Some(file);
    Ok(writer)
  }

  fn switch(&mut self, next: &Writer<Arc<Mapping>>) {
    let Some(file) = self.next.take() else {
      return;
    };
    // The stable descriptor number now names the new generation: a reader
    // that sees the old one superseded (marked after this) opens the new.
    let moved = memfd::read_only(&file)
      .and_then(|read_only| memfd::replace(&read_only, &self.shared.read_only));
    if moved.is_err() {
      // Readers cannot find it: they stay on the old one, which is marked
      // superseded next, and ask the host. Nothing is wrong, only slower.
      return;
    }
    self.file = file; // the old generation's file closes: readers still mapping it keep it
    *self.shared.mapping.lock() = next.region().clone();
  }
}

/// Opens, read-only, the segment that process `pid` publishes as its
/// descriptor `fd` (the same user's process: the kernel checks).
/// This is the fallback for processes that have no socket to the host
/// (workers on cluster IPC): the kernel allows it to the same user when it
/// may also trace the host (its ptrace access check).
pub fn open_published(pid: u32, fd: i32) -> io::Result<reader::Reader<Mapping>> {
  let file = std::fs::File::open(format!("/proc/{pid}/fd/{fd}"))?;
  open_fd(&OwnedFd::from(file))
}

/// Maps, read-only, the segment `fd` is a descriptor of (one passed over
/// the socket: see [`crate::socket::rights`]).
pub fn open_fd(fd: &OwnedFd) -> io::Result<reader::Reader<Mapping>> {
  let mapping = memfd::map_read_only(fd)?;
  reader::Reader::open(mapping).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

#[cfg(all(test, loom))]
mod loom;
#[cfg(all(test, not(loom)))]
mod measure;
#[cfg(all(test, not(loom)))]
pub(crate) mod stress;
#[cfg(all(test, not(loom)))]
mod tests;
