//! Automerge change chunks from a peer, decoded and measured here before
//! Automerge sees a byte of them.
//!
//! A sync message carries its changes as a list of chunks:
//!
//! ```text
//! chunk:  magic 85 6f 4a 83 | checksum 4 | type 1 | length uleb128 | data
//! type:   0 document, 1 change, 2 compressed change (DEFLATE of a change's data), 3 bundle
//! change: deps (n, n × 32) | actor (len, bytes) | seq | start op | time | message (len, utf-8)
//!         | other actors (n, n × (len, bytes)) | ops columns (n, n × (spec, len)) | column data | extra
//! ```
//!
//! Automerge inflates a compressed chunk with no limit before it checks
//! anything (a 510 KiB chunk took a node to 1.6 GiB), and it walks a
//! change's run-length-encoded columns op by op, so a few bytes can claim
//! 10¹² operations. [`decode_change`] therefore:
//!
//! - takes exactly one chunk per list entry, of type 1 or 2 (a document or
//!   bundle is refused where a change is expected);
//! - inflates a compressed chunk itself, within the message's byte budget,
//!   and hands Automerge the equivalent uncompressed chunk (same hash);
//! - counts the operations and predecessors the columns claim, without
//!   expanding a run, against the message's budget;
//! - only then lets Automerge parse the change, and checks its checksum.

use std::io::Read;

use automerge::Change;

/// The bytes every chunk starts with.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The most bytes the changes of one message may take once inflated: a
/// 10,000-row import is one change of about 2 MiB inflated.
pub const MAX_INFLATED_BYTES: usize = 32 * 1024 * 1024;
/// The most operations the changes of one message may hold (a 10,000-row
/// import holds about 200,000).
pub const MAX_OPS: u64 = 2_000_000;
/// The most predecessor references the changes of one message may hold.
pub const MAX_PREDS: u64 = 2_000_000;

/// Chunk type: a whole document.
pub const TYPE_DOCUMENT: u8 = 0;
/// Chunk type: one change.
pub const TYPE_CHANGE: u8 = 1;
/// Chunk type: one change, its data DEFLATE-compressed.
pub const TYPE_COMPRESSED: u8 = 2;
/// Chunk type: a bundle of changes.
pub const TYPE_BUNDLE: u8 = 3;

/// Column ids and types of a change's op columns (Automerge's storage format).
const ACTION_COLUMN: u32 = 4;
const PRED_COLUMN: u32 = 7;
const TYPE_GROUP: u32 = 0;
const TYPE_INTEGER: u32 = 2;
const DEFLATE_BIT: u32 = 0b1000;

/// Why a change chunk was refused. Any of these is the peer's fault: no
/// honest node sends it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkRejected {
    /// It does not start like a chunk, or ends inside its header.
    #[error("a change is not an Automerge chunk")]
    NotAChunk,
    /// A whole document where a change is expected.
    #[error("a document chunk where a change is expected")]
    Document,
    /// A bundle where a change is expected.
    #[error("a bundle chunk where a change is expected")]
    Bundle,
    /// A chunk type Automerge does not define.
    #[error("unknown chunk type {0}")]
    UnknownType(u8),
    /// The list entry holds more than one chunk, or its length is wrong.
    #[error("a change entry holds {0} bytes after its chunk")]
    Trailing(usize),
    /// The message's changes inflate to more than [`MAX_INFLATED_BYTES`].
    #[error("the message's changes inflate to more than {} MiB", MAX_INFLATED_BYTES >> 20)]
    TooLarge,
    /// The compressed data is not valid DEFLATE.
    #[error("a compressed change does not inflate")]
    BadDeflate,
    /// The change's fields do not parse.
    #[error("malformed change: {0}")]
    Malformed(&'static str),
    /// The message's changes claim more operations than [`MAX_OPS`] (or
    /// predecessors than [`MAX_PREDS`]).
    #[error("the message's changes claim more than {cap} {what}")]
    TooManyOps {
        /// Operations or predecessors.
        what: &'static str,
        /// The cap.
        cap: u64,
    },
    /// A change column is compressed, which changes never are.
    #[error("a change has a compressed column")]
    CompressedColumn,
    /// The same column appears twice.
    #[error("a change lists column {0:#x} twice")]
    DuplicateColumn(u32),
    /// Automerge could not read the change.
    #[error("automerge cannot read a change: {0}")]
    Unreadable(String),
    /// The chunk's checksum is not its hash's.
    #[error("a change's checksum does not match its contents")]
    BadChecksum,
}

/// What the changes of one message may still use.
#[derive(Debug, Clone)]
pub struct Budget {
    bytes: usize,
    ops: u64,
    preds: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            bytes: MAX_INFLATED_BYTES,
            ops: MAX_OPS,
            preds: MAX_PREDS,
        }
    }
}

/// A change that passed [`decode_change`].
#[derive(Debug, Clone)]
pub struct DecodedChange {
    /// The change as Automerge reads it.
    pub change: Change,
    /// The uncompressed change chunk (what to give Automerge and store).
    pub chunk: Vec<u8>,
}

