//! Network-wide figures built from membership summaries: what `report`
//! shows and the dashboard draws.
//!
//! Totals are exact sums over groups. Anything that describes one group
//! (its row, or an area with its groups) is a published breakdown, so its
//! counts go through [`Cell`]: 1 to 4 become `<5`.

use std::collections::BTreeMap;

use crate::date::Date;
use crate::keys::GroupId;
use crate::records::{ByKind, MembershipSummary};

/// A count in one group's (or one area's) published breakdown: exact, or
/// suppressed when it is between 1 and 4. In JSON it is a number or the
/// string `"<5"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Zero, or five and more.
    Count(u64),
    /// Between 1 and 4.
    UnderFive,
}

impl Cell {
    /// The published form of `n`.
    pub fn of(n: u64) -> Cell {
        if (1..5).contains(&n) {
            Cell::UnderFive
        } else {
            Cell::Count(n)
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Count(n) => write!(f, "{n}"),
            Cell::UnderFive => f.write_str("<5"),
        }
    }
}

impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(n) => s.serialize_u64(*n),
            Cell::UnderFive => s.serialize_str("<5"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) if !(1..5).contains(&n) => Ok(Cell::Count(n)),
            Raw::S(s) if s == "<5" => Ok(Cell::UnderFive),
            _ => Err(serde::de::Error::custom(
                "expected 0, a count of 5 or more, or \"<5\"",
            )),
        }
    }
}

/// Members by kind, as published for one group or area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KindCells {
    /// Professionals.
    pub professional: Cell,
    /// Activists.
    pub activist: Cell,
    /// Observers.
    pub observer: Cell,
}

impl KindCells {
    fn of(k: &ByKind) -> Self {
        KindCells {
            professional: Cell::of(k.professional),
            activist: Cell::of(k.activist),
            observer: Cell::of(k.observer),
        }
    }
}

/// Figures summed over groups (or shown for one, as cells).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Active members.
    pub members: u64,
    /// By kind.
    pub by_kind: ByKind,
    /// Joined in the last 30 days.
    pub new_last_30_days: u64,
    /// Attended at least one course.
    pub trained: u64,
    /// Listening conversations held.
    pub conversations: u64,
    /// Meet-ups in the last 90 days.
    pub meetups_last_90_days: u64,
}

impl Totals {
    fn add(&mut self, s: &MembershipSummary) {
        self.members += s.members;
        self.by_kind.professional += s.by_kind.professional;
        self.by_kind.activist += s.by_kind.activist;
        self.by_kind.observer += s.by_kind.observer;
        self.new_last_30_days += s.new_last_30_days;
        self.trained += s.trained;
        self.conversations += s.conversations;
        self.meetups_last_90_days += s.meetups_last_90_days;
    }
}

/// One area's figures: a breakdown, so its counts are cells.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AreaRow {
    /// The area (`-` for groups that gave none).
    pub area: String,
    /// Groups in the area.
    pub groups: u64,
    /// Established groups in it.
    pub established: u64,
    /// Members.
    pub members: Cell,
    /// Members by kind.
    pub by_kind: KindCells,
    /// People trained.
    pub trained: Cell,
    /// Conversations held.
    pub conversations: Cell,
    /// Meet-ups in the last 90 days.
    pub meetups_last_90_days: Cell,
}

/// One group's published figures.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupRow {
    /// The group.
    pub group: GroupId,
    /// Its name.
    pub name: String,
    /// Its area.
    pub area: Option<String>,
    /// Its kind's slug.
    pub kind: crate::card::GroupKind,
    /// Whether the network affiliated it.
    pub affiliated: bool,
    /// The date of its newest summary; `None` if it has published none.
    pub as_of: Option<Date>,
    /// Members.
    pub members: Option<Cell>,
    /// Members by kind.
    pub by_kind: Option<KindCells>,
    /// People trained.
    pub trained: Option<Cell>,
    /// Established (21 or more members).
    pub established: Option<bool>,
}

/// One point of the growth series: the network's total on a day, taking
/// each group's newest summary on or before that day.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrowthPoint {
    /// The day.
    pub date: Date,
    /// Groups that had published a summary by then.
    pub groups: u64,
    /// Their members.
    pub members: u64,
    /// Established groups among them.
    pub established: u64,
}

