//! Network records: small signed statements that travel network-wide.
//!
//! | record | issuer | says |
//! |---|---|---|
//! | [`crate::card::GroupCard`] | group key | who the group is, who may write its public documents |
//! | [`Affiliation`] | national key | "group G is affiliated to network N since date" |
//! | [`MembershipSummary`] | group key | aggregate counts only: no name, id or contact |
//!
//! Affiliations and summaries share one envelope (group cards keep their
//! own, [`crate::card`], which has the same shape):
//!
//! ```text
//! encoded: issuer 32 | signature 64 | body (JSON)
//! signed:  "groundwork/record/<kind>/v1" ‖ body
//! ```
//!
//! Verify first, then decode ([`Signed::from_bytes`]); a body whose issuer
//! is not the one the record kind requires is refused. Each record has a
//! sequence number and the highest valid one wins ([`newer`]): an older
//! one is stale, and the same number with different content is refused as
//! a replay.

use std::collections::BTreeMap;

use ed25519_dalek::Signature;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::date::Date;
use crate::keys::{GroupId, PublicKey, SecretKey};

mod summary;

pub use summary::*;

/// The network id: the national body's public key.
pub type NetworkId = PublicKey;

/// The kind byte of an affiliation in a `Records` message.
pub const KIND_AFFILIATION: u8 = 1;
/// The kind byte of a membership summary in a `Records` message.
pub const KIND_SUMMARY: u8 = 3;
/// The kind byte of the first summary format, which carried exact
/// figures. Such records are refused unread ([`RecordRejected::OldFormat`])
/// and deleted from a store that still holds them.
pub const KIND_SUMMARY_V1: u8 = 2;

/// The largest encoded record.
pub const MAX_RECORD_BYTES: usize = 16 * 1024;
const HEADER: usize = 32 + 64;

/// A kind of signed record.
pub trait Record: Serialize + DeserializeOwned + Clone + PartialEq {
    /// The domain string signed before the body.
    const DOMAIN: &'static [u8];
    /// The key that must have signed it.
    fn issuer(&self) -> PublicKey;
    /// Its sequence number.
    fn seq(&self) -> u64;
    /// What it is about (the key records of a kind are kept under).
    fn subject(&self) -> GroupId;
    /// The rules the body must meet beyond its shape (checked when it is
    /// signed and when it is read).
    fn check(&self) -> Result<(), RecordRejected> {
        Ok(())
    }
}

/// A group's affiliation to the network, signed by the national key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affiliation {
    /// The network (the national key, which signs this).
    pub network: NetworkId,
    /// The affiliated group.
    pub group: GroupId,
    /// Since when.
    pub since: Date,
    /// Sequence number.
    pub seq: u64,
}

impl Record for Affiliation {
    const DOMAIN: &'static [u8] = b"groundwork/record/affiliation/v1";
    fn issuer(&self) -> PublicKey {
        self.network
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn subject(&self) -> GroupId {
        self.group
    }
}

/// The gossip topic a network's records travel on: derived from the
/// network id, so every node of the network finds the same one.
pub fn network_topic(network: &NetworkId) -> [u8; 32] {
    blake3::derive_key("groundwork records topic v1", network.as_bytes())
}

/// Why a record was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordRejected {
    /// Over the size cap.
    #[error("record of {0} bytes is over the cap")]
    TooLarge(usize),
    /// Too short for the issuer and signature.
    #[error("record is truncated")]
    Truncated,
    /// The signature does not verify.
    #[error("record signature is invalid")]
    BadSignature,
    /// The body is not a record of this kind.
    #[error("record body is malformed")]
    Malformed,
    /// The body's figures break a rule of its kind.
    #[error("record is inconsistent: {0}")]
    Inconsistent(&'static str),
    /// Dated more than a day after the receiver's today: a wrong clock, or
    /// a group trying to hold the report's growth window hostage. Not
    /// kept, not held against the sender.
    #[error("record is dated {0}, in the future")]
    FromTheFuture(Date),
    /// A record of a retired format (the first summaries, with exact
    /// figures): not read.
    #[error("record of a retired format, not read")]
    OldFormat,
    /// Signed by a key other than the one this kind needs.
    #[error("record is signed by the wrong key")]
    WrongIssuer,
    /// Older than the one held.
    #[error("record is stale (sequence {got}, holding {held})")]
    Stale {
        /// Its sequence number.
        got: u64,
        /// The one held.
        held: u64,
    },
    /// The same sequence number as the one held, with different content.
    #[error("record replays sequence number {0} with different content")]
    Replayed(u64),
    /// An affiliation issued by a network this node does not belong to.
    #[error("affiliation from another network")]
    OtherNetwork,
    /// About a group this node neither links with nor finds in the
    /// directory of a network it trusts.
    #[error("record about a group nobody here linked with and no directory lists")]
    UnknownGroup,
    /// More cards than a node holds.
    #[error("this node already holds {0} group cards")]
    TooMany(usize),
    /// An affiliation of this group from a node it is not linked with as
    /// its national body.
    #[error("affiliation not issued by a national node linked with this group")]
    NotFromALinkedNational,
    /// An affiliation of this group by another network than the one it
    /// belongs to.
    #[error("this group is affiliated with network {0}; another network's affiliation is refused")]
    ReplacesAffiliation(String),
}

impl RecordRejected {
    /// Whether the record itself is bad (forged, malformed, oversized):
    /// whoever sent it is at fault. Stale, replayed and other-network
    /// records are valid signatures that are simply not used.
    pub fn is_forged(&self) -> bool {
        !matches!(
            self,
            RecordRejected::Stale { .. }
                | RecordRejected::OldFormat
                | RecordRejected::FromTheFuture(_)
                | RecordRejected::Replayed(_)
                | RecordRejected::OtherNetwork
                | RecordRejected::UnknownGroup
                | RecordRejected::TooMany(_)
                | RecordRejected::NotFromALinkedNational
                | RecordRejected::ReplacesAffiliation(_)
        )
    }
}

/// A verified record with the exact bytes it arrived as (to relay them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed<T> {
    bytes: Vec<u8>,
    record: T,
}

