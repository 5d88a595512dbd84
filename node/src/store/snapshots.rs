//! Snapshots stored in pieces.
//!
//! redb gives a value larger than a page a run of pages rounded up to a
//! power of two: the 139 KiB snapshot of a 10,000-member roster took
//! 256 KiB, and the store of a 10,000-member group was 2.2× the Automerge
//! saved size for that rounding alone. So a snapshot is kept as pieces of
//! at most [`PIECE_BYTES`] (each fits a 16 KiB run), keyed (document id,
//! piece number). Each piece is self-describing, so a reader of the raw
//! file (the privacy tests' decoder) can put a snapshot back together, from
//! freed pages too:
//!
//! ```text
//! "GWSP" | snapshot id 8 (blake3 of the whole, first 8 bytes) | piece u16 | count u16 | len u16 | len bytes
//! ```
//!
//! A store written before kept each snapshot whole in the `snapshots`
//! table; it is read from there until the document's next snapshot.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::seal::{self, PIECES_T, SNAPSHOTS_T};
use super::{SNAPSHOTS, StoreError};

/// How a store's snapshot values are sealed: its key (none in the clear)
/// and its file, for errors.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sealing<'a> {
    pub key: Option<&'a crate::secrets::Key>,
    pub path: &'a std::path::Path,
}

/// (document id, piece number) to one piece of its snapshot.
pub(super) const SNAPSHOT_PIECES: TableDefinition<(&[u8], u32), &[u8]> =
    TableDefinition::new("snapshot_pieces");

/// The first bytes of every piece.
pub const PIECE_MAGIC: [u8; 4] = *b"GWSP";
/// A piece's header: magic, snapshot id, piece number, count, length.
pub const PIECE_HEADER: usize = 4 + 8 + 2 + 2 + 2;
/// The most bytes one piece holds, header included.
pub const PIECE_BYTES: usize = 16_000;

/// Replaces `doc`'s snapshot with `snapshot`, in pieces.
pub(super) fn write(
    tx: &WriteTransaction,
    doc: &[u8],
    snapshot: &[u8],
    sealing: Sealing<'_>,
) -> Result<(), StoreError> {
    tx.open_table(SNAPSHOTS)?.remove(doc)?;
    let mut pieces = tx.open_table(SNAPSHOT_PIECES)?;
    pieces.retain_in((doc, 0)..=(doc, u32::MAX), |_, _| false)?;
    let id = blake3::hash(snapshot);
    let parts: Vec<&[u8]> = if snapshot.is_empty() {
        vec![&[][..]]
    } else {
        snapshot.chunks(PIECE_BYTES - PIECE_HEADER).collect()
    };
    let count = u16::try_from(parts.len())
        .map_err(|_| StoreError::Backend("a snapshot over 1 GiB".into()))?;
    for (i, part) in parts.iter().enumerate() {
        let mut v = Vec::with_capacity(PIECE_HEADER + part.len());
        v.extend_from_slice(&PIECE_MAGIC);
        v.extend_from_slice(&id.as_bytes()[..8]);
        v.extend_from_slice(&(i as u16).to_be_bytes());
        v.extend_from_slice(&count.to_be_bytes());
        v.extend_from_slice(&(part.len() as u16).to_be_bytes());
        v.extend_from_slice(part);
        let aad = seal::piece_aad(doc, i as u32);
        pieces.insert((doc, i as u32), &*seal::seal(sealing.key, &aad, &v))?;
    }
    Ok(())
}

/// One piece's header: (snapshot id, piece number, count, its bytes).
pub fn piece(v: &[u8]) -> Option<([u8; 8], u16, u16, &[u8])> {
    let (head, rest) = v.split_at_checked(PIECE_HEADER)?;
    if head[..4] != PIECE_MAGIC {
        return None;
    }
    let id: [u8; 8] = head[4..12].try_into().ok()?;
    let n = u16::from_be_bytes([head[12], head[13]]);
    let count = u16::from_be_bytes([head[14], head[15]]);
    let len = u16::from_be_bytes([head[16], head[17]]) as usize;
    let bytes = rest.get(..len)?;
    (n < count).then_some((id, n, count, bytes))
}

/// `doc`'s snapshot, if it has one: whole (a store written before
/// pieces), or put back together from its pieces. Pieces that do not make
/// one whole snapshot are an error naming the document.
pub(super) fn read(
    snapshots: &impl ReadableTable<&'static [u8], &'static [u8]>,
    pieces: &impl ReadableTable<(&'static [u8], u32), &'static [u8]>,
    doc: &[u8],
    sealing: Sealing<'_>,
) -> Result<Option<Vec<u8>>, String> {
    let opened = |table: &str, aad: &[u8], v: &[u8]| {
        seal::open(sealing.key, sealing.path, table, aad, v)
            .map(|c| c.into_owned())
            .map_err(|e| e.to_string())
    };
    if let Some(whole) = snapshots.get(doc).map_err(|e| e.to_string())? {
        return opened(SNAPSHOTS_T, &seal::aad(SNAPSHOTS_T, &[doc]), whole.value()).map(Some);
    }
    let mut out = Vec::new();
    let mut first: Option<([u8; 8], u16)> = None;
    let mut next = 0u16;
    for entry in pieces
        .range((doc, 0)..=(doc, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        let v = opened(PIECES_T, &seal::piece_aad(doc, k.value().1), v.value())?;
        let (id, n, count, bytes) = piece(&v).ok_or("a snapshot piece is malformed")?;
        match first {
            None => first = Some((id, count)),
            Some(f) if f != (id, count) => return Err("snapshot pieces of two snapshots".into()),
            Some(_) => {}
        }
        if n != next {
            return Err(format!("snapshot piece {next} is missing"));
        }
        next += 1;
        out.extend_from_slice(bytes);
    }
    match first {
        None => Ok(None),
        Some((id, count)) => {
            if next != count {
                return Err(format!(
                    "snapshot piece {next} is missing ({next} of its {count} pieces)"
                ));
            }
            if blake3::hash(&out).as_bytes()[..8] != id {
                return Err("snapshot pieces do not make the snapshot they name".into());
            }
            Ok(Some(out))
        }
    }
}

/// The length of `doc`'s snapshot, without putting it together.
pub(super) fn len(
    snapshots: &impl ReadableTable<&'static [u8], &'static [u8]>,
    pieces: &impl ReadableTable<(&'static [u8], u32), &'static [u8]>,
    doc: &[u8],
    sealed: bool,
) -> Result<usize, StoreError> {
    let overhead = if sealed {
        crate::secrets::SEAL_OVERHEAD
    } else {
        0
    };
    if let Some(whole) = snapshots.get(doc)? {
        return Ok(whole.value().len().saturating_sub(overhead));
    }
    let mut n = 0;
    for entry in pieces.range((doc, 0)..=(doc, u32::MAX))? {
        n += entry?
            .1
            .value()
            .len()
            .saturating_sub(PIECE_HEADER + overhead);
    }
    Ok(n)
}
