//! The batch format that every transport carries: a batch read into typed
//! requests ([`crate::op`]), and replies and pushes written back. It knows
//! no store: [`crate::exec`] runs what it reads, [`crate::host`] owns the
//! loop between them.
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
//! | `"stats"`   | `null`   | `0`                                 | `{total, namespaces: {name: …}, segmentBytes}` |
//! | `"bound"`   | `null`   | `{max, maxBytes}` (each a positive integer or `null`) | how many entries it evicted now; the namespace's own bounds from now on |
//! | `"lock"`    | the key  | `{lease, wait}` (ms; wait `null`: as long as it takes) | the fencing token, possibly later |
//! | `"unlock"`  | the key  | the fencing token                   | `true`/`false`: whether it held the lock |
//! | `"extend"`  | the key  | `[token, lease]`                    | `true`/`false`: whether it still held it |
//! | `"watch"`   | a glob pattern | a subscription id              | nothing                             |
//! | `"unwatch"` | `null`   | the subscription id                 | `true`/`false`                      |
//! | `"used"`    | `null`   | `{slots: [[slot, hash], ...], counts: [[ns or null, hits, misses], ...]}`: reads made from the shared segment | nothing |
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
//!
//! A host may also send a **push**, a message no request of the batch
//! waits for: `!` and a reply batch of one reply that comes later (a lock
//! granted to a waiter, or its wait that ran out); `~` and watch events
//! `[[subscription, kind, key(, value)], ...]`; or `~{"lost":n}` after `n`
//! pushes of events were dropped for a subscriber that fell behind. Every
//! format of this module is written here and nowhere else.

use std::fmt::Write;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::StoreError;
use crate::op::{Op, Reply, Request};
use crate::store::{Bounds, ChangeKind, Condition, SetOptions, Stats};

// Reading.

/// A request of a batch that could not be read: its id, if it has one, and why.
#[derive(Debug)]
pub struct Unreadable {
  pub id: Option<u64>,
  pub error: StoreError,
}

/// One request of a batch, read.
pub type Parsed<'a> = Result<Request<'a>, Unreadable>;

/// A request as it travels, before its arguments are read.
#[derive(Deserialize)]
struct Wire<'a>(
  u64,
  &'a str,
  #[serde(borrow)] &'a RawValue,
  #[serde(borrow)] &'a RawValue,
  #[serde(borrow, default)] Option<Options<'a>>,
);

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Options<'a> {
  /// Kept raw, `null` included, so that `{"ns": null}` is refused rather
  /// than taken for the default namespace.
  #[serde(borrow, default, deserialize_with = "present")]
  ns: Option<&'a RawValue>,
  ttl: Option<f64>,
  #[serde(default)]
  nx: bool,
  #[serde(default)]
  xx: bool,
  #[serde(default)]
  keep_ttl: bool,
}

/// A field that is there, whatever its value (`null` too).
fn present<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<&'de RawValue>, D::Error> {
  <&RawValue>::deserialize(field).map(Some)
}

#[derive(Deserialize)]
struct UsedArgs<'a> {
  #[serde(default)]
  slots: Vec<(u32, u64)>,
  #[serde(borrow, default)]
  counts: Vec<(Option<&'a RawValue>, u64, u64)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoundArgs {
  #[serde(default)]
  max: Option<f64>,
  #[serde(default)]
  max_bytes: Option<f64>,
}

#[derive(Deserialize)]
struct LockArgs {
  lease: f64,
  wait: Option<f64>,
}

/// Reads every request of `batch`, in order. A request that cannot be read
/// is an [`Unreadable`] in its place, and the others are still read; only a
/// batch that is not a JSON array at all is an error.
pub fn parse_batch(batch: &str) -> Result<Vec<Parsed<'_>>, StoreError> {
  // A well-formed batch is read in one pass. Only when that fails is it read
  // again request by request, so the good requests of a bad batch still apply.
  if let Ok(wires) = serde_json::from_str::<Vec<Wire>>(batch) {
    return Ok(wires.into_iter().map(read).collect());
  }
  let items = serde_json::from_str::<Vec<&RawValue>>(batch)
    .map_err(|err| StoreError::Protocol(format!("the batch is not a JSON array ({err})")))?;
  Ok(
    items
      .iter()
      .map(|item| match serde_json::from_str::<Wire>(item.get()) {
        Ok(wire) => read(wire),
        Err(err) => Err(Unreadable {
          id: request_id(item),
          error: StoreError::Protocol(format!(
            "a request must be [id, op, key, arg, options?] ({err})"
          )),
        }),
      })
      .collect(),
  )
}

