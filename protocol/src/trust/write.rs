//! The write rule: who may write each document, as a receiver applies it.
//!
//! | document | the author must be |
//! |---|---|
//! | this group's `devices` | a steward in the devices history, or a steward listed in the group's card |
//! | this group's constitution, plan, roster, contacts | a steward or organiser in the devices history, or a write key in the group's card |
//! | this group's meetups | any device in the devices history, or a write key in the card |
//! | another group's constitution, plan | a write key in that group's newest card (verified against its group id) |
//! | another group's anything else | nobody |
//!
//! The devices history includes revoked devices, so their earlier changes
//! stay valid history; what a revoked device wrote after the group stopped
//! accepting it is refused by its **cut** ([`within_cut`]), on every node
//! that holds the revocation, relaying or not. The card (signed by the
//! group key) lets a device that has just joined verify its group's
//! documents before its devices document arrives.

use super::View;
use crate::ids::DocKind;
use crate::keys::{DeviceId, GroupId};
use crate::schema::{Devices, Role};

impl Devices {
    /// The write rule for the group's own documents by its history: the
    /// author is in the devices history with a role that may write `kind`.
    pub fn may_write(&self, author: &DeviceId, kind: DocKind) -> bool {
        self.get(author).is_some_and(|d| d.role.may_write(kind))
    }
}

/// Whether `author` may write `group`'s document of `kind`. `staged` is
/// the devices document with the changes of the message being checked
/// applied, while a message to `devices` is judged in rounds.
pub fn may_write(
    view: &View<'_>,
    group: &GroupId,
    kind: DocKind,
    author: &DeviceId,
    staged: Option<&Devices>,
) -> bool {
    if *group != view.own {
        return view
            .cards
            .get(group)
            .is_some_and(|c| c.may_write(author, kind));
    }
    let devices = staged.unwrap_or(view.devices);
    let by_card = view.cards.get(&view.own).is_some_and(|c| {
        let card = c.card();
        match kind {
            DocKind::Devices => card.stewards.contains(author),
            DocKind::Meetups => card.write_keys.contains(author),
            _ => Role::Organiser.may_write(kind) && card.write_keys.contains(author),
        }
    });
    by_card || devices.may_write(author, kind)
}

/// The revocation cut for `group`'s document of `kind`: whether `author`'s
/// change `seq`, in the document's `epoch`, is within what the group
/// accepted of the author ([`Devices::within_cut`]). Another group's
/// documents have no cuts here: a revoked device leaves that group's card.
pub fn within_cut(
    view: &View<'_>,
    group: &GroupId,
    kind: DocKind,
    author: &DeviceId,
    (epoch, seq): (u64, u64),
    staged: Option<&Devices>,
) -> bool {
    if *group != view.own {
        return true;
    }
    staged
        .unwrap_or(view.devices)
        .within_cut(author, kind, epoch, seq)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::trust::testing::{World, key, world};

    #[test]
    fn each_case() {
        let w = World::sample();
        let v = w.view();
        let [steward, organiser, member, revoked, linked, stranger, _] = w.devices;
        let own = v.own;
        for kind in DocKind::ALL {
            assert!(may_write(&v, &own, kind, &steward, None), "steward {kind}");
            assert_eq!(
                may_write(&v, &own, kind, &organiser, None),
                kind != DocKind::Devices
            );
            assert_eq!(
                may_write(&v, &own, kind, &member, None),
                kind == DocKind::Meetups
            );
            assert_eq!(
                may_write(&v, &own, kind, &revoked, None),
                kind != DocKind::Devices,
                "a revoked device's history stays valid"
            );
            assert!(!may_write(&v, &own, kind, &stranger, None));
            assert!(!may_write(&v, &own, kind, &linked, None));
            let theirs = key(30).public();
            assert_eq!(
                may_write(&v, &theirs, kind, &linked, None),
                matches!(kind, DocKind::Constitution | DocKind::Plan),
                "a linked group's writer, on its own public documents"
            );
            assert!(!may_write(&v, &theirs, kind, &steward, None));
        }
    }

    #[test]
    fn a_revoked_devices_changes_beyond_its_cut_are_refused() {
        use crate::schema::Cut;
        let w = World::sample();
        let [steward, _, _, revoked, linked, stranger, _] = w.devices;
        let mut devices = w.view().devices.clone();
        let entry = devices
            .devices
            .get_mut(&revoked.to_string())
            .expect("revoked device");
        entry
            .cut
            .insert(DocKind::Roster.name().into(), Cut { epoch: 2, seq: 5 });
        let v = View {
            devices: &devices,
            ..w.view()
        };
        let own = v.own;
        let roster =
            |epoch, seq| within_cut(&v, &own, DocKind::Roster, &revoked, (epoch, seq), None);
        assert!(roster(2, 5), "the last change accepted");
        assert!(!roster(2, 6), "the next one");
        assert!(!roster(3, 1), "anything in a later epoch");
        assert!(roster(1, 900), "an earlier epoch is history");
        assert!(
            !within_cut(&v, &own, DocKind::Plan, &revoked, (0, 1), None),
            "a document with no cut entry: nothing"
        );
        // Revoked before cuts existed: no entries at all, history stands.
        let legacy = View {
            devices: w.view().devices,
            ..w.view()
        };
        assert!(within_cut(
            &legacy,
            &own,
            DocKind::Roster,
            &revoked,
            (0, 900),
            None
        ));
        for d in [steward, stranger] {
            assert!(within_cut(&v, &own, DocKind::Roster, &d, (9, 9), None));
        }
        let theirs = key(30).public();
        assert!(within_cut(
            &v,
            &theirs,
            DocKind::Plan,
            &linked,
            (9, 9),
            None
        ));
        // The staged devices document decides while a message to it is judged.
        let mut staged = devices.clone();
        staged
            .devices
            .get_mut(&revoked.to_string())
            .expect("revoked")
            .revoked = None;
        assert!(within_cut(
            &v,
            &own,
            DocKind::Roster,
            &revoked,
            (3, 1),
            Some(&staged)
        ));
    }

    proptest! {
        /// Nobody outside the devices history writes this group's documents,
        /// a member writes only meet-ups, and another group's documents are
        /// written only by its card's keys, and only its public ones.
        #[test]
        fn the_rule_over_random_worlds(w in world()) {
            let v = w.view();
            for d in w.everyone() {
                for kind in DocKind::ALL {
                    let own = may_write(&v, &v.own, kind, &d, None);
                    match v.devices.get(&d) {
                        None => prop_assert!(!own),
                        Some(e) => prop_assert_eq!(own, e.role.may_write(kind)),
                    }
                    for (g, c) in v.cards {
                        let theirs = may_write(&v, g, kind, &d, None);
                        prop_assert_eq!(theirs,
                            matches!(kind, DocKind::Constitution | DocKind::Plan)
                                && c.card().write_keys.contains(&d));
                    }
                }
            }
        }
    }
}
