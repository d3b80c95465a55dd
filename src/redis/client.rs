//! A process's client of a Redis store: one I/O thread that owns the
//! connection and applies batches (the same batch text every transport
//! carries, [`crate::protocol`]) in the order they were sent, pipelining
//! the operations of a batch; sync calls go through the same queue, so they
//! come after every batch sent before them. The thread also keeps this
//! process's lock waiters, retried when the subscriber ([`super::events`])
//! hears a release, or when the holder's lease would have run out.

use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis::{Client, ConnectionLike, Value};

use super::events::{Setup, Subscriber};
use super::layout::Layout;
use super::link::{connect, map_error, node_info, Conn, Link};
use super::plan::{self, Count, Mapping, Pipe, Step};
use super::script;
use super::RedisConfig;
use crate::error::StoreError;
use crate::op::{Op, Reply};
use crate::protocol::{self, Parsed, Replies, Unreadable};
use crate::store::{Counters, Glob, Stats};

/// What the client hands to JavaScript: reply batches, pushes (`!` a lock
/// granted later, `~` watch events), and `?` answers to [`RedisClient::ping`].
pub type Output = Arc<dyn Fn(String) + Send + Sync>;

pub(super) enum Job {
  Batch(String),
  Sync(String, mpsc::SyncSender<String>),
  Ping,
  /// A lock was released (its physical key): its waiters try again.
  Released(Vec<u8>),
  /// The subscriber (re)subscribed: every waiter tries again (a release may have gone unheard).
  Resubscribed,
  Close,
}

pub struct RedisClient {
  jobs: Sender<Job>,
  timeout: Duration,
  subscriber: Arc<Subscriber>,
}

/// Queued batches are merged into one pipeline up to this many bytes.
const MERGE_BYTES: usize = 1 << 20;

/// How many keys one SCAN call asks for.
const SCAN_COUNT: usize = 1000;
/// A lock waiter whose attempt failed for want of Redis tries again this much later.
const LOCK_RETRY: Duration = Duration::from_millis(100);

impl RedisClient {
  /// Starts the client's threads; connecting happens on the first request
  /// (or [`RedisClient::ping`]). Fails only on a config it cannot use.
  pub fn start(config: RedisConfig, out: Output) -> Result<Self, String> {
    let client = Client::open(config.url.as_str())
      .map_err(|err| format!("the Redis URL cannot be used: {err}"))?;
    let layout = Layout::new(&config.prefix, config.tag_namespace)?;
    let db = client.get_connection_info().redis_settings().db();
    let (jobs, queue) = mpsc::channel();
    let setup = Setup {
      client: client.clone(),
      layout: layout.clone(),
      db,
      timeout: config.timeout,
      connect_timeout: config.connect_timeout,
      near: config.near_tracking,
    };
    let subscriber = Subscriber::start(setup, jobs.clone(), out.clone());
    let mut link = Link::new(
      client,
      config.cluster,
      config.timeout,
      config.connect_timeout,
    )?;
    if config.near_tracking {
      let sub = subscriber.clone();
      link.redirect = Some(Arc::new(move || sub.client_id()));
    }
    let worker = Worker {
      link,
      mapping: Mapping {
        layout,
        sliding: config.sliding,
        cluster: config.cluster,
      },
      counters: Counters::default(),
      waiters: Vec::new(),
      owner: owner_id(),
      out,
      subscriber: subscriber.clone(),
      configure_notifications: config.configure_notifications,
      timeout: config.timeout,
      near: config.near_tracking,
      announced: (0, None, false),
      node_subscribers: Vec::new(),
      jobs: jobs.clone(),
    };
    thread::Builder::new()
      .name("sharedmemory-redis".into())
      .spawn(move || worker.run(queue))
      .map_err(|err| format!("cannot start the Redis thread: {err}"))?;
    Ok(RedisClient {
      jobs,
      timeout: config.timeout,
      subscriber,
    })
  }

  /// Queues a batch; its reply batch goes to the output. False once closed.
  pub fn send(&self, batch: String) -> bool {
    self.jobs.send(Job::Batch(batch)).is_ok()
  }

  /// Applies a batch after everything sent before it and answers its reply
  /// batch, blocking the calling thread for the round trip.
  pub fn request(&self, batch: &str, timeout: Duration) -> String {
    let (tx, rx) = mpsc::sync_channel(1);
    if self.jobs.send(Job::Sync(batch.to_string(), tx)).is_err() {
      return protocol::fail_batch(batch, "ERR_CLOSED", "close() was called in this process");
    }
    // The thread bounds each Redis round trip by the timeout; this bounds
    // the wait behind the batches queued before this one as well.
    match rx.recv_timeout(timeout.max(self.timeout) * 2) {
      Ok(replies) => replies,
      Err(_) => protocol::fail_batch(
        batch,
        "ERR_TIMEOUT",
        "no reply within the timeout: the Redis client thread is busy or the server does not answer",
      ),
    }
  }

