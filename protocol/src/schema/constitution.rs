//! The group's constitution.

use autosurgeon::{Hydrate, Reconcile, Text};

use crate::date::Date;

/// One amendment in the log.
#[derive(Clone, Debug, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Amendment {
    /// The version this amendment produced.
    #[key]
    pub version: u64,
    /// When it was made.
    pub date: Date,
    /// What changed, in a line.
    pub summary: String,
    /// The first ten hex digits of the key of the device that made it.
    pub by: String,
}

/// The constitution document.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize,
)]
pub struct Constitution {
    /// The text, edited collaboratively.
    #[serde(
        serialize_with = "super::text_as_str",
        deserialize_with = "super::text_from_str"
    )]
    pub body: Text,
    /// When the group adopted it.
    pub adopted: Option<Date>,
    /// Bumped by each amendment.
    pub version: u64,
    /// Every amendment, oldest first.
    pub amendments: Vec<Amendment>,
}

impl Constitution {
    /// A simple starting constitution for a new group of this kind: a
    /// Local Organising Group's or a Social Action Hub's, or the national
    /// body's, which affiliates groups rather than enrolling members.
    pub fn template(group_name: &str, kind: crate::card::GroupKind) -> String {
        use crate::card::GroupKind;
        let what = match kind {
            GroupKind::LocalOrganisingGroup => "a Local Organising Group",
            GroupKind::SocialActionHub => "a Social Action Hub",
            GroupKind::National => return Self::national_template(group_name),
        };
        format!(
            "Constitution of {group_name}\n\
             \n\
             1. Name. The group is called {group_name}, {what}.\n\
             2. Purpose. To bring people together to listen, build relationships and act\n\
             \x20  together on what matters to our community.\n\
             3. Membership. Membership is open to anyone who lives or works in our area and\n\
             \x20  agrees to the Principles of Practice. Members are professionals, activists\n\
             \x20  or observers.\n\
             4. Meetings. Members meet regularly and set the agenda together.\n\
             5. Decisions. Decisions are made by the members present at a meet-up, by\n\
             \x20  consensus where possible and otherwise by a simple majority.\n\
             6. Stewards. Members choose stewards to keep the group's records.\n\
             7. Changes. This constitution can be changed at a meet-up with notice given.\n"
        )
    }

    fn national_template(name: &str) -> String {
        format!(
            "Constitution of {name}\n\
             \n\
             1. Name. The body is called {name}, the national body of the community\n\
             \x20  organising network.\n\
             2. Purpose. To support Local Organising Groups and Social Action Hubs across\n\
             \x20  England: training organisers, sharing what works, and reporting the\n\
             \x20  programme's reach.\n\
             3. Affiliation. Any group that has adopted a constitution and agrees to the\n\
             \x20  Principles of Practice may affiliate. A group's steward asks; the national\n\
             \x20  team affiliates it, and either may end the affiliation.\n\
             4. Groups' independence. Each group keeps its own roster, plan and meet-up\n\
             \x20  notes. The national body holds only the aggregate counts groups publish,\n\
             \x20  never members' names or contact details.\n\
             5. Reporting. The national team reports network-wide figures (members, people\n\
             \x20  trained, conversations held, groups formed) from those counts.\n\
             6. Governance. A national team, chosen by the affiliated groups, runs the body\n\
             \x20  and keeps its records.\n\
             7. Changes. This constitution can be changed by the national team with notice\n\
             \x20  given to every affiliated group.\n"
        )
    }
}
