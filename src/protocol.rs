//! The batch format that every transport carries, and how a batch is
//! applied to a store.
//!
//! A **request batch** is a JSON array of requests, each `[id, op, key, arg]`:
//!
//! | op       | key                          | arg                              | reply            |
//! |----------|------------------------------|----------------------------------|------------------|
//! | `"get"`  | the key                      | `0` (unused)                     | value or nothing |
//! | `"set"`  | the key                      | the value                        | nothing          |
//! | `"del"`  | the key                      | `0` (unused)                     | `true`/`false`   |
//! | `"incr"` | the key                      | the amount (a number)            | the new number   |
//! | `"mset"` | `null`                       | `[[key, value], ...]`            | nothing          |
//!
//! `id` is any non-negative integer the client picks to match replies. A key
//! is a JSON string, exactly as `JSON.stringify(key)` writes it: the store
//! keeps that text as the key's identity, so every JavaScript string
//! (lone surrogates included) is a key and nothing is decoded. A value is
//! any JSON text and is stored as it came, never rebuilt.
//!
//! A **reply batch** is a JSON array with one reply per request, in order:
//! `[id, 0]` done with no value, `[id, 1, value]` done with a value,
//! `[id, 2, code, message]` failed (`code` as in [`StoreError::code`]).

use std::fmt::Write;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::StoreError;
use crate::store::{Store, Txn};

#[derive(Deserialize)]
struct Request<'a>(
  u64,
  &'a str,
  #[serde(borrow)] &'a RawValue,
  #[serde(borrow)] &'a RawValue,
);

/// Applies every request of `batch` to `store` under one lock and answers
/// the reply batch. Never fails: a request that cannot be understood gets
/// an `ERR_PROTOCOL` reply, and the others are still applied.
pub fn apply_batch(store: &Store, batch: &str) -> String {
  let items = match serde_json::from_str::<Vec<&RawValue>>(batch) {
    Ok(items) => items,
    Err(err) => {
      let mut out = String::from("[");
      write_error(&mut out, None, &StoreError::Protocol(format!("the batch is not a JSON array ({err})")));
      out.push(']');
      return out;
    }
  };
  let mut out = String::with_capacity(16 * items.len() + 2);
  out.push('[');
  let mut tx = store.begin();
  for (i, item) in items.iter().enumerate() {
    if i > 0 {
      out.push(',');
    }
    match serde_json::from_str::<Request>(item.get()) {
      Ok(request) => apply(&mut tx, &request, &mut out),
      Err(err) => write_error(
        &mut out,
        request_id(item),
        &StoreError::Protocol(format!("a request must be [id, op, key, arg] ({err})")),
      ),
    }
  }
  out.push(']');
  out
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

fn apply(tx: &mut Txn<'_>, Request(id, op, key, arg): &Request<'_>, out: &mut String) {
  let id = *id;
  let result = match *op {
    "mset" => mset(tx, arg).map(|()| write_done(out, id)),
    _ => match key_bytes(key) {
      Err(err) => Err(err),
      Ok(key) => match *op {
        "get" => {
          match tx.get(key) {
            Some(value) => write_value(out, id, value),
            None => write_done(out, id),
          }
          Ok(())
        }
        "set" => tx.set(key, arg.get().as_bytes()).map(|()| write_done(out, id)),
        "del" => {
          let existed = tx.remove(key);
          write_value(out, id, if existed { b"true" } else { b"false" });
          Ok(())
        }
        "incr" => match serde_json::from_str::<f64>(arg.get()) {
          Ok(by) => tx
            .incr(key, by)
            .map(|n| write_value(out, id, format!("{n}").as_bytes())),
          Err(_) => Err(StoreError::Protocol("incr takes a number".into())),
        },
        other => Err(StoreError::Protocol(format!("unknown operation {other:?}"))),
      },
    },
  };
  if let Err(err) = result {
    write_error(out, Some(id), &err);
  }
}

fn mset(tx: &mut Txn<'_>, pairs: &RawValue) -> Result<(), StoreError> {
  let pairs = serde_json::from_str::<Vec<(&RawValue, &RawValue)>>(pairs.get())
    .map_err(|_| StoreError::Protocol("mset takes [[key, value], ...]".into()))?;
  let pairs = pairs
    .iter()
    .map(|(key, value)| Ok((key_bytes(key)?, value.get().as_bytes())))
    .collect::<Result<Vec<_>, StoreError>>()?;
  tx.set_many(&pairs)
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

fn write_value(out: &mut String, id: u64, value: &[u8]) {
  let _ = write!(out, "[{id},1,");
  // Values are JSON text: they arrived in a JSON batch, or the store wrote them.
  out.push_str(std::str::from_utf8(value).unwrap_or("null"));
  out.push(']');
}

fn write_error(out: &mut String, id: Option<u64>, err: &StoreError) {
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

  fn store() -> Store {
    Store::new(StoreConfig::default())
  }

  #[test]
  fn applies_requests_in_order() {
    let s = store();
    let reply = apply_batch(
      &s,
      r#"[[1,"set","a",[0,1,2,3]],[2,"get","a",0],[3,"del","a",0],[4,"get","a",0],[5,"del","a",0]]"#,
    );
    assert_eq!(reply, r#"[[1,0],[2,1,[0,1,2,3]],[3,1,true],[4,0],[5,1,false]]"#);
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
    assert!(reply.starts_with(r#"[[1,1,1],[2,1,2],[3,0],[4,1,"two"],[5,2,"ERR_NOT_A_NUMBER","#), "{reply}");
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
    let reply = fail_batch(r#"[[7,"get","a",0],[8,"set","b",1]]"#, "ERR_NO_HOST", "gone");
    assert_eq!(
      reply,
      r#"[[7,2,"ERR_NO_HOST","gone"],[8,2,"ERR_NO_HOST","gone"]]"#
    );
    assert_eq!(fail_batch("garbage", "X", "y"), "[]");
  }
}
