//! Network records on a running node: keeping, relaying and gossiping
//! cards and records, and publishing this group's membership summary.

use super::*;

impl Actor {
    /// The network records held.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// On a steward device: publishes a new membership summary if the
    /// figures changed since the last one (counts only; see
    /// `MembershipSummary::from_documents`).
    pub(super) fn publish_summary(&mut self) {
        self.summary_due = false;
        let Ok(Some(key)) = self.group.group_key() else {
            return;
        };
        if self.group.profile().kind == crate::group::GroupKind::National {
            return;
        }
        let (Ok(roster), Ok(meetups), Ok(plan)) = (
            self.group.read::<groundwork_protocol::schema::Roster>(),
            self.group.read::<groundwork_protocol::schema::Meetups>(),
            self.group.read::<groundwork_protocol::schema::Plan>(),
        ) else {
            return;
        };
        let own = self.group.profile().id;
        let fresh = MembershipSummary::from_documents(own, &roster, &meetups, &plan, today());
        let held = self.records.summaries.get(&own);
        if held.is_some_and(|h| h.record().same_figures(&fresh)) {
            return;
        }
        let seq = held.map_or(0, |h| h.record().seq + 1).max(now_secs());
        let signed = match Signed::sign(MembershipSummary { seq, ..fresh }, &key) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("could not sign the summary: {e}");
                return;
            }
        };
        let bytes = signed.bytes().to_vec();
        if let Err(e) = self.keep_record(KIND_SUMMARY, &bytes) {
            tracing::warn!("could not keep the summary: {e}");
            return;
        }
        self.spread_records(vec![tagged(KIND_SUMMARY, &bytes)], None);
    }

    /// Keeps a record made on this node (an affiliation the national node
    /// signed) and sends it to every open session.
    pub fn offer_record(&mut self, kind: u8, bytes: &[u8]) -> Result<(), String> {
        if self.keep_record(kind, bytes)? {
            self.spread_records(vec![tagged(kind, bytes)], None);
        }
        Ok(())
    }

    /// Verifies, keeps (durably) and reports a record if it is newer.
    /// `Ok(false)`: nothing done, because it is the record already held, or
    /// a valid one not used (stale, a replayed sequence number, another
    /// network's affiliation; logged). `Err`: the record is forged or
    /// malformed, and whoever sent it is at fault.
    pub(super) fn keep_record(&mut self, kind: u8, bytes: &[u8]) -> Result<bool, String> {
        let (fresh, forged) = self.keep_records(vec![tagged(kind, bytes)], true);
        match forged {
            Some(e) => Err(e),
            None => Ok(!fresh.is_empty()),
        }
    }

    /// [`Actor::keep_record`] for many records (tagged with their kind),
    /// stored in one transaction: a peer's first `Records` message holds
    /// the whole network's. Returns the records kept (to relay) and the
    /// first forged one's reason; the valid ones are kept either way.
    ///
    /// `durable` is false for records from peers: a crash may lose them,
    /// and the next session with any peer brings them back.
    pub(super) fn keep_records(
        &mut self,
        batch: Vec<Vec<u8>>,
        durable: bool,
    ) -> (Vec<Vec<u8>>, Option<String>) {
        let mut kept: Vec<(u8, GroupId, Vec<u8>, Option<i64>)> = Vec::new();
        let mut forged = None;
        for r in batch {
            let Some((&kind, bytes)) = r.split_first() else {
                continue;
            };
            match self.records.offer(kind, bytes, self.network) {
                Ok(Some(subject)) => {
                    let day = (kind == KIND_SUMMARY)
                        .then(|| self.records.summaries.get(&subject))
                        .flatten()
                        .map(|s| s.record().as_of.unix_days());
                    kept.push((kind, subject, r, day));
                }
                Ok(None) => {}
                Err(e) if !e.is_forged() => {
                    let subject = record_subject(kind, bytes);
                    tracing::info!(
                        group = %subject.map_or_else(|| "?".into(), |g| g.fmt_short()),
                        "ignored a {}: {e}",
                        record_name(kind)
                    );
                }
                Err(e) => {
                    forged.get_or_insert(format!("{}: {e}", record_name(kind)));
                }
            }
        }
        if kept.is_empty() {
            return (Vec::new(), forged);
        }
        let rows: Vec<crate::store::RecordRow<'_>> = kept
            .iter()
            .map(|(kind, g, r, day)| crate::store::RecordRow {
                kind: *kind,
                subject: *g.as_bytes(),
                bytes: &r[1..],
                history_day: *day,
            })
            .collect();
        self.unflushed |= !durable;
        if let Err(e) = self.group.store().put_records(&rows, durable) {
            // Not kept: forget them too, so a later copy is taken again.
            tracing::warn!("could not store network records: {e}");
            self.records = load_records(&self.group, self.network);
            return (Vec::new(), forged);
        }
        for (kind, subject, tagged, _) in &kept {
            let _ = self.events.send(NodeEvent::RecordReceived {
                group: *subject,
                what: record_name(*kind).into(),
            });
            // Gossip drops what it has already seen, so a record that came
            // by gossip going out again costs nothing.
            self.gossip_send(crate::net::gossip::GossipCmd::Broadcast(tagged.clone()));
        }
        (kept.into_iter().map(|(_, _, r, _)| r).collect(), forged)
    }

    /// Sends records to every open session but `except`.
    pub(super) fn spread_records(&mut self, records: Vec<Vec<u8>>, except: Option<u64>) {
        if records.is_empty() {
            return;
        }
        let ids: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(id, l)| Some(**id) != except && l.session.is_open())
            .map(|(id, _)| *id)
            .collect();
        for s in ids {
            self.send(s, Message::Records(records.clone()));
        }
    }

    /// Makes the records and cards kept without an fsync durable: once the
    /// node is idle after a burst of them, and when it stops.
    pub(super) fn flush(&mut self) {
        if !std::mem::take(&mut self.unflushed) {
            return;
        }
        if let Err(e) = self.group.store().flush() {
            tracing::warn!("could not flush network records to disk: {e}");
        }
    }

    /// Where gossip commands go (the daemon sets it). Joins the network's
    /// topic if this node belongs to one, with every remembered device as
    /// a way in.
    pub fn set_gossip(&mut self, tx: mpsc::UnboundedSender<crate::net::gossip::GossipCmd>) {
        use crate::net::gossip::GossipCmd;
        for p in self.peers.values() {
            let _ = tx.send(GossipCmd::Peer(p.device, p.addrs.clone()));
        }
        if let Some(n) = self.network {
            let _ = tx.send(GossipCmd::Join(n));
        }
        self.gossip = Some(tx);
    }

    /// The node's part in its network's gossip, for `status`.
    pub fn gossip_status(&self) -> Option<groundwork_protocol::control::GossipStatus> {
        self.gossip.as_ref()?;
        Some(groundwork_protocol::control::GossipStatus {
            network: self.network?,
            neighbours: self.gossip_neighbours.len() as u64,
            records_received: self.gossip_received,
        })
    }

    pub(super) fn gossip_send(&self, cmd: crate::net::gossip::GossipCmd) {
        if let Some(tx) = &self.gossip {
            let _ = tx.send(cmd);
        }
    }

    /// A card or record arrived by gossip: checked like one from a session.
    /// There is no session to end over a bad one; it is logged and dropped.
    pub(super) fn gossiped(&mut self, from: DeviceId, bytes: Vec<u8>) {
        let Some(&kind) = bytes.first() else {
            return;
        };
        if kind == KIND_CARD {
            let (mut host, docs, _) = self.split();
            // Outside any session: no session's documents to extend.
            host.scope = Scope::Only(BTreeSet::new());
            let r = host.receive_cards(vec![bytes[1..].to_vec()]);
            let new_cards = std::mem::take(&mut host.new_cards);
            drop((host, docs));
            match r {
                Ok(_) => {
                    self.gossip_received += 1;
                    if !new_cards.is_empty() {
                        self.after_cards(new_cards, 0);
                    }
                }
                Err(e) => {
                    tracing::warn!(from = %from.fmt_short(), "refused a gossiped group card: {e}")
                }
            }
            return;
        }
        let (fresh, forged) = self.keep_records(vec![bytes], false);
        match forged {
            Some(e) => tracing::warn!(from = %from.fmt_short(), "refused a gossiped record: {e}"),
            None => self.gossip_received += 1,
        }
        self.spread_records(fresh, None);
    }
}

