//! Devices joining, groups linking and affiliating, and where peers are:
//! the exchanges outside a sync session.

use groundwork_protocol::link::LinkMessage;
use groundwork_protocol::trust::link::{Decision, LinkRefused, Request, decide};

use super::*;
use crate::group::WaitingRequest;

/// How a remembered peer is linked with this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PeerLink {
    /// Not a link: a device of this group, or one seen on the LAN.
    None,
    /// Linked (both stewards consented).
    Linked,
    /// Asked to link; its steward has not answered.
    Requested,
}

impl PeerLink {
    fn of(p: &PeerRecord) -> PeerLink {
        if p.linked {
            PeerLink::Linked
        } else if p.requested {
            PeerLink::Requested
        } else {
            PeerLink::None
        }
    }
}

impl Actor {
    pub(super) fn join(
        &mut self,
        device: DeviceId,
        req: JoinRequest,
        addrs: Vec<SocketAddr>,
    ) -> JoinReply {
        let result = self.group.redeem_invite(
            &req.token,
            &device,
            &req.label,
            self.group.clock().secs(),
            self.group.clock().today(),
        );
        let role = match result {
            Ok(Ok(role)) => role,
            Ok(Err(refused)) => return JoinReply::Refused(refused.to_string()),
            Err(crate::group::GroupError::Text(e)) => return JoinReply::Refused(e.to_string()),
            Err(e) => {
                tracing::warn!("join failed: {e}");
                return JoinReply::Refused(
                    "the inviting device could not add you; try again".into(),
                );
            }
        };
        self.after_local_edit();
        let own = self.group.profile().id;
        // Not the join connection's address: that endpoint closes once the
        // joiner has its answer. Its node's address is learned when it
        // connects to sync.
        let _ = addrs;
        self.remember(device, Some(own), Vec::new(), PeerLink::None);
        let group_secret = if role == Role::Steward {
            match self.group.group_key() {
                Ok(Some(k)) => Some(k.to_seed()),
                _ => None,
            }
        } else {
            None
        };
        let p = self.group.profile();
        tracing::info!(device = %device.fmt_short(), %role, "device joined");
        JoinReply::Accepted(Box::new(Joined {
            group: p.id,
            name: p.name.clone(),
            area: p.area.clone(),
            kind: p.kind,
            founded: p.founded,
            role,
            group_secret,
        }))
    }

    /// A device holding the group key presented the group's card naming
    /// it a steward: the trust rule decides (`trust::recovery`); a card
    /// taken replaces the group's card here (durably), is relayed, and
    /// admits the device.
    pub(super) fn recover(
        &mut self,
        device: DeviceId,
        card: groundwork_protocol::card::SignedCard,
    ) -> JoinReply {
        use groundwork_protocol::trust::recovery::{Taken, judge};
        match judge(&self.view(), &device, &card) {
            Err(why) => {
                tracing::info!(device = %device.fmt_short(), "refused a recovery: {why}");
                JoinReply::Refused(why.to_string())
            }
            Ok(Taken::Held) => JoinReply::Recovered,
            Ok(Taken::New) => {
                let own = self.group.profile().id;
                if let Err(e) = self.group.store().put_card(own.as_bytes(), card.bytes()) {
                    tracing::warn!("could not keep a recovery's card: {e}");
                    return JoinReply::Refused(
                        "this device could not keep the card; try again".into(),
                    );
                }
                self.cards.insert(own, card);
                tracing::info!(device = %device.fmt_short(), "a steward recovered the group with its card");
                self.after_cards(vec![own], 0);
                JoinReply::Recovered
            }
        }
    }

    pub(super) fn own_card_bytes(&self) -> Result<Vec<u8>, String> {
        self.cards
            .get(&self.group.profile().id)
            .map(|c| c.bytes().to_vec())
            .ok_or_else(|| "this node has no group card yet (start a steward device once)".into())
    }

