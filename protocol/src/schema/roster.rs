//! The membership roster: personal data that never leaves the group's devices.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};

use super::scalars::string_scalar;
use crate::date::Date;
use crate::ids::ShortId;

/// The three kinds of member in the programme.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    /// A professional working with the community (a councillor, a nurse, a teacher...).
    Professional,
    /// A community activist: the default.
    #[default]
    Activist,
    /// Follows the group without taking an active part.
    Observer,
}

/// Whether a member is still active.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// A current member.
    #[default]
    Active,
    /// Has not been in touch for a while.
    Lapsed,
}

/// A course or qualification from the programme.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", from = "String")]
pub enum Course {
    /// Introduction to Community Organising.
    Introduction,
    /// Listening Skills.
    ListeningSkills,
    /// Building Power.
    BuildingPower,
    /// Action for Change.
    ActionForChange,
    /// Planning for Change.
    PlanningForChange,
    /// Storytelling for Change.
    StorytellingForChange,
    /// Community Organising with Young People.
    YoungPeople,
    /// Level 2 Award in Community Organising.
    Level2Award,
    /// Level 2 Certificate in Community Organising.
    Level2Certificate,
    /// Level 3 Award in Community Organising.
    Level3Award,
    /// Level 3 Certificate in Community Organising.
    Level3Certificate,
    /// A course this version does not know (written by a newer one). Kept as is.
    Other(String),
}

impl Course {
    /// Every known course, in programme order.
    pub const KNOWN: [Course; 11] = [
        Course::Introduction,
        Course::ListeningSkills,
        Course::BuildingPower,
        Course::ActionForChange,
        Course::PlanningForChange,
        Course::StorytellingForChange,
        Course::YoungPeople,
        Course::Level2Award,
        Course::Level2Certificate,
        Course::Level3Award,
        Course::Level3Certificate,
    ];

    /// The stable slug stored in documents and spreadsheets.
    pub fn slug(&self) -> &str {
        match self {
            Course::Introduction => "introduction",
            Course::ListeningSkills => "listening-skills",
            Course::BuildingPower => "building-power",
            Course::ActionForChange => "action-for-change",
            Course::PlanningForChange => "planning-for-change",
            Course::StorytellingForChange => "storytelling-for-change",
            Course::YoungPeople => "young-people",
            Course::Level2Award => "level-2-award",
            Course::Level2Certificate => "level-2-certificate",
            Course::Level3Award => "level-3-award",
            Course::Level3Certificate => "level-3-certificate",
            Course::Other(s) => s,
        }
    }

    /// The course's full title.
    pub fn title(&self) -> &str {
        match self {
            Course::Introduction => "Introduction to Community Organising",
            Course::ListeningSkills => "Listening Skills",
            Course::BuildingPower => "Building Power",
            Course::ActionForChange => "Action for Change",
            Course::PlanningForChange => "Planning for Change",
            Course::StorytellingForChange => "Storytelling for Change",
            Course::YoungPeople => "Community Organising with Young People",
            Course::Level2Award => "Level 2 Award in Community Organising",
            Course::Level2Certificate => "Level 2 Certificate in Community Organising",
            Course::Level3Award => "Level 3 Award in Community Organising",
            Course::Level3Certificate => "Level 3 Certificate in Community Organising",
            Course::Other(s) => s,
        }
    }

    /// Parses a slug or a title, ignoring case, spaces and punctuation.
    /// Returns `None` for a name that matches no known course.
    pub fn parse_known(text: &str) -> Option<Course> {
        let norm = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let t = norm(text);
        Course::KNOWN.into_iter().find(|c| {
            norm(c.slug()) == t || norm(c.title()) == t || {
                // "Introduction to Community Organising" is often written "Intro".
                matches!(c, Course::Introduction)
                    && (t == "intro" || t == "introductiontocommunityorganizing")
            }
        })
    }
}

impl From<String> for Course {
    fn from(s: String) -> Self {
        Course::parse_known(&s).unwrap_or(Course::Other(s))
    }
}

impl From<Course> for String {
    fn from(c: Course) -> String {
        c.slug().to_owned()
    }
}

impl fmt::Display for Course {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Course {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Course::from(s.to_owned()))
    }
}

/// Why text is not a member kind or status.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not one of {1}")]
pub struct UnknownVariant(pub String, pub &'static str);

impl MemberKind {
    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            MemberKind::Professional => "professional",
            MemberKind::Activist => "activist",
            MemberKind::Observer => "observer",
        }
    }
}

impl fmt::Display for MemberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MemberKind {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "professional" => Ok(MemberKind::Professional),
            "activist" => Ok(MemberKind::Activist),
            "observer" => Ok(MemberKind::Observer),
            _ => Err(UnknownVariant(
                s.to_owned(),
                "professional, activist, observer",
            )),
        }
    }
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemberStatus::Active => "active",
            MemberStatus::Lapsed => "lapsed",
        })
    }
}

impl FromStr for MemberStatus {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "active" => Ok(MemberStatus::Active),
            "lapsed" => Ok(MemberStatus::Lapsed),
            _ => Err(UnknownVariant(s.to_owned(), "active, lapsed")),
        }
    }
}

string_scalar!(MemberKind, "a member kind");
string_scalar!(MemberStatus, "a member status");
string_scalar!(Course, "a course");

/// One member of the group.
///
/// A member is stored as one Automerge value (a compact JSON string), not a
/// map of fields: a roster of 10,000 members then loads in about 7 ms instead
/// of 44 ms (see docs/schema.md). The cost: two devices editing *the same
/// member* at the same moment keep one side's whole record (Automerge keeps
/// the other as a conflict). Edits of different members always merge.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Full name as the member gives it.
    pub name: String,
    /// Professional, activist or observer.
    pub kind: MemberKind,
    /// When they joined.
    pub joined: Date,
    /// Active or lapsed.
    #[serde(default)]
    pub status: MemberStatus,
    /// When they agreed to the Principles of Practice, if they have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principles_agreed: Option<Date>,
    /// Courses attended, sorted and without duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub courses: Vec<Course>,
    /// When they attended their first course, if it was recorded (the
    /// month counts in the summary's trained-by-month series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained: Option<Date>,
}

impl Reconcile for Member {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.str(super::packed::encode(self))
    }
}

impl Hydrate for Member {
    fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
        super::packed::decode(s, "a member record")
    }
}

/// The roster document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Roster {
    /// Members, keyed by their [`ShortId`] text.
    pub members: BTreeMap<String, Member>,
    /// Who owns each plan action: action id to member id. Kept here, not in
    /// the plan, because the plan is shared beyond the group and a name is
    /// personal data.
    #[autosurgeon(missing = "Default::default")]
    pub action_owners: BTreeMap<String, String>,
    /// The ids of members forgotten (`member forget`), so that no device
    /// brings one back: an epoch started anywhere leaves their entries out.
    /// Ids only, no names.
    #[autosurgeon(missing = "Default::default")]
    pub forgotten: BTreeMap<String, bool>,
}

impl Roster {
    /// The member with this id.
    pub fn get(&self, id: &ShortId) -> Option<&Member> {
        self.members.get(id.as_str())
    }

    /// Members whose id parses, in id order. Entries with malformed ids
    /// (possible only from a buggy or hostile writer) are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (ShortId, &Member)> {
        self.members
            .iter()
            .filter_map(|(k, m)| k.parse().ok().map(|id| (id, m)))
    }
}

impl Member {
    /// Sorts the courses and drops duplicates, so equal members encode equally.
    pub fn normalise(&mut self) {
        self.courses.sort();
        self.courses.dedup();
    }
}
