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
use crate::schema::{Meetups, MemberKind, MemberStatus, Plan, Roster};

/// The network id: the national body's public key.
pub type NetworkId = PublicKey;

/// The kind byte of an affiliation in a `Records` message.
pub const KIND_AFFILIATION: u8 = 1;
/// The kind byte of a membership summary in a `Records` message.
pub const KIND_SUMMARY: u8 = 2;

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

/// Members by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByKind {
    /// Professionals.
    pub professional: u64,
    /// Activists.
    pub activist: u64,
    /// Observers.
    pub observer: u64,
}

/// A group's aggregate figures, signed by the group key. It holds counts
/// only: nothing in it names, identifies or contacts anyone.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipSummary {
    /// The group (its key signs this).
    pub group: GroupId,
    /// Sequence number.
    pub seq: u64,
    /// The day the figures were taken.
    pub as_of: Date,
    /// Active members.
    pub members: u64,
    /// Active members by kind.
    pub by_kind: ByKind,
    /// Active members who joined in the last 30 days.
    pub new_last_30_days: u64,
    /// Active members who attended at least one course.
    pub trained: u64,
    /// Meet-ups held in the last 90 days.
    pub meetups_last_90_days: u64,
    /// Listening conversations held.
    pub conversations: u64,
    /// At least [`ESTABLISHED_AT`] members.
    pub established: bool,
}

/// A group counts as established at this many members.
pub const ESTABLISHED_AT: u64 = 21;

impl Record for MembershipSummary {
    const DOMAIN: &'static [u8] = b"groundwork/record/summary/v1";
    fn issuer(&self) -> PublicKey {
        self.group
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn subject(&self) -> GroupId {
        self.group
    }
}

impl MembershipSummary {
    /// The figures of a group's documents on `today` (sequence number 0;
    /// the publisher sets it). Counts only: the roster's names and ids
    /// never reach the summary.
    pub fn from_documents(
        group: GroupId,
        roster: &Roster,
        meetups: &Meetups,
        plan: &Plan,
        today: Date,
    ) -> Self {
        let mut s = MembershipSummary {
            group,
            seq: 0,
            as_of: today,
            members: 0,
            by_kind: ByKind::default(),
            new_last_30_days: 0,
            trained: 0,
            meetups_last_90_days: 0,
            conversations: u64::try_from(plan.listening.conversations_held.value()).unwrap_or(0),
            established: false,
        };
        let since_30 = today.add_days(-30);
        for m in roster.members.values() {
            if m.status != MemberStatus::Active {
                continue;
            }
            s.members += 1;
            match m.kind {
                MemberKind::Professional => s.by_kind.professional += 1,
                MemberKind::Activist => s.by_kind.activist += 1,
                MemberKind::Observer => s.by_kind.observer += 1,
            }
            if m.joined > since_30 && m.joined <= today {
                s.new_last_30_days += 1;
            }
            if !m.courses.is_empty() {
                s.trained += 1;
            }
        }
        let since_90 = today.add_days(-90);
        s.meetups_last_90_days = meetups
            .meetups
            .iter()
            .filter(|m| m.date > since_90 && m.date <= today)
            .count() as u64;
        s.established = s.members >= ESTABLISHED_AT;
        s
    }

    /// Whether the figures differ from `other`'s (ignoring the sequence
    /// number and the date), so a new summary is worth publishing.
    pub fn same_figures(&self, other: &MembershipSummary) -> bool {
        let strip = |s: &MembershipSummary| MembershipSummary {
            seq: 0,
            as_of: Date::from_unix_days(0),
            ..s.clone()
        };
        strip(self) == strip(other)
    }
}

/// The gossip topic a network's records travel on: derived from the
/// network id, so every node of the network finds the same one.
pub fn network_topic(network: &NetworkId) -> [u8; 32] {
    blake3::derive_key("groundwork records topic v1", network.as_bytes())
}

/// How a count in one group's published breakdown is shown: counts from
/// 1 to 4 are suppressed as `<5` so no small group of people can be
/// singled out. Totals across groups are shown exactly.
pub fn small_cell(n: u64) -> String {
    crate::report::Cell::of(n).to_string()
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
    serde_json::from_slice(bytes.get(HEADER..)?).ok()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ShortId;
    use crate::schema::{Course, Meetup, Member};

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed(&[seed; 32])
    }