    /// A request to link arrived (this node answers): the trust rule
    /// decides (`trust::link::decide`); this node keeps what it decided.
    pub(super) fn link_request(
        &mut self,
        device: DeviceId,
        card: &[u8],
        code: Option<[u8; 16]>,
        addrs: Vec<SocketAddr>,
    ) -> LinkMessage {
        let refuse = |why: String| LinkMessage::Refused(why);
        let card = match SignedCard::from_bytes(card) {
            Ok(c) => c,
            Err(e) => return refuse(format!("bad group card: {e}")),
        };
        let own = match self.own_card_bytes() {
            Ok(c) => c,
            Err(e) => return refuse(e),
        };
        let now = self.group.clock().secs();
        let waiting = self.group.waiting_requests(now).map_or(0, |w| w.len());
        let decision = decide(
            &self.view(),
            &Request {
                device,
                card: card.card(),
                code: code.map(|c| self.group.check_link_code(&c, now)),
            },
            waiting,
        );
        let g = card.card().group;
        match decision {
            Decision::Accept { by_code } => {
                if by_code
                    && let Some(c) = code
                    && let Err(e) = self.group.redeem_link_code(&c, now)
                {
                    tracing::warn!("could not use a link code: {e}");
                    return refuse("this node could not record the link; try again".into());
                }
                self.keep_linked_card(card);
                self.remember(device, Some(g), addrs, PeerLink::Linked);
                self.link_made(device);
                tracing::info!(group = %g.fmt_short(), "linked");
                LinkMessage::Accepted(own)
            }
            Decision::Pending => {
                let request = WaitingRequest {
                    device,
                    addrs,
                    card: data_encoding::HEXLOWER.encode(card.bytes()),
                    at: now,
                };
                if let Err(e) = self.group.keep_request(&g, &request) {
                    tracing::warn!("could not keep a link request: {e}");
                    return refuse("this node could not record the request; try again".into());
                }
                let _ = self.events.send(NodeEvent::RecordReceived {
                    group: g,
                    what: "link request".into(),
                });
                tracing::info!(group = %g.fmt_short(), "a request to link waits for the steward");
                LinkMessage::Pending(own)
            }
            Decision::Refuse(why) => refuse(why.to_string()),
        }
    }

    /// The node this one asked to link with answered: linked, or waiting
    /// for its steward. Its card is kept either way (this node asked).
    pub(super) fn link_answered(
        &mut self,
        device: DeviceId,
        answer: LinkMessage,
        addrs: Vec<SocketAddr>,
    ) -> Result<PeerRecord, ActorError> {
        let (card, state) = match answer {
            LinkMessage::Accepted(c) => (c, PeerLink::Linked),
            LinkMessage::Pending(c) => (c, PeerLink::Requested),
            LinkMessage::Refused(why) => return Err(ActorError::LinkRefused(why)),
            _ => return Err(ActorError::Unexpected),
        };
        let card = SignedCard::from_bytes(&card).map_err(ActorError::BadCard)?;
        let g = card.card().group;
        if g == self.group.profile().id {
            return Err(LinkRefused::OwnGroup.into());
        }
        if !card.card().write_keys.contains(&device) {
            return Err(LinkRefused::NotAWriter.into());
        }
        self.keep_linked_card(card);
        let rec = self.remember(device, Some(g), addrs, state);
        if state == PeerLink::Linked {
            self.link_made(device);
        }
        Ok(rec)
    }

    /// Keeps the card of a group this node links with, or asked to: both
    /// make the group known (`trust::records`), whatever the directory says.
    fn keep_linked_card(&mut self, card: SignedCard) {
        let g = card.card().group;
        let (mut host, docs, _) = self.split();
        drop(docs);
        let new = host.keep_card(card);
        if new {
            self.after_cards(vec![g], 0);
        }
    }

    /// A link with `device`'s group is made (both stewards consented):
    /// remember it, and on the national node, affiliate the group (every
    /// link of the national node is an affiliation).
    pub(super) fn link_made(&mut self, device: DeviceId) {
        let Some(mut rec) = self.peers.get(&device).cloned() else {
            return;
        };
        if !rec.linked {
            rec.linked = true;
            rec.requested = false;
            self.remember(rec.device, rec.group, rec.addrs.clone(), PeerLink::Linked);
        }
        let (Some(g), true) = (rec.group, self.view().is_national()) else {
            return;
        };
        if self.records.affiliations.get(&g).is_some() {
            return;
        }
        match self.group.sign_affiliation(g, rand::random()) {
            Ok(signed) => {
                if let Err(e) = self.offer_record(KIND_AFFILIATION, signed.bytes()) {
                    tracing::warn!("could not keep an affiliation: {e}");
                } else {
                    tracing::info!(group = %g.fmt_short(), "affiliated");
                }
            }
            Err(e) => tracing::warn!("could not affiliate a group: {e}"),
        }
    }

    /// The affiliation this node holds for `group`, encoded (the national
    /// node sends it inside the link exchange).
    pub fn affiliation_of(&self, group: &GroupId) -> Option<Vec<u8>> {
        self.records
            .affiliations
            .get(group)
            .map(|s| s.bytes().to_vec())
    }

