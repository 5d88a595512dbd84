//! Share rules: which of a group's documents a peer may receive.
//!
//! The serving node applies these document by document. A peer never
//! receives a document outside its set, and never learns of one: the set
//! decides what a session names at all (see [`crate::sync::session`]).
//!
//! | document | group devices | linked groups, national |
//! |---|---|---|
//! | constitution, plan | yes | yes |
//! | meetups, roster, devices | yes | no |
//! | contacts | stewards and organisers only | no |

use std::collections::BTreeSet;

use crate::ids::{DocId, DocKind};
use crate::keys::{DeviceId, GroupId};
use crate::schema::{Devices, Role};

/// Who is on the other end of a session, as far as sharing goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A device of the same group, in this role.
    GroupDevice(Role),
    /// A device of a linked group, or of the national body.
    Outside,
}

/// Whether `peer` may receive a document of `kind`.
pub fn may_receive(peer: Peer, kind: DocKind) -> bool {
    match peer {
        Peer::GroupDevice(role) => role.may_read(kind),
        Peer::Outside => matches!(kind, DocKind::Constitution | DocKind::Plan),
    }
}

/// The documents of `group` a session between this device (`mine`) and
/// `peer` carries: those both ends may hold. Both ends compute the same set
/// from what they know, so their heads digests compare like with like.
pub fn shared_docs(group: &GroupId, mine: Role, peer: Peer) -> BTreeSet<DocId> {
    DocKind::ALL
        .into_iter()
        .filter(|k| mine.may_read(*k) && may_receive(peer, *k))
        .map(|k| DocId::derive(group, k))
        .collect()
}

impl Devices {
    /// The write rule for the group's own documents: the author is in the
    /// devices history with a role that may write `kind`. A revoked device's
    /// earlier changes stay valid (they are history); revocation is enforced
    /// at the handshake, where the revoked device is refused.
    pub fn may_write(&self, author: &DeviceId, kind: DocKind) -> bool {
        self.get(author).is_some_and(|d| d.role.may_write(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::keys::SecretKey;
    use crate::schema::DeviceEntry;

    fn group() -> GroupId {
        SecretKey::from_seed(&[1; 32]).public()
    }

    fn kinds(set: &BTreeSet<DocId>) -> Vec<DocKind> {
        DocKind::ALL
            .into_iter()
            .filter(|k| set.contains(&DocId::derive(&group(), *k)))
            .collect()
    }

    #[test]
    fn the_document_table() {
        use DocKind::*;
        let all = vec![Constitution, Plan, Meetups, Roster, Contacts, Devices];
        assert_eq!(
            kinds(&shared_docs(
                &group(),
                Role::Steward,
                Peer::GroupDevice(Role::Organiser)
            )),
            all
        );
        assert_eq!(
            kinds(&shared_docs(
                &group(),
                Role::Steward,
                Peer::GroupDevice(Role::Member)
            )),
            vec![Constitution, Plan, Meetups, Roster, Devices],
            "a member device does not get contacts"
        );
        assert_eq!(
            kinds(&shared_docs(
                &group(),
                Role::Member,
                Peer::GroupDevice(Role::Steward)
            )),
            vec![Constitution, Plan, Meetups, Roster, Devices],
            "both ends compute the same set"
        );
        assert_eq!(
            kinds(&shared_docs(&group(), Role::Steward, Peer::Outside)),
            vec![Constitution, Plan]
        );
    }

    #[test]
    fn write_rule_uses_the_devices_history() {
        let (steward, member, stranger) = (
            SecretKey::from_seed(&[2; 32]).public(),
            SecretKey::from_seed(&[3; 32]).public(),
            SecretKey::from_seed(&[4; 32]).public(),
        );
        let day = Date::new(2020, 1, 1).expect("date");
        let mut d = Devices::default();
        d.devices.insert(
            steward.to_string(),
            DeviceEntry {
                role: Role::Steward,
                label: "s".into(),
                added_by: steward,
                added: day,
                revoked: Some(day),
            },
        );
        d.devices.insert(
            member.to_string(),
            DeviceEntry {
                role: Role::Member,
                label: "m".into(),
                added_by: steward,
                added: day,
                revoked: None,
            },
        );
        assert!(
            d.may_write(&steward, DocKind::Roster),
            "a revoked device's history stays valid"
        );
        assert!(d.may_write(&member, DocKind::Meetups));
        assert!(!d.may_write(&member, DocKind::Roster));
        assert!(!d.may_write(&stranger, DocKind::Meetups));
    }
}
