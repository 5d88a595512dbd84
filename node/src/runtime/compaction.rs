//! Compaction: folding a document's stored changes into a snapshot, saved
//! on a helper thread and written when no command waits, and the automatic
//! new epoch of a document whose history has grown long.

use super::*;

/// A snapshot saved on a helper thread (see [`Cmd::Compacted`]).
pub(super) struct Compacted {
    pub(super) doc: DocId,
    pub(super) copy: Box<AutoCommit>,
    pub(super) snapshot: Vec<u8>,
    pub(super) epoch: (u64, Option<automerge::ChangeHash>),
}

impl Actor {
    /// Writes a snapshot saved on a helper thread over the document's
    /// stored changes.
    pub(super) fn write_compacted(&mut self, c: Compacted) {
        let Compacted {
            doc,
            mut copy,
            snapshot,
            epoch,
        } = c;
        self.compacting.remove(&doc);
        if self.epoch_id(&doc) != epoch {
            // Taken before the document switched epochs: writing it would
            // bring the old epoch back.
            return;
        }
        // No fsync of its own (a few milliseconds an edit would wait
        // behind): the next durable commit or flush carries it.
        match self
            .group
            .store()
            .compact_saved(&doc, &mut copy, &snapshot, false)
        {
            Ok(()) => self.unflushed = true,
            Err(e) => tracing::warn!("compaction failed: {e}"),
        }
        self.after_compaction(&doc, &mut copy);
    }

    /// Which epoch `doc` is in: its number and genesis (two epochs may
    /// share a number, apart).
    fn epoch_id(&self, doc: &DocId) -> (u64, Option<automerge::ChangeHash>) {
        let held = self.group.held_epoch(doc);
        (
            held.as_ref().map_or(0, |h| h.record.epoch().number),
            held.map(|h| h.record.epoch().genesis),
        )
    }

    /// Bounded history (`group/history.rs`): one of this group's
    /// documents whose history has grown long starts a new epoch, and the
    /// sessions hear of it.
    fn after_compaction(&mut self, doc: &DocId, copy: &mut automerge::AutoCommit) {
        let own = self.group.profile().id;
        if let Some((group, kind)) = self.doc_of(doc)
            && group == own
            && self
                .group
                .auto_epoch(kind, copy.get_changes_meta(&[]).len())
                .is_some()
        {
            let _ = self.epochs_switched(None);
        }
    }

    pub(super) fn compact_if_due(&mut self, doc: &DocId) {
        if self.compacting.contains(doc)
            || !self.group.store().wants_compaction(doc).unwrap_or(false)
        {
            return;
        }
        let Some(copy) = self.group.docs().get_mut(doc).map(|d| d.fork()) else {
            return;
        };
        let Some(tx) = self.to_self.clone() else {
            // No helper thread to answer: save here.
            let mut copy = copy;
            if let Err(e) = self.group.store().compact(doc, &mut copy) {
                tracing::warn!("compaction failed: {e}");
            }
            self.after_compaction(doc, &mut copy);
            return;
        };
        // Saving a large document takes milliseconds: do it on a helper
        // thread, and only the short store write here.
        self.compacting.insert(*doc);
        let id = *doc;
        let epoch = self.epoch_id(doc);
        let spawned = std::thread::Builder::new()
            .name("groundwork-save".into())
            .spawn(move || {
                let mut copy = copy;
                let snapshot = groundwork_protocol::edit::save_doc(&mut copy);
                let _ = tx.blocking_send(Cmd::Compacted {
                    doc: id,
                    copy: Box::new(copy),
                    snapshot,
                    epoch,
                });
            });
        if let Err(e) = spawned {
            self.compacting.remove(doc);
            tracing::warn!("could not start a compaction: {e}");
        }
    }
}
