//! A storage that publishes itself: every insert, removal and TTL change
//! of the storage it wraps is written to a segment as well, in the same
//! order and under the store's lock, so a reader of the segment sees what
//! the store holds.
//!
//! Recency is not published: the order of the LRU list and idle times are
//! the host's own, and readers send their uses back instead (see
//! [`crate::store::uses`]). When the segment cannot take a change (out of
//! slots or arena), it is closed for readers (they ask the host from then
//! on) and nothing more is published to it; the store itself goes on.

use crate::store::{Entry, Removed, Slot, Storage};

use super::layout::CLOSED;
use super::words::Region;
use super::writer::Writer;

pub struct Mirrored<S: Storage, R: Region> {
  inner: S,
  /// None once the segment could not take a change, or when there is none.
  segment: Option<Writer<R>>,
}

impl<S: Storage, R: Region> Mirrored<S, R> {
  /// `inner` (empty) published to `segment` (new and empty).
  pub fn new(inner: S, segment: Option<Writer<R>>) -> Self {
    Mirrored { inner, segment }
  }

  /// The segment, while it is published.
  pub fn segment(&self) -> Option<&Writer<R>> {
    self.segment.as_ref()
  }

  /// Stops publishing: readers of the segment are told to ask the host.
  pub fn close_segment(&mut self) {
    if let Some(segment) = self.segment.take() {
      segment.supersede(CLOSED);
    }
  }

  fn publish(&mut self, change: impl FnOnce(&mut Writer<R>) -> bool) {
    if let Some(segment) = self.segment.as_mut() {
      if !change(segment) {
        self.close_segment();
      }
    }
  }
}

impl<S: Storage, R: Region> Storage for Mirrored<S, R> {
  fn len(&self) -> usize {
    self.inner.len()
  }

  fn bytes(&self) -> usize {
    self.inner.bytes()
  }

  fn find(&self, key: &[u8]) -> Option<(Slot, Entry<'_>)> {
    self.inner.find(key)
  }

  fn touch(&mut self, slot: Slot, at: u64) -> Option<(&[u8], Entry<'_>)> {
    self.inner.touch(slot, at)
  }

  fn set_expires(&mut self, key: &[u8], expires: u64) {
    self.inner.set_expires(key, expires);
    self.publish(|segment| {
      segment.set_expires(key, expires);
      true
    });
  }

  fn insert(&mut self, key: &[u8], value: &[u8], touched: u64, expires: u64) -> Option<Removed> {
    let old = self.inner.insert(key, value, touched, expires);
    self.publish(|segment| segment.set(key, value, expires).is_ok());
    old
  }

  fn remove(&mut self, key: &[u8]) -> Option<Removed> {
    let removed = self.inner.remove(key);
    if removed.is_some() {
      self.publish(|segment| {
        segment.remove(key);
        true
      });
    }
    removed
  }

  fn oldest(&self) -> Option<(&[u8], Entry<'_>)> {
    self.inner.oldest()
  }

  fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
    self.inner.entries()
  }
}
