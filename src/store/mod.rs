//! The key/value store: one table, guarded by one lock, with namespaces,
//! per-key TTLs, an entry and byte bound (LRU) and sliding expiry.
//!
//! All access goes through a [`Txn`]: it holds the lock and one reading of
//! the clock, so a whole batch of requests is applied atomically and sees
//! one consistent time. Times are "store milliseconds": `CLOCK_MONOTONIC`
//! milliseconds, which every process on the machine shares ([`clock`]).
//!
//! Entries live in a [`Storage`] ([`table::Table`] unless told otherwise).
//! A read is a pure look-up plus a [`Use`] (recency, idle timer, hit
//! count): [`Txn::get`] applies its use at once; a reader that cannot take
//! the lock records it in the store's [`uses`] log instead, applied at the
//! start of the next transaction.
//!
//! Keys are stored in their qualified form (see [`key`]): operations on one
//! key take that form, operations on a whole namespace take its name.

mod change;
pub mod clock;
mod config;
mod deadlines;
mod glob;
mod key;
mod stats;
pub mod storage;
pub mod table;
pub mod uses;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use clock::Anchor;

use parking_lot::{Mutex, MutexGuard};

pub use change::{Change, ChangeKind, Observer};
pub use config::{Bounds, StoreConfig, DEFAULT_MAX_VALUE_BYTES, MAX_KEY_BYTES};
pub use glob::Glob;
pub use key::{qualify, same, split, text as key_text};
pub use stats::Stats;

pub use storage::{hash_key, Entry, Removed, Slot, Storage, NEVER};
pub use table::Table;
pub use uses::{Use, UseLog};

use deadlines::Deadlines;
pub use stats::Counters;

use crate::error::StoreError;

pub struct Store<S: Storage = Table> {
  config: StoreConfig,
  /// For turning `Instant`s into store milliseconds ([`Store::begin_at`]).
  anchor: Anchor,
  state: Mutex<State<S>>,
  uses: UseLog,
  observer: OnceLock<Arc<dyn Observer>>,
  /// Whether transactions record their changes for the observer (only while someone watches).
  observing: AtomicBool,
}

struct State<S> {
  table: S,
  deadlines: Deadlines,
  counters: Counters,
  /// Each bounded namespace's bounds, by its name's JSON text.
  bounds: HashMap<Box<[u8]>, Bounds>,
  /// Counts every change of what the store holds (entries, values,
  /// deadlines): equal versions mean equal contents (see [`Txn::version`]).
  version: u64,
}

/// A namespace's name (its JSON string text; empty for the default one) and counters.
pub type NamespaceStats = (Box<[u8]>, Stats);

/// When `set` stores its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Condition {
  #[default]
  Always,
  /// Only when the key is missing (Redis's NX).
  IfAbsent,
  /// Only when the key exists (Redis's XX).
  IfPresent,
}

impl Condition {
  /// Whether the caller is told if the value was stored.
  pub fn is_conditional(self) -> bool {
    self != Condition::Always
  }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SetOptions {
  /// Milliseconds until the key expires; without one the key has no TTL.
  pub ttl: Option<u64>,
  pub condition: Condition,
  /// Keep the TTL the key had (Redis's KEEPTTL) instead of clearing it.
  pub keep_ttl: bool,
}

impl Store {
  /// A store whose entries live in this process's heap ([`Table`]).
  pub fn new(config: StoreConfig) -> Self {
    Store::with_storage(config, Table::default())
  }
}

impl<S: Storage> Store<S> {
  /// A store whose entries live in `storage` (empty).
  pub fn with_storage(config: StoreConfig, storage: S) -> Self {
    Store {
      config,
      anchor: Anchor::now(),
      state: Mutex::new(State {
        table: storage,
        deadlines: Deadlines::default(),
        counters: Counters::default(),
        bounds: HashMap::new(),
        version: 0,
      }),
      uses: UseLog::default(),
      observer: OnceLock::new(),
      observing: AtomicBool::new(false),
    }
  }

  /// Sets who is told about changes (once; later calls are ignored).
  pub fn set_observer(&self, observer: Arc<dyn Observer>) {
    let _ = self.observer.set(observer);
  }

  /// Turns recording changes for the observer on or off.
  pub fn observe(&self, on: bool) {
    self.observing.store(on, Ordering::SeqCst);
  }

