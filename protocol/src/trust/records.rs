//! Record acceptance: which group cards, affiliations and membership
//! summaries a node keeps (each already verified against its issuer's
//! signature; [`crate::records::newer`] then decides whether it replaces
//! what is held).
//!
//! A node keeps records only about groups it *knows*: its own, groups
//! linked with it by consent (or asked to link), groups the directory of a
//! network it trusts lists, and groups one of its own stewards or
//! organisers vouches for (by relaying them: a link is the group's, made on
//! one of its steward devices). A network is trusted when this node
//! belongs to it (the national node's own; a group's by its affiliation);
//! a group in no network trusts the networks its linked groups belong to.
//! The directory of a network is its national node's affiliations, and
//! the national node itself.
//!
//! | record | kept when |
//! |---|---|
//! | group card | the group is known, and fewer than [`MAX_HELD_CARDS`] are held |
//! | affiliation of this group | issued by a national node linked with this group, and by the network it already belongs to, if any (another network's never replaces it) |
//! | affiliation, on the national node | issued by this node |
//! | another group's affiliation | issued by this node's network; in no network, by any network for a linked group, else by a trusted network |
//! | membership summary | the group is known |

use std::collections::{BTreeMap, BTreeSet};

use super::View;
use crate::card::GroupCard;
use crate::keys::GroupId;
use crate::records::{Affiliation, MembershipSummary, NetworkId, RecordRejected};

/// The most group cards a node holds: the directory of a network of this
/// many groups (each holds its constitution and plan).
pub const MAX_HELD_CARDS: usize = 2048;

/// What a node knows of the networks when it judges a record.
#[derive(Clone, Copy, Debug)]
pub struct Directory<'a> {
    /// The node.
    pub view: &'a View<'a>,
    /// The network it belongs to: its own id on the national node, else
    /// its affiliation's.
    pub network: Option<NetworkId>,
    /// The affiliations held: group to network.
    pub affiliations: &'a BTreeMap<GroupId, NetworkId>,
    /// The record came from a steward or organiser device of this group:
    /// the groups its group links with are known to this device too (a
    /// link is the group's, made on whichever steward device).
    pub vouched: bool,
}

impl Directory<'_> {
    /// The networks whose directories this node accepts.
    pub fn trusted_networks(&self) -> BTreeSet<NetworkId> {
        if let Some(n) = self.network {
            return [n].into();
        }
        self.affiliations
            .iter()
            .filter(|(g, _)| self.view.links.is_linked(g))
            .map(|(_, n)| *n)
            .collect()
    }

    /// Whether a trusted network's directory lists `group` (the national
    /// node itself included).
    pub fn lists(&self, group: &GroupId) -> bool {
        let trusted = self.trusted_networks();
        trusted.contains(group)
            || self
                .affiliations
                .get(group)
                .is_some_and(|n| trusted.contains(n))
    }

    /// Whether this node knows `group`: its own, linked or asked to link,
    /// or listed by a trusted network.
    pub fn knows(&self, group: &GroupId) -> bool {
        self.vouched
            || *group == self.view.own
            || self.view.links.is_linked(group)
            || self.view.links.requested.values().any(|g| g == group)
            || self.lists(group)
    }
}

/// Whether to keep `card`; `held` is the card held for its group, and
/// `cards_held` how many cards are held.
pub fn accept_card(
    dir: &Directory<'_>,
    card: &GroupCard,
    held: Option<&GroupCard>,
    cards_held: usize,
) -> Result<(), RecordRejected> {
    if !dir.knows(&card.group) {
        return Err(RecordRejected::UnknownGroup);
    }
    if held.is_none() && cards_held >= MAX_HELD_CARDS {
        return Err(RecordRejected::TooMany(MAX_HELD_CARDS));
    }
    Ok(())
}

/// Whether to keep an affiliation.
pub fn accept_affiliation(dir: &Directory<'_>, a: &Affiliation) -> Result<(), RecordRejected> {
    let view = dir.view;
    if view.is_national() {
        return if a.network == view.own {
            Ok(())
        } else {
            Err(RecordRejected::OtherNetwork)
        };
    }
    if a.group == view.own {
        if !(view.links.is_linked(&a.network) && view.is_national_group(&a.network)) {
            return Err(RecordRejected::NotFromALinkedNational);
        }
        return match dir.network {
            Some(n) if n != a.network => Err(RecordRejected::ReplacesAffiliation(n.fmt_short())),
            _ => Ok(()),
        };
    }
    match dir.network {
        Some(n) if n == a.network => Ok(()),
        Some(_) => Err(RecordRejected::OtherNetwork),
        None if view.links.is_linked(&a.group) => Ok(()),
        None if dir.trusted_networks().contains(&a.network) => Ok(()),
        None => Err(RecordRejected::OtherNetwork),
    }
}

