//! Framing on the local socket: each message is a 4-byte little-endian
//! length followed by that many bytes (a batch, as in `protocol`).

use std::io::{self, Read, Write};

/// Larger frames are refused: no honest batch comes near this.
pub const MAX_FRAME_BYTES: usize = 1 << 30;

pub fn write_frame(mut out: impl Write, payload: &[u8]) -> io::Result<()> {
  if payload.len() > MAX_FRAME_BYTES {
    return Err(io::Error::new(
      io::ErrorKind::InvalidInput,
      "frame too large",
    ));
  }
  // One write per frame: header and payload in one buffer.
  let mut frame = Vec::with_capacity(4 + payload.len());
  frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
  frame.extend_from_slice(payload);
  out.write_all(&frame)?;
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

  #[test]
  fn oversized_and_truncated_frames_are_errors() {
    let huge = ((MAX_FRAME_BYTES + 1) as u32).to_le_bytes();
    assert!(read_frame(&huge[..], &mut Vec::new()).is_err());
    let truncated = [5u8, 0, 0, 0, b'x'];
    assert!(read_frame(&truncated[..], &mut Vec::new()).is_err());
  }
}
