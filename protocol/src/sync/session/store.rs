//! What a session asks of the node: signatures, write rules, storage,
//! cards, records and epochs.

use automerge::{AutoCommit, ChangeHash};

use super::super::{SeqIndex, SyncError, VerifiedChange};
use crate::card::CardRejected;
use crate::epoch::{EpochError, SignedEpoch};
use crate::ids::DocId;
use crate::keys::DeviceId;
use crate::signed::SIGNATURE_LEN;
use crate::trust::change::SignedChange;
use crate::trust::epoch::EpochRefused;

/// Why the node did not keep what a session gave it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// The node's store could not commit it (the disk, the database). The
    /// session ends; nothing was acknowledged, so the peer sends it again.
    #[error("{0}")]
    Storage(String),
    /// A group card that is malformed or whose signature fails.
    #[error(transparent)]
    Card(#[from] CardRejected),
    /// A network record (or a card, where only the reason is kept) that is
    /// malformed or forged: its kind's name and the reason.
    #[error("{0}")]
    Record(String),
    /// The trust rule refuses the epoch offered.
    #[error(transparent)]
    EpochRefused(#[from] EpochRefused),
    /// The epoch's genesis does not check, or switching to it failed (the
    /// reason: an [`EpochError`], whose Automerge errors do not compare).
    #[error("{0}")]
    Epoch(String),
    /// This node does not hold the document named.
    #[error("this node does not hold that document")]
    NotHeld,
    /// This node does not take epochs at all.
    #[error("this node does not take epochs")]
    NoEpochs,
}

impl From<EpochError> for HostError {
    fn from(e: EpochError) -> Self {
        HostError::Epoch(e.to_string())
    }
}

/// What a session needs from the node besides the documents themselves.
pub trait SessionStore {
    /// The stored signature of a change.
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; SIGNATURE_LEN]>;
    /// Whether `author` may write document `doc`.
    fn may_write(&self, doc: &DocId, author: &DeviceId) -> bool;
    /// Whether `author`'s change `seq` to `doc`, in the epoch held, is
    /// within its revocation cut (`trust::write::within_cut`).
    fn within_cut(&self, doc: &DocId, author: &DeviceId, seq: u64) -> bool;
    /// Durably stores verified changes a document has just gained.
    fn store(&mut self, doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), HostError>;
    /// While a message is checked: `doc` with the changes accepted so far,
    /// for documents whose content decides their writers (the group's
    /// `devices`). See [`super::super::WriteRule`].
    fn learn(&mut self, doc: &DocId, accepted: &AutoCommit) {
        let _ = (doc, accepted);
    }
    /// The message has been accepted or rejected: drop what `learn` saw.
    fn forget_learned(&mut self) {}
    /// Whether `doc`'s write rule depends on `doc` itself (the group's
    /// `devices`): then [`SessionStore::learn`] is called between rounds.
    fn learns(&self, doc: &DocId) -> bool {
        let _ = doc;
        false
    }
    /// The sequence index of `doc` if the store keeps one (see
    /// [`SeqIndex`]); `None` makes the session build it from the document.
    fn take_seqs(&mut self, doc: &DocId) -> Option<SeqIndex> {
        let _ = doc;
        None
    }
    /// The index back, updated with what the message applied.
    fn put_seqs(&mut self, doc: &DocId, seqs: SeqIndex) {
        let _ = (doc, seqs);
    }
    /// A message for `doc` was refused without ending the session (the
    /// document stops syncing with this peer): an equivocation to keep as
    /// proof, or a change by a device the rule here does not accept.
    fn refused(&mut self, doc: &DocId, why: &SyncError) {
        let _ = (doc, why);
    }
    /// The epoch this node holds of `doc` (0: the founding history).
    fn epoch(&self, doc: &DocId) -> u64 {
        let _ = doc;
        0
    }
    /// The genesis hash of the epoch this node holds of `doc`, past epoch 0.
    fn epoch_genesis(&self, doc: &DocId) -> Option<ChangeHash> {
        let _ = doc;
        None
    }
    /// The signed record of the epoch this node holds of `doc`, past
    /// epoch 0 (its genesis is the document's first change, and its
    /// signature is stored with the others).
    fn epoch_message(&self, doc: &DocId) -> Option<Vec<u8>> {
        let _ = doc;
        None
    }
    /// The peer offered a newer epoch of `doc` than this node holds (or one
    /// with the same number that wins the tie: the lower genesis hash). The
    /// node asks [`crate::trust::epoch`], checks the genesis, switches
    /// (rebasing its own changes, [`crate::epoch::switch`]), stores the new
    /// epoch durably and deletes the old one, and replaces `current` with
    /// it: then `Ok(())`. A refusal is the reason, and the document stops
    /// syncing with this peer.
    fn receive_epoch(
        &mut self,
        doc: &DocId,
        record: &SignedEpoch,
        genesis: SignedChange,
        current: &mut AutoCommit,
    ) -> Result<(), HostError> {
        let _ = (doc, record, genesis, current);
        Err(HostError::NoEpochs)
    }
    /// The signed group cards this node holds, encoded, to offer the peer.
    fn cards(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    /// Cards the peer offered: verify each, keep those newer than the ones
    /// held, and return the public documents of groups not known before
    /// (the session then shares them). A card that fails verification is
    /// an error and ends the session.
    fn receive_cards(&mut self, cards: Vec<Vec<u8>>) -> Result<Vec<DocId>, HostError> {
        let _ = cards;
        Ok(Vec::new())
    }
    /// The network records this node holds, each prefixed by its kind byte.
    fn records(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    /// Records the peer offered: keep the valid, newer ones. A record that
    /// fails verification is an error and ends the session; an older one
    /// is not (the peer has not heard of the newer one yet).
    fn receive_records(&mut self, records: Vec<Vec<u8>>) -> Result<(), HostError> {
        let _ = records;
        Ok(())
    }
}
