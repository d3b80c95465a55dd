//! Each [`Op`] as Redis commands, and the Redis answers back as a [`Reply`].
//!
//! An operation on one key (or a fixed set of keys) becomes a [`Pipe`]: a
//! few commands whose answers [`read`] turns into its reply, so a batch of
//! them travels as one pipeline. Operations that scan a namespace, wait,
//! or talk to the subscriber (keys, size, clear, stats, locks, watches)
//! are [`Step::Alone`]: the client runs them itself ([`super::client`]).
//!
//! | op | Redis |
//! |----|-------|
//! | get | `GET K` (`GETEX K PX <expire>` with the sliding expiry) |
//! | set | `SET K v [NX\|XX] [PX ttl]` (a set without ttl drops the TTL, as locally) |
//! | del / has | `UNLINK K` / `EXISTS K` |
//! | incr, cas | the Lua scripts of [`super::script`] (`EVAL`) |
//! | getset | `SET K v GET` |
//! | expire / ttl / persist | `PEXPIRE` / `PTTL` / `PERSIST` |
//! | mset | `MSET`, or `MULTI` + `SET … PX` + `EXEC` with a ttl |
//! | mget | `MGET` (in Redis Cluster, or with the sliding expiry, one `GET`/`GETEX` per key) |

use redis::{Cmd, Value};

use super::layout::Layout;
use super::script;
use crate::error::StoreError;
use crate::op::{Op, Reply};
use crate::store::Condition;

/// How a store's operations map: its layout, and what its options change.
#[derive(Debug, Clone)]
pub struct Mapping {
  pub layout: Layout,
  /// The sliding expiry (the `cache: {type: 'expire'}` option), in ms.
  pub sliding: Option<u64>,
  /// Keys of one request may lie in several hash slots (Redis Cluster):
  /// multi-key commands are sent one key at a time.
  pub cluster: bool,
}

/// What an operation becomes.
pub enum Step<'a> {
  Pipe(Pipe),
  Alone(Op<'a>),
}

/// Commands whose answers make one reply.
pub struct Pipe {
  pub cmds: Vec<Cmd>,
  pub read: Read,
  pub count: Count,
}

/// How the answers of a [`Pipe`] become its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
  /// Done, once no answer is an error.
  Done,
  /// `OK` → true, nil → false (SET NX/XX).
  Stored,
  /// An integer: non-zero → true.
  Flag,
  /// An integer as it is (PTTL).
  Int,
  /// A number's text (the incr script).
  Number,
  /// A stored value or nil.
  Value,
  /// The values of an array answer (MGET).
  Array,
  /// One value per command (GET/GETEX per key).
  Each,
  /// The answer of the `EXEC` that closes a transaction (the last one).
  Exec,
}

/// What a reply adds to this process's counters (stats()).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
  Nothing,
  /// Each value answered is a hit, each nil a miss.
  Reads,
  /// A write of `n` keys, when it stored.
  Sets(u64),
  /// A removal, when the key existed.
  Delete,
}

impl Mapping {
  fn key(&self, ns: &[u8], key: &[u8]) -> Result<String, StoreError> {
    self.layout.key(ns, key)
  }

  /// The keys of one request may lie in several slots: a Redis Cluster
  /// without the namespace hash tag.
  fn split_slots(&self) -> bool {
    self.cluster && !self.layout.tags_namespace()
  }

  /// `PX` for a write: its ttl, bounded by the sliding expiry.
  fn px(&self, ttl: Option<u64>) -> Option<u64> {
    match (ttl, self.sliding) {
      (Some(t), Some(s)) => Some(t.min(s)),
      (t, s) => t.or(s),
    }
  }

  /// Redis command `name` with the Redis key of `key` as its one argument.
  fn on_key(&self, name: &str, ns: &[u8], key: &[u8]) -> Result<Cmd, StoreError> {
    let mut cmd = redis::cmd(name);
    cmd.arg(self.key(ns, key)?);
    Ok(cmd)
  }

  fn sliding_arg(&self) -> String {
    self.sliding.map(|ms| ms.to_string()).unwrap_or_default()
  }

  fn read_one(&self, key: String) -> Cmd {
    match self.sliding {
      Some(ms) => {
        let mut cmd = redis::cmd("GETEX");
        cmd.arg(key).arg("PX").arg(ms);
        cmd
      }
      None => {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        cmd
      }
    }
  }

