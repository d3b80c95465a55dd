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
  /// An increment whose result would be beyond ±(2^53 − 1), where numbers stop being exact integers.
  UnsafeInteger,
  /// A key (or namespace name) Redis cannot hold as text: it has a lone surrogate.
  UnstorableKey,
  /// The Redis server cannot be reached (refused, closed, or reconnecting).
  RedisUnavailable(String),
  /// Redis did not answer within the `timeout` option.
  Timeout(String),
  /// Redis answered with an error this package does not expect (WRONGTYPE, NOAUTH, OOM...).
  Redis(String),
  /// The server does not send the keyspace notifications `watch` needs.
  NotificationsDisabled(String),
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
      StoreError::UnsafeInteger => "ERR_NOT_A_NUMBER",
      StoreError::UnstorableKey => "ERR_INVALID_KEY",
      StoreError::RedisUnavailable(_) => "ERR_REDIS_UNAVAILABLE",
      StoreError::Timeout(_) => "ERR_TIMEOUT",
      StoreError::Redis(_) => "ERR_REDIS",
      StoreError::NotificationsDisabled(_) => "ERR_REDIS_NOTIFICATIONS",
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
      StoreError::UnsafeInteger => write!(
        f,
        "the result would be beyond ±(2^53 − 1), where numbers stop being exact integers; the value was left as it was"
      ),
      StoreError::UnstorableKey => write!(
        f,
        "the key or namespace name holds a lone surrogate, which Redis cannot store as text"
      ),
      StoreError::RedisUnavailable(msg) => write!(f, "the Redis server cannot be reached: {msg}"),
      StoreError::Timeout(msg) => write!(f, "no reply within the timeout: {msg}"),
      StoreError::Redis(msg) => write!(f, "Redis answered with an error: {msg}"),
      StoreError::NotificationsDisabled(msg) => write!(f, "{msg}"),
      StoreError::HandedOver => write!(
        f,
        "the host is handing the store over (it closes or exits; its last snapshot is written) and did not apply this request"
      ),
    }
  }
}

impl std::error::Error for StoreError {}
