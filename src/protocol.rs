//! The batch format that every transport carries, and how a batch is
//! applied to a store.
//!
//! A **request batch** is a JSON array of requests, each
//! `[id, op, key, arg]` or `[id, op, key, arg, options]`:
//!
//! | op          | key      | arg                                 | reply                               |
//! |-------------|----------|-------------------------------------|-------------------------------------|
//! | `"get"`     | the key  | `0` (unused)                        | value or nothing                    |
//! | `"set"`     | the key  | the value                           | nothing; with `nx`/`xx` whether it stored |
//! | `"del"`     | the key  | `0`                                 | `true`/`false`: whether it existed  |
//! | `"has"`     | the key  | `0`                                 | `true`/`false`                      |
//! | `"incr"`    | the key  | the amount (a number)               | the new number                      |
//! | `"getset"`  | the key  | the new value                       | the old value or nothing            |
//! | `"cas"`     | the key  | `[next]` or `[next, expected]`      | `true`/`false`: whether it stored   |
//! | `"expire"`  | the key  | milliseconds                        | `true`/`false`: whether it exists   |
//! | `"ttl"`     | the key  | `0`                                 | ms left, `-1` no TTL, `-2` missing  |
//! | `"persist"` | the key  | `0`                                 | `true`/`false`: whether it had a TTL |
//! | `"mset"`    | `null`   | `[[key, value], ...]`               | nothing                             |
//! | `"mget"`    | `null`   | `[key, ...]`                        | `[[1, value] or [0], ...]`          |
//! | `"keys"`    | `null`   | a glob pattern string, or `null`    | `[key, ...]`                        |
//! | `"size"`    | `null`   | `0`                                 | how many keys                       |
//! | `"clear"`   | `null`   | `0`                                 | nothing                             |
//! | `"stats"`   | `null`   | `0`                                 | `{total, namespaces: {name: …}}`    |
//! | `"lock"`    | the key  | `{lease, wait}` (ms; wait `null`: as long as it takes) | the fencing token, possibly later |
//! | `"unlock"`  | the key  | the fencing token                   | `true`/`false`: whether it held the lock |
//! | `"extend"`  | the key  | `[token, lease]`                    | `true`/`false`: whether it still held it |
//! | `"watch"`   | a glob pattern | a subscription id              | nothing                             |
//! | `"unwatch"` | `null`   | the subscription id                 | `true`/`false`                      |
//!
//! Locks and subscriptions belong to the connected process (the *owner*)
//! that asked for them, and end when it goes away. A `lock` request that
//! has to wait gets no reply in its batch: its reply comes later, pushed
//! on its own (see [`crate::host`]), granted or failed with
//! `ERR_LOCK_TIMEOUT` when its wait runs out.
//!
//! `options` is an object; every field is optional and unknown fields are
//! ignored: `ns` (a namespace name; without it, the default namespace),
//! `ttl` (ms, for `set`, `mset`, and `incr` when it creates the key), `nx`,
//! `xx`, `keepTtl` (for `set`).
//!
//! `id` is any non-negative integer the client picks to match replies. A key
//! (and a namespace name) is a JSON string, exactly as `JSON.stringify`
//! writes it: the store keeps that text as the key's identity, so every
//! JavaScript string (lone surrogates included) is a key and nothing is
//! decoded. A value is any JSON text and is stored as it came, never rebuilt.
//!
//! A **reply batch** is a JSON array with one reply per request, in order:
//! `[id, 0]` done with no value, `[id, 1, value]` done with a value,
//! `[id, 2, code, message]` failed (`code` as in [`StoreError::code`]).

use std::borrow::Cow;
use std::fmt::Write;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::StoreError;
use crate::host::{lock_timeout, Host};
use crate::locks::{Acquire, LockRequest, LockTable, Notice};
use crate::peers::Owner;
use crate::store::{qualify, Condition, Glob, SetOptions, Stats, Txn};

#[derive(Deserialize)]
struct Request<'a>(
  u64,
  &'a str,
  #[serde(borrow)] &'a RawValue,
  #[serde(borrow)] &'a RawValue,
  #[serde(borrow, default)] Option<Options<'a>>,
);

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Options<'a> {
  #[serde(borrow)]
  ns: Option<&'a RawValue>,
  ttl: Option<f64>,
  #[serde(default)]
  nx: bool,
  #[serde(default)]
  xx: bool,
  #[serde(default)]
  keep_ttl: bool,
}

