//! Receiving a peer's sync message for one document: decode every change
//! ourselves, judge every change, then let Automerge apply only what was
//! accepted.
//!
//! 1. Validate the message ([`validate`]) and decode each change chunk
//!    under the message's byte and operation budget ([`decode_change`]).
//! 2. Check the signature of every change, including those whose
//!    dependencies are missing.
//! 3. Refuse equivocation: a change whose (actor, sequence) is held, or
//!    offered twice, with another hash ([`trust::change`]).
//! 4. Put the changes whose dependencies are met in causal order; check
//!    each author's sequence numbers have no gap.
//! 5. Apply the write rule in rounds (a message may add a steward, then
//!    carry that steward's changes: see [`WriteRule`]).
//! 6. Changes whose dependencies are missing (*orphans*) are verified but
//!    never applied or kept: Automerge's queue stays empty after every
//!    message, and the session asks the peer to send them again with their
//!    dependencies (see [`super::generate`]).
//! 7. Apply the accepted changes to a staged copy through Automerge's sync
//!    protocol (which keeps the sync state exact) and swap it in.

use std::collections::{BTreeSet, HashMap};

use automerge::sync::{State, SyncDoc};
use automerge::{ActorId, AutoCommit, ChangeHash};

use super::{SignedSyncMessage, SyncError, VerifiedChange, WriteRule};
use crate::ids::DocId;
use crate::keys::DeviceId;
use crate::signed::{SIGNATURE_LEN, verify_parsed};
use crate::trust::change::{ChangeRefused, HeldAt, SignedChange, accept};
use crate::wire::chunks::{Budget, DecodedChange, decode_change};
use crate::wire::sync_message::{MAX_CHANGE_CHUNKS, validate};

/// The highest sequence number held per author of one document: what
/// equivocation and gap checks need. Build it once with [`SeqIndex::of`]
/// and keep it with the document; [`receive_verified`] updates it, and a
/// local edit must [`SeqIndex::note`] its change (or drop the index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeqIndex {
    max: HashMap<Vec<u8>, u64>,
}

impl SeqIndex {
    /// Reads every change's actor and sequence number from `doc`.
    pub fn of(doc: &mut AutoCommit) -> Self {
        let mut index = SeqIndex::default();
        for meta in doc.get_changes_meta(&[]) {
            index.note(&meta.actor, meta.seq);
        }
        index
    }

    /// Records that `actor`'s change `seq` is held.
    pub fn note(&mut self, actor: &ActorId, seq: u64) {
        let m = self.max.entry(actor.to_bytes().to_vec()).or_insert(0);
        *m = (*m).max(seq);
    }

    /// The highest sequence number held for `actor` (0 for none).
    pub fn max_seq(&self, actor: &ActorId) -> u64 {
        self.max.get(actor.to_bytes()).copied().unwrap_or(0)
    }
}

/// Two changes by one device at one sequence number, as found on receipt:
/// the second (offered) is refused; the node completes the proof with the
/// signature of the held one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    /// The device that signed both.
    pub author: DeviceId,
    /// The sequence number.
    pub seq: u64,
    /// The change held first: its hash, and its bytes and signature when
    /// they came in the same message (else the node has them).
    pub held: ChangeHash,
    /// The held change's bytes and signature if it was offered in the same
    /// message rather than held.
    pub held_change: Option<SignedChange>,
    /// The change refused.
    pub offered: SignedChange,
}

/// What [`receive_verified`] accepted.
#[derive(Debug, Default)]
pub struct Received {
    /// The changes applied, in causal order, for the caller to store.
    pub verified: Vec<VerifiedChange>,
    /// Verified changes not applied because their dependencies are
    /// missing; the caller asks the peer to send them again.
    pub orphans: usize,
}

/// One change of the message, decoded and signature-checked.
struct Offered {
    decoded: DecodedChange,
    hash: ChangeHash,
    author: DeviceId,
    signature: [u8; SIGNATURE_LEN],
}

