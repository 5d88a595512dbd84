//! The running node's state, owned by one thread (the actor).
//!
//! Everything that touches the store or an Automerge document happens on
//! the actor thread, one command at a time: network tasks and the control
//! socket send it [`Cmd`]s over a bounded channel and get answers on
//! oneshot channels. So there are no locks around documents, the store has
//! one writer, and async tasks never block on disk or CPU work.
//!
//! The actor holds every document this device may read (its group's, and
//! the public documents of every group it holds a card for) loaded in
//! memory, one [`Session`] per connected peer, and the write rules. A local
//! edit (through the control API) is committed by [`Group`], then applied
//! to the loaded document and offered to every session at once. Changes
//! from a peer are verified, durably stored, then offered to every other
//! session (so a device relays between peers that never meet).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use automerge::sync::State;
use automerge::{AutoCommit, ChangeHash};
use groundwork_protocol::card::SignedCard;
use groundwork_protocol::join::{JoinReply, JoinRequest, Joined};
use groundwork_protocol::records::{
    Affiliation, KIND_AFFILIATION, KIND_SUMMARY, Latest, MembershipSummary, RecordRejected, Signed,
};
use groundwork_protocol::schema::{Devices, GroupDocument, Role};
use groundwork_protocol::share::{Peer, shared_docs};
use groundwork_protocol::sync::VerifiedChange;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::{Docs, Session, SessionStore};
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId};
use tokio::sync::{mpsc, oneshot};

use crate::group::{Group, GroupError, today};
use crate::store::StoredChange;

mod peers;

pub use peers::PeerRecord;

/// What a connection task sends to its peer.
#[derive(Debug)]
pub enum Outgoing {
    /// A message.
    Msg(Message),
    /// End the session with this reason (sent as `Bye`, then the
    /// connection is closed).
    Close(String),
}

/// Who may connect, kept current by the actor and read by the endpoint's
/// handshake hook without waiting for the actor.
#[derive(Debug, Default)]
pub struct Admission {
    /// This group's devices that are not revoked.
    pub group_devices: BTreeSet<DeviceId>,
    /// Revoked devices of this group.
    pub revoked: BTreeSet<DeviceId>,
    /// Devices of linked groups (and the national body).
    pub outside: BTreeSet<DeviceId>,
}

impl Admission {
    /// Whether `device` may open a sync session; `Err` says why not.
    pub fn may_sync(&self, device: &DeviceId) -> Result<(), &'static str> {
        if self.revoked.contains(device) {
            Err("this device has been revoked")
        } else if self.group_devices.contains(device) || self.outside.contains(device) {
            Ok(())
        } else {
            Err("unknown device")
        }
    }
}

/// A request to the actor.
pub enum Cmd {
    /// A connection to `peer` is ready: start a session.
    Open {
        /// The peer's device id (authenticated by the TLS handshake).
        peer: DeviceId,
        /// Whether this node dialed.
        outbound: bool,
        /// Where the session's messages go.
        out: mpsc::Sender<Outgoing>,
        /// The session id and the opening messages, or a refusal.
        reply: oneshot::Sender<Result<(u64, Vec<Message>), String>>,
    },
    /// A message arrived on a session.
    Incoming {
        /// The session.
        session: u64,
        /// The message.
        msg: Message,
    },
    /// A session's connection ended.
    Closed {
        /// The session.
        session: u64,
        /// Why, if it ended badly.
        why: Option<String>,
    },
    /// A device redeems an invite.
    Join {
        /// The joining device.
        device: DeviceId,
        /// Its request.
        req: JoinRequest,
        /// Where it connected from.
        addrs: Vec<SocketAddr>,
        /// The answer to send.
        reply: oneshot::Sender<JoinReply>,
    },
    /// A device of another group links with this node.
    Link {
        /// The device.
        device: DeviceId,
        /// Its group's signed card.
        card: Vec<u8>,
        /// Where it connected from.
        addrs: Vec<SocketAddr>,
        /// This group's card, or a refusal.
        reply: oneshot::Sender<Result<Vec<u8>, String>>,
    },
    /// This node linked with a device of another group (`peer add`).
    Linked {
        /// The device.
        device: DeviceId,
        /// Its group's card.
        card: Vec<u8>,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
        /// Done, or why not.
        reply: oneshot::Sender<Result<PeerRecord, String>>,
    },
    /// Addresses a peer was reached at, to remember.
    SawAddrs {
        /// The device.
        device: DeviceId,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
    },
    /// The national node sent this group an affiliation certificate.
    Affiliated {
        /// The national node's device.
        device: DeviceId,
        /// The signed certificate.
        record: Vec<u8>,
        /// Kept, or why not.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// A card or record arrived by gossip (tagged with its kind).
    Gossiped {
        /// The neighbour that passed it on.
        from: DeviceId,
        /// The tagged bytes.
        bytes: Vec<u8>,
    },
    /// A gossip neighbour came or went.
    GossipNeighbour {
        /// The device.
        device: DeviceId,
        /// Came (true) or went.
        up: bool,
    },
    /// LAN discovery saw a device at these addresses.
    Discovered {
        /// The device.
        device: DeviceId,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
    },
    /// A snapshot saved on a helper thread, to replace a document's
    /// stored changes.
    Compacted {
        /// The document.
        doc: DocId,
        /// The document as saved.
        copy: Box<AutoCommit>,
        /// `copy.save()`.
        snapshot: Vec<u8>,
    },
    /// Run a closure on the actor thread with the node state.
    With(Box<dyn FnOnce(&mut Actor) + Send>),
    /// Save everything and stop.
    Shutdown(oneshot::Sender<()>),
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Open { .. } => "Open",
            Cmd::Incoming { .. } => "Incoming",
            Cmd::Closed { .. } => "Closed",
            Cmd::Join { .. } => "Join",
            Cmd::Link { .. } => "Link",
            Cmd::Linked { .. } => "Linked",
            Cmd::SawAddrs { .. } => "SawAddrs",
            Cmd::Discovered { .. } => "Discovered",
            Cmd::Gossiped { .. } => "Gossiped",
            Cmd::GossipNeighbour { .. } => "GossipNeighbour",
            Cmd::Affiliated { .. } => "Affiliated",
            Cmd::Compacted { .. } => "Compacted",
            Cmd::With(_) => "With",
            Cmd::Shutdown(_) => "Shutdown",
        })
    }
}

