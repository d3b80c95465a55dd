//! A reader that follows its writer from generation to generation: when
//! the segment it reads is superseded (the store outgrew it), it opens the
//! writer's current one and reads on there, checking that the new one is
//! the same writer's and newer. Following is bounded (a few generations
//! per read) and, when it fails, not retried for a while: meanwhile the
//! reads fail with [`ShmError::Superseded`], and callers ask the host.

use std::io;

use super::layout::CLOSED;
use super::memfd::Mapping;
use super::reader::{Found, Reader, Since, Version};
use super::words::Region;
use super::ShmError;

/// Generations followed in one read at most (a writer that grew more
/// often than that between two reads is caught up with by the next).
const MAX_HOPS: usize = 4;
/// Store milliseconds between two attempts to follow that fail.
const RETRY_MS: u64 = 100;

/// How a reader opens its writer's current generation.
pub trait Source<R: Region> {
  fn open(&mut self) -> io::Result<Reader<R>>;
}

/// The segment process `pid` publishes as its descriptor `fd`, opened
/// through `/proc` (see [`super::open_published`]).
pub struct ProcFd {
  pub pid: u32,
  pub fd: i32,
}

impl Source<Mapping> for ProcFd {
  fn open(&mut self) -> io::Result<Reader<Mapping>> {
    super::open_published(self.pid, self.fd)
  }
}

impl<R: Region> Source<R> for Box<dyn Source<R> + Send> {
  fn open(&mut self) -> io::Result<Reader<R>> {
    (**self).open()
  }
}

pub struct Following<R: Region, S: Source<R>> {
  reader: Reader<R>,
  source: S,
  /// Store milliseconds before which no new attempt to follow is made.
  retry_at: u64,
}

impl<R: Region, S: Source<R>> Following<R, S> {
  /// Opens the current generation of `source`.
  pub fn open(mut source: S) -> io::Result<Self> {
    let reader = source.open()?;
    Ok(Following {
      reader,
      source,
      retry_at: 0,
    })
  }

  /// The generation read now.
  pub fn reader(&self) -> &Reader<R> {
    &self.reader
  }

  /// [`Reader::get`] from the writer's current generation, moving to it
  /// first when the one read so far was superseded.
  pub fn get(
    &mut self,
    key: &[u8],
    now: u64,
    out: &mut Vec<u8>,
  ) -> Result<Option<Found>, ShmError> {
    match self.reader.get(key, now, out) {
      Err(ShmError::Superseded) if self.follow(now) => self.reader.get(key, now, out),
      other => other,
    }
  }

  /// [`Reader::get_since`] from the writer's current generation (as `get`;
  /// a version of a generation left behind is not held any more).
  pub fn get_since(
    &mut self,
    key: &[u8],
    now: u64,
    out: &mut Vec<u8>,
    held: Option<Version>,
  ) -> Result<Option<Since>, ShmError> {
    match self.reader.get_since(key, now, out, held) {
      Err(ShmError::Superseded) if self.follow(now) => self.reader.get_since(key, now, out, held),
      other => other,
    }
  }

  /// [`Reader::ttl`] from the writer's current generation (as `get`).
  pub fn ttl(&mut self, key: &[u8], now: u64, out: &mut Vec<u8>) -> Result<i64, ShmError> {
    match self.reader.ttl(key, now, out) {
      Err(ShmError::Superseded) if self.follow(now) => self.reader.ttl(key, now, out),
      other => other,
    }
  }

  /// Moves to the writer's current generation if the one read is
  /// superseded; answers whether the reader is on a current one now.
  pub fn follow(&mut self, now: u64) -> bool {
    for _ in 0..MAX_HOPS {
      match self.reader.superseded() {
        0 => return true,
        CLOSED => return false,
        _ if now < self.retry_at => return false,
        _ => {}
      }
      match self.source.open() {
        Ok(next)
          if next.writer() == self.reader.writer()
            && next.generation() > self.reader.generation() =>
        {
          self.reader = next
        }
        _ => {
          self.retry_at = now.saturating_add(RETRY_MS);
          return false;
        }
      }
    }
    self.reader.superseded() == 0
  }
}
