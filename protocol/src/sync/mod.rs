//! Syncing one document with a peer, with every change's author verified.
//!
//! Automerge's sync protocol decides what to send; this module adds the
//! signatures. The sender attaches the signature of every change its sync
//! message carries (found from the hashes Automerge records as sent). The
//! receiver validates the message ([`crate::wire::sync_message::validate`]),
//! applies it to a *staged copy* of the document, checks the signature and
//! write permission of every change the copy gained, and only then swaps
//! the copy in. A message with one bad change is rejected whole: the
//! document and the sync state are left exactly as they were.

use std::collections::HashMap;

pub mod messages;
pub mod session;

use automerge::sync::{State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};

use crate::ids::DocId;
use crate::keys::DeviceId;
use crate::signed::{ChangeRejected, SIGNATURE_LEN, verify_parsed};
use crate::wire::sync_message::{SyncMessageRejected, validate};

/// A sync message and the signatures of the changes it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedSyncMessage {
    /// The encoded Automerge sync message.
    pub message: Vec<u8>,
    /// (change hash, author's signature) for each change in the message.
    pub signatures: Vec<(ChangeHash, [u8; SIGNATURE_LEN])>,
}

/// A change that arrived from a peer and passed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChange {
    /// The change bytes.
    pub bytes: Vec<u8>,
    /// Its hash.
    pub hash: ChangeHash,
    /// The author's signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a sync step failed. Receiving errors end the peer's session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncError {
    /// The message failed validation.
    #[error(transparent)]
    Message(#[from] SyncMessageRejected),
    /// Automerge refused the message.
    #[error("automerge refused the sync message: {0}")]
    Refused(String),
    /// A change in the message came without a signature.
    #[error("change {0} arrived without a signature")]
    MissingSignature(String),
    /// A change failed verification.
    #[error(transparent)]
    Change(#[from] ChangeRejected),
    /// More signatures than a message can need.
    #[error("{0} signatures attached to one message")]
    TooManySignatures(usize),
    /// Our own store lacks the signature of a change we were about to send.
    #[error("no stored signature for our change {0}; refusing to send it unsigned")]
    UnsignedLocalChange(String),
}

/// The next message for the peer, if there is anything to say, with the
/// signatures of the changes it carries. `signature_of` looks signatures up
/// in the local store.
pub fn generate(
    doc: &mut AutoCommit,
    state: &mut State,
    signature_of: impl Fn(&ChangeHash) -> Option<[u8; SIGNATURE_LEN]>,
) -> Result<Option<SignedSyncMessage>, SyncError> {
    let before = state.sent_hashes.clone();
    let Some(message) = doc.sync().generate_sync_message(state) else {
        return Ok(None);
    };
    let signatures = state
        .sent_hashes
        .difference(&before)
        .map(|h| {
            signature_of(h)
                .map(|s| (*h, s))
                .ok_or_else(|| SyncError::UnsignedLocalChange(h.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(SignedSyncMessage {
        message: message.encode(),
        signatures,
    }))
}

/// Who may write a document, as a receiver applies it.
///
/// For most documents the rule is fixed for the length of a message. The
/// `devices` document decides its own writers: a message may carry a change
/// adding a steward and then changes that steward made. So changes are
/// accepted in rounds: those whose authors the rule allows are applied to a
/// scratch copy, [`WriteRule::learn`] sees that copy, and the rest are
/// tried again. A change is accepted only once an accepted change made its
/// author a writer; anything left over rejects the whole message.
pub trait WriteRule {
    /// Whether `author` may write the document.
    fn may_write(&self, author: &DeviceId) -> bool;
    /// The document with the changes accepted so far applied.
    fn learn(&mut self, accepted: &AutoCommit) {
        let _ = accepted;
    }
}

impl<F: Fn(&DeviceId) -> bool> WriteRule for F {
    fn may_write(&self, author: &DeviceId) -> bool {
        self(author)
    }
}

/// Receives a peer's message for document `doc_id`: validate, stage,
/// verify every new change (signature, then the write rule), commit.
/// Returns the verified changes for the caller to store, in causal order.
pub fn receive_verified(
    doc_id: &DocId,
    doc: &mut AutoCommit,
    state: &mut State,
    incoming: &SignedSyncMessage,
    mut rule: impl WriteRule,
) -> Result<Vec<VerifiedChange>, SyncError> {
    let message = validate(&incoming.message)?;
    if incoming.signatures.len() > crate::wire::sync_message::MAX_CHANGE_CHUNKS {
        return Err(SyncError::TooManySignatures(incoming.signatures.len()));
    }
    let signatures: HashMap<ChangeHash, [u8; SIGNATURE_LEN]> =
        incoming.signatures.iter().copied().collect();
    let before = doc.get_heads();
    let actor = doc.get_actor().clone();
    let mut staged = doc.fork().with_actor(actor);
    let mut staged_state = state.clone();
    staged
        .sync()
        .receive_sync_message(&mut staged_state, message)
        .map_err(|e| SyncError::Refused(e.to_string()))?;
    // Every signature first: a forged change fails here whoever its author.
    let gained = staged.get_changes(&before);
    // Causal order for the caller: as the staged document lists them.
    let order: HashMap<ChangeHash, usize> = gained
        .iter()
        .enumerate()
        .map(|(i, c)| (c.hash(), i))
        .collect();
    let mut pending = Vec::with_capacity(gained.len());
    for change in gained {
        let hash = change.hash();
        let signature = signatures
            .get(&hash)
            .ok_or_else(|| SyncError::MissingSignature(hash.to_string()))?;
        let author = verify_parsed(doc_id, &change, signature, |_| true)?;
        pending.push((author, change, *signature));
    }
    // Then the write rule, in rounds (see [`WriteRule`]).
    let mut verified = Vec::with_capacity(pending.len());
    let mut accepted: Option<AutoCommit> = None;
    loop {
        let (ok, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(author, _, _)| rule.may_write(author));
        pending = rest;
        if ok.is_empty() {
            break;
        }
        if !pending.is_empty() {
            let copy = accepted.get_or_insert_with(|| doc.fork());
            copy.apply_changes(ok.iter().map(|(_, c, _)| c.clone()))
                .map_err(|e| SyncError::Refused(e.to_string()))?;
            rule.learn(copy);
        }
        verified.extend(ok.into_iter().map(|(_, c, signature)| VerifiedChange {
            bytes: c.raw_bytes().to_vec(),
            hash: c.hash(),
            signature,
        }));
    }
    if let Some((author, _, _)) = pending.first() {
        return Err(ChangeRejected::NotAWriter {
            author: author.fmt_short(),
        }
        .into());
    }
    verified.sort_by_key(|v| order.get(&v.hash).copied().unwrap_or(usize::MAX));
    *doc = staged;
    *state = staged_state;
    Ok(verified)
}

#[cfg(test)]
mod tests;