  /// Connects (if not yet) and answers `?ok`, or `?CODE message`, on the output.
  pub fn ping(&self) {
    let _ = self.jobs.send(Job::Ping);
  }

  /// Ends both threads; later sends answer false.
  pub fn close(&self) {
    self.subscriber.stop();
    let _ = self.jobs.send(Job::Close);
  }
}

impl Drop for RedisClient {
  /// A client dropped without close() (its JavaScript object collected)
  /// ends its threads too: the subscriber holds a sender of the queue, so
  /// the I/O thread would otherwise wait on it for ever.
  fn drop(&mut self) {
    self.close();
  }
}

struct Waiter {
  id: u64,
  lock: String,
  fence: String,
  key_text: String,
  lease_ms: u64,
  deadline: Option<Instant>,
  retry_at: Instant,
}

struct Worker {
  link: Link,
  mapping: Mapping,
  counters: Counters,
  waiters: Vec<Waiter>,
  owner: String,
  out: Output,
  subscriber: Arc<Subscriber>,
  configure_notifications: bool,
  timeout: Duration,
  /// The near-cache is on (see [`Worker::announce`]).
  near: bool,
  /// The connection count, tracking id and whether up, as last announced.
  announced: (u64, Option<i64>, bool),
  /// On a cluster, once watched: a subscriber per primary for its keyspace notifications.
  node_subscribers: Vec<Arc<Subscriber>>,
  /// For the node subscribers.
  jobs: Sender<Job>,
}

/// A request of a batch, waiting for its pipeline to be sent.
enum Queued {
  Pipe(u64, Vec<u8>, Pipe),
  Failed(u64, StoreError),
  Unreadable(Unreadable),
}

impl Worker {
  fn run(mut self, queue: Receiver<Job>) {
    let mut held: Option<Job> = None;
    loop {
      let job = match held.take() {
        Some(job) => Ok(job),
        None => match self.next_due() {
          None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
          Some(at) => queue.recv_timeout(at.saturating_duration_since(Instant::now())),
        },
      };
      match job {
        Ok(Job::Batch(mut batch)) => {
          // Batches that queued up while Redis answered the last one go
          // together, as one pipeline (replies are matched by id).
          while batch.len() < MERGE_BYTES {
            match queue.try_recv() {
              Ok(Job::Batch(more)) => merge(&mut batch, &more),
              Ok(other) => {
                held = Some(other);
                break;
              }
              Err(_) => break,
            }
          }
          let replies = self.apply(&batch);
          self.announce();
          (self.out)(replies);
        }
        Ok(Job::Sync(batch, answer)) => {
          let replies = self.apply(&batch);
          self.announce();
          let _ = answer.send(replies);
        }
        Ok(Job::Ping) => {
          let answer = match self.link.get().and_then(|con| {
            redis::cmd("PING")
              .exec(con.like())
              .map_err(|err| plan_error(&err))
          }) {
            Ok(()) => "?ok".to_string(),
            Err(err) => format!("?{} {err}", err.code()),
          };
          (self.out)(answer);
        }
        Ok(Job::Released(lock)) => {
          let now = Instant::now();
          for waiter in self
            .waiters
            .iter_mut()
            .filter(|w| w.lock.as_bytes() == lock.as_slice())
          {
            waiter.retry_at = now;
          }
        }
        Ok(Job::Resubscribed) => {
          if self.near && self.link.is_up() && self.link.tracking != self.subscriber.client_id() {
            // Tracking redirects to the subscriber's old connection: track anew on the next request.
            self
              .link
              .drop_connection("the subscriber connection changed".into());
            self.announce();
          }
          let now = Instant::now();
          for waiter in &mut self.waiters {
            waiter.retry_at = now;
          }
        }
        Ok(Job::Close) | Err(RecvTimeoutError::Disconnected) => {
          for node in &self.node_subscribers {
            node.stop();
          }
          return;
        }
        Err(RecvTimeoutError::Timeout) => {}
      }
      self.serve_waiters();
    }
  }

  /// The near-cache (JavaScript's) may serve only what was read on a
  /// connection whose reads Redis tracks, with invalidations going to the
  /// subscriber's current connection. Whenever this connection changes (a
  /// reconnection, a failure, new tracking), everything cached goes (`#-`)
  /// and, if this connection now tracks, serving resumes (`#+`). Sent before
  /// the replies of the batch that saw the change.
  fn announce(&mut self) {
    if !self.near {
      return;
    }
    let now = (self.link.connections, self.link.tracking, self.link.is_up());
    if now == self.announced {
      return;
    }
    self.announced = now;
    (self.out)("#-".to_string());
    if now.2 {
      self.subscriber.announce_tracking(now.1);
    }
  }