fn read(Wire(id, op, key, arg, options): Wire<'_>) -> Parsed<'_> {
  let options = options.unwrap_or_default();
  let read = namespace(&options).and_then(|ns| Ok((ns, read_op(op, key, arg, &options)?)));
  match read {
    Ok((ns, op)) => Ok(Request { id, ns, op }),
    Err(error) => Err(Unreadable {
      id: Some(id),
      error,
    }),
  }
}

/// Reads an operation and its arguments (see the table above).
fn read_op<'a>(
  op: &str,
  key: &'a RawValue,
  arg: &'a RawValue,
  options: &Options<'_>,
) -> Result<Op<'a>, StoreError> {
  Ok(match op {
    "get" => Op::Get {
      key: key_bytes(key)?,
    },
    "set" => Op::Set {
      key: key_bytes(key)?,
      value: arg.get().as_bytes(),
      options: set_options(options)?,
    },
    "del" => Op::Del {
      key: key_bytes(key)?,
    },
    "has" => Op::Has {
      key: key_bytes(key)?,
    },
    "incr" => Op::Incr {
      key: key_bytes(key)?,
      by: arg_as(arg, "incr takes a number")?,
      ttl: ttl(options)?,
    },
    "getset" => Op::GetSet {
      key: key_bytes(key)?,
      value: arg.get().as_bytes(),
    },
    "cas" => {
      let key = key_bytes(key)?;
      let values = serde_json::from_str::<Vec<&RawValue>>(arg.get())
        .ok()
        .filter(|values| matches!(values.len(), 1 | 2))
        .ok_or_else(|| StoreError::Protocol("cas takes [next] or [next, expected]".into()))?;
      let expected = values.get(1).map(|value| value.get().as_bytes());
      Op::Cas {
        key,
        expected,
        next: values[0].get().as_bytes(),
      }
    }
    "expire" => {
      let key = key_bytes(key)?;
      let ms = millis(serde_json::from_str::<f64>(arg.get()).ok())?
        .ok_or_else(|| StoreError::Protocol("expire takes a number of milliseconds".into()))?;
      Op::Expire { key, ms }
    }
    "ttl" => Op::Ttl {
      key: key_bytes(key)?,
    },
    "persist" => Op::Persist {
      key: key_bytes(key)?,
    },
    "lock" | "unlock" | "extend" => read_lock_op(op, key_bytes(key)?, arg)?,
    _ => read_namespace_op(op, key, arg, options)?,
  })
}

/// Reads an operation on a whole namespace (or on a subscription).
fn read_namespace_op<'a>(
  op: &str,
  key: &'a RawValue,
  arg: &'a RawValue,
  options: &Options<'_>,
) -> Result<Op<'a>, StoreError> {
  Ok(match op {
    "mset" => {
      let pairs = serde_json::from_str::<Vec<(&RawValue, &RawValue)>>(arg.get())
        .map_err(|_| StoreError::Protocol("mset takes [[key, value], ...]".into()))?;
      let pairs = pairs
        .into_iter()
        .map(|(key, value)| Ok((key_bytes(key)?, value.get().as_bytes())))
        .collect::<Result<_, StoreError>>()?;
      Op::MSet {
        pairs,
        ttl: ttl(options)?,
      }
    }
    "mget" => {
      let keys = serde_json::from_str::<Vec<&RawValue>>(arg.get())
        .map_err(|_| StoreError::Protocol("mget takes [key, ...]".into()))?;
      Op::MGet {
        keys: keys.into_iter().map(key_bytes).collect::<Result<_, _>>()?,
      }
    }
    "keys" => Op::Keys {
      pattern: arg_as(arg, "keys takes a pattern string or null")?,
    },
    "size" => Op::Size,
    "clear" => Op::Clear,
    "stats" => Op::Stats,
    "bound" => {
      let args: BoundArgs = arg_as(
        arg,
        "bound takes {max, maxBytes}, each a positive integer or null",
      )?;
      let count = |n: Option<f64>| match n {
        None => Ok(None),
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n.is_finite() => {
          Ok(Some(n.min(usize::MAX as f64) as usize))
        }
        Some(n) => Err(StoreError::Protocol(format!(
          "a namespace bound is a positive integer, got {n}"
        ))),
      };
      Op::Bound {
        bounds: Bounds {
          max_entries: count(args.max)?,
          max_bytes: count(args.max_bytes)?,
        },
      }
    }
    "watch" => Op::Watch {
      pattern: serde_json::from_str(key.get())
        .map_err(|_| StoreError::Protocol("watch takes a pattern string".into()))?,
      subscription: arg_as(arg, "watch takes a subscription id")?,
    },
    "used" => {
      let used: UsedArgs = arg_as(
        arg,
        "used takes {slots: [[slot, hash], ...], counts: [[ns, hits, misses], ...]}",
      )?;
      let counts = used
        .counts
        .into_iter()
        .map(|(ns, hits, misses)| match ns {
          None => Ok((&b""[..], hits, misses)),
          Some(ns) if ns.get().starts_with('"') => Ok((ns.get().as_bytes(), hits, misses)),
          Some(_) => Err(StoreError::Protocol(
            "a namespace name must be a string".into(),
          )),
        })
        .collect::<Result<_, _>>()?;
      Op::Used {
        slots: used.slots,
        counts,
      }
    }
    "unwatch" => Op::Unwatch {
      subscription: arg_as(arg, "unwatch takes a subscription id")?,
    },
    other => return Err(StoreError::Protocol(format!("unknown operation {other:?}"))),
  })
}

