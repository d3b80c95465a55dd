//! One connection to the Redis server, made again after it breaks: a
//! request that finds it down tries to connect at once the first time,
//! then no more often than a back-off that doubles from 25 ms to 1 s
//! allows; in between, requests fail at once with ERR_REDIS_UNAVAILABLE
//! rather than wait. Every read and write is bounded by the `timeout`
//! option; a connection that timed out or failed is dropped, never reused
//! (its answers could arrive late and be taken for others').

use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError};

use crate::error::StoreError;

const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

pub struct Link {
  client: Client,
  con: Option<Connection>,
  timeout: Duration,
  connect_timeout: Duration,
  /// No connection attempt before this, after a failed one.
  next_try: Option<Instant>,
  backoff: Duration,
  last_error: String,
  /// Connections made so far (the first is 1).
  pub connections: u64,
  /// Sent once on every new connection (CLIENT TRACKING for the near-cache).
  pub on_connect: Vec<redis::Cmd>,
}

impl Link {
  pub fn new(client: Client, timeout: Duration, connect_timeout: Duration) -> Self {
    Link {
      client,
      con: None,
      timeout,
      connect_timeout,
      next_try: None,
      backoff: FIRST_BACKOFF,
      last_error: String::new(),
      connections: 0,
      on_connect: Vec::new(),
    }
  }

  pub fn client(&self) -> &Client {
    &self.client
  }

  pub fn is_up(&self) -> bool {
    self.con.is_some()
  }

  /// The connection, connecting first when it is down and the back-off allows.
  pub fn get(&mut self) -> Result<&mut Connection, StoreError> {
    if self.con.is_none() {
      if let Some(at) = self.next_try {
        if Instant::now() < at {
          return Err(StoreError::RedisUnavailable(format!(
            "{} (reconnecting)",
            self.last_error
          )));
        }
      }
      match connect(
        &self.client,
        self.timeout,
        self.connect_timeout,
        &self.on_connect,
      ) {
        Ok(con) => {
          self.con = Some(con);
          self.next_try = None;
          self.backoff = FIRST_BACKOFF;
          self.connections += 1;
        }
        Err(err) => {
          self.last_error = err.to_string();
          self.next_try = Some(Instant::now() + self.backoff);
          self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
          return Err(map_error(&err));
        }
      }
    }
    Ok(self.con.as_mut().expect("connected above"))
  }

  /// The connection failed with `err`: it is dropped (unless the server
  /// merely answered with an error) and `err` is answered as ours.
  pub fn broke(&mut self, err: &RedisError) -> StoreError {
    if err.is_io_error()
      || err.is_timeout()
      || err.is_connection_dropped()
      || err.is_unrecoverable_error()
    {
      self.drop_connection(err.to_string());
    }
    map_error(err)
  }

  pub fn drop_connection(&mut self, why: String) {
    self.con = None;
    self.last_error = why;
  }
}

/// A new connection with every read and write bounded by `timeout`.
pub fn connect(
  client: &Client,
  timeout: Duration,
  connect_timeout: Duration,
  on_connect: &[redis::Cmd],
) -> Result<Connection, RedisError> {
  let mut con = client.get_connection_with_timeout(connect_timeout.min(timeout))?;
  con.set_read_timeout(Some(timeout))?;
  con.set_write_timeout(Some(timeout))?;
  for cmd in on_connect {
    cmd.exec(&mut con)?;
  }
  Ok(con)
}

/// A failure of the redis crate as our error.
pub fn map_error(err: &RedisError) -> StoreError {
  if err.is_timeout() {
    StoreError::Timeout(format!("Redis did not answer in time ({err})"))
  } else if err.is_io_error() || err.is_connection_refusal() || err.is_connection_dropped() {
    StoreError::RedisUnavailable(err.to_string())
  } else {
    StoreError::Redis(err.to_string())
  }
}
