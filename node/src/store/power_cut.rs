//! Power cuts: the store on a disk that loses what was not fsync'd.
//!
//! `kill -9` leaves the page cache to reach the disk; a power cut does not.
//! [`Disk`] is a redb storage backend that keeps two images: what reads see
//! (the page cache) and what survives a cut (the platter, updated only by
//! `sync_data`). At a seeded I/O operation the power goes: that operation
//! and every later one fail, and the surviving image is the platter plus a
//! seeded part of the writes since the last sync, each torn at 4 KiB
//! sectors (some reach the disk, some not, in any order), as SQLite's crash
//! VFS does. The store is then opened on what survived.
//!
//! What must hold at every cut point: the store opens, every edit whose
//! commit returned (a durable commit, or a batch whose `flush` returned)
//! is there, and compaction never loses a change. redb's 1-phase commit
//! with checksums (redb's docs/design.md, "1-phase + checksum durable
//! commits") is what makes a torn commit roll back to the one before; this
//! test is how Groundwork shows it keeps its own promise on top.

use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, ROOT, ReadDoc};
use groundwork_protocol::{DocId, DocKind, SecretKey};
use rand::{Rng, SeedableRng, rngs::StdRng};
use redb::StorageBackend;

use super::*;

/// Sector size: a write reaches the disk in pieces of this many bytes.
const SECTOR: usize = 4096;

#[derive(Debug, Clone)]
enum Op {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

#[derive(Debug, Default)]
struct State {
    /// What reads see.
    live: Vec<u8>,
    /// What is on the disk for certain (as of the last sync).
    platter: Vec<u8>,
    /// Writes and resizes since the last sync.
    unsynced: Vec<Op>,
    /// Operations so far (writes, resizes and syncs).
    ops: u64,
    /// The operation at which the power goes.
    cut_at: Option<u64>,
    cut: bool,
}

/// A disk whose unsynced writes a power cut may lose.
#[derive(Debug, Clone, Default)]
struct Disk(Arc<Mutex<State>>);

fn io_err(why: &str) -> std::io::Error {
    std::io::Error::other(why.to_owned())
}

impl Disk {
    /// A disk holding `image`, whose power goes at operation `cut_at`.
    fn new(image: Vec<u8>, cut_at: Option<u64>) -> Disk {
        Disk(Arc::new(Mutex::new(State {
            live: image.clone(),
            platter: image,
            cut_at,
            ..State::default()
        })))
    }

    /// Counts an operation; false once the power has gone.
    fn powered(s: &mut State) -> bool {
        if s.cut {
            return false;
        }
        s.ops += 1;
        if s.cut_at == Some(s.ops) {
            s.cut = true;
            return false;
        }
        true
    }

    fn ops(&self) -> u64 {
        self.0.lock().map_or(0, |s| s.ops)
    }

