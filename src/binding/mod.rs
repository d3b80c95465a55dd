//! The napi layer: converts values and maps errors, nothing else.
// `cargo test` builds no napi registrations, so the exports look unused there.
#![cfg_attr(test, allow(dead_code))]

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use parking_lot::Mutex;

use crate::host::Host;
use crate::peers::{CountedSink, Handoff, Owner, Push};
use crate::protocol;
use crate::shm::writer::Shape;
use crate::snapshot::writer::Plan;
use crate::snapshot::SERIALIZATIONS;
use crate::socket::client::{ForeignServer, SocketClient};
use crate::socket::host_lock::HostLock;
use crate::socket::server::{self, Server};
use crate::store::{StoreConfig, DEFAULT_MAX_VALUE_BYTES};
use crate::sweeper::{self, Sweeper};
use crate::threads;

mod reader;
pub use reader::SharedReader;

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
  /// Also publish the store to a shared segment other local processes can read.
  pub shared_reads: Option<bool>,
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
  /// Bytes of the shared segment's current generation (0: not published).
  pub segment_bytes: f64,
}

/// Where and how often a host writes its snapshots.
#[napi(object)]
pub struct PersistOptions {
  /// The snapshot file.
  pub path: String,
  /// Milliseconds between snapshots (written only when the store changed).
  pub interval_ms: f64,
  /// The store's `serialization` option: 'json' or 'advanced'.
  pub serialization: String,
}

/// What loading the snapshot did, and whether snapshots are written.
#[napi(object)]
pub struct PersistOutcome {
  /// Entries loaded.
  pub restored: u32,
  /// Entries whose TTL had run out: dropped.
  pub expired: u32,
  /// Entries the store refused or that were newer elsewhere (taken over from a dead host).
  pub skipped: u32,
  /// Why the snapshot was not loaded (an error code), if it was not.
  pub code: Option<String>,
  pub message: Option<String>,
  /// Whether this store writes snapshots (not over a file it could not read).
  pub persisting: bool,
}

/// A message the host pushes to a process its JavaScript serves (see `connect`).
#[napi(object)]
pub struct PushMessage {
  /// Who it is for: `localOwner`, or a number `connect()` gave.
  pub owner: u32,
  /// `!` and a reply batch, or `~` and watch events.
  pub message: String,
}

type PushFn = ThreadsafeFunction<PushMessage, (), PushMessage, Status, false, true>;

/// Hands one owner's pushes to the hosting process's JavaScript.
struct ToJs {
  owner: Owner,
  deliver: Arc<PushFn>,
}

impl Handoff for ToJs {
  fn hand(&self, message: Push, taken: Box<dyn FnOnce() + Send>) -> bool {
    let push = PushMessage {
      owner: self.owner as u32,
      message,
    };
    let status = self.deliver.call_with_return_value(
      push,
      ThreadsafeFunctionCallMode::NonBlocking,
      move |_, _| {
        taken();
        Ok(())
      },
    );
    status == Status::Ok
  }
}

/// A store living in this process, with its locks and watches.
#[napi]
pub struct NativeStore {
  host: Arc<Host>,
  deliver: Arc<PushFn>,
  local: Owner,
  /// The socket it is served on, once `serveSocket` or `tryServeSocket`
  /// succeeded, with the lock file held when elected by one.
  server: Mutex<Option<(Server, Option<HostLock>)>>,
  /// None in a thread that joined its process's store (`join`): the
  /// sweeper runs where the store was made.
  _sweeper: Option<Sweeper>,
}

impl NativeStore {
  /// This thread's handle on `host`: an owner of its own, whose pushes go to
  /// `on_push`, and the sweeper when this handle made the store.
  fn owning(
    host: Arc<Host>,
    on_push: Function<'_, PushMessage, ()>,
    sweeper: Option<Sweeper>,
  ) -> Result<Self> {
    let deliver: Arc<PushFn> = Arc::new(
      on_push
        .build_threadsafe_function()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?,
    );
    let local = connect_js(&host, &deliver);
    Ok(NativeStore {
      host,
      deliver,
      local,
      server: Mutex::new(None),
      _sweeper: sweeper,
    })
  }
}

