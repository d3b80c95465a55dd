//! Runs one [`Op`] against what a host serves: the store (through the
//! batch's transaction), the lock table and the watch registry.
//!
//! It knows no wire format and no transport: it takes typed operations and
//! answers typed [`Reply`]s. Whoever owns the loop ([`crate::host::Host`])
//! opens the transaction, writes the replies, and afterwards delivers the
//! [`Notice`]s this produced for others and wakes its timer for the
//! earliest lock deadline.

use std::borrow::Cow;
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::StoreError;
use crate::locks::{Acquire, LockRequest, LockTable, Notice, Owner};
use crate::op::{Op, Reply};
use crate::store::{key_text, qualify, split, Glob, Storage, Store, Txn};
use crate::watch::Watches;

/// Who runs a batch, and what its lock requests leave for the host to do.
pub struct Context<'h, S: Storage> {
  pub store: &'h Store<S>,
  pub locks: &'h Mutex<LockTable>,
  pub watches: &'h Watches,
  pub owner: Owner,
  /// One reading of the clock for the whole batch's lock requests.
  pub now: Instant,
  /// Later answers to others that this batch's lock requests produced.
  pub notices: Vec<Notice>,
  /// The lock table's earliest deadline after this batch's last lock request.
  pub lock_deadline: Option<Instant>,
}

impl<'h, S: Storage> Context<'h, S> {
  pub fn new(
    store: &'h Store<S>,
    locks: &'h Mutex<LockTable>,
    watches: &'h Watches,
    owner: Owner,
  ) -> Self {
    Context {
      store,
      locks,
      watches,
      owner,
      now: Instant::now(),
      notices: Vec::new(),
      lock_deadline: None,
    }
  }

  /// Runs a lock-table operation; keeps the notices it produces and the
  /// table's next deadline.
  fn with_locks<R>(&mut self, f: impl FnOnce(&mut LockTable) -> (R, Vec<Notice>)) -> R {
    let mut locks = self.locks.lock();
    let (answer, notices) = f(&mut locks);
    self.lock_deadline = locks.next_deadline();
    drop(locks);
    self.notices.extend(notices);
    answer
  }
}

/// Runs `op` in namespace `ns` (its name's JSON text; empty: the default one).
pub fn run<'t, S: Storage>(
  tx: &'t mut Txn<'_, S>,
  cx: &mut Context<'_, S>,
  id: u64,
  ns: &[u8],
  op: Op<'_>,
) -> Reply<'t> {
  match run_op(tx, cx, id, ns, op) {
    Ok(reply) => reply,
    Err(err) => Reply::Failed(err),
  }
}

/// Runs an operation on one key, or dispatches to the others' runners.
fn run_op<'t, S: Storage>(
  tx: &'t mut Txn<'_, S>,
  cx: &mut Context<'_, S>,
  id: u64,
  ns: &[u8],
  op: Op<'_>,
) -> Result<Reply<'t>, StoreError> {
  Ok(match op {
    Op::Get { key } => tx.get(&qualify(ns, key)).map_or(Reply::Done, Reply::Value),
    Op::Set {
      key,
      value,
      options,
    } => {
      let stored = tx.set(&qualify(ns, key), value, &options)?;
      if options.condition.is_conditional() {
        Reply::Bool(stored)
      } else {
        Reply::Done
      }
    }
    Op::Del { key } => Reply::Bool(tx.remove(&qualify(ns, key))),
    Op::Has { key } => Reply::Bool(tx.has(&qualify(ns, key))),
    Op::Incr { key, by, ttl } => Reply::Number(tx.incr(&qualify(ns, key), by, ttl)?),
    Op::GetSet { key, value } => tx
      .get_set(&qualify(ns, key), value)?
      .map_or(Reply::Done, Reply::Taken),
    Op::Cas {
      key,
      expected,
      next,
    } => Reply::Bool(tx.compare_and_set(&qualify(ns, key), expected, next)?),
    Op::Expire { key, ms } => Reply::Bool(tx.expire(&qualify(ns, key), ms)),
    Op::Ttl { key } => Reply::Int(tx.ttl(&qualify(ns, key))),
    Op::Persist { key } => Reply::Bool(tx.persist(&qualify(ns, key))),
    Op::Lock { .. }
    | Op::Unlock { .. }
    | Op::Extend { .. }
    | Op::Watch { .. }
    | Op::Unwatch { .. } => run_owned_op(cx, id, ns, op)?,
    _ => run_namespace_op(tx, ns, op)?,
  })
}

