//! A storage that publishes itself: every insert, removal and TTL change
//! of the storage it wraps is written to a segment as well, in the same
//! order and under the store's lock, so a reader of the segment sees what
//! the store holds.
//!
//! Recency is not published: the order of the LRU list is the host's own,
//! and readers send their uses back instead (see [`crate::store::uses`]).
//! With sliding expiry, what a record shows as its deadline is the earlier
//! of its TTL and its idle deadline (last use plus the idle time), kept up
//! to date at every use, so a reader never serves an entry the host would
//! call expired. When the segment cannot take a change (out of
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
  /// The store's idle expiry, in milliseconds.
  idle: Option<u64>,
}

impl<S: Storage, R: Region> Mirrored<S, R> {
  /// `inner` (empty) published to `segment` (new and empty), for a store
  /// whose entries expire `idle` ms after their last use.
  pub fn new(inner: S, segment: Option<Writer<R>>, idle: Option<u64>) -> Self {
    Mirrored {
      inner,
      segment,
      idle,
    }
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

/// The deadline a reader sees: the TTL's, or the idle one if earlier.
fn shown(expires: u64, touched: u64, idle: Option<u64>) -> u64 {
  idle.map_or(expires, |idle| expires.min(touched.saturating_add(idle)))
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
    let Mirrored {
      inner,
      segment,
      idle,
    } = self;
    let (key, entry) = inner.touch(slot, at)?;
    if let (Some(idle), Some(segment)) = (*idle, segment.as_mut()) {
      segment.set_expires(key, shown(entry.expires, entry.touched, Some(idle)));
    }
    Some((key, entry))
  }

  fn set_expires(&mut self, key: &[u8], expires: u64) {
    self.inner.set_expires(key, expires);
    let touched = self.inner.peek(key).map_or(0, |entry| entry.touched);
    let idle = self.idle;
    self.publish(|segment| {
      segment.set_expires(key, shown(expires, touched, idle));
      true
    });
  }

  fn insert(&mut self, key: &[u8], value: &[u8], touched: u64, expires: u64) -> Option<Removed> {
    let old = self.inner.insert(key, value, touched, expires);
    let idle = self.idle;
    self.publish(|segment| {
      segment
        .set(key, value, shown(expires, touched, idle))
        .is_ok()
    });
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

  fn oldest_in(&self, ns: &[u8]) -> Option<(&[u8], Entry<'_>)> {
    self.inner.oldest_in(ns)
  }

  fn published_key(&self, slot: u32, hash: u64) -> Option<Vec<u8>> {
    self.segment.as_ref()?.key_at(slot, hash)
  }

  fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
    self.inner.entries()
  }
}
