//! What the fuzz targets check, as plain functions: `cargo fuzz` (nightly,
//! the `fuzz/` crate) drives them with generated inputs, and `cargo test`
//! replays the seed corpus (`fuzz/corpus/<target>/*`) through them on any
//! toolchain. Compiled only for tests and for fuzz builds (`--cfg fuzzing`).
//!
//! A check panics when what it observes is wrong; that is what the fuzzer
//! reports. Each looks only from outside: batches in, reply batches and
//! pushes out, and the store's public counters.
//!
//! - [`parse_batch`]: [`protocol::parse_batch`] reads any text without
//!   panicking, one result per request of an array, each keeping its id.
//! - [`host_apply`]: any text applied to a fresh [`Host`] answers a reply
//!   batch that is JSON, with exactly one reply per request in order (a
//!   lock request that has to wait may have none), every push is JSON, and
//!   the store answers a follow-up request.
//! - [`read_frame`]: the socket's frame reader (the handshake's too, with
//!   its small limit) over any bytes, arriving in pieces of any size: the
//!   frames a plain decoder finds, no frame over the limit, and a buffer
//!   never larger than what arrived allows.
//! - [`shm_reader`]: a reader of a shared segment of any number of slots
//!   whose slots and records are any bytes: every get answers (a value, a
//!   miss or an error) without panicking or hanging, and what it finds
//!   agrees with the segment's listing and with `ttl`.
//! - [`store_ops`]: a series of operations decoded from the input (see
//!   [`store_ops`] for the format) applied in batches to a [`Host`] with a
//!   bound decoded from the input; after each batch the counters agree with
//!   the table, the bounds hold, and per-request answers make sense.
//! - [`snapshot_parse`]: the snapshot reader over any bytes: no panic, no
//!   allocation beyond what the bytes justify; a file it accepts loads
//!   into a store and, written again, reads back the same entries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::host::{Host, BATCH_CHUNK};
use crate::peers::{Owner, Push, Sink};
use crate::protocol;
use crate::store::StoreConfig;
use crate::sweeper::Timed;

/// A target's check: panics when the input shows something wrong.
pub type Check = fn(&[u8]);

/// Every target, by name: its file `fuzz/fuzz_targets/<name>.rs`, its seed
/// corpus `fuzz/corpus/<name>/`, and the check both run.
pub const TARGETS: &[(&str, Check)] = &[
  ("parse_batch", parse_batch),
  ("host_apply", host_apply),
  ("store_ops", store_ops),
  ("read_frame", read_frame),
  ("shm_reader", shm_reader),
  ("snapshot_parse", snapshot_parse),
];

// Target: snapshot_parse.

/// [`crate::snapshot::format::parse`] on any bytes: no panic; what it
/// accepts loads into a fresh store, and that store's snapshot parses to
/// the same live entries (none expired at a far past time).
pub fn snapshot_parse(data: &[u8]) {
  use crate::snapshot::{capture, format, restore, Fill};
  let Ok(snapshot) = format::parse(data) else {
    return;
  };
  let store = crate::store::Store::new(StoreConfig::default());
  // At wall time 0 nothing has expired, so every entry is loaded.
  let done = restore(&mut store.begin(), &snapshot, 0, &Fill::All);
  assert_eq!(done.expired, 0);
  // One transaction, so one time: what is written is what is live then.
  let tx = store.begin();
  let again = capture(&tx, 0).to_bytes(snapshot.serialization);
  let reread = format::parse(&again).expect("a snapshot written by the store reads back");
  assert_eq!(
    reread.entries.len(),
    tx.live_entries().count(),
    "every live entry written, none made up"
  );
  for record in &reread.entries {
    let full = crate::store::qualify(record.ns, record.key);
    assert_eq!(tx.peek(&full), Some(record.value), "written as held");
  }
}

// Target: parse_batch.

/// [`protocol::parse_batch`] on any text: no panic; an array gives one
/// result per item, each with the item's id when it has one.
pub fn parse_batch(data: &[u8]) {
  let text = String::from_utf8_lossy(data);
  let Ok(parsed) = protocol::parse_batch(&text) else {
    assert!(
      serde_json::from_str::<Vec<&RawValue>>(&text).is_err(),
      "an array was refused as a batch"
    );
    return;
  };
  let items = serde_json::from_str::<Vec<&RawValue>>(&text).expect("a batch is an array");
  assert_eq!(parsed.len(), items.len(), "one result per request");
  for (item, result) in items.iter().zip(&parsed) {
    let id = match result {
      Ok(request) => Some(request.id),
      Err(unreadable) => unreadable.id,
    };
    assert_eq!(id, item_id(item), "the id of {}", item.get());
  }
}

// Target: host_apply.

/// Any text applied to a fresh [`Host`]: no panic, a JSON reply batch with
/// one reply per request (see [`check_replies`]), JSON pushes, and a store
/// that still answers.
pub fn host_apply(data: &[u8]) {
  let text = String::from_utf8_lossy(data);
  let host = Host::new(StoreConfig::default());
  let (owner, pushes) = connect(&host);
  let reply = host.apply(owner, &text);
  match serde_json::from_str::<Vec<&RawValue>>(&text) {
    Ok(items) => {
      let replies = replies(&reply);
      assert!(
        check_replies(&items, &replies),
        "not one reply per request, in order: {reply}"
      );
    }
    Err(_) => {
      let replies = replies(&reply);
      assert_eq!(replies.len(), 1, "one error for a batch that is no array");
      assert_eq!((replies[0].id, replies[0].kind), (None, 2), "{reply}");
    }
  }
  check_pushes(&pushes);
  let probe = r#"[[1,"set","\u0000probe",[7]],[2,"get","\u0000probe",0,{}]]"#;
  assert_eq!(
    host.apply(owner, probe),
    "[[1,0],[2,1,[7]]]",
    "after {text}"
  );
}

// Target: read_frame.

/// Input bytes handed out in pieces whose sizes cycle through `sizes`.
struct Pieces<'a> {
  data: &'a [u8],
  sizes: &'a [u8],
  next: usize,
}