/// A live session.
struct Live {
    peer: DeviceId,
    /// The device that dialed this connection (to keep one per peer).
    dialer: DeviceId,
    session: Session,
    out: mpsc::Sender<Outgoing>,
    /// Whose public documents this session carries.
    scope: Scope,
}

/// Whose public documents a session carries besides this group's own.
#[derive(Clone, Debug)]
enum Scope {
    /// Every group's this node holds: the group's own devices, and two
    /// linked groups (so documents travel along chains of linked groups).
    All,
    /// Only these groups': a link with the national node carries only the
    /// national body's and that group's documents. The national node is
    /// linked with every group, and relaying every group's documents to
    /// every other through it would cost the network work that grows with
    /// the square of its size; it relays the directory (cards and records)
    /// instead.
    Only(BTreeSet<GroupId>),
}

impl Scope {
    fn covers(&self, group: &GroupId) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(groups) => groups.contains(group),
        }
    }
}

pub use groundwork_protocol::control::Event as NodeEvent;

/// The node state, owned by the actor thread.
pub struct Actor {
    group: Group,
    me: DeviceId,
    role: Role,
    /// Every loaded document: its group and kind.
    index: BTreeMap<DocId, (GroupId, DocKind)>,
    devices: Devices,
    cards: BTreeMap<GroupId, SignedCard>,
    peers: BTreeMap<DeviceId, PeerRecord>,
    sessions: BTreeMap<u64, Live>,
    next_session: u64,
    admission: Arc<RwLock<Admission>>,
    events: tokio::sync::broadcast::Sender<NodeEvent>,
    /// Peers to dial, for the network side.
    dial: mpsc::UnboundedSender<PeerRecord>,
    /// The last error per peer, for `status`.
    last_error: BTreeMap<DeviceId, String>,
    /// Documents that may want compacting, done when the node is idle.
    compact_due: BTreeSet<DocId>,
    /// Documents being saved on a helper thread.
    compacting: BTreeSet<DocId>,
    /// Network records held, newest per group.
    records: Records,
    /// The network this node belongs to: its own id on the national node,
    /// else its affiliation's network, once it has one.
    network: Option<GroupId>,
    /// The group's summary may have changed: recompute it when idle.
    summary_due: bool,
    /// The actor's own command channel, for helper threads to answer on.
    to_self: Option<mpsc::Sender<Cmd>>,
    /// The gossip task, once the daemon has started it.
    gossip: Option<mpsc::UnboundedSender<crate::net::gossip::GossipCmd>>,
    /// Direct gossip neighbours now.
    gossip_neighbours: BTreeSet<DeviceId>,
    /// Valid cards and records that arrived by gossip (new or not).
    gossip_received: u64,
    /// Records or cards were committed without an fsync since the last
    /// durable commit.
    unflushed: bool,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("me", &self.me)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// Seconds since 1970.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The meta entry holding the role a joined device was given, used until
/// its devices document has synced.
pub const JOINED_ROLE_KEY: &str = "joined-role";

impl Actor {
    /// Loads the node state from the group's store.
    pub fn load(
        mut group: Group,
        admission: Arc<RwLock<Admission>>,
        events: tokio::sync::broadcast::Sender<NodeEvent>,
        dial: mpsc::UnboundedSender<PeerRecord>,
    ) -> Result<Actor, GroupError> {
        group.keep_loaded();
        let me = group.device_id();
        let mut cards = BTreeMap::new();
        for (_, bytes) in group.store().cards()? {
            match SignedCard::from_bytes(&bytes) {
                Ok(c) => {
                    cards.insert(c.card().group, c);
                }
                Err(e) => tracing::warn!("a stored group card does not verify: {e}"),
            }
        }
        let peers = peers::load(&group)?;
        let network = own_network(&group)?;
        let mut actor = Actor {
            me,
            role: Role::Member,
            index: BTreeMap::new(),
            devices: Devices::default(),
            cards,
            peers,
            sessions: BTreeMap::new(),
            next_session: 1,
            admission,
            events,
            dial,
            last_error: BTreeMap::new(),
            compact_due: BTreeSet::new(),
            compacting: BTreeSet::new(),
            records: Records::default(),
            network,
            summary_due: true,
            to_self: None,
            gossip: None,
            gossip_neighbours: BTreeSet::new(),
            gossip_received: 0,
            unflushed: false,
            group,
        };
        actor.refresh_devices()?;
        actor.records = load_records(&actor.group, network);
        if let Some(a) = actor.group.affiliation()? {
            let _ = actor.records.offer(KIND_AFFILIATION, a.bytes(), network);
        }
        let own = actor.group.profile().id;
        for kind in DocKind::ALL {
            if actor.role.may_read(kind) {
                actor.hold(own, kind)?;
            }
        }
        let foreign: Vec<GroupId> = actor.cards.keys().copied().filter(|g| *g != own).collect();
        for g in foreign {
            actor.hold(g, DocKind::Constitution)?;
            actor.hold(g, DocKind::Plan)?;
        }
        actor.refresh_card()?;
        actor.refresh_admission();
        Ok(actor)
    }

