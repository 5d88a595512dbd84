//! The local store: one redb file in the data directory.
//!
//! Each document is kept as an Automerge snapshot plus the incremental
//! changes made since it; [`Store::compact`] folds the changes into a new
//! snapshot. Every change's signature is kept (forever: peers need it to
//! verify the change). Writes use `Durability::Immediate`, so when
//! [`Store::commit`] returns the edit survives a `kill -9` or a power cut.
//!
//! A file redb cannot read is never recreated or overwritten: opening fails
//! with [`StoreError::Unreadable`] naming the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use groundwork_protocol::DocId;
use redb::{Database, DatabaseError, Durability, ReadableTable, TableDefinition};

mod compaction;
mod epochs;
mod error;
mod handle;
mod links;
mod peers;
#[cfg(test)]
mod power_cut;
mod proofs;
mod seal;
mod snapshots;
#[cfg(test)]
mod tests;
mod vacuum;

pub use epochs::{EpochSwitch, StoredEpoch};
pub use error::StoreError;
use proofs::EQUIVOCATIONS;
use snapshots::SNAPSHOT_PIECES;
pub use snapshots::{PIECE_BYTES, PIECE_HEADER, PIECE_MAGIC, piece as snapshot_piece};

/// Small settings: key to JSON.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Document id to its latest snapshot (`AutoCommit::save`), whole: as
/// stores before snapshot pieces kept it ([`snapshots`]); read, never written.
const SNAPSHOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("snapshots");
/// (document id, sequence) to one change made since the snapshot.
const CHANGES: TableDefinition<(&[u8], u64), &[u8]> = TableDefinition::new("changes");
/// Change hash to the author's ed25519 signature of it.
const SIGNATURES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("signatures");

/// (peer device id, document id) to the Automerge sync state with that
/// peer (`State::encode`), so a reconnect resumes where the last session left off.
const PEER_STATES: TableDefinition<(&[u8], &[u8]), &[u8]> = TableDefinition::new("peer_states");
/// Peer device id to what this node remembers of it (JSON: addresses,
/// group, whether linked, last seen).
const PEERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("peers");
/// Group id to the newest signed group card held.
const CARDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cards");
/// (record kind, subject group id) to the newest signed network record.
const RECORDS: TableDefinition<(u8, &[u8]), &[u8]> = TableDefinition::new("records");
/// (subject group id, day of the figures as Unix days) to a membership
/// summary of that group on that day. The running node no longer writes
/// it (a day-by-day series of another group's figures serves only
/// differencing; growth comes from each summary's own series); the table
/// and `put_records`' `history_day` stay for stores that hold one.
const HISTORY: TableDefinition<(&[u8], i64), &[u8]> = TableDefinition::new("summary_history_v2");
/// Set while summaries of the first format were deleted but the file not
/// yet compacted.
const V1_RETIRE_PENDING: &str = "v1_summaries_retire_pending";
/// The summary history of the first summary format (exact figures):
/// deleted at open ([`Store::retire_v1_summaries`]).
const HISTORY_V1: TableDefinition<(&[u8], i64), &[u8]> = TableDefinition::new("summary_history");

/// A network record to keep.
#[derive(Clone, Copy, Debug)]
pub struct RecordRow<'a> {
    /// Its kind.
    pub kind: u8,
    /// The group it is about.
    pub subject: [u8; 32],
    /// The signed record.
    pub bytes: &'a [u8],
    /// For a summary: the day of its figures, under which it is also kept
    /// in the summary history.
    pub history_day: Option<i64>,
}

/// The store format this build writes and reads. A store of any other
/// format is refused (there is no older format to migrate yet).
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_KEY: &str = "format";

/// Fold changes into a snapshot once a document has this many...
///
/// Loading replays every pending change, and on a 10,000-member roster each
/// costs about 0.2 ms, while a compaction (one `save`) costs about 9 ms. With
/// K pending at most, an edit pays about 0.1·K ms on average plus 9/K ms for
/// compaction: 16 keeps both small (docs/benchmarks.md).
pub const COMPACT_AFTER_CHANGES: usize = 16;
/// ...or once its changes take this many bytes and more than half the snapshot.
pub const COMPACT_AFTER_BYTES: usize = 256 * 1024;

