//! One simulated node: its documents, cards, records, links and sessions,
//! and what it does with each message, mirroring the real node's actor
//! (`node/src/runtime/{sessions,links}.rs`): a session per connected peer
//! with the scope and documents `trust::scope` gives it, every new card
//! and record relayed to the other open sessions and broadcast by gossip,
//! every new change offered to every other session.
//!
//! The node never sends anything itself: it appends [`Out`]s, which the
//! simulation carries over the links (see [`crate::sim`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::ChangeHash;
use automerge::sync::State;
use groundwork_protocol::schema::Role;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::Session;
use groundwork_protocol::trust::scope::{Scope, peer_of, scope, session_docs};
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId};

use crate::host::{Host, KIND_CARD, Known, Me, tagged};
use crate::verified::Verified;
use crate::world::Founded;

/// What a node asks the simulation to carry.
#[derive(Debug)]
pub enum Out {
    /// A message on a session.
    Send {
        /// The session.
        session: u64,
        /// The message.
        msg: Message,
    },
    /// This node ended a session (the peer is told with a `Bye`).
    End {
        /// The session.
        session: u64,
        /// Why.
        why: String,
    },
    /// A command for this node's gossip (`node/src/net/gossip.rs`).
    Gossip(GossipCmd),
}

/// What the node asks of its gossip, as the real node's `GossipCmd`.
#[derive(Debug)]
pub enum GossipCmd {
    /// Join the topic of this network, with every known peer as a way in.
    Join(GroupId),
    /// A device this node may gossip with.
    Peer(DeviceId),
    /// Send a tagged record or card to the network.
    Broadcast(Vec<u8>),
}

/// What a handler needs besides the node: the shared verifications and
/// where the node's outputs go.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// Verified cards and records.
    pub verified: &'a mut Verified,
    /// The node's outputs.
    pub out: &'a mut Vec<Out>,
    /// Empty documents to lend a session call (see [`Node::take_docs`]).
    pub empties: &'a mut Vec<automerge::AutoCommit>,
}

/// A live session.
#[derive(Debug)]
pub struct Live {
    /// The peer's node index.
    pub peer: usize,
    /// The peer's device.
    pub device: DeviceId,
    /// The session state machine.
    pub session: Session,
    /// Whose public documents it carries.
    pub scope: Scope,
}

/// One simulated node.
#[derive(Debug)]
pub struct Node {
    /// Its index (0: the national node).
    pub idx: usize,
    /// Its identity, links and network: what the trust rules read.
    pub me: Me,
    /// The group key (the national node signs affiliations with it).
    pub group_key: groundwork_protocol::SecretKey,
    /// The documents held with content: its own public ones, and the
    /// constitution and plan of groups whose documents reached it (boxed:
    /// a document is 4 KB before any of its contents).
    pub docs: BTreeMap<DocId, Box<automerge::AutoCommit>>,
    /// Each held document's group and kind: also the empty constitution
    /// and plan of every other group it holds a card for.
    pub index: BTreeMap<DocId, (GroupId, DocKind)>,
    /// Signatures of every change held.
    pub signatures: HashMap<ChangeHash, [u8; 64]>,
    /// Cards and records.
    pub known: Known,
    /// Valid cards of groups not known yet (at most [`MAX_PARKED_CARDS`]).
    pub parked_cards: BTreeMap<GroupId, std::sync::Arc<groundwork_protocol::card::SignedCard>>,
    /// Valid records about groups not known yet (at most [`MAX_PARKED_RECORDS`]).
    pub parked_records: BTreeMap<(u8, GroupId), Vec<u8>>,
    /// Live sessions by id.
    pub sessions: BTreeMap<u64, Live>,
    /// Sync states persisted per peer.
    pub states: BTreeMap<DeviceId, BTreeMap<DocId, State>>,
}

/// The most records kept waiting for their group (`runtime/mod.rs`).
pub const MAX_PARKED_RECORDS: usize = 4096;
/// The most cards kept waiting for their group (`runtime/mod.rs`).
pub const MAX_PARKED_CARDS: usize = 256;

impl Node {
    /// The node as founded, holding its own card and summary.
    pub fn new(idx: usize, f: Founded) -> Node {
        let own = f.group();
        let mut known = Known::default();
        known.put_card(std::sync::Arc::new(f.card.clone()), true);
        if let Some(s) = &f.summary {
            known.summaries.insert(own, std::sync::Arc::new(s.clone()));
        }
        let index = f
            .docs
            .keys()
            .map(|d| {
                let kind = if *d == DocId::derive(&own, DocKind::Constitution) {
                    DocKind::Constitution
                } else {
                    DocKind::Plan
                };
                (*d, (own, kind))
            })
            .collect();
        let national = f.kind.is_national();
        Node {
            idx,
            me: Me {
                me: f.device(),
                own,
                kind: f.kind,
                devices: f.devices,
                links: Default::default(),
                network: national.then_some(own),
            },
            group_key: f.group_key,
            docs: f
                .docs
                .into_iter()
                .map(|(d, doc)| (d, Box::new(doc)))
                .collect(),
            index,
            signatures: f.signatures,
            known,
            parked_cards: BTreeMap::new(),
            parked_records: BTreeMap::new(),
            sessions: BTreeMap::new(),
            states: BTreeMap::new(),
        }
    }