  /// Maps `op` on namespace `ns` (its JSON text; empty: the default one).
  pub fn plan<'a>(&self, ns: &[u8], op: Op<'a>) -> Result<Step<'a>, StoreError> {
    let one = |cmd: Cmd, read: Read, count: Count| {
      Ok(Step::Pipe(Pipe {
        cmds: vec![cmd],
        read,
        count,
      }))
    };
    match op {
      Op::Get { key } => one(self.read_one(self.key(ns, key)?), Read::Value, Count::Reads),
      Op::Set {
        key,
        value,
        options,
      } => {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(ns, key)?).arg(value);
        match options.condition {
          Condition::IfAbsent => {
            cmd.arg("NX");
          }
          Condition::IfPresent => {
            cmd.arg("XX");
          }
          Condition::Always => {}
        }
        if let Some(ms) = self.px(options.ttl) {
          cmd.arg("PX").arg(ms);
        } else if options.keep_ttl {
          cmd.arg("KEEPTTL");
        }
        let read = if options.condition.is_conditional() {
          Read::Stored
        } else {
          Read::Done
        };
        one(cmd, read, Count::Sets(1))
      }
      Op::Del { key } => one(self.on_key("UNLINK", ns, key)?, Read::Flag, Count::Delete),
      Op::Has { key } => one(self.on_key("EXISTS", ns, key)?, Read::Flag, Count::Nothing),
      Op::Incr { key, by, ttl } => {
        let mut cmd = redis::cmd("EVAL");
        cmd
          .arg(script::INCR)
          .arg(1)
          .arg(self.key(ns, key)?)
          .arg(number_text(by))
          .arg(ttl.map(|t| t.to_string()).unwrap_or_default())
          .arg(self.sliding_arg());
        one(cmd, Read::Number, Count::Sets(1))
      }
      Op::GetSet { key, value } => {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(ns, key)?).arg(value);
        if let Some(ms) = self.sliding {
          cmd.arg("PX").arg(ms);
        }
        cmd.arg("GET");
        one(cmd, Read::Value, Count::Sets(1))
      }
      Op::Cas {
        key,
        expected,
        next,
      } => {
        let mut cmd = redis::cmd("EVAL");
        cmd
          .arg(script::CAS)
          .arg(1)
          .arg(self.key(ns, key)?)
          .arg(if expected.is_some() { "1" } else { "0" })
          .arg(next)
          .arg(expected.unwrap_or_default())
          .arg(self.sliding_arg());
        one(cmd, Read::Flag, Count::Sets(1))
      }
      Op::Expire { key, ms } => {
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(self.key(ns, key)?).arg(ms);
        one(cmd, Read::Flag, Count::Nothing)
      }
      Op::Ttl { key } => one(self.on_key("PTTL", ns, key)?, Read::Int, Count::Nothing),
      Op::Persist { key } => one(self.on_key("PERSIST", ns, key)?, Read::Flag, Count::Nothing),
      Op::MGet { keys } => {
        let physical = keys
          .iter()
          .map(|key| self.key(ns, key))
          .collect::<Result<Vec<_>, _>>()?;
        if physical.is_empty() {
          return Ok(Step::Pipe(Pipe {
            cmds: Vec::new(),
            read: Read::Each,
            count: Count::Reads,
          }));
        }
        if self.split_slots() || self.sliding.is_some() {
          let cmds = physical.into_iter().map(|key| self.read_one(key)).collect();
          return Ok(Step::Pipe(Pipe {
            cmds,
            read: Read::Each,
            count: Count::Reads,
          }));
        }
        let mut cmd = redis::cmd("MGET");
        for key in physical {
          cmd.arg(key);
        }
        one(cmd, Read::Array, Count::Reads)
      }
      Op::MSet { pairs, ttl } => self.mset(ns, &pairs, ttl),
      other => Ok(Step::Alone(other)),
    }
  }

  fn mset(
    &self,
    ns: &[u8],
    pairs: &[(&[u8], &[u8])],
    ttl: Option<u64>,
  ) -> Result<Step<'static>, StoreError> {
    let count = Count::Sets(pairs.len() as u64);
    let px = self.px(ttl);
    if pairs.is_empty() {
      return Ok(Step::Pipe(Pipe {
        cmds: Vec::new(),
        read: Read::Done,
        count: Count::Nothing,
      }));
    }
    if px.is_none() && !self.split_slots() {
      let mut cmd = redis::cmd("MSET");
      for (key, value) in pairs {
        cmd.arg(self.key(ns, key)?).arg(*value);
      }
      return Ok(Step::Pipe(Pipe {
        cmds: vec![cmd],
        read: Read::Done,
        count,
      }));
    }
    let mut cmds = Vec::with_capacity(pairs.len() + 2);
    for (key, value) in pairs {
      let mut cmd = redis::cmd("SET");
      cmd.arg(self.key(ns, key)?).arg(*value);
      if let Some(ms) = px {
        cmd.arg("PX").arg(ms);
      }
      cmds.push(cmd);
    }
    if self.cluster {
      // Keys of several slots cannot share a transaction: each SET on its own.
      return Ok(Step::Pipe(Pipe {
        cmds,
        read: Read::Done,
        count,
      }));
    }
    cmds.insert(0, redis::cmd("MULTI"));
    cmds.push(redis::cmd("EXEC"));
    Ok(Step::Pipe(Pipe {
      cmds,
      read: Read::Exec,
      count,
    }))
  }
}

