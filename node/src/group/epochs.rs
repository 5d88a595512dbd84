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

use groundwork_protocol::edit::{self, KeyedMap};

use super::{Group, GroupError};

/// Meta key: the ids of the members forgotten on this device.
const FORGOTTEN_KEY: &str = "forgotten";
/// Meta key: the ids of members whose forget began on this device and has
/// not finished (cut short by a kill or a power cut); finished when the
/// group is next opened ([`Group::finish_forgets`]).
const UNFINISHED_KEY: &str = "forget_unfinished";
/// Meta key: for each document past epoch 0 (id hex), the devices seen
/// holding its current epoch.
const HOLDERS_KEY: &str = "epoch_holders";
use crate::store::{EpochSwitch, Store, StoreError, StoredEpoch};

/// The epoch a document is in, past epoch 0.
#[derive(Clone, Debug)]
pub struct HeldEpoch {
    /// Its signed record.
    pub record: SignedEpoch,
}

/// What `member forget` did.
#[derive(Clone, Debug)]
pub struct Forgotten {
    /// The member as the roster held them (none: removed earlier).
    pub member: Option<Member>,
    /// The documents started again, and the epoch each is in now.
    pub epochs: Vec<(DocKind, u64)>,
    /// Meet-ups whose text holds the member's name.
    pub mentions: Vec<ShortId>,
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
        out.insert(doc, HeldEpoch { record });
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