/// Whether to keep a membership summary.
pub fn accept_summary(dir: &Directory<'_>, s: &MembershipSummary) -> Result<(), RecordRejected> {
    if dir.knows(&s.group) {
        Ok(())
    } else {
        Err(RecordRejected::UnknownGroup)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::card::GroupKind;
    use crate::date::Date;
    use crate::trust::testing::{World, key, world};

    fn affiliation(network: u8, group: GroupId) -> Affiliation {
        Affiliation {
            network: key(network).public(),
            group,
            since: Date::new(2020, 1, 1).expect("date"),
            seq: 1,
        }
    }

    fn card(seed: u8) -> GroupCard {
        GroupCard {
            group: key(seed).public(),
            seq: 1,
            name: "x".into(),
            area: None,
            kind: GroupKind::LocalOrganisingGroup,
            write_keys: vec![],
            stewards: vec![],
        }
    }

    #[test]
    fn each_case() {
        let w = World::sample();
        let v = w.view();
        let national = key(32).public(); // linked, and national
        let none = BTreeMap::new();
        let dir = Directory {
            view: &v,
            network: None,
            affiliations: &none,
            vouched: false,
        };
        // This group's own affiliation: only from a linked national node.
        assert_eq!(accept_affiliation(&dir, &affiliation(32, v.own)), Ok(()));
        assert_eq!(
            accept_affiliation(&dir, &affiliation(30, v.own)),
            Err(RecordRejected::NotFromALinkedNational),
            "a linked group that is not national"
        );
        assert_eq!(
            accept_affiliation(&dir, &affiliation(77, v.own)),
            Err(RecordRejected::NotFromALinkedNational),
            "a stranger"
        );
        // Once affiliated, another network's never replaces it.
        let mine = BTreeMap::from([(v.own, national)]);
        let member = Directory {
            view: &v,
            network: Some(national),
            affiliations: &mine,
            vouched: false,
        };
        assert_eq!(accept_affiliation(&member, &affiliation(32, v.own)), Ok(()));
        let other_national = key(33).public();
        let mut links = v.links.clone();
        links.linked.insert(other_national, Default::default());
        let mut cards = v.cards.clone();
        let k = key(33);
        let c = GroupCard {
            kind: GroupKind::National,
            ..card(33)
        };
        cards.insert(other_national, c.sign(&k).expect("sign"));
        let v2 = View {
            links: &links,
            cards: &cards,
            ..v
        };
        let member2 = Directory {
            view: &v2,
            ..member
        };
        assert!(matches!(
            accept_affiliation(&member2, &affiliation(33, v.own)),
            Err(RecordRejected::ReplacesAffiliation(_))
        ));
        // Other groups' affiliations: this network's only.
        assert_eq!(
            accept_affiliation(&member, &affiliation(32, key(60).public())),
            Ok(())
        );
        assert_eq!(
            accept_affiliation(&member, &affiliation(33, key(60).public())),
            Err(RecordRejected::OtherNetwork)
        );
        // Cards: known groups only.
        assert_eq!(accept_card(&member, &card(30), None, 0), Ok(()), "linked");
        assert_eq!(
            accept_card(&member, &card(61), None, 0),
            Err(RecordRejected::UnknownGroup),
            "nobody here linked with it, and no directory lists it"
        );
        let from_a_steward = Directory {
            vouched: true,
            ..member
        };
        assert_eq!(
            accept_card(&from_a_steward, &card(61), None, 0),
            Ok(()),
            "relayed by this group's own steward or organiser device"
        );
        let listed = BTreeMap::from([(v.own, national), (key(61).public(), national)]);
        let with_dir = Directory {
            affiliations: &listed,
            ..member
        };
        assert_eq!(accept_card(&with_dir, &card(61), None, 0), Ok(()), "listed");
        assert_eq!(
            accept_card(&with_dir, &card(61), None, MAX_HELD_CARDS),
            Err(RecordRejected::TooMany(MAX_HELD_CARDS))
        );
        let held = card(61);
        assert_eq!(
            accept_card(&with_dir, &card(61), Some(&held), MAX_HELD_CARDS),
            Ok(()),
            "a newer card of a group held is not one more"
        );
    }

    #[test]
    fn a_group_in_no_network_trusts_its_linked_groups_networks() {
        let w = World::sample();
        let v = w.view();
        let linked = key(30).public();
        let network = key(70).public();
        let affs = BTreeMap::from([(linked, network), (key(62).public(), network)]);
        let dir = Directory {
            view: &v,
            network: None,
            affiliations: &affs,
            vouched: false,
        };
        assert_eq!(dir.trusted_networks(), [network].into());
        assert!(dir.lists(&key(62).public()));
        assert!(dir.knows(&network), "the network's national node");
        assert_eq!(
            accept_affiliation(&dir, &affiliation(70, key(63).public())),
            Ok(())
        );
        assert_eq!(
            accept_affiliation(&dir, &affiliation(71, key(63).public())),
            Err(RecordRejected::OtherNetwork)
        );
    }

    proptest! {
        /// Over random worlds: an affiliation of this group is kept only
        /// from a linked national node and never replaces another
        /// network's; on the national node, only its own; nothing is kept
        /// about a group nobody here knows.
        #[test]
        fn affiliations_only_from_the_networks_own_national_key(
            w in world(), issuer in 30u8..36, subject in prop_oneof![Just(None), (30u8..36).prop_map(Some)],
            network in prop_oneof![Just(None), (30u8..36).prop_map(Some)],
        ) {
            let v = w.view();
            let network = if v.is_national() { Some(v.own) } else { network.map(|n| key(n).public()) };
            let affs = BTreeMap::new();
            let dir = Directory { view: &v, network, affiliations: &affs, vouched: false };
            let group = subject.map_or(v.own, |s| key(s).public());
            let a = affiliation(issuer, group);
            let ok = accept_affiliation(&dir, &a).is_ok();
            if v.is_national() {
                prop_assert_eq!(ok, a.network == v.own);
            } else if group == v.own {
                let from_linked_national = v.links.is_linked(&a.network) && v.is_national_group(&a.network);
                prop_assert_eq!(ok, from_linked_national && network.is_none_or(|n| n == a.network));
            } else if let Some(n) = network {
                prop_assert_eq!(ok, a.network == n);
            }
            let s = MembershipSummary::publish(group, &Default::default(), Date::new(2020, 1, 1).expect("date"), &crate::disclosure::Offsets::none());
            prop_assert_eq!(accept_summary(&dir, &s).is_ok(), dir.knows(&group));
            prop_assert_eq!(accept_card(&dir, &card(subject.unwrap_or(1)), None, 0).is_ok(), dir.knows(&group));
        }
    }
}
