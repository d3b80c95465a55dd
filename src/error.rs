//! Errors the store reports for a single request.
//!
//! Each variant has a stable `code` that reaches JavaScript unchanged as
//! `SharedMemoryError#code`, so callers can branch on it.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
  /// The key is not a JSON string literal (only a broken or foreign client sends that).
  InvalidKey,
  /// The encoded key is longer than [`crate::store::MAX_KEY_BYTES`].
  KeyTooLarge { size: usize, limit: usize },
  /// The encoded value is longer than the store's `max_value_bytes`.
  ValueTooLarge { size: usize, limit: usize },
  /// An increment met a stored value that is not a number, or produced a non-finite one.
  NotANumber,
  /// A lock was not acquired within the wait its request allowed; carries the lock's key text.
  LockTimeout(String),
  /// A request the protocol does not understand.
  Protocol(String),
  /// A request of a batch that could not be read at all (its id, when it has one).
  Unparsed { id: Option<u64>, reason: String },
  /// The host has handed the store over (its last snapshot is written) and
  /// applies nothing more: the request was not applied.
  HandedOver,
}

impl StoreError {
  pub fn code(&self) -> &'static str {
    match self {
      StoreError::InvalidKey => "ERR_INVALID_KEY",
      StoreError::KeyTooLarge { .. } => "ERR_KEY_TOO_LARGE",
      StoreError::ValueTooLarge { .. } => "ERR_VALUE_TOO_LARGE",
      StoreError::NotANumber => "ERR_NOT_A_NUMBER",
      StoreError::LockTimeout(_) => "ERR_LOCK_TIMEOUT",
      StoreError::Protocol(_) | StoreError::Unparsed { .. } => "ERR_PROTOCOL",
      StoreError::HandedOver => "ERR_HOST_EXITED",
    }
  }
}

impl fmt::Display for StoreError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      StoreError::InvalidKey => write!(f, "the key must be a string"),
      StoreError::KeyTooLarge { size, limit } => {
        write!(f, "the key takes {size} bytes encoded; the limit is {limit}")
      }
      StoreError::ValueTooLarge { size, limit } => write!(
        f,
        "the value takes {size} bytes encoded; the limit is {limit} (the maxValueSize option, or cache.maxBytes less the key's size)"
      ),
      StoreError::NotANumber => write!(
        f,
        "the stored value is not a number, or the result would not be a finite number; it was left as it was"
      ),
      StoreError::LockTimeout(key) => write!(
        f,
        "the lock {key} is held by another process and was not released within the wait (the lock's wait option)"
      ),
      StoreError::Protocol(msg) | StoreError::Unparsed { reason: msg, .. } => write!(f, "malformed request: {msg}"),
      StoreError::HandedOver => write!(
        f,
        "the host is handing the store over (it closes or exits; its last snapshot is written) and did not apply this request"
      ),
    }
  }
}

impl std::error::Error for StoreError {}
