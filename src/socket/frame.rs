//! Framing on the local socket: each message is a 4-byte little-endian
//! length followed by that many bytes (a batch, as in `protocol`).
//!
//! A reader never trusts the length a header declares: it is checked
//! against the limit the caller gives before anything is read, and the
//! buffer then grows with the bytes that actually arrive, in steps of at
//! most [`READ_STEP`] or the size already received, so a header alone
//! costs no memory. See "Limits" in the README.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};

/// The largest frame either side writes or reads: 1 GiB. A request batch
/// carries every request one process made in one event-loop turn, with no
/// bound on how many, and the client neither splits a batch nor recovers
/// a connection the server closed; so no tighter limit can be derived from
/// `maxValueSize` without turning honest heavy turns into lost
/// connections. What it costs the server is only what a peer that holds
/// the token actually sends (see [`read_frame`]), never what it claims.
pub const MAX_FRAME_BYTES: usize = 1 << 30;

/// Frames up to this size are copied behind their header and written in
/// one call; larger ones are written from where they are (header and
/// payload in one vectored call), sparing a copy.
const COPY_BELOW: usize = 16 * 1024;

/// The first step by which a frame's buffer grows while its bytes arrive;
/// later steps are as large as what was received so far (so a frame of n
/// bytes takes about log2(n / READ_STEP) steps, and its buffer holds at
/// most twice what arrived, plus one step).
pub const READ_STEP: usize = 64 * 1024;

/// A header declared a frame longer than the reader's limit. Carried inside
/// the [`io::Error`] (of kind `InvalidData`) that [`read_frame`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTooLarge {
  pub declared: usize,
  pub limit: usize,
}

impl fmt::Display for FrameTooLarge {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
      f,
      "a frame of {} bytes is over the limit of {} bytes",
      self.declared, self.limit
    )
  }
}

impl std::error::Error for FrameTooLarge {}

impl FrameTooLarge {
  /// The limit that `err` (from [`read_frame`]) says a header went over, if that is what it says.
  pub fn of(err: &io::Error) -> Option<FrameTooLarge> {
    err.get_ref()?.downcast_ref::<FrameTooLarge>().copied()
  }
}

pub fn write_frame(mut out: impl Write, payload: &[u8]) -> io::Result<()> {
  if payload.len() > MAX_FRAME_BYTES {
    return Err(io::Error::new(
      io::ErrorKind::InvalidInput,
      "frame too large",
    ));
  }
  let header = (payload.len() as u32).to_le_bytes();
  if payload.len() < COPY_BELOW {
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(payload);
    out.write_all(&frame)?;
  } else {
    let mut parts = [IoSlice::new(&header), IoSlice::new(payload)];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
      match out.write_vectored(parts) {
        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
        Ok(written) => IoSlice::advance_slices(&mut parts, written),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
        Err(err) => return Err(err),
      }
    }
  }
  out.flush()
}

