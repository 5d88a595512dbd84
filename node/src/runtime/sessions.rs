//! Sessions: opening one per connected peer, feeding it messages, sending
//! what it answers, and offering every change to every other session.

use super::*;

impl Actor {
    pub(super) fn open(
        &mut self,
        peer: DeviceId,
        outbound: bool,
        out: Outbox,
    ) -> Result<(u64, Vec<Message>), String> {
        let Some((kind, theirs)) = peer_of(&self.view(), &peer) else {
            return Err("unknown or revoked device".into());
        };
        // A device this node asked to link with connects back: its steward
        // accepted, so both have consented. (On the national node, a link
        // made while it was down is affiliated now.)
        if self
            .peers
            .get(&peer)
            .is_some_and(|p| p.requested || p.linked)
        {
            self.link_made(peer);
        }
        let dialer = if outbound { self.me } else { peer };
        // One session per peer: of two that race, keep the connection the
        // lower id dialed; a connection well after the first means the peer
        // lost it (it restarted), so the new one wins. So does a second
        // connection dialed by the same side as the first: a dialer never
        // dials a peer it still has a session with, so it lost that one (a
        // device killed and restarted at once was refused for up to 8 s).
        if let Some((&old, live)) = self.sessions.iter().find(|(_, l)| l.peer == peer) {
            if dialer <= live.dialer || live.opened.elapsed() > DIAL_RACE {
                self.end(old, "replaced by another connection".into());
            } else {
                return Err("already connected".into());
            }
        }
        let scope = scope(&self.view(), kind, theirs);
        let shared = session_docs(&self.view(), self.role, kind, &scope, &self.index);
        let own = self.group.profile().id;
        let states = peers::load_states(&self.group, &peer);
        let mut session = match kind {
            Peer::GroupDevice(_) => Session::new(own, shared, states),
            Peer::Outside => Session::linked(own, shared, states),
        };
        // The devices document decides who may write the others: sync it first.
        session.put_first(self.group.doc_id(DocKind::Devices));
        let (host, mut docs, _) = self.split();
        let first = session.start(&mut docs, &host);
        drop((host, docs));
        let first = first.map_err(|e| e.to_string())?;
        let id = self.next_session;
        self.next_session += 1;
        self.sessions.insert(
            id,
            Live {
                peer,
                dialer,
                session,
                out,
                scope,
                opened: self.group.clock().instant(),
                vouches: matches!(kind, Peer::GroupDevice(r) if r.may_write(DocKind::Plan)),
            },
        );
        self.last_error.remove(&peer);
        self.heard_from(peer, true);
        let _ = self.events.send(NodeEvent::PeerConnected {
            device: peer,
            group: self.peers.get(&peer).and_then(|p| p.group),
        });
        let addrs = self
            .peers
            .get(&peer)
            .map(|p| p.addrs.clone())
            .unwrap_or_default();
        self.gossip_send(GossipCmd::Peer(peer, addrs));
        tracing::info!(peer = %peer.fmt_short(), outbound, "session started");
        Ok((id, first))
    }

