//! The bytes of a snapshot file. Little-endian throughout.
//!
//! ```text
//! header, 48 bytes
//!   0   magic      8 bytes  "SMSNAP\r\n"
//!   8   version    u32      FORMAT_VERSION
//!   12  flags      u32      bits 0-7: the store's serialization (0 'json', 1 'advanced'); the rest 0
//!   16  written    u64      wall-clock ms when the copy was taken
//!   24  count      u64      entries
//!   32  body_len   u64      bytes after the header: the file is exactly 48 + body_len long
//!   40  checksum   u64      XXH3-64 of bytes 0..40, then of the body
//! body: count entries, most recently used first, each
//!   ns_len u32, key_len u32, value_len u32, deadline u64 (wall-clock ms; 0: none),
//!   then the namespace text (empty: the default namespace), the key text and the value text
//! ```
//!
//! [`parse`] checks everything (length, magic, version, checksum, every
//! entry's bounds and shape) before it answers anything, so a file that is
//! truncated, damaged or of another version is refused whole, never used in
//! part.

use std::fmt;

use xxhash_rust::xxh3::Xxh3Default;

use crate::store::MAX_KEY_BYTES;

pub const MAGIC: [u8; 8] = *b"SMSNAP\r\n";
/// The version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 48;
/// Bytes before an entry's texts.
pub const ENTRY_HEAD: usize = 20;
/// The `serialization` init() option, as the header's flags keep it.
pub const SERIALIZATIONS: [&str; 2] = ["json", "advanced"];

/// A store's entries copied for a snapshot ([`super::capture`]): the body,
/// laid out as the file keeps it, and what the header needs.
#[derive(Debug)]
pub struct Image {
  /// [`crate::store::Txn::version`] when copied: equal images, equal versions.
  pub version: u64,
  pub written: u64,
  pub count: u64,
  pub body: Vec<u8>,
}

impl Image {
  /// An empty image, its body sized for `entries` entries of `bytes` key
  /// and value bytes in all (namespaces included: they are part of the key).
  pub fn with_capacity(version: u64, written: u64, entries: usize, bytes: usize) -> Self {
    Image {
      version,
      written,
      count: 0,
      body: Vec::with_capacity(bytes + entries * ENTRY_HEAD),
    }
  }

  /// An empty image over `body` (emptied), keeping its capacity.
  pub fn with_buffer(version: u64, written: u64, mut body: Vec<u8>) -> Self {
    body.clear();
    Image {
      version,
      written,
      count: 0,
      body,
    }
  }

  /// Adds an entry; `deadline` is wall-clock ms (never 0), None without a TTL.
  pub fn push(&mut self, ns: &[u8], key: &[u8], value: &[u8], deadline: Option<u64>) {
    for len in [ns.len(), key.len(), value.len()] {
      self.body.extend_from_slice(&(len as u32).to_le_bytes());
    }
    self
      .body
      .extend_from_slice(&deadline.unwrap_or(0).to_le_bytes());
    self.body.extend_from_slice(ns);
    self.body.extend_from_slice(key);
    self.body.extend_from_slice(value);
    self.count += 1;
  }

  /// The header for this body, for a store of `serialization` (an index of
  /// [`SERIALIZATIONS`]). The checksum is computed here, not while copying.
  pub fn header(&self, serialization: u8) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&u32::from(serialization).to_le_bytes());
    header[16..24].copy_from_slice(&self.written.to_le_bytes());
    header[24..32].copy_from_slice(&self.count.to_le_bytes());
    header[32..40].copy_from_slice(&(self.body.len() as u64).to_le_bytes());
    let sum = checksum(&header[..40], &self.body);
    header[40..48].copy_from_slice(&sum.to_le_bytes());
    header
  }

  /// The whole file, header and body (for tests and the fuzz corpus; the
  /// writer writes the two parts without joining them).
  pub fn to_bytes(&self, serialization: u8) -> Vec<u8> {
    let mut bytes = self.header(serialization).to_vec();
    bytes.extend_from_slice(&self.body);
    bytes
  }
}

fn checksum(head: &[u8], body: &[u8]) -> u64 {
  let mut hasher = Xxh3Default::new();
  hasher.update(head);
  hasher.update(body);
  hasher.digest()
}

/// One entry of a parsed snapshot, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
  /// The namespace's JSON string text; empty for the default namespace.
  pub ns: &'a [u8],
  /// The key's JSON string text.
  pub key: &'a [u8],
  /// The value as the store keeps it (JSON text).
  pub value: &'a [u8],
  /// Wall-clock ms, None without a TTL.
  pub deadline: Option<u64>,
}

/// A snapshot file, checked whole.
#[derive(Debug)]
pub struct Snapshot<'a> {
  /// An index of [`SERIALIZATIONS`].
  pub serialization: u8,
  pub written: u64,
  /// Most recently used first.
  pub entries: Vec<Record<'a>>,
}