/// The records in the store (each verified again).
pub(super) fn load_records(group: &Group, network: Option<GroupId>) -> Records {
    let mut records = Records::default();
    match group.store().records() {
        Ok(all) => {
            for (kind, (_, bytes)) in all {
                if let Err(e) = records.offer(kind, &bytes, network) {
                    tracing::warn!("a stored {} is not used: {e}", record_name(kind));
                }
            }
        }
        Err(e) => tracing::warn!("could not read the network records: {e}"),
    }
    records
}

/// The network a group belongs to: its own id if it is the national body,
/// else the network of its affiliation.
pub(super) fn own_network(group: &Group) -> Result<Option<GroupId>, GroupError> {
    if group.profile().kind == crate::group::GroupKind::National {
        return Ok(Some(group.profile().id));
    }
    Ok(group.affiliation()?.map(|a| a.record().network))
}

/// The tag of a group card in a gossip message (records use their kinds).
pub(super) const KIND_CARD: u8 = 0;

/// A record with its kind byte in front, as `Records` carries it.
pub(super) fn tagged(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(kind);
    v.extend_from_slice(bytes);
    v
}

/// The network records a node holds: the newest affiliation and summary
/// per group.
#[derive(Debug, Default)]
pub struct Records {
    /// Affiliations, by group.
    pub affiliations: Latest<Affiliation>,
    /// Membership summaries, by group.
    pub summaries: Latest<MembershipSummary>,
}

