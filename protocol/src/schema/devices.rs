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
    /// A revoked device's **cut**: for each document it could write (by
    /// kind name), the epoch and the last of its changes (by sequence
    /// number) the revoking device had accepted. Its changes beyond the cut
    /// are refused everywhere ([`Devices::within_cut`]). Empty until
    /// revoked.
    #[autosurgeon(missing = "Default::default")]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cut: BTreeMap<String, Cut>,
}

/// Where a revoked device's accepted changes to one document end.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Reconcile,
    Hydrate,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Cut {
    /// The document's epoch the cut is in.
    pub epoch: u64,
    /// The device's last accepted change there (0: none).
    pub seq: u64,
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

    /// How many devices are stewards and not revoked.
    pub fn active_stewards(&self) -> usize {
        self.devices
            .values()
            .filter(|d| d.revoked.is_none() && d.role == Role::Steward)
            .count()
    }

    /// The revocation cut rule: whether `author`'s change `seq` to the
    /// document of `kind` in its `epoch` is within what the group accepted
    /// of it. A device that is not revoked (or not in the group: that is
    /// the write rule's to judge) is not cut. A revoked device's change is
    /// within the cut only in an epoch before the cut's, or in the cut's
    /// epoch at or below its sequence number; in any later epoch nothing
    /// of it is, and neither is anything in a document with no cut entry.
    /// A device revoked before cuts existed (no entry at all) is not cut:
    /// its history stays valid, as it was then (revoking now always records
    /// a cut for meet-ups, which every role writes).
    pub fn within_cut(&self, author: &DeviceId, kind: DocKind, epoch: u64, seq: u64) -> bool {
        let Some(entry) = self.get(author) else {
            return true;
        };
        if entry.revoked.is_none() || entry.cut.is_empty() {
            return true;
        }
        match entry.cut.get(kind.name()) {
            Some(c) => epoch < c.epoch || (epoch == c.epoch && seq <= c.seq),
            None => false,
        }
    }
}
