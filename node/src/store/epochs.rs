//! Epochs in the store: the record of the epoch each document is in, and
//! the switch that deletes the old epoch.
//!
//! A switch, in one durable transaction, deletes everything of the old
//! epoch of one document (its snapshot, its incremental changes, the
//! signatures of its changes, every peer's sync state for it and any
//! equivocation proof about it), then writes the new epoch's snapshot, its
//! changes' signatures and the epoch record. The file is then compacted and
//! rewritten (`Store::vacuum`), so the old epoch's bytes are in no page of
//! it, free or in use.

use automerge::AutoCommit;
use groundwork_protocol::DocId;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::{CHANGES, EQUIVOCATIONS, PEER_STATES, SIGNATURES, SNAPSHOTS, Store, StoreError};

/// Document id to the signed record of the epoch it is in (none: epoch 0).
pub(super) const EPOCHS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("epochs");

/// The new epoch of a document, ready to store.
#[derive(Debug)]
pub struct EpochSwitch<'a> {
    /// The document.
    pub doc: DocId,
    /// The signed epoch record.
    pub record: &'a [u8],
    /// The old epoch as held (every change hash in it is deleted with its
    /// signature).
    pub old: &'a mut AutoCommit,
    /// The new epoch's document (genesis, and this device's rebased change).
    pub new: &'a mut AutoCommit,
    /// (change hash, signature) of every change in `new`.
    pub signatures: &'a [([u8; 32], [u8; 64])],
}

impl Store {
    /// The signed record of the epoch `doc` is in, if it is past epoch 0.
    pub fn epoch_record(&self, doc: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = match tx.open_table(EPOCHS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(&doc.as_bytes()[..])?.map(|v| v.value().to_vec()))
    }

    /// Every document's epoch record.
    pub fn epoch_records(&self) -> Result<Vec<super::Entry>, StoreError> {
        self.scan(EPOCHS, |k, v| Some((k.try_into().ok()?, v.to_vec())))
    }

    /// Switches `switch.doc` to its new epoch, durably, deleting the old
    /// one (see the module docs), then vacuums the file.
    pub fn switch_epoch(&mut self, switch: EpochSwitch<'_>) -> Result<(), StoreError> {
        let snapshot = groundwork_protocol::edit::save_doc(switch.new);
        let old_hashes: Vec<[u8; 32]> = switch
            .old
            .get_changes_meta(&[])
            .iter()
            .map(|m| m.hash.0)
            .collect();
        let key = &switch.doc.as_bytes()[..];
        let tx = self.write()?;
        {
            let mut changes = tx.open_table(CHANGES)?;
            let mut sigs = tx.open_table(SIGNATURES)?;
            // Signatures of changes stored but not (yet) in the loaded
            // document go too: they are of the old epoch as well.
            for entry in changes.range((key, 0)..=(key, u64::MAX))? {
                let (_, v) = entry?;
                if let Ok(c) = automerge::Change::try_from(v.value()) {
                    sigs.remove(&c.hash().0[..])?;
                }
            }
            changes.retain_in((key, 0)..=(key, u64::MAX), |_, _| false)?;
            for h in &old_hashes {
                sigs.remove(&h[..])?;
            }
            for (hash, sig) in switch.signatures {
                sigs.insert(&hash[..], &sig[..])?;
            }
            let mut states = tx.open_table(PEER_STATES)?;
            states.retain(|(_, doc), _| doc != key)?;
            let mut proofs = tx.open_table(EQUIVOCATIONS)?;
            proofs.retain(|(doc, _, _), _| doc != key)?;
            tx.open_table(SNAPSHOTS)?.insert(key, &snapshot[..])?;
            tx.open_table(EPOCHS)?.insert(key, switch.record)?;
        }
        tx.commit()?;
        self.vacuum()
    }
}