/// The network's figures.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkReport {
    /// The network (the national key), if this node knows it.
    pub network: Option<GroupId>,
    /// Groups in the directory, the national body excepted.
    pub groups: u64,
    /// Of those, affiliated to the network.
    pub affiliated: u64,
    /// Of those, established (by their newest summary).
    pub established: u64,
    /// Groups with a summary.
    pub reporting: u64,
    /// Exact totals over every group's newest summary.
    pub totals: Totals,
    /// The total over time, oldest first.
    pub growth: Vec<GrowthPoint>,
    /// By area, in name order.
    pub by_area: Vec<AreaRow>,
    /// Each group, in name order.
    pub by_group: Vec<GroupRow>,
}

/// A group as the directory knows it (from its card).
#[derive(Clone, Debug)]
pub struct Listed {
    /// The group.
    pub group: GroupId,
    /// Its name.
    pub name: String,
    /// Its area.
    pub area: Option<String>,
    /// Its kind's slug.
    pub kind: crate::card::GroupKind,
    /// Affiliated to this network.
    pub affiliated: bool,
}

/// Builds the report. `latest` holds each group's newest summary;
/// `history` every summary kept (at most one per group and day is enough).
/// Summaries of groups not in `listed` are ignored: without a card there is
/// no name or area to show.
pub fn build(
    network: Option<GroupId>,
    listed: &[Listed],
    latest: &BTreeMap<GroupId, MembershipSummary>,
    history: &[MembershipSummary],
) -> NetworkReport {
    let groups: Vec<&Listed> = listed.iter().filter(|l| !l.kind.is_national()).collect();
    let known: BTreeMap<GroupId, &Listed> = groups.iter().map(|l| (l.group, *l)).collect();
    let mut totals = Totals::default();
    let mut areas: BTreeMap<String, (u64, u64, Totals)> = BTreeMap::new();
    let mut by_group = Vec::new();
    for l in &groups {
        let s = latest.get(&l.group);
        let area = areas
            .entry(l.area.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        area.0 += 1;
        if let Some(s) = s {
            totals.add(s);
            area.1 += u64::from(s.established);
            area.2.add(s);
        }
        by_group.push(GroupRow {
            group: l.group,
            name: l.name.clone(),
            area: l.area.clone(),
            kind: l.kind,
            affiliated: l.affiliated,
            as_of: s.map(|s| s.as_of),
            members: s.map(|s| Cell::of(s.members)),
            by_kind: s.map(|s| KindCells::of(&s.by_kind)),
            trained: s.map(|s| Cell::of(s.trained)),
            established: s.map(|s| s.established),
        });
    }
    by_group.sort_by(|a, b| a.name.cmp(&b.name).then(a.group.cmp(&b.group)));
    let by_area = areas
        .into_iter()
        .map(|(area, (groups, established, t))| AreaRow {
            area,
            groups,
            established,
            members: Cell::of(t.members),
            by_kind: KindCells::of(&t.by_kind),
            trained: Cell::of(t.trained),
            conversations: Cell::of(t.conversations),
            meetups_last_90_days: Cell::of(t.meetups_last_90_days),
        })
        .collect();
    let reporting: Vec<&MembershipSummary> =
        groups.iter().filter_map(|l| latest.get(&l.group)).collect();
    NetworkReport {
        network,
        groups: groups.len() as u64,
        affiliated: groups.iter().filter(|l| l.affiliated).count() as u64,
        established: reporting.iter().filter(|s| s.established).count() as u64,
        reporting: reporting.len() as u64,
        totals,
        growth: growth(&known, latest, history),
        by_area,
        by_group,
    }
}

/// The total on every day some summary was taken: each listed group counts
/// with its newest summary on or before that day.
fn growth(
    known: &BTreeMap<GroupId, &Listed>,
    latest: &BTreeMap<GroupId, MembershipSummary>,
    history: &[MembershipSummary],
) -> Vec<GrowthPoint> {
    let mut by_day: BTreeMap<Date, BTreeMap<GroupId, &MembershipSummary>> = BTreeMap::new();
    for s in history.iter().chain(latest.values()) {
        if !known.contains_key(&s.group) {
            continue;
        }
        let day = by_day.entry(s.as_of).or_default();
        match day.get(&s.group) {
            Some(held) if held.seq >= s.seq => {}
            _ => {
                day.insert(s.group, s);
            }
        }
    }
    let mut current: BTreeMap<GroupId, &MembershipSummary> = BTreeMap::new();
    let mut out = Vec::new();
    for (date, day) in by_day {
        current.extend(day);
        out.push(GrowthPoint {
            date,
            groups: current.len() as u64,
            members: current.values().map(|s| s.members).sum(),
            established: current.values().filter(|s| s.established).count() as u64,
        });
    }
    out
}

#[cfg(test)]
mod tests;
