//! The group's devices and what each may do.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};

use super::roster::UnknownVariant;
use super::scalars::string_scalar;
use crate::date::Date;
use crate::ids::DocKind;
use crate::keys::DeviceId;

/// A device's role in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Holds the group key; may do everything.
    Steward,
    /// Keeps the roster, contacts, constitution and plan.
    Organiser,
    /// Reads the group's documents and writes meet-up notes.
    Member,
}

impl Role {
    /// Whether a device in this role may write a document of `kind`.
    pub fn may_write(self, kind: DocKind) -> bool {
        match kind {
            DocKind::Meetups => true,
            DocKind::Constitution | DocKind::Plan | DocKind::Roster | DocKind::Contacts => {
                matches!(self, Role::Steward | Role::Organiser)
            }
            DocKind::Devices => self == Role::Steward,
        }
    }

    /// Whether a device in this role may read a document of `kind`.
    pub fn may_read(self, kind: DocKind) -> bool {
        match kind {
            DocKind::Contacts => matches!(self, Role::Steward | Role::Organiser),
            _ => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Steward => "steward",
            Role::Organiser => "organiser",
            Role::Member => "member",
        })
    }
}

impl FromStr for Role {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "steward" => Ok(Role::Steward),
            "organiser" | "organizer" => Ok(Role::Organiser),
            "member" => Ok(Role::Member),
            _ => Err(UnknownVariant(s.to_owned(), "steward, organiser, member")),
        }
    }
}

string_scalar!(Role, "a device role");

/// One device of the group.
#[derive(Clone, Debug, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct DeviceEntry {
    /// What the device may do.
    pub role: Role,
    /// A label for people ("Amina's laptop").
    pub label: String,
    /// The device that added it (the founder adds itself).
    pub added_by: DeviceId,
    /// When it was added.
    pub added: Date,
    /// When it was revoked, if it has been.
    pub revoked: Option<Date>,
}

/// The devices document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Devices {
    /// Devices keyed by public key hex.
    pub devices: BTreeMap<String, DeviceEntry>,
}

impl Devices {
    /// The entry for a device, if it was ever part of the group.
    pub fn get(&self, id: &DeviceId) -> Option<&DeviceEntry> {
        self.devices.get(&id.to_string())
    }

    /// The role of a device that is in the group and not revoked.
    pub fn active_role(&self, id: &DeviceId) -> Option<Role> {
        self.get(id).filter(|d| d.revoked.is_none()).map(|d| d.role)
    }
}
