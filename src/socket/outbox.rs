//! What the host pushes to one socket connection (later answers, watch
//! events): queued without ever blocking the pusher, and written by the
//! connection's own push thread.

use std::collections::VecDeque;
use std::io;

use parking_lot::{Condvar, Mutex};

use crate::peers::{Push, Sink, MAX_QUEUED};
use crate::protocol::lost_push;

#[derive(Default)]
pub struct Outbox {
  state: Mutex<State>,
  filled: Condvar,
}

#[derive(Default)]
struct State {
  queue: VecDeque<Push>,
  /// Watch event pushes dropped since the last write.
  lost: u64,
  closed: bool,
}

impl Sink for Outbox {
  fn push(&self, message: Push, essential: bool) {
    let mut state = self.state.lock();
    if state.closed {
      return;
    }
    if !essential && state.queue.len() >= MAX_QUEUED {
      state.lost += 1;
      return;
    }
    state.queue.push_back(message);
    self.filled.notify_one();
  }
}

impl Outbox {
  /// The connection ended: [`Outbox::drain`] returns.
  pub fn close(&self) {
    self.state.lock().closed = true;
    self.filled.notify_all();
  }

  /// Runs on the push thread: writes every push with `write`, in order,
  /// until closed or a write fails. After events were dropped, writes
  /// `~{"lost":n}` so the client knows.
  pub fn drain(&self, mut write: impl FnMut(&[u8]) -> io::Result<()>) {
    loop {
      let (pushes, lost) = {
        let mut state = self.state.lock();
        while state.queue.is_empty() && state.lost == 0 && !state.closed {
          self.filled.wait(&mut state);
        }
        if state.closed {
          return;
        }
        (
          std::mem::take(&mut state.queue),
          std::mem::take(&mut state.lost),
        )
      };
      for push in pushes {
        if write(push.as_bytes()).is_err() {
          return;
        }
      }
      if lost > 0 && write(lost_push(lost).as_bytes()).is_err() {
        return;
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;

  #[test]
  fn drops_only_events_beyond_the_bound_and_says_how_many() {
    let outbox = Arc::new(Outbox::default());
    for i in 0..MAX_QUEUED + 3 {
      outbox.push(format!("~{i}"), false);
    }
    outbox.push("!grant".into(), true);
    let written = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (reader, sink) = (outbox.clone(), written.clone());
    let thread = std::thread::spawn(move || {
      reader.drain(|bytes| {
        sink.lock().push(String::from_utf8(bytes.to_vec()).unwrap());
        Ok(())
      })
    });
    while written.lock().len() < MAX_QUEUED + 2 {
      std::thread::yield_now();
    }
    outbox.close();
    thread.join().unwrap();
    let written = written.lock();
    assert_eq!(
      written[MAX_QUEUED], "!grant",
      "an essential push is never dropped"
    );
    assert_eq!(written[MAX_QUEUED + 1], "~{\"lost\":3}");
  }
}
