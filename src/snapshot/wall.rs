//! Deadlines in a snapshot are wall-clock milliseconds since the Unix
//! epoch. The store counts `CLOCK_MONOTONIC` milliseconds, which mean
//! nothing after a reboot (and the next host may start after one), so a
//! deadline is turned into wall-clock time when written and back into a
//! remaining time when read. A wall clock that jumps between the two moves
//! the deadlines with it; that is the price of surviving a reboot.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock milliseconds since the Unix epoch now (0 for a clock set before it).
pub fn now_ms() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |since| since.as_millis() as u64)
}

/// The wall-clock time of store deadline `expires`, when the store's clock
/// reads `store_now` and the wall clock `wall_now`. Never 0 (which the
/// file uses for "no deadline").
pub fn deadline(expires: u64, store_now: u64, wall_now: u64) -> u64 {
  wall_now
    .saturating_add(expires.saturating_sub(store_now))
    .max(1)
}

/// Milliseconds left until wall-clock `deadline` at `wall_now`; None once it passed.
pub fn remaining(deadline: u64, wall_now: u64) -> Option<u64> {
  (deadline > wall_now).then(|| deadline - wall_now)
}