/// What a record kind is called in logs and events.
pub(super) fn record_name(kind: u8) -> &'static str {
    match kind {
        KIND_AFFILIATION => "affiliation",
        KIND_SUMMARY => "summary",
        _ => "record",
    }
}

/// The group a (verified) record is about, for a log line.
pub(super) fn record_subject(kind: u8, bytes: &[u8]) -> Option<GroupId> {
    match kind {
        KIND_AFFILIATION => Signed::<Affiliation>::from_bytes(bytes)
            .ok()
            .map(|s| s.record().group),
        KIND_SUMMARY => Signed::<MembershipSummary>::from_bytes(bytes)
            .ok()
            .map(|s| s.record().group),
        _ => None,
    }
}

impl Records {
    /// Verifies and keeps a record if it is newer; returns its subject then.
    /// Affiliations count only from `network` (this node's own): anyone can
    /// make a key and call it a network.
    pub(super) fn offer(
        &mut self,
        kind: u8,
        bytes: &[u8],
        network: Option<GroupId>,
    ) -> Result<Option<GroupId>, RecordRejected> {
        let kept = match kind {
            KIND_AFFILIATION => {
                if self.affiliations.holds(bytes) {
                    return Ok(None);
                }
                let a = Signed::<Affiliation>::from_bytes(bytes)?;
                if Some(a.record().network) != network {
                    return Err(RecordRejected::OtherNetwork);
                }
                let s = a.record().group;
                self.affiliations.offer_signed(a)?.then_some(s)
            }
            KIND_SUMMARY => {
                if self.summaries.holds(bytes) {
                    return Ok(None);
                }
                let a = Signed::<MembershipSummary>::from_bytes(bytes)?;
                let s = a.record().group;
                self.summaries.offer_signed(a)?.then_some(s)
            }
            _ => return Err(RecordRejected::Malformed),
        };
        Ok(kept)
    }

    /// Every record, tagged with its kind.
    pub(super) fn tagged(&self) -> Vec<Vec<u8>> {
        self.affiliations
            .iter()
            .map(|s| tagged(KIND_AFFILIATION, s.bytes()))
            .chain(
                self.summaries
                    .iter()
                    .map(|s| tagged(KIND_SUMMARY, s.bytes())),
            )
            .collect()
    }
}