/// Decodes one entry of a sync message's change list, charging `budget`.
pub fn decode_change(entry: &[u8], budget: &mut Budget) -> Result<DecodedChange, ChunkRejected> {
    let header = Header::parse(entry)?;
    let data = &entry[header.header_len..];
    if data.len() != header.data_len {
        return Err(if data.len() > header.data_len {
            ChunkRejected::Trailing(data.len() - header.data_len)
        } else {
            ChunkRejected::NotAChunk
        });
    }
    let chunk = match header.kind {
        TYPE_CHANGE => {
            charge(&mut budget.bytes, data.len())?;
            entry.to_vec()
        }
        TYPE_COMPRESSED => encode_chunk(TYPE_CHANGE, header.checksum, &inflate(data, budget)?),
        TYPE_DOCUMENT => return Err(ChunkRejected::Document),
        TYPE_BUNDLE => return Err(ChunkRejected::Bundle),
        other => return Err(ChunkRejected::UnknownType(other)),
    };
    let body = &chunk[chunk.len() - body_len(&chunk)?..];
    let counts = count_ops(body)?;
    charge_ops(&mut budget.ops, counts.ops, "operations", MAX_OPS)?;
    charge_ops(&mut budget.preds, counts.preds, "predecessors", MAX_PREDS)?;
    let change =
        Change::try_from(chunk.as_slice()).map_err(|e| ChunkRejected::Unreadable(e.to_string()))?;
    if change.hash().0[..4] != header.checksum {
        return Err(ChunkRejected::BadChecksum);
    }
    Ok(DecodedChange { change, chunk })
}

/// A change chunk as it should travel: an uncompressed change over
/// [`COMPRESS_OVER`] bytes becomes a compressed change chunk (its data
/// deflated at zlib's default level, as Automerge compresses: a 2 MiB
/// import deflates to about a sixth in some 20 ms; the fastest level saves
/// half that time and sends 45% more), if that is smaller; anything else
/// is returned as it is.
/// The checksum, and so the change's hash and signature, stay the same.
pub fn compress_change(chunk: &[u8]) -> Vec<u8> {
    let Ok(header) = Header::parse(chunk) else {
        return chunk.to_vec();
    };
    let data = &chunk[header.header_len..];
    if header.kind != TYPE_CHANGE || data.len() != header.data_len || data.len() <= COMPRESS_OVER {
        return chunk.to_vec();
    }
    let mut deflated = Vec::with_capacity(data.len() / 4);
    let mut encoder = flate2::read::DeflateEncoder::new(data, flate2::Compression::default());
    if encoder.read_to_end(&mut deflated).is_err() || deflated.len() + 8 >= data.len() {
        return chunk.to_vec();
    }
    encode_chunk(TYPE_COMPRESSED, header.checksum, &deflated)
}

/// Changes up to this many bytes travel uncompressed (Automerge's own
/// threshold).
pub const COMPRESS_OVER: usize = 256;

/// A chunk of type `kind` around `data`. (A change chunk's checksum is the
/// first four bytes of its hash, which covers the uncompressed data, so a
/// compressed change and its inflated form share one.)
pub fn encode_chunk(kind: u8, checksum: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(data.len() + 16);
    chunk.extend_from_slice(&MAGIC);
    chunk.extend_from_slice(&checksum);
    chunk.push(kind);
    write_uleb(&mut chunk, data.len() as u64);
    chunk.extend_from_slice(data);
    chunk
}

fn charge(left: &mut usize, n: usize) -> Result<(), ChunkRejected> {
    *left = left.checked_sub(n).ok_or(ChunkRejected::TooLarge)?;
    Ok(())
}

fn charge_ops(left: &mut u64, n: u64, what: &'static str, cap: u64) -> Result<(), ChunkRejected> {
    *left = left
        .checked_sub(n)
        .ok_or(ChunkRejected::TooManyOps { what, cap })?;
    Ok(())
}

/// Inflates DEFLATE data, never holding more than the budget allows.
fn inflate(data: &[u8], budget: &mut Budget) -> Result<Vec<u8>, ChunkRejected> {
    let limit = budget.bytes as u64;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|_| ChunkRejected::BadDeflate)?;
    if out.len() as u64 > limit {
        return Err(ChunkRejected::TooLarge);
    }
    charge(&mut budget.bytes, out.len())?;
    Ok(out)
}

/// A chunk header.
struct Header {
    checksum: [u8; 4],
    kind: u8,
    data_len: usize,
    header_len: usize,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Header, ChunkRejected> {
        let mut r = Reader(bytes);
        let magic = r.take(4).map_err(|_| ChunkRejected::NotAChunk)?;
        if magic != MAGIC {
            return Err(ChunkRejected::NotAChunk);
        }
        let checksum: [u8; 4] = r
            .take(4)
            .ok()
            .and_then(|c| c.try_into().ok())
            .ok_or(ChunkRejected::NotAChunk)?;
        let kind = r.take(1).map_err(|_| ChunkRejected::NotAChunk)?[0];
        let data_len = r.uleb().map_err(|_| ChunkRejected::NotAChunk)?;
        let data_len = usize::try_from(data_len).map_err(|_| ChunkRejected::NotAChunk)?;
        Ok(Header {
            checksum,
            kind,
            data_len,
            header_len: bytes.len() - r.0.len(),
        })
    }
}

