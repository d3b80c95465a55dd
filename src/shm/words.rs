//! A segment seen as 64-bit words, each touched only through an atomic:
//! no reference to its bytes is ever made, so a write by another process
//! racing with a read is never a data race in Rust's sense.

// The segment's atomics: std's, or under `--cfg loom` loom's, so the
// loom models (src/shm/loom.rs) run the reader's and writer's own code.
#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicU64};
pub use std::sync::atomic::Ordering;
#[cfg(not(loom))]
pub use std::sync::atomic::{fence, AtomicU64};

/// A pause in a reader's wait for a locked slot: a yield of the CPU every
/// 64th time, else a spin hint (under loom, always a yield: its model).
pub fn pause(spins: u32) {
  #[cfg(loom)]
  {
    let _ = spins;
    loom::thread::yield_now();
  }
  #[cfg(not(loom))]
  if spins % 64 == 0 {
    std::thread::yield_now();
  } else {
    std::hint::spin_loop();
  }
}

/// Something that holds a segment's words: a mapping, or (in tests) a
/// plain allocation.
pub trait Region: Send + Sync {
  fn words(&self) -> &[AtomicU64];
}

impl Region for Box<[AtomicU64]> {
  fn words(&self) -> &[AtomicU64] {
    self
  }
}

impl<R: Region + ?Sized> Region for std::sync::Arc<R> {
  fn words(&self) -> &[AtomicU64] {
    (**self).words()
  }
}

/// A zeroed allocation of `n` words.
pub fn zeroed(n: usize) -> Box<[AtomicU64]> {
  (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// Stores `bytes` into the words from `at`, little-endian, zero-padded.
/// The caller has checked that they fit.
pub fn store_bytes(words: &[AtomicU64], at: usize, bytes: &[u8]) {
  for (i, chunk) in bytes.chunks(8).enumerate() {
    let mut word = [0u8; 8];
    word[..chunk.len()].copy_from_slice(chunk);
    words[at + i].store(u64::from_le_bytes(word), Ordering::Relaxed);
  }
}

/// Stores `a` then `b` into the words from `at`, as [`store_bytes`] stores
/// the two one after the other, without joining them first: the word
/// where `a` ends takes the first bytes of `b`, and the rest of `b` starts
/// at a word boundary. The caller has checked that they fit.
pub fn store_pair(words: &[AtomicU64], at: usize, a: &[u8], b: &[u8]) {
  let whole = a.len() / 8 * 8;
  store_bytes(words, at, &a[..whole]);
  let tail = &a[whole..];
  if tail.is_empty() {
    store_bytes(words, at + whole / 8, b);
    return;
  }
  let mut word = [0u8; 8];
  word[..tail.len()].copy_from_slice(tail);
  let (head, rest) = b.split_at(b.len().min(8 - tail.len()));
  word[tail.len()..tail.len() + head.len()].copy_from_slice(head);
  words[at + whole / 8].store(u64::from_le_bytes(word), Ordering::Relaxed);
  store_bytes(words, at + whole / 8 + 1, rest);
}

/// Whether the words from `at` hold `bytes` (as [`store_bytes`] stores
/// them: the last word's padding is not compared); false when they do
/// not fit inside `words`.
pub fn same_bytes(words: &[AtomicU64], at: usize, bytes: &[u8]) -> bool {
  let Some(region) = at
    .checked_add(bytes.len().div_ceil(8))
    .and_then(|end| words.get(at..end))
  else {
    return false;
  };
  // Word against word: no call to memcmp for a few bytes.
  let mut chunks = bytes.chunks_exact(8);
  let whole = region.iter().zip(&mut chunks).all(|(word, chunk)| {
    let chunk: [u8; 8] = chunk.try_into().expect("8 bytes");
    word.load(Ordering::Relaxed) == u64::from_le_bytes(chunk)
  });
  let rest = chunks.remainder();
  whole
    && (rest.is_empty() || {
      let mut last = [0u8; 8];
      last[..rest.len()].copy_from_slice(rest);
      let mask = u64::MAX >> (64 - 8 * rest.len());
      region[region.len() - 1].load(Ordering::Relaxed) & mask == u64::from_le_bytes(last)
    })
}

/// Loads `len` bytes from the words from `at` into `out`; None when they
/// do not fit inside `words`.
pub fn load_bytes(words: &[AtomicU64], at: usize, len: usize, out: &mut Vec<u8>) -> Option<()> {
  let n = len.div_ceil(8);
  let region = words.get(at..at.checked_add(n)?)?;
  out.clear();
  out.reserve(n * 8);
  for word in region {
    out.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
  }
  out.truncate(len);
  Some(())
}