/// The caller of a batch, for the requests that need to know who asks.
struct Caller<'h> {
  host: &'h Host,
  owner: Owner,
  now: Instant,
  /// Later answers to others that this batch's lock requests produced.
  notices: Vec<Notice>,
}

impl Caller<'_> {
  /// Runs a lock-table operation for this caller (see [`Host::with_locks`]).
  fn locks<R>(&mut self, f: impl FnOnce(&mut LockTable) -> (R, Vec<Notice>)) -> R {
    self.host.with_locks(&mut self.notices, f)
  }
}

#[derive(Deserialize)]
struct LockArgs {
  lease: f64,
  wait: Option<f64>,
}

/// Applies every request of `batch` from `owner` to `host`'s store under
/// one lock and answers the reply batch. Never fails: a request that cannot
/// be understood gets an `ERR_PROTOCOL` reply, and the others are still
/// applied.
pub fn apply_batch(host: &Host, owner: Owner, batch: &str) -> String {
  // A well-formed batch is read in one pass. Only when that fails is it read
  // again request by request, so the good requests of a bad batch still apply.
  let parsed: Vec<Result<Request, StoreError>> = match serde_json::from_str::<Vec<Request>>(batch) {
    Ok(requests) => requests.into_iter().map(Ok).collect(),
    Err(_) => match serde_json::from_str::<Vec<&RawValue>>(batch) {
      Ok(items) => items.iter().map(|item| parse_request(item)).collect(),
      Err(err) => {
        let mut out = String::from("[");
        write_error(
          &mut out,
          None,
          &StoreError::Protocol(format!("the batch is not a JSON array ({err})")),
        );
        out.push(']');
        return out;
      }
    },
  };
  let mut out = String::with_capacity(16 * parsed.len() + 2);
  out.push('[');
  let mut caller = Caller {
    host,
    owner,
    now: Instant::now(),
    notices: Vec::new(),
  };
  let mut tx = host.store().begin();
  for request in parsed {
    // A request whose reply comes later writes nothing: take its comma back.
    let before = out.len();
    if before > 1 {
      out.push(',');
    }
    let start = out.len();
    match request {
      Ok(Request(id, op, key, arg, options)) => {
        let options = options.unwrap_or_default();
        if let Err(err) = apply(&mut tx, &mut caller, id, op, key, arg, &options, &mut out) {
          write_error(&mut out, Some(id), &err);
        }
        if out.len() == start {
          out.truncate(before);
        }
      }
      Err(err) => write_failure_of(&mut out, &err),
    }
  }
  out.push(']');
  drop(tx);
  host.deliver(caller.notices);
  out
}

/// One request of a batch that did not parse as a whole.
fn parse_request<'a>(item: &'a RawValue) -> Result<Request<'a>, StoreError> {
  serde_json::from_str::<Request>(item.get()).map_err(|err| StoreError::Unparsed {
    id: request_id(item),
    reason: format!("a request must be [id, op, key, arg, options?] ({err})"),
  })
}

/// Answers every request of `batch` with the same error, without touching
/// any store (used when there is no store to send the batch to).
pub fn fail_batch(batch: &str, code: &str, message: &str) -> String {
  let items = serde_json::from_str::<Vec<&RawValue>>(batch).unwrap_or_default();
  let mut out = String::from("[");
  for (i, item) in items.iter().enumerate() {
    if i > 0 {
      out.push(',');
    }
    write_failure(&mut out, request_id(item), code, message);
  }
  out.push(']');
  out
}