/// Runs an operation on a whole namespace, or on several of its keys.
fn run_namespace_op<'t, S: Storage>(
  tx: &'t mut Txn<'_, S>,
  ns: &[u8],
  op: Op<'_>,
) -> Result<Reply<'t>, StoreError> {
  Ok(match op {
    Op::MSet { pairs, ttl } => {
      let keys: Vec<Cow<[u8]>> = pairs.iter().map(|(key, _)| qualify(ns, key)).collect();
      let pairs: Vec<(&[u8], &[u8])> = keys
        .iter()
        .zip(&pairs)
        .map(|(key, (_, value))| (&**key, *value))
        .collect();
      tx.set_many(&pairs, ttl)?;
      Reply::Done
    }
    Op::MGet { keys } => {
      let keys: Vec<Cow<[u8]>> = keys.iter().map(|key| qualify(ns, key)).collect();
      // Each read is a use (recency, idle timer, hit count), then the values are looked at.
      for key in &keys {
        tx.get(key);
      }
      Reply::Values(keys.iter().map(|key| tx.peek(key)).collect())
    }
    Op::Used { slots, counts } => {
      for (slot, hash) in slots {
        tx.use_published(slot, hash);
      }
      for (ns, hits, misses) in counts {
        tx.count_hits(ns, hits);
        tx.count_misses(ns, misses);
      }
      Reply::Done
    }
    Op::Keys { pattern } => Reply::Keys(tx.keys(ns, pattern.as_deref().map(Glob::new).as_ref())),
    Op::Size => Reply::Int(tx.size(ns) as i64),
    Op::Bound { bounds } => Reply::Int(tx.bound(ns, bounds) as i64),
    Op::Clear => {
      tx.clear(ns);
      Reply::Done
    }
    Op::Stats => {
      let (total, namespaces) = tx.stats();
      Reply::Stats(total, namespaces, tx.published_bytes() as u64)
    }
    _ => unreachable!("run_op runs the others"),
  })
}

/// Runs an operation whose result belongs to the caller: a lock, a subscription.
fn run_owned_op<S: Storage>(
  cx: &mut Context<'_, S>,
  id: u64,
  ns: &[u8],
  op: Op<'_>,
) -> Result<Reply<'static>, StoreError> {
  Ok(match op {
    Op::Lock { key, lease, wait } => {
      let key = qualify(ns, key);
      let ask = LockRequest {
        owner: cx.owner,
        request: id,
        lease,
        wait,
      };
      let now = cx.now;
      match cx.with_locks(|locks| locks.acquire(&key, ask, now)) {
        Acquire::Granted(token) => Reply::Int(token as i64),
        Acquire::Queued => Reply::Later,
        Acquire::Busy => return Err(lock_timeout(&key)),
      }
    }
    Op::Unlock { key, token } => {
      let (key, owner, now) = (qualify(ns, key), cx.owner, cx.now);
      Reply::Bool(cx.with_locks(|locks| locks.release(&key, owner, token, now)))
    }
    Op::Extend { key, token, lease } => {
      let (key, owner, now) = (qualify(ns, key), cx.owner, cx.now);
      Reply::Bool(cx.with_locks(|locks| locks.extend(&key, owner, token, lease, now)))
    }
    Op::Watch {
      pattern,
      subscription,
    } => {
      cx.watches
        .subscribe(cx.store, cx.owner, subscription, ns, &pattern);
      Reply::Done
    }
    Op::Unwatch { subscription } => {
      Reply::Bool(cx.watches.unsubscribe(cx.store, cx.owner, subscription))
    }
    _ => unreachable!("run_op runs the others"),
  })
}

/// The error of a lock request that did not get the lock on (stored) `key` in time.
pub fn lock_timeout(key: &[u8]) -> StoreError {
  StoreError::LockTimeout(key_text(split(key).1))
}
