//! Which keys have a TTL, ordered by when they run out, so expired keys are
//! found without scanning the table.

use std::collections::BTreeSet;

/// Pairs of (deadline in store milliseconds, stored key). Every key with a
/// TTL is here exactly once, under its current deadline.
#[derive(Default)]
pub struct Deadlines {
  due: BTreeSet<(u64, Box<[u8]>)>,
}

impl Deadlines {
  pub fn insert(&mut self, at: u64, key: &[u8]) {
    self.due.insert((at, key.into()));
  }

  pub fn remove(&mut self, at: u64, key: &[u8]) {
    // BTreeSet looks tuples up by value, so the key is copied once here;
    // TTL changes are rare next to reads.
    self.due.remove(&(at, Box::from(key)));
  }

  /// Takes out the key with the earliest deadline if it is at or before `now`.
  pub fn pop_due(&mut self, now: u64) -> Option<Box<[u8]>> {
    match self.due.first() {
      Some((at, _)) if *at <= now => self.due.pop_first().map(|(_, key)| key),
      _ => None,
    }
  }

  #[cfg(test)]
  pub fn len(&self) -> usize {
    self.due.len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn pops_in_deadline_order_only_when_due() {
    let mut d = Deadlines::default();
    d.insert(30, b"c");
    d.insert(10, b"a");
    d.insert(20, b"b");
    d.remove(20, b"b");
    assert_eq!(d.pop_due(5), None);
    assert_eq!(d.pop_due(30).as_deref(), Some(&b"a"[..]));
    assert_eq!(d.pop_due(29), None);
    assert_eq!(d.pop_due(30).as_deref(), Some(&b"c"[..]));
    assert_eq!(d.len(), 0);
  }
}