/// A file within this size is never worth shrinking.
const SPARSE_SLACK_BYTES: u64 = 1024 * 1024;

/// How long to wait for another groundwork process to release the store.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// redb's page cache. The store is small; keep cheap laptops' memory free.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// A keyed entry: a 32-byte id (peer, group or document) and its bytes.
pub type Entry = ([u8; 32], Vec<u8>);

/// A change ready to be stored: its bytes, hash and signature.
#[derive(Debug, Clone)]
pub struct StoredChange {
    /// The document it belongs to.
    pub doc: DocId,
    /// The change bytes, as Automerge encodes them.
    pub bytes: Vec<u8>,
    /// The change hash.
    pub hash: [u8; 32],
    /// The author's signature over (doc id, hash).
    pub signature: [u8; 64],
}

/// Sizes, for `status` and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocStats {
    /// Bytes in the snapshot.
    pub snapshot_bytes: usize,
    /// Changes stored since the snapshot.
    pub pending_changes: usize,
    /// Bytes of those changes.
    pub pending_bytes: usize,
}

/// The open store. One process at a time holds it.
#[derive(Debug)]
pub struct Store {
    db: handle::Db,
    path: PathBuf,
    /// The store key, when the store is sealed (`seal`).
    seal: Option<crate::secrets::Key>,
}

impl Store {
    /// Creates a new store file, in the clear. Fails if one exists already.
    pub fn create(path: &Path) -> Result<Store, StoreError> {
        Store::create_sealed(path, None)
    }

