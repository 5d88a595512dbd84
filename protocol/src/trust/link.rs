//! Linking: what a node does with a request to link (see [`crate::link`]).
//!
//! A link needs a steward's consent on each side. The requester's side
//! consents by asking (its steward runs `peer add`); the responder's by a
//! one-time link code its steward gave out, by having asked first itself,
//! or afterwards by accepting the pending request (`peer accept`).
//!
//! | request | decision |
//! |---|---|
//! | from this group, or a device its card does not list as a writer | refused |
//! | from a revoked device of this group | refused |
//! | from a group already linked | accepted (its card is refreshed) |
//! | from a group this node asked to link with | accepted |
//! | with a valid link code | accepted |
//! | with a used, expired or unknown code | refused, naming why |
//! | otherwise | pending, for the steward; refused once [`MAX_PENDING`] wait |
//!
//! Nothing is accepted once [`MAX_LINKS`] groups are linked.

use super::View;
use crate::card::GroupCard;
use crate::keys::DeviceId;
use crate::link::CodeRefused;

/// The most groups a node links with (the national node links with every
/// group it affiliates).
pub const MAX_LINKS: usize = 2048;
/// The most requests waiting for a steward.
pub const MAX_PENDING: usize = 32;

/// A request to link, as the responder sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The device asking (authenticated by the connection).
    pub device: DeviceId,
    /// Its group's card (verified).
    pub card: &'a GroupCard,
    /// The code it presented, checked against the codes this node made
    /// (without using it yet): `None` if it presented none.
    pub code: Option<Result<(), CodeRefused>>,
}

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Link now (and use the code, if one made the difference).
    Accept {
        /// Whether the request's code is what consented (use it up).
        by_code: bool,
    },
    /// Keep it for this group's steward to accept or refuse.
    Pending,
    /// Refuse it.
    Refuse(LinkRefused),
}

/// Why a request to link was refused.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkRefused {
    /// The requester is this group.
    #[error("that node belongs to this group; use invite and join for its devices")]
    OwnGroup,
    /// The device is not a steward or organiser of the group it names.
    #[error("the linking device is not a steward or organiser of its group")]
    NotAWriter,
    /// A revoked device of this group.
    #[error("this device has been revoked")]
    Revoked,
    /// The code does not work.
    #[error(transparent)]
    Code(#[from] CodeRefused),
    /// Too many requests wait for the steward already.
    #[error("{0} link requests are already waiting for this group's steward; try again later")]
    TooManyPending(usize),
    /// Too many groups linked already.
    #[error("this node is linked with {0} groups, the most it links with")]
    TooManyLinks(usize),
}

/// Decides a request; `pending` is how many requests wait already.
pub fn decide(view: &View<'_>, req: &Request<'_>, pending: usize) -> Decision {
    let group = req.card.group;
    if group == view.own {
        return Decision::Refuse(LinkRefused::OwnGroup);
    }
    if view
        .devices
        .get(&req.device)
        .is_some_and(|d| d.revoked.is_some())
    {
        return Decision::Refuse(LinkRefused::Revoked);
    }
    if !req.card.write_keys.contains(&req.device) {
        return Decision::Refuse(LinkRefused::NotAWriter);
    }
    if view.links.is_linked(&group) {
        return Decision::Accept { by_code: false };
    }
    let full = view.links.linked.len() >= MAX_LINKS;
    let asked = view.links.requested.values().any(|g| *g == group);
    match req.code {
        _ if full && (asked || matches!(req.code, Some(Ok(())))) => {
            Decision::Refuse(LinkRefused::TooManyLinks(MAX_LINKS))
        }
        _ if asked => Decision::Accept { by_code: false },
        Some(Ok(())) => Decision::Accept { by_code: true },
        Some(Err(e)) => Decision::Refuse(LinkRefused::Code(e)),
        None if pending >= MAX_PENDING => Decision::Refuse(LinkRefused::TooManyPending(pending)),
        None => Decision::Pending,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::card::GroupKind;
    use crate::keys::GroupId;
    use crate::trust::testing::{World, key, world};

    fn card(group: GroupId, writers: &[DeviceId]) -> GroupCard {
        GroupCard {
            group,
            seq: 1,
            name: "x".into(),
            area: None,
            kind: GroupKind::LocalOrganisingGroup,
            write_keys: writers.to_vec(),
            stewards: writers.to_vec(),
        }
    }

    #[test]
    fn each_case() {
        let w = World::sample();
        let v = w.view();
        let stranger = key(99).public();
        let theirs = key(60).public();
        let c = card(theirs, &[stranger]);
        let req = |code| Request {
            device: stranger,
            card: &c,
            code,
        };
        assert_eq!(decide(&v, &req(None), 0), Decision::Pending);
        assert_eq!(
            decide(&v, &req(None), MAX_PENDING),
            Decision::Refuse(LinkRefused::TooManyPending(MAX_PENDING))
        );
        assert_eq!(
            decide(&v, &req(Some(Ok(()))), 0),
            Decision::Accept { by_code: true }
        );
        assert_eq!(
            decide(&v, &req(Some(Err(CodeRefused::Used))), 0),
            Decision::Refuse(LinkRefused::Code(CodeRefused::Used))
        );
        // Not a writer of the card it sends.
        let other = card(theirs, &[key(98).public()]);
        assert_eq!(
            decide(
                &v,
                &Request {
                    card: &other,
                    ..req(Some(Ok(())))
                },
                0
            ),
            Decision::Refuse(LinkRefused::NotAWriter)
        );
        // This group's own card.
        let own = card(v.own, &[stranger]);
        assert_eq!(
            decide(
                &v,
                &Request {
                    card: &own,
                    ..req(Some(Ok(())))
                },
                0
            ),
            Decision::Refuse(LinkRefused::OwnGroup)
        );
        // Already linked (group 30, writer 40), or asked first (group 31).
        let linked = card(key(30).public(), &[key(40).public()]);
        assert_eq!(
            decide(
                &v,
                &Request {
                    device: key(40).public(),
                    card: &linked,
                    code: None
                },
                0
            ),
            Decision::Accept { by_code: false }
        );
        let asked = card(key(31).public(), &[key(50).public()]);
        assert_eq!(
            decide(
                &v,
                &Request {
                    device: key(50).public(),
                    card: &asked,
                    code: None
                },
                0
            ),
            Decision::Accept { by_code: false }
        );
    }

    proptest! {
        /// A link is made only with consent: accepted only when already
        /// linked, asked for first, or by a valid code; never for this
        /// group's own card or a device the card does not list.
        #[test]
        fn accepted_only_with_consent(
            w in world(), device in 10u8..60, group in 30u8..40, listed in any::<bool>(),
            code in prop_oneof![Just(None), Just(Some(Ok(()))), Just(Some(Err(CodeRefused::Expired)))],
            pending in 0usize..40,
        ) {
            let v = w.view();
            let device = key(device).public();
            let group = if group == 39 { v.own } else { key(group).public() };
            let writers = if listed { vec![device] } else { vec![] };
            let c = card(group, &writers);
            let d = decide(&v, &Request { device, card: &c, code }, pending);
            let asked = v.links.requested.values().any(|g| *g == group);
            match d {
                Decision::Accept { by_code } => {
                    prop_assert!(group != v.own && listed);
                    prop_assert!(v.links.is_linked(&group) || asked || code == Some(Ok(())));
                    prop_assert_eq!(by_code, !v.links.is_linked(&group) && !asked);
                }
                Decision::Pending => {
                    prop_assert!(code.is_none() && pending < MAX_PENDING && !asked);
                }
                Decision::Refuse(_) => {}
            }
        }
    }
}
