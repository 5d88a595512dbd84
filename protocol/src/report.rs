//! Network-wide figures built from membership summaries: what `report`
//! shows and the dashboard draws.
//!
//! Every count of people here is a sum of published figures, each a
//! multiple of 5 rounded on the group's own devices
//! ([`crate::disclosure`]). So every such count is itself a multiple of 5,
//! no difference between two of them (between a total and its rows, or
//! between two reports) can be between 1 and 4, and nothing here says
//! more about a group than its own summary does. Counts of groups (by
//! area, kind, year formed, theme) are exact: each group's card and
//! summary are public to the network anyway.

use std::collections::BTreeMap;

use crate::card::GroupKind;
use crate::date::{Date, Month};
use crate::keys::GroupId;
use crate::records::{GROWTH_MONTHS, MembershipSummary};
use crate::schema::Course;

/// Members by kind, summed over groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kinds {
    /// Professionals.
    pub professional: u64,
    /// Activists.
    pub activist: u64,
    /// Observers.
    pub observer: u64,
}

/// Figures summed over groups (or shown for one).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Active members.
    pub members: u64,
    /// By kind.
    pub by_kind: Kinds,
    /// People trained (attended at least one course).
    pub trained: u64,
    /// One-to-one listening conversations held.
    pub conversations: u64,
    /// Meet-ups held.
    pub meetups: u64,
}

impl Totals {
    fn add(&mut self, s: &MembershipSummary) {
        self.members += s.members.get();
        self.by_kind.professional += s.by_kind.professional.get();
        self.by_kind.activist += s.by_kind.activist.get();
        self.by_kind.observer += s.by_kind.observer.get();
        self.trained += s.trained.get();
        self.conversations += s.conversations.get();
        self.meetups += s.meetups.get();
    }

    fn of(s: &MembershipSummary) -> Totals {
        let mut t = Totals::default();
        t.add(s);
        t
    }
}

/// People trained on one course, summed over groups.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CourseRow {
    /// The course's slug.
    pub course: String,
    /// Its title.
    pub title: String,
    /// People who attended it.
    pub trained: u64,
}

/// A listening theme across the network.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThemeRow {
    /// The theme.
    pub theme: String,
    /// Groups whose listening raised it.
    pub groups: u64,
    /// Conversations that raised it.
    pub conversations: u64,
}

/// The most themes a report lists.
pub const REPORT_THEMES: usize = 10;

/// Groups by the year they formed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct YearRow {
    /// The year the constitution was adopted.
    pub year: i32,
    /// Groups formed that year.
    pub groups: u64,
}

/// Groups by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupKinds {
    /// Local Organising Groups.
    pub local_organising_groups: u64,
    /// Social Action Hubs.
    pub social_action_hubs: u64,
}

impl AreaRow {
    /// The area as a table shows it: `-` for groups that gave none.
    pub fn label(&self) -> &str {
        self.area.as_deref().unwrap_or("-")
    }
}

/// One area's figures.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AreaRow {
    /// The area; `None` (JSON `null`) for the groups that gave none.
    pub area: Option<String>,
    /// Groups in the area.
    pub groups: u64,
    /// Established groups in it.
    pub established: u64,
    /// Their figures.
    pub totals: Totals,
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
    pub kind: GroupKind,
    /// Whether the network affiliated it.
    pub affiliated: bool,
    /// The date of its newest summary; `None` if it has published none.
    pub as_of: Option<Date>,
    /// The year it formed, if its summary says.
    pub formed: Option<i32>,
    /// Its figures, from its newest summary.
    pub figures: Option<Totals>,
    /// Established (21 or more members).
    pub established: Option<bool>,
}

/// One month of the growth series: the network's running totals at the
/// end of the month, from each group's monthly series.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrowthPoint {
    /// The month.
    pub month: Month,
    /// Active members who had joined by then.
    pub members: u64,
    /// Of the people trained, those trained by then.
    pub trained: u64,
}

/// The network's figures.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkReport {
    /// The network (the national key), if this node knows it.
    pub network: Option<GroupId>,
    /// The newest day any summary was taken.
    pub as_of: Option<Date>,
    /// Groups in the directory, the national body excepted.
    pub groups: u64,
    /// Of those, affiliated to the network.
    pub affiliated: u64,
    /// Groups with a summary.
    pub reporting: u64,
    /// Of those, established (by their newest summary).
    pub established: u64,
    /// Groups by kind.
    pub group_kinds: GroupKinds,
    /// Groups by the year they formed, oldest first.
    pub formed_by_year: Vec<YearRow>,
    /// Totals over every group's newest summary.
    pub totals: Totals,
    /// People trained by course, in programme order.
    pub trained_by_course: Vec<CourseRow>,
    /// The themes with most conversations.
    pub themes: Vec<ThemeRow>,
    /// The last 24 months, oldest first.
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
    pub kind: GroupKind,
    /// Affiliated to this network.
    pub affiliated: bool,
}

