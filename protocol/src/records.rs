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
use crate::disclosure::{Offsets, Rounded, controlled_to};
use crate::keys::{GroupId, PublicKey, SecretKey};
use crate::schema::{Course, Meetups, MemberKind, MemberStatus, Plan, Roster};

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

/// Members by kind, as published: a controlled rounding of the three
/// exact counts, so the kinds add up to the published members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByKind {
    /// Professionals.
    pub professional: Rounded,
    /// Activists.
    pub activist: Rounded,
    /// Observers.
    pub observer: Rounded,
}

impl ByKind {
    /// The three added up.
    pub fn total(&self) -> u64 {
        [self.professional, self.activist, self.observer]
            .into_iter()
            .sum()
    }
}

/// The months a summary's series covers.
pub const GROWTH_MONTHS: usize = 24;

/// A monthly series: people counted by the month something happened to
/// them (joined, first trained), over the [`GROWTH_MONTHS`] calendar
/// months up to and including the summary's month, plus those before.
/// A controlled rounding, so it adds up to the figure it breaks down.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Before the first month (or with no date recorded).
    pub earlier: Rounded,
    /// One figure per month, oldest first; the last is the summary's month.
    pub months: Vec<Rounded>,
}

impl Series {
    /// Earlier plus every month.
    pub fn total(&self) -> u64 {
        self.earlier.get() + self.months.iter().copied().sum::<u64>()
    }

    /// The running total at the end of each month, oldest first.
    pub fn cumulative(&self) -> Vec<u64> {
        let mut run = self.earlier.get();
        self.months
            .iter()
            .map(|m| {
                run += m.get();
                run
            })
            .collect()
    }
}

/// A theme the group's listening campaign raised, with the conversations
/// that raised it (rounded).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFigure {
    /// The theme, in lower case.
    pub theme: String,
    /// Conversations that raised it.
    pub conversations: Rounded,
}

/// The most themes a summary carries (the ones with most conversations).
pub const MAX_THEMES: usize = 12;
/// The longest theme a summary carries, in characters.
pub const MAX_THEME_CHARS: usize = 40;

/// A group's aggregate figures, signed by the group key. It holds counts
/// only, every one rounded to base 5 on the group's own devices
/// ([`crate::disclosure`]): nothing in it names, identifies or contacts
/// anyone, and no figure in it is between 1 and 4.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipSummary {
    /// The group (its key signs this).
    pub group: GroupId,
    /// Sequence number: the day (days since 1970-01-01) in the high 32
    /// bits, and in the low 32 a number that only grows within the day,
    /// started and stepped at random ([`day_seq`]). It orders a day's
    /// summaries and says nothing about when in the day, or how many.
    pub seq: u64,
    /// The day the figures were taken (the day in `seq`).
    pub as_of: Date,
    /// The year the group adopted its constitution, if it has.
    pub formed: Option<i32>,
    /// Active members.
    pub members: Rounded,
    /// Active members by kind.
    pub by_kind: ByKind,
    /// At least [`ESTABLISHED_AT`] active members (from the exact count).
    pub established: bool,
    /// Active members by the month they joined.
    pub joined: Series,
    /// Active members who attended at least one course.
    pub trained: Rounded,
    /// Of those, by the month of their first course (members trained
    /// before the date was recorded count as earlier).
    pub trained_by_month: Series,
    /// Active members who attended each course, by course slug; courses
    /// with none are left out.
    pub by_course: BTreeMap<String, Rounded>,
    /// One-to-one listening conversations held.
    pub conversations: Rounded,
    /// The themes those conversations raised, most conversations first.
    pub themes: Vec<ThemeFigure>,
    /// Meet-ups held (dated on or before `as_of`).
    pub meetups: Rounded,
}

/// A group counts as established at this many members.
pub const ESTABLISHED_AT: u64 = 21;

