//! One connection to the Redis server, made again after it breaks: a
//! request that finds it down tries to connect at once the first time,
//! then no more often than a back-off that doubles from 25 ms to 1 s
//! allows; in between, requests fail at once with ERR_REDIS_UNAVAILABLE
//! rather than wait. Every read and write is bounded by the `timeout`
//! option; a connection that timed out or failed is dropped, never reused
//! (its answers could arrive late and be taken for others').

use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConnection};
use redis::{Client, Cmd, Connection, ConnectionLike, RedisError, Value};

use crate::error::StoreError;

/// Answers the id of the connection invalidations go to, if it is up.
pub type Redirect = std::sync::Arc<dyn Fn() -> Option<i64> + Send + Sync>;

const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A connection to one server, or to a Redis Cluster (which routes each
/// command to the node of its key's slot, following MOVED and ASK).
pub enum Conn {
  One(Connection),
  Cluster(Box<ClusterConnection>),
}

impl Conn {
  pub fn query(&mut self, cmd: &Cmd) -> Result<Value, RedisError> {
    match self {
      Conn::One(con) => cmd.query(con),
      Conn::Cluster(con) => cmd.query(con.as_mut()),
    }
  }

  /// The connection as the redis crate's commands take it.
  pub fn like(&mut self) -> &mut dyn ConnectionLike {
    match self {
      Conn::One(con) => con,
      Conn::Cluster(con) => con.as_mut(),
    }
  }
}

pub struct Link {
  client: Client,
  cluster: Option<ClusterClient>,
  con: Option<Conn>,
  timeout: Duration,
  connect_timeout: Duration,
  /// No connection attempt before this, after a failed one.
  next_try: Option<Instant>,
  backoff: Duration,
  last_error: String,
  /// Connections made so far (the first is 1).
  pub connections: u64,
  /// For the near-cache: the client id the server sends invalidations to
  /// (the subscriber's connection), asked on every new connection, which then
  /// turns `CLIENT TRACKING` on with it.
  pub redirect: Option<Redirect>,
  /// The redirect id tracking was turned on with on this connection.
  pub tracking: Option<i64>,
}

impl Link {
  /// A link to the server `client` names; with `cluster`, to the Redis
  /// Cluster it is a node of.
  pub fn new(
    client: Client,
    cluster: bool,
    timeout: Duration,
    connect_timeout: Duration,
  ) -> Result<Self, String> {
    let cluster = if cluster {
      let built = ClusterClientBuilder::new(vec![client.get_connection_info().clone()])
        .connection_timeout(connect_timeout.min(timeout))
        .response_timeout(timeout)
        .build()
        .map_err(|err| format!("the Redis Cluster client cannot be built: {err}"))?;
      Some(built)
    } else {
      None
    };
    Ok(Link {
      client,
      cluster,
      con: None,
      timeout,
      connect_timeout,
      next_try: None,
      backoff: FIRST_BACKOFF,
      last_error: String::new(),
      connections: 0,
      redirect: None,
      tracking: None,
    })
  }

  pub fn client(&self) -> &Client {
    &self.client
  }

  pub fn is_up(&self) -> bool {
    self.con.is_some()
  }

  /// The connection, connecting first when it is down and the back-off allows.
  pub fn get(&mut self) -> Result<&mut Conn, StoreError> {
    if self.con.is_none() {
      if let Some(at) = self.next_try {
        if Instant::now() < at {
          return Err(StoreError::RedisUnavailable(format!(
            "{} (reconnecting)",
            self.last_error
          )));
        }
      }
      let made = match &self.cluster {
        Some(cluster) => {
          connect_cluster(cluster, self.timeout).map(|con| Conn::Cluster(Box::new(con)))
        }
        None => connect(&self.client, self.timeout, self.connect_timeout, &[]).map(Conn::One),
      };
      match made {
        Ok(con) => {
          self.con = Some(con);
          self.next_try = None;
          self.backoff = FIRST_BACKOFF;
          self.connections += 1;
          self.tracking = None;
          if let Err(err) = self.track() {
            self.con = None;
            return Err(err);
          }
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

  /// Turns tracking on for the near-cache, when the subscriber is up.
  fn track(&mut self) -> Result<(), StoreError> {
    let (Some(redirect), Some(Conn::One(con))) = (&self.redirect, self.con.as_mut()) else {
      return Ok(());
    };
    let Some(id) = redirect() else {
      return Ok(());
    };
    let mut cmd = redis::cmd("CLIENT");
    // NOLOOP: no invalidations for this connection's own writes; the
    // near-cache drops a key itself before it sends a write of it.
    cmd
      .arg("TRACKING")
      .arg("ON")
      .arg("REDIRECT")
      .arg(id)
      .arg("NOLOOP");
    cmd.exec(con).map_err(|err| map_error(&err))?;
    self.tracking = Some(id);
    Ok(())
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

fn connect_cluster(
  cluster: &ClusterClient,
  timeout: Duration,
) -> Result<ClusterConnection, RedisError> {
  let con = cluster.get_connection()?;
  con.set_read_timeout(Some(timeout))?;
  con.set_write_timeout(Some(timeout))?;
  Ok(con)
}

/// The connection info of the cluster node at `host:port`, with the seed's
/// credentials and TLS settings.
pub fn node_info(seed: &redis::ConnectionInfo, host: &str, port: u16) -> redis::ConnectionInfo {
  use redis::ConnectionAddr;
  let addr = match seed.addr() {
    ConnectionAddr::TcpTls {
      insecure,
      tls_params,
      ..
    } => ConnectionAddr::TcpTls {
      host: host.to_string(),
      port,
      insecure: *insecure,
      tls_params: tls_params.clone(),
    },
    _ => ConnectionAddr::Tcp(host.to_string(), port),
  };
  seed.clone().set_addr(addr)
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
