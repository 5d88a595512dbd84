//! Epochs on this device: the epoch each document is in, switching to a
//! new one, starting one, and `member forget`.
//!
//! A switch stores the new epoch and deletes the old one in one durable
//! transaction (`Store::switch_epoch`); a running node then tells its
//! sessions ([`Group::take_switched`]) and compacts the file
//! ([`Group::vacuum`]) so no page holds the old epoch.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use groundwork_protocol::epoch::{self, SignedEpoch};
use groundwork_protocol::schema::{Member, Role};
use groundwork_protocol::trust::change::SignedChange;
use groundwork_protocol::{DocId, DocKind, ShortId};

use super::{Group, GroupError};
use crate::store::{EpochSwitch, Store, StoreError, StoredEpoch};

/// The epoch a document is in, past epoch 0.
#[derive(Clone, Debug)]
pub struct HeldEpoch {
    /// Its signed record.
    pub record: SignedEpoch,
    /// Its genesis change and signature.
    pub genesis: SignedChange,
}

/// What `member forget` did.
#[derive(Clone, Debug)]
pub struct Forgotten {
    /// The member as the roster held them (none: removed earlier).
    pub member: Option<Member>,
    /// The documents started again, and the epoch each is in now.
    pub epochs: Vec<(DocKind, u64)>,
}

/// Every epoch the store holds, verified again (a record that does not
/// decode and verify makes the store unreadable: it is never overwritten).
pub(super) fn load(store: &Store) -> Result<BTreeMap<DocId, HeldEpoch>, GroupError> {
    let mut out = BTreeMap::new();
    for (doc, e) in store.epochs()? {
        let record = SignedEpoch::from_bytes(&e.record).map_err(|err| {
            GroupError::Store(StoreError::Unreadable {
                path: store.path().to_owned(),
                why: format!("the epoch record of document {doc} does not verify: {err}"),
            })
        })?;
        out.insert(
            doc,
            HeldEpoch {
                record,
                genesis: SignedChange {
                    bytes: e.genesis,
                    signature: e.signature,
                },
            },
        );
    }
    Ok(out)
}

impl Group {
    fn held(&self) -> std::sync::MutexGuard<'_, BTreeMap<DocId, HeldEpoch>> {
        self.epochs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The epoch this device holds of `doc` (0: the founding history).
    pub fn epoch(&self, doc: &DocId) -> u64 {
        self.held().get(doc).map_or(0, |e| e.record.epoch().number)
    }

    /// The epoch held of `doc`, past epoch 0.
    pub fn held_epoch(&self, doc: &DocId) -> Option<HeldEpoch> {
        self.held().get(doc).cloned()
    }

    /// Stores `doc`'s new epoch durably and deletes the old one: `old` is
    /// the old epoch as held, `new` the new epoch's document, `signatures`
    /// those of every change in `new`. The caller then vacuums.
    pub fn switch_to(
        &self,
        doc: DocId,
        record: &SignedEpoch,
        genesis: &SignedChange,
        old: &mut AutoCommit,
        new: &mut AutoCommit,
        signatures: &[(automerge::ChangeHash, [u8; 64])],
    ) -> Result<(), GroupError> {
        let stored = StoredEpoch {
            record: record.bytes().to_vec(),
            genesis: genesis.bytes.clone(),
            signature: genesis.signature,
        };
        let signatures: Vec<([u8; 32], [u8; 64])> =
            signatures.iter().map(|(h, s)| (h.0, *s)).collect();
        self.store.switch_epoch(EpochSwitch {
            doc,
            epoch: &stored,
            old,
            new,
            signatures: &signatures,
        })?;
        self.held().insert(
            doc,
            HeldEpoch {
                record: record.clone(),
                genesis: genesis.clone(),
            },
        );
        self.switched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(doc);
        Ok(())
    }

    /// The documents switched since the last call.
    pub fn take_switched(&self) -> Vec<DocId> {
        std::mem::take(
            &mut *self
                .switched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Compacts the store file after a switch, so no free page holds the
    /// old epoch. A failure loses nothing (the old epoch is deleted; its
    /// bytes stay in free pages until the next compaction), so it is logged.
    pub fn vacuum(&mut self) {
        if let Err(e) = self.store.vacuum() {
            tracing::warn!("could not compact the store after an epoch: {e:#}");
        }
    }

    /// Starts the next epoch of this group's document `kind` from its
    /// current state (a steward, or an organiser for any document but
    /// `devices`). Returns the new epoch's number.
    pub fn start_epoch(&self, kind: DocKind) -> Result<u64, GroupError> {
        let role = self.role()?;
        if !(role == Role::Steward || (role == Role::Organiser && kind != DocKind::Devices)) {
            return Err(GroupError::Forbidden {
                role,
                kind,
                verb: "start a new epoch of",
            });
        }
        let id = self.doc_id(kind);
        let number = self.epoch(&id) + 1;
        let mut old = if self.cache.is_some() {
            self.docs()
                .get(&id)
                .cloned()
                .ok_or(GroupError::MissingDocument(kind))?
        } else {
            self.load(kind)?
        };
        let started = epoch::start(&mut old, id, number, &self.device)
            .map_err(|e| GroupError::Epoch(e.to_string()))?;
        let mut new = started.doc;
        let genesis = automerge::Change::try_from(started.genesis.bytes.as_slice())
            .map_err(|e| GroupError::Epoch(e.to_string()))?;
        self.switch_to(
            id,
            &started.record,
            &started.genesis,
            &mut old,
            &mut new,
            &[(genesis.hash(), started.genesis.signature)],
        )?;
        if self.cache.is_some() {
            self.docs().insert(id, new);
        }
        Ok(number)
    }

    /// Whether the roster's history ever held a member `id`.
    fn ever_in_roster(&self, id: &ShortId) -> Result<bool, GroupError> {
        let mut roster = if self.cache.is_some() {
            self.docs()
                .get(&self.doc_id(DocKind::Roster))
                .cloned()
                .ok_or(GroupError::MissingDocument(DocKind::Roster))?
        } else {
            self.load(DocKind::Roster)?
        };
        Ok(roster.get_changes(&[]).iter().any(|c| {
            c.decode().operations.iter().any(
                |op| matches!(&op.key, automerge::legacy::Key::Map(k) if k.as_str() == id.as_str()),
            )
        }))
    }

    /// Forgets a member: removes them from the roster and contacts (and as
    /// the owner of any plan action), then starts new epochs of the roster
    /// and contacts, so their name, email, phone and consent are in no
    /// history on this device, and on every other once it switches. A
    /// member removed earlier is forgotten the same way.
    pub fn forget_member(&self, id: &ShortId) -> Result<Forgotten, GroupError> {
        let member = match self.remove_member(id) {
            Ok(m) => Some(m),
            Err(GroupError::NotFound { what, id: given }) => {
                // Removed earlier: its history is still here to erase. An
                // id the roster never held is a mistake, not a forget.
                if !self.ever_in_roster(id)? {
                    return Err(GroupError::NotFound { what, id: given });
                }
                None
            }
            Err(e) => return Err(e),
        };
        let mut epochs = Vec::new();
        for kind in [DocKind::Roster, DocKind::Contacts] {
            epochs.push((kind, self.start_epoch(kind)?));
        }
        Ok(Forgotten { member, epochs })
    }
}