  /// When the next lock waiter must try again (the first of each lock) or give up (any).
  fn next_due(&self) -> Option<Instant> {
    let mut seen: HashSet<&str> = HashSet::new();
    self
      .waiters
      .iter()
      .filter_map(|w| {
        let first = seen.insert(&w.lock);
        match (first, w.deadline) {
          (true, Some(d)) => Some(d.min(w.retry_at)),
          (true, None) => Some(w.retry_at),
          (false, d) => d,
        }
      })
      .min()
  }

  /// Applies a batch and answers its reply batch.
  fn apply(&mut self, batch: &str) -> String {
    let parsed = match protocol::parse_batch(batch) {
      Ok(parsed) => parsed,
      Err(err) => return protocol::batch_error(&err),
    };
    let mut replies = Replies::with_capacity(parsed.len());
    let mut queued = Vec::new();
    for request in parsed {
      match request {
        Parsed::Err(unreadable) => queued.push(Queued::Unreadable(unreadable)),
        Parsed::Ok(request) => match self.mapping.plan(request.ns, request.op) {
          Ok(Step::Pipe(pipe)) => queued.push(Queued::Pipe(request.id, request.ns.to_vec(), pipe)),
          Err(err) => queued.push(Queued::Failed(request.id, err)),
          Ok(Step::Alone(op)) => {
            self.flush(&mut queued, &mut replies);
            let reply = self.alone(request.id, request.ns, op);
            replies.push(request.id, &reply);
          }
        },
      }
    }
    self.flush(&mut queued, &mut replies);
    replies.finish()
  }

  /// Sends the queued pipes as one pipeline and writes their replies in order.
  fn flush(&mut self, queued: &mut Vec<Queued>, replies: &mut Replies) {
    if queued.is_empty() {
      return;
    }
    let mut packed = Vec::new();
    let mut count = 0;
    for item in queued.iter() {
      if let Queued::Pipe(_, _, pipe) = item {
        for cmd in &pipe.cmds {
          cmd.write_packed_command(&mut packed);
          count += 1;
        }
      }
    }
    if count > 0 && matches!(self.link.get(), Ok(Conn::Cluster(_))) {
      return self.flush_each(queued, replies);
    }
    let answers: Result<Vec<Value>, StoreError> = if count == 0 {
      Ok(Vec::new())
    } else {
      match self.link.get() {
        Ok(con) => match con.like().req_packed_commands(&packed, 0, count) {
          Ok(answers) => Ok(answers),
          Err(err) => Err(self.link.broke(&err)),
        },
        Err(err) => Err(err),
      }
    };
    let mut at = 0;
    for item in queued.drain(..) {
      match item {
        Queued::Unreadable(unreadable) => replies.unreadable(&unreadable),
        Queued::Failed(id, err) => replies.push(id, &Reply::Failed(err)),
        Queued::Pipe(id, ns, pipe) => match &answers {
          Err(err) => replies.push(id, &Reply::Failed(err.clone())),
          Ok(answers) => {
            let n = pipe.cmds.len();
            let reply = plan::read(pipe.read, &answers[at..at + n]);
            at += n;
            count_reply(self.counters.of(&ns), pipe.count, &reply);
            replies.push(id, &reply);
          }
        },
      }
    }
  }

  /// In a Redis Cluster: each command on its own, routed to its key's node
  /// (a pipeline goes to one node, and its keys may lie on several).
  fn flush_each(&mut self, queued: &mut Vec<Queued>, replies: &mut Replies) {
    for item in queued.drain(..) {
      match item {
        Queued::Unreadable(unreadable) => replies.unreadable(&unreadable),
        Queued::Failed(id, err) => replies.push(id, &Reply::Failed(err)),
        Queued::Pipe(id, ns, pipe) => {
          let mut answers = Vec::with_capacity(pipe.cmds.len());
          let mut failed = None;
          for cmd in &pipe.cmds {
            match self.query(cmd) {
              Ok(value) => answers.push(value),
              Err(err) => {
                failed = Some(err);
                break;
              }
            }
          }
          let reply = match failed {
            Some(err) => Reply::Failed(err),
            None => plan::read(pipe.read, &answers),
          };
          count_reply(self.counters.of(&ns), pipe.count, &reply);
          replies.push(id, &reply);
        }
      }
    }
  }

