//! Re-applying a device's own changes that a new epoch does not cover.
//!
//! A device that wrote changes the epoch's clock does not cover (it was
//! offline, or the steward had not yet received them) replays their effect
//! on the new epoch as one new change of its own, signed for the new
//! epoch. Only its own changes: another device's uncovered changes are that
//! device's to rebase (a revoked device never will).
//!
//! How: the device's uncovered changes are taken in runs (a run is a
//! change and those that build directly on it, as offline edits do), and
//! Automerge's diff of the old document from the state just before a run
//! to its end gives the run's effect as patches; the state before may hold
//! other devices' uncovered changes, which stay theirs. Each patch is
//! replayed on the new epoch by path (map keys, list positions clamped to
//! the list), with one rule: **a value is not written under a key the new
//! epoch no longer has but the old state had** just before the run. That
//! key was removed or forgotten, and an edit made without seeing the
//! removal must not bring it back. So an entry a member added offline
//! survives; an offline edit to a member who has been forgotten does not
//! resurrect them.
//!
//! Known edge: an offline edit to an entry that another device added after
//! the epoch's cover is dropped by that rule if the other device has not
//! rebased its add yet.

use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, Change, ChangeHash, ObjId, ObjType, Patch, PatchAction, Prop, ROOT, ReadDoc, Value,
};

use super::{Epoch, EpochError, plain};
use crate::keys::SecretKey;
use crate::signed::{self, actor_id};
use crate::trust::change::SignedChange;

/// What a rebase did.
#[derive(Debug, Default)]
pub struct Rebased {
    /// This device's uncovered changes whose effect was replayed.
    pub reapplied: usize,
    /// Writes left out because their key had been removed or forgotten.
    pub dropped: usize,
    /// The new change on the new epoch, signed (none if nothing was left
    /// to replay).
    pub change: Option<SignedChange>,
}

/// Replays `key`'s device's changes in `old` that `record` does not cover
/// onto `new` (the new epoch's document, as held), as one signed change.
pub fn rebase(
    old: &mut AutoCommit,
    record: &Epoch,
    key: &SecretKey,
    new: &mut AutoCommit,
) -> Result<Rebased, EpochError> {
    let me = key.public();
    let actor = actor_id(&me);
    let covered = record.clock.get(&me).copied().unwrap_or(0);
    let mine: Vec<Change> = old
        .get_changes(&[])
        .into_iter()
        .filter(|c| c.actor_id() == &actor && c.seq() > covered)
        .collect();
    if mine.is_empty() {
        return Ok(Rebased::default());
    }
    // Runs: (the heads just before the run, its last change).
    let mut runs: Vec<(Vec<ChangeHash>, ChangeHash)> = Vec::new();
    for c in &mine {
        match runs.last_mut() {
            Some((_, end)) if c.deps() == [*end] => *end = c.hash(),
            _ => runs.push((c.deps().to_vec(), c.hash())),
        }
    }
    new.set_actor(actor);
    let mut dropped = 0;
    for (before, end) in &runs {
        for patch in old.diff(before, &[*end]) {
            if !replay(new, old, before, &patch)? {
                dropped += 1;
            }
        }
    }
    let change = match new.commit() {
        Some(_) => {
            let change = new
                .get_last_local_change()
                .ok_or(super::EpochRejected::GenesisShape("no change"))?;
            let signature = signed::sign_change(key, &record.doc.in_epoch(record.number), &change)?;
            Some(SignedChange {
                bytes: change.raw_bytes().to_vec(),
                signature,
            })
        }
        None => None,
    };
    Ok(Rebased {
        reapplied: mine.len(),
        dropped,
        change,
    })
}

/// The object at `path` in `doc`, walking its properties from the root.
fn resolve(doc: &AutoCommit, path: &[(ObjId, Prop)]) -> Option<(ObjId, ObjType)> {
    let mut at = (ROOT, ObjType::Map);
    for (_, prop) in path {
        match doc.get(&at.0, prop.clone()).ok()?? {
            (Value::Object(kind), id) => at = (id, kind),
            _ => return None,
        }
    }
    Some(at)
}

fn has_key(doc: &AutoCommit, obj: &ObjId, key: &str) -> bool {
    doc.get(obj, key).ok().flatten().is_some()
}

/// Replays one patch on `new`. Returns false when it was left out by the
/// removed-key rule; a patch whose object is gone is skipped as done.
fn replay(
    new: &mut AutoCommit,
    old: &AutoCommit,
    before: &[ChangeHash],
    patch: &Patch,
) -> Result<bool, EpochError> {
    let Some((obj, kind)) = resolve(new, &patch.path) else {
        return Ok(true);
    };
    let len = new.length(&obj);
    match &patch.action {
        PatchAction::PutMap { key, value, .. } => {
            if !has_key(new, &obj, key)
                && old
                    .get_at(&patch.obj, key.as_str(), before)
                    .ok()
                    .flatten()
                    .is_some()
            {
                return Ok(false);
            }
            match &value.0 {
                Value::Object(k) => {
                    new.put_object(&obj, key.as_str(), *k)?;
                }
                Value::Scalar(s) => new.put(&obj, key.as_str(), plain(s))?,
            }
        }
        PatchAction::PutSeq { index, value, .. } if *index < len => match &value.0 {
            Value::Object(k) => {
                new.put_object(&obj, *index, *k)?;
            }
            Value::Scalar(s) => new.put(&obj, *index, plain(s))?,
        },
        PatchAction::Insert { index, values } => {
            let at = (*index).min(len);
            for (i, (v, _, _)) in values.iter().enumerate() {
                match v {
                    Value::Object(k) => {
                        new.insert_object(&obj, at + i, *k)?;
                    }
                    Value::Scalar(s) => new.insert(&obj, at + i, plain(s))?,
                }
            }
        }
        PatchAction::SpliceText { index, value, .. } if kind == ObjType::Text => {
            new.splice_text(&obj, (*index).min(len), 0, &value.make_string())?;
        }
        PatchAction::Increment { prop, value } if new.get(&obj, prop.clone())?.is_some() => {
            new.increment(&obj, prop.clone(), *value)?;
        }
        PatchAction::DeleteMap { key } if has_key(new, &obj, key) => {
            new.delete(&obj, key.as_str())?;
        }
        PatchAction::DeleteSeq { index, length } if *index < len => {
            let n = (*length).min(len - index);
            if kind == ObjType::Text {
                new.splice_text(&obj, *index, n as isize, "")?;
            } else {
                for _ in 0..n {
                    new.delete(&obj, *index)?;
                }
            }
        }
        _ => {}
    }
    Ok(true)
}
