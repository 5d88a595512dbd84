//! Network records on a running node: keeping, relaying and gossiping
//! cards and records, and publishing this group's membership summary.

use super::*;

impl Actor {
    /// The network records held.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// On a steward device, once the summary is counted (see
    /// [`Actor::start_summary`]): publishes it if the figures changed
    /// since the last one (counts only; see `Exact::from_documents`).
    pub(super) fn summary_counted(
        &mut self,
        counted: Result<MembershipSummary, crate::group::GroupError>,
    ) {
        self.summary.running = false;
        let fresh = match counted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("could not count the membership summary: {e}");
                return;
            }
        };
        let Ok(Some(key)) = self.group.group_key() else {
            return;
        };
        let own = self.group.profile().id;
        let held = self.records.summaries.get(&own).map(|h| h.record());
        let Some(next) = fresh.publish_after(held, rand::random()) else {
            return;
        };
        let signed = match Signed::sign(next, &key) {
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
    pub fn offer_record(&mut self, kind: u8, bytes: &[u8]) -> Result<(), ActorError> {
        if self.keep_record(kind, bytes)? {
            self.spread_records(vec![tagged(kind, bytes)], None);
        }
        Ok(())
    }

    /// Verifies, keeps (durably) and reports a record if the trust rule
    /// accepts it and it is newer. `Ok(true)`: kept. `Ok(false)`: nothing
    /// done, because it is the record already held, or a valid one not used
    /// (stale, a replayed sequence number, about a group nobody here knows,
    /// another network's affiliation: see [`Kept::ignored`]). `Err`: the
    /// record is forged or malformed, and whoever sent it is at fault.
    pub(super) fn keep_record(&mut self, kind: u8, bytes: &[u8]) -> Result<bool, ActorError> {
        let kept = self.keep_records(vec![tagged(kind, bytes)], true, false);
        match kept.forged {
            Some(e) => Err(e),
            None => Ok(!kept.fresh.is_empty()),
        }
    }

    /// [`Actor::keep_record`] for many records (tagged with their kind),
    /// stored in one transaction: a peer's first `Records` message holds
    /// the whole network's. Affiliations are judged first, since they
    /// decide which groups the directory lists. The valid ones are kept
    /// whatever else the batch holds.
    ///
    /// `durable` is false for records from peers: a crash may lose them,
    /// and the next session with any peer brings them back.
    ///
    /// `vouched`: the batch came from a steward or organiser device of this
    /// group, whose group's links this device knows (see `trust::records`).
    pub(super) fn keep_records(
        &mut self,
        mut batch: Vec<Vec<u8>>,
        durable: bool,
        vouched: bool,
    ) -> Kept {
        batch.sort_by_key(|r| r.first().copied());
        let mut kept: Vec<(u8, GroupId, Vec<u8>)> = Vec::new();
        let mut out = Kept::default();
        // A record refused because its group or network is not known yet
        // may become known by another in the batch (a linked group's
        // affiliation makes its network trusted): such records get another
        // pass while passes keep something.
        let mut passes = 0;
        while !batch.is_empty() && passes < 4 {
            passes += 1;
            let before = kept.len();
            let mut again = Vec::new();
            for r in std::mem::take(&mut batch) {
                match self.offer_one(&r, vouched) {
                    Ok(Some((kind, subject))) => kept.push((kind, subject, r)),
                    Ok(None) => {}
                    Err(e)
                        if matches!(
                            e,
                            RecordRejected::OtherNetwork | RecordRejected::UnknownGroup
                        ) =>
                    {
                        again.push((r, e));
                    }
                    Err(e) => out.note(&r, e),
                }
            }
            if kept.len() == before {
                for (r, e) in again {
                    out.note(&r, e);
                    self.park_record(r);
                }
                break;
            }
            batch = again.into_iter().map(|(r, _)| r).collect();
        }
        if kept.is_empty() {
            return out;
        }
        let rows: Vec<crate::store::RecordRow<'_>> = kept
            .iter()
            // Only the newest record per group is kept: no history of
            // other groups' summaries (nothing reads one, and a day-by-day
            // series of a group's figures is what differencing needs).
            .map(|(kind, g, r)| crate::store::RecordRow {
                kind: *kind,
                subject: *g.as_bytes(),
                bytes: &r[1..],
                history_day: None,
            })
            .collect();
        self.unflushed |= !durable;
        if let Err(e) = self.group.store().put_records(&rows, durable) {
            // Not kept: forget them too, so a later copy is taken again.
            tracing::warn!("could not store network records: {e}");
            self.records = load_records(&self.group);
            return Kept {
                fresh: Vec::new(),
                ..out
            };
        }
        let own = self.group.profile().id;
        let affiliations = kept.iter().any(|(k, _, _)| *k == KIND_AFFILIATION);
        for (kind, subject, tagged) in &kept {
            if *kind == KIND_AFFILIATION && *subject == own {
                self.adopt_affiliation();
            }
            let _ = self.events.send(NodeEvent::RecordReceived {
                group: *subject,
                what: record_name(*kind).into(),
            });
            // Gossip drops what it has already seen, so a record that came
            // by gossip going out again costs nothing.
            self.gossip_send(GossipCmd::Broadcast(tagged.clone()));
        }
        out.fresh = kept.into_iter().map(|(_, _, r)| r).collect();
        if affiliations {
            self.unpark_cards();
            self.unpark_records();
        }
        out
    }

    /// Keeps a valid record about a group not known yet, for a while.
    fn park_record(&mut self, tagged: Vec<u8>) {
        let Some((&kind, bytes)) = tagged.split_first() else {
            return;
        };
        let Some(subject) = record_subject(kind, bytes) else {
            return;
        };
        let key = (kind, subject);
        if self.parked_records.len() >= MAX_PARKED_RECORDS
            && !self.parked_records.contains_key(&key)
        {
            self.parked_records.pop_first();
        }
        self.parked_records.insert(key, tagged);
    }

    /// Affiliations arrived: parked records are offered again (those still
    /// about unknown groups are parked again).
    fn unpark_records(&mut self) {
        if self.parked_records.is_empty() {
            return;
        }
        let batch: Vec<Vec<u8>> = std::mem::take(&mut self.parked_records)
            .into_values()
            .collect();
        let kept = self.keep_records(batch, false, false);
        self.spread_records(kept.fresh, None);
    }

    /// Keeps valid cards of groups not known yet, for a while (the oldest
    /// give way once [`MAX_PARKED_CARDS`] wait).
    pub(super) fn park_cards(&mut self, cards: Vec<SignedCard>) {
        for c in cards {
            let g = c.card().group;
            if self.parked_cards.len() >= MAX_PARKED_CARDS && !self.parked_cards.contains_key(&g) {
                self.parked_cards.pop_first();
            }
            self.parked_cards.insert(g, c);
        }
    }

    /// Affiliations arrived: parked cards of groups now known are offered
    /// again, as if a peer had just sent them.
    fn unpark_cards(&mut self) {
        if self.parked_cards.is_empty() {
            return;
        }
        let cards: Vec<Vec<u8>> = std::mem::take(&mut self.parked_cards)
            .into_values()
            .map(|c| c.bytes().to_vec())
            .collect();
        let (mut host, docs, _) = self.split();
        host.scope = Scope::Only(BTreeSet::new());
        let _ = host.receive_cards(cards);
        let new_cards = std::mem::take(&mut host.new_cards);
        let cards_updated = std::mem::take(&mut host.cards_updated);
        let parked = std::mem::take(&mut host.parked);
        drop((host, docs));
        self.park_cards(parked);
        if !new_cards.is_empty() {
            self.after_cards(new_cards, 0);
        } else if cards_updated {
            self.refresh_admission();
        }
    }

    /// Judges one tagged record with the trust rules and keeps it in
    /// memory if it is newer: its kind and subject then.
    fn offer_one(
        &mut self,
        r: &[u8],
        vouched: bool,
    ) -> Result<Option<(u8, GroupId)>, RecordRejected> {
        let Some((&kind, bytes)) = r.split_first() else {
            return Err(RecordRejected::Truncated);
        };
        let Actor {
            records,
            devices,
            cards,
            links,
            me,
            group,
            inviter,
            network,
            ..
        } = self;
        let view = View {
            me: *me,
            own: group.profile().id,
            own_kind: group.profile().kind,
            devices,
            cards,
            links,
            inviter: *inviter,
        };
        Ok(records
            .offer(
                kind,
                bytes,
                Some((&view, *network, vouched, group.clock().today())),
            )?
            .map(|s| (kind, s)))
    }

    /// This group's own affiliation was just kept: it belongs to that
    /// network now (stored with the profile, and its gossip topic joined).
    fn adopt_affiliation(&mut self) {
        let own = self.group.profile().id;
        let Some(signed) = self.records.affiliations.get(&own).cloned() else {
            return;
        };
        if let Err(e) = self.group.store_affiliation(&signed) {
            tracing::warn!("could not keep the affiliation: {e}");
            return;
        }
        let network = signed.record().network;
        if self.network != Some(network) {
            self.network = Some(network);
            self.gossip_send(GossipCmd::Join(network));
            tracing::info!(network = %network.fmt_short(), "affiliated");
        }
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
            for m in Message::records_in_parts(records.clone()) {
                self.send(s, m);
            }
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
    pub fn set_gossip(&mut self, tx: mpsc::UnboundedSender<GossipCmd>) {
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

    pub(super) fn gossip_send(&self, cmd: GossipCmd) {
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
            let cards_updated = std::mem::take(&mut host.cards_updated);
            let parked = std::mem::take(&mut host.parked);
            drop((host, docs));
            self.park_cards(parked);
            match r {
                Ok(_) => {
                    self.gossip_received += 1;
                    if !new_cards.is_empty() {
                        self.after_cards(new_cards, 0);
                    } else if cards_updated {
                        self.refresh_admission();
                    }
                }
                Err(e) => {
                    tracing::warn!(from = %from.fmt_short(), "refused a gossiped group card: {e}")
                }
            }
            return;
        }
        let kept = self.keep_records(vec![bytes], false, false);
        match kept.forged {
            Some(e) => tracing::warn!(from = %from.fmt_short(), "refused a gossiped record: {e}"),
            None => self.gossip_received += 1,
        }
        self.spread_records(kept.fresh, None);
    }
}

/// The records in the store (each verified again; the trust rule accepted
/// each before it was stored).
pub(super) fn load_records(group: &Group) -> Records {
    let mut records = Records::default();
    let mut all = match group.store().records() {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!("could not read the network records: {e}");
            return records;
        }
    };
    // Affiliations first, as when they arrived.
    all.sort_by_key(|(kind, _)| *kind);
    for (kind, (_, bytes)) in all {
        if let Err(e) = records.offer(kind, &bytes, None) {
            tracing::warn!("a stored {} is not used: {e}", record_name(kind));
        }
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
    /// The network of each affiliation held (what the trust rules read).
    networks: BTreeMap<GroupId, GroupId>,
    /// Membership summaries, by group.
    pub summaries: Latest<MembershipSummary>,
}

impl Kept {
    /// A record not kept: logged; forged ones are the sender's fault.
    fn note(&mut self, tagged: &[u8], e: RecordRejected) {
        let kind = tagged.first().copied().unwrap_or(0);
        if e.is_forged() {
            self.forged
                .get_or_insert(ActorError::Forged { kind, why: e });
        } else {
            let subject = record_subject(kind, tagged.get(1..).unwrap_or_default());
            tracing::info!(
                group = %subject.map_or_else(|| "?".into(), |g| g.fmt_short()),
                "ignored a {}: {e}",
                record_name(kind)
            );
            self.ignored.get_or_insert(e);
        }
    }
}

/// What [`Actor::keep_records`] did with a batch.
#[derive(Debug, Default)]
pub(super) struct Kept {
    /// The records kept (to relay).
    pub(super) fresh: Vec<Vec<u8>>,
    /// The first forged or malformed record's reason: whoever sent it is at fault.
    pub(super) forged: Option<ActorError>,
    /// The first valid record not used, and why.
    pub(super) ignored: Option<RecordRejected>,
}

/// What a record kind is called in logs and events.
pub(super) fn record_name(kind: u8) -> &'static str {
    match kind {
        KIND_AFFILIATION => "affiliation",
        KIND_SUMMARY => "summary",
        groundwork_protocol::records::KIND_SUMMARY_V1 => "summary of the retired format",
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
    /// Verifies a record and keeps it if it is newer; returns its subject
    /// then. `judge` is the node's view and network for the trust rules
    /// (`trust::records`); `None` for records read back from the store,
    /// which the rules accepted before storing them.
    pub(super) fn offer(
        &mut self,
        kind: u8,
        bytes: &[u8],
        judge: Option<(&View<'_>, Option<GroupId>, bool, groundwork_protocol::Date)>,
    ) -> Result<Option<GroupId>, RecordRejected> {
        use groundwork_protocol::trust::records::{Directory, accept_affiliation, accept_summary};
        let today = judge.as_ref().map(|j| j.3);
        let dir = judge.map(|(view, network, vouched, _)| Directory {
            view,
            network,
            affiliations: &self.networks,
            vouched,
        });
        let kept = match kind {
            KIND_AFFILIATION => {
                if self.affiliations.holds(bytes) {
                    return Ok(None);
                }
                let a = Signed::<Affiliation>::from_bytes(bytes)?;
                if let Some(dir) = &dir {
                    accept_affiliation(dir, a.record())?;
                }
                let (s, n) = (a.record().group, a.record().network);
                let kept = self.affiliations.offer_signed(a)?;
                if kept {
                    self.networks.insert(s, n);
                }
                kept.then_some(s)
            }
            KIND_SUMMARY => {
                if self.summaries.holds(bytes) {
                    return Ok(None);
                }
                let a = Signed::<MembershipSummary>::from_bytes(bytes)?;
                if let Some(dir) = &dir {
                    accept_summary(dir, a.record())?;
                    if today.is_some_and(|t| a.record().as_of > t.add_days(1)) {
                        return Err(RecordRejected::FromTheFuture(a.record().as_of));
                    }
                }
                let s = a.record().group;
                self.summaries.offer_signed(a)?.then_some(s)
            }
            // The first summaries carried exact figures: never read.
            groundwork_protocol::records::KIND_SUMMARY_V1 => {
                return Err(RecordRejected::OldFormat);
            }
            _ => return Err(RecordRejected::Malformed),
        };
        Ok(kept)
    }

    /// The network of each affiliation held.
    pub fn networks(&self) -> &BTreeMap<GroupId, GroupId> {
        &self.networks
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
