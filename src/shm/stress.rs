//! The segment protocol across processes: one writer process updating a
//! few hot keys as fast as it can with checksummed values, reader
//! processes mapping its segment read-only and checking every value they
//! accept. Children are this test binary run again for the ignored test
//! [`child`], their role in `SM_STRESS_ROLE`. Each run lasts
//! `SM_STRESS_SECONDS` (default 2; `npm run stress` runs longer).
//!
//! - [`processes_racing_the_writer_never_accept_a_torn_value`]: 0 tears.
//! - [`negative_control_across_processes_without_the_recheck_sees_tears`]:
//!   the same readers without the sequence re-check must see tears (they
//!   stop at the first), so the test above could see them.
//! - a writer SIGKILLed mid-storm: in `src/host.rs`'s tests, since a new
//!   host takes its segment over there (`writer` here starts the storm).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::layout::NEVER;
pub(crate) use super::tests::check;
use super::tests::stamped;
use super::writer::Shape;
use super::{open_published, Published};

pub(crate) const KEYS: usize = 16;

fn seconds() -> Duration {
  let s = std::env::var("SM_STRESS_SECONDS")
    .ok()
    .and_then(|s| s.parse::<f64>().ok())
    .unwrap_or(2.0);
  Duration::from_secs_f64(s.clamp(0.1, 3600.0))
}

pub(crate) fn key(i: usize) -> Vec<u8> {
  format!("key:{i}").into_bytes()
}

/// Runs this binary's [`child`] as `role`, with `env`; its stdout is piped.
fn spawn(role: &str, env: &[(&str, String)]) -> Child {
  let mut command = Command::new(std::env::current_exe().unwrap());
  command
    .args([
      "shm::stress::child",
      "--exact",
      "--ignored",
      "--nocapture",
      "--test-threads",
      "1",
    ])
    .env("SM_STRESS_ROLE", role)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
  for (name, value) in env {
    command.env(name, value);
  }
  command.spawn().unwrap()
}

/// What follows "STRESS " in the next line of `child` that has it, in words.
fn said(child: &mut BufReader<std::process::ChildStdout>) -> Vec<String> {
  let mut line = String::new();
  loop {
    line.clear();
    assert!(
      child.read_line(&mut line).unwrap() > 0,
      "a child ended without its line"
    );
    // (After the test harness's "test ... " on the same line.)
    if let Some(at) = line.find("STRESS ") {
      return line[at + 7..]
        .trim()
        .split(' ')
        .map(str::to_string)
        .collect();
    }
  }
}

/// A writer process storming for `run` (or until killed): answers it, its
/// output, and its pid and segment descriptor.
pub(crate) fn writer(run: Duration) -> (Child, BufReader<std::process::ChildStdout>, u32, i32) {
  let mut child = spawn("writer", &[("SM_STRESS_MS", run.as_millis().to_string())]);
  let mut out = BufReader::new(child.stdout.take().unwrap());
  let words = said(&mut out);
  assert_eq!(words[0], "segment");
  (
    child,
    out,
    words[1].parse().unwrap(),
    words[2].parse().unwrap(),
  )
}

/// Reads and tears of 2 reader processes over a writer process, for `run`.
fn across_processes(recheck: bool, run: Duration) -> (u64, u64) {
  let (mut w, _, pid, fd) = writer(run + Duration::from_secs(30));
  let env = [
    ("SM_STRESS_PID", pid.to_string()),
    ("SM_STRESS_FD", fd.to_string()),
    ("SM_STRESS_MS", run.as_millis().to_string()),
    ("SM_STRESS_RECHECK", u8::from(recheck).to_string()),
  ];
  let readers: Vec<Child> = (0..2).map(|_| spawn("reader", &env)).collect();
  let mut total = (0, 0);
  for mut reader in readers {
    let mut out = BufReader::new(reader.stdout.take().unwrap());
    let words = said(&mut out);
    assert!(reader.wait().unwrap().success());
    total.0 += words[1].parse::<u64>().unwrap();
    total.1 += words[3].parse::<u64>().unwrap();
  }
  let _ = w.kill(); // ours, by its handle
  let _ = w.wait();
  total
}

#[test]
fn processes_racing_the_writer_never_accept_a_torn_value() {
  let (reads, torn) = across_processes(true, seconds());
  eprintln!("across processes, with the re-check: {torn} torn in {reads} reads");
  assert!(reads > 1000, "the readers read ({reads})");
  assert_eq!(torn, 0, "torn or backwards values among {reads} reads");
}

#[test]
fn negative_control_across_processes_without_the_recheck_sees_tears() {
  // The readers stop at their first tear: this usually takes well under a second.
  let (reads, torn) = across_processes(false, seconds().max(Duration::from_secs(20)));
  eprintln!(
    "across processes, without the re-check: {torn} torn in {reads} reads (stopped at the first)"
  );
  assert!(
    torn > 0,
    "no torn value in {reads} reads without the re-check"
  );
}

/// A child process of the tests above; does nothing unless run by them.
#[test]
#[ignore]
fn child() {
  let Ok(role) = std::env::var("SM_STRESS_ROLE") else {
    return;
  };
  let var = |name: &str| std::env::var(name).unwrap().parse::<u64>().unwrap();
  let run = Duration::from_millis(var("SM_STRESS_MS"));
  let deadline = Instant::now() + run;
  if role == "writer" {
    let shape = Shape {
      capacity: 64,
      arena_words: 1 << 14,
    };
    let (published, mut w, _) = Published::create(shape).unwrap();
    println!(
      "STRESS segment {} {}",
      std::process::id(),
      published.read_only_fd()
    );
    let mut version = 0;
    while Instant::now() < deadline {
      version += 1;
      for i in 0..KEYS {
        w.set(&key(i), &stamped(i, version), NEVER).unwrap();
      }
    }
    return;
  }
  let reader = open_published(var("SM_STRESS_PID") as u32, var("SM_STRESS_FD") as i32).unwrap();
  let recheck = var("SM_STRESS_RECHECK") == 1;
  let (mut reads, mut torn, mut out) = (0u64, 0u64, Vec::new());
  let mut newest = [0u64; KEYS];
  while Instant::now() < deadline && (recheck || torn == 0) {
    for (i, newest) in newest.iter_mut().enumerate() {
      if let Ok(Some(_)) = reader.lookup(&key(i), 0, &mut out, recheck) {
        reads += 1;
        match check(i, &out) {
          Some(version) if version >= *newest => *newest = version,
          _ => torn += 1, // mixed bytes, or older than a version already seen
        }
      }
    }
  }
  println!("STRESS reads {reads} torn {torn}");
}