  /// Runs an operation that is not one pipeline step.
  fn alone(&mut self, id: u64, ns: &[u8], op: Op<'_>) -> Reply<'static> {
    let result = match op {
      Op::Keys { pattern } => self.keys(ns, pattern.as_deref()).map(Reply::Keys),
      Op::Size => self.scan(ns, None, |_| {}).map(|n| Reply::Int(n as i64)),
      Op::Clear => self.clear(ns).map(|()| Reply::Done),
      Op::Stats => self.stats(),
      Op::Lock { key, lease, wait } => self.lock(id, ns, key, lease, wait),
      Op::Unlock { key, token } => self.release(ns, key, token, None),
      Op::Extend { key, token, lease } => self.release(ns, key, token, Some(lease)),
      Op::Watch {
        pattern,
        subscription,
      } => self.watch(ns, &pattern, subscription).map(|()| Reply::Done),
      Op::Unwatch { subscription } => Ok(Reply::Bool(self.unwatch(subscription))),
      Op::Used { .. } => Ok(Reply::Done),
      _ => Err(StoreError::Protocol(
        "an operation the Redis client does not run alone".into(),
      )),
    };
    result.unwrap_or_else(Reply::Failed)
  }

  /// One command on the connection, its failures as ours.
  fn query(&mut self, cmd: &redis::Cmd) -> Result<Value, StoreError> {
    let con = self.link.get()?;
    match con.query(cmd) {
      Ok(value) => match plan::server_error(&value) {
        Some(err) => Err(err),
        None => Ok(value),
      },
      Err(err) => Err(match err.kind() {
        redis::ErrorKind::Server(_) => plan_error(&err),
        _ => self.link.broke(&err),
      }),
    }
  }

  /// Runs `f` with a connection to every node that holds keys: the one
  /// server, or each primary of a Redis Cluster (a SCAN sees one node's keys).
  fn each_node(
    &mut self,
    mut f: impl FnMut(&mut dyn ConnectionLike) -> Result<(), StoreError>,
  ) -> Result<(), StoreError> {
    if !self.mapping.cluster {
      let con = self.link.get()?;
      let result = f(con.like());
      if let Err(StoreError::RedisUnavailable(why) | StoreError::Timeout(why)) = &result {
        self.link.drop_connection(why.clone());
      }
      return result;
    }
    for client in self.primary_clients()? {
      let mut con =
        connect(&client, self.timeout, self.timeout, &[]).map_err(|err| map_error(&err))?;
      f(&mut con)?;
    }
    Ok(())
  }

  /// A client of each primary of the cluster (`CLUSTER NODES`), with the seed's credentials and TLS.
  fn primary_clients(&mut self) -> Result<Vec<Client>, StoreError> {
    let nodes = match self.query(redis::cmd("CLUSTER").arg("NODES"))? {
      Value::BulkString(text) => String::from_utf8_lossy(&text).into_owned(),
      Value::VerbatimString { text, .. } => text,
      other => {
        return Err(StoreError::Redis(format!(
          "CLUSTER NODES answered {other:?}"
        )))
      }
    };
    let seed = self.link.client().get_connection_info().clone();
    primaries(&nodes)
      .into_iter()
      .map(|(host, port)| {
        Client::open(node_info(&seed, &host, port)).map_err(|err| map_error(&err))
      })
      .collect()
  }

  /// SCANs the keys of `ns` (the pattern narrowing it when Redis matches
  /// as we do), calling `each` with every physical key once; answers how many.
  fn scan(
    &mut self,
    ns: &[u8],
    pattern: Option<&str>,
    mut each: impl FnMut(&[u8]),
  ) -> Result<u64, StoreError> {
    let matching = self.mapping.layout.scan_pattern(ns, pattern)?;
    let mut n = 0;
    self.each_node(|con| {
      n += scan_on(con, &matching, |key| {
        each(key);
        true
      })?;
      Ok(())
    })?;
    Ok(n)
  }

  fn keys(&mut self, ns: &[u8], pattern: Option<&str>) -> Result<Vec<Box<[u8]>>, StoreError> {
    let glob = pattern.map(Glob::new);
    let layout = self.mapping.layout.clone();
    let mut keys = Vec::new();
    self.scan(ns, pattern, |physical| {
      let Some(parsed) = layout.parse(physical) else {
        return;
      };
      if parsed.ns != ns {
        return;
      }
      if let Some(glob) = &glob {
        let text: String = serde_json::from_slice(&parsed.key).unwrap_or_default();
        if !glob.matches(&text) {
          return;
        }
      }
      keys.push(parsed.key.into_boxed_slice());
    })?;
    Ok(keys)
  }

  /// Removes every key of `ns`: on each node, SCAN, then UNLINK each key
  /// found (one key per command, pipelined: keys of several slots cannot
  /// share one). Not atomic: a key written meanwhile may stay.
  fn clear(&mut self, ns: &[u8]) -> Result<(), StoreError> {
    let matching = self.mapping.layout.scan_pattern(ns, None)?;
    let mut removed = 0;
    self.each_node(|con| {
      let mut found = Vec::new();
      scan_on(con, &matching, |key| {
        found.push(key.to_vec());
        true
      })?;
      for chunk in found.chunks(SCAN_COUNT) {
        let cmds: Vec<redis::Cmd> = chunk
          .iter()
          .map(|key| {
            let mut cmd = redis::cmd("UNLINK");
            cmd.arg(key);
            cmd
          })
          .collect();
        for answer in pipeline_on(con, &cmds)? {
          if let Value::Int(n) = answer {
            removed += n.max(0) as u64;
          }
        }
      }
      Ok(())
    })?;
    self.counters.of(ns).deletes += removed;
    Ok(())
  }

  /// Entries and bytes per namespace from a SCAN of the prefix; hits,
  /// misses, sets and deletes as this process counted them; expirations
  /// and evictions as the server counts them (server-wide, in the total).
  fn stats(&mut self) -> Result<Reply<'static>, StoreError> {
    let layout = self.mapping.layout.clone();
    let mut counts = Counters::default();
    for (ns, stats) in self.counters.each() {
      *counts.of(ns) = Stats {
        entries: 0,
        bytes: 0,
        ..*stats
      };
    }
    let mut expirations = 0;
    let mut evictions = 0;
    self.each_node(|con| {
      let mut found: Vec<(Vec<u8>, Vec<u8>, usize)> = Vec::new();
      scan_on(con, &layout.all_pattern(), |physical| {
        match layout.parse(physical) {
          Some(parsed) => {
            found.push((parsed.ns, physical.to_vec(), parsed.key.len()));
            true
          }
          None => false,
        }
      })?;
      for chunk in found.chunks(SCAN_COUNT) {
        let cmds: Vec<redis::Cmd> = chunk
          .iter()
          .map(|(_, physical, _)| {
            let mut cmd = redis::cmd("STRLEN");
            cmd.arg(physical);
            cmd
          })
          .collect();
        for ((ns, _, key_len), length) in chunk.iter().zip(pipeline_on(con, &cmds)?) {
          let Value::Int(length) = length else { continue };
          if length == 0 {
            continue; // removed meanwhile
          }
          let stats = counts.of(ns);
          stats.entries += 1;
          stats.bytes += (*key_len + length as usize) as u64;
        }
      }
      let info = pipeline_on(
        con,
        &[{
          let mut cmd = redis::cmd("INFO");
          cmd.arg("stats");
          cmd
        }],
      )?;
      let text = match info.first() {
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(Value::VerbatimString { text, .. }) => text.clone(),
        _ => String::new(),
      };
      expirations += info_field(&text, "expired_keys");
      evictions += info_field(&text, "evicted_keys");
      Ok(())
    })?;
    let mut total = counts.total();
    total.expirations = expirations;
    total.evictions = evictions;
    let namespaces = counts
      .each()
      .map(|(ns, stats)| (Box::<[u8]>::from(ns), *stats))
      .collect();
    Ok(Reply::Stats(total, namespaces))
  }