    /// A national node sent this group an affiliation inside the link
    /// exchange: kept as a record like any other (the trust rule decides).
    pub(super) fn affiliated(&mut self, record: &[u8]) -> Result<(), ActorError> {
        let kept = self.keep_records(vec![tagged(KIND_AFFILIATION, record)], true, false);
        if let Some(e) = kept.forged {
            return Err(e);
        }
        let own = self.group.profile().id;
        let ours = Signed::<Affiliation>::from_bytes(record).is_ok_and(|a| a.record().group == own);
        match (kept.fresh.is_empty(), kept.ignored) {
            (_, _) if !ours => Err(ActorError::OtherGroup),
            (true, Some(why)) => Err(ActorError::Ignored(why)),
            _ => {
                self.spread_records(kept.fresh, None);
                Ok(())
            }
        }
    }

    /// The steward accepts a waiting request (by group or device id, or a
    /// start of either): linked now, and the requester is dialed (it
    /// connects back as well).
    pub fn accept_request(&mut self, id: &str) -> Result<PeerRecord, GroupError> {
        self.group.require_steward()?;
        let (g, request, card) = self.group.find_request(id, self.group.clock().secs())?;
        self.group.drop_request(&g)?;
        self.keep_linked_card(card);
        let rec = self.remember(request.device, Some(g), request.addrs, PeerLink::Linked);
        self.link_made(request.device);
        let _ = self.dial.send(rec.clone());
        Ok(rec)
    }

    /// The steward refuses a waiting request: it is forgotten.
    pub fn refuse_request(&mut self, id: &str) -> Result<(), GroupError> {
        self.group.require_steward()?;
        let (g, _, _) = self.group.find_request(id, self.group.clock().secs())?;
        self.group.drop_request(&g)
    }

    /// A device announced itself on the LAN: if it is one this node knows
    /// (a group device or a linked peer), remember where it is and dial it.
    pub(super) fn discovered(&mut self, device: DeviceId, addrs: Vec<SocketAddr>) {
        if device == self.me || peer_of(&self.view(), &device).is_none() {
            return;
        }
        let known = self.peers.contains_key(&device);
        self.saw(device, addrs);
        if known && let Some(rec) = self.peers.get(&device) {
            // New records are dialed by `remember`; a known one may have
            // moved, so nudge the dialer (it ignores devices it already dials).
            let _ = self.dial.send(rec.clone());
        }
    }

    pub(super) fn saw(&mut self, device: DeviceId, addrs: Vec<SocketAddr>) {
        let known = self.peers.get(&device).cloned();
        let group = known
            .as_ref()
            .and_then(|p| p.group)
            .or_else(|| self.devices.get(&device).map(|_| self.group.profile().id));
        let state = known.as_ref().map_or(PeerLink::None, PeerLink::of);
        if known.as_ref().is_some_and(|p| p.addrs == addrs) {
            return;
        }
        self.remember(device, group, addrs, state);
    }

    /// Durably remembers a peer; a new one (or one whose link changed)
    /// changes who is admitted, and is dialed unless this node only asked
    /// to link with it.
    pub(super) fn remember(
        &mut self,
        device: DeviceId,
        group: Option<GroupId>,
        addrs: Vec<SocketAddr>,
        link: PeerLink,
    ) -> PeerRecord {
        let rec = PeerRecord {
            device,
            group,
            addrs,
            linked: link == PeerLink::Linked,
            requested: link == PeerLink::Requested,
            last_seen: self.group.clock().secs(),
        };
        if let Err(e) = peers::save(&self.group, &rec) {
            tracing::warn!("could not remember a peer: {e}");
        }
        let before = self.peers.insert(device, rec.clone());
        let changed = before
            .as_ref()
            .is_none_or(|b| b.linked != rec.linked || b.requested != rec.requested);
        if changed {
            self.refresh_admission();
            if !rec.requested {
                let _ = self.dial.send(rec.clone());
            }
        }
        rec
    }

    /// The peers to dial at start: the group's other devices and linked
    /// nodes, with the addresses last seen.
    pub fn dial_targets(&self) -> Vec<PeerRecord> {
        let mut out: Vec<PeerRecord> = self.peers.values().cloned().collect();
        for (key, entry) in &self.devices.devices {
            if entry.revoked.is_some() {
                continue;
            }
            if let Ok(id) = key.parse::<DeviceId>()
                && id != self.me
                && !self.peers.contains_key(&id)
            {
                out.push(PeerRecord {
                    device: id,
                    group: Some(self.group.profile().id),
                    addrs: Vec::new(),
                    linked: false,
                    requested: false,
                    last_seen: 0,
                });
            }
        }
        // Revoked devices are never dialed, nor nodes only asked to link.
        out.retain(|p| {
            !p.requested
                && self
                    .devices
                    .get(&p.device)
                    .is_none_or(|d| d.revoked.is_none())
        });
        out
    }
}
