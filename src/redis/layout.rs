//! Where our data lives in a Redis keyspace: one unambiguous physical key
//! per (namespace, key), under a configurable prefix, and the internal keys
//! (locks, fencing counters) and channel beside them, which no user key can
//! collide with.
//!
//! ```text
//! <prefix>d:<key>                 a key of the default namespace
//! <prefix>n<len>:<name>:<key>     a key of namespace <name> (<len>: its UTF-8 bytes)
//! <prefix>{d}:<key>               the same with the namespace hash tag (Redis Cluster:
//! <prefix>{n<len>:<name>}:<key>   every key of a namespace in one slot)
//! <prefix>!lock:{<segment><key>}  a lock (the hash tag keeps it in its fence's slot)
//! <prefix>!fence:{<segment><key>} its fencing counter, which never expires
//! <prefix>!unlock                 the channel a released lock is announced on
//! ```
//!
//! The length before a namespace name makes `ns('a:b')` with key `c` and
//! `ns('a')` with key `b:c` two keys. Keys and namespace names are stored as their UTF-8
//! text (the store's JSON string text, decoded), so Redis tools show them
//! as they are, and `keys()` patterns can go to `SCAN MATCH`. A prefix may
//! not hold `{` or `}`, so the first hash tag of a key is always ours.

use crate::error::StoreError;

/// The key layout of one store.
#[derive(Debug, Clone)]
pub struct Layout {
  prefix: String,
  /// Wrap the namespace segment in `{}` (the `hashTag: 'namespace'` option).
  tag_namespace: bool,
}

/// A physical key read back: its namespace (JSON text, empty for the
/// default one) and its key (JSON text).
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
  pub ns: Vec<u8>,
  pub key: Vec<u8>,
}

impl Layout {
  pub fn new(prefix: &str, tag_namespace: bool) -> Result<Self, String> {
    if prefix.contains(['{', '}']) {
      return Err(format!(
        "a Redis prefix may not contain '{{' or '}}' (it would change which hash slot keys fall in), got {prefix:?}"
      ));
    }
    Ok(Layout {
      prefix: prefix.to_string(),
      tag_namespace,
    })
  }

  /// Whether every key of a namespace is in one hash slot (`hashTag: 'namespace'`).
  pub fn tags_namespace(&self) -> bool {
    self.tag_namespace
  }

  pub fn prefix(&self) -> &str {
    &self.prefix
  }

  /// The segment of namespace `ns` (its JSON text; empty: the default one).
  pub fn segment(&self, ns: &[u8]) -> Result<String, StoreError> {
    let bare = if ns.is_empty() {
      "d".to_string()
    } else {
      let name = decode(ns)?;
      format!("n{}:{name}", name.len())
    };
    Ok(if self.tag_namespace {
      format!("{{{bare}}}:")
    } else {
      format!("{bare}:")
    })
  }

  /// Everything before the keys of namespace `ns`.
  pub fn namespace_prefix(&self, ns: &[u8]) -> Result<String, StoreError> {
    Ok(format!("{}{}", self.prefix, self.segment(ns)?))
  }

  /// The physical key of `key` (JSON text) in namespace `ns`.
  pub fn key(&self, ns: &[u8], key: &[u8]) -> Result<String, StoreError> {
    Ok(format!("{}{}", self.namespace_prefix(ns)?, decode(key)?))
  }

  /// The lock on `key` in `ns`, and its fencing counter: one hash slot.
  pub fn lock_keys(&self, ns: &[u8], key: &[u8]) -> Result<(String, String), StoreError> {
    let inner = format!("{}{}", self.segment(ns)?, decode(key)?);
    Ok((
      format!("{}!lock:{{{inner}}}", self.prefix),
      format!("{}!fence:{{{inner}}}", self.prefix),
    ))
  }

  /// The channel a released lock's key is published on.
  pub fn unlock_channel(&self) -> String {
    format!("{}!unlock", self.prefix)
  }

  /// A `SCAN MATCH` pattern for every key of every namespace (internal keys excluded by [`Layout::parse`]).
  pub fn all_pattern(&self) -> String {
    format!("{}*", escape_glob(&self.prefix))
  }

  /// A `SCAN MATCH` pattern for the keys of `ns`; with `pattern`, only
  /// when Redis's byte-wise matching agrees with ours (no `?`, no `[`):
  /// otherwise every key of the namespace, for the caller to filter.
  pub fn scan_pattern(&self, ns: &[u8], pattern: Option<&str>) -> Result<String, StoreError> {
    let base = escape_glob(&self.namespace_prefix(ns)?);
    Ok(match pattern {
      Some(p) if !p.contains(['?', '[']) => format!("{base}{p}"),
      _ => format!("{base}*"),
    })
  }