impl Record for MembershipSummary {
    const DOMAIN: &'static [u8] = b"groundwork/record/summary/v2";
    fn issuer(&self) -> PublicKey {
        self.group
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn subject(&self) -> GroupId {
        self.group
    }
    fn check(&self) -> Result<(), RecordRejected> {
        let bad = |why: &'static str| Err(RecordRejected::Inconsistent(why));
        if u64::try_from(self.as_of.unix_days()).ok() != Some(self.seq >> 32) {
            return bad("its sequence number is not of its day");
        }
        if self.joined.months.len() != GROWTH_MONTHS
            || self.trained_by_month.months.len() != GROWTH_MONTHS
        {
            return bad("a monthly series is not 24 months long");
        }
        let members = self.members.get();
        if self.by_kind.total() != members || self.joined.total() != members {
            return bad("a breakdown does not add up to the members");
        }
        if self.trained.get() > members || self.trained_by_month.total() != self.trained.get() {
            return bad("the trained figures do not add up");
        }
        if self.by_course.len() > Course::KNOWN.len()
            || self.by_course.iter().any(|(slug, n)| {
                n.get() > self.trained.get()
                    || n.get() == 0
                    || !Course::KNOWN.iter().any(|c| c.slug() == slug)
            })
        {
            return bad("a course figure is unknown, zero or over the trained");
        }
        if self.themes.len() > MAX_THEMES
            || self.themes.iter().enumerate().any(|(i, t)| {
                t.conversations > self.conversations
                    || normal_theme(&t.theme).as_deref() != Some(t.theme.as_str())
                    || self.themes[..i].iter().any(|u| u.theme == t.theme)
            })
        {
            return bad("a theme is malformed, repeated or over the conversations");
        }
        // Rounded, 21 and more is at least 20, and 20 and less at most 20.
        if (self.established && members < 20) || (!self.established && members > 20) {
            return bad("established does not match the members");
        }
        if self
            .formed
            .is_some_and(|y| !(1900..=self.as_of.year()).contains(&y))
        {
            return bad("the year formed is out of range");
        }
        Ok(())
    }
}

/// The sequence number of a record (summary, card, affiliation) made on
/// `day`, after `held` (the issuer's previous one): the day in the high
/// 32 bits; the low 32 bits
/// start at random each day and then grow by a random step, so they order
/// the day's summaries without counting them or saying when. `noise` is
/// fresh randomness from the caller (this crate has no source of its own).
///
/// The number is always of `day`: a caller whose clock is behind the held
/// record's day must date the new record at that day (see
/// [`MembershipSummary::publish_after`]). If the held record is of a later
/// day, or the day's numbers are used up (some 65,000 records in a day),
/// it returns `held` itself, which is not newer: nothing is published.
pub fn day_seq(day: Date, held: Option<u64>, noise: u64) -> u64 {
    let day_bits = u64::try_from(day.unix_days()).unwrap_or(0) << 32;
    let last = day_bits | 0xffff_ffff;
    match held {
        Some(h) if h >> 32 == day_bits >> 32 => (h + (1 << 8) + noise % ((1 << 16) - (1 << 8)))
            .min(last)
            .max(h),
        Some(h) if h > last => h,
        _ => day_bits + noise % (1 << 24),
    }
}

/// A theme as a summary carries it: trimmed, spaces collapsed, lower case,
/// at most [`MAX_THEME_CHARS`] characters; `None` if nothing is left or it
/// holds a character text fields refuse.
pub fn normal_theme(theme: &str) -> Option<String> {
    let t: String = theme
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .take(MAX_THEME_CHARS)
        .collect();
    let t = t.trim_end().to_owned();
    (!t.is_empty() && crate::text::check(crate::text::Field::Theme, &t).is_ok()).then_some(t)
}

/// A group's exact figures, as its own devices compute them. They never
/// leave the group: [`MembershipSummary::publish`] rounds them first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exact {
    /// Active members.
    pub members: u64,
    /// By kind: professional, activist, observer.
    pub by_kind: [u64; 3],
    /// By month joined: earlier, then the 24 months oldest first.
    pub joined: (u64, [u64; GROWTH_MONTHS]),
    /// Active members with a course.
    pub trained: u64,
    /// By month of first course.
    pub trained_by_month: (u64, [u64; GROWTH_MONTHS]),
    /// Per known course.
    pub by_course: BTreeMap<String, u64>,
    /// Conversations held.
    pub conversations: u64,
    /// Conversations per theme (normalised), every theme raised.
    pub themes: BTreeMap<String, u64>,
    /// Meet-ups held.
    pub meetups: u64,
    /// The year the constitution was adopted.
    pub formed: Option<i32>,
}