/// Reads one frame into `buf`. `Ok(false)` means the peer closed the
/// connection cleanly between frames. A header declaring more than `limit`
/// bytes is an error ([`FrameTooLarge`]) before any of the frame is read.
/// `buf` keeps its capacity when it is large enough; otherwise it grows
/// only as bytes arrive, never to the declared length up front.
pub fn read_frame(mut input: impl Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<bool> {
  let mut header = [0u8; 4];
  match input.read_exact(&mut header) {
    Ok(()) => {}
    Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
    Err(err) => return Err(err),
  }
  let len = u32::from_le_bytes(header) as usize;
  if len > limit.min(MAX_FRAME_BYTES) {
    return Err(io::Error::new(
      io::ErrorKind::InvalidData,
      FrameTooLarge {
        declared: len,
        limit: limit.min(MAX_FRAME_BYTES),
      },
    ));
  }
  buf.clear();
  while buf.len() < len {
    let start = buf.len();
    let step = (len - start).min(start.max(READ_STEP));
    // Within the capacity a reused buffer already has, this allocates nothing.
    buf.resize(start + step, 0);
    if let Err(err) = input.read_exact(&mut buf[start..]) {
      buf.clear();
      return Err(err);
    }
  }
  Ok(true)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn frames_round_trip_and_eof_is_clean() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"[[1,0]]").unwrap();
    write_frame(&mut wire, b"").unwrap();
    let mut input = &wire[..];
    let mut buf = Vec::new();
    assert!(read_frame(&mut input, &mut buf, MAX_FRAME_BYTES).unwrap());
    assert_eq!(buf, b"[[1,0]]");
    assert!(read_frame(&mut input, &mut buf, MAX_FRAME_BYTES).unwrap());
    assert!(buf.is_empty());
    assert!(!read_frame(&mut input, &mut buf, MAX_FRAME_BYTES).unwrap());
  }

  /// A writer that takes at most 7 bytes a call, to exercise partial writes.
  struct Trickle(Vec<u8>);

  impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
      let n = buf.len().min(7);
      self.0.extend_from_slice(&buf[..n]);
      Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
      Ok(())
    }
  }

  #[test]
  fn large_frames_survive_partial_writes() {
    let payload: Vec<u8> = (0..COPY_BELOW * 2).map(|i| (i % 251) as u8).collect();
    let mut wire = Trickle(Vec::new());
    write_frame(&mut wire, &payload).unwrap();
    let mut buf = Vec::new();
    assert!(read_frame(&wire.0[..], &mut buf, MAX_FRAME_BYTES).unwrap());
    assert_eq!(buf, payload);
  }

  #[test]
  fn oversized_and_truncated_frames_are_errors() {
    let huge = ((MAX_FRAME_BYTES + 1) as u32).to_le_bytes();
    let err = read_frame(&huge[..], &mut Vec::new(), usize::MAX).unwrap_err();
    assert_eq!(
      FrameTooLarge::of(&err),
      Some(FrameTooLarge {
        declared: MAX_FRAME_BYTES + 1,
        limit: MAX_FRAME_BYTES
      })
    );
    let truncated = [5u8, 0, 0, 0, b'x'];
    let err = read_frame(&truncated[..], &mut Vec::new(), MAX_FRAME_BYTES).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
  }

  /// A header followed by `body`, then the end of the input.
  fn claiming(declared: u32, body: &[u8]) -> Vec<u8> {
    let mut wire = declared.to_le_bytes().to_vec();
    wire.extend_from_slice(body);
    wire
  }

  #[test]
  fn a_header_alone_allocates_nothing_like_what_it_claims() {
    let wire = claiming(1 << 30, b"");
    let mut buf = Vec::new();
    let err = read_frame(&wire[..], &mut buf, MAX_FRAME_BYTES).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(
      buf.capacity() <= READ_STEP,
      "{} bytes for a header claiming 1 GiB",
      buf.capacity()
    );
  }

  #[test]
  fn the_buffer_grows_with_what_arrives_not_with_the_claim() {
    let body = vec![7u8; 300 * 1024];
    let wire = claiming(1 << 30, &body);
    let mut buf = Vec::new();
    assert!(read_frame(&wire[..], &mut buf, MAX_FRAME_BYTES).is_err());
    assert!(
      buf.capacity() <= 2 * body.len() + READ_STEP,
      "{} bytes after {} arrived",
      buf.capacity(),
      body.len()
    );
    // A frame that is all there still arrives whole, whatever its size.
    let wire = claiming(body.len() as u32, &body);
    assert!(read_frame(&wire[..], &mut buf, MAX_FRAME_BYTES).unwrap());
    assert_eq!(buf, body);
  }

  #[test]
  fn a_frame_over_the_limit_is_refused_before_any_of_it_is_read() {
    let wire = claiming(257, &[b'x'; 257]);
    let mut input = &wire[..];
    let mut buf = Vec::new();
    let err = read_frame(&mut input, &mut buf, 256).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
      FrameTooLarge::of(&err),
      Some(FrameTooLarge {
        declared: 257,
        limit: 256
      })
    );
    assert_eq!(input.len(), 257, "only the header was read");
    assert_eq!(buf.capacity(), 0);
    let wire = claiming(256, &[b'x'; 256]);
    assert!(read_frame(&wire[..], &mut buf, 256).unwrap());
  }

  #[test]
  fn a_bare_token_without_its_length_is_refused_without_a_large_allocation() {
    // The first four hex digits read as a length: "a3f9" is 0x39663361, about 962 MB.
    let token = b"a3f9c2d07e5b4a1f8c6d2e9b0a7f3c5d1e8b4a6f2c9d0e7b3a5f1c8d6e2b9a04";
    let mut buf = Vec::new();
    let err = read_frame(&token[..], &mut buf, 256).unwrap_err();
    assert!(FrameTooLarge::of(&err).is_some());
    assert_eq!(buf.capacity(), 0);
  }
}
