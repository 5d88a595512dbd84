//! Epoch acceptance: whether a signed epoch record replaces the epoch a
//! node holds of a document.
//!
//! | the record | verdict |
//! |---|---|
//! | for a document id that is not `group`'s document of `kind` | refused: another document |
//! | for another group's document that is not its constitution or plan | refused: not shared |
//! | signed by a device that does not keep the document (below) | refused |
//! | numbered at or below the epoch held, and not the very record held | refused: stale |
//! | numbered as the epoch held, another record, a lower genesis hash | replaces the one held (two devices started it apart; the lower stands everywhere) |
//! | numbered as the epoch held, another record, a higher genesis hash | refused: it loses the tie |
//! | the record held | the same (nothing to do) |
//! | otherwise | newer: switch |
//!
//! Who may start one: a device that keeps the document. For this group's
//! documents, a device the devices history holds, not revoked, as a
//! steward (any document) or an organiser (any but `devices`: organisers
//! keep the roster, contacts, constitution and plan, and must be able to
//! honour an erasure request); for a device not in that history yet (one
//! that has just joined), the group's card's stewards and, but for
//! `devices`, its write keys. For another group's constitution and plan, a
//! write key of that group's newest card (its stewards and organisers).
//!
//! The record's signature was verified when it was decoded
//! ([`crate::epoch::SignedEpoch::from_bytes`]); the genesis is checked
//! against it separately ([`crate::epoch::SignedEpoch::check_genesis`]).

use super::View;
use crate::epoch::SignedEpoch;
use crate::ids::{DocId, DocKind};
use crate::keys::{DeviceId, GroupId};
use crate::schema::Role;

/// What to do with an acceptable record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It starts a newer epoch than the one held: switch.
    Newer,
    /// It is the record held.
    Same,
    /// It has the number of the epoch held and wins the tie (its genesis
    /// hash is the lower): switch to it.
    Replaces,
}

/// Why an epoch record is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EpochRefused {
    /// The record is for another document than the one it was offered for.
    #[error("the epoch record is for another document")]
    OtherDocument,
    /// Another group's private document.
    #[error("epochs of another group's {0} are not shared")]
    NotShared(DocKind),
    /// The author may not start epochs of this document.
    #[error("device {0} may not start epochs of this document")]
    NotASteward(String),
    /// Not newer than the epoch held.
    #[error("stale epoch {offered} (this node holds epoch {held})")]
    Stale {
        /// The number offered.
        offered: u64,
        /// The number held.
        held: u64,
    },
    /// Another record with the number of the epoch held, which loses the
    /// tie (its genesis hash is not the lower).
    #[error(
        "epoch {0} was started twice; this node holds the one that stands (the lower genesis hash)"
    )]
    Loses(u64),
}

/// Whether `author` may start epochs of `group`'s document of `kind`: a
/// device that keeps the document (see the module docs).
pub fn may_start(view: &View<'_>, group: &GroupId, kind: DocKind, author: &DeviceId) -> bool {
    let keeps = |role: Role| match role {
        Role::Steward => true,
        Role::Organiser => kind != DocKind::Devices,
        Role::Member => false,
    };
    if *group != view.own {
        return matches!(kind, DocKind::Constitution | DocKind::Plan)
            && view
                .cards
                .get(group)
                .is_some_and(|c| c.card().write_keys.contains(author));
    }
    match view.devices.get(author) {
        Some(_) => view.devices.active_role(author).is_some_and(keeps),
        None => view.cards.get(&view.own).is_some_and(|c| {
            let card = c.card();
            card.stewards.contains(author)
                || (kind != DocKind::Devices && card.write_keys.contains(author))
        }),
    }
}

