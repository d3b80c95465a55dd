//! What a process that reads a segment keeps: the reader (following its
//! writer from generation to generation), the report of its reads for the
//! host, and the buffers a read uses. The buffers are kept between reads,
//! so a read allocates nothing once they have grown to size.
//!
//! Also how a value's JSON text is told apart when it needs no parser
//! ([`simple`]): a reader hands strings, numbers, booleans and null back
//! as they are, and only objects and arrays (and strings with escapes) to
//! `JSON.parse`.

use std::time::Duration;

use super::follow::{Following, Source};
use super::layout::MAX_KEY_BYTES;
use super::reader::Version;
use super::report::ReadReport;
use super::words::Region;
use super::ShmError;
use crate::store::clock;

/// Bytes of the key buffer: the longest stored key (a namespace's text and
/// a key's), and room past it to tell a longer one.
pub const KEY_SPACE: usize = MAX_KEY_BYTES + 8;

pub struct Reading<R: Region, S: Source<R>> {
  /// None once closed: the mapping is gone.
  reader: Option<Following<R, S>>,
  /// The key of the read under way; [`KEY_SPACE`] bytes long.
  key: Vec<u8>,
  /// The value read last (a read copies it out of the segment here).
  value: Vec<u8>,
  uses: ReadReport,
}

impl<R: Region, S: Source<R>> Reading<R, S> {
  /// Reads through `reader`, reporting a read of an entry as a use at most
  /// once per `window`.
  pub fn new(reader: Following<R, S>, window: Duration) -> Self {
    Reading {
      uses: ReadReport::new(reader.reader().capacity(), window),
      reader: Some(reader),
      key: vec![0; KEY_SPACE],
      value: Vec::new(),
    }
  }

  /// The segment followed, unless closed.
  pub fn following(&self) -> Option<&Following<R, S>> {
    self.reader.as_ref()
  }

  /// Unmaps the segment: every read fails from now on.
  pub fn close(&mut self) {
    self.reader = None;
  }

  /// Moves to the writer's current generation if the one read was
  /// superseded; answers whether the one read now is current.
  pub fn refresh(&mut self) -> bool {
    let Some(reader) = self.reader.as_mut() else {
      return false;
    };
    let current = reader.follow(clock::now_ms());
    self.uses.resize(reader.reader().capacity());
    current
  }

  /// The key buffer, for a caller that writes a key into it in place
  /// (then reads it with [`Reading::get_prepared`]): [`KEY_SPACE`] bytes.
  pub fn key_space(&mut self) -> &mut [u8] {
    &mut self.key
  }

  /// [`Reading::get`] of the first `len` bytes of the key buffer.
  pub fn get_prepared(&mut self, len: usize) -> Result<Option<&[u8]>, ShmError> {
    let key = std::mem::take(&mut self.key);
    let found = match key.get(..len) {
      Some(stored) => self.read(stored, true),
      None => Ok(false),
    };
    self.key = key;
    Ok(found?.then_some(&self.value[..]))
  }

  /// As [`Reading::get_prepared`], for a caller that holds the value of
  /// this key at version `held` (see [`super::reader::Reader::get_since`]):
  /// [`Got::Unchanged`] when it is still that version (nothing copied),
  /// else its text and its version. The read is written down as a get's.
  pub fn get_prepared_since(
    &mut self,
    len: usize,
    held: Option<Version>,
  ) -> Result<Option<Got<'_>>, ShmError> {
    let key = std::mem::take(&mut self.key);
    let got = match key.get(..len) {
      Some(stored) => self.read_since(stored, held),
      None => Ok(None),
    };
    self.key = key;
    Ok(got?.map(|(version, unchanged)| {
      if unchanged {
        Got::Unchanged
      } else {
        Got::Text(&self.value[..], version)
      }
    }))
  }

  /// The value text (JSON) of stored key `key`, or None when it is
  /// missing or expired; the read is written down for the host.
  pub fn get(&mut self, key: &[u8]) -> Result<Option<&[u8]>, ShmError> {
    Ok(self.read(key, true)?.then_some(&self.value[..]))
  }

  /// As [`Reading::get`], but not a read to report (`has`).
  pub fn peek(&mut self, key: &[u8]) -> Result<Option<&[u8]>, ShmError> {
    Ok(self.read(key, false)?.then_some(&self.value[..]))
  }

  /// What `ttl` answers for stored key `key` (see [`super::reader::Reader::ttl`]).
  pub fn ttl(&mut self, key: &[u8]) -> Result<i64, ShmError> {
    let reader = self.reader.as_mut().ok_or(ShmError::Closed)?;
    let ttl = reader.ttl(key, clock::now_ms(), &mut self.value);
    self.uses.resize(reader.reader().capacity());
    ttl
  }

  /// Whether so many reads wait to be reported that they should go now.
  pub fn uses_full(&self) -> bool {
    self.uses.full()
  }

  /// Forgets the entries read since the last report, keeping the counts.
  pub fn forget_uses(&mut self) {
    self.uses.forget_slots();
  }

  /// The reads since the last call, as the argument of a `used` request.
  pub fn take_uses(&mut self) -> Option<String> {
    self.uses.take()
  }

  /// [`Reading::read`] with a version held: answers the version found, and
  /// whether it is `held` (then the value buffer is empty).
  fn read_since(
    &mut self,
    key: &[u8],
    held: Option<Version>,
  ) -> Result<Option<(Version, bool)>, ShmError> {
    if key.len() > MAX_KEY_BYTES {
      return Err(ShmError::LongKey);
    }
    let reader = self.reader.as_mut().ok_or(ShmError::Closed)?;
    let now = clock::now_ms();
    let since = reader.get_since(key, now, &mut self.value, held);
    self.uses.resize(reader.reader().capacity());
    let since = since?;
    self.uses.note_at(key, since.map(|since| since.found), now);
    Ok(since.map(|since| (since.version, since.unchanged)))
  }

  /// Reads `key` into the value buffer; answers whether it was found.
  fn read(&mut self, key: &[u8], report: bool) -> Result<bool, ShmError> {
    if key.len() > MAX_KEY_BYTES {
      return Err(ShmError::LongKey);
    }
    let reader = self.reader.as_mut().ok_or(ShmError::Closed)?;
    let now = clock::now_ms();
    let found = reader.get(key, now, &mut self.value);
    // A new generation numbers its slots anew.
    self.uses.resize(reader.reader().capacity());
    let found = found?;
    if report {
      self.uses.note_at(key, found, now);
    }
    Ok(found.is_some())
  }
}