/// Applies one request, writing its reply (or nothing, when the reply
/// comes later); on an error, writes nothing.
#[allow(clippy::too_many_arguments)]
fn apply(
  tx: &mut Txn<'_>,
  caller: &mut Caller<'_>,
  id: u64,
  op: &str,
  key: &RawValue,
  arg: &RawValue,
  options: &Options<'_>,
  out: &mut String,
) -> Result<(), StoreError> {
  let ns = namespace(options)?;
  // Operations on a whole namespace.
  match op {
    "mset" => {
      let pairs = serde_json::from_str::<Vec<(&RawValue, &RawValue)>>(arg.get())
        .map_err(|_| StoreError::Protocol("mset takes [[key, value], ...]".into()))?;
      let pairs = pairs
        .iter()
        .map(|(key, value)| Ok((qualify(ns, key_bytes(key)?), value.get().as_bytes())))
        .collect::<Result<Vec<_>, StoreError>>()?;
      let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(key, value)| (&**key, *value)).collect();
      tx.set_many(&pairs, ttl(options)?)?;
      write_done(out, id);
      return Ok(());
    }
    "mget" => {
      let keys = serde_json::from_str::<Vec<&RawValue>>(arg.get())
        .map_err(|_| StoreError::Protocol("mget takes [key, ...]".into()))?;
      let keys = keys
        .iter()
        .map(|key| Ok(qualify(ns, key_bytes(key)?)))
        .collect::<Result<Vec<Cow<[u8]>>, StoreError>>()?;
      let _ = write!(out, "[{id},1,[");
      for (i, key) in keys.iter().enumerate() {
        out.push_str(if i > 0 { ",[" } else { "[" });
        match tx.get(key) {
          Some(value) => {
            out.push_str("1,");
            push_json(out, value);
          }
          None => out.push('0'),
        }
        out.push(']');
      }
      out.push_str("]]");
      return Ok(());
    }
    "keys" => {
      let pattern = serde_json::from_str::<Option<String>>(arg.get())
        .map_err(|_| StoreError::Protocol("keys takes a pattern string or null".into()))?;
      let glob = pattern.as_deref().map(Glob::new);
      let _ = write!(out, "[{id},1,[");
      for (i, key) in tx.keys(ns, glob.as_ref()).iter().enumerate() {
        if i > 0 {
          out.push(',');
        }
        push_json(out, key);
      }
      out.push_str("]]");
      return Ok(());
    }
    "size" => {
      let size = tx.size(ns);
      write_value(out, id, size.to_string().as_bytes());
      return Ok(());
    }
    "clear" => {
      tx.clear(ns);
      write_done(out, id);
      return Ok(());
    }
    "unwatch" => {
      let sub = serde_json::from_str::<u64>(arg.get())
        .map_err(|_| StoreError::Protocol("unwatch takes a subscription id".into()))?;
      let removed = caller
        .host
        .watches()
        .unsubscribe(caller.host.store(), caller.owner, sub);
      write_bool(out, id, removed);
      return Ok(());
    }
    "watch" => {
      let pattern = serde_json::from_str::<String>(key.get())
        .map_err(|_| StoreError::Protocol("watch takes a pattern string".into()))?;
      let sub = serde_json::from_str::<u64>(arg.get())
        .map_err(|_| StoreError::Protocol("watch takes a subscription id".into()))?;
      caller
        .host
        .watches()
        .subscribe(caller.host.store(), caller.owner, sub, ns, &pattern);
      write_done(out, id);
      return Ok(());
    }
    "stats" => {
      let (total, namespaces) = tx.stats();
      let _ = write!(out, "[{id},1,{{\"total\":");
      write_stats(out, &total);
      out.push_str(",\"namespaces\":{");
      for (i, (name, stats)) in namespaces.iter().enumerate() {
        if i > 0 {
          out.push(',');
        }
        // A namespace name is JSON string text already; the default one has none.
        push_json(out, if name.is_empty() { b"\"\"" } else { name });
        out.push(':');
        write_stats(out, stats);
      }
      out.push_str("}}]");
      return Ok(());
    }
    _ => {}
  }
  // Operations on one key.
  let key = qualify(ns, key_bytes(key)?);
  let key = &*key;
  match op {
    "get" => match tx.get(key) {
      Some(value) => write_value(out, id, value),
      None => write_done(out, id),
    },
    "set" => {
      let condition = match (options.nx, options.xx) {
        (true, true) => return Err(StoreError::Protocol("set takes nx or xx, not both".into())),
        (true, false) => Condition::IfAbsent,
        (false, true) => Condition::IfPresent,
        (false, false) => Condition::Always,
      };
      let set = SetOptions {
        ttl: ttl(options)?,
        condition,
        keep_ttl: options.keep_ttl,
      };
      let stored = tx.set(key, arg.get().as_bytes(), &set)?;
      if condition == Condition::Always {
        write_done(out, id);
      } else {
        write_bool(out, id, stored);
      }
    }
    "del" => {
      let existed = tx.remove(key);
      write_bool(out, id, existed);
    }
    "has" => {
      let exists = tx.has(key);
      write_bool(out, id, exists);
    }
    "incr" => {
      let by = serde_json::from_str::<f64>(arg.get())
        .map_err(|_| StoreError::Protocol("incr takes a number".into()))?;
      let n = tx.incr(key, by, ttl(options)?)?;
      write_value(out, id, format!("{n}").as_bytes());
    }
    "getset" => match tx.get_set(key, arg.get().as_bytes())? {
      Some(old) => write_value(out, id, &old),
      None => write_done(out, id),
    },
    "cas" => {
      let values = serde_json::from_str::<Vec<&RawValue>>(arg.get())
        .ok()
        .filter(|values| matches!(values.len(), 1 | 2))
        .ok_or_else(|| StoreError::Protocol("cas takes [next] or [next, expected]".into()))?;
      let expected = values.get(1).map(|value| value.get().as_bytes());
      let stored = tx.compare_and_set(key, expected, values[0].get().as_bytes())?;
      write_bool(out, id, stored);
    }
    "expire" => {
      let ms = millis(serde_json::from_str::<f64>(arg.get()).ok())?
        .ok_or_else(|| StoreError::Protocol("expire takes a number of milliseconds".into()))?;
      let exists = tx.expire(key, ms);
      write_bool(out, id, exists);
    }
    "ttl" => {
      let left = tx.ttl(key);
      write_value(out, id, left.to_string().as_bytes());
    }
    "persist" => {
      let had = tx.persist(key);
      write_bool(out, id, had);
    }
    "lock" => {
      let args = serde_json::from_str::<LockArgs>(arg.get())
        .map_err(|_| StoreError::Protocol("lock takes {lease, wait}".into()))?;
      let ask = LockRequest {
        owner: caller.owner,
        request: id,
        lease: duration(args.lease)?,
        wait: match args.wait {
          Some(0.0) => Some(Duration::ZERO),
          Some(wait) => Some(duration(wait)?),
          None => None,
        },
      };
      let now = caller.now;
      match caller.locks(|locks| locks.acquire(key, ask, now)) {
        Acquire::Granted(token) => write_value(out, id, token.to_string().as_bytes()),
        Acquire::Queued => {} // answered later
        Acquire::Busy => return Err(lock_timeout(key)),
      }
    }
    "unlock" => {
      let token = serde_json::from_str::<u64>(arg.get())
        .map_err(|_| StoreError::Protocol("unlock takes a fencing token".into()))?;
      let (owner, now) = (caller.owner, caller.now);
      let released = caller.locks(|locks| locks.release(key, owner, token, now));
      write_bool(out, id, released);
    }
    "extend" => {
      let (token, lease) = serde_json::from_str::<(u64, f64)>(arg.get())
        .map_err(|_| StoreError::Protocol("extend takes [token, lease]".into()))?;
      let (lease, owner, now) = (duration(lease)?, caller.owner, caller.now);
      let held = caller.locks(|locks| locks.extend(key, owner, token, lease, now));
      write_bool(out, id, held);
    }
    other => return Err(StoreError::Protocol(format!("unknown operation {other:?}"))),
  }
  Ok(())
}