    /// What the disk holds after the cut: the platter, and of each write
    /// since the last sync a seeded choice of its sectors.
    fn survivors(&self, rng: &mut StdRng) -> Vec<u8> {
        let Ok(s) = self.0.lock() else {
            return Vec::new();
        };
        let mut image = s.platter.clone();
        for op in &s.unsynced {
            match op {
                Op::SetLen(len) => {
                    if rng.random_bool(0.5) {
                        image.resize(*len as usize, 0);
                    }
                }
                Op::Write(offset, data) => {
                    for (i, sector) in data.chunks(SECTOR).enumerate() {
                        if !rng.random_bool(0.5) {
                            continue;
                        }
                        let at = *offset as usize + i * SECTOR;
                        if image.len() < at + sector.len() {
                            image.resize(at + sector.len(), 0);
                        }
                        image[at..at + sector.len()].copy_from_slice(sector);
                    }
                }
            }
        }
        image
    }
}

impl StorageBackend for Disk {
    fn len(&self) -> Result<u64, std::io::Error> {
        let s = self.0.lock().map_err(|_| io_err("poisoned"))?;
        Ok(s.live.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        let s = self.0.lock().map_err(|_| io_err("poisoned"))?;
        let start = offset as usize;
        let src = s
            .live
            .get(start..start + out.len())
            .ok_or_else(|| io_err("read past the end"))?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let mut s = self.0.lock().map_err(|_| io_err("poisoned"))?;
        if !Disk::powered(&mut s) {
            return Err(io_err("the power is off"));
        }
        s.live.resize(len as usize, 0);
        s.unsynced.push(Op::SetLen(len));
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        let mut s = self.0.lock().map_err(|_| io_err("poisoned"))?;
        if !Disk::powered(&mut s) {
            return Err(io_err("the power is off"));
        }
        s.platter = s.live.clone();
        s.unsynced.clear();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut s = self.0.lock().map_err(|_| io_err("poisoned"))?;
        if !Disk::powered(&mut s) {
            return Err(io_err("the power is off"));
        }
        let end = offset as usize + data.len();
        if s.live.len() < end {
            s.live.resize(end, 0);
        }
        s.live[offset as usize..end].copy_from_slice(data);
        s.unsynced.push(Op::Write(offset, data.to_vec()));
        Ok(())
    }
}

fn open_on(disk: Disk) -> Result<Store, StoreError> {
    let path = Path::new("power-cut.redb");
    let db = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create_with_backend(disk)
        .map_err(|e| StoreError::from_open(path, e))?;
    Store::opened(handle::Db::Write(db), path, None)
}

fn doc_id() -> DocId {
    DocId::derive(&SecretKey::from_seed(&[2; 32]).public(), DocKind::Roster)
}

fn change(doc: &mut AutoCommit, id: DocId, key: &str) -> StoredChange {
    super::tests::change(doc, id, key, 1)
}

/// The edits the workload makes, in order: single durable commits, a
/// batch of non-durable ones made good by a flush, a compaction, more
/// commits after it. Returns the keys whose commit (or flush) returned
/// before the power went, and whether it ran to the end.
fn workload(store: &Store) -> (Vec<String>, bool) {
    let id = doc_id();
    let mut doc = groundwork_protocol::edit::new_doc();
    let mut acked = Vec::new();
    let mut step = |store: &Store, doc: &mut AutoCommit, i: usize| -> Result<(), StoreError> {
        match i {
            // A running node's batch: stored without an fsync, then one
            // flush; none of them is acknowledged before the flush.
            10 => {
                let keys: Vec<String> = (0..3).map(|j| format!("batch{j}")).collect();
                for k in &keys {
                    store.commit_with(&[change(doc, id, k)], &[], false)?;
                }
                store.flush()?;
                acked.extend(keys);
            }
            // Compaction: the snapshot replaces the changes, durably.
            20 => store.compact(&id, doc)?,
            _ => {
                let k = format!("k{i}");
                store.commit(&[change(doc, id, &k)], &[])?;
                acked.push(k);
            }
        }
        Ok(())
    };
    for i in 0..30 {
        if step(store, &mut doc, i).is_err() {
            return (acked, false);
        }
    }
    (acked, true)
}

#[test]
fn every_acknowledged_edit_survives_a_power_cut_at_any_point() {
    // The store as made, on a disk that never loses power: the image every
    // round starts from, and how many operations the workload takes.
    let disk = Disk::new(Vec::new(), None);
    let store = Store::init(
        Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(disk.clone())
            .expect("create on the disk"),
        Path::new("power-cut.redb"),
        None,
    )
    .expect("init");
    drop(store);
    let fresh = disk.0.lock().expect("lock").live.clone();

    let whole = Disk::new(fresh.clone(), None);
    let store = open_on(whole.clone()).expect("open");
    let start = whole.ops();
    let (all, finished) = workload(&store);
    let total = whole.ops() - start;
    drop(store);
    assert!(
        finished && all.len() == 31,
        "the workload without a cut: {all:?}"
    );

    // A cut at every operation, each with three seeded choices of which
    // unsynced sectors reached the disk.
    let mut rng = StdRng::seed_from_u64(0x0070_6f77_6572);
    let (mut rounds, mut dropped) = (0, 0);
    for cut in 1..=total {
        let disk = Disk::new(fresh.clone(), None);
        let store = open_on(disk.clone()).expect("open before the cut");
        // The power goes at the workload's `cut`-th operation.
        disk.0.lock().expect("lock").cut_at = Some(disk.ops() + cut);
        let (acked, finished) = workload(&store);
        assert!(!finished, "cut {cut}: the workload ran through a cut");
        drop(store);
        // What `kill -9` at the same point would leave: every write made.
        let live = disk.0.lock().expect("lock").live.clone();
        let kept = open_on(Disk::new(live, None))
            .and_then(|s| s.load(&doc_id()))
            .unwrap_or_else(|e| panic!("cut {cut}: the page cache's image does not open: {e}"));
        for choice in 0..3 {
            rounds += 1;
            let image = disk.survivors(&mut rng);
            let store = open_on(Disk::new(image, None))
                .unwrap_or_else(|e| panic!("cut {cut}/{choice}: the store does not open: {e}"));
            let doc = store
                .load(&doc_id())
                .unwrap_or_else(|e| panic!("cut {cut}/{choice}: the document does not load: {e}"));
            let has = |k: &str| {
                doc.as_ref()
                    .is_some_and(|d| d.get(ROOT, k).ok().flatten().is_some())
            };
            for k in &acked {
                assert!(has(k), "cut {cut}/{choice}: acknowledged {k} lost");
            }
            // What the page cache held and the cut took (never an
            // acknowledged edit, as checked above).
            let cached = |k: &str| {
                kept.as_ref()
                    .is_some_and(|d| d.get(ROOT, k).ok().flatten().is_some())
            };
            dropped += all.iter().filter(|k| cached(k) && !has(k)).count();
            // Writes taken after the cut still work on what survived.
            let mut d = doc.unwrap_or_else(groundwork_protocol::edit::new_doc);
            store
                .commit(&[change(&mut d, doc_id(), "after")], &[])
                .unwrap_or_else(|e| panic!("cut {cut}/{choice}: no write after the cut: {e}"));
        }
    }
    eprintln!(
        "power cut at each of {total} operations, 3 survivals each ({rounds} opens): \
         every acknowledged edit kept; {dropped} times an edit the page cache held was lost"
    );
    // The positive control: the cuts took edits that `kill -9` would have
    // left (written, not yet synced), so the disk really drops writes.
    assert!(dropped > 0, "no cut lost anything the page cache held");
}
