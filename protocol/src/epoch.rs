//! Epochs: a document started again from its current state.
//!
//! Automerge keeps every value ever written. An *epoch* of a document is a
//! fresh Automerge document whose first change, the *genesis*, holds the
//! current state of the previous epoch and nothing of its history. A
//! steward device starts one ([`start`]) and signs an *epoch record*
//! ([`Epoch`]) naming:
//!
//! - the document and the epoch's number (the founding history is epoch 0,
//!   which has no record);
//! - the heads of the previous epoch that the new one covers;
//! - the *clock* of what it covers: for each device that wrote the covered
//!   history, its highest sequence number in it (each device's changes
//!   form one chain, so this names exactly the covered changes, and a
//!   device that never saw the covered heads can still tell which of its
//!   own changes are covered);
//! - the hash of the genesis change, which is the epoch's starting snapshot;
//! - the genesis hash of the epoch it was started from, so a device on
//!   another line of epochs (two devices started one apart) knows the clock
//!   does not count its changes.
//!
//! ```text
//! record:  body | author 32 | signature 64
//! body:    version 1 | doc 32 | epoch u64 | n u16 | n × covered head 32
//!          | m u16 | m × (device 32 | seq u64) | genesis hash 32
//!          | previous genesis hash 32 (zeros after epoch 0)
//! signed:  "groundwork/epoch/v1" ‖ body ‖ author
//! ```
//!
//! Integers are big-endian. Heads are sorted and distinct, clock entries
//! sorted by device, distinct, with sequence numbers from 1: there is one
//! encoding of each record. The genesis is an ordinary change chunk by the
//! record's author, sequence 1, with no dependencies, signed for the
//! epoch's identity ([`DocId::in_epoch`]): a change of one epoch never
//! verifies in another. Who may start an epoch is
//! [`crate::trust::epoch`]; a device re-applies its own changes the new
//! epoch does not cover with [`rebase`].

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, Change, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use ed25519_dalek::Signature;

use crate::edit;
use crate::ids::DocId;
use crate::keys::{DeviceId, PublicKey, SecretKey};
use crate::signed::{self, SIGNATURE_LEN};
use crate::trust::change::SignedChange;
use crate::wire::chunks::{self, Budget, ChunkRejected};

mod rebase;
#[cfg(test)]
mod tests;

pub use rebase::{Rebased, rebase};

/// The most previous-epoch heads a record may name (as a sync message).
pub const MAX_COVERED_HEADS: usize = 1024;
/// The most devices a record's clock may name.
pub const MAX_CLOCK: usize = 4096;
/// The largest encoded record.
pub const MAX_RECORD_BYTES: usize =
    BODY_FIXED + MAX_COVERED_HEADS * 32 + MAX_CLOCK * (32 + 8) + 32 + SIGNATURE_LEN;

const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"groundwork/epoch/v1";
/// version, doc, epoch, two counts, genesis, previous genesis.
const BODY_FIXED: usize = 1 + 32 + 8 + 2 + 2 + 32 + 32;

/// What an epoch record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    /// The document (its id in every epoch).
    pub doc: DocId,
    /// The epoch's number, from 1.
    pub number: u64,
    /// The heads of the previous epoch the new one covers.
    pub covers: Vec<ChangeHash>,
    /// For each device in the covered history, its highest covered
    /// sequence number.
    pub clock: BTreeMap<DeviceId, u64>,
    /// The hash of the genesis change: the epoch's starting snapshot.
    pub genesis: ChangeHash,
    /// The genesis hash of the epoch this one was started from (none:
    /// epoch 0).
    pub previous: Option<ChangeHash>,
}