    fn day(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn affiliation(seq: u64) -> Affiliation {
        Affiliation {
            network: key(1).public(),
            group: key(2).public(),
            since: day("2019-04-01"),
            seq,
        }
    }

    #[test]
    fn records_verify_and_the_highest_sequence_wins() {
        let national = key(1);
        let a1 = Signed::sign(affiliation(1), &national).expect("sign");
        let a2 = Signed::sign(affiliation(2), &national).expect("sign");
        let mut latest = Latest::<Affiliation>::default();
        assert_eq!(latest.offer(a1.bytes()), Ok(true));
        assert_eq!(latest.offer(a1.bytes()), Ok(false), "the same record again");
        assert_eq!(latest.offer(a2.bytes()), Ok(true));
        assert_eq!(
            latest.offer(a1.bytes()),
            Err(RecordRejected::Stale { got: 1, held: 2 })
        );
        let other = Signed::sign(
            Affiliation {
                since: day("2020-01-01"),
                ..affiliation(2)
            },
            &national,
        )
        .expect("sign");
        assert_eq!(
            latest.offer(other.bytes()),
            Err(RecordRejected::Replayed(2))
        );
        assert_eq!(
            latest.get(&key(2).public()).map(|s| s.record().seq),
            Some(2)
        );
    }

    #[test]
    fn forged_and_tampered_records_are_refused() {
        // A group cannot affiliate itself.
        assert_eq!(
            Signed::sign(affiliation(1), &key(2)),
            Err(RecordRejected::WrongIssuer)
        );
        let good = Signed::sign(affiliation(1), &key(1)).expect("sign");
        let mut tampered = good.bytes().to_vec();
        let last = tampered.len() - 3;
        tampered[last] ^= 1;
        assert_eq!(
            Signed::<Affiliation>::from_bytes(&tampered),
            Err(RecordRejected::BadSignature)
        );
        // Re-signed by another key claiming to be the network.
        let mut forged = good.bytes().to_vec();
        let impostor = key(9);
        forged[..32].copy_from_slice(impostor.public().as_bytes());
        let sig = impostor
            .sign(&signed_message::<Affiliation>(&forged[HEADER..]))
            .to_bytes();
        forged[32..HEADER].copy_from_slice(&sig);
        assert_eq!(
            Signed::<Affiliation>::from_bytes(&forged),
            Err(RecordRejected::WrongIssuer)
        );
        // A summary's signature does not make an affiliation.
        let summary = MembershipSummary::from_documents(
            key(1).public(),
            &Roster::default(),
            &Meetups::default(),
            &Plan::default(),
            day("2020-01-01"),
        );
        let s = Signed::sign(summary, &key(1)).expect("sign");
        assert!(Signed::<Affiliation>::from_bytes(s.bytes()).is_err());
        assert_eq!(
            Signed::<Affiliation>::from_bytes(&good.bytes()[..40]),
            Err(RecordRejected::Truncated)
        );
    }

    fn member(name: &str, kind: MemberKind, joined: &str, trained: bool) -> Member {
        Member {
            name: name.into(),
            kind,
            joined: day(joined),
            status: MemberStatus::Active,
            principles_agreed: None,
            courses: if trained {
                vec![Course::ListeningSkills]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn a_summary_counts_and_names_no_one() {
        let mut roster = Roster::default();
        let names = ["Ada Obi", "Bea Rinsto", "Cal Morpel", "Dev Tamvel"];
        roster.members.insert(
            "aaaaaa".into(),
            member(names[0], MemberKind::Professional, "2020-03-20", true),
        );
        roster.members.insert(
            "bbbbbb".into(),
            member(names[1], MemberKind::Activist, "2019-01-01", false),
        );
        roster.members.insert(
            "cccccc".into(),
            member(names[2], MemberKind::Observer, "2020-03-30", true),
        );
        let mut lapsed = member(names[3], MemberKind::Activist, "2020-03-30", true);
        lapsed.status = MemberStatus::Lapsed;
        roster.members.insert("dddddd".into(), lapsed);
        let mut meetups = Meetups::default();
        for (i, d) in ["2020-03-01", "2019-06-01", "2020-01-15"]
            .iter()
            .enumerate()
        {
            meetups.meetups.push(Meetup {
                id: ShortId::from_entropy(i as u32),
                date: day(d),
                place: "Library".into(),
                agenda: Default::default(),
                notes: Default::default(),
                attendance: 3,
                actions: vec![],
            });
        }
        let s = MembershipSummary::from_documents(
            key(3).public(),
            &roster,
            &meetups,
            &Plan::default(),
            day("2020-04-01"),
        );
        assert_eq!(s.members, 3, "lapsed members are not counted");
        assert_eq!(
            s.by_kind,
            ByKind {
                professional: 1,
                activist: 1,
                observer: 1
            }
        );
        assert_eq!(s.new_last_30_days, 2);
        assert_eq!(s.trained, 2);
        assert_eq!(s.meetups_last_90_days, 2);
        assert!(!s.established);
        let signed = Signed::sign(s, &key(3)).expect("sign");
        let text = String::from_utf8_lossy(signed.bytes()).to_string();
        for n in names.iter().chain(["aaaaaa", "bbbbbb", "Library"].iter()) {
            assert!(!text.contains(n), "{n} in a summary");
        }
    }

    #[test]
    fn small_cells_are_suppressed() {
        assert_eq!(small_cell(0), "0");
        for n in 1..5 {
            assert_eq!(small_cell(n), "<5");
        }
        assert_eq!(small_cell(5), "5");
        assert_eq!(small_cell(21), "21");
    }
}
