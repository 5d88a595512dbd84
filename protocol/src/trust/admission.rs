//! Admission: who may open which ALPN, decided right after the TLS
//! handshake (the device id is the authenticated endpoint id), before any
//! stream is read.
//!
//! | ALPN | admitted |
//! |---|---|
//! | sync, gossip | this group's devices that are not revoked; the write keys of this group's own card (a recovered steward, [`super::recovery`]); the device this one joined through (until the devices document arrives); devices of linked groups (met on the link, or write keys of their card); devices this node asked to link with (their steward accepts by connecting) |
//! | join | anyone but a revoked device of this group: the one-time invite token inside is the credential |
//! | link | anyone but a revoked device of this group: a request from a stranger is only a request (see [`super::link`]) |
//!
//! The node rebuilds an [`Admission`] table ([`Admission::of`]) whenever
//! the devices, links or cards change, and its handshake hook asks
//! [`Admission::admit`] without waiting for the node.

use std::collections::BTreeSet;

use super::View;
use crate::keys::DeviceId;

/// The protocols a peer may open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    /// `/groundwork/sync/1`.
    Sync,
    /// `/iroh-gossip/1`, on the network's topic.
    Gossip,
    /// `/groundwork/join/1`.
    Join,
    /// `/groundwork/link/1`.
    Link,
}

/// Why a device was refused at the handshake.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A revoked device of this group.
    #[error("this device has been revoked")]
    Revoked,
    /// Neither this group's, nor a linked group's, nor asked to link.
    #[error("unknown device")]
    Unknown,
}

/// Who may connect: computed from a [`View`], read by the handshake hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admission {
    /// This group's devices that are not revoked (and the inviter).
    group_devices: BTreeSet<DeviceId>,
    /// Revoked devices of this group.
    revoked: BTreeSet<DeviceId>,
    /// Devices of linked groups, and devices asked to link.
    linked: BTreeSet<DeviceId>,
}

impl Admission {
    /// The table for what `view` knows.
    pub fn of(view: &View<'_>) -> Admission {
        let mut a = Admission::default();
        for (key, entry) in &view.devices.devices {
            let Ok(id) = key.parse::<DeviceId>() else {
                continue;
            };
            if entry.revoked.is_some() {
                a.revoked.insert(id);
            } else if id != view.me {
                a.group_devices.insert(id);
            }
        }
        if let Some(inviter) = view.inviter
            && !a.revoked.contains(&inviter)
        {
            a.group_devices.insert(inviter);
        }
        // The group's own card, signed by the group key, speaks for the
        // group: a device it lists is the group's (a restored steward
        // before its devices entry arrives: `super::recovery`).
        if let Some(card) = view.cards.get(&view.own) {
            a.group_devices.extend(
                card.card()
                    .write_keys
                    .iter()
                    .filter(|d| !a.revoked.contains(*d) && **d != view.me)
                    .copied(),
            );
        }
        for (group, devices) in &view.links.linked {
            a.linked.extend(devices.iter().copied());
            if let Some(card) = view.cards.get(group) {
                a.linked.extend(card.card().write_keys.iter().copied());
            }
        }
        a.linked.extend(view.links.requested.keys().copied());
        // A linked group never speaks for this group's revoked devices.
        a.linked.retain(|d| !a.revoked.contains(d));
        a
    }

    /// Whether `device` may open `alpn`.
    pub fn admit(&self, device: &DeviceId, alpn: Alpn) -> Result<(), Refusal> {
        if self.revoked.contains(device) {
            return Err(Refusal::Revoked);
        }
        match alpn {
            Alpn::Join | Alpn::Link => Ok(()),
            Alpn::Sync | Alpn::Gossip => {
                if self.group_devices.contains(device) || self.linked.contains(device) {
                    Ok(())
                } else {
                    Err(Refusal::Unknown)
                }
            }
        }
    }