fn read_lock_op<'a>(op: &str, key: &'a [u8], arg: &RawValue) -> Result<Op<'a>, StoreError> {
  Ok(match op {
    "lock" => {
      let args: LockArgs = arg_as(arg, "lock takes {lease, wait}")?;
      let wait = match args.wait {
        Some(0.0) => Some(Duration::ZERO),
        Some(wait) => Some(duration(wait)?),
        None => None,
      };
      Op::Lock {
        key,
        lease: duration(args.lease)?,
        wait,
      }
    }
    "unlock" => Op::Unlock {
      key,
      token: arg_as(arg, "unlock takes a fencing token")?,
    },
    _ => {
      let (token, lease): (u64, f64) = arg_as(arg, "extend takes [token, lease]")?;
      Op::Extend {
        key,
        token,
        lease: duration(lease)?,
      }
    }
  })
}

/// An argument read as `T`, or a protocol error saying what was expected.
fn arg_as<'a, T: Deserialize<'a>>(arg: &'a RawValue, expected: &str) -> Result<T, StoreError> {
  serde_json::from_str(arg.get()).map_err(|_| StoreError::Protocol(expected.into()))
}

fn set_options(options: &Options<'_>) -> Result<SetOptions, StoreError> {
  let condition = match (options.nx, options.xx) {
    (true, true) => return Err(StoreError::Protocol("set takes nx or xx, not both".into())),
    (true, false) => Condition::IfAbsent,
    (false, true) => Condition::IfPresent,
    (false, false) => Condition::Always,
  };
  Ok(SetOptions {
    ttl: ttl(options)?,
    condition,
    keep_ttl: options.keep_ttl,
  })
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

/// The id of a request that could not be read, if it has one. Read as raw
/// JSON, which (unlike a `serde_json::Value`) takes lone surrogates, so a
/// request holding one keeps its id.
fn request_id(item: &RawValue) -> Option<u64> {
  let fields = serde_json::from_str::<Vec<&RawValue>>(item.get()).ok()?;
  serde_json::from_str(fields.first()?.get()).ok()
}

// Writing.

/// A reply batch being written, one reply per request in order. A request
/// answered later ([`Reply::Later`]) takes no place in it.
pub struct Replies {
  out: String,
}

impl Replies {
  pub fn with_capacity(requests: usize) -> Self {
    let mut out = String::with_capacity(16 * requests + 2);
    out.push('[');
    Replies { out }
  }

  pub fn push(&mut self, id: u64, reply: &Reply<'_>) {
    if matches!(reply, Reply::Later) {
      return;
    }
    self.comma();
    write_reply(&mut self.out, id, reply);
  }

  /// The reply to a request that could not be read: addressed to its id, if it has one.
  pub fn unreadable(&mut self, failed: &Unreadable) {
    self.comma();
    write_failure(
      &mut self.out,
      failed.id,
      failed.error.code(),
      &failed.error.to_string(),
    );
  }

  pub fn finish(mut self) -> String {
    self.out.push(']');
    self.out
  }

  fn comma(&mut self) {
    if self.out.len() > 1 {
      self.out.push(',');
    }
  }
}

/// The reply batch to a batch that could not be read at all.
pub fn batch_error(err: &StoreError) -> String {
  let mut replies = Replies::with_capacity(1);
  replies.unreadable(&Unreadable {
    id: None,
    error: err.clone(),
  });
  replies.finish()
}

/// Answers every request of `batch` with the same error, without touching
/// any store (used when there is no store to send the batch to).
pub fn fail_batch(batch: &str, code: &str, message: &str) -> String {
  let items = serde_json::from_str::<Vec<&RawValue>>(batch).unwrap_or_default();
  let mut replies = Replies::with_capacity(items.len());
  for item in &items {
    replies.comma();
    write_failure(&mut replies.out, request_id(item), code, message);
  }
  replies.finish()
}

/// The push of one reply that comes later (see [`Reply::Later`]).
pub fn later_push(id: u64, reply: &Reply<'_>) -> String {
  let mut push = String::from("![");
  write_reply(&mut push, id, reply);
  push.push(']');
  push
}

/// The push that tells a subscriber `lost` pushes of its events were dropped.
pub fn lost_push(lost: u64) -> String {
  format!("~{{\"lost\":{lost}}}")
}

/// The push that tells each of `subscriptions` that events may have been
/// missed (a Redis subscriber that reconnected): `[[id, "reset", null], ...]`.
pub fn reset_push(subscriptions: &[u64]) -> String {
  let mut push = String::from("~[");
  for (i, id) in subscriptions.iter().enumerate() {
    if i > 0 {
      push.push(',');
    }
    let _ = write!(push, "[{id},\"reset\",null]");
  }
  push.push(']');
  push
}

/// A push of watch events for one subscriber, in the order they happened.
pub struct Events(String);

impl Default for Events {
  fn default() -> Self {
    Events(String::from("~["))
  }
}

impl Events {
  /// Adds one event of `subscription`: `key` is its key text; `value` the new value of a `set`.
  pub fn add(&mut self, subscription: u64, kind: ChangeKind, key: &[u8], value: Option<&[u8]>) {
    if self.0.len() > 2 {
      self.0.push(',');
    }
    let _ = write!(self.0, "[{subscription},\"{}\",", kind.name());
    push_json(&mut self.0, key);
    if let (ChangeKind::Set, Some(value)) = (kind, value) {
      self.0.push(',');
      push_json(&mut self.0, value);
    }
    self.0.push(']');
  }

  pub fn finish(mut self) -> String {
    self.0.push(']');
    self.0
  }
}

fn write_reply(out: &mut String, id: u64, reply: &Reply<'_>) {
  match reply {
    Reply::Done | Reply::Later => {
      let _ = write!(out, "[{id},0]");
    }
    Reply::Bool(value) => {
      let _ = write!(out, "[{id},1,{value}]");
    }
    Reply::Int(n) => {
      let _ = write!(out, "[{id},1,{n}]");
    }
    // Rust prints the shortest text that round-trips, whole numbers without a fraction: JSON.
    Reply::Number(n) => {
      let _ = write!(out, "[{id},1,{n}]");
    }
    Reply::Value(value) => write_value(out, id, value),
    Reply::Taken(value) => write_value(out, id, value),
    Reply::Values(values) => {
      let _ = write!(out, "[{id},1,[");
      for (i, value) in values.iter().enumerate() {
        out.push_str(if i > 0 { ",[" } else { "[" });
        match value {
          Some(value) => {
            out.push_str("1,");
            push_json(out, value);
          }
          None => out.push('0'),
        }
        out.push(']');
      }
      out.push_str("]]");
    }
    Reply::Keys(keys) => {
      let _ = write!(out, "[{id},1,[");
      for (i, key) in keys.iter().enumerate() {
        if i > 0 {
          out.push(',');
        }
        push_json(out, key);
      }
      out.push_str("]]");
    }
    Reply::Stats(total, namespaces, segment) => {
      write_all_stats(out, id, total, namespaces, *segment)
    }
    Reply::Failed(err) => write_failure(out, Some(id), err.code(), &err.to_string()),
  }
}

fn write_value(out: &mut String, id: u64, value: &[u8]) {
  let _ = write!(out, "[{id},1,");
  push_json(out, value);
  out.push(']');
}

/// Appends stored JSON text: values and keys arrived in a JSON batch, or the store wrote them.
fn push_json(out: &mut String, json: &[u8]) {
  out.push_str(std::str::from_utf8(json).unwrap_or("null"));
}

fn write_all_stats(
  out: &mut String,
  id: u64,
  total: &Stats,
  namespaces: &[(Box<[u8]>, Stats)],
  segment_bytes: u64,
) {
  let _ = write!(out, "[{id},1,{{\"total\":");
  write_stats(out, total);
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
  let _ = write!(out, "}},\"segmentBytes\":{segment_bytes}}}]");
}

fn write_stats(out: &mut String, s: &Stats) {
  let _ = write!(
    out,
    "{{\"entries\":{},\"bytes\":{},\"hits\":{},\"misses\":{},\"sets\":{},\"deletes\":{},\"expirations\":{},\"evictions\":{}}}",
    s.entries, s.bytes, s.hits, s.misses, s.sets, s.deletes, s.expirations, s.evictions
  );
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

  fn one(request: &str) -> Parsed<'_> {
    parse_batch(request).unwrap().pop().unwrap()
  }

  #[test]
  fn requests_become_typed_operations() {
    let request = one(r#"[[4,"set","k",{"a":1},{"ns":"n","ttl":1.5,"nx":true}]]"#).unwrap();
    assert_eq!((request.id, request.ns), (4, &b"\"n\""[..]));
    match request.op {
      Op::Set {
        key,
        value,
        options,
      } => {
        assert_eq!((key, value), (&b"\"k\""[..], &br#"{"a":1}"#[..]));
        assert_eq!(
          (options.ttl, options.condition),
          (Some(2), Condition::IfAbsent)
        );
      }
      other => panic!("{other:?}"),
    }
    assert!(matches!(
      one(r#"[[1,"get","k",0]]"#).unwrap().op,
      Op::Get { .. }
    ));
    assert!(one(r#"[[1,"mget",null,["a","b"]]]"#)
      .unwrap()
      .op
      .read_only());
    assert!(!one(r#"[[1,"incr","a",1]]"#).unwrap().op.read_only());
  }

  #[test]
  fn bound_takes_positive_integers_or_null() {
    match one(r#"[[1,"bound",null,{"max":100,"maxBytes":null},{"ns":"cache"}]]"#)
      .unwrap()
      .op
    {
      Op::Bound { bounds } => assert_eq!(
        bounds,
        Bounds {
          max_entries: Some(100),
          max_bytes: None
        }
      ),
      other => panic!("{other:?}"),
    }
    for bad in [
      r#"{"max":0}"#,
      r#"{"max":1.5}"#,
      r#"{"maxBytes":-3}"#,
      r#""x""#,
    ] {
      let failed = one(&format!(r#"[[2,"bound",null,{bad},{{"ns":"c"}}]]"#)).unwrap_err();
      assert_eq!(failed.error.code(), "ERR_PROTOCOL", "{bad}");
    }
  }

  #[test]
  fn a_request_that_cannot_be_read_keeps_its_id() {
    let failed = one(r#"[[9,"lock","k",{"lease":-1}]]"#).unwrap_err();
    assert_eq!((failed.id, failed.error.code()), (Some(9), "ERR_PROTOCOL"));
    let failed = one(r#"[[4,"clear",null,0,{"ns":null}]]"#).unwrap_err();
    assert_eq!(
      (failed.id, failed.error.code()),
      (Some(4), "ERR_PROTOCOL"),
      "ns null is not the default namespace"
    );
    assert!(matches!(
      one(r#"[[5,"clear",null,0,{}]]"#).unwrap().op,
      Op::Clear
    ));
    let failed = one(r#"[[3,"get",7,0]]"#).unwrap_err();
    assert_eq!(
      (failed.id, failed.error.code()),
      (Some(3), "ERR_INVALID_KEY")
    );
    assert!(parse_batch("{").is_err());
    // Found by fuzzing (fuzz/corpus/parse_batch/unreadable_lone_surrogate.json).
    let failed = one(r#"[[5,"get","\ud800",0,{"nx":1}]]"#).unwrap_err();
    assert_eq!(failed.id, Some(5), "a lone surrogate keeps the id");
  }

  #[test]
  fn replies_and_pushes() {
    let mut replies = Replies::with_capacity(3);
    replies.push(1, &Reply::Done);
    replies.push(2, &Reply::Later);
    replies.push(3, &Reply::Values(vec![Some(b"1"), None]));
    replies.push(4, &Reply::Number(2.5));
    assert_eq!(replies.finish(), "[[1,0],[3,1,[[1,1],[0]]],[4,1,2.5]]");
    assert_eq!(later_push(7, &Reply::Int(3)), "![[7,1,3]]");
    assert_eq!(lost_push(2), r#"~{"lost":2}"#);
    let mut events = Events::default();
    events.add(1, ChangeKind::Set, b"\"k\"", Some(b"[1]"));
    events.add(1, ChangeKind::Expire, b"\"j\"", None);
    assert_eq!(events.finish(), r#"~[[1,"set","k",[1]],[1,"expire","j"]]"#);
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
}
