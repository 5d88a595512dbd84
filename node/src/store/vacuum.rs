//! Vacuuming: rewriting the store file so that no page of it, in use or
//! free, holds bytes that were deleted.
//!
//! redb reuses and frees pages but never clears them, and its compaction
//! only moves pages from the end of the file into free ones, so a deleted
//! epoch can stay readable in a free page in the middle of the file. After
//! an epoch the store is therefore copied, table by table, into a new file
//! (committed durably), which then replaces the old one by a rename: a
//! crash at any moment leaves either the old file or the new one, whole.

use redb::{Database, ReadableTable, TableDefinition};

use super::epochs::EPOCHS;
use super::links::LINK_REQUESTS;
use super::proofs::EQUIVOCATIONS;
use super::seal;
use super::{
    CACHE_BYTES, CARDS, CHANGES, HISTORY, META, PEER_STATES, PEERS, RECORDS, SIGNATURES, SNAPSHOTS,
    Store, StoreError,
};
use crate::secrets::Key;

/// Every table the store has, by name: a table missing here would be lost
/// by a vacuum (`every_table_survives_a_vacuum` checks the list).
#[cfg(test)]
pub(super) const TABLES: [&str; 13] = [
    "meta",
    "snapshots",
    "snapshot_pieces",
    "changes",
    "signatures",
    "peer_states",
    "peers",
    "cards",
    "records",
    "summary_history_v2",
    "epochs",
    "link_requests",
    "equivocations",
];

/// The table to copy from; `None` if the store never made it.
fn source<K: redb::Key + 'static, V: redb::Value + 'static>(
    from: &redb::ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>, StoreError> {
    match from.open_table(def) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    from: &redb::ReadTransaction,
    to: &redb::WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<(), StoreError> {
    let Some(src) = source(from, def)? else {
        return Ok(());
    };
    let mut dst = to.open_table(def)?;
    for row in src.iter()? {
        let (k, v) = row?;
        dst.insert(k.value(), v.value())?;
    }
    Ok(())
}

/// Copies a table of sealed values, opening each under `old` and sealing
/// it under `new` (either may be none: the clear).
fn copy_resealed<K: redb::Key + 'static>(
    from: &redb::ReadTransaction,
    to: &redb::WriteTransaction,
    def: TableDefinition<K, &'static [u8]>,
    (table, path): (&str, &std::path::Path),
    aad: impl for<'a> Fn(&K::SelfType<'a>) -> Vec<u8>,
    (old, new): (Option<&Key>, Option<&Key>),
) -> Result<(), StoreError> {
    let Some(src) = source(from, def)? else {
        return Ok(());
    };
    let mut dst = to.open_table(def)?;
    for row in src.iter()? {
        let (k, v) = row?;
        let key = k.value();
        let aad = aad(&key);
        let plain = seal::open(old, path, table, &aad, v.value())?;
        dst.insert(key, &*seal::seal(new, &aad, &plain))?;
    }
    Ok(())
}

