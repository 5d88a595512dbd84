//! Devices joining, groups linking and affiliating, and where peers are:
//! the exchanges outside a sync session.

use super::*;

impl Actor {
    pub(super) fn join(
        &mut self,
        device: DeviceId,
        req: JoinRequest,
        addrs: Vec<SocketAddr>,
    ) -> JoinReply {
        let result = self
            .group
            .redeem_invite(&req.token, &device, &req.label, now_secs(), today());
        let role = match result {
            Ok(Ok(role)) => role,
            Ok(Err(refused)) => return JoinReply::Refused(refused.to_string()),
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
        self.remember(device, Some(own), Vec::new(), false);
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

    pub(super) fn own_card_bytes(&self) -> Result<Vec<u8>, String> {
        self.cards
            .get(&self.group.profile().id)
            .map(|c| c.bytes().to_vec())
            .ok_or_else(|| "this node has no group card yet (start a steward device once)".into())
    }

    pub(super) fn link(
        &mut self,
        device: DeviceId,
        card: &[u8],
        addrs: Vec<SocketAddr>,
    ) -> Result<PeerRecord, String> {
        let card = SignedCard::from_bytes(card).map_err(|e| e.to_string())?;
        let g = card.card().group;
        if g == self.group.profile().id {
            return Err(
                "that node belongs to this group; use invite and join for its devices".into(),
            );
        }
        if !card.card().write_keys.contains(&device) {
            return Err("the linking device is not a steward or organiser of its group".into());
        }
        let (mut host, docs, _) = self.split();
        drop(docs);
        let new = host.keep_card(card);
        let rec = self.remember(device, Some(g), addrs, true);
        if new {
            self.after_cards(vec![g], 0);
        } else {
            self.refresh_admission();
        }
        Ok(rec)
    }

    /// Keeps an affiliation certificate sent by the linked national node.
    pub(super) fn affiliated(&mut self, device: DeviceId, record: &[u8]) -> Result<(), String> {
        let network = self
            .peers
            .get(&device)
            .filter(|p| p.linked)
            .and_then(|p| p.group)
            .ok_or("an affiliation must come from a linked national node")?;
        let is_national = self
            .cards
            .get(&network)
            .is_some_and(|c| c.card().kind.is_national());
        if !is_national {
            return Err("the sending node is not a national node".into());
        }
        let signed = self.group.keep_affiliation(record, &network)?;
        if self.network != Some(network) {
            self.network = Some(network);
            self.gossip_send(crate::net::gossip::GossipCmd::Join(network));
        }
        let bytes = signed.bytes().to_vec();
        if self.keep_record(KIND_AFFILIATION, &bytes)? {
            self.spread_records(vec![tagged(KIND_AFFILIATION, &bytes)], None);
        }
        tracing::info!(network = %network.fmt_short(), "affiliated");
        Ok(())
    }

    /// A device announced itself on the LAN: if it is one this node knows
    /// (a group device or a linked peer), remember where it is and dial it.
    pub(super) fn discovered(&mut self, device: DeviceId, addrs: Vec<SocketAddr>) {
        if device == self.me || self.peer_kind(&device).is_none() {
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
        let linked = known.as_ref().is_some_and(|p| p.linked);
        if known.as_ref().is_some_and(|p| p.addrs == addrs) {
            return;
        }
        self.remember(device, group, addrs, linked);
    }

    pub(super) fn remember(
        &mut self,
        device: DeviceId,
        group: Option<GroupId>,
        addrs: Vec<SocketAddr>,
        linked: bool,
    ) -> PeerRecord {
        let rec = PeerRecord {
            device,
            group,
            addrs,
            linked,
            last_seen: now_secs(),
        };
        if let Err(e) = peers::save(&self.group, &rec) {
            tracing::warn!("could not remember a peer: {e}");
        }
        let new = self.peers.insert(device, rec.clone()).is_none();
        if new {
            self.refresh_admission();
            let _ = self.dial.send(rec.clone());
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
                    last_seen: 0,
                });
            }
        }
        out.retain(|p| {
            self.devices
                .get(&p.device)
                .is_none_or(|d| d.revoked.is_none())
        });
        out
    }
}
