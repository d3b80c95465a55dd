//! What the host pushes to one socket connection (later answers, watch
//! events): queued without ever blocking the pusher, and written by the
//! connection's own push thread.
//!
//! The queue is bounded per connection, in entries and in bytes
//! ([`MAX_QUEUED`], [`MAX_QUEUED_BYTES`]), counting what the push thread is
//! still writing: a peer that stops reading costs the host at most that
//! much. Beyond it, watch events are dropped and counted, and the count is
//! written as `~{"lost":n}`; essential pushes (a lock granted later) are
//! always queued. What was queued is freed as it is written, so nothing
//! stays allocated once the peer has caught up.

use std::collections::VecDeque;
use std::io;

use parking_lot::{Condvar, Mutex};

use crate::peers::{room_for, Push, Sink};
#[cfg(doc)]
use crate::peers::{MAX_QUEUED, MAX_QUEUED_BYTES};
use crate::protocol::lost_push;

#[derive(Default)]
pub struct Outbox {
  state: Mutex<State>,
  filled: Condvar,
}

#[derive(Default)]
struct State {
  queue: VecDeque<Push>,
  /// Pushes queued or being written, and their bytes.
  entries: usize,
  bytes: usize,
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
    if !essential && !room_for(state.entries, state.bytes, message.len()) {
      state.lost += 1;
      return;
    }
    state.entries += 1;
    state.bytes += message.len();
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
        // The queue is taken whole, leaving an empty one without capacity.
        (
          std::mem::take(&mut state.queue),
          std::mem::take(&mut state.lost),
        )
      };
      let (entries, bytes) = (pushes.len(), pushes.iter().map(String::len).sum::<usize>());
      let mut failed = false;
      for push in pushes {
        // Each push is freed once written.
        if write(push.as_bytes()).is_err() {
          failed = true;
          break;
        }
      }
      {
        let mut state = self.state.lock();
        state.entries -= entries;
        state.bytes -= bytes;
      }
      if failed || (lost > 0 && write(lost_push(lost).as_bytes()).is_err()) {
        return;
      }
    }
  }

  /// Pushes queued or being written, their bytes, and the queue's capacity.
  #[cfg(test)]
  fn held(&self) -> (usize, usize, usize) {
    let state = self.state.lock();
    (state.entries, state.bytes, state.queue.capacity())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::peers::{MAX_QUEUED, MAX_QUEUED_BYTES};
  use std::sync::{mpsc, Arc};

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

  #[test]
  fn a_peer_that_stops_reading_holds_at_most_the_byte_bound_and_nothing_once_caught_up() {
    const MIB: usize = 1024 * 1024;
    let event = |i: usize| {
      let mut event = format!("~{i}");
      event.push_str(&".".repeat(MIB - event.len()));
      event
    };
    let outbox = Arc::new(Outbox::default());
    let written = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (started_tx, started) = mpsc::channel();
    let (resume, resumed) = mpsc::channel::<()>();
    let thread = {
      let (outbox, written) = (outbox.clone(), written.clone());
      std::thread::spawn(move || {
        let mut first = true;
        outbox.drain(|bytes| {
          if std::mem::take(&mut first) {
            // The peer stops reading: this write blocks until resumed.
            started_tx.send(()).unwrap();
            resumed.recv().unwrap();
          }
          written.lock().push(bytes.len());
          Ok(())
        })
      })
    };
    outbox.push(event(0), false);
    started.recv().unwrap(); // being written (and still counted)
    for i in 1..=20 {
      outbox.push(event(i), false);
    }
    outbox.push("!grant".into(), true);
    let (entries, bytes, _) = outbox.held();
    assert_eq!(
      entries,
      MAX_QUEUED_BYTES / MIB + 1,
      "8 events and the grant"
    );
    assert_eq!(bytes, MAX_QUEUED_BYTES + "!grant".len());
    resume.send(()).unwrap();
    let lost = "~{\"lost\":13}".len();
    while written.lock().last() != Some(&lost) {
      std::thread::yield_now();
    }
    assert_eq!(written.lock().len(), 8 + 1 + 1);
    assert_eq!(written.lock()[8], "!grant".len());
    assert_eq!(outbox.held(), (0, 0, 0), "nothing held once caught up");
    outbox.close();
    thread.join().unwrap();
  }
}