impl Exact {
    /// The exact figures of a group's documents on `today`. Counts only:
    /// the roster's names and ids never reach them.
    pub fn from_documents(
        roster: &Roster,
        meetups: &Meetups,
        plan: &Plan,
        formed: Option<Date>,
        today: Date,
    ) -> Exact {
        let first = today.month_of().add_months(-(GROWTH_MONTHS as i64 - 1));
        let bucket = |d: Option<Date>, series: &mut (u64, [u64; GROWTH_MONTHS])| {
            match d.map(|d| first.months_until(d.month_of())) {
                Some(i) if (0..GROWTH_MONTHS as i64).contains(&i) => series.1[i as usize] += 1,
                // Joined "in the future" (a typo in a spreadsheet) counts
                // in the summary's own month.
                Some(i) if i >= GROWTH_MONTHS as i64 => series.1[GROWTH_MONTHS - 1] += 1,
                _ => series.0 += 1,
            }
        };
        let mut e = Exact {
            conversations: u64::try_from(plan.listening.conversations_held.value()).unwrap_or(0),
            formed: formed.map(Date::year),
            ..Exact::default()
        };
        for m in roster.members.values() {
            if m.status != MemberStatus::Active {
                continue;
            }
            e.members += 1;
            e.by_kind[match m.kind {
                MemberKind::Professional => 0,
                MemberKind::Activist => 1,
                MemberKind::Observer => 2,
            }] += 1;
            bucket(Some(m.joined), &mut e.joined);
            if !m.courses.is_empty() {
                e.trained += 1;
                bucket(m.trained, &mut e.trained_by_month);
            }
            // Each course once per member, however a device wrote the list.
            let courses: std::collections::BTreeSet<&str> = m
                .courses
                .iter()
                .filter(|c| !matches!(c, Course::Other(_)))
                .map(Course::slug)
                .collect();
            for c in courses {
                *e.by_course.entry(c.to_owned()).or_default() += 1;
            }
        }
        for t in &plan.listening.themes {
            if let Some(n) = normal_theme(t) {
                let held = plan
                    .listening
                    .theme_conversations
                    .iter()
                    .filter(|(k, _)| normal_theme(k).as_deref() == Some(n.as_str()))
                    .map(|(_, c)| u64::try_from(c.value()).unwrap_or(0))
                    .fold(0u64, u64::saturating_add);
                let slot = e.themes.entry(n).or_default();
                *slot = (*slot).max(held.min(e.conversations));
            }
        }
        e.meetups = meetups.meetups.iter().filter(|m| m.date <= today).count() as u64;
        e
    }

    /// Whether the group is established.
    pub fn established(&self) -> bool {
        self.members >= ESTABLISHED_AT
    }
}

fn series(exact: &(u64, [u64; GROWTH_MONTHS]), total: Rounded) -> Series {
    let cells: Vec<u64> = std::iter::once(exact.0).chain(exact.1).collect();
    let mut r = controlled_to(&cells, total).into_iter();
    Series {
        earlier: r.next().unwrap_or_default(),
        months: r.collect(),
    }
}

impl MembershipSummary {
    /// The summary a group publishes of its exact figures on `today`
    /// (sequence number 0; the publisher sets it with [`day_seq`]).
    /// Every figure is rounded here ([`crate::disclosure`]), with the
    /// group's secret shifts (`Offsets::of_group`).
    ///
    /// Counts of the same people share one shift (members, trained, each
    /// course: `people`), as do the conversations and their themes
    /// (`conversations`): rounding is monotone for a shared shift, so a
    /// part (the trained, a course, a theme) never publishes above its
    /// whole, whatever the counts.
    pub fn publish(group: GroupId, exact: &Exact, today: Date, offsets: &Offsets) -> Self {
        let people = offsets.of("people");
        let talk = offsets.of("conversations");
        let members = Rounded::shifted(exact.members, people);
        let kinds = controlled_to(&exact.by_kind, members);
        let trained = Rounded::shifted(exact.trained, people).min(members);
        let conversations = Rounded::shifted(exact.conversations, talk);
        let mut themes: Vec<ThemeFigure> = exact
            .themes
            .iter()
            .map(|(t, n)| ThemeFigure {
                theme: t.clone(),
                conversations: Rounded::shifted(*n, talk).min(conversations),
            })
            // A theme that rounds to no conversations is not published: its
            // words could point at the one or two people who raised it.
            .filter(|t| t.conversations.get() > 0)
            .collect();
        themes.sort_by(|a, b| {
            b.conversations
                .cmp(&a.conversations)
                .then(a.theme.cmp(&b.theme))
        });
        themes.truncate(MAX_THEMES);
        MembershipSummary {
            group,
            seq: 0,
            as_of: today,
            // A mistyped adoption date must not stop the group publishing.
            formed: exact.formed.filter(|y| (1900..=today.year()).contains(y)),
            members,
            by_kind: ByKind {
                professional: kinds[0],
                activist: kinds[1],
                observer: kinds[2],
            },
            established: exact.established(),
            joined: series(&exact.joined, members),
            trained,
            trained_by_month: series(&exact.trained_by_month, trained),
            by_course: exact
                .by_course
                .iter()
                .map(|(c, n)| (c.clone(), Rounded::shifted(*n, people).min(trained)))
                .filter(|(_, n)| n.get() > 0)
                .collect(),
            conversations,
            themes,
            meetups: offsets.round("meetups", exact.meetups),
        }
    }