#[napi]
impl NativeStore {
  /// `onPush` gets what the host pushes to this process and to the
  /// processes it serves over IPC (see `connect`).
  #[napi(constructor)]
  pub fn new(
    options: Option<StoreOptions>,
    on_push: Function<'_, PushMessage, ()>,
  ) -> Result<Self> {
    let options = options.unwrap_or(StoreOptions {
      max_entries: None,
      idle_expiry_ms: None,
      max_value_bytes: None,
      max_bytes: None,
      shared_reads: None,
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
    let host = Arc::new(if options.shared_reads == Some(true) {
      Host::with_segment(config, Shape::first())
        .map_err(|err| Error::from_reason(format!("cannot create the shared segment: {err}")))?
    } else {
      Host::new(config)
    });
    let sweeper = Sweeper::start(&host, sweeper::interval_for(idle_expiry))
      .map_err(|err| Error::from_reason(format!("cannot start the expiry thread: {err}")))?;
    NativeStore::owning(host, on_push, Some(sweeper))
  }

  /// The store another thread of this process published under `key`
  /// (`share`), as this thread's: the same store, with an owner of this
  /// thread's own, whose pushes go to `onPush`. Throws when none is.
  #[napi(factory)]
  pub fn join(key: String, on_push: Function<'_, PushMessage, ()>) -> Result<Self> {
    let host = threads::find(&key)
      .and_then(|published| published.host)
      .ok_or_else(|| {
        Error::from_reason(format!("no store of this process is published as {key}"))
      })?;
    NativeStore::owning(host, on_push, None)
  }

  /// Publishes this store under `key` for the other threads of this
  /// process (`join`), with `info` for their JavaScript.
  #[napi]
  pub fn share(&self, key: String, info: String) {
    threads::publish(
      &key,
      threads::Published {
        host: Some(self.host.clone()),
        info,
      },
    );
  }

  /// This process closed the store: later batches of every thread fail
  /// with `ERR_HOST_EXITED`.
  #[napi]
  pub fn retire(&self) {
    self.host.retire();
  }

  /// Whether `retire` was called (by any thread).
  #[napi(getter)]
  pub fn retired(&self) -> bool {
    self.host.is_retired()
  }

  /// Starts the fencing tokens of this store's locks in `epoch` (an
  /// integer below 2^21; see the Rust core's locks module).
  #[napi]
  pub fn set_epoch(&self, epoch: u32) {
    self.host.set_epoch(u64::from(epoch));
  }

  /// The descriptor (in this process) of the read-only shared segment, if
  /// the store is published (see `SharedReader`).
  #[napi(getter)]
  pub fn segment_fd(&self) -> Option<i32> {
    self.host.segment_fd()
  }

  /// Takes every live entry of the segment `reader` maps (a host that died)
  /// into this store; answers how many.
  #[napi]
  pub fn import_from(&self, reader: &SharedReader) -> u32 {
    let reading = reader.reading();
    let Some(following) = reading.following() else {
      return 0;
    };
    self.host.import(following.reader()) as u32
  }

  /// Loads the snapshot (after `importFrom`, if this store takes over from
  /// a dead host: what was taken over is newer) and writes one every
  /// `intervalMs` from then on; `onFailure` gets the message of a periodic
  /// write that failed (once, until one succeeds again).
  #[napi]
  pub fn persist(
    &self,
    options: PersistOptions,
    on_failure: Function<'_, String, ()>,
  ) -> Result<PersistOutcome> {
    let serialization = SERIALIZATIONS
      .iter()
      .position(|name| *name == options.serialization)
      .ok_or_else(|| Error::new(Status::InvalidArg, "unknown serialization"))?;
    if !(options.interval_ms.is_finite() && options.interval_ms > 0.0) {
      return Err(Error::new(
        Status::InvalidArg,
        "intervalMs must be a positive number",
      ));
    }
    let report = on_failure
      .build_threadsafe_function()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    let path = std::path::PathBuf::from(&options.path);
    let shown = options.path.clone();
    let plan = Plan {
      path,
      interval: Duration::from_secs_f64(options.interval_ms / 1000.0),
      serialization: serialization as u8,
    };
    let on_failure = Box::new(move |err: &std::io::Error| {
      let message = format!("cannot write the snapshot {shown}: {err}");
      report.call(message, ThreadsafeFunctionCallMode::NonBlocking);
    });
    let loaded = self
      .host
      .persist(plan, on_failure)
      .map_err(|err| Error::from_reason(format!("cannot start the snapshot thread: {err}")))?;
    Ok(match loaded {
      Ok(done) => PersistOutcome {
        restored: done.restored as u32,
        expired: done.expired as u32,
        skipped: done.skipped as u32,
        code: None,
        message: None,
        persisting: true,
      },
      Err(err) => PersistOutcome {
        restored: 0,
        expired: 0,
        skipped: 0,
        code: Some(err.code().into()),
        message: Some(err.to_string()),
        persisting: err.may_write(),
      },
    })
  }

  /// Hands the store over: nothing more is applied, and the last snapshot
  /// is written now, on this thread. Answers null when written (or when
  /// this store does not persist), else why it could not be.
  #[napi]
  pub fn hand_over(&self) -> Option<String> {
    match self.host.hand_over() {
      Some(Err(err)) => Some(format!("cannot write the last snapshot: {err}")),
      _ => None,
    }
  }

  /// The owner number of this process's own requests.
  #[napi(getter)]
  pub fn local_owner(&self) -> u32 {
    self.local as u32
  }

  /// Registers a process this one serves over IPC; its locks and watches
  /// are its own, and its pushes go to `onPush` with the number answered.
  #[napi]
  pub fn connect(&self) -> u32 {
    connect_js(&self.host, &self.deliver) as u32
  }

  /// A process registered with `connect` went away: its locks pass on, its watches end.
  #[napi]
  pub fn disconnect(&self, owner: u32) {
    self.host.disconnect(owner as Owner);
  }

  /// Applies a request batch from `owner` (default: this process) and
  /// answers the reply batch (see `protocol`).
  #[napi(catch_unwind)]
  pub fn apply_batch(&self, batch: String, owner: Option<u32>) -> String {
    let owner = owner.map_or(self.local, |owner| owner as Owner);
    self.host.apply(owner, &batch)
  }

  /// Serves this store on the local socket `name` to clients presenting `token`.
  #[napi]
  pub fn serve_socket(&self, name: String, token: String) -> Result<()> {
    match self.try_serve_socket(name.clone(), token, None)? {
      true => Ok(()),
      false => Err(Error::from_reason(format!(
        "cannot serve the socket {name}: the name is in use"
      ))),
    }
  }

  /// Serves this store on the local socket `name`, as `serveSocket`, but
  /// answers false instead of failing when another socket holds the name
  /// (how a host is elected: whoever binds the name hosts). With
  /// `lockFile`, the election is by that file's lock instead, and `name`
  /// is the path of a socket file: false when another process holds the
  /// lock. Throws if this store is served already, or on any other failure.
  #[napi]
  pub fn try_serve_socket(
    &self,
    name: String,
    token: String,
    lock_file: Option<String>,
  ) -> Result<bool> {
    let mut slot = self.server.lock();
    if slot.is_some() {
      return Err(Error::from_reason(
        "this store is served on a socket already",
      ));
    }
    let lock = match lock_file {
      None => None,
      Some(path) => {
        let taken = HostLock::try_take(&path)
          .map_err(|err| Error::from_reason(format!("cannot lock {path}: {err}")))?;
        let Some(mut lock) = taken else {
          return Ok(false);
        };
        lock.claim_socket(&name).map_err(|err| {
          Error::from_reason(format!("cannot remove the stale socket {name}: {err}"))
        })?;
        Some(lock)
      }
    };
    match server::serve(self.host.clone(), &name, token.as_bytes()) {
      Ok(serving) => {
        *slot = Some((serving, lock));
        Ok(true)
      }
      Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => Ok(false),
      Err(err) => Err(Error::from_reason(format!(
        "cannot serve the socket {name}: {err}"
      ))),
    }
  }

  /// Stops serving the socket: its name is free when this returns, and
  /// every connected process is disconnected. Does nothing if not served.
  #[napi]
  pub fn stop_serving(&self) {
    if let Some((mut serving, lock)) = self.server.lock().take() {
      serving.stop();
      drop(lock); // the socket file goes, then the lock
    }
  }

  #[napi]
  pub fn stats(&self) -> StoreStats {
    let s = self.host.store().stats();
    StoreStats {
      entries: s.entries as f64,
      bytes: s.bytes as f64,
      hits: s.hits as f64,
      misses: s.misses as f64,
      sets: s.sets as f64,
      deletes: s.deletes as f64,
      expirations: s.expirations as f64,
      evictions: s.evictions as f64,
      segment_bytes: self.host.segment_bytes() as f64,
    }
  }
}

impl Drop for NativeStore {
  /// Collected (its thread ended, a Worker terminated): it stops serving,
  /// and a thread's owner goes, so its locks pass on and its watches end.
  fn drop(&mut self) {
    self.stop_serving();
    if self._sweeper.is_none() {
      self.host.disconnect(self.local);
    }
  }
}

/// Publishes `info` under `key` for the other threads of this process, with
/// no store (a process that reaches its store elsewhere: how to reach it).
#[napi]
pub fn publish_process_info(key: String, info: String) {
  threads::publish(&key, threads::Published { host: None, info });
}

/// What a thread of this process published under `key`: its `info`, and
/// whether a store to `join` is there. Null when nothing is.
#[napi]
pub fn process_info(key: String) -> Option<ProcessInfo> {
  threads::find(&key).map(|published| ProcessInfo {
    info: published.info,
    hosted: published.host.is_some(),
  })
}

/// Removes what is published under `key`.
#[napi]
pub fn withdraw_process_info(key: String) {
  threads::withdraw(&key);
}

/// What `processInfo` answers.
#[napi(object)]
pub struct ProcessInfo {
  pub info: String,
  /// Whether the process hosts the store there (`NativeStore.join` works).
  pub hosted: bool,
}

/// Connects a new owner whose pushes go to JavaScript, tagged with its number.
fn connect_js(host: &Host, deliver: &Arc<PushFn>) -> Owner {
  host.connect(|owner| {
    Arc::new(CountedSink::new(ToJs {
      owner,
      deliver: deliver.clone(),
    }))
  })
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
    .map_err(|err| match ForeignServer::of(&err) {
      // The code leads the message, so JavaScript can tell this failure
      // (final) from the others (the election retries them).
      Some(foreign) => Error::from_reason(format!("ERR_NAME_TAKEN: {name}: {foreign}")),
      None => Error::from_reason(format!("cannot connect to {name}: {err}")),
    })?;
    Ok(NativeClient { client })
  }

  /// Closes the connection: `onReplies` then gets `null`, and later sends
  /// answer false.
  #[napi]
  pub fn close(&self) {
    self.client.close();
  }

  /// Batches sent (with `send` or `request`) and not answered yet.
  #[napi(getter)]
  pub fn unanswered(&self) -> f64 {
    self.client.unanswered() as f64
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
      Err(err) => protocol::fail_batch(&batch, err.code(), &err.message(timeout)),
    }
  }
}