/// A number as Lua's `tonumber` reads it back exactly.
fn number_text(n: f64) -> String {
  format!("{n:?}")
}

/// The answers of a [`Pipe`] (as many as its commands) as its reply.
pub fn read(read: Read, answers: &[Value]) -> Reply<'_> {
  match read_answers(read, answers) {
    Ok(reply) => reply,
    Err(err) => Reply::Failed(err),
  }
}

fn read_answers(read: Read, answers: &[Value]) -> Result<Reply<'_>, StoreError> {
  if let Some(err) = answers.iter().find_map(server_error) {
    return Err(err);
  }
  let last = answers.last();
  Ok(match read {
    Read::Done => Reply::Done,
    Read::Exec => match last {
      Some(Value::Array(results)) => {
        if let Some(err) = results.iter().find_map(server_error) {
          return Err(err);
        }
        Reply::Done
      }
      _ => return Err(StoreError::Redis("the transaction was not applied".into())),
    },
    Read::Stored => Reply::Bool(matches!(last, Some(Value::Okay | Value::SimpleString(_)))),
    Read::Flag => Reply::Bool(integer(last)? != 0),
    Read::Int => Reply::Int(integer(last)?),
    Read::Number => {
      let text = bytes(last).ok_or_else(|| unexpected(last))?;
      let n = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| unexpected(last))?;
      Reply::Number(n)
    }
    Read::Value => match last {
      None | Some(Value::Nil) => Reply::Done,
      Some(value) => Reply::Value(stored(value)?),
    },
    Read::Array => match last {
      Some(Value::Array(values)) => {
        Reply::Values(values.iter().map(maybe_stored).collect::<Result<_, _>>()?)
      }
      other => return Err(unexpected(other)),
    },
    Read::Each => Reply::Values(answers.iter().map(maybe_stored).collect::<Result<_, _>>()?),
  })
}

fn maybe_stored(value: &Value) -> Result<Option<&[u8]>, StoreError> {
  match value {
    Value::Nil => Ok(None),
    value => stored(value).map(Some),
  }
}

/// A stored value: JSON text, as only this package writes under its prefix.
/// Anything else (written by another client) is refused rather than passed
/// on, since it would break the reply batch it travels in.
fn stored(value: &Value) -> Result<&[u8], StoreError> {
  let text = bytes(Some(value)).ok_or_else(|| unexpected(Some(value)))?;
  if serde_json::from_slice::<serde::de::IgnoredAny>(text).is_err() {
    return Err(StoreError::Redis(
      "the value under this key is not JSON text written by sharedmemory".into(),
    ));
  }
  Ok(text)
}

fn bytes(value: Option<&Value>) -> Option<&[u8]> {
  match value? {
    Value::BulkString(bytes) => Some(bytes),
    Value::SimpleString(text) => Some(text.as_bytes()),
    _ => None,
  }
}

fn integer(value: Option<&Value>) -> Result<i64, StoreError> {
  match value {
    Some(Value::Int(n)) => Ok(*n),
    other => Err(unexpected(other)),
  }
}

fn unexpected(value: Option<&Value>) -> StoreError {
  StoreError::Redis(format!("an unexpected answer: {value:?}"))
}

