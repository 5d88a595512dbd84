//! The Local Organising Plan.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use autosurgeon::{Counter, Hydrate, Reconcile, Text};

use super::roster::UnknownVariant;
use super::scalars::string_scalar;
use crate::date::Date;
use crate::ids::ShortId;

/// Whether an action is still to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Still to do.
    #[default]
    Open,
    /// Done.
    Done,
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
        })
    }
}

impl FromStr for ActionStatus {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "open" => Ok(ActionStatus::Open),
            "done" => Ok(ActionStatus::Done),
            _ => Err(UnknownVariant(s.to_owned(), "open, done")),
        }
    }
}

string_scalar!(ActionStatus, "an action status");

/// A goal of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Goal {
    /// Stable id.
    #[key]
    pub id: ShortId,
    /// The goal in a sentence.
    pub text: String,
}

/// An action of the plan. Its owner is kept in the roster (personal data).
#[derive(Clone, Debug, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Action {
    /// Stable id.
    #[key]
    pub id: ShortId,
    /// What is to be done.
    pub title: String,
    /// When it is due.
    pub due: Option<Date>,
    /// Open or done.
    pub status: ActionStatus,
    /// When it was marked done.
    pub done_on: Option<Date>,
}

/// The listening campaign: one-to-one conversations and what they surfaced.
#[derive(Clone, Debug, Default, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Listening {
    /// Conversations held; a counter, so concurrent additions add up.
    #[serde(
        serialize_with = "counter_value",
        deserialize_with = "counter_from_value"
    )]
    pub conversations_held: Counter,
    /// Themes heard.
    pub themes: Vec<String>,
    /// Conversations that raised each theme (keyed by the theme in lower
    /// case); counters, so concurrent additions add up.
    #[autosurgeon(missing = "Default::default")]
    #[serde(
        default,
        serialize_with = "counters_value",
        deserialize_with = "counters_from_value"
    )]
    pub theme_conversations: BTreeMap<String, Counter>,
}

impl PartialEq for Listening {
    fn eq(&self, other: &Self) -> bool {
        let values = |m: &BTreeMap<String, Counter>| -> Vec<(String, i64)> {
            m.iter().map(|(k, c)| (k.clone(), c.value())).collect()
        };
        self.conversations_held.value() == other.conversations_held.value()
            && self.themes == other.themes
            && values(&self.theme_conversations) == values(&other.theme_conversations)
    }
}

fn counters_value<S: serde::Serializer>(
    m: &BTreeMap<String, Counter>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, c) in m {
        map.serialize_entry(k, &c.value())?;
    }
    map.end()
}

fn counters_from_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Counter>, D::Error> {
    let m = <BTreeMap<String, i64> as serde::Deserialize>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, Counter::with_value(v)))
        .collect())
}
impl Eq for Listening {}

fn counter_value<S: serde::Serializer>(c: &Counter, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(c.value())
}

fn counter_from_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Counter, D::Error> {
    <i64 as serde::Deserialize>::deserialize(d).map(Counter::with_value)
}

/// The plan document.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize,
)]
pub struct Plan {
    /// The group's vision, edited collaboratively.
    #[serde(
        serialize_with = "super::text_as_str",
        deserialize_with = "super::text_from_str"
    )]
    pub vision: Text,
    /// Goals.
    pub goals: Vec<Goal>,
    /// Actions.
    pub actions: Vec<Action>,
    /// The listening campaign.
    pub listening: Listening,
}

impl Plan {
    /// The action with this id.
    pub fn action(&self, id: &ShortId) -> Option<&Action> {
        self.actions.iter().find(|a| &a.id == id)
    }
}
