//! Framing on the local socket: each message is a 4-byte little-endian
//! length followed by that many bytes (a batch, as in `protocol`).

use std::io::{self, IoSlice, Read, Write};

/// Larger frames are refused: no honest batch comes near this.
pub const MAX_FRAME_BYTES: usize = 1 << 30;

/// Frames up to this size are copied behind their header and written in
/// one call; larger ones are written from where they are (header and
/// payload in one vectored call), sparing a copy.
const COPY_BELOW: usize = 16 * 1024;

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
/// connection cleanly between frames.
pub fn read_frame(mut input: impl Read, buf: &mut Vec<u8>) -> io::Result<bool> {
  let mut header = [0u8; 4];
  match input.read_exact(&mut header) {
    Ok(()) => {}
    Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
    Err(err) => return Err(err),
  }
  let len = u32::from_le_bytes(header) as usize;
  if len > MAX_FRAME_BYTES {
    return Err(io::Error::new(
      io::ErrorKind::InvalidData,
      "frame too large",
    ));
  }
  buf.clear();
  buf.resize(len, 0);
  input.read_exact(buf)?;
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
    assert!(read_frame(&mut input, &mut buf).unwrap());
    assert_eq!(buf, b"[[1,0]]");
    assert!(read_frame(&mut input, &mut buf).unwrap());
    assert!(buf.is_empty());
    assert!(!read_frame(&mut input, &mut buf).unwrap());
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
    assert!(read_frame(&wire.0[..], &mut buf).unwrap());
    assert_eq!(buf, payload);
  }

  #[test]
  fn oversized_and_truncated_frames_are_errors() {
    let huge = ((MAX_FRAME_BYTES + 1) as u32).to_le_bytes();
    assert!(read_frame(&huge[..], &mut Vec::new()).is_err());
    let truncated = [5u8, 0, 0, 0, b'x'];
    assert!(read_frame(&truncated[..], &mut Vec::new()).is_err());
  }
}
