//! The actor's state as a session sees it: the [`SessionStore`] a
//! session asks for signatures, write rules, storage, cards and records.

use groundwork_protocol::epoch::SignedEpoch;
use groundwork_protocol::sync::session::HostError;
use groundwork_protocol::trust::records::{Directory, accept_card};

use super::*;

/// The actor's state as a session sees it (everything but the documents
/// and the sessions, which are borrowed alongside).
pub(super) struct Host<'a> {
    pub(super) group: &'a Group,
    pub(super) index: &'a mut BTreeMap<DocId, (GroupId, DocKind)>,
    pub(super) devices: &'a Devices,
    pub(super) cards: &'a mut BTreeMap<GroupId, SignedCard>,
    pub(super) events: &'a tokio::sync::broadcast::Sender<NodeEvent>,
    pub(super) changed: BTreeSet<DocId>,
    /// Groups whose card is new here.
    pub(super) new_cards: Vec<GroupId>,
    /// Whether a newer card of a group already known was taken.
    pub(super) cards_updated: bool,
    pub(super) staged_devices: Option<Devices>,
    pub(super) records: &'a Records,
    pub(super) offered_records: Vec<Vec<u8>>,
    /// The scope of the session whose message is being handled.
    pub(super) scope: Scope,
    /// Each document's sequence index, built on first use.
    pub(super) seqs: &'a mut BTreeMap<DocId, SeqIndex>,
    /// Messages refused without ending the session, for the actor to act on.
    pub(super) refused: Vec<(DocId, SyncError)>,
    /// The rest of what the trust rules read.
    pub(super) me: DeviceId,
    pub(super) links: &'a Links,
    pub(super) inviter: Option<DeviceId>,
    pub(super) network: Option<GroupId>,
    /// Valid cards of groups not known yet, for the actor to park.
    pub(super) parked: Vec<SignedCard>,
    /// The session's peer is a steward or organiser device of this group.
    pub(super) vouched: bool,
    /// Store changes with an fsync each (outside a batch), or leave it to
    /// the batch's one ([`Actor::end_batch`]).
    pub(super) durable: bool,
    /// Changes were stored without an fsync.
    pub(super) unflushed: bool,
}

impl Actor {
    pub(super) fn split(
        &mut self,
    ) -> (
        Host<'_>,
        std::sync::MutexGuard<'_, Docs>,
        &mut BTreeMap<u64, Live>,
    ) {
        let Actor {
            group,
            index,
            devices,
            cards,
            events,
            sessions,
            records,
            seqs,
            me,
            links,
            inviter,
            network,
            held,
            ..
        } = self;
        let durable = held.is_none();
        let group: &Group = group;
        (
            Host {
                group,
                index,
                devices,
                cards,
                events,
                changed: BTreeSet::new(),
                new_cards: Vec::new(),
                cards_updated: false,
                staged_devices: None,
                records,
                offered_records: Vec::new(),
                scope: Scope::All,
                seqs,
                refused: Vec::new(),
                me: *me,
                links,
                inviter: *inviter,
                network: *network,
                parked: Vec::new(),
                vouched: false,
                durable,
                unflushed: false,
            },
            group.docs(),
            sessions,
        )
    }
}

impl Host<'_> {
    /// What the trust rules read.
    fn view(&self) -> View<'_> {
        View {
            me: self.me,
            own: self.group.profile().id,
            own_kind: self.group.profile().kind,
            devices: self.devices,
            cards: self.cards,
            links: self.links,
            inviter: self.inviter,
        }
    }

    /// Keeps a verified card if it is newer than the one held. Returns
    /// whether the group was not known before.
    pub(super) fn keep_card(&mut self, card: SignedCard) -> bool {
        let g = card.card().group;
        let held = self.cards.get(&g);
        if held.is_some_and(|h| h.card().seq >= card.card().seq) {
            return false;
        }
        let new = held.is_none();
        if let Err(e) = self.group.store().put_card(g.as_bytes(), card.bytes()) {
            tracing::warn!("could not store a group card: {e}");
            return false;
        }
        let _ = self.events.send(NodeEvent::RecordReceived {
            group: g,
            what: "group card".into(),
        });
        self.cards.insert(g, card);
        new
    }
}