  fn lock(
    &mut self,
    id: u64,
    ns: &[u8],
    key: &[u8],
    lease: Duration,
    wait: Option<Duration>,
  ) -> Result<Reply<'static>, StoreError> {
    let (lock, fence) = self.mapping.layout.lock_keys(ns, key)?;
    let lease_ms = (lease.as_millis() as u64).max(1);
    let mut waiter = Waiter {
      id,
      lock,
      fence,
      key_text: String::from_utf8_lossy(key).into_owned(),
      lease_ms,
      deadline: wait.map(|wait| Instant::now() + wait),
      retry_at: Instant::now(),
    };
    // Listen for releases before trying, so none between the try and the wait goes unheard.
    if wait != Some(Duration::ZERO) {
      self.subscriber.want_locks();
    }
    match self.try_lock(&waiter)? {
      Ok(token) => Ok(Reply::Int(token)),
      Err(_) if wait == Some(Duration::ZERO) => Err(StoreError::LockTimeout(waiter.key_text)),
      Err(left) => {
        waiter.retry_at = Instant::now() + left;
        self.waiters.push(waiter);
        Ok(Reply::Later)
      }
    }
  }

  /// One attempt: Ok(token), or Err(how long the holder's lease has left).
  fn try_lock(&mut self, waiter: &Waiter) -> Result<Result<i64, Duration>, StoreError> {
    let mut cmd = redis::cmd("EVAL");
    cmd
      .arg(script::LOCK)
      .arg(2)
      .arg(&waiter.lock)
      .arg(&waiter.fence)
      .arg(&self.owner)
      .arg(waiter.lease_ms);
    let Value::Array(answer) = self.query(&cmd)? else {
      return Err(StoreError::Redis(
        "the lock script answered something else".into(),
      ));
    };
    match (answer.first(), answer.get(1)) {
      (Some(Value::Int(1)), Some(Value::Int(token))) => Ok(Ok(*token)),
      // A lease about to end, or a key just gone (-2): try again very soon.
      (Some(Value::Int(0)), Some(Value::Int(left))) => {
        Ok(Err(Duration::from_millis((*left).max(1) as u64)))
      }
      _ => Err(StoreError::Redis(
        "the lock script answered something else".into(),
      )),
    }
  }

  /// Grants, retries or times out the waiters that are due. Waiters of one
  /// lock in this process are served in the order they asked: only the
  /// first of each lock tries.
  fn serve_waiters(&mut self) {
    let now = Instant::now();
    let mut i = 0;
    let mut seen: HashSet<String> = HashSet::new();
    while i < self.waiters.len() {
      let waiter = &self.waiters[i];
      if waiter.deadline.is_some_and(|d| d <= now) {
        let waiter = self.waiters.remove(i);
        let reply = Reply::Failed(StoreError::LockTimeout(waiter.key_text));
        (self.out)(protocol::later_push(waiter.id, &reply));
        continue;
      }
      let first = seen.insert(waiter.lock.clone());
      if !first || waiter.retry_at > now {
        i += 1;
        continue;
      }
      let waiter = self.waiters.remove(i);
      match self.try_lock(&waiter) {
        Ok(Ok(token)) => (self.out)(protocol::later_push(waiter.id, &Reply::Int(token))),
        Ok(Err(left)) => {
          let retry_at = Instant::now() + left;
          self.waiters.insert(i, Waiter { retry_at, ..waiter });
          i += 1;
        }
        Err(StoreError::RedisUnavailable(_) | StoreError::Timeout(_)) => {
          let retry_at = Instant::now() + LOCK_RETRY;
          self.waiters.insert(i, Waiter { retry_at, ..waiter });
          i += 1;
        }
        Err(err) => (self.out)(protocol::later_push(waiter.id, &Reply::Failed(err))),
      }
    }
  }

  /// unlock (lease None) or extend: answers whether this process still held it.
  fn release(
    &mut self,
    ns: &[u8],
    key: &[u8],
    token: u64,
    lease: Option<Duration>,
  ) -> Result<Reply<'static>, StoreError> {
    let (lock, _) = self.mapping.layout.lock_keys(ns, key)?;
    let held = format!("{}:{token}", self.owner);
    let mut cmd = redis::cmd("EVAL");
    match lease {
      None => cmd
        .arg(script::UNLOCK)
        .arg(1)
        .arg(&lock)
        .arg(held)
        .arg(self.mapping.layout.unlock_channel()),
      Some(lease) => cmd
        .arg(script::EXTEND)
        .arg(1)
        .arg(&lock)
        .arg(held)
        .arg((lease.as_millis() as u64).max(1)),
    };
    let answer = self.query(&cmd)?;
    Ok(Reply::Bool(matches!(answer, Value::Int(1))))
  }

  /// Starts a watch: keyspace notifications checked (or turned on) on
  /// every node first, then subscribed to: by the subscriber, or on a
  /// cluster by one subscriber per primary (each node sends only its own
  /// keys' events), started at the first watch.
  fn watch(&mut self, ns: &[u8], pattern: &str, subscription: u64) -> Result<(), StoreError> {
    if !self.subscriber.notifications_checked() {
      let configure = self.configure_notifications;
      self.each_node(|con| ensure_notifications(con, configure))?;
      self.subscriber.set_notifications_checked();
    }
    if !self.mapping.cluster {
      return self
        .subscriber
        .watch(subscription, ns.to_vec(), Glob::new(pattern), self.timeout);
    }
    if self.node_subscribers.is_empty() {
      for client in self.primary_clients()? {
        let setup = Setup {
          client,
          layout: self.mapping.layout.clone(),
          db: 0,
          timeout: self.timeout,
          connect_timeout: self.timeout,
          near: false,
        };
        self.node_subscribers.push(Subscriber::start(
          setup,
          self.jobs.clone(),
          self.out.clone(),
        ));
      }
    }
    for node in &self.node_subscribers {
      node.watch(subscription, ns.to_vec(), Glob::new(pattern), self.timeout)?;
    }
    Ok(())
  }

  fn unwatch(&mut self, subscription: u64) -> bool {
    let mut found = self.subscriber.unwatch(subscription);
    for node in &self.node_subscribers {
      found |= node.unwatch(subscription);
    }
    found
  }
}