/// What `new NativeRedis()` takes (see `RedisConfig` in the Rust core).
#[napi(object)]
pub struct RedisOptions {
  pub url: String,
  pub prefix: String,
  pub hash_tag_namespace: bool,
  pub sliding_ms: Option<f64>,
  pub timeout_ms: f64,
  pub connect_timeout_ms: f64,
  pub configure_notifications: bool,
  pub near_tracking: bool,
  pub cluster: bool,
}

/// A process's client of a Redis store: the same batches as `NativeClient`.
#[napi]
pub struct NativeRedis {
  client: crate::redis::RedisClient,
}

#[napi]
impl NativeRedis {
  /// `onMessage` gets each reply batch, each push (`!`, `~`) and each
  /// answer to `ping()` (`?ok` or `?CODE message`).
  #[napi(constructor)]
  pub fn new(options: RedisOptions, on_message: Function<'_, String, ()>) -> Result<Self> {
    let on_message = on_message
      .build_threadsafe_function()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    let ms = |ms: f64| Duration::from_secs_f64(ms.max(1.0) / 1000.0);
    let config = crate::redis::RedisConfig {
      url: options.url,
      prefix: options.prefix,
      tag_namespace: options.hash_tag_namespace,
      sliding: options.sliding_ms.map(|ms| ms.ceil().max(1.0) as u64),
      timeout: ms(options.timeout_ms),
      connect_timeout: ms(options.connect_timeout_ms),
      configure_notifications: options.configure_notifications,
      near_tracking: options.near_tracking,
      cluster: options.cluster,
    };
    let out: crate::redis::job::Output = Arc::new(move |message: String| {
      on_message.call(message, ThreadsafeFunctionCallMode::NonBlocking);
    });
    let client = crate::redis::RedisClient::start(config, out).map_err(Error::from_reason)?;
    Ok(NativeRedis { client })
  }

  /// Queues a batch; false once closed.
  #[napi]
  pub fn send(&self, batch: String) -> bool {
    self.client.send(batch)
  }

  /// Applies a batch after everything sent before it, blocking for the round trip.
  #[napi(catch_unwind)]
  pub fn request(&self, batch: String, timeout_ms: f64) -> String {
    let timeout = Duration::from_secs_f64(timeout_ms.max(1.0) / 1000.0);
    self.client.request(&batch, timeout)
  }

  /// Connects if not yet; the answer comes to `onMessage` as `?ok` or `?CODE message`.
  #[napi]
  pub fn ping(&self) {
    self.client.ping();
  }

  #[napi]
  pub fn close(&self) {
    self.client.close();
  }
}