impl SessionStore for Host<'_> {
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; 64]> {
        self.group.store().signature(&hash.0).ok().flatten()
    }

    fn may_write(&self, doc: &DocId, author: &DeviceId) -> bool {
        let Some((g, kind)) = self.index.get(doc) else {
            return false;
        };
        groundwork_protocol::trust::write::may_write(
            &self.view(),
            g,
            *kind,
            author,
            self.staged_devices.as_ref(),
        )
    }

    fn within_cut(&self, doc: &DocId, author: &DeviceId, seq: u64) -> bool {
        let Some((g, kind)) = self.index.get(doc) else {
            return false;
        };
        groundwork_protocol::trust::write::within_cut(
            &self.view(),
            g,
            *kind,
            author,
            (self.group.epoch(doc), seq),
            self.staged_devices.as_ref(),
        )
    }

    fn store(&mut self, doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), HostError> {
        let stored: Vec<StoredChange> = changes
            .into_iter()
            .map(|c| StoredChange {
                doc: *doc,
                bytes: c.bytes,
                hash: c.hash.0,
                signature: c.signature,
            })
            .collect();
        self.group
            .store()
            .commit_with(&stored, &[], self.durable)
            .map_err(|e| HostError::Storage(e.to_string()))?;
        self.unflushed |= !self.durable;
        self.changed.insert(*doc);
        Ok(())
    }

    fn learn(&mut self, doc: &DocId, accepted: &AutoCommit) {
        if *doc == self.group.doc_id(DocKind::Devices) {
            self.staged_devices = Devices::from_doc(accepted).ok();
        }
    }

    fn forget_learned(&mut self) {
        self.staged_devices = None;
    }

    fn learns(&self, doc: &DocId) -> bool {
        *doc == self.group.doc_id(DocKind::Devices)
    }

    fn take_seqs(&mut self, doc: &DocId) -> Option<SeqIndex> {
        self.seqs.remove(doc)
    }

    fn put_seqs(&mut self, doc: &DocId, seqs: SeqIndex) {
        self.seqs.insert(*doc, seqs);
    }

    fn refused(&mut self, doc: &DocId, why: &SyncError) {
        self.refused.push((*doc, why.clone()));
    }

    fn cards(&self) -> Vec<Vec<u8>> {
        self.cards.values().map(|c| c.bytes().to_vec()).collect()
    }

    fn epoch(&self, doc: &DocId) -> u64 {
        self.group.epoch(doc)
    }

    fn epoch_genesis(&self, doc: &DocId) -> Option<ChangeHash> {
        self.group.held_epoch(doc).map(|e| e.record.epoch().genesis)
    }

    fn epoch_message(&self, doc: &DocId) -> Option<Vec<u8>> {
        self.group
            .held_epoch(doc)
            .map(|e| e.record.bytes().to_vec())
    }

    fn receive_epoch(
        &mut self,
        doc: &DocId,
        record: &SignedEpoch,
        genesis: SignedChange,
        current: &mut AutoCommit,
    ) -> Result<(), HostError> {
        let Some((g, kind)) = self.index.get(doc).copied() else {
            return Err(HostError::NotHeld);
        };
        let held = self.group.held_epoch(doc);
        let verdict = groundwork_protocol::trust::epoch::accept(
            &self.view(),
            &g,
            kind,
            record,
            self.group.epoch(doc),
            held.as_ref().map(|h| &h.record),
        )?;
        if verdict == groundwork_protocol::trust::epoch::Verdict::Same {
            return Ok(());
        }
        let mut switched = groundwork_protocol::epoch::switch(
            current,
            record,
            &genesis,
            self.group.device_key(),
            held.as_ref().map(|h| &h.record),
        )?;
        let signatures = switched.signatures()?;
        self.group
            .switch_to(
                *doc,
                record,
                &switched.genesis,
                current,
                &mut switched.doc,
                &signatures,
            )
            .map_err(|e| HostError::Storage(format!("could not store the new epoch: {e}")))?;
        tracing::info!(
            doc = %kind,
            epoch = record.epoch().number,
            rebased = switched.rebased.reapplied,
            dropped = switched.rebased.dropped,
            "switched to a new epoch"
        );
        *current = switched.doc;
        self.seqs.remove(doc);
        self.changed.insert(*doc);
        Ok(())
    }

    fn records(&self) -> Vec<Vec<u8>> {
        self.records.tagged()
    }

    fn receive_records(&mut self, records: Vec<Vec<u8>>) -> Result<(), HostError> {
        // Checked and kept by the actor once the message is handled.
        self.offered_records.extend(records);
        Ok(())
    }

    fn receive_cards(&mut self, cards: Vec<Vec<u8>>) -> Result<Vec<DocId>, HostError> {
        let own = self.group.profile().id;
        // Verify every card first (one bad card refuses the message), then
        // keep the newer ones in one transaction.
        let mut fresh: BTreeMap<GroupId, SignedCard> = BTreeMap::new();
        for bytes in cards {
            // The card already held comes round from every peer and needs
            // no second verification (a byte comparison is far cheaper).
            if self.cards.values().any(|h| h.bytes() == bytes.as_slice()) {
                continue;
            }
            let card = SignedCard::from_bytes(&bytes)?;
            let g = card.card().group;
            let seq = card.card().seq;
            let held = self.cards.get(&g).or_else(|| fresh.get(&g));
            if held.is_some_and(|h| h.card().seq >= seq) {
                continue;
            }
            // Only groups this node knows: linked, or in a trusted directory.
            let dir = Directory {
                view: &self.view(),
                network: self.network,
                affiliations: self.records.networks(),
                vouched: self.vouched,
            };
            let count = self.cards.len() + fresh.len();
            if let Err(e) = accept_card(&dir, card.card(), held.map(|h| h.card()), count) {
                tracing::debug!(group = %g.fmt_short(), "ignored a group card: {e}");
                // Its affiliation may be on the way: looked at again when
                // records arrive (see `Actor::unpark_cards`).
                if e == RecordRejected::UnknownGroup {
                    self.parked.push(card);
                }
                continue;
            }
            fresh.insert(g, card);
        }
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<([u8; 32], &[u8])> = fresh
            .iter()
            .map(|(g, c)| (*g.as_bytes(), c.bytes()))
            .collect();
        // Not fsynced, as for records: a lost card comes back next session.
        if let Err(e) = self.group.store().put_cards(&rows, false) {
            tracing::warn!("could not store group cards: {e}");
            return Ok(Vec::new());
        }
        let mut new_docs = Vec::new();
        for (g, card) in fresh {
            let _ = self.events.send(NodeEvent::RecordReceived {
                group: g,
                what: "group card".into(),
            });
            // A newer card of a group already known changes who is
            // admitted (its devices): the caller rebuilds the admission
            // table. Its steward sent it to every session and by gossip.
            if self.cards.insert(g, card).is_some() {
                self.cards_updated = true;
                continue;
            }
            self.new_cards.push(g);
            if g != own && self.scope.covers(&g) {
                for kind in [DocKind::Constitution, DocKind::Plan] {
                    new_docs.push(DocId::derive(&g, kind));
                    self.index.insert(DocId::derive(&g, kind), (g, kind));
                }
            }
        }
        Ok(new_docs)
    }
}
