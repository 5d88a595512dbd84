//! Epochs in the store: the record of the epoch each document is in, and
//! the switch that deletes the old epoch.
//!
//! A switch, in one durable transaction, deletes everything of the old
//! epoch of one document (its snapshot, its incremental changes, the
//! signatures of its changes, every peer's sync state for it and any
//! equivocation proof about it), then writes the new epoch's snapshot, its
//! changes' signatures and the epoch record. The caller then compacts the
//! file (`Store::vacuum`), so the old epoch's bytes are in no page of it,
//! free or in use.

use automerge::AutoCommit;
use groundwork_protocol::DocId;
use redb::{ReadableTable, TableDefinition};

use super::{CHANGES, EQUIVOCATIONS, PEER_STATES, SIGNATURES, Store, StoreError};

/// Document id to the epoch it is in, past epoch 0 ([`StoredEpoch`]).
pub(super) const EPOCHS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("epochs");

/// The epoch a document is in: its signed record and its genesis
/// change's signature. The genesis itself is the document's first change in
/// the epoch, taken from the document when a peer asks for it, so it is not
/// stored twice.
///
/// ```text
/// len u32 | signed epoch record | genesis signature 64
/// ```
///
/// (Stores written before kept the deflated genesis after the signature;
/// it is ignored.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEpoch {
    /// The signed epoch record.
    pub record: Vec<u8>,
    /// The genesis change's signature.
    pub signature: [u8; 64],
}

impl StoredEpoch {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(4 + self.record.len() + 64);
        b.extend_from_slice(&(self.record.len() as u32).to_be_bytes());
        b.extend_from_slice(&self.record);
        b.extend_from_slice(&self.signature);
        b
    }

    fn decode(bytes: &[u8]) -> Option<StoredEpoch> {
        let (len, rest) = bytes.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        let (record, rest) = rest.split_at_checked(len)?;
        let (signature, _earlier_genesis) = rest.split_at_checked(64)?;
        Some(StoredEpoch {
            record: record.to_vec(),
            signature: signature.try_into().ok()?,
        })
    }
}

/// The new epoch of a document, ready to store.
#[derive(Debug)]
pub struct EpochSwitch<'a> {
    /// The document.
    pub doc: DocId,
    /// The new epoch's record and genesis.
    pub epoch: &'a StoredEpoch,
    /// The old epoch as held (every change hash in it is deleted with its
    /// signature).
    pub old: &'a mut AutoCommit,
    /// The new epoch's document (genesis, and this device's rebased change).
    pub new: &'a mut AutoCommit,
    /// (change hash, signature) of every change in `new`.
    pub signatures: &'a [([u8; 32], [u8; 64])],
}

impl Store {
    /// The epoch `doc` is in, if it is past epoch 0.
    pub fn epoch(&self, doc: &DocId) -> Result<Option<StoredEpoch>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = match tx.open_table(EPOCHS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match table.get(&doc.as_bytes()[..])? {
            None => Ok(None),
            Some(v) => StoredEpoch::decode(v.value())
                .map(Some)
                .ok_or_else(|| self.unreadable_epoch(doc)),
        }
    }

    /// Every document's epoch, past epoch 0.
    pub fn epochs(&self) -> Result<Vec<(DocId, StoredEpoch)>, StoreError> {
        let rows = self.scan(EPOCHS, |k, v| {
            Some((<[u8; 32]>::try_from(k).ok()?, v.to_vec()))
        })?;
        rows.into_iter()
            .map(|(k, v)| {
                let doc = DocId::from_bytes(k);
                StoredEpoch::decode(&v)
                    .map(|e| (doc, e))
                    .ok_or_else(|| self.unreadable_epoch(&doc))
            })
            .collect()
    }

    fn unreadable_epoch(&self, doc: &DocId) -> StoreError {
        StoreError::Unreadable {
            path: self.path.clone(),
            why: format!("the epoch entry of document {doc} is not valid"),
        }
    }

    /// Switches `switch.doc` to its new epoch, durably, deleting the old
    /// one (see the module docs). Call [`Store::vacuum`] afterwards, so no
    /// free page holds the old epoch.
    pub fn switch_epoch(&self, switch: EpochSwitch<'_>) -> Result<(), StoreError> {
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
                let (k, v) = entry?;
                let plain = self.open_change(key, k.value().1, v.value())?;
                if let Ok(c) = automerge::Change::try_from(&plain[..]) {
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
            super::snapshots::write(&tx, key, &snapshot, self.sealing())?;
            tx.open_table(EPOCHS)?
                .insert(key, &switch.epoch.encode()[..])?;
        }
        tx.commit()?;
        Ok(())
    }
}