    /// Creates a new store file, its document data sealed under `key` if
    /// one is given (`seal`). Fails if one exists already.
    pub fn create_sealed(
        path: &Path,
        key: Option<crate::secrets::Key>,
    ) -> Result<Store, StoreError> {
        use std::os::unix::fs::OpenOptionsExt;
        // The store holds personal data: only this user may read it.
        // Make the empty file first, with its mode; redb initialises an empty file.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(path.to_owned()));
            }
            Err(e) => {
                return Err(StoreError::Unreadable {
                    path: path.to_owned(),
                    why: e.to_string(),
                });
            }
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| StoreError::from_open(path, e))?;
        Store::init(db, path, key)
    }

    /// Makes the tables of a new store in `db` (and its seal check).
    fn init(
        db: Database,
        path: &Path,
        key: Option<crate::secrets::Key>,
    ) -> Result<Store, StoreError> {
        let store = Store {
            db: handle::Db::Write(db),
            path: path.to_owned(),
            seal: key,
        };
        let mut tx = store.write()?;
        {
            if let Some(k) = &store.seal {
                Store::write_check(&tx, k)?;
            }
            let mut meta = tx.open_table(META)?;
            meta.insert(FORMAT_KEY, FORMAT_VERSION.to_string().as_bytes())?;
            tx.open_table(SNAPSHOTS)?;
            tx.open_table(SNAPSHOT_PIECES)?;
            tx.open_table(CHANGES)?;
            tx.open_table(SIGNATURES)?;
            tx.open_table(PEER_STATES)?;
            tx.open_table(PEERS)?;
            tx.open_table(CARDS)?;
        }
        tx.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens an existing store in the clear, waiting up to ten seconds if
    /// another groundwork process has it open. A sealed store is refused
    /// ([`StoreError::Protected`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_sealed(path, None)
    }

    /// Opens an existing store. If it is sealed, `key` must be its key
    /// (else [`StoreError::Protected`] or [`StoreError::WrongKey`], and
    /// nothing is changed); a store in the clear ignores `key`.
    pub fn open_sealed(path: &Path, key: Option<crate::secrets::Key>) -> Result<Store, StoreError> {
        Store::open_sealed_unless(path, key, &|| false)
    }

    /// [`Store::open_sealed`], but while another process has the store
    /// open it stops waiting as soon as `give_up` says so (a node that
    /// opened it has started answering on its control socket), with
    /// [`StoreError::Locked`].
    pub fn open_sealed_unless(
        path: &Path,
        key: Option<crate::secrets::Key>,
        give_up: &dyn Fn() -> bool,
    ) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let deadline = Instant::now() + LOCK_WAIT;
        let db = loop {
            match handle::Db::open(path) {
                Ok(db) => break db,
                Err(DatabaseError::DatabaseAlreadyOpen)
                    if Instant::now() < deadline && !give_up() =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(StoreError::from_open(path, e)),
            }
        };
        Store::opened(db, path, key)
    }

    /// Checks a store just opened (its format and seal) and brings an older
    /// layout up to date.
    fn opened(
        db: handle::Db,
        path: &Path,
        key: Option<crate::secrets::Key>,
    ) -> Result<Store, StoreError> {
        let mut store = Store {
            db,
            path: path.to_owned(),
            seal: None,
        };
        store.check_format()?;
        store.seal = store.check_seal(key)?;
        // A store that may not be written is read as it is: an older
        // layout's upgrades wait for the next writable open.
        if !store.db.is_read_only() {
            store.add_missing_tables()?;
            store.retire_v1_summaries()?;
        }
        Ok(store)
    }

    /// Whether the store is open for reading only (a read-only file
    /// system, or a file this user may not write).
    pub fn is_read_only(&self) -> bool {
        self.db.is_read_only()
    }

    /// Deletes every summary of the first format (which carried exact
    /// figures, `records::KIND_SUMMARY_V1`) and their history, then
    /// compacts the file so their bytes are not left in freed pages.
    /// Nothing reads them any more; this runs once, at the first open by
    /// a release with rounded summaries.
    fn retire_v1_summaries(&mut self) -> Result<(), StoreError> {
        use groundwork_protocol::records::KIND_SUMMARY_V1;
        let pending = self.get_meta::<bool>(V1_RETIRE_PENDING)?.unwrap_or(false);
        let held = {
            let tx = self.db.begin_read()?;
            let old_history = !matches!(
                tx.open_table(HISTORY_V1),
                Err(redb::TableError::TableDoesNotExist(_))
            );
            let old_records = match tx.open_table(RECORDS) {
                Ok(t) => t
                    .range((KIND_SUMMARY_V1, &[][..])..(KIND_SUMMARY_V1 + 1, &[][..]))?
                    .next()
                    .is_some(),
                Err(redb::TableError::TableDoesNotExist(_)) => false,
                Err(e) => return Err(e.into()),
            };
            old_history || old_records
        };
        if held {
            // The deletion and a note that the file still needs compacting,
            // in one transaction: if the vacuum fails, the next open does it.
            let tx = self.write()?;
            {
                let mut records = tx.open_table(RECORDS)?;
                records.retain_in(
                    (KIND_SUMMARY_V1, &[][..])..(KIND_SUMMARY_V1 + 1, &[][..]),
                    |_, _| false,
                )?;
                tx.open_table(META)?
                    .insert(V1_RETIRE_PENDING, &b"true"[..])?;
            }
            tx.delete_table(HISTORY_V1)?;
            tx.commit()?;
        } else if !pending {
            return Ok(());
        }
        self.vacuum()?;
        let tx = self.write()?;
        tx.open_table(META)?.remove(V1_RETIRE_PENDING)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes the tables a store written by an earlier release lacks (a
    /// read transaction cannot open a table that does not exist yet).
    fn add_missing_tables(&self) -> Result<(), StoreError> {
        let missing = {
            let tx = self.db.begin_read()?;
            matches!(
                tx.open_table(SNAPSHOT_PIECES),
                Err(redb::TableError::TableDoesNotExist(_))
            )
        };
        if missing {
            let tx = self.write()?;
            tx.open_table(SNAPSHOT_PIECES)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn check_format(&self) -> Result<(), StoreError> {
        let unreadable = |why: String| StoreError::Unreadable {
            path: self.path.clone(),
            why,
        };
        let tx = self.db.begin_read()?;
        let meta = tx
            .open_table(META)
            .map_err(|e| unreadable(format!("no meta table ({e})")))?;
        let Some(v) = meta.get(FORMAT_KEY)? else {
            return Err(unreadable("no format version".into()));
        };
        let version: u32 = std::str::from_utf8(v.value())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| unreadable("format version is not a number".into()))?;
        if version > FORMAT_VERSION {
            return Err(unreadable(format!(
                "written by a newer groundwork (store format {version}, this build reads up to {FORMAT_VERSION})"
            )));
        }
        if version < FORMAT_VERSION {
            return Err(unreadable(format!("unknown store format {version}")));
        }
        Ok(())
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self) -> Result<redb::WriteTransaction, StoreError> {
        self.write_with(true)
    }

    /// A write transaction; `durable: false` skips the fsync (the commit
    /// reaches the disk with the next durable one, or is lost in a crash).
    fn write_with(&self, durable: bool) -> Result<redb::WriteTransaction, StoreError> {
        let mut tx = self.db.begin_write(&self.path)?;
        tx.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        })
        .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(tx)
    }

    /// Reads a JSON value from the meta table.
    pub fn get_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let Some(v) = meta.get(key)? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| StoreError::Unreadable {
                path: self.path.clone(),
                why: format!("meta entry '{key}' is not valid: {e}"),
            })
    }

    /// Loads a document: its snapshot, then every change since.
    /// Returns `None` if the store has never held it.
    pub fn load(&self, doc: &DocId) -> Result<Option<AutoCommit>, StoreError> {
        let tx = self.db.begin_read()?;
        let snapshots = tx.open_table(SNAPSHOTS)?;
        let pieces = tx.open_table(SNAPSHOT_PIECES)?;
        let changes = tx.open_table(CHANGES)?;
        let key = &doc.as_bytes()[..];
        let snapshot = snapshots::read(&snapshots, &pieces, key, self.sealing())
            .map_err(|why| StoreError::CorruptDocument { doc: *doc, why })?;
        let mut incremental = Vec::new();
        for entry in changes.range((key, 0)..=(key, u64::MAX))? {
            let (k, bytes) = entry?;
            let plain = self.open_change(key, k.value().1, bytes.value())?;
            incremental.extend_from_slice(&plain);
        }
        if snapshot.is_none() && incremental.is_empty() {
            return Ok(None);
        }
        let corrupt = |e: automerge::AutomergeError| StoreError::CorruptDocument {
            doc: *doc,
            why: e.to_string(),
        };
        let mut am = match snapshot {
            Some(s) => groundwork_protocol::edit::load_doc(&s).map_err(corrupt)?,
            None => groundwork_protocol::edit::new_doc(),
        };
        if !incremental.is_empty() {
            am.load_incremental(&incremental).map_err(corrupt)?;
        }
        Ok(Some(am))
    }

    /// Durably stores changes (to one or several documents) and, in the same
    /// transaction, any meta entries. When this returns `Ok` the changes
    /// survive a crash.
    pub fn commit(
        &self,
        changes: &[StoredChange],
        meta: &[(&str, serde_json::Value)],
    ) -> Result<(), StoreError> {
        self.commit_with(changes, meta, true)
    }

    /// [`Store::commit`], with the fsync left to a later durable commit
    /// or [`Store::flush`] when `durable` is false: a running node stores
    /// a batch of peers' messages that way and flushes once for all of
    /// them, before anything about them leaves the node.
    pub fn commit_with(
        &self,
        changes: &[StoredChange],
        meta: &[(&str, serde_json::Value)],
        durable: bool,
    ) -> Result<(), StoreError> {
        let tx = self.write_with(durable)?;
        {
            let mut table = tx.open_table(CHANGES)?;
            let mut sigs = tx.open_table(SIGNATURES)?;
            for c in changes {
                let key = &c.doc.as_bytes()[..];
                let next = match table.range((key, 0)..=(key, u64::MAX))?.next_back() {
                    Some(last) => last?.0.value().1 + 1,
                    None => 0,
                };
                let aad = seal::change_aad(key, next);
                table.insert((key, next), &*seal::seal(self.key(), &aad, &c.bytes))?;
                sigs.insert(&c.hash[..], &c.signature[..])?;
            }
            let mut m = tx.open_table(META)?;
            for (k, v) in meta {
                m.insert(
                    *k,
                    serde_json::to_vec(v)
                        .map_err(|e| StoreError::Backend(e.to_string()))?
                        .as_slice(),
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The sealing this store's values get: the key and the file, for
    /// the snapshot pieces' reader and writer.
    fn sealing(&self) -> snapshots::Sealing<'_> {
        snapshots::Sealing {
            key: self.key(),
            path: &self.path,
        }
    }

    /// A stored change's bytes, opened if the store is sealed.
    fn open_change<'a>(
        &self,
        doc: &[u8],
        seq: u64,
        v: &'a [u8],
    ) -> Result<std::borrow::Cow<'a, [u8]>, StoreError> {
        seal::open(
            self.key(),
            &self.path,
            seal::CHANGES_T,
            &seal::change_aad(doc, seq),
            v,
        )
    }

    /// The signature stored for a change.
    pub fn signature(&self, hash: &[u8; 32]) -> Result<Option<[u8; 64]>, StoreError> {
        let tx = self.db.begin_read()?;
        let sigs = tx.open_table(SIGNATURES)?;
        Ok(sigs.get(&hash[..])?.and_then(|v| v.value().try_into().ok()))
    }

    /// Every entry of a table that `f` maps to something (none if the
    /// table does not exist yet).
    fn scan<K: redb::Key + 'static, V: redb::Value + 'static, T>(
        &self,
        def: TableDefinition<K, V>,
        mut f: impl for<'a> FnMut(K::SelfType<'a>, V::SelfType<'a>) -> Option<T>,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = match tx.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.extend(f(k.value(), v.value()));
        }
        Ok(out)
    }

    fn put(
        &self,
        def: TableDefinition<&[u8], &[u8]>,
        key: &[u8; 32],
        value: &[u8],
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.open_table(def)?.insert(&key[..], value)?;
        tx.commit()?;
        Ok(())
    }

    /// Every document id the store holds.
    pub fn doc_ids(&self) -> Result<Vec<DocId>, StoreError> {
        let tx = self.db.begin_read()?;
        let snapshots = tx.open_table(SNAPSHOTS)?;
        let pieces = tx.open_table(SNAPSHOT_PIECES)?;
        let changes = tx.open_table(CHANGES)?;
        let mut ids = std::collections::BTreeSet::new();
        for entry in snapshots.iter()? {
            if let Ok(b) = <[u8; 32]>::try_from(entry?.0.value()) {
                ids.insert(b);
            }
        }
        for entry in pieces.iter()? {
            if let Ok(b) = <[u8; 32]>::try_from(entry?.0.value().0) {
                ids.insert(b);
            }
        }
        for entry in changes.iter()? {
            if let Ok(b) = <[u8; 32]>::try_from(entry?.0.value().0) {
                ids.insert(b);
            }
        }
        Ok(ids.into_iter().map(DocId::from_bytes).collect())
    }

    /// Every network record held: (kind, subject, encoded record).
    pub fn records(&self) -> Result<Vec<(u8, Entry)>, StoreError> {
        self.scan(RECORDS, |(kind, subject), v| {
            <[u8; 32]>::try_from(subject)
                .ok()
                .map(|subject| (kind, (subject, v.to_vec())))
        })
    }

    /// Keeps network records (the caller verified they are newer), in one
    /// transaction. A summary is also kept as its day's entry in the
    /// summary history. `durable: false` for records peers sent: losing
    /// them in a crash costs nothing (the next session brings them back),
    /// and a network's worth of them arriving one message at a time would
    /// otherwise cost an fsync each.
    pub fn put_records(&self, rows: &[RecordRow<'_>], durable: bool) -> Result<(), StoreError> {
        let tx = self.write_with(durable)?;
        {
            let mut records = tx.open_table(RECORDS)?;
            let mut history = tx.open_table(HISTORY)?;
            for r in rows {
                records.insert((r.kind, &r.subject[..]), r.bytes)?;
                if let Some(day) = r.history_day {
                    history.insert((&r.subject[..], day), r.bytes)?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every summary in the history, oldest day first per group.
    pub fn summary_history(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.scan(HISTORY, |_, v| Some(v.to_vec()))
    }
}