/// Receives a peer's message for document `doc_id` (see the module docs).
/// On any error the document, its sync state and `seqs` are unchanged.
pub fn receive_verified(
    doc_id: &DocId,
    doc: &mut AutoCommit,
    state: &mut State,
    incoming: &SignedSyncMessage,
    mut rule: impl WriteRule,
    seqs: &mut SeqIndex,
) -> Result<Received, SyncError> {
    let mut message = validate(&incoming.message)?;
    if incoming.signatures.len() > MAX_CHANGE_CHUNKS {
        return Err(SyncError::TooManySignatures(incoming.signatures.len()));
    }
    let signatures: HashMap<ChangeHash, [u8; SIGNATURE_LEN]> =
        incoming.signatures.iter().copied().collect();

    // 1 and 2: decode every change, check every signature.
    let mut budget = Budget::default();
    let mut offered: Vec<Offered> = Vec::with_capacity(message.changes.len());
    let mut in_message: HashMap<ChangeHash, usize> = HashMap::new();
    for entry in message.changes.iter() {
        let decoded = decode_change(entry, &mut budget)?;
        check_values(&decoded.change)?;
        let hash = decoded.change.hash();
        if in_message.contains_key(&hash) {
            continue; // the same change twice: once is enough
        }
        let signature = *signatures
            .get(&hash)
            .ok_or_else(|| SyncError::MissingSignature(hash.to_string()))?;
        let author = verify_parsed(doc_id, &decoded.change, &signature, |_| true)
            .map_err(ChangeRefused::from)?;
        in_message.insert(hash, offered.len());
        offered.push(Offered {
            decoded,
            hash,
            author,
            signature,
        });
    }

    // 3: equivocation, against what is held and within the message.
    let mut claimed: HashMap<(DeviceId, u64), usize> = HashMap::new();
    let mut fresh = Vec::with_capacity(offered.len());
    for (i, o) in offered.iter().enumerate() {
        let held_already = doc.get_missing_deps(&[o.hash]).is_empty();
        let seq = o.decoded.change.seq();
        let held = if held_already {
            HeldAt::Same
        } else if seq <= seqs.max_seq(o.decoded.change.actor_id()) {
            HeldAt::Other(held_hash(doc, o.decoded.change.actor_id(), seq))
        } else if let Some(&j) = claimed.get(&(o.author, seq)) {
            HeldAt::Other(offered[j].hash)
        } else {
            HeldAt::Nothing
        };
        if let (Err(ChangeRefused::Equivocation { .. }), HeldAt::Other(held)) =
            (accept(&Ok(o.author), true, seq, held), held)
        {
            let held_change = in_message.get(&held).map(|&j| SignedChange {
                bytes: offered[j].decoded.chunk.clone(),
                signature: offered[j].signature,
            });
            return Err(SyncError::Equivocation(Box::new(Equivocation {
                author: o.author,
                seq,
                held,
                held_change,
                offered: SignedChange {
                    bytes: o.decoded.chunk.clone(),
                    signature: o.signature,
                },
            })));
        }
        claimed.insert((o.author, seq), i);
        if !held_already {
            fresh.push(i);
        }
    }

    // 4: causal order of the changes whose dependencies are met.
    let (ready, orphans) = causal_order(doc, &offered, &fresh);
    let mut next_seq: HashMap<DeviceId, u64> = HashMap::new();
    for &i in &ready {
        let o = &offered[i];
        let expected = next_seq
            .get(&o.author)
            .copied()
            .unwrap_or_else(|| seqs.max_seq(o.decoded.change.actor_id()) + 1);
        let seq = o.decoded.change.seq();
        if seq != expected {
            return Err(SyncError::SeqGap {
                author: o.author.fmt_short(),
                seq,
                expected,
            });
        }
        next_seq.insert(o.author, seq + 1);
    }

    // 5: the write rule, in rounds.
    let accepted = write_rounds(doc, &offered, ready, &mut rule)?;
    // Orphans must pass the rule as it now stands, unless the rule learns
    // from this document (its writers may come with the missing changes):
    // then they are left for the resend.
    if !rule.learns() {
        for &i in &orphans {
            refuse(&rule, &offered[i])?;
        }
    }

    // 6 and 7: apply what was accepted, in order, and nothing else.
    message.changes = accepted
        .iter()
        .map(|&i| offered[i].decoded.chunk.clone())
        .collect::<Vec<_>>()
        .into();
    let actor = doc.get_actor().clone();
    let mut staged = doc.fork().with_actor(actor);
    let mut staged_state = state.clone();
    staged
        .sync()
        .receive_sync_message(&mut staged_state, message)
        .map_err(|e| SyncError::Refused(e.to_string()))?;
    let applied: Vec<ChangeHash> = accepted.iter().map(|&i| offered[i].hash).collect();
    if !staged.get_missing_deps(&applied).is_empty() {
        return Err(SyncError::Refused(
            "automerge did not apply every accepted change".into(),
        ));
    }
    *doc = staged;
    *state = staged_state;
    let verified = accepted
        .into_iter()
        .map(|i| {
            let o = &offered[i];
            seqs.note(o.decoded.change.actor_id(), o.decoded.change.seq());
            VerifiedChange {
                bytes: o.decoded.chunk.clone(),
                hash: o.hash,
                signature: o.signature,
            }
        })
        .collect();
    Ok(Received {
        verified,
        orphans: orphans.len(),
    })
}