/// Why a file is not a snapshot this build can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corrupt {
  /// Shorter than its header says (a write cut short, a file truncated).
  Truncated { len: usize, expected: u64 },
  /// Longer than its header says.
  Trailing { len: usize, expected: u64 },
  /// Not a snapshot at all.
  Magic,
  /// A snapshot of a format version this build does not read.
  Version(u32),
  /// The bytes are not those that were written.
  Checksum,
  /// The checksum holds, but the content does not add up (a bug, or a
  /// file made to look valid).
  Malformed(String),
}

impl fmt::Display for Corrupt {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Corrupt::Truncated { len, expected } => {
        write!(
          f,
          "it is truncated: {len} bytes where its header says {expected}"
        )
      }
      Corrupt::Trailing { len, expected } => {
        write!(f, "it has {len} bytes where its header says {expected}")
      }
      Corrupt::Magic => write!(f, "it is not a sharedmemory snapshot (no magic number)"),
      Corrupt::Version(v) => write!(
        f,
        "it is of format version {v}; this version of sharedmemory reads version {FORMAT_VERSION}"
      ),
      Corrupt::Checksum => write!(f, "its checksum does not match: the file is damaged"),
      Corrupt::Malformed(why) => write!(f, "its content is malformed: {why}"),
    }
  }
}

/// Reads a whole snapshot file, checking all of it first (see the module's notes).
pub fn parse(bytes: &[u8]) -> Result<Snapshot<'_>, Corrupt> {
  if bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] != MAGIC {
    return Err(Corrupt::Magic);
  }
  if bytes.len() < HEADER_LEN {
    return Err(Corrupt::Truncated {
      len: bytes.len(),
      expected: HEADER_LEN as u64,
    });
  }
  let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
  let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
  let version = half(8);
  if version != FORMAT_VERSION {
    return Err(Corrupt::Version(version));
  }
  let expected = (HEADER_LEN as u64).saturating_add(word(32));
  if (bytes.len() as u64) < expected {
    return Err(Corrupt::Truncated {
      len: bytes.len(),
      expected,
    });
  }
  if (bytes.len() as u64) > expected {
    return Err(Corrupt::Trailing {
      len: bytes.len(),
      expected,
    });
  }
  let body = &bytes[HEADER_LEN..];
  if checksum(&bytes[..40], body) != word(40) {
    return Err(Corrupt::Checksum);
  }
  let flags = half(12);
  if flags as usize >= SERIALIZATIONS.len() {
    return Err(malformed(format!("unknown flags {flags:#x}")));
  }
  let count = word(24);
  // Every entry takes at least its head: a count beyond that is a lie, and
  // must not size an allocation.
  if count > (body.len() / ENTRY_HEAD) as u64 {
    return Err(malformed(format!(
      "{count} entries cannot fit in {} bytes",
      body.len()
    )));
  }
  let mut entries = Vec::with_capacity(count as usize);
  let mut at = 0usize;
  for i in 0..count {
    let record = entry(body, &mut at).map_err(|why| malformed(format!("entry {i}: {why}")))?;
    entries.push(record);
  }
  if at != body.len() {
    return Err(malformed(format!(
      "{} bytes after the last of its {count} entries",
      body.len() - at
    )));
  }
  Ok(Snapshot {
    serialization: flags as u8,
    written: word(16),
    entries,
  })
}

fn malformed(why: String) -> Corrupt {
  Corrupt::Malformed(why)
}

/// The entry at `*at` of `body`, moving `*at` past it.
fn entry<'a>(body: &'a [u8], at: &mut usize) -> Result<Record<'a>, String> {
  let head = body
    .get(*at..*at + ENTRY_HEAD)
    .ok_or("its head runs past the end")?;
  let len = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().expect("4 bytes")) as usize;
  let (ns_len, key_len, value_len) = (len(0), len(4), len(8));
  let deadline = u64::from_le_bytes(head[12..20].try_into().expect("8 bytes"));
  if ns_len + key_len > MAX_KEY_BYTES {
    return Err(format!(
      "a key of {} bytes, over the limit of {MAX_KEY_BYTES}",
      ns_len + key_len
    ));
  }
  let start = *at + ENTRY_HEAD;
  let end = start
    .checked_add(ns_len + key_len)
    .and_then(|end| end.checked_add(value_len))
    .filter(|&end| end <= body.len())
    .ok_or("its texts run past the end")?;
  let ns = &body[start..start + ns_len];
  let key = &body[start + ns_len..start + ns_len + key_len];
  let value = &body[start + ns_len + key_len..end];
  if !is_string_text(key) || !(ns.is_empty() || is_string_text(ns)) {
    return Err("a key or namespace that is not JSON string text".into());
  }
  if value.is_empty() || std::str::from_utf8(value).is_err() {
    return Err("a value that is not text".into());
  }
  *at = end;
  Ok(Record {
    ns,
    key,
    value,
    deadline: (deadline != 0).then_some(deadline),
  })
}

/// Whether `text` looks as a stored key or namespace does: `"…"`, UTF-8.
fn is_string_text(text: &[u8]) -> bool {
  text.len() >= 2
    && text[0] == b'"'
    && text[text.len() - 1] == b'"'
    && std::str::from_utf8(text).is_ok()
}