/// The length of an uncompressed chunk's data.
fn body_len(chunk: &[u8]) -> Result<usize, ChunkRejected> {
    Ok(Header::parse(chunk)?.data_len)
}

/// What a change's columns claim.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    ops: u64,
    preds: u64,
}

/// Counts the operations (the length of the action column) and the
/// predecessor references (the sum of the pred group column) of an
/// uncompressed change's data, reading each run's length, never its
/// expansion.
fn count_ops(data: &[u8]) -> Result<Counts, ChunkRejected> {
    let m = ChunkRejected::Malformed;
    let mut r = Reader(data);
    let deps = r.uleb().map_err(|_| m("dependencies"))?;
    let deps = usize::try_from(deps).map_err(|_| m("dependencies"))?;
    r.take(deps.checked_mul(32).ok_or(m("dependencies"))?)
        .map_err(|_| m("dependencies"))?;
    r.bytes().map_err(|_| m("actor"))?;
    r.uleb().map_err(|_| m("sequence number"))?;
    r.uleb().map_err(|_| m("start op"))?;
    r.sleb().map_err(|_| m("timestamp"))?;
    r.bytes().map_err(|_| m("message"))?;
    let others = r.uleb().map_err(|_| m("actors"))?;
    for _ in 0..others {
        r.bytes().map_err(|_| m("actors"))?;
    }
    let columns = r.uleb().map_err(|_| m("columns"))?;
    let mut specs = Vec::new();
    for _ in 0..columns {
        let spec = u32::try_from(r.uleb().map_err(|_| m("columns"))?).map_err(|_| m("columns"))?;
        let len = r.uleb().map_err(|_| m("columns"))?;
        let len = usize::try_from(len).map_err(|_| m("columns"))?;
        if spec & DEFLATE_BIT != 0 {
            return Err(ChunkRejected::CompressedColumn);
        }
        if specs.iter().any(|(s, _)| *s == spec) {
            return Err(ChunkRejected::DuplicateColumn(spec));
        }
        specs.push((spec, len));
    }
    let mut counts = Counts::default();
    for (spec, len) in specs {
        let column = r.take(len).map_err(|_| m("column data"))?;
        let (id, kind) = (spec >> 4, spec & 0b111);
        if id == ACTION_COLUMN && kind == TYPE_INTEGER {
            counts.ops = rle_total(column, false)?;
        } else if id == PRED_COLUMN && kind == TYPE_GROUP {
            counts.preds = rle_total(column, true)?;
        }
    }
    Ok(counts)
}

/// For a run-length-encoded column of unsigned integers: the number of
/// values it holds, or (`sum`) their total. Runs are `count > 0` then one
/// value repeated, `count < 0` then `-count` literal values, `0` then a
/// count of nulls.
fn rle_total(column: &[u8], sum: bool) -> Result<u64, ChunkRejected> {
    let bad = || ChunkRejected::Malformed("run-length column");
    let too_many = || ChunkRejected::TooManyOps {
        what: if sum { "predecessors" } else { "operations" },
        cap: if sum { MAX_PREDS } else { MAX_OPS },
    };
    let mut r = Reader(column);
    let mut total: u64 = 0;
    while !r.0.is_empty() {
        let count = r.sleb().map_err(|_| bad())?;
        let add = if count > 0 {
            let value = r.uleb().map_err(|_| bad())?;
            let n = count.unsigned_abs();
            if sum { n.checked_mul(value) } else { Some(n) }
        } else if count < 0 {
            let n = count.unsigned_abs();
            let mut s: u64 = 0;
            for _ in 0..n {
                let value = r.uleb().map_err(|_| bad())?;
                s = s
                    .checked_add(if sum { value } else { 1 })
                    .ok_or_else(too_many)?;
            }
            Some(s)
        } else {
            let nulls = r.uleb().map_err(|_| bad())?;
            Some(if sum { 0 } else { nulls })
        };
        total = add
            .and_then(|a| total.checked_add(a))
            .filter(|t| *t <= if sum { MAX_PREDS } else { MAX_OPS })
            .ok_or_else(too_many)?;
    }
    Ok(total)
}

fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads LEB128 integers and byte strings from a slice.
struct Reader<'a>(&'a [u8]);

/// A read past the end, or an integer too long for 64 bits.
struct Short;

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(Short)?;
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, Short> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = *self.take(1)?.first().ok_or(Short)?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err(Short);
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Short)
    }

    fn sleb(&mut self) -> Result<i64, Short> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let b = *self.take(1)?.first().ok_or(Short)?;
            if shift >= 64 {
                return Err(Short);
            }
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
        }
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self) -> Result<&'a [u8], Short> {
        let n = usize::try_from(self.uleb()?).map_err(|_| Short)?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests;
