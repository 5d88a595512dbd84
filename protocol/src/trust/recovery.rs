//! Recovery: a device holding the group key presents the group's card
//! naming it a steward, and a device of the group takes that card.
//!
//! The group key is the group's root of authority (its id is the key's
//! public half, and only stewards are given it). When the group's only
//! steward device is lost, a device restored from a backup holds the key
//! but is in no devices document, so every device refuses it at the
//! handshake. It signs a newer card listing itself as a steward and
//! presents it on the join protocol (open to anyone but a revoked
//! device; the card's signature is the credential, as an invite's token
//! is). A device that takes the card admits it ([`super::admission`]) and
//! accepts its changes to the devices document ([`super::write`]), so it
//! can add itself and revoke the lost device.
//!
//! | case | decision |
//! |---|---|
//! | a card of another group | refused |
//! | a card that does not name the presenting device a steward | refused |
//! | a revoked device of this group presenting | refused |
//! | a card no newer than the one held (and not the same) | refused |
//! | the very card held | taken again (nothing changes) |
//! | otherwise | taken: it replaces the group's card here |

use super::View;
use crate::card::SignedCard;
use crate::keys::DeviceId;

/// Why a presented card was not taken.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryRefused {
    /// The card is another group's.
    #[error("that card is another group's")]
    OtherGroup,
    /// The card does not list the presenting device as a steward.
    #[error("the card does not name this device a steward")]
    NotNamed,
    /// The presenting device was revoked.
    #[error("this device has been revoked")]
    Revoked,
    /// A newer card of the group is held.
    #[error("a newer card of the group is held here")]
    Older,
}

/// Whether the card is new here (else it is the one held).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// It replaces the card held.
    New,
    /// It is the card held already.
    Held,
}

/// Judges a group card presented by `device` (its signature already
/// verified by [`SignedCard::from_bytes`]).
pub fn judge(
    view: &View<'_>,
    device: &DeviceId,
    card: &SignedCard,
) -> Result<Taken, RecoveryRefused> {
    let c = card.card();
    if c.group != view.own {
        return Err(RecoveryRefused::OtherGroup);
    }
    if view
        .devices
        .get(device)
        .is_some_and(|d| d.revoked.is_some())
    {
        return Err(RecoveryRefused::Revoked);
    }
    if !c.stewards.contains(device) || !c.write_keys.contains(device) {
        return Err(RecoveryRefused::NotNamed);
    }
    match view.cards.get(&view.own) {
        Some(held) if held.bytes() == card.bytes() => Ok(Taken::Held),
        Some(held) if held.card().seq >= c.seq => Err(RecoveryRefused::Older),
        _ => Ok(Taken::New),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::card::GroupCard;
    use crate::trust::testing::{World, key, own};

    fn card(group_seed: u8, seq: u64, stewards: &[u8], writers: &[u8]) -> SignedCard {
        let gk = key(group_seed);
        GroupCard {
            group: gk.public(),
            seq,
            name: "Recovered Group".into(),
            area: None,
            kind: crate::card::GroupKind::LocalOrganisingGroup,
            write_keys: writers.iter().map(|s| key(*s).public()).collect(),
            stewards: stewards.iter().map(|s| key(*s).public()).collect(),
        }
        .sign(&gk)
        .expect("sign")
    }

    #[test]
    fn each_case() {
        let w = World::sample();
        let restored = key(77).public();
        let revoked = w.devices[3];
        let good = card(1, 5, &[77], &[10, 77]);
        assert_eq!(good.card().group, own());
        let v = w.view();
        assert_eq!(
            judge(&v, &restored, &good),
            Ok(Taken::New),
            "positive control"
        );
        assert_eq!(
            judge(&v, &restored, &card(30, 5, &[77], &[77])),
            Err(RecoveryRefused::OtherGroup)
        );
        assert_eq!(
            judge(&v, &restored, &card(1, 5, &[10], &[10, 77])),
            Err(RecoveryRefused::NotNamed),
            "a write key only is not a steward"
        );
        assert_eq!(
            judge(&v, &key(99).public(), &good),
            Err(RecoveryRefused::NotNamed),
            "a card naming another device"
        );
        assert_eq!(
            judge(&v, &revoked, &card(1, 5, &[13], &[13])),
            Err(RecoveryRefused::Revoked)
        );
        // With a card of the group held: only a newer one, or the same.
        let mut cards: BTreeMap<_, _> = v.cards.clone();
        cards.insert(own(), good.clone());
        let held = View { cards: &cards, ..v };
        assert_eq!(judge(&held, &restored, &good), Ok(Taken::Held));
        assert_eq!(
            judge(&held, &restored, &card(1, 5, &[77], &[77])),
            Err(RecoveryRefused::Older),
            "the same number, other content"
        );
        assert_eq!(
            judge(&held, &restored, &card(1, 4, &[77], &[77])),
            Err(RecoveryRefused::Older)
        );
        assert_eq!(
            judge(&held, &restored, &card(1, 6, &[77], &[77])),
            Ok(Taken::New)
        );
    }
}