/// A Redis error answer as our error: the scripts' own words, or ERR_REDIS.
pub fn server_error(value: &Value) -> Option<StoreError> {
  let Value::ServerError(err) = value else {
    return None;
  };
  Some(match err.code() {
    "NOTNUM" => StoreError::NotANumber,
    "UNSAFE" => StoreError::UnsafeInteger,
    code => StoreError::Redis(format!("{code} {}", err.details().unwrap_or_default())),
  })
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::store::SetOptions;

  fn mapping(sliding: Option<u64>, cluster: bool) -> Mapping {
    Mapping {
      layout: Layout::new("t:", false).unwrap(),
      sliding,
      cluster,
    }
  }

  /// A step's commands, each as its words.
  fn words(step: &Step<'_>) -> Vec<Vec<String>> {
    let Step::Pipe(pipe) = step else {
      panic!("not a pipe")
    };
    pipe
      .cmds
      .iter()
      .map(|cmd| {
        cmd
          .args_iter()
          .map(|arg| match arg {
            redis::Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => "<cursor>".into(),
          })
          .collect()
      })
      .collect()
  }

  fn set(condition: Condition, ttl: Option<u64>) -> Op<'static> {
    Op::Set {
      key: br#""k""#,
      value: b"[1]",
      options: SetOptions {
        ttl,
        condition,
        keep_ttl: false,
      },
    }
  }

  #[test]
  fn writes_map_to_set_with_its_options() {
    let m = mapping(None, false);
    assert_eq!(
      words(&m.plan(b"", set(Condition::Always, None)).unwrap()),
      [["SET", "t:d:k", "[1]"]]
    );
    assert_eq!(
      words(
        &m.plan(br#""ns""#, set(Condition::IfAbsent, Some(50)))
          .unwrap()
      ),
      [["SET", "t:n2:ns:k", "[1]", "NX", "PX", "50"]]
    );
    // The sliding expiry bounds every write, and a shorter ttl wins.
    let s = mapping(Some(1000), false);
    assert_eq!(
      words(&s.plan(b"", set(Condition::IfPresent, None)).unwrap()),
      [["SET", "t:d:k", "[1]", "XX", "PX", "1000"]]
    );
    assert_eq!(
      words(&s.plan(b"", set(Condition::Always, Some(10))).unwrap()),
      [["SET", "t:d:k", "[1]", "PX", "10"]]
    );
    assert_eq!(
      words(&s.plan(b"", Op::Get { key: br#""k""# }).unwrap()),
      [["GETEX", "t:d:k", "PX", "1000"]]
    );
    assert_eq!(
      words(
        &m.plan(
          b"",
          Op::GetSet {
            key: br#""k""#,
            value: b"2"
          }
        )
        .unwrap()
      ),
      [["SET", "t:d:k", "2", "GET"]]
    );
  }

  #[test]
  fn many_keys_map_to_one_command_or_one_per_slot() {
    let keys = || Op::MGet {
      keys: vec![br#""a""#, br#""b""#],
    };
    assert_eq!(
      words(&mapping(None, false).plan(b"", keys()).unwrap()),
      [["MGET", "t:d:a", "t:d:b"]]
    );
    assert_eq!(
      words(&mapping(None, true).plan(b"", keys()).unwrap()),
      [["GET", "t:d:a"], ["GET", "t:d:b"]]
    );
    let pairs = |ttl| Op::MSet {
      pairs: vec![(br#""a""#, b"1"), (br#""b""#, b"2")],
      ttl,
    };
    assert_eq!(
      words(&mapping(None, false).plan(b"", pairs(None)).unwrap()),
      [["MSET", "t:d:a", "1", "t:d:b", "2"]]
    );
    assert_eq!(
      words(&mapping(None, false).plan(b"", pairs(Some(5))).unwrap()),
      vec![
        vec!["MULTI"],
        vec!["SET", "t:d:a", "1", "PX", "5"],
        vec!["SET", "t:d:b", "2", "PX", "5"],
        vec!["EXEC"]
      ]
    );
    assert_eq!(
      words(&mapping(None, true).plan(b"", pairs(None)).unwrap()),
      [["SET", "t:d:a", "1"], ["SET", "t:d:b", "2"]]
    );
    // With the namespace hash tag, a namespace's keys share a slot: one command again.
    let tagged = Mapping {
      layout: Layout::new("t:", true).unwrap(),
      sliding: None,
      cluster: true,
    };
    assert_eq!(
      words(&tagged.plan(b"", keys()).unwrap()),
      [["MGET", "t:{d}:a", "t:{d}:b"]]
    );
  }

  #[test]
  fn answers_become_replies() {
    let ok = [Value::Okay];
    assert!(matches!(read(Read::Stored, &ok), Reply::Bool(true)));
    assert!(matches!(
      read(Read::Stored, &[Value::Nil]),
      Reply::Bool(false)
    ));
    assert!(matches!(
      read(Read::Flag, &[Value::Int(0)]),
      Reply::Bool(false)
    ));
    assert!(matches!(read(Read::Int, &[Value::Int(-2)]), Reply::Int(-2)));
    let n = [Value::BulkString(b"2.5".to_vec())];
    assert!(matches!(read(Read::Number, &n), Reply::Number(x) if x == 2.5));
    let v = [Value::BulkString(br#"{"a":1}"#.to_vec())];
    assert!(matches!(read(Read::Value, &v), Reply::Value(b) if b == br#"{"a":1}"#));
    assert!(matches!(read(Read::Value, &[Value::Nil]), Reply::Done));
    // What another client wrote under our prefix is not passed on as JSON.
    let foreign = [Value::BulkString(b"not json".to_vec())];
    assert!(matches!(
      read(Read::Value, &foreign),
      Reply::Failed(StoreError::Redis(_))
    ));
    let each = [Value::Nil, Value::BulkString(b"1".to_vec())];
    assert!(matches!(read(Read::Each, &each), Reply::Values(v) if v == [None, Some(&b"1"[..])]));
  }
}