impl Store {
    /// Rewrites the file so no page of it, free or in use, holds deleted
    /// bytes (see the module docs).
    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        let key = self.seal.clone();
        self.vacuum_sealed(key)
    }

    /// Rewrites the file as [`Store::vacuum`] does, with its document
    /// data sealed under `new` (or in the clear without one): `passphrase
    /// set|remove`. No page of the new file holds a value as it was.
    pub fn reseal(&mut self, new: Option<Key>) -> Result<(), StoreError> {
        self.vacuum_sealed(new)
    }

    /// Writes a copy of the store to `path`, a new file (mode 0600,
    /// committed durably), for a backup: its document data sealed under
    /// `key`, without the sync states with peers (they are this device's)
    /// and without the meta entries `drop_meta` names.
    pub fn copy_for_backup(
        &self,
        path: &std::path::Path,
        key: &Key,
        drop_meta: impl Fn(&str) -> bool,
    ) -> Result<(), StoreError> {
        self.write_copy(path, Some(key), Some(&drop_meta))?;
        set_private(path)
    }

    /// Writes every table into a new file at `tmp`, sealed under `new`;
    /// with `drop_meta`, a backup's copy (see [`Store::copy_for_backup`]).
    fn write_copy(
        &self,
        tmp: &std::path::Path,
        new: Option<&Key>,
        drop_meta: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<(), StoreError> {
        let backend = |e: std::io::Error| StoreError::Backend(format!("{}: {e}", tmp.display()));
        if tmp.exists() {
            std::fs::remove_file(tmp).map_err(backend)?;
        }
        // Only this user may read the copy, from its first byte.
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(tmp)
                .map_err(backend)?;
        }
        let mut fresh = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(tmp)
            .map_err(|e| StoreError::from_open(tmp, e))?;
        let from = self.db.begin_read()?;
        let mut to = fresh.begin_write()?;
        to.set_durability(redb::Durability::Immediate)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let keys = (self.seal.as_ref(), new);
        let path = self.path.as_path();
        copy(&from, &to, META)?;
        {
            let mut meta = to.open_table(META)?;
            meta.remove(seal::SEALED_KEY)?;
            if let Some(drop) = drop_meta {
                let names: Vec<String> = meta
                    .iter()?
                    .map(|row| row.map(|(k, _)| k.value().to_owned()))
                    .collect::<Result<_, _>>()?;
                for name in names.iter().filter(|n| drop(n)) {
                    meta.remove(name.as_str())?;
                }
            }
        }
        if let Some(k) = new {
            Store::write_check(&to, k)?;
        }
        copy_resealed(
            &from,
            &to,
            SNAPSHOTS,
            (seal::SNAPSHOTS_T, path),
            |doc| seal::aad(seal::SNAPSHOTS_T, &[doc]),
            keys,
        )?;
        copy_resealed(
            &from,
            &to,
            super::snapshots::SNAPSHOT_PIECES,
            (seal::PIECES_T, path),
            |(doc, n)| seal::piece_aad(doc, *n),
            keys,
        )?;
        copy_resealed(
            &from,
            &to,
            CHANGES,
            (seal::CHANGES_T, path),
            |(doc, seq)| seal::change_aad(doc, *seq),
            keys,
        )?;
        copy(&from, &to, SIGNATURES)?;
        if drop_meta.is_none() {
            copy(&from, &to, PEER_STATES)?;
        }
        copy(&from, &to, PEERS)?;
        copy(&from, &to, CARDS)?;
        copy(&from, &to, RECORDS)?;
        copy(&from, &to, HISTORY)?;
        copy(&from, &to, EPOCHS)?;
        copy(&from, &to, LINK_REQUESTS)?;
        copy_resealed(
            &from,
            &to,
            EQUIVOCATIONS,
            (seal::PROOFS_T, path),
            |(doc, device, seq)| seal::proof_aad(doc, device, *seq),
            keys,
        )?;
        to.commit()?;
        drop(from);
        // A new file is laid out with room to grow; give it back.
        fresh
            .compact()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(())
    }

    fn vacuum_sealed(&mut self, new: Option<Key>) -> Result<(), StoreError> {
        let backend =
            |e: std::io::Error| StoreError::Backend(format!("{}: {e}", self.path.display()));
        let tmp = self.path.with_extension("vacuum");
        self.write_copy(&tmp, new.as_ref(), None)?;
        set_private(&tmp)?;
        std::fs::rename(&tmp, &self.path).map_err(backend)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(backend)?;
        }
        self.db = super::handle::Db::Write(
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open(&self.path)
                .map_err(|e| StoreError::from_open(&self.path, e))?,
        );
        self.seal = new;
        // Opened again, the file gives its unused tail back.
        self.shrink_file()
    }
}

/// Makes a copy of the store readable by this user only.
fn set_private(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))
}