/// Builds the report from each group's newest summary. Summaries of
/// groups not in `listed` are ignored: without a card there is no name or
/// area to show.
pub fn build(
    network: Option<GroupId>,
    listed: &[Listed],
    latest: &BTreeMap<GroupId, MembershipSummary>,
) -> NetworkReport {
    let groups: Vec<&Listed> = listed.iter().filter(|l| !l.kind.is_national()).collect();
    let mut totals = Totals::default();
    let mut areas: BTreeMap<Option<String>, AreaRow> = BTreeMap::new();
    let mut by_group = Vec::new();
    let mut kinds = GroupKinds::default();
    let mut years: BTreeMap<i32, u64> = BTreeMap::new();
    let mut courses: BTreeMap<&str, u64> = BTreeMap::new();
    let mut themes: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut reporting = Vec::new();
    for l in &groups {
        match l.kind {
            GroupKind::SocialActionHub => kinds.social_action_hubs += 1,
            _ => kinds.local_organising_groups += 1,
        }
        let s = latest.get(&l.group);
        let area_name = l.area.clone();
        let area = areas.entry(area_name.clone()).or_insert_with(|| AreaRow {
            area: area_name,
            groups: 0,
            established: 0,
            totals: Totals::default(),
        });
        area.groups += 1;
        if let Some(s) = s {
            reporting.push(s);
            totals.add(s);
            area.established += u64::from(s.established);
            area.totals.add(s);
            if let Some(y) = s.formed {
                *years.entry(y).or_default() += 1;
            }
            for (c, n) in &s.by_course {
                *courses.entry(c.as_str()).or_default() += n.get();
            }
            for t in &s.themes {
                let row = themes.entry(t.theme.as_str()).or_default();
                row.0 += 1;
                row.1 += t.conversations.get();
            }
        }
        by_group.push(GroupRow {
            group: l.group,
            name: l.name.clone(),
            area: l.area.clone(),
            kind: l.kind,
            affiliated: l.affiliated,
            as_of: s.map(|s| s.as_of),
            formed: s.and_then(|s| s.formed),
            figures: s.map(Totals::of),
            established: s.map(|s| s.established),
        });
    }
    by_group.sort_by(|a, b| a.name.cmp(&b.name).then(a.group.cmp(&b.group)));
    let mut themes: Vec<ThemeRow> = themes
        .into_iter()
        .map(|(theme, (groups, conversations))| ThemeRow {
            theme: theme.to_owned(),
            groups,
            conversations,
        })
        .collect();
    themes.sort_by(|a, b| {
        (b.conversations, b.groups)
            .cmp(&(a.conversations, a.groups))
            .then(a.theme.cmp(&b.theme))
    });
    themes.truncate(REPORT_THEMES);
    let as_of = reporting.iter().map(|s| s.as_of).max();
    NetworkReport {
        network,
        as_of,
        groups: groups.len() as u64,
        affiliated: groups.iter().filter(|l| l.affiliated).count() as u64,
        reporting: reporting.len() as u64,
        established: reporting.iter().filter(|s| s.established).count() as u64,
        group_kinds: kinds,
        formed_by_year: years
            .into_iter()
            .map(|(year, groups)| YearRow { year, groups })
            .collect(),
        totals,
        trained_by_course: Course::KNOWN
            .iter()
            .map(|c| CourseRow {
                course: c.slug().to_owned(),
                title: c.title().to_owned(),
                trained: courses.get(c.slug()).copied().unwrap_or(0),
            })
            .collect(),
        themes,
        growth: as_of.map_or_else(Vec::new, |d| growth(d.month_of(), &reporting)),
        by_area: areas.into_values().collect(),
        by_group,
    }
}

/// The running totals at the end of each of the 24 months up to `last`:
/// each group's cumulative series, read at that month (a summary taken
/// earlier holds its last value; a month before its series starts counts
/// the members who joined before it).
fn growth(last: Month, reporting: &[&MembershipSummary]) -> Vec<GrowthPoint> {
    let first = last.add_months(-(GROWTH_MONTHS as i64 - 1));
    let at = |series: &crate::records::Series, own_last: Month, month: Month| -> u64 {
        let own_first = own_last.add_months(-(GROWTH_MONTHS as i64 - 1));
        let i = own_first.months_until(month);
        let run = series.cumulative();
        if i < 0 {
            series.earlier.get()
        } else {
            let i = (i as usize).min(run.len().saturating_sub(1));
            run.get(i).copied().unwrap_or(series.earlier.get())
        }
    };
    (0..GROWTH_MONTHS as i64)
        .map(|k| {
            let month = first.add_months(k);
            GrowthPoint {
                month,
                members: reporting
                    .iter()
                    .map(|s| at(&s.joined, s.as_of.month_of(), month))
                    .sum(),
                trained: reporting
                    .iter()
                    .map(|s| at(&s.trained_by_month, s.as_of.month_of(), month))
                    .sum(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