  /// Reads a physical key back; None for what is not one of our user keys.
  pub fn parse(&self, physical: &[u8]) -> Option<Parsed> {
    let text = std::str::from_utf8(physical).ok()?;
    let rest = text.strip_prefix(self.prefix.as_str())?;
    let (open, close) = if self.tag_namespace {
      ("{", "}:")
    } else {
      ("", ":")
    };
    let rest = rest.strip_prefix(open)?;
    let (ns, rest) = if let Some(rest) = rest.strip_prefix('d') {
      (Vec::new(), rest)
    } else {
      let rest = rest.strip_prefix('n')?;
      let colon = rest.find(':')?;
      let len: usize = rest[..colon].parse().ok()?;
      let name = rest.get(colon + 1..colon + 1 + len)?;
      (json(name), &rest[colon + 1 + len..])
    };
    let key = rest.strip_prefix(close)?;
    Some(Parsed { ns, key: json(key) })
  }
}

/// A JSON string's text as the UTF-8 string it holds.
fn decode(text: &[u8]) -> Result<String, StoreError> {
  serde_json::from_slice::<String>(text).map_err(|_| StoreError::UnstorableKey)
}

/// A string as JSON string text.
fn json(text: &str) -> Vec<u8> {
  serde_json::to_vec(text).unwrap_or_default()
}

/// `text` with every glob special character escaped, for `SCAN MATCH`.
pub fn escape_glob(text: &str) -> String {
  let mut out = String::with_capacity(text.len() + 8);
  for c in text.chars() {
    if matches!(c, '*' | '?' | '[' | ']' | '\\') {
      out.push('\\');
    }
    out.push(c);
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  fn layout() -> Layout {
    Layout::new("sm:app:", false).unwrap()
  }

  #[test]
  fn keys_of_namespaces_never_collide() {
    let l = layout();
    assert_eq!(l.key(b"", br#""user:1""#).unwrap(), "sm:app:d:user:1");
    assert_eq!(l.key(br#""a:b""#, br#""c""#).unwrap(), "sm:app:n3:a:b:c");
    assert_eq!(l.key(br#""a""#, br#""b:c""#).unwrap(), "sm:app:n1:a:b:c");
    assert_ne!(
      l.key(br#""a:b""#, br#""c""#).unwrap(),
      l.key(br#""a""#, br#""b:c""#).unwrap()
    );
    // A name's length counts UTF-8 bytes.
    assert_eq!(
      l.key("\"é\"".as_bytes(), br#""k""#).unwrap(),
      "sm:app:n2:é:k"
    );
  }

  #[test]
  fn physical_keys_read_back_to_what_made_them() {
    for tag in [false, true] {
      let l = Layout::new("p*[x]:", tag).unwrap();
      for (ns, key) in [
        (&b""[..], &br#""k""#[..]),
        (br#""a:b""#, br#""c:d""#),
        (br#""sessions""#, br#""""#),
        (br#""x\"y""#, br#""line\nbreak""#),
        (br#""n3:abc""#, br#""d:""#),
      ] {
        let physical = l.key(ns, key).unwrap();
        let parsed = l.parse(physical.as_bytes()).unwrap();
        assert_eq!(
          (parsed.ns.as_slice(), parsed.key.as_slice()),
          (ns, key),
          "{physical}"
        );
      }
      // Internal keys and foreign keys are not user keys.
      let (lock, fence) = l.lock_keys(b"", br#""k""#).unwrap();
      assert_eq!(l.parse(lock.as_bytes()), None);
      assert_eq!(l.parse(fence.as_bytes()), None);
      assert_eq!(l.parse(l.unlock_channel().as_bytes()), None);
      assert_eq!(l.parse(b"other:d:k"), None);
      assert_eq!(l.parse(b"p*[x]:n9:ab:k"), None);
    }
  }

  #[test]
  fn the_hash_tag_holds_the_namespace_or_the_lock() {
    let l = Layout::new("sm:", true).unwrap();
    assert_eq!(l.key(br#""users""#, br#""1""#).unwrap(), "sm:{n5:users}:1");
    assert_eq!(l.key(b"", br#""1""#).unwrap(), "sm:{d}:1");
    let (lock, fence) = l.lock_keys(br#""users""#, br#""job""#).unwrap();
    assert_eq!(lock, "sm:!lock:{{n5:users}:job}");
    assert_eq!(fence, "sm:!fence:{{n5:users}:job}");
    assert!(Layout::new("sm:{x}:", false).is_err());
  }

  #[test]
  fn scan_patterns_escape_the_prefix() {
    let l = Layout::new("a*b?[c]\\:", false).unwrap();
    assert_eq!(l.all_pattern(), "a\\*b\\?\\[c\\]\\\\:*");
    assert_eq!(
      l.scan_pattern(br#""n*""#, Some("user:*")).unwrap(),
      "a\\*b\\?\\[c\\]\\\\:n2:n\\*:user:*"
    );
    // Patterns Redis would match byte by byte are filtered by the caller instead.
    assert_eq!(
      l.scan_pattern(b"", Some("user:?")).unwrap(),
      "a\\*b\\?\\[c\\]\\\\:d:*"
    );
    assert_eq!(
      l.scan_pattern(b"", None).unwrap(),
      "a\\*b\\?\\[c\\]\\\\:d:*"
    );
  }

  #[test]
  fn keys_redis_cannot_hold_as_text_are_refused() {
    // A lone surrogate has no UTF-8 form.
    assert_eq!(
      layout().key(b"", br#""\ud800""#),
      Err(StoreError::UnstorableKey)
    );
  }
}