impl std::io::Read for Pieces<'_> {
  fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
    let size = self
      .sizes
      .get(self.next % self.sizes.len().max(1))
      .map_or(7, |&n| usize::from(n) + 1);
    self.next += 1;
    let n = size.min(buf.len()).min(self.data.len());
    buf[..n].copy_from_slice(&self.data[..n]);
    self.data = &self.data[n..];
    Ok(n)
  }
}

/// [`crate::socket::frame::read_frame`] over any bytes: the first byte picks
/// the limit (the handshake's, or a batch's of 1 MiB), the next four the
/// sizes the bytes arrive in; the rest is the stream.
pub fn read_frame(data: &[u8]) {
  use crate::socket::frame::{read_frame, READ_STEP};
  use crate::socket::HANDSHAKE_MAX_BYTES;
  let Some((&pick, rest)) = data.split_first() else {
    return;
  };
  let limit = if pick % 2 == 0 {
    HANDSHAKE_MAX_BYTES
  } else {
    1 << 20
  };
  let (sizes, stream) = rest.split_at(rest.len().min(4));
  let mut input = Pieces {
    data: stream,
    sizes,
    next: 0,
  };
  let (mut buf, mut at) = (Vec::new(), 0usize);
  while let Ok(true) = read_frame(&mut input, &mut buf, limit) {
    // A plain decoder finds the same frame at the same place.
    let header: [u8; 4] = stream[at..at + 4].try_into().unwrap();
    let len = u32::from_le_bytes(header) as usize;
    assert!(
      len <= limit,
      "a frame of {len} bytes passed a limit of {limit}"
    );
    assert_eq!(buf, &stream[at + 4..at + 4 + len]);
    at += 4 + len;
    let received = stream.len() - input.data.len();
    assert!(
      buf.capacity() <= 2 * received + READ_STEP,
      "a buffer of {} bytes after {received} bytes arrived",
      buf.capacity()
    );
  }
  // However the stream ended (cleanly, cut short, over the limit).
  let received = stream.len() - input.data.len();
  assert!(
    buf.capacity() <= 2 * received + READ_STEP,
    "a buffer of {} bytes after {received} bytes",
    buf.capacity()
  );
}

// Target: shm_reader.

/// Arena words of the segments [`shm_reader`] reads.
const SHM_ARENA_WORDS: usize = 64;
/// The store milliseconds [`shm_reader`] reads at, picked by the input.
const SHM_NOW: [u64; 4] = [0, 1_000, 1 << 40, u64::MAX - 1];

/// A reader of a segment whose slot table and arena are the input's bytes
/// (behind a header a writer made, so the reader opens it): every answer
/// is a value, a miss or an error, none panics or hangs, and they agree.
///
/// Byte 0 picks the number of slots (`8 + b % 16`: odd ones too, so a
/// key's first slot is scaled to the table and probes wrap from the last
/// slot to the first); byte 1 whether records' deadlines are idle ones
/// (bit 0: `ttl` goes to the host) and the time read at (bits 1-2: one of
/// [`SHM_NOW`]). The rest, as little-endian words, replaces the slots
/// (each a state word `seq | deadline bit | tag` and an entry word
/// `record | key length | value length`; state words are made even, so
/// slots are read rather than waited on) and then the arena, over a
/// segment where a writer had set three keys. The reader is asked for
/// those, for a missing one, for the bytes after the header as a key,
/// and for every key [`Reader::for_each_key`] finds; for each: a value
/// `get` finds is one `for_each_key` lists under that key, and `ttl`
/// agrees with `get` (-2 for a miss, -1 or more for a hit).
pub fn shm_reader(data: &[u8]) {
  use crate::shm::layout::{HEADER_WORDS, SLOT_WORDS};
  use crate::shm::reader::Reader;
  use crate::shm::words::{zeroed, Region};
  use crate::shm::writer::{Identity, Shape, Writer};
  use crate::shm::ShmError;
  use std::sync::atomic::Ordering;
  let (pick, words_in) = match data {
    [slots, flags, rest @ ..] => ((*slots, *flags), rest),
    _ => ((data.first().copied().unwrap_or(0), 0), &[][..]),
  };
  let shape = Shape {
    capacity: 8 + usize::from(pick.0 % 16),
    arena_words: SHM_ARENA_WORDS,
  };
  let sliding = pick.1 & 1 == 1;
  let now = SHM_NOW[usize::from(pick.1 >> 1 & 3)];
  let region = Arc::new(zeroed(shape.words()));
  let mut writer = Writer::create(region.clone(), shape, Identity::default());
  writer.mark_sliding(sliding);
  for key in [&b"\"a\""[..], b"\"b\"", b"\"c\""] {
    writer.set(key, b"1", u64::MAX).unwrap();
  }
  let words = region.words();
  let slot_words = shape.capacity() * SLOT_WORDS;
  for (i, chunk) in words_in.chunks(8).enumerate() {
    let Some(word) = words.get(HEADER_WORDS + i) else {
      break;
    };
    let mut bytes = [0u8; 8];
    bytes[..chunk.len()].copy_from_slice(chunk);
    let mut value = u64::from_le_bytes(bytes);
    if i % SLOT_WORDS == 0 && i < slot_words {
      value &= !1; // sequence words even, so slots are read (a locked one is its own test)
    }
    word.store(value, Ordering::Relaxed);
  }
  let reader = Reader::open(region.clone()).expect("the header is the writer's");
  let mut listed: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
  let complete = reader.for_each_key(now, |key, value, expires| {
    assert!(expires > now, "an expired entry listed");
    listed.push((key.into(), value.map(Vec::from)));
  });
  assert!(complete, "a current segment is listed");
  assert!(listed.len() <= shape.capacity(), "more entries than slots");
  let seen = reader.for_each(now, |_, _, _| {});
  assert_eq!(
    seen,
    listed.iter().filter(|(_, value)| value.is_some()).count(),
    "for_each lists the entries whose value is published"
  );
  let asked = [&b"\"a\""[..], b"\"b\"", b"\"c\"", b"\"d\""]
    .into_iter()
    .map(Vec::from)
    .chain(std::iter::once(words_in[..words_in.len().min(16)].to_vec()))
    .chain(listed.iter().map(|(key, _)| key.clone()))
    .collect::<Vec<_>>();
  let mut out = Vec::new();
  let mut scratch = Vec::new();
  for key in &asked {
    let got = reader.get(key, now, &mut out);
    assert!(
      out.len() <= SHM_ARENA_WORDS * 8,
      "a value larger than the arena"
    );
    let ttl = reader.ttl(key, now, &mut scratch);
    match (&got, ttl) {
      (_, Err(ShmError::Sliding)) => assert!(sliding, "ttl refused without idle expiry"),
      (Ok(None), Ok(ttl)) => assert_eq!(ttl, -2, "ttl of a miss"),
      (Ok(Some(_)) | Err(ShmError::Elsewhere), Ok(ttl)) => assert!(ttl >= -1, "ttl of a hit"),
      (Err(a), Err(b)) => assert_eq!(*a, b, "get and ttl fail alike"),
      (got, ttl) => panic!("get answers {got:?}, ttl {ttl:?}"),
    }
    if let Ok(Some(_)) = got {
      assert!(
        listed
          .iter()
          .any(|(k, v)| k == key && v.as_deref() == Some(&out[..])),
        "a value get finds is listed under its key"
      );
    }
  }
}

