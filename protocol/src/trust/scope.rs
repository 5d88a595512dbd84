//! Session scope: who a peer is to this node, and which documents a
//! session with it carries. The serving node applies it document by
//! document; a peer never receives a document outside its set, and never
//! hears of one: the set decides what a session names at all (see
//! [`crate::sync::session`]).
//!
//! | document | group devices | linked groups, national |
//! |---|---|---|
//! | constitution, plan | yes | yes |
//! | meetups, roster, devices | yes | no |
//! | contacts | stewards and organisers only | no |
//!
//! Besides its own group's documents, a session carries the constitution
//! and plan of other groups this node holds a card for, by the session's
//! [`Scope`]: every such group between a group's own devices and between
//! two linked groups (so public documents travel along chains of links);
//! only the two groups' own on a link with the national node (which is
//! linked with every group, and would otherwise relay every group's
//! documents to every other: work growing with the square of the network).

use std::collections::BTreeSet;

use super::View;
use crate::ids::{DocId, DocKind};
use crate::keys::{DeviceId, GroupId};
use crate::schema::Role;

/// Who is on the other end of a session, as far as sharing goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A device of the same group, in this role.
    GroupDevice(Role),
    /// A device of a linked group (or of the national body), or one this
    /// node asked to link with.
    Outside,
}

/// Whether `peer` may receive a document of `kind` of this node's group.
pub fn may_receive(peer: Peer, kind: DocKind) -> bool {
    match peer {
        Peer::GroupDevice(role) => role.may_read(kind),
        Peer::Outside => matches!(kind, DocKind::Constitution | DocKind::Plan),
    }
}

/// The documents of `group` a session between this device (`mine`) and
/// `peer` carries: those both ends may hold. Both ends compute the same set
/// from what they know, so their heads digests compare like with like.
pub fn own_docs(group: &GroupId, mine: Role, peer: Peer) -> BTreeSet<DocId> {
    DocKind::ALL
        .into_iter()
        .filter(|k| mine.may_read(*k) && may_receive(peer, *k))
        .map(|k| DocId::derive(group, k))
        .collect()
}

/// Who `device` is to this node: a device of its group (by its active
/// role, the inviter before the devices document arrives, or a device
/// the group's own card lists, as a steward or organiser), a linked
/// group's device or one asked to link, or nobody (`None`, also for a
/// revoked device).
pub fn peer_of(view: &View<'_>, device: &DeviceId) -> Option<(Peer, Option<GroupId>)> {
    if let Some(role) = view.devices.active_role(device) {
        return Some((Peer::GroupDevice(role), Some(view.own)));
    }
    if view.devices.get(device).is_some() {
        return None; // revoked
    }
    if view.inviter == Some(*device) {
        return Some((Peer::GroupDevice(Role::Steward), Some(view.own)));
    }
    // The group's own card speaks for the group (a recovered steward
    // before its devices entry arrives: `super::recovery`).
    if let Some(card) = view.cards.get(&view.own).map(|c| c.card()) {
        if card.stewards.contains(device) {
            return Some((Peer::GroupDevice(Role::Steward), Some(view.own)));
        }
        if card.write_keys.contains(device) {
            return Some((Peer::GroupDevice(Role::Organiser), Some(view.own)));
        }
    }
    if let Some(g) = view.links.group_of(device, view.cards) {
        return Some((Peer::Outside, Some(g)));
    }
    view.links
        .requested
        .get(device)
        .map(|g| (Peer::Outside, Some(*g)))
}

/// Whose public documents a session carries besides this group's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every group's this node holds.
    All,
    /// Only these groups'.
    Only(BTreeSet<GroupId>),
}

impl Scope {
    /// Whether the session carries `group`'s public documents.
    pub fn covers(&self, group: &GroupId) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(groups) => groups.contains(group),
        }
    }
}

/// The scope of a session with `peer` of group `theirs`. Both ends work it
/// out the same way: each knows whether it or the other is the national
/// node (from its own kind and the other's card).
pub fn scope(view: &View<'_>, peer: Peer, theirs: Option<GroupId>) -> Scope {
    if matches!(peer, Peer::GroupDevice(_)) {
        return Scope::All;
    }
    let national_link = view.is_national() || theirs.is_some_and(|g| view.is_national_group(&g));
    if national_link {
        Scope::Only([view.own].into_iter().chain(theirs).collect())
    } else {
        Scope::All
    }
}

