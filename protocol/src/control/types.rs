//! The group operations' own inputs and results, shared by the command
//! line, the terminal UI and the node (which re-exports them from
//! `node::group` and keeps their validation).

use std::collections::BTreeMap;

use crate::date::Date;
use crate::ids::ShortId;
use crate::schema::{
    Contact, Course, DeviceEntry, LawfulBasis, Member, MemberKind, MemberStatus, Plan,
};

/// A member as the user gave it: every field optional, validated on use.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemberInput {
    /// A stable id to keep (from an exported spreadsheet).
    pub id: Option<ShortId>,
    /// Full name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Professional, activist or observer.
    pub kind: Option<MemberKind>,
    /// When they joined.
    pub joined: Option<Date>,
    /// Active or lapsed.
    pub status: Option<MemberStatus>,
    /// When they agreed to the Principles of Practice.
    pub principles_agreed: Option<Date>,
    /// Courses attended (added to any already recorded).
    pub courses: Vec<Course>,
    /// When they attended their first course (by default the day the
    /// first course is recorded, or the day they joined if that is given).
    pub trained: Option<Date>,
    /// Whether they agreed to be contacted.
    pub consent_to_contact: Option<bool>,
    /// Lawful basis for holding contact details.
    pub lawful_basis: Option<LawfulBasis>,
    /// When consent was given.
    pub consent_date: Option<Date>,
}

/// A member with their id and, where this device may read them, contact
/// details.
///
/// Serialised flat, as `member list --json` prints it: the id, the roster
/// fields, then the contact fields when there is a contact. Reading it back
/// gives the same value (a contact always writes `consent_to_contact`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "MemberViewWire")]
pub struct MemberView {
    /// The member's id.
    pub id: ShortId,
    /// The roster record.
    #[serde(flatten)]
    pub member: Member,
    /// Contact details, if held and readable.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// [`MemberView`] as read from JSON: a flattened `Option<Contact>` cannot
/// tell "no contact" from "a contact with default fields", so the contact
/// fields are read one by one and a contact exists if any is present.
#[derive(serde::Deserialize)]
struct MemberViewWire {
    id: ShortId,
    #[serde(flatten)]
    member: Member,
    #[serde(flatten)]
    contact: ContactWire,
}

/// The contact fields of a [`MemberViewWire`], each optional.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct ContactWire {
    email: Option<String>,
    phone: Option<String>,
    consent_to_contact: Option<bool>,
    lawful_basis: Option<LawfulBasis>,
    consent_date: Option<Date>,
}

impl From<MemberViewWire> for MemberView {
    fn from(w: MemberViewWire) -> Self {
        let c = w.contact;
        let present = c.email.is_some()
            || c.phone.is_some()
            || c.consent_to_contact.is_some()
            || c.lawful_basis.is_some()
            || c.consent_date.is_some();
        MemberView {
            id: w.id,
            member: w.member,
            contact: present.then(|| Contact {
                email: c.email,
                phone: c.phone,
                consent_to_contact: c.consent_to_contact.unwrap_or_default(),
                lawful_basis: c.lawful_basis.unwrap_or_default(),
                consent_date: c.consent_date,
            }),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportOutcome {
    /// Ids of the members added, in file order.
    pub added: Vec<ShortId>,
    /// Rows that matched a member already on the roster (or earlier in the file).
    pub already_present: usize,
    /// Of those, the rows that give data the member's record lacks or
    /// differs from, in file order.
    #[serde(default)]
    pub differing: Vec<RowDiffers>,
    /// Members changed by such rows (only when the import was asked to
    /// update).
    #[serde(default)]
    pub updated: Vec<ShortId>,
}

/// A row that matched a member but differs from their record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowDiffers {
    /// The row's place among the rows sent, from 0.
    pub row: usize,
    /// The member it matched.
    pub id: ShortId,
    /// The spreadsheet columns whose values differ (names only, never the
    /// values).
    pub fields: Vec<String>,
}

/// A change to the constitution: new text, an adoption date, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConstitutionUpdate {
    /// The new text, if it changes.
    pub text: Option<String>,
    /// One line saying what changed, for the amendment log.
    pub summary: Option<String>,
    /// The date the group adopted it, if that is being recorded.
    pub adopted: Option<Date>,
}

/// Changes to a plan action (`plan action edit`): each field given is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPatch {
    /// A new title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
    /// Clear the due date.
    #[serde(default)]
    pub clear_due: bool,
    /// A new owner: a member id, a name, or part of one only one name holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Clear the owner.
    #[serde(default)]
    pub clear_owner: bool,
}

/// Changes to a meet-up (`meetup edit`): each field given is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetupPatch {
    /// A new date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// A new place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// A new agenda (empty clears it). Changed as a diff, so a peer's
    /// concurrent edit to another part of it is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agenda: Option<String>,
    /// How many came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<u64>,
}

impl MeetupPatch {
    /// True if it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == MeetupPatch::default()
    }
}

/// A new meet-up.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetupInput {
    /// When.
    pub date: Date,
    /// Where.
    pub place: String,
    /// The agenda.
    #[serde(default)]
    pub agenda: Option<String>,
    /// How many came, if known.
    #[serde(default)]
    pub attendance: Option<u64>,
}

/// The plan with each action's owner resolved, where this device may read
/// the roster.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanView {
    /// The plan document.
    #[serde(flatten)]
    pub plan: Plan,
    /// Action id to its owner.
    pub owners: BTreeMap<String, Owner>,
}

/// The member who owns an action: `{"id": …, "name": …}` in JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    /// The member's id.
    pub id: String,
    /// Their name.
    pub name: String,
}

/// One of the group's devices, as `device list --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceView {
    /// The device id, as the devices document keys it (64 hex digits).
    pub id: String,
    /// Its role, label, who added it and when, and any revocation.
    #[serde(flatten)]
    pub entry: DeviceEntry,
    /// Whether it is the device answering.
    pub this_device: bool,
}