    /// Loads a document (empty if the store does not have it yet).
    fn hold(&mut self, group: GroupId, kind: DocKind) -> Result<DocId, GroupError> {
        let id = DocId::derive(&group, kind);
        if !self.group.docs().contains_key(&id) {
            let doc = self
                .group
                .store()
                .load(&id)?
                .unwrap_or_else(groundwork_protocol::edit::new_doc);
            self.group.docs().insert(id, doc);
        }
        self.index.insert(id, (group, kind));
        Ok(id)
    }

    /// The group this node belongs to.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// This device's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Peers this node remembers.
    pub fn peers(&self) -> &BTreeMap<DeviceId, PeerRecord> {
        &self.peers
    }

    /// Peers with a live session: device → (session id, peer's group).
    pub fn connected(&self) -> BTreeMap<DeviceId, Option<GroupId>> {
        self.sessions
            .values()
            .map(|l| (l.peer, l.session.peer_group()))
            .collect()
    }

    /// Whether the session with `peer` has synced every shared document.
    pub fn is_synced_with(&mut self, peer: &DeviceId) -> bool {
        let mut docs = self.group.docs();
        self.sessions
            .values()
            .any(|l| l.peer == *peer && l.session.is_synced(&mut docs))
    }

    /// Records a failure talking to a peer, for `status`.
    pub fn note_error(&mut self, device: DeviceId, error: String) {
        self.last_error.insert(device, error);
    }

    /// The last error seen with each peer.
    pub fn last_errors(&self) -> &BTreeMap<DeviceId, String> {
        &self.last_error
    }

    /// The group cards held.
    pub fn cards(&self) -> &BTreeMap<GroupId, SignedCard> {
        &self.cards
    }

    /// Heads of every loaded document, by (group, kind).
    pub fn doc_heads(&mut self) -> Vec<(GroupId, DocKind, Vec<ChangeHash>)> {
        let index = &self.index;
        self.group
            .docs()
            .iter_mut()
            .filter_map(|(id, d)| index.get(id).map(|(g, k)| (*g, *k, d.get_heads())))
            .collect()
    }

    /// For each document, how many live sessions carry it and how many of
    /// those peers hold the same heads as this node.
    pub fn doc_sync(&self, doc: &groundwork_protocol::DocId, heads: &[ChangeHash]) -> (u64, u64) {
        self.sessions
            .values()
            .filter_map(|l| l.session.doc_in_sync(doc, heads))
            .fold((0, 0), |(n, s), synced| (n + 1, s + u64::from(synced)))
    }

    fn refresh_devices(&mut self) -> Result<(), GroupError> {
        let id = self.group.doc_id(DocKind::Devices);
        let held = self
            .group
            .docs()
            .get(&id)
            .map(|d| Devices::from_doc(d).unwrap_or_default());
        let devices = match held {
            Some(d) => d,
            None => match self.group.store().load(&id)? {
                Some(d) => Devices::from_doc(&d).unwrap_or_default(),
                None => Devices::default(),
            },
        };
        self.devices = devices;
        let before = self.role;
        self.role = match self.devices.active_role(&self.me) {
            Some(r) => r,
            None => self
                .group
                .meta::<Role>(JOINED_ROLE_KEY)?
                .filter(|_| self.devices.get(&self.me).is_none())
                .unwrap_or(Role::Member),
        };
        if self.role != before && self.role.may_read(DocKind::Contacts) {
            let own = self.group.profile().id;
            self.hold(own, DocKind::Contacts)?;
        }
        Ok(())
    }

