//! Meet-ups and their notes.

use autosurgeon::{Hydrate, Reconcile, Text};

use crate::date::Date;
use crate::ids::ShortId;

/// One meet-up.
#[derive(Clone, Debug, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Meetup {
    /// Stable id.
    #[key]
    pub id: ShortId,
    /// When it is (or was).
    pub date: Date,
    /// Where.
    pub place: String,
    /// The agenda members set, edited collaboratively.
    #[serde(
        serialize_with = "super::text_as_str",
        deserialize_with = "super::text_from_str"
    )]
    pub agenda: Text,
    /// Notes, edited collaboratively.
    #[serde(
        serialize_with = "super::text_as_str",
        deserialize_with = "super::text_from_str"
    )]
    pub notes: Text,
    /// How many came.
    pub attendance: u64,
    /// Actions agreed.
    pub actions: Vec<String>,
}

/// The meet-ups document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Meetups {
    /// Meet-ups in the order they were added.
    pub meetups: Vec<Meetup>,
}

impl Meetups {
    /// The meet-up with this id.
    pub fn get(&self, id: &ShortId) -> Option<&Meetup> {
        self.meetups.iter().find(|m| &m.id == id)
    }
}
