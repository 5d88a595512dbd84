//! Typed schemas for a group's documents.
//!
//! Each document is a Rust type with autosurgeon's `Reconcile`/`Hydrate`, so
//! callers never spell out Automerge keys. Items in lists carry `#[key]` so
//! concurrent inserts and edits merge item by item. Fields added after the
//! first release carry `missing = "Default::default"` so older documents
//! still hydrate.
//!
//! | document | type | notes |
//! |---|---|---|
//! | constitution | [`Constitution`] | collaborative text body, adopted date, version, amendment log |
//! | plan | [`Plan`] | vision, goals, actions, listening campaign |
//! | meetups | [`Meetups`] | one [`Meetup`] per meeting, agenda and notes are collaborative text |
//! | roster | [`Roster`] | members keyed by [`ShortId`](crate::ids::ShortId) text; action owners |
//! | contacts | [`Contacts`] | contact details keyed by member id |
//! | devices | [`Devices`] | device keys and roles |

mod constitution;
mod contacts;
mod devices;
mod meetups;
mod packed;
mod plan;
mod roster;
mod scalars;

pub use constitution::{Amendment, Constitution};
pub use contacts::{Contact, Contacts, LawfulBasis, packed_email_may_be, same_email};
pub use devices::{Cut, DeviceEntry, Devices, Role};
pub use meetups::{Meetup, Meetups};
pub use plan::{Action, ActionStatus, Goal, Listening, Plan};
pub use roster::{Course, Member, MemberKind, MemberStatus, Roster};

use autosurgeon::{Hydrate, HydrateError, Reconcile};

use crate::ids::DocKind;

/// A type that is the whole content of one of a group's documents.
pub trait GroupDocument: Reconcile + Hydrate + Default {
    /// Which document this type describes.
    const KIND: DocKind;

    /// Reads the typed value out of an Automerge document.
    fn from_doc<D: autosurgeon::ReadDoc>(doc: &D) -> Result<Self, HydrateError> {
        autosurgeon::hydrate(doc)
    }
}

impl GroupDocument for Constitution {
    const KIND: DocKind = DocKind::Constitution;
}
impl GroupDocument for Plan {
    const KIND: DocKind = DocKind::Plan;
}
impl GroupDocument for Meetups {
    const KIND: DocKind = DocKind::Meetups;
}
impl GroupDocument for Roster {
    const KIND: DocKind = DocKind::Roster;
}
impl GroupDocument for Contacts {
    const KIND: DocKind = DocKind::Contacts;
}
impl GroupDocument for Devices {
    const KIND: DocKind = DocKind::Devices;
}

/// Serialises an autosurgeon [`Text`](autosurgeon::Text) as a plain string (for `--json`).
pub(crate) fn text_as_str<S: serde::Serializer>(
    t: &autosurgeon::Text,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}

/// Reads a plain string back as an autosurgeon [`Text`](autosurgeon::Text),
/// the inverse of [`text_as_str`] (for the control API).
pub(crate) fn text_from_str<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<autosurgeon::Text, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(autosurgeon::Text::with_value)
}

#[cfg(test)]
mod tests;