  pub fn config(&self) -> &StoreConfig {
    &self.config
  }

  /// Locks the store for a series of operations at the current time.
  pub fn begin(&self) -> Txn<'_, S> {
    let state = self.state.lock();
    // Read the clock once the lock is held, so times never go backwards
    // from one transaction to the next.
    self.begin_locked(state, clock::now_ms())
  }

  /// Locks the store for a series of operations at a given time (tests use
  /// this to drive expiry without sleeping).
  pub fn begin_at(&self, now: Instant) -> Txn<'_, S> {
    self.begin_locked(self.state.lock(), self.anchor.ms_at(now))
  }

  fn begin_locked<'a>(&'a self, state: MutexGuard<'a, State<S>>, now: u64) -> Txn<'a, S> {
    let mut tx = Txn {
      state,
      config: &self.config,
      now,
      observer: self.observer.get(),
      observing: &self.observing,
      changes: Vec::new(),
    };
    for used in self.uses.take() {
      tx.apply_use(used);
    }
    tx
  }

  /// Records a read made without the lock, to be applied at the start of
  /// the next transaction; answers false when the log was full and it was
  /// dropped (see [`uses`]).
  pub fn record_use(&self, used: Use) -> bool {
    self.uses.record(used)
  }

  /// Uses dropped because the log was full.
  pub fn dropped_uses(&self) -> u64 {
    self.uses.dropped()
  }

  /// Number of entries, counting expired ones not yet swept.
  pub fn len(&self) -> usize {
    self.state.lock().table.len()
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Stored key and value bytes held.
  pub fn bytes(&self) -> usize {
    self.state.lock().table.bytes()
  }

  /// Counters over every namespace.
  pub fn stats(&self) -> Stats {
    self.state.lock().counters.total()
  }
}

/// A locked view of the store at one instant.
pub struct Txn<'a, S: Storage = Table> {
  state: MutexGuard<'a, State<S>>,
  config: &'a StoreConfig,
  /// Store milliseconds.
  now: u64,
  /// Where this transaction's changes go, while `observing` says someone watches.
  observer: Option<&'a Arc<dyn Observer>>,
  observing: &'a AtomicBool,
  changes: Vec<Change>,
}

impl<S: Storage> Drop for Txn<'_, S> {
  fn drop(&mut self) {
    self.tell_observer();
  }
}

