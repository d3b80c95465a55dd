//! What a reader writes down of its reads, for the host: each entry read
//! (its slot and hash) as a use, at most once per window per slot, so a
//! hot key costs the host one touch per window however often it is read;
//! and, exactly, how many hits and misses each namespace had. The host
//! applies them with the `used` operation (see [`crate::op::Op::Used`]).
//!
//! The window bounds how stale the host's view of recency can be: an entry
//! read continuously is seen as used at least once per window, so the host
//! should pick a window well under its idle expiry.

use std::fmt::Write;
use std::time::Duration;

use super::reader::Found;
use crate::store::{clock, same, split};

/// Reads written down before the report should be sent at once.
const FULL: usize = 1024;

pub struct ReadReport {
  /// Per segment slot: the window (store milliseconds / window) it was last reported in, plus one.
  reported: Vec<u32>,
  window_ms: u64,
  slots: Vec<(u32, u64)>,
  /// Namespace text (empty: the default one), hits, misses.
  counts: Vec<(Vec<u8>, u64, u64)>,
}

impl ReadReport {
  /// For a segment of `capacity` slots.
  pub fn new(capacity: usize, window: Duration) -> Self {
    ReadReport {
      reported: vec![0; capacity],
      window_ms: (window.as_millis() as u64).max(1),
      slots: Vec::new(),
      counts: Vec::new(),
    }
  }

  /// A read of (stored) `key`: found at `found`, or missing.
  pub fn note(&mut self, key: &[u8], found: Option<Found>) {
    self.note_at(key, found, clock::now_ms());
  }

  /// [`ReadReport::note`] of a read made at store millisecond `now`.
  pub fn note_at(&mut self, key: &[u8], found: Option<Found>, now: u64) {
    let ns = split(key).0;
    // The namespace read last is most likely the one read now.
    let i = match self.counts.last() {
      Some((name, _, _)) if same(name, ns) => self.counts.len() - 1,
      _ => match self.counts.iter().position(|(name, _, _)| same(name, ns)) {
        Some(i) => i,
        None => {
          self.counts.push((ns.to_vec(), 0, 0));
          self.counts.len() - 1
        }
      },
    };
    let Some(found) = found else {
      self.counts[i].2 += 1;
      return;
    };
    self.counts[i].1 += 1;
    let window = (now / self.window_ms) as u32 + 1;
    if let Some(last) = self.reported.get_mut(found.slot as usize) {
      if *last != window {
        *last = window;
        self.slots.push((found.slot, found.hash));
      }
    }
  }

  /// The segment read now has `capacity` slots (a new generation, when it
  /// changed): slots read before and not yet reported are still sent, and
  /// the host finds them by key hash or ignores them.
  pub fn resize(&mut self, capacity: usize) {
    if self.reported.len() != capacity {
      self.reported = vec![0; capacity];
    }
  }

  /// Drops the slots read since the last report, keeping the counts.
  pub fn forget_slots(&mut self) {
    self.slots.clear();
  }

  pub fn full(&self) -> bool {
    self.slots.len() >= FULL
  }

  /// The report so far, as JSON (`{"slots": [[slot, hash], ...], "counts":
  /// [[ns, hits, misses], ...]}`), or None when nothing was read.
  pub fn take(&mut self) -> Option<String> {
    if self.slots.is_empty() && self.counts.is_empty() {
      return None;
    }
    let mut out = String::from("{\"slots\":[");
    for (i, (slot, hash)) in self.slots.drain(..).enumerate() {
      let _ = write!(out, "{}[{slot},{hash}]", if i > 0 { "," } else { "" });
    }
    out.push_str("],\"counts\":[");
    for (i, (ns, hits, misses)) in self.counts.drain(..).enumerate() {
      // A namespace is JSON string text already; the default one is null.
      let ns = if ns.is_empty() {
        "null".to_string()
      } else {
        String::from_utf8_lossy(&ns).into_owned()
      };
      let _ = write!(
        out,
        "{}[{ns},{hits},{misses}]",
        if i > 0 { "," } else { "" }
      );
    }
    out.push_str("]}");
    Some(out)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_slot_is_reported_once_per_window_and_every_read_is_counted() {
    let mut report = ReadReport::new(8, Duration::from_secs(3600));
    let a = Found { slot: 3, hash: 77 };
    for _ in 0..100 {
      report.note(br#""a""#, Some(a));
    }
    report.note(br#""n""b""#, Some(Found { slot: 5, hash: 9 }));
    report.note(br#""n""c""#, None);
    report.note(br#""x""#, Some(Found { slot: 99, hash: 1 })); // a slot beyond the segment: counted, not reported
    assert_eq!(
      report.take().unwrap(),
      r#"{"slots":[[3,77],[5,9]],"counts":[[null,101,0],["n",1,1]]}"#
    );
    assert_eq!(report.take(), None, "nothing read since");
    report.note(br#""a""#, Some(a));
    assert_eq!(
      report.take().unwrap(),
      r#"{"slots":[],"counts":[[null,1,0]]}"#,
      "within the window: counted only"
    );
  }
}
