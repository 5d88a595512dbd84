//! Frames: `length: u32 big-endian | kind: u8 | payload`.
//!
//! `length` counts the kind byte and the payload. Every frame is capped
//! ([`MAX_FRAME_LEN`]); a header announcing more is rejected before any of
//! the payload is buffered, so a peer cannot make us allocate by lying.

/// The largest frame, kind byte included: 16 MiB. A first sync of a
/// 10,000-member roster is about 0.4 MiB; a 10,000-row import is one change
/// of about 2 MiB.
pub const MAX_FRAME_LEN: u32 = 16 * 1024 * 1024;

/// Bytes before the payload: the length and the kind.
pub const HEADER_LEN: usize = 5;

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What the payload is (each protocol defines its kinds).
    pub kind: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Why bytes are not a valid frame stream. Any of these ends the session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The announced length is over the cap.
    #[error("frame of {len} bytes is over the {cap}-byte cap")]
    Oversized {
        /// The announced length.
        len: u32,
        /// The cap in force.
        cap: u32,
    },
    /// A length of zero: not even a kind byte.
    #[error("empty frame (no kind byte)")]
    Empty,
}

/// Encodes a frame. Fails if the payload would exceed `cap`.
pub fn encode(kind: u8, payload: &[u8], cap: u32) -> Result<Vec<u8>, FrameError> {
    let len = u32::try_from(payload.len() + 1).unwrap_or(u32::MAX);
    if len > cap {
        return Err(FrameError::Oversized { len, cap });
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
    Ok(out)
}

/// Decodes frames from a byte stream fed in pieces of any size.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    cap: u32,
    failed: bool,
}

impl Decoder {
    /// A decoder enforcing `cap` (at most [`MAX_FRAME_LEN`]).
    pub fn new(cap: u32) -> Self {
        Self {
            buf: Vec::new(),
            cap: cap.min(MAX_FRAME_LEN),
            failed: false,
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `None` if more bytes are needed, or an error
    /// (after which the decoder yields only that error: the stream is dead).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        if self.failed || len == 0 || len > self.cap {
            self.failed = true;
            self.buf.clear();
            return Err(if len == 0 {
                FrameError::Empty
            } else {
                FrameError::Oversized { len, cap: self.cap }
            });
        }
        let total = 4 + len as usize;
        if self.buf.len() < total {
            return Ok(None);
        }
        let kind = self.buf[4];
        let payload = self.buf[HEADER_LEN..total].to_vec();
        self.buf.drain(..total);
        Ok(Some(Frame { kind, payload }))
    }

    /// How many bytes of an incomplete frame are buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The length the frame being received announced, once its header is in.
    pub fn announced(&self) -> Option<usize> {
        let h: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        Some(u32::from_be_bytes(h) as usize)
    }
}

/// Once a frame has begun, the peer has this long to finish it...
pub const FRAME_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// ...plus its length at this rate, in bytes a second: the slowest link a
/// group's node may sit on (a 256 kbit/s mobile link moves 32 KiB a
/// second). A peer trickling a byte every half second is cut off.
pub const MIN_RATE: u64 = 4096;

/// How long a peer may take to send a frame of `announced` bytes, from
/// its first byte.
pub fn frame_deadline(announced: usize) -> std::time::Duration {
    FRAME_GRACE + std::time::Duration::from_millis(announced as u64 * 1000 / MIN_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_frame_has_time_for_its_length_at_the_slowest_rate() {
        assert_eq!(frame_deadline(0), FRAME_GRACE);
        // A full 16 MiB frame: 10 s plus 4,096 s.
        assert_eq!(frame_deadline(MAX_FRAME_LEN as usize).as_secs(), 10 + 4096);
        let mut d = Decoder::new(MAX_FRAME_LEN);
        assert_eq!(d.announced(), None);
        d.push(&[0, 0, 4]);
        assert_eq!(d.announced(), None);
        d.push(&[0, 1]);
        assert_eq!(d.announced(), Some(1024));
    }

    #[test]
    fn the_encoding_is_fixed() {
        assert_eq!(
            encode(7, b"hi", MAX_FRAME_LEN),
            Ok(vec![0, 0, 0, 3, 7, b'h', b'i'])
        );
    }

    #[test]
    fn an_oversized_header_is_rejected_before_buffering_the_payload() {
        let mut d = Decoder::new(1024);
        d.push(&2048u32.to_be_bytes());
        assert_eq!(
            d.next_frame(),
            Err(FrameError::Oversized {
                len: 2048,
                cap: 1024
            })
        );
        assert_eq!(d.buffered(), 0);
        d.push(&encode(1, b"x", 1024).expect("small"));
        assert!(d.next_frame().is_err(), "a failed stream stays failed");
        let mut d = Decoder::new(1024);
        d.push(&[0, 0, 0, 0]);
        assert_eq!(d.next_frame(), Err(FrameError::Empty));
        assert!(matches!(
            encode(1, &[0; 2000], 1024),
            Err(FrameError::Oversized { .. })
        ));
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(frames in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 1..8), cut in 1usize..64) {
            let mut stream = Vec::new();
            for (k, p) in &frames {
                stream.extend(encode(*k, p, MAX_FRAME_LEN).expect("fits"));
            }
            let mut d = Decoder::new(MAX_FRAME_LEN);
            let mut got = Vec::new();
            for piece in stream.chunks(cut) {
                d.push(piece);
                while let Some(f) = d.next_frame().expect("valid stream") {
                    got.push((f.kind, f.payload));
                }
            }
            prop_assert_eq!(got, frames);
            prop_assert_eq!(d.buffered(), 0);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut d = Decoder::new(4096);
            d.push(&bytes);
            for _ in 0..bytes.len() + 1 {
                match d.next_frame() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
