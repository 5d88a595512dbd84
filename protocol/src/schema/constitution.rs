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
    /// A simple starting constitution for a new Local Organising Group.
    pub fn template(group_name: &str) -> String {
        format!(
            "Constitution of {group_name}\n\
             \n\
             1. Name. The group is called {group_name}, a Local Organising Group.\n\
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
}