// Target: store_ops.

/// A series of operations decoded from `data`, applied in batches to one
/// [`Host`]. After every batch: each request answered (or a waiting lock),
/// in order and well formed; a `get` right after a plain `set` of the same
/// batch answers the value set; no `ttl` below -2; the counters' entries
/// and bytes equal the table's; the entry and byte bounds hold. At `=` and
/// at the end: every namespace's `size` equals its `stats` entries, they
/// sum to the total, and `keys` lists `size` keys.
///
/// The input is readable text, so seeds can be written by hand. Byte 0 is
/// the config (`b % 8`: max entries none, 1, 2, 3, 4, 8, 64, none; `b / 8
/// % 4`: max bytes none, none, 48, 512; `b / 32 % 4`: idle expiry none,
/// none, 2 ms, 1 s). Then operations, each a letter and its argument
/// bytes; spaces and newlines are skipped, any other byte picks an
/// operation by its value. Arguments pick from small pools (`byte % len`,
/// so `0`..`7` pick the first eight): `K` key, `N` namespace, `V` value,
/// `T` ttl, `O` set options (`b % 8` a ttl; `b / 8 % 8`: plain, keepTtl,
/// nx, xx, nx+xx, xx+keepTtl, plain, nx+keepTtl, so `0`..`7` are plain).
///
/// | op | args | request | op | args | request |
/// |---|---|---|---|---|---|
/// | `s` | K N V O | set | `S` | K N V T | set, then get it |
/// | `g` | K N | get | `d` | K N | del |
/// | `h` | K N | has | `i` | K N amount T | incr |
/// | `x` | K N V | getset | `c` | K N V V | cas (next, expected; a 2nd V of `7`: none) |
/// | `e` | K N T | expire | `t` | K N | ttl |
/// | `p` | K N | persist | `m` | count N (K V)… T | mset |
/// | `M` | count N K… | mget | `k` | pattern N | keys |
/// | `z` | N | size | `C` | N | clear |
/// | `T` | | stats | `l` | K N lease wait | lock |
/// | `u` | K N token | unlock | `E` | K N token lease | extend |
/// | `w` | pattern N id | watch | `W` | id | unwatch |
///
/// Batches: `|` applies the requests so far for owner A, `/` for owner B;
/// `#` disconnects owner B (its locks pass on) and connects a new one;
/// `.` runs the sweeper's tick; `_` sleeps 2 ms (once per input at most, so runs stay fast);
/// `=` checks sizes against stats. The input's end applies what is left as A.
pub fn store_ops(data: &[u8]) {
  let mut input = Input { data, at: 0 };
  let config = input.byte().unwrap_or(0) as usize;
  let config = StoreConfig {
    max_entries: [
      None,
      Some(1),
      Some(2),
      Some(3),
      Some(4),
      Some(8),
      Some(64),
      None,
    ][config % 8],
    max_bytes: [None, None, Some(48), Some(512)][config / 8 % 4],
    idle_expiry: [None, None, Some(2), Some(1000)][config / 32 % 4].map(Duration::from_millis),
    ..StoreConfig::default()
  };
  let mut run = Run::new(config);
  let mut sleeps = 0;
  while let Some(op) = input.byte() {
    match op {
      b' ' | b'\n' => {}
      b'|' => run.flush(false),
      b'/' => run.flush(true),
      b'#' => run.reconnect_b(),
      b'.' => {
        run.host.tick();
      }
      b'_' if sleeps < 1 => {
        sleeps += 1;
        std::thread::sleep(Duration::from_millis(2));
      }
      b'=' => {
        run.flush(false);
        run.check_sizes();
      }
      op => run.request(op, &mut input),
    }
  }
  run.flush(false);
  run.check_sizes();
}

