//! Sealing the store's document data under the store key.
//!
//! With a passphrase, the value of every row that holds document data
//! (each change, each snapshot piece, a whole snapshot of an older store,
//! each equivocation proof, which carries two changes) is sealed with
//! XChaCha20-Poly1305 (`secrets::Key::seal`), its associated data the
//! table's name and the row's key, so a value copied to another row does
//! not open. Everything else stays in the clear: the change hashes and
//! their signatures, peers' sync states (hashes and Bloom filters),
//! addresses, signed network records and cards (public by design), the
//! epoch records and the meta entries (the group's name and id, invite
//! token hashes, the ids of forgotten members, never a name).
//!
//! A sealed store says so in its meta table (`sealed`: a check value
//! sealed under the key), so opening it without the key, or with another
//! key, is refused before anything is read or written.

use std::borrow::Cow;

use super::{META, Store, StoreError};
use crate::secrets::Key;

/// The meta entry of a sealed store.
pub(super) const SEALED_KEY: &str = "sealed";
const CHECK: &[u8] = b"groundwork store sealed v1";
const CHECK_AAD: &[u8] = b"groundwork store seal check";

/// The tables whose values are sealed, by name.
pub(super) const CHANGES_T: &str = "changes";
pub(super) const PIECES_T: &str = "snapshot_pieces";
pub(super) const SNAPSHOTS_T: &str = "snapshots";
pub(super) const PROOFS_T: &str = "equivocations";

/// A row's associated data: table name, a zero byte, the key's parts.
pub(super) fn aad(table: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(table.len() + 1 + parts.iter().map(|p| p.len()).sum::<usize>());
    v.extend_from_slice(table.as_bytes());
    v.push(0);
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

/// A change row's associated data.
pub(super) fn change_aad(doc: &[u8], seq: u64) -> Vec<u8> {
    aad(CHANGES_T, &[doc, &seq.to_be_bytes()])
}

/// A snapshot piece's.
pub(super) fn piece_aad(doc: &[u8], n: u32) -> Vec<u8> {
    aad(PIECES_T, &[doc, &n.to_be_bytes()])
}

/// A proof's.
pub(super) fn proof_aad(doc: &[u8], device: &[u8], seq: u64) -> Vec<u8> {
    aad(PROOFS_T, &[doc, device, &seq.to_be_bytes()])
}

/// Seals `v` under `key`, or leaves it as it is without one.
pub(super) fn seal<'a>(key: Option<&Key>, aad: &[u8], v: &'a [u8]) -> Cow<'a, [u8]> {
    match key {
        Some(k) => Cow::Owned(k.seal(aad, v)),
        None => Cow::Borrowed(v),
    }
}

/// Opens what [`seal`] sealed; a value that does not open is an error
/// naming the file and table.
pub(super) fn open<'a>(
    key: Option<&Key>,
    path: &std::path::Path,
    table: &str,
    aad: &[u8],
    v: &'a [u8],
) -> Result<Cow<'a, [u8]>, StoreError> {
    match key {
        None => Ok(Cow::Borrowed(v)),
        Some(k) => k
            .open(aad, v)
            .map(|z| Cow::Owned(z.to_vec()))
            .ok_or_else(|| StoreError::Damaged {
                path: path.to_owned(),
                table: table.to_owned(),
            }),
    }
}

impl Store {
    /// The key this store's values are sealed with, if it is sealed.
    pub(super) fn key(&self) -> Option<&Key> {
        self.seal.as_ref()
    }

    /// Whether the store file at `path` is sealed, read without opening
    /// it for writing (`status` on a running node's directory).
    pub fn is_sealed_file(path: &std::path::Path) -> Result<bool, StoreError> {
        use redb::{ReadOnlyDatabase, ReadableDatabase as _};
        let db = ReadOnlyDatabase::open(path).map_err(|e| StoreError::from_open(path, e))?;
        let tx = db.begin_read()?;
        let meta = tx.open_table(META)?;
        Ok(meta.get(SEALED_KEY)?.is_some())
    }

    /// Whether the store's document data is sealed.
    pub fn is_sealed(&self) -> bool {
        self.seal.is_some()
    }

    /// Marks a new store as sealed under `key` (in its creating transaction).
    pub(super) fn write_check(tx: &redb::WriteTransaction, key: &Key) -> Result<(), StoreError> {
        let check = key.seal(CHECK_AAD, CHECK);
        tx.open_table(META)?.insert(SEALED_KEY, &check[..])?;
        Ok(())
    }

    /// At open: whether the file is sealed and, if so, that `key` is its
    /// key. Returns the key to seal with.
    pub(super) fn check_seal(&self, key: Option<Key>) -> Result<Option<Key>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let Some(check) = meta.get(SEALED_KEY)? else {
            return Ok(None);
        };
        let Some(key) = key else {
            return Err(StoreError::Protected(self.path.clone()));
        };
        match key.open(CHECK_AAD, check.value()) {
            Some(v) if v.as_slice() == CHECK => Ok(Some(key)),
            _ => Err(StoreError::WrongKey(self.path.clone())),
        }
    }
}
