//! Checking an Automerge sync message before Automerge sees it.
//!
//! `automerge::sync::Message::decode` accepts messages that make the
//! receiver fail later: a bloom filter with zero bits per entry makes the
//! next `generate_sync_message` divide by zero (the 10 bytes in
//! `tests/sync-crashers/bloom-zero-bits-per-entry.bin`), and one with a huge
//! probe count makes it allocate gigabytes. [`validate`] decodes under a
//! size cap, refuses anything outside what Automerge itself writes, and caps
//! every list, so only well-formed messages reach the document.

use automerge::sync::Message;

/// The largest sync message accepted: a frame's worth.
pub const MAX_SYNC_MESSAGE_LEN: usize = super::frame::MAX_FRAME_LEN as usize;
/// At most this many heads (concurrent branches) in one message.
pub const MAX_HEADS: usize = 1024;
/// At most this many explicitly requested changes.
pub const MAX_NEED: usize = 16_384;
/// At most this many "have" summaries (Automerge sends one).
pub const MAX_HAVE: usize = 8;
/// At most this many change chunks in one message.
pub const MAX_CHANGE_CHUNKS: usize = 100_000;
/// At most this many entries in one bloom filter.
pub const MAX_BLOOM_ENTRIES: u32 = 1_000_000;

/// The bloom filter parameters Automerge 0.12 writes (sync/bloom.rs).
const BITS_PER_ENTRY: u32 = 10;
const NUM_PROBES: u32 = 7;

/// Why a sync message was refused. Any of these ends the peer's session.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncMessageRejected {
    /// Over [`MAX_SYNC_MESSAGE_LEN`].
    #[error("sync message of {0} bytes is over the cap")]
    TooLarge(usize),
    /// Automerge could not decode it.
    #[error("malformed sync message: {0}")]
    Malformed(String),
    /// A list is longer than its cap.
    #[error("sync message has {count} {what}, over the cap of {cap}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// How many it had.
        count: usize,
        /// The cap.
        cap: usize,
    },
    /// A bloom filter Automerge would choke on.
    #[error("sync message has an invalid bloom filter: {0}")]
    BadBloom(String),
}

/// Decodes and checks a sync message from a peer.
pub fn validate(bytes: &[u8]) -> Result<Message, SyncMessageRejected> {
    if bytes.len() > MAX_SYNC_MESSAGE_LEN {
        return Err(SyncMessageRejected::TooLarge(bytes.len()));
    }
    // The decoder is not known to panic, but it is not ours: contain it.
    let decoded = std::panic::catch_unwind(|| Message::decode(bytes))
        .map_err(|_| SyncMessageRejected::Malformed("the decoder panicked".into()))?;
    let msg = decoded.map_err(|e| SyncMessageRejected::Malformed(e.to_string()))?;
    let cap = |what: &'static str, count: usize, cap: usize| {
        if count > cap {
            Err(SyncMessageRejected::TooMany { what, count, cap })
        } else {
            Ok(())
        }
    };
    cap("heads", msg.heads.len(), MAX_HEADS)?;
    cap("needed hashes", msg.need.len(), MAX_NEED)?;
    cap("have summaries", msg.have.len(), MAX_HAVE)?;
    cap("change chunks", msg.changes.len(), MAX_CHANGE_CHUNKS)?;
    for have in &msg.have {
        cap("last-sync heads", have.last_sync.len(), MAX_HEADS)?;
        check_bloom(&have.bloom.to_bytes())?;
    }
    Ok(msg)
}

/// A bloom filter is empty, or (entries, 10, 7) in LEB128 followed by
/// exactly `ceil(entries × 10 / 8)` bytes of bits.
fn check_bloom(bytes: &[u8]) -> Result<(), SyncMessageRejected> {
    if bytes.is_empty() {
        return Ok(());
    }
    let bad = |why: String| SyncMessageRejected::BadBloom(why);
    let mut rest = bytes;
    let mut next = || -> Result<u32, SyncMessageRejected> {
        let (v, used) = leb128_u32(rest).ok_or_else(|| bad("truncated header".into()))?;
        rest = &rest[used..];
        Ok(v)
    };
    let (entries, bits_per_entry, probes) = (next()?, next()?, next()?);
    if entries == 0 || entries > MAX_BLOOM_ENTRIES {
        return Err(bad(format!("{entries} entries")));
    }
    if bits_per_entry != BITS_PER_ENTRY || probes != NUM_PROBES {
        return Err(bad(format!(
            "{bits_per_entry} bits per entry and {probes} probes"
        )));
    }
    let expected = (u64::from(entries) * u64::from(bits_per_entry)).div_ceil(8);
    if rest.len() as u64 != expected {
        return Err(bad(format!(
            "{} bytes of bits for {entries} entries",
            rest.len()
        )));
    }
    Ok(())
}

/// An unsigned LEB128 value that fits in 32 bits, and the bytes it used.
fn leb128_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(5) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
