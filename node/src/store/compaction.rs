//! Compaction: a document's snapshot and pending changes, folding the
//! changes into a new snapshot, and giving free pages back to the file
//! system.

use automerge::AutoCommit;
use groundwork_protocol::DocId;
use redb::ReadableTable;

use super::*;

impl Store {
    /// Sizes of a document's snapshot and pending changes.
    pub fn doc_stats(&self, doc: &DocId) -> Result<DocStats, StoreError> {
        let tx = self.db.begin_read()?;
        let snapshots = tx.open_table(SNAPSHOTS)?;
        let pieces = tx.open_table(SNAPSHOT_PIECES)?;
        let changes = tx.open_table(CHANGES)?;
        let key = &doc.as_bytes()[..];
        let mut stats = DocStats {
            snapshot_bytes: snapshots::len(&snapshots, &pieces, key, self.is_sealed())?,
            ..DocStats::default()
        };
        for entry in changes.range((key, 0)..=(key, u64::MAX))? {
            stats.pending_changes += 1;
            let overhead = if self.is_sealed() {
                crate::secrets::SEAL_OVERHEAD
            } else {
                0
            };
            stats.pending_bytes += entry?.1.value().len().saturating_sub(overhead);
        }
        Ok(stats)
    }

    /// Whether a document has enough pending changes to be worth compacting.
    pub fn wants_compaction(&self, doc: &DocId) -> Result<bool, StoreError> {
        let s = self.doc_stats(doc)?;
        Ok(s.pending_changes >= COMPACT_AFTER_CHANGES
            || (s.pending_bytes >= COMPACT_AFTER_BYTES && s.pending_bytes > s.snapshot_bytes / 2))
    }

    /// Replaces a document's snapshot with `doc`'s saved state and drops the
    /// stored changes `doc` contains, in one transaction. A stored change
    /// `doc` lacks (made by another handle since `doc` was loaded) is kept.
    pub fn compact(&self, id: &DocId, doc: &mut AutoCommit) -> Result<(), StoreError> {
        let snapshot = groundwork_protocol::edit::save_doc(doc);
        self.compact_saved(id, doc, &snapshot, true)
    }

    /// [`Store::compact`] with the snapshot already saved (`doc.save()`,
    /// which a running node does on another thread). With `durable` false
    /// the fsync is left to the next durable commit: a crash before it
    /// finds the changes as they were, which hold the same document.
    pub fn compact_saved(
        &self,
        id: &DocId,
        doc: &mut AutoCommit,
        snapshot: &[u8],
        durable: bool,
    ) -> Result<(), StoreError> {
        let tx = self.write_with(durable)?;
        {
            let mut changes = tx.open_table(CHANGES)?;
            let key = &id.as_bytes()[..];
            // Keep any change the snapshot does not contain (none when the
            // caller holds the only handle, but be exact).
            let mut keep = Vec::new();
            for entry in changes.range((key, 0)..=(key, u64::MAX))? {
                let (k, v) = entry?;
                let seq = k.value().1;
                let stored = v.value();
                let plain = self.open_change(key, seq, stored)?;
                let contained = automerge::Change::try_from(&plain[..])
                    .map(|c| doc.get_change_by_hash(&c.hash()).is_some())
                    .unwrap_or(false);
                if !contained {
                    // Kept as stored: it goes back under the same key.
                    keep.push((seq, stored.to_vec()));
                }
            }
            changes.retain_in((key, 0)..=(key, u64::MAX), |_, _| false)?;
            for (seq, bytes) in keep {
                changes.insert((key, seq), &bytes[..])?;
            }
            drop(changes);
            snapshots::write(&tx, key, snapshot, self.sealing())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Gives every free page back to the file system (redb's compaction).
    pub fn shrink_file(&mut self) -> Result<(), StoreError> {
        self.db
            .writable(&self.path)?
            .compact()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(())
    }

    /// Shrinks the file when it has grown to more than twice what it holds
    /// (a large import followed by compaction leaves the import's change
    /// pages free inside the file). Returns whether it shrank the file.
    pub fn shrink_if_sparse(&mut self) -> Result<bool, StoreError> {
        let file_len = std::fs::metadata(&self.path)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", self.path.display())))?
            .len();
        if file_len <= SPARSE_SLACK_BYTES {
            return Ok(false); // the common case: no transaction needed
        }
        let tx = self.db.begin_write(&self.path)?;
        let stats = tx.stats()?;
        let in_use = stats.allocated_pages() * stats.page_size() as u64;
        tx.abort()?;
        if file_len <= 2 * in_use {
            return Ok(false);
        }
        self.shrink_file()?;
        Ok(true)
    }
}
