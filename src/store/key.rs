//! How a stored key names its namespace.
//!
//! A key arrives as JSON string text (`"user:1"`); a namespace name too.
//! The store keeps a key of the default namespace as its text alone and a
//! key of namespace `n` as the two texts one after the other
//! (`"n""user:1"`). A JSON string's end is found without decoding it, so
//! the namespace of any stored key can always be read back from the key.

use std::borrow::Cow;

/// The stored form of `key` in namespace `ns` (`ns` empty: the default one).
pub fn qualify<'a>(ns: &[u8], key: &'a [u8]) -> Cow<'a, [u8]> {
  if ns.is_empty() {
    Cow::Borrowed(key)
  } else {
    let mut full = Vec::with_capacity(ns.len() + key.len());
    full.extend_from_slice(ns);
    full.extend_from_slice(key);
    Cow::Owned(full)
  }
}

/// Splits a stored key into its namespace text (empty for the default
/// namespace) and its key text.
pub fn split(full: &[u8]) -> (&[u8], &[u8]) {
  match string_end(full) {
    Some(end) if end < full.len() => full.split_at(end),
    _ => (&[], full),
  }
}

/// Whether two namespace texts (or any byte strings) are equal. Two
/// empty ones (the default namespace) are told equal without comparing
/// memory: an empty slice's pointer is dangling, and glibc's AVX-512
/// `memcmp`, called for zero bytes at such an address, makes a masked load
/// the CPU fault-suppresses in microcode, which measured here 100–300 ns
/// per comparison (most of a read from the shared segment).
pub fn same(a: &[u8], b: &[u8]) -> bool {
  a.len() == b.len() && (a.is_empty() || a == b)
}

/// A key's text decoded (for pattern matching). A key JSON cannot decode
/// (one holding a lone surrogate) is taken as its text without the quotes.
pub fn text(key: &[u8]) -> String {
  serde_json::from_slice::<String>(key)
    .unwrap_or_else(|_| String::from_utf8_lossy(&key[1..key.len().saturating_sub(1)]).into_owned())
}

/// The length of the JSON string text at the start of `text`, if it starts with one.
fn string_end(text: &[u8]) -> Option<usize> {
  if text.first() != Some(&b'"') {
    return None;
  }
  let mut i = 1;
  while i < text.len() {
    match text[i] {
      b'\\' => i += 2,
      b'"' => return Some(i + 1),
      _ => i += 1,
    }
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn default_namespace_keys_are_kept_as_sent() {
    assert!(matches!(qualify(b"", br#""k""#), Cow::Borrowed(_)));
    assert_eq!(split(br#""k""#), (&b""[..], &br#""k""#[..]));
  }

  #[test]
  fn sameness_of_namespaces() {
    assert!(same(b"", &Vec::new()));
    assert!(same(br#""n""#, br#""n""#));
    assert!(!same(b"", br#""n""#));
    assert!(!same(br#""m""#, br#""n""#));
  }

  #[test]
  fn namespaced_keys_split_back() {
    let full = qualify(br#""a\"b""#, br#""k\\""#);
    assert_eq!(&*full, br#""a\"b""k\\""#);
    assert_eq!(split(&full), (&br#""a\"b""#[..], &br#""k\\""#[..]));
    // A default key that looks like a namespace name is still a default key.
    assert_eq!(split(br#""a""#).0, b"");
  }
}
