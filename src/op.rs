//! The typed vocabulary between the wire and the store: an [`Op`] is one
//! request, read and checked; a [`Reply`] is its answer.
//!
//! [`crate::protocol`] turns batch text into `Op`s and `Reply`s back into
//! text; [`crate::exec`] runs an `Op` against the store, the lock table and
//! the watches. Neither knows the other, so another wire (or a reader that
//! is not a wire at all) can produce `Op`s, and another storage can answer
//! them.
//!
//! Keys and namespace names stay as the JSON string text they arrived as
//! (quotes included: see [`crate::store::qualify`]); values stay as the
//! JSON text they arrived as. Nothing is decoded on the way to the store.

use std::time::Duration;

use crate::error::StoreError;
use crate::store::{Bounds, NamespaceStats, SetOptions, Stats};

/// One request of a batch: the caller's id for it, and what it asks.
#[derive(Debug)]
pub struct Request<'a> {
  pub id: u64,
  /// The namespace's JSON string text; empty for the default namespace.
  pub ns: &'a [u8],
  pub op: Op<'a>,
}

/// What a request asks, with its arguments read and checked.
#[derive(Debug)]
pub enum Op<'a> {
  Get {
    key: &'a [u8],
  },
  Set {
    key: &'a [u8],
    value: &'a [u8],
    options: SetOptions,
  },
  Del {
    key: &'a [u8],
  },
  Has {
    key: &'a [u8],
  },
  Incr {
    key: &'a [u8],
    by: f64,
    ttl: Option<u64>,
  },
  GetSet {
    key: &'a [u8],
    value: &'a [u8],
  },
  /// Stores `next` if the stored bytes are `expected` (`None`: if the key is missing).
  Cas {
    key: &'a [u8],
    expected: Option<&'a [u8]>,
    next: &'a [u8],
  },
  Expire {
    key: &'a [u8],
    ms: u64,
  },
  Ttl {
    key: &'a [u8],
  },
  Persist {
    key: &'a [u8],
  },
  MSet {
    pairs: Vec<(&'a [u8], &'a [u8])>,
    ttl: Option<u64>,
  },
  MGet {
    keys: Vec<&'a [u8]>,
  },
  Keys {
    pattern: Option<String>,
  },
  Size,
  Clear,
  Stats,
  /// Bounds the namespace on its own (`ns(name, {max, maxBytes})`).
  Bound {
    bounds: Bounds,
  },
  /// `wait`: zero to not wait, `None` to wait as long as it takes.
  Lock {
    key: &'a [u8],
    lease: Duration,
    wait: Option<Duration>,
  },
  Unlock {
    key: &'a [u8],
    token: u64,
  },
  Extend {
    key: &'a [u8],
    token: u64,
    lease: Duration,
  },
  Watch {
    pattern: String,
    subscription: u64,
  },
  /// Reads another process made from the shared segment: each slot read
  /// (with its key's hash) counts as a use of its entry, and each namespace
  /// (its JSON text, empty for the default one) gains hits and misses.
  Used {
    slots: Vec<(u32, u64)>,
    counts: Vec<(&'a [u8], u64, u64)>,
  },
  Unwatch {
    subscription: u64,
  },
}

impl Op<'_> {
  /// Whether the operation leaves the store's contents as they were (it may
  /// still count a hit or mark a key as used, see [`crate::store::Txn::get`]).
  /// A reader that is not the host may answer these itself.
  pub fn read_only(&self) -> bool {
    matches!(
      self,
      Op::Get { .. }
        | Op::Has { .. }
        | Op::Ttl { .. }
        | Op::MGet { .. }
        | Op::Keys { .. }
        | Op::Size
        | Op::Stats
        | Op::Used { .. }
    )
  }
}

/// The answer to one [`Op`]. Stored bytes are borrowed from the
/// transaction that read them, so a reply is written before the next
/// request runs.
#[derive(Debug)]
pub enum Reply<'t> {
  /// Done, with nothing to say.
  Done,
  Bool(bool),
  Int(i64),
  Number(f64),
  /// A stored value's JSON text.
  Value(&'t [u8]),
  /// A value taken out of the store (the old value of a `getset`).
  Taken(Box<[u8]>),
  /// One per key asked: its stored value, or `None` when missing.
  Values(Vec<Option<&'t [u8]>>),
  /// Key texts.
  Keys(Vec<Box<[u8]>>),
  /// Counters over every namespace, then per namespace.
  /// The totals, each namespace's counters, and the bytes of the shared segment.
  Stats(Stats, Vec<NamespaceStats>, u64),
  /// Answered later, on its own (a lock request that waits its turn).
  Later,
  Failed(StoreError),
}

impl From<StoreError> for Reply<'_> {
  fn from(err: StoreError) -> Self {
    Reply::Failed(err)
  }
}
