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
//! call expired.
//!
//! The segment grows with the store by generations: when it cannot take a
//! change (out of slots or arena), a new segment, sized for what the store
//! holds and room to grow (see [`Shape::grown`]), is filled from the store (which has every entry: the
//! change included), made the one readers find, and only then is the old
//! one marked superseded, so a reader that sees the mark finds the new one
//! complete. The old one is retired: its writer forgets it, and the
//! kernel frees it once the last reader has moved on. Only when no larger
//! generation can be had (past the bounds of [`Shape::grown`], or the
//! system refuses the memory) is the segment closed for readers (they ask
//! the host from then on); the store itself goes on.

use std::io;

use crate::store::{Entry, Removed, Slot, Storage};

use super::layout::{CLOSED, NEVER};
use super::words::Region;
use super::writer::{record_size, Shape, Writer};

/// Where the generations of a segment come from.
pub trait Generations<R: Region>: Send {
  /// A new, empty segment of `shape`, as generation `number`: not yet
  /// found by readers.
  fn create(&mut self, shape: Shape, number: u64) -> io::Result<Writer<R>>;
  /// Makes `next` (filled) the segment readers find from now on; the
  /// previous one is marked superseded right after.
  fn switch(&mut self, next: &Writer<R>);
}

pub struct Mirrored<S: Storage, R: Region> {
  inner: S,
  /// None once the segment could not take a change, or when there is none.
  segment: Option<Writer<R>>,
  /// Where larger generations come from; None: the segment cannot grow.
  generations: Option<Box<dyn Generations<R>>>,
  /// The store's idle expiry, in milliseconds.
  idle: Option<u64>,
}

impl<S: Storage, R: Region> Mirrored<S, R> {
  /// `inner` (empty) published to `segment` (new and empty), for a store
  /// whose entries expire `idle` ms after their last use; it grows
  /// through `generations`.
  pub fn new(
    inner: S,
    segment: Option<Writer<R>>,
    generations: Option<Box<dyn Generations<R>>>,
    idle: Option<u64>,
  ) -> Self {
    if let Some(segment) = &segment {
      segment.mark_sliding(idle.is_some());
    }
    Mirrored {
      inner,
      segment,
      generations,
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
      if !change(segment) && !self.grow() {
        self.close_segment();
      }
    }
  }

  /// Moves to a new generation holding everything `inner` holds; false
  /// when there can be none (then the caller closes the segment).
  fn grow(&mut self) -> bool {
    let Mirrored {
      inner,
      segment,
      generations,
      idle,
    } = self;
    let (Some(old), Some(generations)) = (segment.as_ref(), generations.as_mut()) else {
      return false;
    };
    let words = inner
      .entries()
      .map(|(key, entry)| {
        let deadline = shown(entry.expires, entry.touched, *idle) != NEVER;
        record_size(key.len(), entry.value.len(), deadline)
      })
      .sum();
    let Some(shape) = Shape::grown(inner.len(), words) else {
      return false;
    };
    let Ok(mut next) = generations.create(shape, old.generation() + 1) else {
      return false;
    };
    next.mark_sliding(idle.is_some());
    for (key, entry) in inner.entries() {
      let expires = shown(entry.expires, entry.touched, *idle);
      if next.set(key, entry.value, expires).is_err() {
        return false; // cannot happen with the shape above; the old one is closed then
      }
    }
    generations.switch(&next);
    old.supersede(next.generation());
    *segment = Some(next);
    true
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
      ..
    } = self;
    let (key, entry) = inner.touch(slot, at)?;
    if let (Some(idle), Some(segment)) = (*idle, segment.as_mut()) {
      // With idle expiry every record has a deadline word: this only changes it.
      let _ = segment.set_expires(key, shown(entry.expires, entry.touched, Some(idle)));
    }
    Some((key, entry))
  }

  fn set_expires(&mut self, key: &[u8], expires: u64) {
    self.inner.set_expires(key, expires);
    let touched = self.inner.peek(key).map_or(0, |entry| entry.touched);
    let idle = self.idle;
    self.publish(|segment| {
      segment
        .set_expires(key, shown(expires, touched, idle))
        .is_ok()
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

  fn published_bytes(&self) -> usize {
    self.segment.as_ref().map_or(0, Writer::bytes)
  }

  fn entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
    self.inner.entries()
  }
}