/// Every document a session carries: this group's that `peer` may
/// receive, and the public documents (constitution, plan) of the held
/// groups `scope` covers. `held` lists the documents this node holds with
/// their group and kind.
pub fn session_docs<'a>(
    view: &View<'_>,
    mine: Role,
    peer: Peer,
    scope: &Scope,
    held: impl IntoIterator<Item = (&'a DocId, &'a (GroupId, DocKind))>,
) -> BTreeSet<DocId> {
    let mut set = own_docs(&view.own, mine, peer);
    for (id, (g, kind)) in held {
        if *g != view.own
            && scope.covers(g)
            && matches!(kind, DocKind::Constitution | DocKind::Plan)
        {
            set.insert(*id);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::trust::testing::{World, key, world};

    fn kinds(group: &GroupId, set: &BTreeSet<DocId>) -> Vec<DocKind> {
        DocKind::ALL
            .into_iter()
            .filter(|k| set.contains(&DocId::derive(group, *k)))
            .collect()
    }

    #[test]
    fn the_document_table() {
        use DocKind::*;
        let g = key(1).public();
        let all = vec![Constitution, Plan, Meetups, Roster, Contacts, Devices];
        let both = |mine, peer| kinds(&g, &own_docs(&g, mine, peer));
        assert_eq!(both(Role::Steward, Peer::GroupDevice(Role::Organiser)), all);
        assert_eq!(
            both(Role::Steward, Peer::GroupDevice(Role::Member)),
            vec![Constitution, Plan, Meetups, Roster, Devices],
            "a member device does not get contacts"
        );
        assert_eq!(
            both(Role::Member, Peer::GroupDevice(Role::Steward)),
            vec![Constitution, Plan, Meetups, Roster, Devices],
            "both ends compute the same set"
        );
        assert_eq!(both(Role::Steward, Peer::Outside), vec![Constitution, Plan]);
    }

    #[test]
    fn who_a_peer_is() {
        let w = World::sample();
        let v = w.view();
        let [_, organiser, member, revoked, linked, stranger, requested] = w.devices;
        assert_eq!(
            peer_of(&v, &organiser),
            Some((Peer::GroupDevice(Role::Organiser), Some(v.own)))
        );
        assert_eq!(
            peer_of(&v, &member).map(|p| p.0),
            Some(Peer::GroupDevice(Role::Member))
        );
        assert_eq!(peer_of(&v, &revoked), None);
        assert_eq!(peer_of(&v, &stranger), None);
        assert_eq!(
            peer_of(&v, &linked),
            Some((Peer::Outside, Some(key(30).public())))
        );
        assert_eq!(
            peer_of(&v, &requested),
            Some((Peer::Outside, Some(key(31).public())))
        );
        // A link with the national body carries only the two groups' documents.
        let national = key(32).public();
        assert_eq!(
            scope(&v, Peer::Outside, Some(national)),
            Scope::Only([v.own, national].into())
        );
        assert_eq!(scope(&v, Peer::Outside, Some(key(30).public())), Scope::All);
    }

    #[test]
    fn a_device_the_groups_own_card_lists_is_a_group_device_unless_revoked() {
        use crate::card::{GroupCard, GroupKind};
        let w = World::sample();
        let v = w.view();
        let (steward, writer, revoked) = (key(77).public(), key(78).public(), w.devices[3]);
        assert_eq!(
            peer_of(&v, &steward),
            None,
            "control: nobody without the card"
        );
        let card = GroupCard {
            group: v.own,
            seq: 9,
            name: "Own".into(),
            area: None,
            kind: GroupKind::LocalOrganisingGroup,
            write_keys: vec![steward, writer, revoked],
            stewards: vec![steward, revoked],
        }
        .sign(&key(1))
        .expect("sign");
        let mut cards = v.cards.clone();
        cards.insert(v.own, card);
        let v = View { cards: &cards, ..v };
        assert_eq!(
            peer_of(&v, &steward),
            Some((Peer::GroupDevice(Role::Steward), Some(v.own)))
        );
        assert_eq!(
            peer_of(&v, &writer).map(|p| p.0),
            Some(Peer::GroupDevice(Role::Organiser))
        );
        assert_eq!(peer_of(&v, &revoked), None);
    }

    proptest! {
        /// A session never names a document the peer may not read: an
        /// outside peer gets only constitutions and plans; a member device
        /// never gets contacts; nobody unknown or revoked gets anything.
        #[test]
        fn a_session_never_names_what_the_peer_may_not_read(w in world()) {
            let v = w.view();
            let mine = v.devices.active_role(&v.me).unwrap_or(Role::Member);
            let held: BTreeMap<DocId, (GroupId, DocKind)> = v
                .cards
                .keys()
                .chain([v.own].iter())
                .flat_map(|g| DocKind::ALL.into_iter().map(move |k| (DocId::derive(g, k), (*g, k))))
                .collect();
            for d in w.everyone() {
                let Some((peer, theirs)) = peer_of(&v, &d) else {
                    let known = v.devices.active_role(&d).is_some()
                        || v.inviter == Some(d)
                        || v.links.group_of(&d, v.cards).is_some()
                        || v.links.requested.contains_key(&d);
                    let revoked = v.devices.get(&d).is_some() && v.devices.active_role(&d).is_none();
                    prop_assert!(!known || revoked, "{} is known but no peer", d.fmt_short());
                    continue;
                };
                let s = scope(&v, peer, theirs);
                let docs = session_docs(&v, mine, peer, &s, &held);
                for doc in &docs {
                    let (g, kind) = held[doc];
                    let readable = match peer {
                        Peer::GroupDevice(role) if g == v.own => role.may_read(kind) && mine.may_read(kind),
                        _ => matches!(kind, DocKind::Constitution | DocKind::Plan),
                    };
                    prop_assert!(readable, "{kind} of {} to {peer:?}", g.fmt_short());
                }
                if let Peer::GroupDevice(role) = peer {
                    prop_assert_eq!(docs.contains(&DocId::derive(&v.own, DocKind::Contacts)),
                        role.may_read(DocKind::Contacts) && mine.may_read(DocKind::Contacts));
                }
            }
        }
    }
}