    /// On a steward device: re-sign the group card if the devices changed.
    fn refresh_card(&mut self) -> Result<(), GroupError> {
        let own = self.group.profile().id;
        if let Some(card) = self
            .group
            .refresh_own_card(self.cards.get(&own), now_secs())?
        {
            let fresh = self.cards.get(&own) != Some(&card);
            if fresh {
                self.group.store().put_card(own.as_bytes(), card.bytes())?;
                self.cards.insert(own, card);
            }
        }
        Ok(())
    }

    fn refresh_admission(&mut self) {
        let mut a = Admission::default();
        for (key, entry) in &self.devices.devices {
            let Ok(id) = key.parse::<DeviceId>() else {
                continue;
            };
            if entry.revoked.is_some() {
                a.revoked.insert(id);
            } else if id != self.me {
                a.group_devices.insert(id);
            }
        }
        let own = self.group.profile().id;
        for p in self.peers.values() {
            if p.group.is_some_and(|g| g != own) {
                a.outside.insert(p.device);
            } else if p.group == Some(own) && !a.revoked.contains(&p.device) {
                // The device that invited this one, before the devices
                // document has arrived.
                a.group_devices.insert(p.device);
            }
        }
        for (g, c) in &self.cards {
            if *g != own {
                a.outside.extend(c.card().write_keys.iter().copied());
            }
        }
        match self.admission.write() {
            Ok(mut w) => *w = a,
            Err(poisoned) => *poisoned.into_inner() = a,
        }
        // Revoked devices get nothing more: end their sessions now.
        let revoked: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, l)| {
                self.devices
                    .get(&l.peer)
                    .is_some_and(|d| d.revoked.is_some())
            })
            .map(|(id, _)| *id)
            .collect();
        for id in revoked {
            self.end(id, "this device has been revoked".into());
        }
    }

    /// The peer as far as sharing goes.
    fn peer_kind(&self, peer: &DeviceId) -> Option<Peer> {
        if let Some(role) = self.devices.active_role(peer) {
            return Some(Peer::GroupDevice(role));
        }
        if self.devices.get(peer).is_some() {
            return None; // revoked
        }
        let own = self.group.profile().id;
        match self.peers.get(peer).and_then(|p| p.group) {
            // The inviting device before the devices document arrives: it
            // is a steward (only stewards invite).
            Some(g) if g == own => Some(Peer::GroupDevice(Role::Steward)),
            Some(_) => Some(Peer::Outside),
            None if self
                .cards
                .iter()
                .any(|(g, c)| *g != own && c.card().write_keys.contains(peer)) =>
            {
                Some(Peer::Outside)
            }
            None => None,
        }
    }

    /// Which groups' public documents a session with `peer` carries. Both
    /// ends work it out the same way: each knows whether it or the other is
    /// the national node (from its own profile and the other's card).
    fn scope(&self, peer: &DeviceId, kind: Peer) -> Scope {
        if matches!(kind, Peer::GroupDevice(_)) {
            return Scope::All;
        }
        let own = self.group.profile().id;
        let theirs = self.peers.get(peer).and_then(|p| p.group).or_else(|| {
            self.cards
                .iter()
                .find(|(g, c)| **g != own && c.card().write_keys.contains(peer))
                .map(|(g, _)| *g)
        });
        let national = |g: &GroupId| {
            self.cards
                .get(g)
                .is_some_and(|c| c.card().kind == crate::group::GroupKind::National.slug())
        };
        if national(&own) || theirs.as_ref().is_some_and(national) {
            Scope::Only([own].into_iter().chain(theirs).collect())
        } else {
            Scope::All
        }
    }

    fn shared_with(&self, peer: Peer, scope: &Scope) -> BTreeSet<DocId> {
        let own = self.group.profile().id;
        let mut set = shared_docs(&own, self.role, peer);
        for (id, (g, _)) in &self.index {
            if *g != own && scope.covers(g) {
                set.insert(*id);
            }
        }
        set
    }

    /// Handles one command. Returns false to stop.
    pub fn handle(&mut self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Open {
                peer,
                outbound,
                out,
                reply,
            } => {
                let r = self.open(peer, outbound, out);
                let _ = reply.send(r);
            }
            Cmd::Incoming { session, msg } => self.incoming(session, msg),
            Cmd::Closed { session, why } => self.closed(session, why),
            Cmd::Join {
                device,
                req,
                addrs,
                reply,
            } => {
                let r = self.join(device, req, addrs);
                let _ = reply.send(r);
            }
            Cmd::Link {
                device,
                card,
                addrs,
                reply,
            } => {
                let r = self
                    .link(device, &card, addrs)
                    .and_then(|_| self.own_card_bytes());
                let _ = reply.send(r);
            }
            Cmd::Linked {
                device,
                card,
                addrs,
                reply,
            } => {
                let r = self.link(device, &card, addrs);
                let _ = reply.send(r);
            }
            Cmd::SawAddrs { device, addrs } => self.saw(device, addrs),
            Cmd::Discovered { device, addrs } => self.discovered(device, addrs),
            Cmd::Gossiped { from, bytes } => self.gossiped(from, bytes),
            Cmd::GossipNeighbour { device, up } => {
                if up {
                    self.gossip_neighbours.insert(device);
                } else {
                    self.gossip_neighbours.remove(&device);
                }
            }
            Cmd::Affiliated {
                device,
                record,
                reply,
            } => {
                let r = self.affiliated(device, &record);
                let _ = reply.send(r);
            }
            Cmd::Compacted {
                doc,
                copy,
                snapshot,
            } => {
                self.compacting.remove(&doc);
                let mut copy = copy;
                if let Err(e) = self.group.store().compact_saved(&doc, &mut copy, &snapshot) {
                    tracing::warn!("compaction failed: {e}");
                }
            }
            Cmd::With(f) => f(self),
            Cmd::Shutdown(done) => {
                let ids: Vec<u64> = self.sessions.keys().copied().collect();
                for id in ids {
                    self.end(id, crate::net::SHUTTING_DOWN.into());
                }
                self.flush();
                let _ = done.send(());
                return false;
            }
        }
        true
    }

    fn open(
        &mut self,
        peer: DeviceId,
        outbound: bool,
        out: mpsc::Sender<Outgoing>,
    ) -> Result<(u64, Vec<Message>), String> {
        let Some(kind) = self.peer_kind(&peer) else {
            return Err("unknown or revoked device".into());
        };
        let dialer = if outbound { self.me } else { peer };
        // One session per peer: keep the connection the lower id dialed.
        if let Some((&old, live)) = self.sessions.iter().find(|(_, l)| l.peer == peer) {
            if dialer < live.dialer {
                self.end(old, "replaced by another connection".into());
            } else {
                return Err("already connected".into());
            }
        }
        let scope = self.scope(&peer, kind);
        let shared = self.shared_with(kind, &scope);
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
            },
        );
        self.last_error.remove(&peer);
        let _ = self.events.send(NodeEvent::PeerConnected {
            device: peer,
            group: self.peers.get(&peer).and_then(|p| p.group),
        });
        let addrs = self
            .peers
            .get(&peer)
            .map(|p| p.addrs.clone())
            .unwrap_or_default();
        self.gossip_send(crate::net::gossip::GossipCmd::Peer(peer, addrs));
        tracing::info!(peer = %peer.fmt_short(), outbound, "session started");
        Ok((id, first))
    }

    fn incoming(&mut self, session: u64, msg: Message) {
        let (mut host, mut docs, sessions) = self.split();
        let Some(live) = sessions.get_mut(&session) else {
            return;
        };
        host.scope = live.scope.clone();
        let result = live.session.handle(msg, &mut docs, &mut host);
        let peer = live.peer;
        let changed = std::mem::take(&mut host.changed);
        let new_cards = std::mem::take(&mut host.new_cards);
        let offered = std::mem::take(&mut host.offered_records);
        // The documents' lock is released before anything else runs.
        drop((host, docs));
        match result {
            Ok(replies) => {
                for m in replies {
                    self.send(session, m);
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
        }
        let (fresh, forged) = self.keep_records(offered, false);
        if let Some(e) = forged {
            tracing::warn!(peer = %peer.fmt_short(), "refused a record: {e}");
            self.last_error
                .insert(peer, format!("refused a record: {e}"));
            self.end(session, format!("bad record: {e}"));
        }
        self.spread_records(fresh, Some(session));
        self.after_changes(&changed, Some(session));
    }

    /// Sends a message on a session; a peer too slow to keep up is dropped.
    fn send(&mut self, session: u64, msg: Message) {
        let Some(live) = self.sessions.get(&session) else {
            return;
        };
        match live.out.try_send(Outgoing::Msg(msg)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let peer = live.peer;
                tracing::warn!(peer = %peer.fmt_short(), "peer is not keeping up; ending its session");
                self.end(session, "not keeping up".into());
            }
            // The connection is already gone; its Closed command follows.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Ends a session: saves its sync states and tells the connection.
    fn end(&mut self, session: u64, why: String) {
        if let Some(live) = self.sessions.remove(&session) {
            self.save_states(&live);
            let _ = live.out.try_send(Outgoing::Close(why.clone()));
            let _ = self.events.send(NodeEvent::PeerDisconnected {
                device: live.peer,
                reason: Some(why),
            });
        }
    }

    fn closed(&mut self, session: u64, why: Option<String>) {
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

    fn save_states(&self, live: &Live) {
        if let Err(e) = peers::save_states(&self.group, &live.peer, live.session.states()) {
            tracing::warn!("could not save sync states: {e}");
        }
    }

    /// After documents changed (from a peer or a local edit): refresh what
    /// depends on them and offer the changes to every other session.
    fn after_changes(&mut self, changed: &BTreeSet<DocId>, except: Option<u64>) {
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
                self.summary_due = true;
            }
            if let Some((g, k)) = self.index.get(doc) {
                let _ = self.events.send(NodeEvent::DocChanged {
                    group: *g,
                    kind: *k,
                });
            }
            self.compact_due.insert(*doc);
        }
        let ids: Vec<u64> = self
            .sessions
            .keys()
            .copied()
            .filter(|s| Some(*s) != except)
            .collect();
        for s in ids {
            for doc in changed {
                self.push(s, doc);
            }
        }
        let _ = own;
    }

    fn push(&mut self, session: u64, doc: &DocId) {
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

    /// Whether housekeeping is waiting for an idle moment.
    pub fn has_idle_work(&self) -> bool {
        !self.compact_due.is_empty() || self.summary_due || self.unflushed
    }

    /// The network records held.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// On a steward device: publishes a new membership summary if the
    /// figures changed since the last one (counts only; see
    /// `MembershipSummary::from_documents`).
    fn publish_summary(&mut self) {
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
    fn keep_record(&mut self, kind: u8, bytes: &[u8]) -> Result<bool, String> {
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
    fn keep_records(
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
    fn spread_records(&mut self, records: Vec<Vec<u8>>, except: Option<u64>) {
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

    /// One piece of housekeeping (compacting one document that gained
    /// changes), run when no command is waiting: a compaction of a large
    /// document takes milliseconds and must not delay sync messages.
    pub fn idle_work(&mut self) {
        if self.summary_due {
            self.publish_summary();
        } else if self.unflushed {
            self.flush();
        } else if let Some(doc) = self.compact_due.pop_first() {
            self.compact_if_due(&doc);
        }
    }

    /// Makes the records and cards kept without an fsync durable: once the
    /// node is idle after a burst of them, and when it stops.
    fn flush(&mut self) {
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

    fn gossip_send(&self, cmd: crate::net::gossip::GossipCmd) {
        if let Some(tx) = &self.gossip {
            let _ = tx.send(cmd);
        }
    }

    /// A card or record arrived by gossip: checked like one from a session.
    /// There is no session to end over a bad one; it is logged and dropped.
    fn gossiped(&mut self, from: DeviceId, bytes: Vec<u8>) {
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

    /// Where helper threads send their results (the daemon sets it).
    pub fn set_sender(&mut self, tx: mpsc::Sender<Cmd>) {
        self.to_self = Some(tx);
    }

    fn compact_if_due(&mut self, doc: &DocId) {
        if self.compacting.contains(doc)
            || !self.group.store().wants_compaction(doc).unwrap_or(false)
        {
            return;
        }
        let Some(copy) = self.group.docs().get_mut(doc).map(|d| d.fork()) else {
            return;
        };
        let Some(tx) = self.to_self.clone() else {
            // No helper thread to answer: save here.
            let mut copy = copy;
            if let Err(e) = self.group.store().compact(doc, &mut copy) {
                tracing::warn!("compaction failed: {e}");
            }
            return;
        };
        // Saving a large document takes milliseconds: do it on a helper
        // thread, and only the short store write here.
        self.compacting.insert(*doc);
        let id = *doc;
        let spawned = std::thread::Builder::new()
            .name("groundwork-save".into())
            .spawn(move || {
                let mut copy = copy;
                let snapshot = copy.save();
                let _ = tx.blocking_send(Cmd::Compacted {
                    doc: id,
                    copy: Box::new(copy),
                    snapshot,
                });
            });
        if let Err(e) = spawned {
            self.compacting.remove(doc);
            tracing::warn!("could not start a compaction: {e}");
        }
    }

    /// New groups became known from cards: hold their public documents and
    /// share them with every session.
    fn after_cards(&mut self, groups: Vec<GroupId>, except: u64) {
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
            self.gossip_send(crate::net::gossip::GossipCmd::Broadcast(tagged(
                KIND_CARD, c,
            )));
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
                    if open && !cards.is_empty() {
                        self.send(s, Message::Cards(cards.clone()));
                    }
                    msgs.into_iter().for_each(|m| self.send(s, m));
                }
                Err(e) => self.end(s, e.to_string()),
            }
        }
    }

    /// After a local edit through [`Group`] (which edits the loaded
    /// documents in place): send what it committed to every session.
    pub fn after_local_edit(&mut self) {
        let changed: BTreeSet<DocId> = self
            .group
            .take_committed()
            .into_iter()
            .map(|c| c.doc)
            .collect();
        self.after_changes(&changed, None);
    }

    fn join(&mut self, device: DeviceId, req: JoinRequest, addrs: Vec<SocketAddr>) -> JoinReply {
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
            kind: p.kind.slug().into(),
            founded: p.founded,
            role,
            group_secret,
        }))
    }

    fn own_card_bytes(&self) -> Result<Vec<u8>, String> {
        self.cards
            .get(&self.group.profile().id)
            .map(|c| c.bytes().to_vec())
            .ok_or_else(|| "this node has no group card yet (start a steward device once)".into())
    }

    fn link(
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
    fn affiliated(&mut self, device: DeviceId, record: &[u8]) -> Result<(), String> {
        let network = self
            .peers
            .get(&device)
            .filter(|p| p.linked)
            .and_then(|p| p.group)
            .ok_or("an affiliation must come from a linked national node")?;
        let is_national = self
            .cards
            .get(&network)
            .is_some_and(|c| c.card().kind == "national");
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
    fn discovered(&mut self, device: DeviceId, addrs: Vec<SocketAddr>) {
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

    fn saw(&mut self, device: DeviceId, addrs: Vec<SocketAddr>) {
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

    fn remember(
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

/// The actor's state as a session sees it (everything but the documents
/// and the sessions, which are borrowed alongside).
struct Host<'a> {
    group: &'a Group,
    index: &'a mut BTreeMap<DocId, (GroupId, DocKind)>,
    devices: &'a Devices,
    cards: &'a mut BTreeMap<GroupId, SignedCard>,
    events: &'a tokio::sync::broadcast::Sender<NodeEvent>,
    changed: BTreeSet<DocId>,
    new_cards: Vec<GroupId>,
    staged_devices: Option<Devices>,
    records: &'a Records,
    offered_records: Vec<Vec<u8>>,
    /// The scope of the session whose message is being handled.
    scope: Scope,
}

impl Actor {
    fn split(
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
            ..
        } = self;
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
                staged_devices: None,
                records,
                offered_records: Vec::new(),
                scope: Scope::All,
            },
            group.docs(),
            sessions,
        )
    }
}

impl Host<'_> {
    /// Keeps a verified card if it is newer than the one held. Returns
    /// whether the group was not known before.
    fn keep_card(&mut self, card: SignedCard) -> bool {
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
        let own = self.group.profile().id;
        let Some((g, kind)) = self.index.get(doc) else {
            return false;
        };
        if *g == own {
            let devices = self.staged_devices.as_ref().unwrap_or(self.devices);
            // The group's card (signed by the group key) is the root of
            // trust: its stewards may write the devices document, and its
            // writers the documents stewards and organisers keep, even
            // before this device has synced the devices document.
            let by_card = self.cards.get(&own).is_some_and(|c| {
                let card = c.card();
                match kind {
                    DocKind::Devices => card.stewards.contains(author),
                    DocKind::Meetups => card.write_keys.contains(author),
                    _ => Role::Organiser.may_write(*kind) && card.write_keys.contains(author),
                }
            });
            by_card || devices.may_write(author, *kind)
        } else {
            self.cards
                .get(g)
                .is_some_and(|c| c.may_write(author, *kind))
        }
    }

    fn store(&mut self, doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), String> {
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
            .commit(&stored, &[])
            .map_err(|e| e.to_string())?;
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

    fn cards(&self) -> Vec<Vec<u8>> {
        self.cards.values().map(|c| c.bytes().to_vec()).collect()
    }

    fn records(&self) -> Vec<Vec<u8>> {
        self.records.tagged()
    }

    fn receive_records(&mut self, records: Vec<Vec<u8>>) -> Result<(), String> {
        // Checked and kept by the actor once the message is handled.
        self.offered_records.extend(records);
        Ok(())
    }

    fn receive_cards(&mut self, cards: Vec<Vec<u8>>) -> Result<Vec<DocId>, String> {
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
            let card = SignedCard::from_bytes(&bytes).map_err(|e| e.to_string())?;
            let g = card.card().group;
            let seq = card.card().seq;
            let held = self.cards.get(&g).or_else(|| fresh.get(&g));
            if held.is_none_or(|h| h.card().seq < seq) {
                fresh.insert(g, card);
            }
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
            if self.cards.insert(g, card).is_some() {
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

/// What the node knows of a peer right now.
#[derive(Clone, Debug, Default)]
pub struct PeerNow {
    /// A session is open.
    pub connected: bool,
    /// The last failure talking to it.
    pub last_error: Option<String>,
    /// While connected: every shared document in sync.
    pub in_sync: Option<bool>,
}

/// What this node knows of its peers, for `peer list` and `status`:
/// remembered peers, with `live` applied.
pub fn peer_statuses(
    group: &Group,
    live: &BTreeMap<DeviceId, PeerNow>,
) -> Result<Vec<groundwork_protocol::control::PeerStatus>, GroupError> {
    let names: BTreeMap<[u8; 32], String> = group
        .store()
        .cards()?
        .into_iter()
        .filter_map(|(k, b)| {
            SignedCard::from_bytes(&b)
                .ok()
                .map(|c| (k, c.card().name.clone()))
        })
        .collect();
    Ok(peers::load(group)?
        .into_values()
        .map(|p| {
            let l = live.get(&p.device).cloned().unwrap_or_default();
            groundwork_protocol::control::PeerStatus {
                device: p.device,
                group: p.group,
                name: p.group.and_then(|g| names.get(g.as_bytes()).cloned()),
                connected: l.connected,
                last_seen: Some(p.last_seen).filter(|s| *s > 0),
                last_error: l.last_error,
                in_sync: l.in_sync,
            }
        })
        .collect())
}

/// What the store holds of the network: this node's network, the newest
/// records, and the verified cards.
fn held_network(group: &Group) -> Result<(Option<GroupId>, Records, Vec<SignedCard>), GroupError> {
    let network = own_network(group)?;
    let mut records = Records::default();
    for (kind, (_, bytes)) in group.store().records()? {
        let _ = records.offer(kind, &bytes, network);
    }
    let cards = group
        .store()
        .cards()?
        .into_iter()
        .filter_map(|(_, b)| SignedCard::from_bytes(&b).ok())
        .collect();
    Ok((network, records, cards))
}

/// The directory of groups, from the cards and records in the store (a
/// running node stores every record before it uses it, so this is current).
pub fn directory(
    group: &Group,
) -> Result<Vec<groundwork_protocol::control::DirectoryEntry>, GroupError> {
    let (network, records, cards) = held_network(group)?;
    Ok(directory_of(network, &records, cards.iter()))
}

/// The directory from records and cards already verified.
fn directory_of<'a>(
    network: Option<GroupId>,
    records: &Records,
    cards: impl Iterator<Item = &'a SignedCard>,
) -> Vec<groundwork_protocol::control::DirectoryEntry> {
    let mut out: Vec<_> = cards
        .map(|card| {
            let c = card.card();
            let summary = records.summaries.get(&c.group).map(|s| s.record());
            groundwork_protocol::control::DirectoryEntry {
                group: c.group,
                name: c.name.clone(),
                area: c.area.clone(),
                kind: c.kind.clone(),
                members: summary.map(|s| groundwork_protocol::report::Cell::of(s.members)),
                established: summary.map(|s| s.established),
                affiliated: records
                    .affiliations
                    .get(&c.group)
                    .is_some_and(|a| Some(a.record().network) == network),
                last_seen: summary.map(|s| s.as_of),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The network's figures (`report`), from the cards, the newest summaries
/// and the summary history in the store.
pub fn report(group: &Group) -> Result<groundwork_protocol::report::NetworkReport, GroupError> {
    let (network, records, cards) = held_network(group)?;
    report_of(group, network, &records, cards.iter())
}

/// The report from records and cards already verified (a running node's).
fn report_of<'a>(
    group: &Group,
    network: Option<GroupId>,
    records: &Records,
    cards: impl Iterator<Item = &'a SignedCard>,
) -> Result<groundwork_protocol::report::NetworkReport, GroupError> {
    use groundwork_protocol::report::{Listed, build};
    let listed: Vec<Listed> = cards
        .map(|card| {
            let c = card.card();
            Listed {
                group: c.group,
                name: c.name.clone(),
                area: c.area.clone(),
                kind: c.kind.clone(),
                affiliated: records
                    .affiliations
                    .get(&c.group)
                    .is_some_and(|a| Some(a.record().network) == network),
            }
        })
        .collect();
    let latest = records
        .summaries
        .iter()
        .map(|s| (s.record().group, s.record().clone()))
        .collect();
    // Every entry was verified before it was stored.
    let history: Vec<MembershipSummary> = group
        .store()
        .summary_history()?
        .iter()
        .filter_map(|b| groundwork_protocol::records::decode_stored(b))
        .collect();
    Ok(build(network, &listed, &latest, &history))
}

impl Actor {
    /// The directory from what this node holds in memory.
    pub fn directory(&self) -> Vec<groundwork_protocol::control::DirectoryEntry> {
        directory_of(self.network, &self.records, self.cards.values())
    }

    /// The network's figures from what this node holds in memory.
    pub fn report(&self) -> Result<groundwork_protocol::report::NetworkReport, GroupError> {
        report_of(
            &self.group,
            self.network,
            &self.records,
            self.cards.values(),
        )
    }
}

/// The records in the store (each verified again).
fn load_records(group: &Group, network: Option<GroupId>) -> Records {
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
fn own_network(group: &Group) -> Result<Option<GroupId>, GroupError> {
    if group.profile().kind == crate::group::GroupKind::National {
        return Ok(Some(group.profile().id));
    }
    Ok(group.affiliation()?.map(|a| a.record().network))
}

/// The tag of a group card in a gossip message (records use their kinds).
const KIND_CARD: u8 = 0;

/// A record with its kind byte in front, as `Records` carries it.
fn tagged(kind: u8, bytes: &[u8]) -> Vec<u8> {
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
fn record_name(kind: u8) -> &'static str {
    match kind {
        KIND_AFFILIATION => "affiliation",
        KIND_SUMMARY => "summary",
        _ => "record",
    }
}

/// The group a (verified) record is about, for a log line.
fn record_subject(kind: u8, bytes: &[u8]) -> Option<GroupId> {
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
    fn offer(
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
    fn tagged(&self) -> Vec<Vec<u8>> {
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

/// Decodes a persisted sync state; a bad one is dropped (the next sync
/// just costs a little more).
fn decode_state(bytes: &[u8]) -> Option<State> {
    State::decode(bytes).ok()
}