/// The namespace of a request: its name's JSON text, or empty for the default one.
fn namespace<'a>(options: &Options<'a>) -> Result<&'a [u8], StoreError> {
  match options.ns {
    None => Ok(b""),
    Some(ns) if ns.get().starts_with('"') => Ok(ns.get().as_bytes()),
    Some(_) => Err(StoreError::Protocol(
      "a namespace name must be a string".into(),
    )),
  }
}

/// A lease or wait in milliseconds.
fn duration(ms: f64) -> Result<Duration, StoreError> {
  millis(Some(ms))?
    .map(Duration::from_millis)
    .ok_or_else(|| StoreError::Protocol("a duration is needed".into()))
}

fn ttl(options: &Options<'_>) -> Result<Option<u64>, StoreError> {
  millis(options.ttl)
}

/// A duration in whole milliseconds (rounded up), which must be positive.
fn millis(ms: Option<f64>) -> Result<Option<u64>, StoreError> {
  match ms {
    None => Ok(None),
    Some(ms) if ms > 0.0 && ms.is_finite() => Ok(Some(ms.ceil() as u64)),
    Some(ms) => Err(StoreError::Protocol(format!(
      "a ttl is a positive number of milliseconds, got {ms}"
    ))),
  }
}

/// A key is a JSON string; its text, quotes included, is its identity.
fn key_bytes(key: &RawValue) -> Result<&[u8], StoreError> {
  let text = key.get();
  if text.starts_with('"') {
    Ok(text.as_bytes())
  } else {
    Err(StoreError::InvalidKey)
  }
}