    pub(super) fn incoming(&mut self, session: u64, msg: Message) {
        let (mut host, mut docs, sessions) = self.split();
        let Some(live) = sessions.get_mut(&session) else {
            return;
        };
        host.scope = live.scope.clone();
        host.vouched = live.vouches;
        let result = live.session.handle(msg, &mut docs, &mut host);
        let peer = live.peer;
        let vouched = live.vouches;
        let changed = std::mem::take(&mut host.changed);
        let unflushed = std::mem::take(&mut host.unflushed);
        let new_cards = std::mem::take(&mut host.new_cards);
        let cards_updated = std::mem::take(&mut host.cards_updated);
        let offered = std::mem::take(&mut host.offered_records);
        let refused = std::mem::take(&mut host.refused);
        let parked = std::mem::take(&mut host.parked);
        // The documents' lock is released before anything else runs.
        drop((host, docs));
        self.heard.insert(peer, self.group.clock().secs());
        self.changes_unflushed |= unflushed;
        // A peer that itself signed two histories of a document is not
        // relaying someone else's fork: the session with it ends.
        let equivocated = refused.iter().find_map(|(_, why)| match why {
            SyncError::Equivocation(e) if e.author == peer => Some(why.to_string()),
            _ => None,
        });
        for (doc, why) in refused {
            self.refused(peer, doc, &why);
        }
        self.park_cards(parked);
        match result {
            Ok(replies) => {
                for m in replies {
                    self.send(session, m);
                }
                if let Some(why) = equivocated {
                    tracing::warn!(peer = %peer.fmt_short(), "session ended: the peer {why}");
                    self.last_error.insert(peer, format!("the peer {why}"));
                    self.end(session, why);
                }
            }
            Err(e) => {
                tracing::warn!(peer = %peer.fmt_short(), "session ended: {e}");
                self.last_error.insert(peer, e.to_string());
                self.end(session, e.to_string());
            }
        }
        if !new_cards.is_empty() {
            self.after_cards(new_cards, session);
        } else if cards_updated {
            self.refresh_admission();
        }
        let kept = self.keep_records(offered, false, vouched);
        if let Some(e) = kept.forged {
            tracing::warn!(peer = %peer.fmt_short(), "refused a record: {e}");
            self.last_error
                .insert(peer, format!("refused a record: {e}"));
            self.end(session, format!("bad record: {e}"));
        }
        self.spread_records(kept.fresh, Some(session));
        self.after_changes(&changed, Some(session));
        self.note_epochs(session);
        let switched = self.epochs_switched(Some(session));
        if !switched.is_empty() {
            match self.group.reforget(&switched) {
                Ok(true) => {
                    self.epochs_switched(None);
                }
                Ok(false) => {}
                Err(e) => tracing::warn!("could not forget a member again: {e:#}"),
            }
        }
    }

    /// Notes the documents whose epoch the peer of `session` has said it
    /// holds, the same as this node's (for `status`).
    fn note_epochs(&mut self, session: u64) {
        let Some(live) = self.sessions.get(&session) else {
            return;
        };
        let peer = live.peer;
        let seen: Vec<(DocId, ChangeHash)> = self
            .group
            .epoch_docs()
            .into_iter()
            .filter(|(doc, n, g)| live.session.peer_epoch(doc) == Some((*n, *g)))
            .map(|(doc, _, g)| (doc, g))
            .collect();
        for (doc, g) in seen {
            if self.epoch_seen.insert((doc, peer, g)) {
                self.group.note_epoch_holder(&doc, peer);
            }
        }
    }

    /// Documents this node switched to a new epoch (a local `member
    /// forget`, or a peer's epoch taken in session `except`, which has
    /// told its peer already): every other session forgets its sync state
    /// for them and announces the new epoch; then the store file is
    /// compacted, so no page holds the old epoch.
    pub(super) fn epochs_switched(&mut self, except: Option<u64>) -> Vec<DocId> {
        let switched = self.group.take_switched();
        if switched.is_empty() {
            return switched;
        }
        for doc in &switched {
            self.seqs.remove(doc);
        }
        let ids = self.sessions_but(except);
        for s in ids {
            let (host, _docs, sessions) = self.split();
            let Some(live) = sessions.get_mut(&s) else {
                continue;
            };
            let msgs: Vec<Message> = switched
                .iter()
                .flat_map(|d| live.session.epoch_changed(d, &host))
                .collect();
            drop((host, _docs));
            for m in msgs {
                self.send(s, m);
            }
        }
        self.group.vacuum();
        switched
    }

