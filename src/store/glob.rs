//! Glob patterns as Redis's KEYS reads them: `*` any run of characters,
//! `?` one character, `[abc]`, `[a-z]` and `[^abc]` one character of (or not
//! of) a set, and `\` to take the next character literally.

pub struct Glob {
  pattern: Vec<char>,
}

impl Glob {
  pub fn new(pattern: &str) -> Self {
    Glob {
      pattern: pattern.chars().collect(),
    }
  }

  pub fn matches(&self, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    matches_at(&self.pattern, &text)
  }
}

/// Matches with one remembered `*` to fall back to, which is enough: a later
/// `*` can always absorb what an earlier one would have.
fn matches_at(pattern: &[char], text: &[char]) -> bool {
  let (mut p, mut t) = (0, 0);
  let mut star: Option<(usize, usize)> = None;
  while t < text.len() {
    let step = match pattern.get(p) {
      Some('*') => {
        star = Some((p + 1, t));
        p += 1;
        continue;
      }
      Some('?') => Some(1),
      Some('[') => class(&pattern[p..], text[t]),
      Some('\\') if p + 1 < pattern.len() => (pattern[p + 1] == text[t]).then_some(2),
      Some(&c) => (c == text[t]).then_some(1),
      None => None,
    };
    match step {
      Some(len) => {
        p += len;
        t += 1;
      }
      None => match star {
        // Let the last `*` take one more character and try again.
        Some((after, from)) => {
          p = after;
          t = from + 1;
          star = Some((after, from + 1));
        }
        None => return false,
      },
    }
  }
  pattern[p..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class at the start of `pattern` (which begins
/// with `[`); answers the class's length in the pattern when it matches. An
/// unclosed class runs to the end of the pattern, as in Redis.
fn class(pattern: &[char], c: char) -> Option<usize> {
  let mut i = 1;
  let negate = pattern.get(i) == Some(&'^');
  if negate {
    i += 1;
  }
  let mut found = false;
  while i < pattern.len() && pattern[i] != ']' {
    if pattern[i] == '\\' && i + 1 < pattern.len() {
      found |= pattern[i + 1] == c;
      i += 2;
    } else if i + 2 < pattern.len() && pattern[i + 1] == '-' && pattern[i + 2] != ']' {
      let (lo, hi) = if pattern[i] <= pattern[i + 2] {
        (pattern[i], pattern[i + 2])
      } else {
        (pattern[i + 2], pattern[i])
      };
      found |= lo <= c && c <= hi;
      i += 3;
    } else {
      found |= pattern[i] == c;
      i += 1;
    }
  }
  let len = (i + 1).min(pattern.len());
  (found != negate).then_some(len)
}

#[cfg(test)]
mod tests {
  use super::Glob;

  fn m(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).matches(text)
  }

  #[test]
  fn stars_and_questions() {
    assert!(m("*", ""));
    assert!(m("*", "anything"));
    assert!(m("user:*", "user:1"));
    assert!(!m("user:*", "job:1"));
    assert!(m("h?llo", "hello"));
    assert!(!m("h?llo", "hllo"));
    assert!(m("*a*b*", "xxaxxbxx"));
    assert!(!m("*a*b", "xxaxxbxxc"));
    assert!(m("a*b*c", "abbbc"));
  }

  #[test]
  fn classes_and_escapes() {
    assert!(m("h[ae]llo", "hallo"));
    assert!(!m("h[ae]llo", "hillo"));
    assert!(m("h[^e]llo", "hallo"));
    assert!(!m("h[^e]llo", "hello"));
    assert!(m("h[a-b]llo", "hbllo"));
    assert!(m("h[b-a]llo", "hallo"));
    assert!(m(r"a\*b", "a*b"));
    assert!(!m(r"a\*b", "axb"));
    assert!(m(r"[\]]", "]"));
    assert!(m("é?", "éü"));
  }
}