fn request_id(item: &RawValue) -> Option<u64> {
  serde_json::from_str::<serde_json::Value>(item.get())
    .ok()?
    .get(0)?
    .as_u64()
}

fn write_done(out: &mut String, id: u64) {
  let _ = write!(out, "[{id},0]");
}

fn write_bool(out: &mut String, id: u64, value: bool) {
  let _ = write!(out, "[{id},1,{value}]");
}

pub(crate) fn write_value(out: &mut String, id: u64, value: &[u8]) {
  let _ = write!(out, "[{id},1,");
  push_json(out, value);
  out.push(']');
}

/// Appends stored JSON text: values and keys arrived in a JSON batch, or the store wrote them.
fn push_json(out: &mut String, json: &[u8]) {
  out.push_str(std::str::from_utf8(json).unwrap_or("null"));
}

fn write_stats(out: &mut String, s: &Stats) {
  let _ = write!(
    out,
    "{{\"entries\":{},\"bytes\":{},\"hits\":{},\"misses\":{},\"sets\":{},\"deletes\":{},\"expirations\":{},\"evictions\":{}}}",
    s.entries, s.bytes, s.hits, s.misses, s.sets, s.deletes, s.expirations, s.evictions
  );
}

/// The reply to a request that could not be read: addressed to its id, if it has one.
fn write_failure_of(out: &mut String, err: &StoreError) {
  let id = match err {
    StoreError::Unparsed { id, .. } => *id,
    _ => None,
  };
  write_error(out, id, err);
}

pub(crate) fn write_error(out: &mut String, id: Option<u64>, err: &StoreError) {
  write_failure(out, id, err.code(), &err.to_string());
}