    /// A peer's message for `doc` was refused and that document stopped
    /// syncing with it: log it, and keep an equivocation's proof.
    fn refused(&mut self, peer: DeviceId, doc: DocId, why: &SyncError) {
        let kind = self.index.get(&doc).map(|(_, k)| *k);
        let name = kind.map_or_else(|| "a document".to_owned(), |k| k.to_string());
        tracing::warn!(peer = %peer.fmt_short(), "stopped syncing {name}: {why}");
        self.last_error.insert(peer, format!("{name}: {why}"));
        let SyncError::Equivocation(e) = why else {
            return;
        };
        let Some(proof) = self.equivocation_proof(doc, e) else {
            tracing::warn!("could not complete an equivocation proof");
            return;
        };
        if let Err(err) = proof.verify() {
            tracing::warn!("an equivocation proof does not verify: {err}");
            return;
        }
        let stored = self.group.store().put_equivocation(
            doc.as_bytes(),
            e.author.as_bytes(),
            e.seq,
            &proof.encode(),
        );
        if let Err(err) = stored {
            tracing::warn!("could not keep an equivocation proof: {err}");
        }
        let known = self.equivocations.iter().any(|p| {
            p.doc == doc && p.epoch == proof.epoch && p.author == e.author && p.seq == e.seq
        });
        if !known {
            tracing::warn!(
                device = %e.author.fmt_short(),
                "device signed two different changes to {name} (sequence {}); \
                 a steward should revoke it",
                e.seq
            );
            self.equivocations.push(proof);
        }
    }

    /// The proof of `e`: the change held here (from the document and the
    /// store) or offered alongside, and the one refused.
    fn equivocation_proof(&mut self, doc: DocId, e: &Equivocation) -> Option<EquivocationProof> {
        let first = match &e.held_change {
            Some(c) => c.clone(),
            None => {
                let bytes = self
                    .group
                    .docs()
                    .get_mut(&doc)?
                    .get_change_by_hash(&e.held)?
                    .raw_bytes()
                    .to_vec();
                let signature = self.group.store().signature(&e.held.0).ok()??;
                SignedChange { bytes, signature }
            }
        };
        Some(EquivocationProof {
            doc,
            epoch: self.group.epoch(&doc),
            author: e.author,
            seq: e.seq,
            first,
            second: e.offered.clone(),
        })
    }

    /// Every open session's id but `except`'s.
    fn sessions_but(&self, except: Option<u64>) -> Vec<u64> {
        self.sessions
            .keys()
            .copied()
            .filter(|s| Some(*s) != except)
            .collect()
    }

    /// Sends a message on a session; a peer too slow to keep up is dropped.
    pub(super) fn send(&mut self, session: u64, msg: Message) {
        let Some(msg) = self.hold_or_send(session, msg) else {
            return;
        };
        let Some(live) = self.sessions.get(&session) else {
            return;
        };
        match live.out.send(&msg) {
            Ok(()) => {}
            Err(cmd::Refused::Full) => {
                let peer = live.peer;
                tracing::warn!(peer = %peer.fmt_short(), "peer is not keeping up; ending its session");
                self.end(session, "not keeping up".into());
            }
            // The connection is already gone; its Closed command follows.
            Err(cmd::Refused::Closed) => {}
        }
    }

    /// Ends a session: saves its sync states and tells the connection.
    pub(super) fn end(&mut self, session: u64, why: String) {
        if let Some(live) = self.sessions.remove(&session) {
            self.save_states(&live);
            live.out.close(why.clone());
            let _ = self.events.send(NodeEvent::PeerDisconnected {
                device: live.peer,
                reason: Some(why),
            });
        }
    }

    pub(super) fn closed(&mut self, session: u64, why: Option<String>) {
        if let Some(live) = self.sessions.remove(&session) {
            self.save_states(&live);
            if let Some(w) = &why {
                self.last_error.insert(live.peer, w.clone());
            }
            tracing::info!(peer = %live.peer.fmt_short(), "session closed");
            let _ = self.events.send(NodeEvent::PeerDisconnected {
                device: live.peer,
                reason: why,
            });
        }
    }

    pub(super) fn save_states(&mut self, live: &Live) {
        if let Err(e) = peers::save_states(&self.group, &live.peer, live.session.states()) {
            tracing::warn!("could not save sync states: {e}");
        }
        self.heard_from(live.peer, false);
    }

    /// Notes that `peer` was heard from (now, if `now`; else when its last
    /// message came) in its remembered record, so `peer list` and the TUI's
    /// "last heard" survive a restart. Only at a session's start and end:
    /// not a write per message.
    fn heard_from(&mut self, peer: DeviceId, now: bool) {
        let at = if now {
            let t = self.group.clock().secs();
            self.heard.insert(peer, t);
            t
        } else {
            match self.heard.get(&peer) {
                Some(t) => *t,
                None => return,
            }
        };
        let Some(rec) = self.peers.get_mut(&peer) else {
            return;
        };
        if rec.last_seen >= at {
            return;
        }
        rec.last_seen = at;
        if let Err(e) = peers::save(&self.group, rec) {
            tracing::warn!("could not note when a peer was heard from: {e}");
        }
    }

