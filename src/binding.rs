//! The napi layer: converts values and maps errors, nothing else.
// `cargo test` builds no napi registrations, so the exports look unused there.
#![cfg_attr(test, allow(dead_code))]

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use crate::protocol;
use crate::socket::client::{SocketClient, SyncError};
use crate::socket::server;
use crate::store::{Store, StoreConfig, DEFAULT_MAX_VALUE_BYTES};
use crate::sweeper::Sweeper;

/// How a store is bounded. Every field is optional.
#[napi(object)]
pub struct StoreOptions {
  /// Evict least recently used entries beyond this many.
  pub max_entries: Option<u32>,
  /// Remove entries not used for this many milliseconds.
  pub idle_expiry_ms: Option<f64>,
  /// Refuse values whose encoding is longer than this many bytes.
  pub max_value_bytes: Option<u32>,
  /// Evict least recently used entries while keys and values take more bytes than this.
  pub max_bytes: Option<f64>,
}

/// Counters of a store (see `Stats` in the Rust core).
#[napi(object)]
pub struct StoreStats {
  pub entries: f64,
  pub bytes: f64,
  pub hits: f64,
  pub misses: f64,
  pub sets: f64,
  pub deletes: f64,
  pub expirations: f64,
  pub evictions: f64,
}

/// How often expired entries are looked for in the background.
const SWEEP_INTERVAL: Duration = Duration::from_millis(100);

/// A store living in this process.
#[napi]
pub struct NativeStore {
  store: Arc<Store>,
  _sweeper: Sweeper,
}

#[napi]
impl NativeStore {
  #[napi(constructor)]
  pub fn new(options: Option<StoreOptions>) -> Result<Self> {
    let options = options.unwrap_or(StoreOptions {
      max_entries: None,
      idle_expiry_ms: None,
      max_value_bytes: None,
      max_bytes: None,
    });
    let idle_expiry = match options.idle_expiry_ms {
      Some(ms) if !(ms.is_finite() && ms > 0.0) => {
        return Err(Error::new(
          Status::InvalidArg,
          "idleExpiryMs must be a positive number",
        ))
      }
      ms => ms.map(|ms| Duration::from_secs_f64(ms / 1000.0)),
    };
    let max_bytes = match options.max_bytes {
      Some(n) if !(n.is_finite() && n >= 1.0) => {
        return Err(Error::new(
          Status::InvalidArg,
          "maxBytes must be a positive number",
        ))
      }
      n => n.map(|n| n as usize),
    };
    let config = StoreConfig {
      max_entries: options.max_entries.map(|n| n as usize),
      max_bytes,
      idle_expiry,
      max_value_bytes: options
        .max_value_bytes
        .map_or(DEFAULT_MAX_VALUE_BYTES, |n| n as usize),
    };
    let store = Arc::new(Store::new(config));
    // TTLs can be given to any key, so the sweeper always runs: every 100 ms,
    // or a few times per idle period when that is shorter.
    let interval = idle_expiry.map_or(SWEEP_INTERVAL, |idle| {
      (idle / 4).clamp(Duration::from_millis(10), SWEEP_INTERVAL)
    });
    let sweeper = Sweeper::start(&store, interval)
      .map_err(|err| Error::from_reason(format!("cannot start the expiry thread: {err}")))?;
    Ok(NativeStore {
      store,
      _sweeper: sweeper,
    })
  }

  /// Applies a request batch and answers the reply batch (see `protocol`).
  #[napi(catch_unwind)]
  pub fn apply_batch(&self, batch: String) -> String {
    protocol::apply_batch(&self.store, &batch)
  }

  /// Serves this store on the local socket `name` to clients presenting `token`.
  #[napi]
  pub fn serve_socket(&self, name: String, token: String) -> Result<()> {
    server::serve(self.store.clone(), &name, token.as_bytes())
      .map_err(|err| Error::from_reason(format!("cannot serve the socket {name}: {err}")))
  }

  #[napi]
  pub fn stats(&self) -> StoreStats {
    let s = self.store.stats();
    StoreStats {
      entries: s.entries as f64,
      bytes: s.bytes as f64,
      hits: s.hits as f64,
      misses: s.misses as f64,
      sets: s.sets as f64,
      deletes: s.deletes as f64,
      expirations: s.expirations as f64,
      evictions: s.evictions as f64,
    }
  }
}

/// Answers every request of a batch with the same error.
#[napi(catch_unwind)]
pub fn fail_batch(batch: String, code: String, message: String) -> String {
  protocol::fail_batch(&batch, &code, &message)
}

/// A connection to a store served on a local socket.
#[napi]
pub struct NativeClient {
  client: SocketClient,
}

#[napi]
impl NativeClient {
  /// Connects to the socket `name` with `token`. `onReplies` is called with
  /// each reply batch of `send`, and with `null` once the connection closes.
  #[napi(constructor)]
  pub fn new(
    name: String,
    token: String,
    send_timeout_ms: f64,
    on_replies: Function<'_, Option<String>, ()>,
  ) -> Result<Self> {
    let on_replies = on_replies
      .build_threadsafe_function()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    let send_timeout = Duration::from_secs_f64(send_timeout_ms.max(1.0) / 1000.0);
    let client = SocketClient::connect(&name, token.as_bytes(), send_timeout, move |reply| {
      on_replies.call(reply, ThreadsafeFunctionCallMode::NonBlocking);
    })
    .map_err(|err| Error::from_reason(format!("cannot connect to {name}: {err}")))?;
    Ok(NativeClient { client })
  }

  /// Sends a batch; answers false when the connection is broken.
  #[napi]
  pub fn send(&self, batch: String) -> bool {
    self.client.send(batch.as_bytes()).is_ok()
  }

  /// Sends a batch and blocks until its reply batch arrives. On timeout or a
  /// closed connection every request of the batch is answered with an error.
  #[napi(catch_unwind)]
  pub fn request(&self, batch: String, timeout_ms: f64) -> String {
    let timeout = Duration::from_secs_f64(timeout_ms.max(0.0) / 1000.0);
    match self.client.request(batch.as_bytes(), timeout) {
      Ok(reply) => reply,
      Err(SyncError::Timeout) => protocol::fail_batch(
        &batch,
        "ERR_TIMEOUT",
        &format!("no reply within {timeout_ms} ms (the timeout option)"),
      ),
      Err(SyncError::Closed) => protocol::fail_batch(
        &batch,
        "ERR_HOST_EXITED",
        "the socket to the process serving the store is closed",
      ),
    }
  }
}