    /// Every document past epoch 0: its id, epoch number and genesis hash.
    pub fn epoch_docs(&self) -> Vec<(DocId, u64, automerge::ChangeHash)> {
        self.held()
            .iter()
            .map(|(d, e)| (*d, e.record.epoch().number, e.record.epoch().genesis))
            .collect()
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
            },
        );
        self.clear_epoch_holders(&doc)?;
        self.switched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(doc);
        Ok(())
    }

    /// The devices seen holding the epoch this device holds of `doc`.
    pub fn epoch_holders(&self, doc: &DocId) -> Vec<groundwork_protocol::DeviceId> {
        self.meta::<BTreeMap<String, Vec<groundwork_protocol::DeviceId>>>(HOLDERS_KEY)
            .ok()
            .flatten()
            .and_then(|mut m| m.remove(&doc.to_string()))
            .unwrap_or_default()
    }

    /// Notes that `device` holds the epoch this device holds of `doc`
    /// (written only when it is news).
    pub fn note_epoch_holder(&self, doc: &DocId, device: groundwork_protocol::DeviceId) {
        let mut all: BTreeMap<String, Vec<groundwork_protocol::DeviceId>> =
            self.meta(HOLDERS_KEY).ok().flatten().unwrap_or_default();
        let held = all.entry(doc.to_string()).or_default();
        if held.contains(&device) {
            return;
        }
        held.push(device);
        match serde_json::to_value(&all) {
            Ok(v) => {
                if let Err(e) = self.set_meta(HOLDERS_KEY, v) {
                    tracing::warn!("could not note a device's epoch: {e:#}");
                }
            }
            Err(e) => tracing::warn!("could not note a device's epoch: {e}"),
        }
    }

    fn clear_epoch_holders(&self, doc: &DocId) -> Result<(), GroupError> {
        let mut all: BTreeMap<String, Vec<groundwork_protocol::DeviceId>> =
            self.meta(HOLDERS_KEY)?.unwrap_or_default();
        all.insert(doc.to_string(), Vec::new());
        let v = serde_json::to_value(&all).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(HOLDERS_KEY, v)
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
        let previous = self.held_epoch(&id).map(|h| h.record.epoch().genesis);
        let started = epoch::start(&mut old, id, number, &self.device, previous)
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

    /// The members forgotten on this device (their ids only), so a forget
    /// lost when another device's epoch stands instead of ours is made
    /// again ([`Group::reforget`]).
    pub fn forgotten(&self) -> Result<Vec<ShortId>, GroupError> {
        Ok(self
            .meta::<Vec<ShortId>>(FORGOTTEN_KEY)?
            .unwrap_or_default())
    }

    /// Forgets again any forgotten member a newly taken epoch of the
    /// roster or contacts holds (two devices started epochs apart and the
    /// other's stands): the ids forgotten here or listed in the roster's
    /// `forgotten` map are all removed and listed there, and new epochs
    /// started. Returns whether it did. A device that may not keep those
    /// documents leaves it to one that may.
    pub fn reforget(&self, switched: &[DocId]) -> Result<bool, GroupError> {
        let kinds: Vec<(DocKind, KeyedMap)> = [
            (DocKind::Roster, KeyedMap::RosterMembers),
            (DocKind::Contacts, KeyedMap::Contacts),
        ]
        .into_iter()
        .filter(|(k, _)| switched.contains(&self.doc_id(*k)))
        .collect();
        if kinds.is_empty() {
            return Ok(false);
        }
        let local = self.forgotten()?;
        // A device still on its first sync may hold the contacts before
        // the roster: nothing of the roster to forget again yet (its first
        // copy, when it comes, is already the new epoch's).
        let shared = match self.with_doc(DocKind::Roster, |d| Ok(forgotten_in(d))) {
            Err(GroupError::MissingDocument(DocKind::Roster)) => return Ok(false),
            shared => shared?,
        };
        let unlisted: Vec<String> = local
            .iter()
            .map(|id| id.as_str().to_owned())
            .filter(|id| !shared.contains(id))
            .collect();
        let ids: Vec<String> = shared.iter().chain(unlisted.iter()).cloned().collect();
        // Only the documents just switched: the other may not have
        // switched yet, and is looked at when it does.
        let stale: Vec<(DocKind, KeyedMap, Vec<String>)> = kinds
            .into_iter()
            .map(|(kind, map)| {
                let present = ids
                    .iter()
                    .filter(|id| {
                        self.with_doc(kind, |d| Ok(edit::has_entry(d, map, id)?))
                            .unwrap_or(false)
                    })
                    .cloned()
                    .collect();
                (kind, map, present)
            })
            .filter(|(_, _, p): &(DocKind, KeyedMap, Vec<String>)| !p.is_empty())
            .collect();
        if stale.is_empty() && unlisted.is_empty() {
            return Ok(false);
        }
        if !self.role()?.may_write(DocKind::Roster) {
            return Ok(false);
        }
        let mut docs: Vec<DocKind> = stale.iter().map(|(k, _, _)| *k).collect();
        if !unlisted.is_empty() && !docs.contains(&DocKind::Roster) {
            docs.push(DocKind::Roster);
        }
        if !stale.is_empty() {
            tracing::warn!(
                "a forgotten member came back with another device's epoch; forgetting again"
            );
        }
        self.edit(&docs, |ed| {
            if !unlisted.is_empty() {
                let roster = ed.doc(DocKind::Roster)?;
                for id in &unlisted {
                    mark_forgotten(roster, id)?;
                }
            }
            for (kind, map, present) in &stale {
                let doc = ed.doc(*kind)?;
                for id in present {
                    edit::delete_entry(doc, *map, id)?;
                }
            }
            Ok(())
        })?;
        for (kind, _, _) in &stale {
            self.start_epoch(*kind)?;
        }
        Ok(!stale.is_empty())
    }

    /// Forgets a member: removes them from the roster and contacts (and as
    /// the owner of any plan action), then starts new epochs of the roster
    /// and contacts, so their name, email, phone and consent are in no
    /// history on this device, and on every other once it switches. A
    /// member removed earlier is forgotten the same way.
    pub fn forget_member(&self, id: &ShortId) -> Result<Forgotten, GroupError> {
        // Marked first, durably, once it is known to be a forget: a forget
        // cut short anywhere after this is finished at the next open.
        // A member removed earlier has its history here to erase; an id
        // the roster never held is a mistake, not a forget.
        let known = match self.member(id) {
            Ok(_) => true,
            Err(GroupError::NotFound { .. }) => self.ever_in_roster(id)?,
            Err(e) => return Err(e),
        };
        if !known {
            return Err(GroupError::NotFound {
                what: "member",
                id: id.to_string(),
            });
        }
        self.forget_known(id)
    }

    /// [`Group::forget_member`] of an id known to be (or to have been) on
    /// the roster.
    fn forget_known(&self, id: &ShortId) -> Result<Forgotten, GroupError> {
        let may = matches!(self.role()?, Role::Steward | Role::Organiser);
        let mut unfinished = self.unfinished_forgets()?;
        if may && !unfinished.contains(id) {
            unfinished.push(id.clone());
            self.set_ids(UNFINISHED_KEY, &unfinished)?;
        }
        let member = match self.remove_member(id) {
            Ok(m) => Some(m),
            Err(GroupError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        self.edit(&[DocKind::Roster], |ed| {
            mark_forgotten(ed.doc(DocKind::Roster)?, id.as_str())
        })?;
        let mut ids = self.forgotten()?;
        if !ids.contains(id) {
            ids.push(id.clone());
            self.set_ids(FORGOTTEN_KEY, &ids)?;
        }
        let mut epochs = Vec::new();
        for kind in [DocKind::Roster, DocKind::Contacts] {
            epochs.push((kind, self.start_epoch(kind)?));
        }
        unfinished.retain(|u| u != id);
        self.set_ids(UNFINISHED_KEY, &unfinished)?;
        let mentions = match &member {
            Some(m) => self.meetup_mentions(&m.name)?,
            None => Vec::new(),
        };
        Ok(Forgotten {
            member,
            epochs,
            mentions,
        })
    }
}

impl Group {
    /// The members whose forget began here and did not finish.
    pub fn unfinished_forgets(&self) -> Result<Vec<ShortId>, GroupError> {
        Ok(self
            .meta::<Vec<ShortId>>(UNFINISHED_KEY)?
            .unwrap_or_default())
    }

    /// Finishes every forget this device began and did not finish (the
    /// process was killed, or the power cut, before it said it was done):
    /// the member off the roster and contacts, and new epochs without
    /// them. Returns how many were finished.
    pub fn finish_forgets(&self) -> Result<usize, GroupError> {
        let ids = self.unfinished_forgets()?;
        for id in &ids {
            self.forget_known(id)?;
        }
        Ok(ids.len())
    }

    fn set_ids(&self, key: &str, ids: &[ShortId]) -> Result<(), GroupError> {
        let value = serde_json::to_value(ids).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(key, value)
    }
}

/// The ids the roster lists as forgotten.
fn forgotten_in(roster: &AutoCommit) -> Vec<String> {
    use automerge::ReadDoc as _;
    match roster.get(automerge::ROOT, "forgotten") {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Map), obj))) => {
            roster.keys(&obj).collect()
        }
        _ => Vec::new(),
    }
}

/// Lists `id` in the roster's `forgotten` map (made if the roster predates it).
fn mark_forgotten(roster: &mut AutoCommit, id: &str) -> Result<(), GroupError> {
    use automerge::ReadDoc as _;
    use automerge::transaction::Transactable as _;
    let auto = |e: automerge::AutomergeError| GroupError::from(edit::EditError::from(e));
    let obj = match roster.get(automerge::ROOT, "forgotten").map_err(auto)? {
        Some((automerge::Value::Object(automerge::ObjType::Map), obj)) => obj,
        _ => roster
            .put_object(automerge::ROOT, "forgotten", automerge::ObjType::Map)
            .map_err(auto)?,
    };
    roster.put(&obj, id, true).map_err(auto)?;
    Ok(())
}