    /// After documents changed (from a peer or a local edit): refresh what
    /// depends on them and offer the changes to every other session.
    pub(super) fn after_changes(&mut self, changed: &BTreeSet<DocId>, except: Option<u64>) {
        if changed.is_empty() {
            return;
        }
        let own = self.group.profile().id;
        let devices_id = self.group.doc_id(DocKind::Devices);
        if changed.contains(&devices_id) {
            if let Err(e) = self.refresh_devices().and_then(|_| self.refresh_card()) {
                tracing::warn!("could not refresh devices: {e}");
            }
            self.refresh_admission();
        }
        for doc in changed {
            if let Some((g, k)) = self.index.get(doc)
                && *g == self.group.profile().id
                && matches!(k, DocKind::Roster | DocKind::Meetups | DocKind::Plan)
            {
                self.summary.due = true;
            }
            if let Some((g, k)) = self.index.get(doc) {
                let e = NodeEvent::DocChanged {
                    group: *g,
                    kind: *k,
                };
                self.emit(e);
            }
            self.compact_due.insert(*doc);
        }
        let ids = self.sessions_but(except);
        for s in ids {
            for doc in changed {
                self.push(s, doc);
            }
        }
        let _ = own;
    }

    pub(super) fn push(&mut self, session: u64, doc: &DocId) {
        let (host, mut docs, sessions) = self.split();
        let Some(live) = sessions.get_mut(&session) else {
            return;
        };
        let r = live.session.local_change(doc, &mut docs, &host);
        drop((host, docs));
        match r {
            Ok(msgs) => {
                for m in msgs {
                    self.send(session, m);
                }
            }
            Err(e) => self.end(session, e.to_string()),
        }
    }

    /// Cards of new groups arrived (or this group's own card changed):
    /// relay them, admit the devices they list, and hold new groups'
    /// public documents and share them with every session.
    pub(super) fn after_cards(&mut self, groups: Vec<GroupId>, except: u64) {
        // Cards from peers are stored without an fsync (`receive_cards`).
        self.unflushed = true;
        let own = self.group.profile().id;
        let mut new_docs = Vec::new();
        // The cards go first, so a peer knows a group before its documents.
        let cards: Vec<Vec<u8>> = groups
            .iter()
            .filter_map(|g| self.cards.get(g).map(|c| c.bytes().to_vec()))
            .collect();
        for c in &cards {
            self.gossip_send(GossipCmd::Broadcast(tagged(KIND_CARD, c)));
        }
        for g in groups {
            if g == own {
                continue;
            }
            for kind in [DocKind::Constitution, DocKind::Plan] {
                match self.hold(g, kind) {
                    Ok(id) => new_docs.push(id),
                    Err(e) => tracing::warn!("could not hold a document: {e}"),
                }
            }
        }
        self.refresh_admission();
        let ids: Vec<u64> = self
            .sessions
            .keys()
            .copied()
            .filter(|s| *s != except)
            .collect();
        for s in ids {
            let (host, mut docs, sessions) = self.split();
            let Some(live) = sessions.get_mut(&s) else {
                continue;
            };
            let open = live.session.is_open();
            let scope = live.scope.clone();
            let r = live.session.share_more(
                new_docs
                    .iter()
                    .copied()
                    .filter(|d| host.index.get(d).is_some_and(|(g, _)| scope.covers(g))),
                &mut docs,
                &host,
            );
            drop((host, docs));
            match r {
                Ok(msgs) => {
                    if open {
                        for m in Message::cards_in_parts(cards.clone()) {
                            self.send(s, m);
                        }
                    }
                    msgs.into_iter().for_each(|m| self.send(s, m));
                }
                Err(e) => self.end(s, e.to_string()),
            }
        }
    }
}