const KEYS: [&str; 8] = [
  r#""a""#,
  r#""b""#,
  r#""user:1""#,
  r#""""#,
  r#""\u0000""#,
  r#""\ud800""#,
  r#""é*?""#,
  r#""[x\\""#,
];
const NAMESPACES: [Option<&str>; 4] = [None, Some(r#""n""#), Some(r#""\"q\\""#), Some(r#""é""#)];
const VALUES: [&str; 8] = [
  "0",
  "1.5",
  r#""v""#,
  r#"{"a":[1,2,{"b":null}]}"#,
  "null",
  "1e308",
  r#""\udc00x""#,
  r#""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx""#,
];
const TTLS: [Option<&str>; 8] = [
  None,
  Some("1"),
  Some("2"),
  Some("5"),
  Some("1000.5"),
  Some("60000"),
  Some("1e300"),
  Some("-1"),
];
const AMOUNTS: [&str; 8] = [
  "1",
  "-1",
  "0.5",
  "1e308",
  "-1e308",
  r#""x""#,
  "1e-7",
  "9007199254740993",
];
const PATTERNS: [&str; 8] = [
  "null",
  r#""*""#,
  r#""a""#,
  r#""user:*""#,
  r#""[a-b]""#,
  r#""?""#,
  r#""\\""#,
  r#""[^""#,
];
const LEASES: [&str; 8] = ["1", "5", "1000", "30000", "1e300", "0", "-5", "1e19"];
const WAITS: [&str; 8] = ["0", "null", "1", "10", "1e300", "-1", "1000", "0.5"];
/// Set options: nx, xx, keepTtl (see [`store_ops`]).
const FLAGS: [(bool, bool, bool); 8] = [
  (false, false, false),
  (false, false, true),
  (true, false, false),
  (false, true, false),
  (true, true, false),
  (false, true, true),
  (false, false, false),
  (true, false, true),
];

struct Input<'a> {
  data: &'a [u8],
  at: usize,
}

impl Input<'_> {
  fn byte(&mut self) -> Option<u8> {
    let byte = self.data.get(self.at).copied();
    self.at += 1;
    byte
  }

  /// An argument: the next byte (0 past the end) picks from `pool`.
  fn pick<T: Copy>(&mut self, pool: &[T]) -> T {
    pool[self.byte().unwrap_or(0) as usize % pool.len()]
  }
}

/// A request of the pending batch, and what its reply must be, if known.
struct Pending {
  text: String,
  id: u64,
  /// The exact reply text after the id, when the request's answer is certain.
  expect: Option<String>,
  op: &'static str,
}

struct Run {
  host: Host,
  a: (Owner, Arc<Collect>),
  b: (Owner, Arc<Collect>),
  pending: Vec<Pending>,
  next_id: u64,
}

impl Run {
  fn new(config: StoreConfig) -> Self {
    let host = Host::new(config);
    let (a, b) = (connect(&host), connect(&host));
    Run {
      host,
      a,
      b,
      pending: Vec::new(),
      next_id: 1,
    }
  }

