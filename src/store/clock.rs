//! Store time: whole milliseconds of `CLOCK_MONOTONIC`.
//!
//! Every process on the machine reads the same `CLOCK_MONOTONIC`, so a
//! deadline or a last-use time written by one process means the same
//! instant to any other (a reader mapping the store, a host taking over).
//! It never goes backwards and does not jump with the wall clock.

use std::time::{Duration, Instant};

/// Milliseconds of `CLOCK_MONOTONIC` now.
pub fn now_ms() -> u64 {
  let mut ts = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: `ts` is a valid timespec to write to; CLOCK_MONOTONIC exists on
  // every Linux, so the call cannot fail.
  unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
  ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Turns `Instant`s into store milliseconds: one reading of both clocks,
/// and distances from it. (Rust's `Instant` counts `CLOCK_MONOTONIC` too,
/// but does not show its value.)
#[derive(Debug, Clone, Copy)]
pub struct Anchor {
  instant: Instant,
  ms: u64,
}

impl Anchor {
  pub fn now() -> Self {
    Anchor {
      instant: Instant::now(),
      ms: now_ms(),
    }
  }

  /// Store milliseconds at `at`.
  pub fn ms_at(&self, at: Instant) -> u64 {
    let ms = |d: Duration| d.as_millis() as u64;
    match at.checked_duration_since(self.instant) {
      Some(later) => self.ms + ms(later),
      None => self.ms.saturating_sub(ms(self.instant - at)),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn instants_and_the_monotonic_clock_agree() {
    let anchor = Anchor::now();
    let start = Instant::now();
    let (before, after) = (now_ms(), anchor.ms_at(start + Duration::from_millis(1500)));
    assert!(
      after >= before + 1499 && after <= before + 1501 + 1000,
      "{before} {after}"
    );
    assert_eq!(
      anchor.ms_at(start + Duration::from_millis(900)) + 100,
      anchor.ms_at(start + Duration::from_millis(1000)),
      "whole milliseconds apart stay apart exactly"
    );
  }
}