/// What [`Reading::get_prepared_since`] found.
#[derive(Debug, PartialEq)]
pub enum Got<'a> {
  /// The version held: the caller's value is the current one.
  Unchanged,
  /// Another version: its value text, and the version to hold now.
  Text(&'a [u8], Version),
}

/// Whether `text` (a key or a namespace name, as UTF-8) is its own JSON
/// string text once quoted: nothing in it that `JSON.stringify` escapes
/// (`"`, `\` and the controls) and no byte that may stand for a lone
/// surrogate (which a UTF-8 copy of a JavaScript string replaces with
/// U+FFFD, lead byte 0xEF: any 0xEF is left to the careful path).
pub fn quotes_as_is(text: &[u8]) -> bool {
  text
    .iter()
    .all(|&b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0xEF)
}

/// A value's JSON text, as far as it can be taken without a parser.
#[derive(Debug, PartialEq)]
pub enum Simple<'a> {
  /// A string without escapes: its bytes between the quotes.
  Str(&'a [u8]),
  Number(f64),
  Bool(bool),
  Null,
  /// Anything else (an object, an array, a string with escapes): for a parser.
  Json(&'a [u8]),
}

/// What `text` holds, when that is plain to see (see [`Simple`]). Only
/// the forms JSON.parse reads the same way are taken: a number is one
/// only if it is made of a JSON number's characters and Rust reads it
/// (both round to the nearest double).
pub fn simple(text: &[u8]) -> Simple<'_> {
  match text {
    b"true" => return Simple::Bool(true),
    b"false" => return Simple::Bool(false),
    b"null" => return Simple::Null,
    [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') && !inner.contains(&b'"') => {
      return Simple::Str(inner)
    }
    [b'-' | b'0'..=b'9', ..]
      if text.len() <= 32
        && text
          .iter()
          .all(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) =>
    {
      if let Some(n) = std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
      {
        return Simple::Number(n);
      }
    }
    _ => {}
  }
  Simple::Json(text)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn plain_values_are_told_apart_and_the_rest_is_left_to_a_parser() {
    assert_eq!(simple(br#""abc""#), Simple::Str(b"abc"));
    assert_eq!(simple(br#""""#), Simple::Str(b""));
    assert_eq!(simple(br#""a\"b""#), Simple::Json(br#""a\"b""#));
    assert_eq!(
      simple(b"\""),
      Simple::Json(b"\""),
      "a lone quote is no string"
    );
    assert_eq!(simple(b"12"), Simple::Number(12.0));
    assert_eq!(simple(b"-0"), Simple::Number(-0.0));
    assert!(matches!(simple(b"-0"), Simple::Number(n) if n.is_sign_negative()));
    assert_eq!(simple(b"1.5e3"), Simple::Number(1500.0));
    assert_eq!(simple(b"1e999999"), Simple::Number(f64::INFINITY));
    assert_eq!(simple(b"true"), Simple::Bool(true));
    assert_eq!(simple(b"false"), Simple::Bool(false));
    assert_eq!(simple(b"null"), Simple::Null);
    assert_eq!(simple(br#"{"a":1}"#), Simple::Json(br#"{"a":1}"#));
    assert_eq!(simple(b"[1]"), Simple::Json(b"[1]"));
    assert_eq!(
      simple(b"--"),
      Simple::Json(b"--"),
      "not a number Rust reads"
    );
    // The same double JSON.parse gives, for a number that must be rounded.
    assert_eq!(simple(b"0.10000000000000000555"), Simple::Number(0.1));
    let long = b"0.1000000000000000055511151231257827";
    assert_eq!(simple(long), Simple::Json(long), "a long one: the parser's");
  }

  #[test]
  fn keys_that_need_escaping_are_left_to_the_careful_path() {
    assert!(quotes_as_is(b"user:1"));
    assert!(quotes_as_is("caf\u{e9}".as_bytes()));
    assert!(!quotes_as_is(b"a\"b"));
    assert!(!quotes_as_is(b"a\\b"));
    assert!(!quotes_as_is(b"a\nb"));
    assert!(!quotes_as_is("\u{fffd}".as_bytes()));
  }
}
