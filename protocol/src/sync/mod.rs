//! Syncing one document with a peer, with every change's author verified.
//!
//! Automerge's sync protocol decides what to send; this module adds the
//! signatures, and keeps Automerge away from anything unverified. The
//! sender attaches the signature of every change its sync message carries
//! (found from the hashes Automerge records as sent). The receiver
//! ([`receive_verified`]) decodes every change itself under byte and
//! operation caps, checks every signature, refuses equivocation, applies
//! the write rule, and only then lets Automerge apply what it accepted. A
//! message with one bad change is refused whole: the document and the sync
//! state are left exactly as they were.
//!
//! Changes travel one by one, never as Automerge's whole-document format
//! (a document chunk would need Automerge to inflate and load it before any
//! change in it could be checked): [`generate`] forgets the peer's
//! capabilities before each message, so Automerge never uses it.

pub mod messages;
mod receive;
pub mod session;

use automerge::sync::{BloomFilter, Have, MessageFlags, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};

pub(crate) use receive::check_values;
pub use receive::{Equivocation, Received, SeqIndex, receive_verified};

use crate::keys::DeviceId;
use crate::signed::SIGNATURE_LEN;
use crate::trust::change::ChangeRefused;
use crate::wire::chunks::ChunkRejected;
use crate::wire::sync_message::SyncMessageRejected;

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
    /// The change bytes (an uncompressed change chunk).
    pub bytes: Vec<u8>,
    /// Its hash.
    pub hash: ChangeHash,
    /// The author's signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a sync step failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncError {
    /// The message failed validation.
    #[error(transparent)]
    Message(#[from] SyncMessageRejected),
    /// A change chunk failed decoding or its caps.
    #[error(transparent)]
    Chunk(#[from] ChunkRejected),
    /// Automerge refused changes that passed every check.
    #[error("automerge refused the sync message: {0}")]
    Refused(String),
    /// A change in the message came without a signature.
    #[error("change {0} arrived without a signature")]
    MissingSignature(String),
    /// A change failed the acceptance rule (signature or writer).
    #[error(transparent)]
    Change(#[from] ChangeRefused),
    /// A device signed two changes with one sequence number.
    #[error(
        "device {} signed two different changes with sequence number {}",
        .0.author.fmt_short(),
        .0.seq
    )]
    Equivocation(Box<Equivocation>),
    /// A change skips sequence numbers of its author.
    #[error("change {seq} by device {author} skips its sequence (expected {expected})")]
    SeqGap {
        /// The author, short.
        author: String,
        /// The change's sequence number.
        seq: u64,
        /// The one expected.
        expected: u64,
    },
    /// A value in a change is longer than its field holds.
    #[error("a change holds a value of {chars} characters under '{key}' (at most {max})")]
    TooLong {
        /// The map key it was written under (`[list item]` in a list).
        key: String,
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// More signatures than a message can need.
    #[error("{0} signatures attached to one message")]
    TooManySignatures(usize),
    /// Our own store lacks the signature of a change we were about to send.
    #[error("no stored signature for our change {0}; refusing to send it unsigned")]
    UnsignedLocalChange(String),
}

impl SyncError {
    /// Whether the error shows the peer itself misbehaved (it sent what no
    /// honest node sends: malformed bytes, a bomb, a forged or missing
    /// signature), so its whole session ends. Otherwise only the document
    /// stops syncing with that peer: an honest peer may relay a third
    /// device's equivocation, or judge a writer by a newer card.
    pub fn ends_session(&self) -> bool {
        !matches!(
            self,
            SyncError::Equivocation(_)
                | SyncError::Change(ChangeRefused::NotAWriter { .. })
                | SyncError::Change(ChangeRefused::BeyondCut { .. })
                | SyncError::UnsignedLocalChange(_)
                | SyncError::TooLong { .. }
        )
    }
}

/// The next message for the peer, if there is anything to say, with the
/// signatures of the changes it carries. `signature_of` looks signatures up
/// in the local store.
///
/// `resync` asks the peer to send again every change since the heads both
/// hold: the message carries Automerge's sync-reset flag (the peer forgets
/// what it sent) and an empty bloom filter (so it assumes nothing is held).
/// The receiver of changes whose dependencies were missing sends it.
pub fn generate(
    doc: &mut AutoCommit,
    state: &mut State,
    resync: bool,
    signature_of: impl Fn(&ChangeHash) -> Option<[u8; SIGNATURE_LEN]>,
) -> Result<Option<SignedSyncMessage>, SyncError> {
    // Never the whole-document format (see the module docs).
    state.their_capabilities = None;
    if resync {
        state.have_responded = false;
        state.in_flight = false;
    }
    let before = state.sent_hashes.clone();
    let Some(mut message) = doc.sync().generate_sync_message(state) else {
        return Ok(None);
    };
    if resync {
        let mut flags = message.flags.unwrap_or_else(MessageFlags::new);
        flags.set(MessageFlags::SYNC_RESET);
        message.flags = Some(flags);
        message.have = vec![Have {
            last_sync: state.shared_heads.clone(),
            bloom: BloomFilter::default(),
        }];
    }
    // Automerge sends each change as it holds it, uncompressed (a
    // 10,000-row import is a 2 MiB change); send it deflated. The hash
    // and signature are of the change itself.
    message.changes = message
        .changes
        .iter()
        .map(crate::wire::chunks::compress_change)
        .collect::<Vec<_>>()
        .into();
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
    /// Whether `author`'s change `seq` is within its revocation cut
    /// ([`crate::trust::write::within_cut`]); true for a device not revoked.
    fn within_cut(&self, author: &DeviceId, seq: u64) -> bool {
        let _ = (author, seq);
        true
    }
    /// Whether the rule depends on the document itself (then
    /// [`WriteRule::learn`] is called between rounds).
    fn learns(&self) -> bool {
        false
    }
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

#[cfg(test)]
mod tests;