    /// Whether a session with `device` is live.
    pub fn connected(&self, device: &DeviceId) -> bool {
        self.sessions.values().any(|l| l.device == *device)
    }

    /// Opens session `id` with `device` (node `peer`), as `Actor::open`:
    /// the peer must be known (a linked group's device), one session per
    /// peer; the first messages go out.
    pub fn open(
        &mut self,
        id: u64,
        peer: usize,
        device: DeviceId,
        cx: &mut Ctx<'_>,
    ) -> Result<(), String> {
        let view = self.me.view(&self.known);
        let Some((kind, theirs)) = peer_of(&view, &device) else {
            return Err("unknown or revoked device".into());
        };
        if self.connected(&device) {
            return Err("already connected".into());
        }
        let sc = scope(&view, kind, theirs);
        let shared = session_docs(&view, Role::Steward, kind, &sc, &self.index);
        let states = self.states.get(&device).cloned().unwrap_or_default();
        let mut session = Session::linked(self.me.own, shared, states);
        session.put_first(DocId::derive(&self.me.own, DocKind::Devices));
        let mut docs = self.take_docs(session.shared(), true, &[], cx.empties);
        let host = self.host(Scope::All, cx.verified);
        let first = session.start(&mut docs, &host);
        drop(host);
        self.put_docs(docs, cx.empties);
        let first = first.map_err(|e| e.to_string())?;
        self.sessions.insert(
            id,
            Live {
                peer,
                device,
                session,
                scope: sc,
            },
        );
        for msg in first {
            cx.out.push(Out::Send { session: id, msg });
        }
        cx.out.push(Out::Gossip(GossipCmd::Peer(device)));
        Ok(())
    }

    pub(crate) fn host<'a>(&'a mut self, scope: Scope, verified: &'a mut Verified) -> Host<'a> {
        Host {
            me: &self.me,
            known: &mut self.known,
            index: &mut self.index,
            signatures: &mut self.signatures,
            verified,
            scope,
            changed: BTreeSet::new(),
            new_cards: Vec::new(),
            offered: Vec::new(),
            parked: Vec::new(),
        }
    }

    /// A message on session `id`, as `Actor::incoming`.
    pub fn incoming(&mut self, id: u64, msg: Message, cx: &mut Ctx<'_>) {
        let Some(mut live) = self.sessions.remove(&id) else {
            return;
        };
        let all = matches!(
            msg,
            Message::Hello { .. } | Message::Prints(_) | Message::Heads(_)
        );
        let extra = match &msg {
            Message::Sync { doc, .. } | Message::Epoch { doc, .. } | Message::EpochWant { doc } => {
                vec![*doc]
            }
            _ => Vec::new(),
        };
        let mut docs = self.take_docs(live.session.shared(), all, &extra, cx.empties);
        let mut host = self.host(live.scope.clone(), cx.verified);
        let result = live.session.handle(msg, &mut docs, &mut host);
        let changed = std::mem::take(&mut host.changed);
        let new_cards = std::mem::take(&mut host.new_cards);
        let offered = std::mem::take(&mut host.offered);
        let parked = std::mem::take(&mut host.parked);
        drop(host);
        self.put_docs(docs, cx.empties);
        self.sessions.insert(id, live);
        self.park_cards(parked);
        match result {
            Ok(replies) => {
                for msg in replies {
                    cx.out.push(Out::Send { session: id, msg });
                }
            }
            Err(e) => self.end(id, e.to_string(), cx),
        }
        if !new_cards.is_empty() {
            self.after_cards(new_cards, id, cx);
        }
        let kept = self.keep_records(offered, cx);
        if let Some(e) = kept.forged {
            self.end(id, format!("bad record: {e}"), cx);
        }
        self.spread_records(kept.fresh, Some(id), cx);
        self.after_changes(&changed, Some(id), cx);
    }

    /// Ends a session: saves its sync states; the peer is told.
    pub fn end(&mut self, id: u64, why: String, cx: &mut Ctx<'_>) {
        if self.closed(id) {
            cx.out.push(Out::End { session: id, why });
        }
    }

    /// The peer ended session `id` (or its connection closed). Returns
    /// whether it was live.
    pub fn closed(&mut self, id: u64) -> bool {
        match self.sessions.remove(&id) {
            Some(live) => {
                self.states
                    .insert(live.device, live.session.states().clone());
                true
            }
            None => false,
        }
    }

    /// Every open session's id but `except`'s.
    fn sessions_but(&self, except: Option<u64>) -> Vec<u64> {
        self.sessions
            .keys()
            .copied()
            .filter(|s| Some(*s) != except)
            .collect()
    }