/// Makes sure a node sends the keyspace notifications watch needs (K and
/// g$xe): with `configure`, it adds what is missing; without, a server that
/// lacks them fails with ERR_REDIS_NOTIFICATIONS.
fn ensure_notifications(con: &mut dyn ConnectionLike, configure: bool) -> Result<(), StoreError> {
  let mut get = redis::cmd("CONFIG");
  get.arg("GET").arg("notify-keyspace-events");
  let current = match pipeline_on(con, &[get]) {
    Ok(answers) => answers.first().map(config_value).unwrap_or_default(),
    Err(StoreError::Redis(msg)) => {
      return Err(StoreError::NotificationsDisabled(format!(
        "watch() needs keyspace notifications, and this server does not let us read its config (CONFIG GET: {msg}); \
         set notify-keyspace-events to include K, g, $, x and e (e.g. 'KEA') on the server"
      )))
    }
    Err(err) => return Err(err),
  };
  let missing = missing_flags(&current);
  if missing.is_empty() {
    return Ok(());
  }
  if !configure {
    return Err(StoreError::NotificationsDisabled(format!(
      "watch() needs keyspace notifications: the server's notify-keyspace-events is {current:?} and lacks {missing:?}; \
       set it on the server (e.g. notify-keyspace-events KEA) or pass redis: {{notifications: 'configure'}} to let this package set it"
    )));
  }
  let mut set = redis::cmd("CONFIG");
  set
    .arg("SET")
    .arg("notify-keyspace-events")
    .arg(format!("{current}{missing}"));
  match pipeline_on(con, &[set]) {
    Ok(_) => Ok(()),
    Err(StoreError::Redis(msg)) => Err(StoreError::NotificationsDisabled(format!(
      "watch() needs keyspace notifications and the server refused to turn them on (CONFIG SET: {msg})"
    ))),
    Err(err) => Err(err),
  }
}