/// Every string a change writes within its field's limit
/// ([`crate::text::scalar_limit`]), and map keys short.
pub(crate) fn check_values(change: &automerge::Change) -> Result<(), SyncError> {
    use automerge::ScalarValue;
    use automerge::legacy::{Key, OpType};
    let too_long = |key: &str, chars: usize, max: usize| SyncError::TooLong {
        key: crate::text::safe_line(key).chars().take(40).collect(),
        chars,
        max,
    };
    let message = change.message().map_or(0, |m| m.chars().count());
    if message > crate::text::MAX_KEY_BYTES {
        return Err(too_long(
            "[change message]",
            message,
            crate::text::MAX_KEY_BYTES,
        ));
    }
    for op in change.decode().operations {
        let key = match &op.key {
            Key::Map(k) => {
                if k.len() > crate::text::MAX_KEY_BYTES {
                    return Err(too_long(
                        "[map key]",
                        k.chars().count(),
                        crate::text::MAX_KEY_BYTES,
                    ));
                }
                Some(k.as_str())
            }
            Key::Seq(_) => None,
        };
        let len = match &op.action {
            OpType::Put(ScalarValue::Str(s)) => s.len(),
            OpType::Put(ScalarValue::Bytes(b)) => b.len(),
            _ => continue,
        };
        let max = crate::text::scalar_limit(key);
        // Bytes first (cheap); a string within the limit in bytes is within it.
        if len > max {
            let chars = match &op.action {
                OpType::Put(ScalarValue::Str(s)) => s.chars().count(),
                _ => len,
            };
            if chars > max {
                return Err(too_long(key.unwrap_or("[list item]"), chars, max));
            }
        }
    }
    Ok(())
}

/// The hash held for `actor`'s change `seq` (a scan: only an equivocation
/// needs it).
fn held_hash(doc: &mut AutoCommit, actor: &ActorId, seq: u64) -> ChangeHash {
    doc.get_changes_meta(&[])
        .into_iter()
        .find(|m| m.actor.as_ref() == actor && m.seq == seq)
        .map_or(ChangeHash([0; 32]), |m| m.hash)
}

