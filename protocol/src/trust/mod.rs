//! Every trust rule, as pure functions: the node asks, it does not decide.
//!
//! | rule | where | what it decides |
//! |---|---|---|
//! | admission | [`admission`] | who may open which ALPN, right after the TLS handshake |
//! | session scope | [`scope`] | who a peer is to this node, and which documents a session carries (and so names) |
//! | the write rule | [`write`] | who may write each document |
//! | change acceptance | [`change`] | whether one signed change from a peer joins a document; equivocation proofs |
//! | record acceptance | [`records`] | which cards, affiliations and summaries a node keeps |
//! | epoch acceptance | [`epoch`] | whether a signed epoch record replaces the epoch held of a document |
//! | linking | [`link`] | whether a request to link is accepted, left for the steward, or refused |
//! | recovery | [`recovery`] | whether a group card presented by a device holding the group key makes it a steward here |
//!
//! Each rule reads a [`View`]: what the node knows of its own group and its
//! links, computed by the node from its state. Each has unit tests for
//! each case and property tests over random device histories, roles, cards
//! and links next to it.

use std::collections::{BTreeMap, BTreeSet};

use crate::card::{GroupKind, SignedCard};
use crate::keys::{DeviceId, GroupId};
use crate::schema::Devices;

pub mod admission;
pub mod change;
pub mod epoch;
pub mod link;
pub mod records;
pub mod recovery;
pub mod scope;
pub mod write;

/// What a node knows when it applies a rule.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// This device.
    pub me: DeviceId,
    /// This device's group.
    pub own: GroupId,
    /// What sort of group that is.
    pub own_kind: GroupKind,
    /// The group's devices document (its whole history, revoked included).
    pub devices: &'a Devices,
    /// The verified group cards held, by group.
    pub cards: &'a BTreeMap<GroupId, SignedCard>,
    /// This node's links.
    pub links: &'a Links,
    /// On a device that has just joined, the device it joined through,
    /// until the devices document has arrived (it is a steward: only
    /// stewards invite).
    pub inviter: Option<DeviceId>,
}

/// The groups this node is linked with, by consent of a steward on each
/// side, and the links asked for but not yet answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// Linked groups, with the devices of each this node has met.
    pub linked: BTreeMap<GroupId, BTreeSet<DeviceId>>,
    /// Devices this node asked to link with, and their groups: their
    /// steward accepts by connecting back.
    pub requested: BTreeMap<DeviceId, GroupId>,
}

impl Links {
    /// Whether `group` is linked with this node.
    pub fn is_linked(&self, group: &GroupId) -> bool {
        self.linked.contains_key(group)
    }

    /// The linked group `device` belongs to: a device met on that link, or
    /// a write key of its card.
    pub fn group_of(
        &self,
        device: &DeviceId,
        cards: &BTreeMap<GroupId, SignedCard>,
    ) -> Option<GroupId> {
        self.linked
            .iter()
            .find(|(g, devices)| {
                devices.contains(device)
                    || cards
                        .get(g)
                        .is_some_and(|c| c.card().write_keys.contains(device))
            })
            .map(|(g, _)| *g)
    }
}

impl View<'_> {
    /// Whether this node is the national body.
    pub fn is_national(&self) -> bool {
        self.own_kind.is_national()
    }

    /// Whether the card held for `group` says it is the national body.
    pub fn is_national_group(&self, group: &GroupId) -> bool {
        self.cards
            .get(group)
            .is_some_and(|c| c.card().kind.is_national())
    }
}

#[cfg(test)]
pub(crate) mod testing;
