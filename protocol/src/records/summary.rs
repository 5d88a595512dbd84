//! The membership summary: a group's figures, every one rounded on its
//! own devices ([`crate::disclosure`]), and the exact figures it is made
//! from (which never leave the group).

use std::collections::BTreeMap;

use super::{Record, RecordRejected};
use crate::date::Date;
use crate::disclosure::{Offsets, Rounded, controlled_to};
use crate::keys::{GroupId, PublicKey};
use crate::schema::{Course, Meetups, MemberKind, MemberStatus, Plan, Roster};

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