    /// The summary to publish after `held` (the group's newest, if any):
    /// `self` with the next sequence number, or `None` if no new one is
    /// due (the same figures in the same month, or no newer number). A
    /// node whose clock is behind `held`'s day dates it at that day, so the
    /// sequence number stays of its own day.
    pub fn publish_after(self, held: Option<&MembershipSummary>, noise: u64) -> Option<Self> {
        if held.is_some_and(|h| h.same_figures(&self)) {
            return None;
        }
        let as_of = held.map_or(self.as_of, |h| h.as_of.max(self.as_of));
        let seq = day_seq(as_of, held.map(|h| h.seq), noise);
        if held.is_some_and(|h| seq <= h.seq) {
            return None;
        }
        Some(MembershipSummary { seq, as_of, ..self })
    }

    /// Whether the figures are the same as `other`'s and of the same
    /// calendar month (ignoring the sequence number and the day), so no
    /// new summary is needed. A new month is a change: the series move on.
    pub fn same_figures(&self, other: &MembershipSummary) -> bool {
        let strip = |s: &MembershipSummary| MembershipSummary {
            seq: 0,
            as_of: Date::from_unix_days(0),
            joined: Series::default(),
            trained_by_month: Series::default(),
            ..s.clone()
        };
        strip(self) == strip(other)
            && self.as_of.month_of() == other.as_of.month_of()
            && self.joined == other.joined
            && self.trained_by_month == other.trained_by_month
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
        let summary = MembershipSummary::publish(
            key(1).public(),
            &Exact::default(),
            day("2020-01-01"),
            &Offsets::none(),
        );
        let s = Signed::sign(
            MembershipSummary {
                seq: day_seq(day("2020-01-01"), None, 5),
                ..summary
            },
            &key(1),
        )
        .expect("sign");
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
            trained: trained.then(|| day(joined)),
        }
    }

    /// Signs a body as `key` without the kind's checks (what a forger
    /// with the group key could send).
    fn raw(key: &SecretKey, body: &serde_json::Value) -> Vec<u8> {
        let body = serde_json::to_vec(body).expect("json");
        let sig = key
            .sign(&signed_message::<MembershipSummary>(&body))
            .to_bytes();
        [key.public().as_bytes().as_slice(), &sig, &body].concat()
    }

    fn roster_of_three() -> (Roster, [&'static str; 4]) {
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
        (roster, names)
    }

    #[test]
    fn a_summary_rounds_every_figure_and_names_no_one() {
        let (roster, names) = roster_of_three();
        let mut meetups = Meetups::default();
        for (i, d) in ["2020-03-01", "2019-06-01", "2020-01-15", "2020-05-01"]
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
        let today = day("2020-04-01");
        let exact = Exact::from_documents(
            &roster,
            &meetups,
            &Plan::default(),
            Some(day("2019-02-03")),
            today,
        );
        assert_eq!(exact.members, 3, "lapsed members are not counted");
        assert_eq!(exact.by_kind, [1, 1, 1]);
        assert_eq!(exact.trained, 2);
        assert_eq!(exact.meetups, 3, "a meet-up after today is not held yet");
        // 2020-03 is the last-but-one month of the series ending 2020-04.
        assert_eq!(exact.joined.1[GROWTH_MONTHS - 2], 2);
        assert_eq!(exact.joined.1[GROWTH_MONTHS - 16], 1, "2019-01");
        let s = MembershipSummary::publish(key(3).public(), &exact, today, &Offsets::none());
        assert_eq!(s.members.get(), 5);
        assert_eq!(s.by_kind.total(), 5, "the kinds add up to the members");
        assert_eq!(s.joined.total(), 5);
        assert_eq!(s.trained.get(), 0, "2 rounds to 0");
        assert!(s.by_course.is_empty());
        assert_eq!((s.meetups.get(), s.formed), (5, Some(2019)));
        assert!(!s.established);
        let signed = Signed::sign(
            MembershipSummary {
                seq: day_seq(today, None, 77),
                ..s
            },
            &key(3),
        )
        .expect("sign");
        let text = String::from_utf8_lossy(signed.bytes()).to_string();
        for n in names.iter().chain(["aaaaaa", "bbbbbb", "Library"].iter()) {
            assert!(!text.contains(n), "{n} in a summary");
        }
        let back = Signed::<MembershipSummary>::from_bytes(signed.bytes()).expect("reads back");
        assert_eq!(back.record(), signed.record());
    }

    #[test]
    fn a_summary_with_a_small_or_inconsistent_figure_is_refused() {
        let k = key(3);
        let today = day("2020-04-01");
        let good = MembershipSummary {
            seq: day_seq(today, None, 77),
            ..MembershipSummary::publish(
                k.public(),
                &Exact {
                    members: 12,
                    by_kind: [2, 5, 5],
                    joined: (12, [0; GROWTH_MONTHS]),
                    ..Exact::default()
                },
                today,
                &Offsets::none(),
            )
        };
        let body = serde_json::to_value(&good).expect("json");
        assert!(Signed::<MembershipSummary>::from_bytes(&raw(&k, &body)).is_ok());
        let with = |path: &[&str], v: serde_json::Value| {
            let mut b = body.clone();
            let mut at = &mut b;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = v;
            Signed::<MembershipSummary>::from_bytes(&raw(&k, &b))
        };
        // A figure between 1 and 4, or any other non-multiple of 5.
        assert_eq!(with(&["members"], 3.into()), Err(RecordRejected::Malformed));
        assert_eq!(
            with(&["meetups"], 11.into()),
            Err(RecordRejected::Malformed)
        );
        assert_eq!(
            with(&["by_kind", "professional"], 4.into()),
            Err(RecordRejected::Malformed)
        );
        // Breakdowns that do not add up, a sequence number of another day.
        assert!(matches!(
            with(&["members"], 15.into()),
            Err(RecordRejected::Inconsistent(_))
        ));
        assert!(matches!(
            with(&["seq"], (good.seq + (1 << 32)).into()),
            Err(RecordRejected::Inconsistent(_))
        ));
        assert!(matches!(
            with(&["established"], true.into()),
            Err(RecordRejected::Inconsistent(_))
        ));
        assert!(matches!(
            with(&["by_course"], serde_json::json!({"knitting": 5})),
            Err(RecordRejected::Inconsistent(_))
        ));
        assert!(matches!(
            with(
                &["themes"],
                serde_json::json!([{"theme": "Buses", "conversations": 0}])
            ),
            Err(RecordRejected::Inconsistent(_))
        ));
        assert!(matches!(
            with(&["joined", "months"], serde_json::json!([0, 0])),
            Err(RecordRejected::Inconsistent(_))
        ));
        // The exact figures of the first format are not a summary now.
        assert_eq!(
            with(&["new_last_30_days"], 3.into()),
            Err(RecordRejected::Malformed)
        );
        // Nor can the group sign an inconsistent one itself.
        let bad = MembershipSummary {
            members: Rounded::nearest(20),
            ..good
        };
        assert!(matches!(
            Signed::sign(bad, &k),
            Err(RecordRejected::Inconsistent(_))
        ));
    }

    #[test]
    fn sequence_numbers_say_the_day_and_only_grow() {
        let d = day("2026-12-01");
        let mut noise = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next_noise = || {
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            noise
        };
        let mut seq = day_seq(d, None, next_noise());
        assert_eq!(seq >> 32, d.unix_days() as u64);
        for _ in 0..5000 {
            let next = day_seq(d, Some(seq), next_noise());
            assert!(next > seq);
            assert_eq!(next >> 32, seq >> 32, "still the same day");
            seq = next;
        }
        let tomorrow = day_seq(d.add_days(1), Some(seq), next_noise());
        assert_eq!(tomorrow >> 32, d.add_days(1).unix_days() as u64);
        // A day used up, or a held record of a later day (a clock gone
        // back): no newer number, never one of another day.
        let full = seq | 0xffff_ffff;
        assert_eq!(day_seq(d, Some(full), next_noise()), full);
        assert_eq!(day_seq(d, Some(tomorrow), next_noise()), tomorrow);
        // The low bits are the noise, not a count: the first of a day is
        // not 0, the fifth not 4.
        let first = day_seq(d, None, 123_456) & 0xffff_ffff;
        assert_eq!(first, 123_456);
    }

    #[test]
    fn themes_are_normalised_and_bounded() {
        assert_eq!(
            normal_theme("  Damp   Housing ").as_deref(),
            Some("damp housing")
        );
        assert_eq!(normal_theme("   "), None);
        assert_eq!(normal_theme("bus\u{202e}es"), None);
        assert_eq!(
            normal_theme(&"x".repeat(100)).map(|t| t.chars().count()),
            Some(MAX_THEME_CHARS)
        );
    }

    #[test]
    fn summary_size_for_10000_members() {
        let today = day("2026-12-01");
        let mut joined = [0u64; GROWTH_MONTHS];
        let mut trained_by_month = [0u64; GROWTH_MONTHS];
        for i in 0..GROWTH_MONTHS {
            joined[i] = 250 + i as u64;
            trained_by_month[i] = 120 + i as u64;
        }
        let exact = Exact {
            members: 10_000,
            by_kind: [2_501, 6_203, 1_296],
            joined: (10_000 - joined.iter().sum::<u64>(), joined),
            trained: 6_000,
            trained_by_month: (
                6_000 - trained_by_month.iter().sum::<u64>(),
                trained_by_month,
            ),
            by_course: Course::KNOWN
                .iter()
                .enumerate()
                .map(|(i, c)| (c.slug().to_owned(), 1_003 + 97 * i as u64))
                .collect(),
            conversations: 45_678,
            themes: (0..MAX_THEMES)
                .map(|i| {
                    (
                        format!("{i:02} {}", "x".repeat(MAX_THEME_CHARS - 3)),
                        1_234 + i as u64,
                    )
                })
                .collect(),
            meetups: 1_234,
            formed: Some(2018),
        };
        let s = MembershipSummary {
            seq: day_seq(today, None, 0xdead_beef),
            ..MembershipSummary::publish(
                key(5).public(),
                &exact,
                today,
                &Offsets::of_group(&key(5)),
            )
        };
        let signed = Signed::sign(s, &key(5)).expect("a summary of 10,000 members signs");
        let n = signed.bytes().len();
        println!("summary of 10,000 members: {n} bytes");
        // docs/schema.md gives this figure; keep it small against the cap.
        assert!(n < 2_000, "{n} bytes");
        assert!(n <= MAX_RECORD_BYTES);
    }

    #[test]
    fn publishing_after_a_held_summary_skips_the_same_figures_and_survives_a_clock_gone_back() {
        let today = day("2026-12-01");
        let exact = |members: u64| Exact {
            members,
            by_kind: [0, members, 0],
            joined: (members, [0; GROWTH_MONTHS]),
            ..Exact::default()
        };
        let make = |members: u64, on: Date| {
            MembershipSummary::publish(key(4).public(), &exact(members), on, &Offsets::none())
        };
        let first = make(10, today)
            .publish_after(None, 7)
            .expect("the first is due");
        assert_eq!(first.seq >> 32, today.unix_days() as u64);
        assert!(Signed::sign(first.clone(), &key(4)).is_ok());
        // Eleven members still publish as 10: nothing new is due.
        assert_eq!(make(11, today).publish_after(Some(&first), 9), None);
        // A new calendar month is due even with the same figures.
        assert!(
            make(10, day("2027-01-02"))
                .publish_after(Some(&first), 9)
                .is_some()
        );
        // The clock went back a day: the new one is dated at the held day,
        // so its sequence number is of its own day and newer.
        let back = make(20, day("2026-11-30"))
            .publish_after(Some(&first), 11)
            .expect("due");
        assert_eq!(back.as_of, today);
        assert!(back.seq > first.seq);
        assert!(Signed::sign(back, &key(4)).is_ok(), "it passes check");
    }

    #[test]
    fn a_mistyped_adoption_year_or_a_theme_of_one_conversation_is_left_out() {
        let today = day("2026-12-01");
        let e = Exact {
            members: 5,
            by_kind: [0, 5, 0],
            joined: (5, [0; GROWTH_MONTHS]),
            conversations: 30,
            themes: [("buses".to_owned(), 20), ("mrs x's flat".to_owned(), 1)].into(),
            formed: Some(2206),
            ..Exact::default()
        };
        let s = MembershipSummary::publish(key(4).public(), &e, today, &Offsets::none());
        assert_eq!(s.formed, None);
        let themes: Vec<&str> = s.themes.iter().map(|t| t.theme.as_str()).collect();
        assert_eq!(themes, ["buses"]);
        let s = MembershipSummary {
            seq: day_seq(today, None, 1),
            ..s
        };
        assert!(Signed::sign(s, &key(4)).is_ok());
    }
}