    /// After documents changed: offers the changes to every other session.
    pub fn after_changes(
        &mut self,
        changed: &BTreeSet<DocId>,
        except: Option<u64>,
        cx: &mut Ctx<'_>,
    ) {
        if changed.is_empty() {
            return;
        }
        for s in self.sessions_but(except) {
            for doc in changed {
                self.push(s, doc, cx);
            }
        }
    }

    fn push(&mut self, s: u64, doc: &DocId, cx: &mut Ctx<'_>) {
        let Some(mut live) = self.sessions.remove(&s) else {
            return;
        };
        let mut docs = self.take_docs(&BTreeSet::new(), false, &[*doc], cx.empties);
        let host = self.host(Scope::All, cx.verified);
        let r = live.session.local_change(doc, &mut docs, &host);
        drop(host);
        self.put_docs(docs, cx.empties);
        self.sessions.insert(s, live);
        match r {
            Ok(msgs) => {
                for msg in msgs {
                    cx.out.push(Out::Send { session: s, msg });
                }
            }
            Err(e) => self.end(s, e.to_string(), cx),
        }
    }

    /// New groups became known from cards (`Actor::after_cards`): their
    /// cards go out by gossip, their public documents are held, and every
    /// other session shares them and is sent the cards.
    pub fn after_cards(&mut self, groups: Vec<GroupId>, except: u64, cx: &mut Ctx<'_>) {
        let own = self.me.own;
        let cards: Vec<Vec<u8>> = groups
            .iter()
            .filter_map(|g| self.known.cards.get(g).map(|c| c.bytes().to_vec()))
            .collect();
        for c in &cards {
            cx.out
                .push(Out::Gossip(GossipCmd::Broadcast(tagged(KIND_CARD, c))));
        }
        let mut new_docs = Vec::new();
        for g in groups {
            if g == own {
                continue;
            }
            for kind in [DocKind::Constitution, DocKind::Plan] {
                // Held empty (see [`Node::take_docs`]).
                let id = DocId::derive(&g, kind);
                self.index.insert(id, (g, kind));
                new_docs.push(id);
            }
        }
        for s in self.sessions_but(Some(except)) {
            let Some(mut live) = self.sessions.remove(&s) else {
                continue;
            };
            let open = live.session.is_open();
            let add: Vec<DocId> = new_docs
                .iter()
                .copied()
                .filter(|d| self.index.get(d).is_some_and(|(g, _)| live.scope.covers(g)))
                .collect();
            let mut docs = self.take_docs(&BTreeSet::new(), false, &add, cx.empties);
            let host = self.host(Scope::All, cx.verified);
            let r = live.session.share_more(add, &mut docs, &host);
            drop(host);
            self.put_docs(docs, cx.empties);
            self.sessions.insert(s, live);
            match r {
                Ok(msgs) => {
                    if open {
                        for msg in Message::cards_in_parts(cards.clone()) {
                            cx.out.push(Out::Send { session: s, msg });
                        }
                    }
                    for msg in msgs {
                        cx.out.push(Out::Send { session: s, msg });
                    }
                }
                Err(e) => self.end(s, e.to_string(), cx),
            }
        }
    }

    /// Sends records to every open session but `except`.
    pub fn spread_records(&mut self, records: Vec<Vec<u8>>, except: Option<u64>, cx: &mut Ctx<'_>) {
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
            for msg in Message::records_in_parts(records.clone()) {
                cx.out.push(Out::Send { session: s, msg });
            }
        }
    }

    /// Keeps valid cards of groups not known yet, for a while.
    pub fn park_cards(
        &mut self,
        cards: Vec<std::sync::Arc<groundwork_protocol::card::SignedCard>>,
    ) {
        for c in cards {
            let g = c.card().group;
            if self.parked_cards.len() >= MAX_PARKED_CARDS && !self.parked_cards.contains_key(&g) {
                self.parked_cards.pop_first();
            }
            self.parked_cards.insert(g, c);
        }
    }

    /// A card or record arrived by gossip (`Actor::gossiped`).
    pub fn gossiped(&mut self, bytes: Vec<u8>, cx: &mut Ctx<'_>) {
        let Some(&kind) = bytes.first() else {
            return;
        };
        if kind == KIND_CARD {
            self.cards_outside_session(vec![bytes[1..].to_vec()], cx);
            return;
        }
        let kept = self.keep_records(vec![bytes], cx);
        self.spread_records(kept.fresh, None, cx);
    }

    /// Cards from outside any session (gossip, a parked card's second
    /// chance): no session's documents to extend.
    pub fn cards_outside_session(&mut self, cards: Vec<Vec<u8>>, cx: &mut Ctx<'_>) {
        use groundwork_protocol::sync::session::SessionStore as _;
        let mut host = self.host(Scope::Only(BTreeSet::new()), cx.verified);
        let _ = host.receive_cards(cards);
        let new_cards = std::mem::take(&mut host.new_cards);
        let parked = std::mem::take(&mut host.parked);
        drop(host);
        self.park_cards(parked);
        if !new_cards.is_empty() {
            self.after_cards(new_cards, 0, cx);
        }
    }
}