/// The rule for `record`, offered for `group`'s document of `kind`, where
/// this node holds epoch `held_number` (0: the founding history) and,
/// from 1, its record `held`.
pub fn accept(
    view: &View<'_>,
    group: &GroupId,
    kind: DocKind,
    record: &SignedEpoch,
    held_number: u64,
    held: Option<&SignedEpoch>,
) -> Result<Verdict, EpochRefused> {
    let epoch = record.epoch();
    if epoch.doc != DocId::derive(group, kind) {
        return Err(EpochRefused::OtherDocument);
    }
    if *group != view.own && !matches!(kind, DocKind::Constitution | DocKind::Plan) {
        return Err(EpochRefused::NotShared(kind));
    }
    if held.is_some_and(|h| h.bytes() == record.bytes()) {
        return Ok(Verdict::Same);
    }
    if !may_start(view, group, kind, &record.author()) {
        return Err(EpochRefused::NotASteward(record.author().fmt_short()));
    }
    if epoch.number == held_number && held_number > 0 {
        // Two devices started the same epoch apart: the record whose
        // genesis hash is lower stands, on every device alike.
        return match held {
            Some(h) if epoch.genesis < h.epoch().genesis => Ok(Verdict::Replaces),
            _ => Err(EpochRefused::Loses(held_number)),
        };
    }
    if epoch.number <= held_number {
        return Err(EpochRefused::Stale {
            offered: epoch.number,
            held: held_number,
        });
    }
    Ok(Verdict::Newer)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use automerge::ChangeHash;
    use proptest::prelude::*;

    use super::*;
    use crate::epoch::Epoch;
    use crate::keys::SecretKey;
    use crate::trust::testing::{World, key, world};

    fn record(
        group: &GroupId,
        kind: DocKind,
        number: u64,
        genesis: u8,
        by: &SecretKey,
    ) -> SignedEpoch {
        Epoch {
            doc: DocId::derive(group, kind),
            number,
            covers: vec![ChangeHash([7; 32])],
            clock: BTreeMap::new(),
            genesis: ChangeHash([genesis; 32]),
            previous: None,
        }
        .sign(by)
        .expect("sign")
    }

    #[test]
    fn each_case() {
        let w = World::sample();
        let v = w.view();
        let own = v.own;
        let steward = key(10);
        let roster = DocKind::Roster;
        let r1 = record(&own, roster, 1, 1, &steward);
        assert_eq!(accept(&v, &own, roster, &r1, 0, None), Ok(Verdict::Newer));
        assert_eq!(
            accept(&v, &own, roster, &r1, 1, Some(&r1)),
            Ok(Verdict::Same)
        );
        assert_eq!(
            accept(&v, &own, DocKind::Contacts, &r1, 0, None),
            Err(EpochRefused::OtherDocument),
            "a record offered for another document"
        );
        let theirs = key(30).public();
        assert_eq!(
            accept(&v, &theirs, roster, &r1, 0, None),
            Err(EpochRefused::OtherDocument),
            "a record of this group's roster offered as another group's"
        );
        // Epoch 1 started twice: the lower genesis hash stands.
        let r1b = record(&own, roster, 1, 2, &steward);
        assert_eq!(
            accept(&v, &own, roster, &r1b, 1, Some(&r1)),
            Err(EpochRefused::Loses(1))
        );
        assert_eq!(
            accept(&v, &own, roster, &r1, 1, Some(&r1b)),
            Ok(Verdict::Replaces)
        );
        assert_eq!(
            accept(&v, &own, roster, &r1, 2, None),
            Err(EpochRefused::Stale {
                offered: 1,
                held: 2
            })
        );
        let organiser = record(&own, roster, 1, 1, &key(11));
        assert_eq!(
            accept(&v, &own, roster, &organiser, 0, None),
            Ok(Verdict::Newer)
        );
        let organiser_devices = record(&own, DocKind::Devices, 1, 1, &key(11));
        assert!(
            matches!(
                accept(&v, &own, DocKind::Devices, &organiser_devices, 0, None),
                Err(EpochRefused::NotASteward(_))
            ),
            "only a steward starts epochs of the devices document"
        );
        for (seed, who) in [
            (12, "member"),
            (13, "revoked organiser"),
            (40, "linked"),
            (99, "stranger"),
        ] {
            let r = record(&own, roster, 1, 1, &key(seed));
            assert!(
                matches!(
                    accept(&v, &own, roster, &r, 0, None),
                    Err(EpochRefused::NotASteward(_))
                ),
                "{who}"
            );
        }
        // Another group's public documents: its card's steward only.
        let plan = record(&theirs, DocKind::Plan, 3, 1, &key(40));
        assert_eq!(
            accept(&v, &theirs, DocKind::Plan, &plan, 0, None),
            Ok(Verdict::Newer)
        );
        let by_us = record(&theirs, DocKind::Plan, 3, 1, &steward);
        assert!(matches!(
            accept(&v, &theirs, DocKind::Plan, &by_us, 0, None),
            Err(EpochRefused::NotASteward(_))
        ));
        let their_roster = record(&theirs, roster, 1, 1, &key(40));
        assert_eq!(
            accept(&v, &theirs, roster, &their_roster, 0, None),
            Err(EpochRefused::NotShared(DocKind::Roster))
        );
    }

    proptest! {
        /// A record is accepted as newer exactly when it is for the
        /// document, shared, by a steward, and numbered above the held one.
        #[test]
        fn newer_only_from_a_steward_and_above_the_held_epoch(
            w in world(),
            signer in 10u8..50,
            kind_i in 0usize..6,
            number in 1u64..5,
            held in 0u64..5,
        ) {
            let v = w.view();
            let kind = DocKind::ALL[kind_i];
            let mut groups = vec![v.own];
            groups.extend(v.cards.keys().copied());
            for group in groups {
                let r = record(&group, kind, number, 1, &key(signer));
                let out = accept(&v, &group, kind, &r, held, None);
                let author = key(signer).public();
                let steward = if group == v.own {
                    match v.devices.get(&author) {
                        Some(e) => e.revoked.is_none()
                            && (e.role == Role::Steward
                                || (e.role == Role::Organiser && kind != DocKind::Devices)),
                        None => v.cards.get(&v.own).is_some_and(|c| {
                            c.card().stewards.contains(&author)
                                || (kind != DocKind::Devices && c.card().write_keys.contains(&author))
                        }),
                    }
                } else {
                    v.cards[&group].card().write_keys.contains(&author)
                };
                let shared = group == v.own || matches!(kind, DocKind::Constitution | DocKind::Plan);
                prop_assert_eq!(
                    out == Ok(Verdict::Newer),
                    shared && steward && number > held
                );
            }
        }
    }
}