fn signed_message<T: Record>(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(T::DOMAIN.len() + body.len());
    m.extend_from_slice(T::DOMAIN);
    m.extend_from_slice(body);
    m
}

impl<T: Record> Signed<T> {
    /// Signs `record` with `key`, which must be the record's issuer.
    pub fn sign(record: T, key: &SecretKey) -> Result<Self, RecordRejected> {
        if key.public() != record.issuer() {
            return Err(RecordRejected::WrongIssuer);
        }
        record.check()?;
        let body = serde_json::to_vec(&record).map_err(|_| RecordRejected::Malformed)?;
        if HEADER + body.len() > MAX_RECORD_BYTES {
            return Err(RecordRejected::TooLarge(HEADER + body.len()));
        }
        let signature = key.sign(&signed_message::<T>(&body)).to_bytes();
        let mut bytes = Vec::with_capacity(HEADER + body.len());
        bytes.extend_from_slice(key.public().as_bytes());
        bytes.extend_from_slice(&signature);
        bytes.extend_from_slice(&body);
        Ok(Signed { bytes, record })
    }

    /// Verifies, then decodes, an encoded record.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordRejected> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(RecordRejected::TooLarge(bytes.len()));
        }
        if bytes.len() < HEADER {
            return Err(RecordRejected::Truncated);
        }
        let issuer =
            PublicKey::from_slice(&bytes[..32]).map_err(|_| RecordRejected::BadSignature)?;
        let sig: [u8; 64] = bytes[32..HEADER]
            .try_into()
            .map_err(|_| RecordRejected::Truncated)?;
        let body = &bytes[HEADER..];
        if !issuer.verify(&signed_message::<T>(body), &Signature::from_bytes(&sig)) {
            return Err(RecordRejected::BadSignature);
        }
        let record: T = serde_json::from_slice(body).map_err(|_| RecordRejected::Malformed)?;
        if record.issuer() != issuer {
            return Err(RecordRejected::WrongIssuer);
        }
        record.check()?;
        Ok(Signed {
            bytes: bytes.to_vec(),
            record,
        })
    }

    /// The encoded record.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The record.
    pub fn record(&self) -> &T {
        &self.record
    }
}

/// Decodes a record this node verified before it stored it, without
/// verifying it again (the summary history is read whole for every
/// report). Never use it on bytes from a peer.
pub fn decode_stored<T: Record>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice::<T>(bytes.get(HEADER..)?)
        .ok()
        .filter(|r| r.check().is_ok())
}

/// Whether `new` should replace `held`: only a higher sequence number does.
/// The same record again is `Ok(false)` (nothing to do); an older one is
/// stale and the same number with other content a replay.
pub fn newer<T: Record>(held: Option<&Signed<T>>, new: &Signed<T>) -> Result<bool, RecordRejected> {
    let Some(held) = held else {
        return Ok(true);
    };
    let (h, n) = (held.record.seq(), new.record.seq());
    if n > h {
        Ok(true)
    } else if n == h && held.bytes == new.bytes {
        Ok(false)
    } else if n == h {
        Err(RecordRejected::Replayed(n))
    } else {
        Err(RecordRejected::Stale { got: n, held: h })
    }
}

/// The newest valid record of a kind per subject.
#[derive(Clone, Debug)]
pub struct Latest<T> {
    by_subject: BTreeMap<GroupId, Signed<T>>,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest {
            by_subject: BTreeMap::new(),
        }
    }
}

impl<T: Record> Latest<T> {
    /// Verifies and keeps `bytes` if it is newer than what is held.
    /// Returns whether it was kept.
    pub fn offer(&mut self, bytes: &[u8]) -> Result<bool, RecordRejected> {
        if self.holds(bytes) {
            return Ok(false);
        }
        self.offer_signed(Signed::<T>::from_bytes(bytes)?)
    }

    /// Whether exactly these bytes are held. The record already held comes
    /// round again and again (every peer relays it) and needs no second
    /// verification.
    pub fn holds(&self, bytes: &[u8]) -> bool {
        self.by_subject.values().any(|h| h.bytes == bytes)
    }

    /// Keeps a verified record if it is newer than what is held.
    pub fn offer_signed(&mut self, new: Signed<T>) -> Result<bool, RecordRejected> {
        let subject = new.record.subject();
        if newer(self.by_subject.get(&subject), &new)? {
            self.by_subject.insert(subject, new);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// The newest record about `subject`.
    pub fn get(&self, subject: &GroupId) -> Option<&Signed<T>> {
        self.by_subject.get(subject)
    }

    /// Every record held.
    pub fn iter(&self) -> impl Iterator<Item = &Signed<T>> {
        self.by_subject.values()
    }

    /// The groups a record is held about.
    pub fn subjects(&self) -> impl Iterator<Item = &GroupId> {
        self.by_subject.keys()
    }
}

#[cfg(test)]
mod tests;