/// Appends the requests of batch `more` to `batch` (both JSON arrays).
fn merge(batch: &mut String, more: &str) {
  let inner = more.trim();
  let inner = inner
    .strip_prefix('[')
    .and_then(|rest| rest.strip_suffix(']'))
    .unwrap_or("")
    .trim();
  if inner.is_empty() {
    return;
  }
  let trimmed = batch.trim_end().len();
  batch.truncate(trimmed);
  if batch.ends_with(']') {
    batch.pop();
  }
  if !batch.trim_end().ends_with('[') {
    batch.push(',');
  }
  batch.push_str(inner);
  batch.push(']');
}

/// SCANs every key matching `matching` on one node, each once (SCAN may
/// answer a key twice); `each` says whether it counts. Answers how many did.
fn scan_on(
  con: &mut dyn ConnectionLike,
  matching: &str,
  mut each: impl FnMut(&[u8]) -> bool,
) -> Result<u64, StoreError> {
  let mut seen: HashSet<Vec<u8>> = HashSet::new();
  let mut cursor = b"0".to_vec();
  let mut n = 0;
  loop {
    let mut cmd = redis::cmd("SCAN");
    cmd
      .arg(&cursor)
      .arg("MATCH")
      .arg(matching)
      .arg("COUNT")
      .arg(SCAN_COUNT);
    let answer = pipeline_on(con, &[cmd])?.pop();
    let Some(Value::Array(parts)) = answer else {
      return Err(StoreError::Redis(
        "SCAN answered something else than [cursor, keys]".into(),
      ));
    };
    let (Some(Value::BulkString(next)), Some(Value::Array(keys))) = (parts.first(), parts.get(1))
    else {
      return Err(StoreError::Redis(
        "SCAN answered something else than [cursor, keys]".into(),
      ));
    };
    for key in keys {
      if let Value::BulkString(key) = key {
        if seen.insert(key.clone()) && each(key) {
          n += 1;
        }
      }
    }
    if next.as_slice() == b"0" {
      return Ok(n);
    }
    cursor = next.clone();
  }
}

/// Commands as one pipeline on one node's connection; an error answer fails them all.
fn pipeline_on(
  con: &mut dyn ConnectionLike,
  cmds: &[redis::Cmd],
) -> Result<Vec<Value>, StoreError> {
  if cmds.is_empty() {
    return Ok(Vec::new());
  }
  let mut packed = Vec::new();
  for cmd in cmds {
    cmd.write_packed_command(&mut packed);
  }
  let answers = con
    .req_packed_commands(&packed, 0, cmds.len())
    .map_err(|err| map_error(&err))?;
  if let Some(err) = answers.iter().find_map(plan::server_error) {
    return Err(err);
  }
  Ok(answers)
}