  fn push(
    &mut self,
    op: &'static str,
    key: &str,
    arg: &str,
    options: String,
    expect: Option<String>,
  ) {
    let id = self.next_id;
    self.next_id += 1;
    let text = format!(r#"[{id},"{op}",{key},{arg}{options}]"#);
    self.pending.push(Pending {
      text,
      id,
      expect,
      op,
    });
  }

  /// Reads one operation (see [`store_ops`]) and queues its request(s).
  fn request(&mut self, op: u8, input: &mut Input) {
    const OPS: &[u8] = b"sSgdhixcetpmMkzCTluEwW";
    let op = if OPS.contains(&op) {
      op
    } else {
      OPS[op as usize % OPS.len()]
    };
    let one_key = |input: &mut Input| (input.pick(&KEYS), input.pick(&NAMESPACES));
    match op {
      b's' => {
        let (key, ns) = one_key(input);
        let value = input.pick(&VALUES);
        let pick = input.byte().unwrap_or(0) as usize;
        let (nx, xx, keep) = FLAGS[pick / 8 % 8];
        let mut extra = ttl_field(TTLS[pick % 8]);
        for (on, name) in [(nx, "nx"), (xx, "xx"), (keep, "keepTtl")] {
          if on {
            extra.push_str(&format!(r#","{name}":true"#));
          }
        }
        self.push("set", key, value, options(ns, &extra), None);
      }
      b'S' => {
        let (key, ns) = one_key(input);
        let value = input.pick(&VALUES);
        let ttl = input.pick(&TTLS);
        let extra = ttl_field(ttl);
        let fits = self.fits(key, value) && ttl.is_none_or(|ttl| !ttl.starts_with('-'));
        self.push(
          "set",
          key,
          value,
          options(ns, &extra),
          fits.then(|| "0".into()),
        );
        let expect = fits.then(|| format!("1,{value}"));
        self.push("get", key, "0", options(ns, ""), expect);
      }
      b'g' | b'd' | b'h' | b't' | b'p' => {
        let (key, ns) = one_key(input);
        let name = match op {
          b'g' => "get",
          b'd' => "del",
          b'h' => "has",
          b't' => "ttl",
          _ => "persist",
        };
        self.push(name, key, "0", options(ns, ""), None);
      }
      b'i' => {
        let (key, ns) = one_key(input);
        let by = input.pick(&AMOUNTS);
        let extra = ttl_field(input.pick(&TTLS));
        self.push("incr", key, by, options(ns, &extra), None);
      }
      b'x' => {
        let (key, ns) = one_key(input);
        self.push("getset", key, input.pick(&VALUES), options(ns, ""), None);
      }
      b'c' => {
        let (key, ns) = one_key(input);
        let next = input.pick(&VALUES);
        let pick = input.byte().unwrap_or(0) as usize % 8;
        let arg = if pick == 7 {
          format!("[{next}]")
        } else {
          format!("[{next},{}]", VALUES[pick])
        };
        self.push("cas", key, &arg, options(ns, ""), None);
      }
      b'e' => {
        let (key, ns) = one_key(input);
        let ms = input.pick(&TTLS).unwrap_or("0");
        self.push("expire", key, ms, options(ns, ""), None);
      }
      b'm' | b'M' => {
        let count = input.byte().unwrap_or(0) as usize % 4;
        let ns = input.pick(&NAMESPACES);
        if op == b'm' {
          let pairs: Vec<String> = (0..count)
            .map(|_| format!("[{},{}]", input.pick(&KEYS), input.pick(&VALUES)))
            .collect();
          let extra = ttl_field(input.pick(&TTLS));
          let arg = format!("[{}]", pairs.join(","));
          self.push("mset", "null", &arg, options(ns, &extra), None);
        } else {
          let keys: Vec<&str> = (0..count).map(|_| input.pick(&KEYS)).collect();
          let arg = format!("[{}]", keys.join(","));
          self.push("mget", "null", &arg, options(ns, ""), None);
        }
      }
      b'k' => {
        let pattern = input.pick(&PATTERNS);
        let ns = input.pick(&NAMESPACES);
        self.push("keys", "null", pattern, options(ns, ""), None);
      }
      b'z' | b'C' => {
        let ns = input.pick(&NAMESPACES);
        let name = if op == b'z' { "size" } else { "clear" };
        self.push(name, "null", "0", options(ns, ""), None);
      }
      b'T' => self.push("stats", "null", "0", String::new(), None),
      b'l' => {
        let (key, ns) = one_key(input);
        let arg = format!(
          r#"{{"lease":{},"wait":{}}}"#,
          input.pick(&LEASES),
          input.pick(&WAITS)
        );
        self.push("lock", key, &arg, options(ns, ""), None);
      }
      b'u' => {
        let (key, ns) = one_key(input);
        let token = input.byte().unwrap_or(0) % 8;
        self.push("unlock", key, &token.to_string(), options(ns, ""), None);
      }
      b'E' => {
        let (key, ns) = one_key(input);
        let token = input.byte().unwrap_or(0) % 8;
        let arg = format!("[{token},{}]", input.pick(&LEASES));
        self.push("extend", key, &arg, options(ns, ""), None);
      }
      b'w' => {
        let pattern = input.pick(&PATTERNS);
        let ns = input.pick(&NAMESPACES);
        let id = input.byte().unwrap_or(0) % 4;
        self.push("watch", pattern, &id.to_string(), options(ns, ""), None);
      }
      _ => {
        let id = input.byte().unwrap_or(0) % 4;
        self.push("unwatch", "null", &id.to_string(), String::new(), None);
      }
    }
  }

  /// Whether a plain set of `key` to `value` is certain to be stored and
  /// to stay until the next request of its batch.
  fn fits(&self, key: &str, value: &str) -> bool {
    let config = self.host.store().config();
    // A namespaced key is longer, so use the longest namespace.
    let longest = NAMESPACES
      .iter()
      .flatten()
      .map(|ns| ns.len())
      .max()
      .unwrap_or(0);
    let size = longest + key.len() + value.len();
    config.max_entries != Some(0)
      && config.max_bytes.is_none_or(|max| size <= max)
      && value.len() <= config.max_value_bytes
  }

  /// Applies the pending batch as owner A (or B) and checks its replies
  /// and the store's counters.
  fn flush(&mut self, as_b: bool) {
    if self.pending.is_empty() {
      return;
    }
    let pending = std::mem::take(&mut self.pending);
    let batch = format!(
      "[{}]",
      pending
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(",")
    );
    let owner = if as_b { self.b.0 } else { self.a.0 };
    let reply = self.host.apply(owner, &batch);
    let replies = replies(&reply);
    let mut answered = replies.iter().peekable();
    for (i, request) in pending.iter().enumerate() {
      let Some(reply) = answered.next_if(|r| r.id == Some(request.id)) else {
        assert_eq!(
          request.op, "lock",
          "no reply to {} in {reply}",
          request.text
        );
        continue;
      };
      // A request that starts a chunk of a long batch may see a later time than the one before.
      let expect = request.expect.as_ref().filter(|_| i % BATCH_CHUNK != 0);
      if let Some(expect) = expect {
        let after_id = &reply.text[reply.text.find(',').expect("a reply has a kind") + 1..];
        assert_eq!(
          &after_id[..after_id.len() - 1],
          expect,
          "{} in {batch}",
          request.text
        );
      }
      if request.op == "ttl" && reply.kind == 1 {
        let ms: i64 = serde_json::from_str(reply.fields[2].get()).expect("ttl is an integer");
        assert!(ms >= -2, "ttl {ms} for {}", request.text);
      }
    }
    assert!(
      answered.next().is_none(),
      "more replies than requests: {reply}"
    );
    check_pushes(&self.a.1);
    check_pushes(&self.b.1);
    self.check_counters();
  }

  /// Counters against the table; the configured bounds.
  fn check_counters(&self) {
    let store = self.host.store();
    let stats = store.stats();
    let (len, bytes) = (store.len(), store.bytes());
    assert_eq!(stats.entries, len as u64, "entries counted");
    assert_eq!(stats.bytes, bytes as u64, "bytes counted");
    let config = store.config();
    if let Some(max) = config.max_entries {
      assert!(len <= max, "{len} entries, bound {max}");
    }
    if let Some(max) = config.max_bytes {
      assert!(bytes <= max, "{bytes} bytes, bound {max}");
    }
  }

  /// Every namespace's size against its stats, their sum against the total, keys against size.
  fn check_sizes(&mut self) {
    let mut batch = Vec::new();
    for (i, ns) in NAMESPACES.iter().enumerate() {
      let options = options(*ns, "");
      batch.push(format!(r#"[{i},"size",null,0{options}]"#));
      batch.push(format!(r#"[{},"keys",null,null{options}]"#, i + 10));
    }
    batch.push(r#"[99,"stats",null,0]"#.to_string());
    let reply = self.host.apply(self.a.0, &format!("[{}]", batch.join(",")));
    let replies = replies(&reply);
    let stats: AllStats =
      serde_json::from_str(replies.last().expect("stats").fields[2].get()).expect("stats");
    let mut sum = 0;
    for (i, ns) in NAMESPACES.iter().enumerate() {
      let size: u64 = serde_json::from_str(replies[2 * i].fields[2].get()).expect("size");
      let keys: Vec<&RawValue> =
        serde_json::from_str(replies[2 * i + 1].fields[2].get()).expect("keys");
      let name = ns.map_or(String::new(), |ns| {
        serde_json::from_str(ns).expect("a name")
      });
      let counted = stats.namespaces.get(&name).map_or(0, |s| s.entries);
      assert_eq!(size, counted, "size of namespace {name:?}: {reply}");
      assert_eq!(
        keys.len() as u64,
        size,
        "keys of namespace {name:?}: {reply}"
      );
      sum += size;
    }
    assert_eq!(sum, stats.total.entries, "sizes sum to the total: {reply}");
    self.check_counters();
  }

  fn reconnect_b(&mut self) {
    self.host.disconnect(self.b.0);
    check_pushes(&self.a.1);
    self.b = connect(&self.host);
  }
}

fn options(ns: Option<&str>, extra: &str) -> String {
  match (ns, extra) {
    (None, "") => String::new(),
    (None, extra) => format!(",{{{}}}", &extra[1..]),
    (Some(ns), extra) => format!(r#",{{"ns":{ns}{extra}}}"#),
  }
}

fn ttl_field(ttl: Option<&str>) -> String {
  ttl.map_or(String::new(), |ttl| format!(r#","ttl":{ttl}"#))
}

#[derive(Deserialize)]
struct AllStats {
  total: StatsView,
  namespaces: HashMap<String, StatsView>,
}

#[derive(Deserialize)]
struct StatsView {
  entries: u64,
}

// Shared checks.

/// Keeps what a connected owner is pushed.
#[derive(Default)]
struct Collect(Mutex<Vec<Push>>);

impl Sink for Collect {
  fn push(&self, message: Push, _essential: bool) {
    self.0.lock().push(message);
  }
}

fn connect(host: &Host) -> (Owner, Arc<Collect>) {
  let sink = Arc::new(Collect::default());
  let owner = host.connect(|_| sink.clone());
  (owner, sink)
}

/// Every push so far is `!` and a JSON reply batch of one, or `~` and JSON; then forgets them.
fn check_pushes(sink: &Collect) {
  for push in sink.0.lock().drain(..) {
    match push.split_at(1) {
      ("!", batch) => assert_eq!(replies(batch).len(), 1, "{push}"),
      ("~", events) => {
        serde_json::from_str::<&RawValue>(events).unwrap_or_else(|err| panic!("{err}: {push}"));
      }
      _ => panic!("a push is ! or ~ and JSON: {push}"),
    }
  }
}

/// One reply of a reply batch, its shape checked.
struct ReplyView<'a> {
  text: &'a str,
  id: Option<u64>,
  kind: u8,
  fields: Vec<&'a RawValue>,
}

/// A reply batch read: a JSON array of replies `[id, 0]`, `[id, 1, value]`
/// or `[id|null, 2, "ERR_…", message]`. (Read as raw JSON: stored strings
/// may hold lone surrogates, which JSON allows and a `serde_json::Value` does not.)
fn replies(batch: &str) -> Vec<ReplyView<'_>> {
  let items = serde_json::from_str::<Vec<&RawValue>>(batch)
    .unwrap_or_else(|err| panic!("a reply batch is a JSON array ({err}): {batch}"));
  items
    .into_iter()
    .map(|item| {
      let fields = serde_json::from_str::<Vec<&RawValue>>(item.get())
        .unwrap_or_else(|err| panic!("a reply is an array ({err}): {batch}"));
      assert!(fields.len() >= 2, "a reply has an id and a kind: {batch}");
      let id = serde_json::from_str::<Option<u64>>(fields[0].get())
        .unwrap_or_else(|err| panic!("a reply's id is a number or null ({err}): {batch}"));
      let kind = serde_json::from_str::<u8>(fields[1].get()).expect("a reply's kind");
      match kind {
        0 => assert_eq!(fields.len(), 2, "{batch}"),
        1 => assert_eq!(fields.len(), 3, "{batch}"),
        2 => {
          assert_eq!(fields.len(), 4, "{batch}");
          let code: String = serde_json::from_str(fields[2].get()).expect("a code");
          assert!(code.starts_with("ERR_"), "{batch}");
          serde_json::from_str::<String>(fields[3].get()).expect("a message");
        }
        _ => panic!("a reply's kind is 0, 1 or 2: {batch}"),
      }
      assert!(
        id.is_some() || kind == 2,
        "only a failure may lack an id: {batch}"
      );
      ReplyView {
        text: item.get(),
        id,
        kind,
        fields,
      }
    })
    .collect()
}

/// The id of a request: its first element, when that is a whole number.
fn item_id(item: &RawValue) -> Option<u64> {
  let fields = serde_json::from_str::<Vec<&RawValue>>(item.get()).ok()?;
  serde_json::from_str(fields.first()?.get()).ok()
}

fn is_lock(item: &RawValue) -> bool {
  serde_json::from_str::<Vec<&RawValue>>(item.get())
    .ok()
    .and_then(|fields| Some(fields.get(1)?.get() == r#""lock""#))
    .unwrap_or(false)
}

/// Whether `replies` answer `items` one by one in order, where only a
/// lock request with an id may have no reply (it waits, and is answered
/// by a push). Ids may repeat, so every way of skipping is considered.
fn check_replies(items: &[&RawValue], replies: &[ReplyView]) -> bool {
  let Some(skips) = items.len().checked_sub(replies.len()) else {
    return false;
  };
  // reachable[s]: the items so far can be answered with s of them skipped.
  let mut reachable = vec![false; skips + 1];
  reachable[0] = true;
  for (i, item) in items.iter().enumerate() {
    let id = item_id(item);
    let may_skip = id.is_some() && is_lock(item);
    let mut next = vec![false; skips + 1];
    for s in (0..=skips).filter(|&s| reachable[s]) {
      if replies.get(i - s).is_some_and(|reply| reply.id == id) {
        next[s] = true;
      }
      if may_skip && s < skips {
        next[s + 1] = true;
      }
    }
    reachable = next;
  }
  reachable[skips]
}

#[cfg(test)]
mod tests {
  //! The seed corpus through every check, on any toolchain.
  use super::*;

  #[test]
  fn the_seed_corpus_passes_every_check() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, check) in TARGETS {
      let dir = corpus.join(name);
      let mut seen = 0;
      for entry in std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
      {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
          panic!("{} fails {name}'s check", path.display());
        }
        seen += 1;
      }
      assert!(seen >= 3, "{name} has a seed corpus ({seen} files)");
    }
  }

  /// Rewrites the seeds [`shm_seeds::all`] makes when `SM_WRITE_SEEDS` is
  /// set; else insists that `fuzz/corpus/shm_reader/` holds them as they
  /// are made now, so a change of the segment's layout that leaves them
  /// aimed at the old one fails here (other files there are left alone:
  /// inputs a fuzz run found).
  #[test]
  fn the_shm_reader_seeds_are_of_the_current_layout() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/shm_reader");
    for (name, bytes) in shm_seeds::all() {
      let path = dir.join(name);
      if std::env::var_os("SM_WRITE_SEEDS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
      }
      let held = std::fs::read(&path).unwrap_or_default();
      assert!(
        held == bytes,
        "{} is not the seed the current layout makes: rewrite the seeds with \
         SM_WRITE_SEEDS=1 cargo test --lib shm_reader_seeds",
        path.display()
      );
      shm_reader(&bytes);
    }
  }

  #[test]
  fn every_check_has_its_fuzz_target_and_every_target_its_check() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
      let file = fuzz.join(format!("fuzz_targets/{name}.rs"));
      let code =
        std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
      assert!(
        code.contains(&format!("fuzzing::{name}(data)")),
        "{} runs {name}",
        file.display()
      );
      assert!(
        manifest.contains(&format!("name = \"{name}\"")),
        "fuzz/Cargo.toml has a [[bin]] {name}"
      );
    }
    for entry in std::fs::read_dir(fuzz.join("fuzz_targets")).unwrap() {
      let path = entry.unwrap().path();
      let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
      assert!(
        TARGETS.iter().any(|(name, _)| *name == stem),
        "{stem} is in TARGETS"
      );
    }
  }

  #[test]
  fn the_reply_check_sees_missing_and_extra_replies() {
    let items: Vec<&RawValue> =
      serde_json::from_str(r#"[[5,"lock","k",{"lease":1}],[5,"get","k",0]]"#).unwrap();
    assert!(check_replies(&items, &replies("[[5,0]]")));
    assert!(check_replies(&items, &replies("[[5,1,1],[5,0]]")));
    assert!(!check_replies(&items, &[]));
    assert!(!check_replies(&items, &replies("[[5,0],[5,0],[5,0]]")));
    assert!(!check_replies(&items, &replies("[[6,0],[5,0]]")));
  }

  /// The seeds of `fuzz/corpus/shm_reader/`: segments a writer laid out
  /// (see [`shm_reader`] for how an input becomes one), some of them then
  /// damaged word by word, each aimed at a meaning of layout 2's words.
  mod shm_seeds {
    use std::sync::Arc;

    use crate::shm::layout::*;
    use crate::shm::words::{zeroed, AtomicU64, Ordering, Region};
    use crate::shm::writer::{Identity, Shape, Writer};

    type Heap = Arc<Box<[AtomicU64]>>;

    /// An empty segment of `capacity` slots, as [`super::shm_reader`] sizes it.
    fn segment(capacity: usize) -> Writer<Heap> {
      let shape = Shape {
        capacity,
        arena_words: super::SHM_ARENA_WORDS,
      };
      Writer::create(Arc::new(zeroed(shape.words())), shape, Identity::default())
    }

    /// The input that makes `writer`'s segment: the two bytes that pick
    /// its slots, `sliding` and the time (an index of [`super::SHM_NOW`]),
    /// then its slots and arena (trailing zero words left off, but the
    /// first 8 of the arena, where the check's own writer put records).
    fn input(writer: &Writer<Heap>, sliding: bool, now: u8) -> Vec<u8> {
      let capacity = writer.capacity();
      let words = &writer.region().words()[HEADER_WORDS..];
      let mut n = words.len();
      while n > capacity * SLOT_WORDS + 8 && words[n - 1].load(Ordering::Relaxed) == 0 {
        n -= 1;
      }
      let mut bytes = vec![(capacity - 8) as u8, u8::from(sliding) | now << 1];
      for word in &words[..n] {
        bytes.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
      }
      bytes
    }

    fn tag(key: &[u8]) -> u64 {
      tag_of(slot_hash(key))
    }

    fn home_of(key: &[u8], capacity: usize) -> usize {
      home(slot_hash(key), capacity)
    }

    /// Writes slot `slot`'s two words.
    fn put(writer: &Writer<Heap>, slot: usize, state: u64, entry: u64) {
      let words = writer.region().words();
      words[slot_at(slot) + S_SEQ].store(state, Ordering::Relaxed);
      words[slot_at(slot) + S_ENTRY].store(entry, Ordering::Relaxed);
    }

    fn entry(writer: &Writer<Heap>, slot: usize) -> u64 {
      writer.region().words()[slot_at(slot) + S_ENTRY].load(Ordering::Relaxed)
    }

    /// The slot holding `key` (by its tag and home: the seeds' keys do not collide).
    fn slot_of(writer: &Writer<Heap>, key: &[u8]) -> usize {
      let capacity = writer.capacity();
      let words = writer.region().words();
      (0..capacity)
        .map(|i| (home_of(key, capacity) + i) % capacity)
        .find(|&i| tag_in(words[slot_at(i) + S_SEQ].load(Ordering::Relaxed)) == tag(key))
        .expect("the key is there")
    }

    pub fn all() -> Vec<(&'static str, Vec<u8>)> {
      vec![
        ("zeros.bin", input(&segment(8), false, 0)),
        ("odd_slots_wrap_around.bin", odd_slots_wrap_around()),
        ("deadlines_around_now.bin", deadlines_around_now()),
        ("sliding_deadlines.bin", sliding_deadlines()),
        ("state_words.bin", state_words()),
        (
          "entry_words_at_their_limits.bin",
          entry_words_at_their_limits(),
        ),
        ("one_tag_in_every_slot.bin", one_tag_in_every_slot()),
      ]
    }

    /// 11 slots: keys with and without a deadline word, a removed one (a
    /// tombstone), a value held elsewhere, and two keys whose first slot
    /// is the last, so the second wraps around to slot 0.
    fn odd_slots_wrap_around() -> Vec<u8> {
      let mut w = segment(11);
      w.set(b"\"a\"", b"\"with a deadline\"", 1 << 41).unwrap();
      w.set(b"\"b\"", b"2", NEVER).unwrap();
      w.set(b"\"c\"", b"3", NEVER).unwrap();
      assert!(w.remove(b"\"c\""));
      w.set(b"\"big\"", &[b'7'; MAX_PUBLISHED_VALUE + 1], NEVER)
        .unwrap();
      let last: Vec<Vec<u8>> = (0..)
        .map(|i| format!("\"w{i}\"").into_bytes())
        .filter(|key| home_of(key, 11) == 10)
        .take(2)
        .collect();
      for key in &last {
        w.set(key, b"10", NEVER).unwrap();
      }
      assert_eq!(slot_of(&w, &last[1]), 0, "the second wrapped around");
      input(&w, false, 0)
    }

    /// 13 slots read at 1,000 ms: deadlines before, at and after it, none,
    /// and one given to a record that had no deadline word (rewritten).
    fn deadlines_around_now() -> Vec<u8> {
      let mut w = segment(13);
      w.set(b"\"a\"", b"999", 999).unwrap();
      w.set(b"\"b\"", b"1000", 1_000).unwrap();
      w.set(b"\"c\"", b"1001", 1_001).unwrap();
      w.set(b"\"d\"", b"never", NEVER).unwrap();
      w.set(b"\"e\"", b"later", NEVER).unwrap();
      assert_eq!(w.set_expires(b"\"e\"", 5_000), Ok(true));
      input(&w, false, 1)
    }

    /// 9 slots whose deadlines are idle ones: `ttl` goes to the host.
    fn sliding_deadlines() -> Vec<u8> {
      let mut w = segment(9);
      w.mark_sliding(true);
      w.set(b"\"a\"", b"1", 1 << 41).unwrap();
      w.set(b"\"b\"", b"2", 10).unwrap();
      w.set(b"\"d\"", b"4", NEVER).unwrap();
      input(&w, true, 0)
    }

    /// 8 slots whose state words say other things than their records: a
    /// sequence at its last even value, an empty tag and a tombstone over
    /// records, the tag of a key over another key's record, and the
    /// deadline bit turned on over a record without one and off over one
    /// with one (the bytes are then read from the wrong word).
    fn state_words() -> Vec<u8> {
      let mut w = segment(8);
      for (key, expires) in [
        (&b"\"a\""[..], NEVER),
        (b"\"b\"", 1 << 41),
        (b"\"c\"", NEVER),
      ] {
        w.set(key, b"\"value\"", expires).unwrap();
      }
      let [a, b, c] = [&b"\"a\""[..], b"\"b\"", b"\"c\""].map(|key| slot_of(&w, key));
      let free: Vec<usize> = (0..8).filter(|i| ![a, b, c].contains(i)).collect();
      put(
        &w,
        a,
        state_word(SEQ_MASK - 1, tag(b"\"a\""), true),
        entry(&w, a),
      );
      put(&w, b, state_word(2, tag(b"\"b\""), false), entry(&w, b));
      put(
        &w,
        c,
        state_word(1 << 40, tag(b"\"c\""), false),
        entry(&w, c),
      );
      put(&w, free[0], state_word(6, EMPTY, false), entry(&w, a));
      put(&w, free[1], state_word(8, TOMBSTONE, true), entry(&w, b));
      put(
        &w,
        free[2],
        state_word(4, tag(b"\"d\""), false),
        entry(&w, c),
      );
      input(&w, false, 0)
    }

    /// 8 slots, at their keys' first slots, whose entry words name the
    /// most the fields hold (a record offset, a key length, a value
    /// length: each past the arena), a record one word past the arena's
    /// end, and records that end just at it, with and without a deadline.
    fn entry_words_at_their_limits() -> Vec<u8> {
      let w = segment(8);
      let end = super::SHM_ARENA_WORDS;
      let max_key = (1 << 17) - 1;
      let cases = [
        (&b"\"a\""[..], true, pack_entry(MAX_RECORD - 1, 3, 1)),
        (b"\"b\"", false, pack_entry(0, max_key, 0)),
        (b"\"c\"", true, pack_entry(end - 1, 3, ELSEWHERE)),
        (b"\"d\"", false, pack_entry(0, 3, ELSEWHERE - 1)),
        (b"\"e\"", true, pack_entry(end - 3, 3, 5)),
        (b"\"f\"", false, pack_entry(end - 1, 3, 5)),
      ];
      let mut taken = Vec::new();
      for (key, deadline, entry) in cases {
        let mut slot = home_of(key, 8);
        while taken.contains(&slot) {
          slot = (slot + 1) % 8;
        }
        taken.push(slot);
        put(&w, slot, state_word(2, tag(key), deadline), entry.unwrap());
      }
      // "e": a deadline, then its bytes; "f": its bytes in the arena's last word.
      let words = w.region().words();
      let arena = arena_at(8);
      for (at, word) in [
        (3, 1 << 41),
        (2, u64::from_le_bytes(*b"\"e\"12345")),
        (1, u64::from_le_bytes(*b"\"f\"12345")),
      ] {
        words[arena + end - at].store(word, Ordering::Relaxed);
      }
      input(&w, false, 0)
    }

    /// 23 slots (the most the check makes), every one with the tag of the
    /// missing key over another key's record: its look-up probes the whole
    /// table and stops there, finding no empty slot.
    fn one_tag_in_every_slot() -> Vec<u8> {
      let mut w = segment(23);
      w.set(b"\"a\"", b"1", NEVER).unwrap();
      let record = entry(&w, slot_of(&w, b"\"a\""));
      for slot in 0..23 {
        put(
          &w,
          slot,
          state_word(2 * slot as u64, tag(b"\"d\""), false),
          record,
        );
      }
      input(&w, false, 2)
    }
  }
}