/// Why an epoch record, or its genesis, is refused. Each names what failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EpochRejected {
    /// The bytes are not an epoch record.
    #[error("malformed epoch record: {0}")]
    Malformed(&'static str),
    /// A list is longer than its cap.
    #[error("an epoch record names {count} {what} (at most {max})")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// How many it names.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// Heads or clock out of order, repeated, or a sequence number of 0:
    /// not the one encoding of the record.
    #[error("epoch record is not in canonical form: {0}")]
    NotCanonical(&'static str),
    /// Epoch 0 is the founding history and has no record.
    #[error("an epoch record must number its epoch from 1")]
    EpochZero,
    /// The signature does not verify under the named author.
    #[error("bad signature on the epoch record by device {0}")]
    BadSignature(String),
    /// The genesis change failed its chunk checks.
    #[error("epoch genesis: {0}")]
    GenesisChunk(#[from] ChunkRejected),
    /// The genesis is not the change the record names.
    #[error("the epoch's snapshot does not match the hash its record names")]
    GenesisHash,
    /// The genesis is not a first change by the record's author.
    #[error("the epoch's snapshot is not a first change by the record's author: {0}")]
    GenesisShape(&'static str),
    /// The genesis change's signature does not verify for the epoch.
    #[error("the epoch's snapshot is not signed for this epoch: {0}")]
    GenesisSignature(String),
    /// A value in the genesis is over its field's limit.
    #[error("the epoch's snapshot: {0}")]
    GenesisValue(String),
}

impl Epoch {
    /// Whether the change `seq` of `author` is in the covered history.
    pub fn covers_change(&self, author: &DeviceId, seq: u64) -> bool {
        self.clock.get(author).is_some_and(|&s| seq <= s)
    }

    fn check(&self) -> Result<(), EpochRejected> {
        if self.number == 0 {
            return Err(EpochRejected::EpochZero);
        }
        if self.covers.len() > MAX_COVERED_HEADS {
            return Err(EpochRejected::TooMany {
                what: "covered heads",
                count: self.covers.len(),
                max: MAX_COVERED_HEADS,
            });
        }
        if self.clock.len() > MAX_CLOCK {
            return Err(EpochRejected::TooMany {
                what: "devices in its clock",
                count: self.clock.len(),
                max: MAX_CLOCK,
            });
        }
        if !self.covers.windows(2).all(|w| w[0] < w[1]) {
            return Err(EpochRejected::NotCanonical("heads not sorted and distinct"));
        }
        if self.clock.values().any(|&s| s == 0) {
            return Err(EpochRejected::NotCanonical("a clock entry of sequence 0"));
        }
        Ok(())
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(BODY_FIXED + self.covers.len() * 32 + self.clock.len() * 40);
        b.push(VERSION);
        b.extend_from_slice(self.doc.as_bytes());
        b.extend_from_slice(&self.number.to_be_bytes());
        b.extend_from_slice(&(self.covers.len() as u16).to_be_bytes());
        for h in &self.covers {
            b.extend_from_slice(&h.0);
        }
        b.extend_from_slice(&(self.clock.len() as u16).to_be_bytes());
        for (device, seq) in &self.clock {
            b.extend_from_slice(device.as_bytes());
            b.extend_from_slice(&seq.to_be_bytes());
        }
        b.extend_from_slice(&self.genesis.0);
        b.extend_from_slice(&self.previous.map_or([0; 32], |h| h.0));
        b
    }

    /// Signs the record with a device key.
    pub fn sign(&self, key: &SecretKey) -> Result<SignedEpoch, EpochRejected> {
        let mut epoch = self.clone();
        epoch.covers.sort();
        epoch.covers.dedup();
        epoch.check()?;
        let author = key.public();
        let mut bytes = epoch.body();
        bytes.extend_from_slice(author.as_bytes());
        let mut message = DOMAIN.to_vec();
        message.extend_from_slice(&bytes);
        bytes.extend_from_slice(&key.sign(&message).to_bytes());
        Ok(SignedEpoch {
            epoch,
            author,
            bytes,
        })
    }
}

/// An epoch record whose signature verifies (who may sign one is
/// [`crate::trust::epoch`]'s question).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEpoch {
    epoch: Epoch,
    author: DeviceId,
    bytes: Vec<u8>,
}

impl SignedEpoch {
    /// Decodes a record and verifies its signature, checking every count
    /// against its cap before reading the list it counts.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEpoch, EpochRejected> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(EpochRejected::Malformed("longer than any record"));
        }
        let mut r = Reader(bytes);
        if r.take(1)? != [VERSION] {
            return Err(EpochRejected::Malformed("unknown version"));
        }
        let doc = DocId::from_bytes(r.array()?);
        let number = u64::from_be_bytes(r.array()?);
        let n = usize::from(u16::from_be_bytes(r.array()?));
        if n > MAX_COVERED_HEADS {
            return Err(EpochRejected::TooMany {
                what: "covered heads",
                count: n,
                max: MAX_COVERED_HEADS,
            });
        }
        let covers = (0..n)
            .map(|_| r.array().map(ChangeHash))
            .collect::<Result<Vec<_>, _>>()?;
        let m = usize::from(u16::from_be_bytes(r.array()?));
        if m > MAX_CLOCK {
            return Err(EpochRejected::TooMany {
                what: "devices in its clock",
                count: m,
                max: MAX_CLOCK,
            });
        }
        let mut clock = BTreeMap::new();
        let mut last: Option<DeviceId> = None;
        for _ in 0..m {
            let device = PublicKey::from_slice(r.take(32)?)
                .map_err(|_| EpochRejected::Malformed("a clock entry is not a device key"))?;
            let seq = u64::from_be_bytes(r.array()?);
            if last.is_some_and(|l| l >= device) {
                return Err(EpochRejected::NotCanonical("clock not sorted and distinct"));
            }
            last = Some(device);
            clock.insert(device, seq);
        }
        let genesis = ChangeHash(r.array()?);
        let previous: [u8; 32] = r.array()?;
        let previous = (previous != [0; 32]).then_some(ChangeHash(previous));
        let body_len = bytes.len() - r.0.len();
        let author = PublicKey::from_slice(r.take(32)?)
            .map_err(|_| EpochRejected::Malformed("the author is not a device key"))?;
        let signature = Signature::from_bytes(&r.array()?);
        if !r.0.is_empty() {
            return Err(EpochRejected::Malformed("trailing bytes"));
        }
        let epoch = Epoch {
            doc,
            number,
            covers,
            clock,
            genesis,
            previous,
        };
        epoch.check()?;
        let mut message = DOMAIN.to_vec();
        message.extend_from_slice(&bytes[..body_len + 32]);
        if !author.verify(&message, &signature) {
            return Err(EpochRejected::BadSignature(author.fmt_short()));
        }
        Ok(SignedEpoch {
            epoch,
            author,
            bytes: bytes.to_vec(),
        })
    }

    /// What the record says.
    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    /// The device that signed it.
    pub fn author(&self) -> DeviceId {
        self.author
    }

    /// The encoded record.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks a genesis change from a peer against the record: decoded
    /// under the chunk caps, it must be the change the record names, the
    /// author's first change with no dependencies, and signed for this
    /// epoch. Returns the change chunk, uncompressed, to load.
    pub fn check_genesis(&self, genesis: &SignedChange) -> Result<Vec<u8>, EpochRejected> {
        let decoded = chunks::decode_change(&genesis.bytes, &mut Budget::default())?;
        let change = &decoded.change;
        if change.hash() != self.epoch.genesis {
            return Err(EpochRejected::GenesisHash);
        }
        check_first_change(change, &self.author)?;
        crate::sync::check_values(change)
            .map_err(|e| EpochRejected::GenesisValue(e.to_string()))?;
        let doc = self.epoch.doc.in_epoch(self.epoch.number);
        signed::verify_parsed(&doc, change, &genesis.signature, |_| true)
            .map_err(|e| EpochRejected::GenesisSignature(e.to_string()))?;
        Ok(decoded.chunk)
    }
}