/// The primaries of a `CLUSTER NODES` answer, as (host, port).
pub fn primaries(nodes: &str) -> Vec<(String, u16)> {
  nodes
    .lines()
    .filter_map(|line| {
      let fields: Vec<&str> = line.split(' ').collect();
      let flags = fields.get(2)?;
      if !flags.split(',').any(|f| f == "master")
        || flags.contains("fail")
        || flags.contains("noaddr")
      {
        return None;
      }
      let addr = fields.get(1)?.split('@').next()?.split(',').next()?;
      let (host, port) = addr.rsplit_once(':')?;
      Some((host.to_string(), port.parse().ok()?))
    })
    .collect()
}

/// The value of a one-parameter CONFIG GET answer.
fn config_value(value: &Value) -> String {
  let text = |v: &Value| match v {
    Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
    Value::SimpleString(text) => text.clone(),
    _ => String::new(),
  };
  match value {
    Value::Array(items) => items.get(1).map(text).unwrap_or_default(),
    Value::Map(pairs) => pairs.first().map(|(_, v)| text(v)).unwrap_or_default(),
    _ => String::new(),
  }
}

/// The notify-keyspace-events flags `watch` needs that `current` lacks.
pub fn missing_flags(current: &str) -> String {
  let mut missing = String::new();
  if !current.contains('K') {
    missing.push('K');
  }
  if !current.contains('A') {
    for flag in ['g', '$', 'x', 'e'] {
      if !current.contains(flag) {
        missing.push(flag);
      }
    }
  }
  missing
}

fn info_field(info: &str, name: &str) -> u64 {
  info
    .lines()
    .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
    .and_then(|value| value.trim().parse().ok())
    .unwrap_or(0)
}

/// A failure of the redis crate that is the server's answer, as ours.
fn plan_error(err: &redis::RedisError) -> StoreError {
  super::link::map_error(err)
}

fn count_reply(stats: &mut Stats, count: Count, reply: &Reply<'_>) {
  match (count, reply) {
    (Count::Reads, Reply::Value(_)) => stats.hits += 1,
    (Count::Reads, Reply::Done) => stats.misses += 1,
    (Count::Reads, Reply::Values(values)) => {
      for value in values {
        if value.is_some() {
          stats.hits += 1;
        } else {
          stats.misses += 1;
        }
      }
    }
    (Count::Sets(n), Reply::Done | Reply::Bool(true) | Reply::Number(_) | Reply::Value(_)) => {
      stats.sets += n
    }
    (Count::Delete, Reply::Bool(true)) => stats.deletes += 1,
    _ => {}
  }
}

/// A random id for this process's lock values, so only it can release its locks.
fn owner_id() -> String {
  let mut bytes = [0u8; 16];
  // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
  let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
  if got != bytes.len() as isize {
    let seed = std::time::SystemTime::now()
      .duration_since(std::time::UNIX_EPOCH)
      .map(|d| d.as_nanos())
      .unwrap_or(0);
    bytes[..16].copy_from_slice(&(seed ^ u128::from(std::process::id())).to_le_bytes());
  }
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_flags_watch_needs_are_found_missing() {
    assert_eq!(missing_flags(""), "Kg$xe");
    assert_eq!(missing_flags("KEA"), "");
    assert_eq!(missing_flags("Kg$"), "xe");
    assert_eq!(missing_flags("Ex"), "Kg$e");
  }

  #[test]
  fn cluster_primaries_are_read_from_cluster_nodes() {
    let nodes = "a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n\
                 b2 127.0.0.1:7002@17002 master - 0 0 2 connected 5461-10922\n\
                 c3 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n\
                 d4 127.0.0.1:7004@17004 master,fail - 0 0 3 disconnected\n";
    assert_eq!(
      primaries(nodes),
      [
        ("127.0.0.1".to_string(), 7001),
        ("127.0.0.1".to_string(), 7002)
      ]
    );
  }

  #[test]
  fn queued_batches_merge_into_one() {
    let mut batch = String::from("[[1,\"get\",\"a\",0]]");
    merge(&mut batch, "[[2,\"get\",\"b\",0],[3,\"del\",\"c\",0]]");
    merge(&mut batch, "[]");
    assert_eq!(
      batch,
      "[[1,\"get\",\"a\",0],[2,\"get\",\"b\",0],[3,\"del\",\"c\",0]]"
    );
    let mut empty = String::from("[]");
    merge(&mut empty, "[[4,\"has\",\"d\",0]]");
    assert_eq!(empty, "[[4,\"has\",\"d\",0]]");
    assert_eq!(protocol::parse_batch(&batch).unwrap().len(), 3);
  }

  #[test]
  fn info_fields_are_read() {
    let info = "# Stats\r\nexpired_keys:12\r\nevicted_keys:3\r\n";
    assert_eq!(info_field(info, "expired_keys"), 12);
    assert_eq!(info_field(info, "evicted_keys"), 3);
    assert_eq!(info_field(info, "missing"), 0);
  }
}