    /// Whether `device` is revoked here.
    pub fn is_revoked(&self, device: &DeviceId) -> bool {
        self.revoked.contains(device)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::trust::testing::{World, world};

    #[test]
    fn each_case() {
        let w = World::sample();
        let a = Admission::of(&w.view());
        let [
            steward,
            organiser,
            member,
            revoked,
            linked,
            stranger,
            requested,
        ] = w.devices;
        for d in [organiser, member] {
            assert_eq!(a.admit(&d, Alpn::Sync), Ok(()), "group device");
            assert_eq!(a.admit(&d, Alpn::Gossip), Ok(()));
        }
        assert_eq!(
            a.admit(&linked, Alpn::Sync),
            Ok(()),
            "a linked group's writer"
        );
        assert_eq!(a.admit(&requested, Alpn::Sync), Ok(()), "asked to link");
        assert_eq!(a.admit(&stranger, Alpn::Sync), Err(Refusal::Unknown));
        assert_eq!(a.admit(&stranger, Alpn::Gossip), Err(Refusal::Unknown));
        assert_eq!(a.admit(&stranger, Alpn::Link), Ok(()), "a stranger may ask");
        assert_eq!(a.admit(&stranger, Alpn::Join), Ok(()), "the token decides");
        for alpn in [Alpn::Sync, Alpn::Gossip, Alpn::Link, Alpn::Join] {
            assert_eq!(a.admit(&revoked, alpn), Err(Refusal::Revoked));
        }
        // This device is not its own peer.
        assert_eq!(a.admit(&steward, Alpn::Sync), Err(Refusal::Unknown));
    }

    #[test]
    fn the_groups_own_card_admits_the_devices_it_lists_but_never_a_revoked_one() {
        use crate::card::{GroupCard, GroupKind};
        use crate::trust::testing::{key, own};
        let w = World::sample();
        let v = w.view();
        let restored = key(77).public();
        let revoked = w.devices[3];
        assert_eq!(
            Admission::of(&v).admit(&restored, Alpn::Sync),
            Err(Refusal::Unknown),
            "control: unknown without the card"
        );
        let card = GroupCard {
            group: own(),
            seq: 9,
            name: "Own".into(),
            area: None,
            kind: GroupKind::LocalOrganisingGroup,
            write_keys: vec![restored, revoked],
            stewards: vec![restored],
        }
        .sign(&key(1))
        .expect("sign");
        let mut cards = v.cards.clone();
        cards.insert(own(), card);
        let a = Admission::of(&View { cards: &cards, ..v });
        assert_eq!(a.admit(&restored, Alpn::Sync), Ok(()));
        assert_eq!(a.admit(&restored, Alpn::Gossip), Ok(()));
        assert_eq!(a.admit(&revoked, Alpn::Sync), Err(Refusal::Revoked));
    }

    proptest! {
        /// Over random device histories and links: a revoked device is
        /// refused everything; sync and gossip admit exactly the active
        /// group devices, linked groups' devices and requested ones.
        #[test]
        fn admitted_exactly_as_the_table_says(w in world()) {
            let view = w.view();
            let a = Admission::of(&view);
            for d in w.everyone() {
                let revoked = view.devices.get(&d).is_some_and(|e| e.revoked.is_some());
                let active = view.devices.active_role(&d).is_some() && d != view.me;
                let linked = view.links.group_of(&d, view.cards).is_some()
                    || view.links.requested.contains_key(&d);
                let sync = a.admit(&d, Alpn::Sync);
                if revoked {
                    prop_assert_eq!(sync, Err(Refusal::Revoked));
                    prop_assert_eq!(a.admit(&d, Alpn::Link), Err(Refusal::Revoked));
                    prop_assert_eq!(a.admit(&d, Alpn::Join), Err(Refusal::Revoked));
                } else {
                    prop_assert_eq!(sync.is_ok(), active || linked || view.inviter == Some(d));
                    prop_assert_eq!(a.admit(&d, Alpn::Link), Ok(()));
                    prop_assert_eq!(a.admit(&d, Alpn::Join), Ok(()));
                }
            }
        }
    }
}