fn check_first_change(change: &Change, author: &DeviceId) -> Result<(), EpochRejected> {
    if change.actor_id().to_bytes() != author.as_bytes() {
        return Err(EpochRejected::GenesisShape("another device wrote it"));
    }
    if change.seq() != 1 || change.start_op().get() != 1 {
        return Err(EpochRejected::GenesisShape("not its author's first change"));
    }
    if !change.deps().is_empty() {
        return Err(EpochRejected::GenesisShape("it has dependencies"));
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EpochRejected> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(EpochRejected::Malformed("truncated"))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EpochRejected> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

/// Why an epoch could not be started or a document switched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EpochError {
    /// The record would be over a cap, or is refused.
    #[error(transparent)]
    Record(#[from] EpochRejected),
    /// A change in the old history has an actor that is not a device key.
    #[error("the document holds a change whose actor is not a device key")]
    ForeignActor,
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] signed::SignError),
    /// Automerge failed.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// A new epoch, ready to store and send.
#[derive(Debug)]
pub struct Started {
    /// The new epoch's document: the genesis change only.
    pub doc: AutoCommit,
    /// The signed record.
    pub record: SignedEpoch,
    /// The genesis change and its signature.
    pub genesis: SignedChange,
}

/// Starts epoch `number` of document `id` from `old`'s current state, as
/// the device of `key` (one that keeps the document: the caller asks
/// [`crate::trust::epoch`] first). `previous` is the genesis hash of the
/// epoch `old` is in (none: epoch 0). Whatever is to be forgotten must
/// already be deleted in `old`: the genesis holds only what `old` shows now.
pub fn start(
    old: &mut AutoCommit,
    id: DocId,
    number: u64,
    key: &SecretKey,
    previous: Option<ChangeHash>,
) -> Result<Started, EpochError> {
    let covers = old.get_heads();
    let clock = clock_of(old)?;
    let me = key.public();
    let mut doc = edit::new_doc().with_actor(signed::actor_id(&me));
    copy_state(old, &mut doc)?;
    // The genesis carries no time: when the epoch started is in no record.
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    let change = match doc.get_last_local_change() {
        Some(c) => c,
        None => {
            // An empty document still gets a genesis, so every epoch has one.
            doc.empty_change(automerge::transaction::CommitOptions::default().with_time(0));
            doc.get_last_local_change()
                .ok_or(EpochRejected::GenesisShape("no change"))?
        }
    };
    let signature = signed::sign_change(key, &id.in_epoch(number), &change)?;
    let record = Epoch {
        doc: id,
        number,
        covers,
        clock,
        genesis: change.hash(),
        previous,
    }
    .sign(key)?;
    Ok(Started {
        doc,
        record,
        genesis: SignedChange {
            bytes: change.raw_bytes().to_vec(),
            signature,
        },
    })
}

/// A document switched to a newer epoch.
#[derive(Debug)]
pub struct Switched {
    /// The new epoch's document: the genesis and this device's rebased
    /// change, if any.
    pub doc: AutoCommit,
    /// The genesis, uncompressed, with its signature.
    pub genesis: SignedChange,
    /// What the rebase did.
    pub rebased: Rebased,
}

impl Switched {
    /// (hash, signature) of every change the new epoch's document holds.
    pub fn signatures(&self) -> Result<Vec<(ChangeHash, [u8; SIGNATURE_LEN])>, EpochError> {
        let mut out = Vec::new();
        for c in [Some(&self.genesis), self.rebased.change.as_ref()]
            .into_iter()
            .flatten()
        {
            let change = Change::try_from(c.bytes.as_slice())
                .map_err(|_| EpochRejected::GenesisShape("not a change"))?;
            out.push((change.hash(), c.signature));
        }
        Ok(out)
    }
}

/// Switches `old` (in the epoch of `held`, none: epoch 0) to the epoch of
/// `record` (whose acceptance the caller has asked [`crate::trust::epoch`]):
/// checks the genesis against the record, builds the new epoch from it,
/// and rebases this device's own uncovered changes (`key`) onto it. `old`
/// is left as it was.
///
/// The record's clock says which of this device's changes are covered only
/// when the record was started from the epoch held here (its `previous`).
/// On another line of epochs (two devices started one apart and `record`'s
/// line stands), everything this device wrote since its epoch began is
/// rebased, but not the genesis it started. A device that missed epochs
/// replays none of its changes (they may hold a member forgotten since).
pub fn switch(
    old: &mut AutoCommit,
    record: &SignedEpoch,
    genesis: &SignedChange,
    key: &SecretKey,
    held: Option<&SignedEpoch>,
) -> Result<Switched, EpochError> {
    let chunk = record.check_genesis(genesis)?;
    let mut doc = edit::load_doc(&chunk)?;
    // Whether the record's clock counts this device's changes: only when
    // it was started from the epoch held here.
    let mut covering = record.epoch().clone();
    let held_genesis = held.map(|h| h.epoch().genesis);
    if held_genesis != record.epoch().previous {
        let held_number = held.map_or(0, |h| h.epoch().number);
        covering.clock = BTreeMap::new();
        if record.epoch().number <= held_number + 1 {
            // Another line of epochs (two devices started one apart, and
            // the other's stands): nothing this device wrote since its own
            // epoch began is covered; the genesis it started is.
            if held.is_some_and(|h| h.author() == key.public()) {
                covering.clock.insert(key.public(), 1);
            }
        } else {
            // Epochs were missed: which of this device's changes they
            // covered cannot be told, so none is replayed (one replayed
            // could bring back a member forgotten meanwhile).
            covering.clock = clock_of(old)?;
        }
    }
    let rebased = rebase(old, &covering, key, &mut doc)?;
    Ok(Switched {
        doc,
        genesis: SignedChange {
            bytes: chunk,
            signature: genesis.signature,
        },
        rebased,
    })
}

/// For each device that wrote `doc`'s history, its highest sequence number.
pub fn clock_of(doc: &mut AutoCommit) -> Result<BTreeMap<DeviceId, u64>, EpochError> {
    let mut clock = BTreeMap::new();
    for meta in doc.get_changes_meta(&[]) {
        let device =
            PublicKey::from_slice(meta.actor.to_bytes()).map_err(|_| EpochError::ForeignActor)?;
        let seq = clock.entry(device).or_insert(0);
        *seq = (*seq).max(meta.seq);
    }
    Ok(clock)
}

/// Copies `src`'s current state (every visible value, the winner of each
/// conflict) into `dst` as new operations, object by object.
pub fn copy_state(src: &AutoCommit, dst: &mut AutoCommit) -> Result<(), automerge::AutomergeError> {
    copy_object(src, &ROOT, dst, &ROOT, ObjType::Map)
}

fn copy_object(
    src: &AutoCommit,
    from: &ObjId,
    dst: &mut AutoCommit,
    to: &ObjId,
    kind: ObjType,
) -> Result<(), automerge::AutomergeError> {
    match kind {
        ObjType::Map | ObjType::Table => {
            for key in src.keys(from) {
                let Some((value, id)) = src.get(from, key.as_str())? else {
                    continue;
                };
                match value {
                    Value::Object(k) => {
                        let child = dst.put_object(to, key.as_str(), k)?;
                        copy_object(src, &id, dst, &child, k)?;
                    }
                    Value::Scalar(s) => dst.put(to, key.as_str(), plain(&s))?,
                }
            }
        }
        ObjType::List => {
            for i in 0..src.length(from) {
                let Some((value, id)) = src.get(from, i)? else {
                    continue;
                };
                match value {
                    Value::Object(k) => {
                        let child = dst.insert_object(to, i, k)?;
                        copy_object(src, &id, dst, &child, k)?;
                    }
                    Value::Scalar(s) => dst.insert(to, i, plain(&s))?,
                }
            }
        }
        ObjType::Text => {
            let text = src.text(from)?;
            dst.splice_text(to, 0, 0, &text)?;
        }
    }
    Ok(())
}

/// A scalar as a new value: a counter starts again from its current total.
pub(crate) fn plain(s: &ScalarValue) -> ScalarValue {
    match s {
        ScalarValue::Counter(c) => ScalarValue::counter(i64::from(c)),
        other => other.clone(),
    }
}