/// Splits the new changes (`fresh`, indexes into `offered`) into those
/// whose dependencies are held or come earlier in the message, in causal
/// order, and the orphans.
fn causal_order(
    doc: &mut AutoCommit,
    offered: &[Offered],
    fresh: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let index: HashMap<ChangeHash, usize> = fresh.iter().map(|&i| (offered[i].hash, i)).collect();
    // For each change: the dependencies in the message it waits for.
    let mut waiting: HashMap<usize, usize> = HashMap::new();
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut missing: BTreeSet<usize> = BTreeSet::new();
    for &i in fresh {
        let mut n = 0;
        for dep in offered[i].decoded.change.deps() {
            if let Some(&j) = index.get(dep) {
                n += 1;
                dependents.entry(j).or_default().push(i);
            } else if !doc.get_missing_deps(&[*dep]).is_empty() {
                missing.insert(i);
            }
        }
        waiting.insert(i, n);
    }
    let mut ready = Vec::with_capacity(fresh.len());
    let mut stack: Vec<usize> = fresh
        .iter()
        .rev()
        .copied()
        .filter(|i| waiting.get(i) == Some(&0) && !missing.contains(i))
        .collect();
    while let Some(i) = stack.pop() {
        ready.push(i);
        for &d in dependents
            .get(&i)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .rev()
        {
            if let Some(w) = waiting.get_mut(&d) {
                *w -= 1;
                if *w == 0 && !missing.contains(&d) {
                    stack.push(d);
                }
            }
        }
    }
    let placed: BTreeSet<usize> = ready.iter().copied().collect();
    let orphans = fresh
        .iter()
        .copied()
        .filter(|i| !placed.contains(i))
        .collect();
    (ready, orphans)
}

/// Whether the write rule and the revocation cut let `o` in.
fn allowed(rule: &impl WriteRule, o: &Offered) -> bool {
    rule.may_write(&o.author) && rule.within_cut(&o.author, o.decoded.change.seq())
}

/// The refusal of `o`, if the write rule or the cut refuses it.
fn refuse(rule: &impl WriteRule, o: &Offered) -> Result<(), SyncError> {
    let seq = o.decoded.change.seq();
    accept(
        &Ok(o.author),
        rule.may_write(&o.author),
        seq,
        HeldAt::Nothing,
    )?;
    if !rule.within_cut(&o.author, seq) {
        return Err(ChangeRefused::BeyondCut {
            author: o.author.fmt_short(),
            seq,
        }
        .into());
    }
    Ok(())
}

/// The write rule in rounds over `ready` (in causal order): each round
/// accepts every change whose author may write and whose dependencies in
/// the message were accepted; a rule that learns then sees a scratch copy
/// with them applied. Anything left once a round accepts nothing is
/// refused.
fn write_rounds(
    doc: &mut AutoCommit,
    offered: &[Offered],
    ready: Vec<usize>,
    rule: &mut impl WriteRule,
) -> Result<Vec<usize>, SyncError> {
    // Dependencies outside `ready` are held (that is what made it ready).
    let in_ready: BTreeSet<ChangeHash> = ready.iter().map(|&i| offered[i].hash).collect();
    let mut accepted: Vec<usize> = Vec::with_capacity(ready.len());
    let mut done: BTreeSet<ChangeHash> = BTreeSet::new();
    let mut pending = ready;
    let mut scratch: Option<AutoCommit> = None;
    loop {
        let mut round = Vec::new();
        let mut rest = Vec::new();
        for i in pending {
            let o = &offered[i];
            let deps_done = o
                .decoded
                .change
                .deps()
                .iter()
                .all(|d| done.contains(d) || !in_ready.contains(d));
            if deps_done && allowed(&*rule, o) {
                done.insert(o.hash);
                round.push(i);
            } else {
                rest.push(i);
            }
        }
        pending = rest;
        if round.is_empty() {
            break;
        }
        if !pending.is_empty() && rule.learns() {
            let copy = scratch.get_or_insert_with(|| doc.fork());
            copy.apply_changes(round.iter().map(|&i| offered[i].decoded.change.clone()))
                .map_err(|e| SyncError::Refused(e.to_string()))?;
            rule.learn(copy);
        }
        accepted.extend(round);
    }
    if let Some(&i) = pending.first() {
        // The first left over (in causal order) has its dependencies
        // accepted, so its author is the one refused.
        refuse(&*rule, &offered[i])?;
        return Err(SyncError::Refused(
            "a change depends on a refused change".into(),
        ));
    }
    Ok(accepted)
}