fn write_failure(out: &mut String, id: Option<u64>, code: &str, message: &str) {
  let id = id.map_or_else(|| "null".to_string(), |id| id.to_string());
  let code = serde_json::to_string(code).unwrap_or_default();
  let message = serde_json::to_string(message).unwrap_or_default();
  let _ = write!(out, "[{id},2,{code},{message}]");
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::store::StoreConfig;

  fn store() -> Host {
    Host::new(StoreConfig::default())
  }

  fn apply_batch(host: &Host, batch: &str) -> String {
    super::apply_batch(host, 0, batch)
  }

  #[test]
  fn applies_requests_in_order() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set","a",[0,1,2,3]],[2,"get","a",0],[3,"del","a",0],[4,"get","a",0],[5,"del","a",0]]"#,
    );
    assert_eq!(
      reply,
      r#"[[1,0],[2,1,[0,1,2,3]],[3,1,true],[4,0],[5,1,false]]"#
    );
  }

  #[test]
  fn values_are_stored_as_sent() {
    let s = store();
    apply_batch(&s, r#"[[1,"set","k",{"b":1,"a":"\u00e9"}]]"#);
    assert_eq!(
      apply_batch(&s, r#"[[2,"get","k",0]]"#),
      r#"[[2,1,{"b":1,"a":"\u00e9"}]]"#
    );
  }

  #[test]
  fn incr_and_mset() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"incr","n",1],[2,"incr","n",1],[3,"mset",null,[["x",1],["y","two"]]],[4,"get","y",0],[5,"incr","y",1]]"#,
    );
    assert!(
      reply.starts_with(r#"[[1,1,1],[2,1,2],[3,0],[4,1,"two"],[5,2,"ERR_NOT_A_NUMBER","#),
      "{reply}"
    );
  }

  #[test]
  fn bad_requests_fail_alone() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set",5,1],[2,"nope","a",0],"junk",[3],[4,"set","ok",true],[5,"mset",null,[[1,2]]]]"#,
    );
    let replies: Vec<serde_json::Value> = serde_json::from_str(&reply).unwrap();
    let codes: Vec<_> = replies.iter().map(|r| r[2].clone()).collect();
    assert_eq!(replies[0][2], "ERR_INVALID_KEY");
    assert_eq!(replies[1][2], "ERR_PROTOCOL");
    assert_eq!(replies[2][0], serde_json::Value::Null);
    assert_eq!(replies[3][0], 3);
    assert_eq!(replies[4], serde_json::json!([4, 0]), "{codes:?}");
    assert_eq!(replies[5][2], "ERR_INVALID_KEY");
    assert_eq!(apply_batch(&s, r#"[[6,"get","ok",0]]"#), "[[6,1,true]]");
  }

  #[test]
  fn a_batch_that_is_not_an_array_gets_one_error() {
    let reply = apply_batch(&store(), "{\"x\":1");
    assert!(reply.starts_with(r#"[[null,2,"ERR_PROTOCOL","#), "{reply}");
  }

  #[test]
  fn fail_batch_answers_every_request() {
    let reply = fail_batch(
      r#"[[7,"get","a",0],[8,"set","b",1]]"#,
      "ERR_NO_HOST",
      "gone",
    );
    assert_eq!(
      reply,
      r#"[[7,2,"ERR_NO_HOST","gone"],[8,2,"ERR_NO_HOST","gone"]]"#
    );
    assert_eq!(fail_batch("garbage", "X", "y"), "[]");
  }

  #[test]
  fn options_namespaces_and_the_extended_operations() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set","k","d"],[2,"set","k","a",{"ns":"a"}],[3,"get","k",0,{"ns":"a"}],[4,"set","k","x",{"nx":true}],
          [5,"set","k","y",{"xx":true,"ttl":60000}],[6,"has","k",0],[7,"mget",null,["k","z"]],[8,"keys",null,"k*"],
          [9,"size",null,0,{"ns":"a"}],[10,"getset","g",1],[11,"cas","g",[2,1]],[12,"cas","g",[3]],[13,"persist","k",0],
          [14,"ttl","k",0],[15,"expire","zz",5],[16,"clear",null,0,{"ns":"a"}],[17,"get","k",0,{"ns":"a"}],[18,"get","k",0],
          [19,"incr","w",1,{"ttl":1000}],[20,"set","k",1,{"ns":5}],[21,"set","k",1,{"ttl":-1}]]"#,
    );
    let replies: Vec<serde_json::Value> = serde_json::from_str(&reply).unwrap();
    let expect = serde_json::json!([
      [1, 0],
      [2, 0],
      [3, 1, "a"],
      [4, 1, false],
      [5, 1, true],
      [6, 1, true],
      [7, 1, [[1, "y"], [0]]],
      [8, 1, ["k"]],
      [9, 1, 1],
      [10, 0],
      [11, 1, true],
      [12, 1, false],
      [13, 1, true],
      [14, 1, -1],
      [15, 1, false],
      [16, 0],
      [17, 0],
      [18, 1, "y"],
      [19, 1, 1]
    ]);
    assert_eq!(serde_json::Value::from(replies[..19].to_vec()), expect);
    assert_eq!(replies[19][2], "ERR_PROTOCOL");
    assert_eq!(replies[20][2], "ERR_PROTOCOL");
    let stats: serde_json::Value =
      serde_json::from_str(&apply_batch(&s, r#"[[1,"stats",null,0]]"#)).unwrap();
    assert_eq!(stats[0][2]["total"]["entries"], 3);
    assert_eq!(stats[0][2]["namespaces"]["a"]["entries"], 0);
    assert_eq!(stats[0][2]["namespaces"][""]["entries"], 3);
  }
}