impl<S: Storage> Txn<'_, S> {
  /// Commits what this transaction did so far and lets a thread waiting
  /// for the store in first, if there is one; then carries on as a new
  /// transaction, at the clock's new reading. A long batch calls this
  /// between chunks so nobody waits behind it for long.
  pub fn yield_to_waiters(&mut self) {
    self.tell_observer();
    MutexGuard::bump(&mut self.state);
    self.now = self.now.max(clock::now_ms());
  }

  /// Still under the store's lock: observers see changes in commit order.
  fn tell_observer(&mut self) {
    if let Some(observer) = self.observer {
      if !self.changes.is_empty() {
        observer.changed(&self.changes);
        self.changes.clear();
      }
    }
  }

  // Reading.

  /// The value under `key`, marking it as used (which also restarts its idle timer).
  pub fn get(&mut self, key: &[u8]) -> Option<&[u8]> {
    match self.find(key) {
      Some(slot) => {
        let state = &mut *self.state;
        let (key, entry) = state.table.touch(slot, self.now)?;
        state.counters.of(split(key).0).hits += 1;
        Some(entry.value)
      }
      None => {
        self.live(key); // an expired entry is removed on the spot
        self.state.counters.of(split(key).0).misses += 1;
        None
      }
    }
  }

  /// The transaction's time, in store milliseconds.
  pub fn now_ms(&self) -> u64 {
    self.now
  }

  /// Where the live entry under `key` sits, for a [`Use`] of it. Looks only:
  /// changes nothing, counts nothing.
  pub fn find(&self, key: &[u8]) -> Option<Slot> {
    let (slot, entry) = self.state.table.find(key)?;
    self.alive(entry).then_some(slot)
  }

  /// Bytes of the shared segment the store is published to (0: none).
  pub fn published_bytes(&self) -> usize {
    self.state.table.published_bytes()
  }

  /// A read another process made from the shared segment at its `slot`
  /// (with the key's `hash`): the entry there becomes the most recently
  /// used and its idle timer restarts, as for [`Txn::get`], but no hit is
  /// counted (readers report their counts apart). Answers whether it was there.
  pub fn use_published(&mut self, slot: u32, hash: u64) -> bool {
    let Some(key) = self.state.table.published_key(slot, hash) else {
      return false;
    };
    let Some(found) = self.find(&key) else {
      return false;
    };
    self.state.table.touch(found, self.now).is_some()
  }

  /// Counts `n` hits in namespace `ns` (reads made elsewhere: see [`crate::op::Op::Used`]).
  pub fn count_hits(&mut self, ns: &[u8], n: u64) {
    if n > 0 {
      self.state.counters.of(ns).hits += n;
    }
  }

  /// Counts `n` misses in namespace `ns` (reads that found nothing, made
  /// elsewhere: see [`crate::op::Op::Used`]).
  pub fn count_misses(&mut self, ns: &[u8], n: u64) {
    if n > 0 {
      self.state.counters.of(ns).misses += n;
    }
  }

  /// Applies a use of an entry: it becomes the most recently used, its idle
  /// timer restarts from the use's time, and its namespace counts a hit. A
  /// use of an entry that is gone since is ignored.
  pub fn apply_use(&mut self, used: Use) {
    let state = &mut *self.state;
    if let Some((key, _)) = state.table.touch(used.slot, used.at) {
      state.counters.of(split(key).0).hits += 1;
    }
  }

  /// The live value under `key`, without marking it as used or counting a hit.
  pub fn peek(&self, key: &[u8]) -> Option<&[u8]> {
    let entry = self.state.table.peek(key)?;
    self.alive(entry).then_some(entry.value)
  }

  /// Whether `key` exists. Not a use: recency and idle time stay as they were.
  pub fn has(&mut self, key: &[u8]) -> bool {
    self.live(key)
  }

  /// Milliseconds until `key` expires: -1 when it has no TTL, -2 when it is
  /// missing (Redis's PTTL).
  pub fn ttl(&mut self, key: &[u8]) -> i64 {
    if !self.live(key) {
      return -2;
    }
    match self.state.table.peek(key).map(|entry| entry.expires) {
      Some(NEVER) | None => -1,
      // A TTL of more than i64::MAX ms (JavaScript allows 1e300) is that many.
      Some(at) => i64::try_from(at - self.now).unwrap_or(i64::MAX),
    }
  }

  /// The keys of namespace `ns` matching `pattern` (all without one), as key texts.
  pub fn keys(&mut self, ns: &[u8], pattern: Option<&Glob>) -> Vec<Box<[u8]>> {
    let mut found = Vec::new();
    for (full, entry) in self.state.table.entries() {
      let (key_ns, key) = split(full);
      if key_ns != ns || !self.alive(entry) {
        continue;
      }
      if pattern.is_none_or(|glob| glob.matches(&key_text(key))) {
        found.push(key.into());
      }
    }
    found
  }

  /// Counters over every namespace, and those of every namespace used so
  /// far by name (empty: the default one).
  pub fn stats(&self) -> (Stats, Vec<NamespaceStats>) {
    let counters = &self.state.counters;
    (
      counters.total(),
      counters
        .each()
        .map(|(ns, stats)| (ns.into(), *stats))
        .collect(),
    )
  }

  /// A number that changes whenever what the store holds changes (not
  /// when it is only read): two transactions that see the same version see
  /// the same entries, values and deadlines. A snapshot writer skips a
  /// store that did not change.
  pub fn version(&self) -> u64 {
    self.state.version
  }

  /// Every live entry with its stored key, most recently used first. Looks only.
  pub fn live_entries(&self) -> impl Iterator<Item = (&[u8], Entry<'_>)> {
    self
      .state
      .table
      .entries()
      .filter(|(_, entry)| self.alive(*entry))
  }

  /// How many entries the store holds and their key and value bytes, live
  /// or not yet swept (to size a copy of them).
  pub fn held(&self) -> (usize, usize) {
    (self.state.table.len(), self.state.table.bytes())
  }

  /// How many live keys namespace `ns` holds.
  pub fn size(&mut self, ns: &[u8]) -> u64 {
    self.expire_due(usize::MAX);
    self.expire_idle(usize::MAX);
    self.state.counters.get(ns).entries
  }

  // Writing.

  /// Stores `value` under `key`, as `options` say; answers whether it stored.
  pub fn set(
    &mut self,
    key: &[u8],
    value: &[u8],
    options: &SetOptions,
  ) -> Result<bool, StoreError> {
    self.check(key, value)?;
    let live = self.live(key);
    match options.condition {
      Condition::IfAbsent if live => return Ok(false),
      Condition::IfPresent if !live => return Ok(false),
      _ => {}
    }
    let expires = match options.ttl {
      Some(ttl) => self.deadline(ttl),
      None if options.keep_ttl && live => self.expires_of(key),
      None => NEVER,
    };
    self.put(key, value, expires);
    Ok(true)
  }

  /// Stores every pair (with one TTL for all, if given), or none of them
  /// when one is refused.
  pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])], ttl: Option<u64>) -> Result<(), StoreError> {
    for (key, value) in pairs {
      self.check(key, value)?;
    }
    let expires = ttl.map_or(NEVER, |ttl| self.deadline(ttl));
    for (key, value) in pairs {
      self.put(key, value, expires);
    }
    Ok(())
  }

  /// Removes `key`; answers whether a live entry was there.
  pub fn remove(&mut self, key: &[u8]) -> bool {
    let live = self.live(key);
    if live {
      self.unlink(key, ChangeKind::Delete);
    }
    live
  }

  /// Adds `by` to the number under `key` (a missing key counts as 0) and
  /// answers the result. The key keeps its TTL; `ttl` is given to a key this
  /// creates. A value that is not a number is left as it was.
  pub fn incr(&mut self, key: &[u8], by: f64, ttl: Option<u64>) -> Result<f64, StoreError> {
    check_key(key)?;
    let (current, expires) = if self.live(key) {
      let entry = self.state.table.peek(key).expect("live");
      let n = serde_json::from_slice::<f64>(entry.value).map_err(|_| StoreError::NotANumber)?;
      (n, entry.expires)
    } else {
      (0.0, ttl.map_or(NEVER, |ttl| self.deadline(ttl)))
    };
    let next = current + by;
    if !next.is_finite() {
      return Err(StoreError::NotANumber);
    }
    if next.abs() > MAX_SAFE_INTEGER {
      return Err(StoreError::UnsafeInteger);
    }
    self.put(key, format_number(next).as_bytes(), expires);
    Ok(next)
  }

  /// Stores `value` without a TTL and answers the value it replaced.
  pub fn get_set(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Box<[u8]>>, StoreError> {
    self.check(key, value)?;
    let live = self.live(key);
    let old = self.put(key, value, NEVER);
    Ok(old.filter(|_| live).map(|entry| entry.value().into()))
  }

  /// Stores `next` only if the stored bytes are exactly `expected` (or, with
  /// `expected` None, only if the key is missing); answers whether it did.
  /// The key keeps its TTL.
  pub fn compare_and_set(
    &mut self,
    key: &[u8],
    expected: Option<&[u8]>,
    next: &[u8],
  ) -> Result<bool, StoreError> {
    self.check(key, next)?;
    let current = if self.live(key) {
      self.state.table.peek(key)
    } else {
      None
    };
    let expires = match (current, expected) {
      (None, None) => NEVER,
      (Some(entry), Some(expected)) if entry.value == expected => entry.expires,
      _ => return Ok(false),
    };
    self.put(key, next, expires);
    Ok(true)
  }

  /// Gives `key` a TTL of `ttl` ms; answers whether the key exists.
  pub fn expire(&mut self, key: &[u8], ttl: u64) -> bool {
    let live = self.live(key);
    if live {
      let at = self.deadline(ttl);
      self.retime(key, at);
    }
    live
  }

  /// Removes the TTL of `key`; answers whether it had one.
  pub fn persist(&mut self, key: &[u8]) -> bool {
    let had = self.live(key) && self.expires_of(key) != NEVER;
    if had {
      self.retime(key, NEVER);
    }
    had
  }

  /// Removes every key of namespace `ns`; answers how many.
  pub fn clear(&mut self, ns: &[u8]) -> usize {
    let doomed: Vec<Box<[u8]>> = self
      .state
      .table
      .keys()
      .filter(|full| same(split(full).0, ns))
      .map(Box::from)
      .collect();
    for key in &doomed {
      self.unlink(key, ChangeKind::Delete);
    }
    doomed.len()
  }

  /// Bounds namespace `ns` (its JSON text) on its own: its least recently
  /// used entries are evicted beyond `bounds`, now and after each write, and
  /// only its own. Bounds with neither field remove the namespace's bounds.
  /// Answers how many entries it evicted now.
  pub fn bound(&mut self, ns: &[u8], bounds: Bounds) -> usize {
    if bounds.is_none() {
      self.state.bounds.remove(ns);
      return 0;
    }
    self.state.bounds.insert(ns.into(), bounds);
    self.enforce_namespace_bounds(ns)
  }

  /// The bounds of namespace `ns`, if it has some.
  pub fn bounds_of(&self, ns: &[u8]) -> Option<Bounds> {
    self.state.bounds.get(ns).copied()
  }

  // Expiry.

  /// Removes up to `limit` entries whose idle time has run out; answers how many.
  pub fn expire_idle(&mut self, limit: usize) -> usize {
    let Some(idle) = self.idle_ms() else {
      return 0;
    };
    let mut removed = 0;
    while removed < limit {
      let key = match self.state.table.oldest() {
        Some((key, entry)) if self.now.saturating_sub(entry.touched) >= idle => {
          Box::<[u8]>::from(key)
        }
        _ => break,
      };
      self.unlink(&key, ChangeKind::Expire);
      removed += 1;
    }
    removed
  }

  /// Removes up to `limit` entries whose TTL has run out; answers how many.
  pub fn expire_due(&mut self, limit: usize) -> usize {
    let mut removed = 0;
    while removed < limit {
      let Some(key) = self.state.deadlines.pop_due(self.now) else {
        break;
      };
      // Its deadline is gone from the index already: unlink() must not look for it.
      self.state.table.set_expires(&key, NEVER);
      self.unlink(&key, ChangeKind::Expire);
      removed += 1;
    }
    removed
  }

  // Internals: every change of the table goes through put() and unlink(),
  // which keep the deadline index and the counters in step with it.

  fn put(&mut self, key: &[u8], value: &[u8], expires: u64) -> Option<Removed> {
    if self.recording() {
      self.changes.push(Change {
        kind: ChangeKind::Set,
        key: key.into(),
        value: Some(value.into()),
      });
    }
    let state = &mut *self.state;
    state.version += 1;
    let old = state.table.insert(key, value, self.now, expires);
    let stats = state.counters.of(split(key).0);
    stats.sets += 1;
    stats.bytes += (key.len() + value.len()) as u64;
    match &old {
      Some(old) => {
        stats.bytes -= old.size() as u64;
        if old.expires != expires && old.expires != NEVER {
          state.deadlines.remove(old.expires, key);
        }
      }
      None => stats.entries += 1,
    }
    if expires != NEVER && old.as_ref().is_none_or(|old| old.expires != expires) {
      state.deadlines.insert(expires, key);
    }
    if !self.state.bounds.is_empty() {
      self.enforce_namespace_bounds(split(key).0);
    }
    self.enforce_bounds();
    // Writes also pay for a little of the expiry sweep, so a busy store
    // stays clean between background sweeps.
    self.expire_due(8);
    self.expire_idle(8);
    old
  }

  /// Removes `key` for the reason `why`, which the counters and the observer are told.
  fn unlink(&mut self, key: &[u8], why: ChangeKind) -> Option<Removed> {
    let state = &mut *self.state;
    let entry = state.table.remove(key)?;
    state.version += 1;
    if entry.expires != NEVER {
      state.deadlines.remove(entry.expires, key);
    }
    let stats = state.counters.of(split(key).0);
    stats.entries -= 1;
    stats.bytes -= entry.size() as u64;
    match why {
      ChangeKind::Delete => stats.deletes += 1,
      ChangeKind::Expire => stats.expirations += 1,
      ChangeKind::Evict => stats.evictions += 1,
      ChangeKind::Set => {}
    }
    if self.recording() {
      self.changes.push(Change {
        kind: why,
        key: key.into(),
        value: None,
      });
    }
    Some(entry)
  }

  /// Whether changes are recorded for the observer. Checked per change, so a
  /// watch started by a request affects the next request of the same batch.
  fn recording(&self) -> bool {
    self.observer.is_some() && self.observing.load(Ordering::Relaxed)
  }

  fn retime(&mut self, key: &[u8], at: u64) {
    let state = &mut *self.state;
    let Some(old) = state.table.peek(key).map(|entry| entry.expires) else {
      return;
    };
    if old == at {
      return;
    }
    state.version += 1;
    if old != NEVER {
      state.deadlines.remove(old, key);
    }
    if at != NEVER {
      state.deadlines.insert(at, key);
    }
    state.table.set_expires(key, at);
  }

  /// Evicts the least recently used entries of namespace `ns` beyond its
  /// own bounds, if it has some; answers how many.
  fn enforce_namespace_bounds(&mut self, ns: &[u8]) -> usize {
    let Some(bounds) = self.state.bounds.get(ns).copied() else {
      return 0;
    };
    let mut evicted = 0;
    loop {
      let held = self.state.counters.get(ns);
      let over_count = bounds
        .max_entries
        .is_some_and(|max| held.entries as usize > max);
      let over_bytes = bounds
        .max_bytes
        .is_some_and(|max| held.bytes as usize > max);
      if !(over_count || over_bytes) {
        return evicted;
      }
      let Some(key) = self
        .state
        .table
        .oldest_in(ns)
        .map(|(key, _)| Box::<[u8]>::from(key))
      else {
        return evicted;
      };
      self.unlink(&key, ChangeKind::Evict);
      evicted += 1;
    }
  }

  /// Evicts least recently used entries beyond the entry and byte bounds.
  fn enforce_bounds(&mut self) {
    loop {
      let over_count = self
        .config
        .max_entries
        .is_some_and(|max| self.state.table.len() > max);
      let over_bytes = self
        .config
        .max_bytes
        .is_some_and(|max| self.state.table.bytes() > max);
      if !(over_count || over_bytes) {
        return;
      }
      let Some(key) = self
        .state
        .table
        .oldest()
        .map(|(key, _)| Box::<[u8]>::from(key))
      else {
        return;
      };
      self.unlink(&key, ChangeKind::Evict);
    }
  }

  /// Whether `key` holds a live entry; an expired one is removed on the spot.
  fn live(&mut self, key: &[u8]) -> bool {
    let alive = match self.state.table.peek(key) {
      None => return false,
      Some(entry) => self.alive(entry),
    };
    if !alive {
      self.unlink(key, ChangeKind::Expire);
    }
    alive
  }

  fn alive(&self, entry: Entry<'_>) -> bool {
    entry.expires > self.now
      && self
        .idle_ms()
        .is_none_or(|idle| self.now.saturating_sub(entry.touched) < idle)
  }

  fn expires_of(&self, key: &[u8]) -> u64 {
    self
      .state
      .table
      .peek(key)
      .map_or(NEVER, |entry| entry.expires)
  }

  fn deadline(&self, ttl: u64) -> u64 {
    self.now.saturating_add(ttl.max(1)).min(NEVER - 1)
  }

  fn idle_ms(&self) -> Option<u64> {
    self.config.idle_ms()
  }

  fn check(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    check_key(key)?;
    let mut limit = self.config.max_value_bytes;
    if let Some(max_bytes) = self.config.max_bytes {
      limit = limit.min(max_bytes.saturating_sub(key.len()));
    }
    // A value its namespace could never hold is refused, not stored and evicted at once.
    if !self.state.bounds.is_empty() {
      if let Some(max_bytes) = self
        .bounds_of(split(key).0)
        .and_then(|bounds| bounds.max_bytes)
      {
        limit = limit.min(max_bytes.saturating_sub(key.len()));
      }
    }
    if value.len() > limit {
      return Err(StoreError::ValueTooLarge {
        size: value.len(),
        limit,
      });
    }
    Ok(())
  }
}

fn check_key(key: &[u8]) -> Result<(), StoreError> {
  if key.len() > MAX_KEY_BYTES {
    return Err(StoreError::KeyTooLarge {
      size: key.len(),
      limit: MAX_KEY_BYTES,
    });
  }
  Ok(())
}

/// Writes a number as JSON that `JSON.parse` reads back to the same value.
/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`):
/// increments whose result is beyond it fail, on every backend alike.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

fn format_number(n: f64) -> String {
  // Rust prints the shortest text that round-trips, and whole numbers
  // without a fraction, which is what JSON needs.
  format!("{n}")
}

#[cfg(test)]
mod tests;
