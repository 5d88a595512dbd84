//! The running node's state, owned by one thread (the actor).
//!
//! Everything that touches the store or an Automerge document happens on
//! the actor thread: network tasks and the control socket send it [`Cmd`]s
//! over a bounded channel and get answers on oneshot channels. The store
//! has one writer and async tasks never block on disk or CPU work. The
//! loaded documents sit behind one mutex (`Group::docs`), which only the
//! actor and the helper threads it starts take, never across a command.
//!
//! The actor holds every document this device may read (its group's, and
//! the public documents of every group it holds a card for) loaded in
//! memory, one [`Session`] per connected peer, and the write rules. A local
//! edit (a control request, [`Ask::Control`]) is committed durably by
//! [`Group`], then offered to every session at once. Changes from peers
//! are verified and stored, made durable with one fsync per batch of
//! commands, and only then answered and offered to every other session (so
//! a device relays between peers that never meet).
//!
//! # Layout
//!
//! - this file: the [`Actor`] state, loading it, the write and share
//!   context (devices, cards, admission, scope), and the command dispatch;
//! - `run`: the loop: batches, the one fsync per batch, the summary's
//!   throttle, housekeeping when idle;
//! - `cmd`: the inbox ([`Cmd`]) and what goes out to a peer ([`Outgoing`]);
//! - `queries`: the typed questions callers ask ([`Ask`]), control
//!   requests among them;
//! - `sessions`: one [`Session`] per connected peer, and relaying changes;
//! - `host`: the [`SessionStore`] a session asks (signatures, write rules,
//!   storage, cards);
//! - `records`: network records, gossip, and this group's summary;
//! - `links`: joining, linking, affiliating, and where peers are;
//! - `error`: why the actor refused a record, a link answer or an
//!   affiliation ([`ActorError`], with its control API code);
//! - `compaction`: snapshots saved on a helper thread, written when idle;
//! - `directory`: what `peer list`, `status`, `network` and `report` show;
//! - `peers`: remembered peers and their sync states in the store.

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
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::{Docs, Session, SessionStore};
use groundwork_protocol::sync::{Equivocation, SeqIndex, SyncError, VerifiedChange};
use groundwork_protocol::trust::change::{EquivocationProof, SignedChange};
use groundwork_protocol::trust::scope::{Peer, Scope, peer_of, scope, session_docs};
use groundwork_protocol::trust::{Links, View};
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId};
use tokio::sync::{mpsc, oneshot};

use crate::group::{Group, GroupError};
use crate::store::StoredChange;

mod cmd;
mod compaction;
mod directory;
mod error;
mod host;
mod links;
mod peers;
mod queries;
mod records;
mod run;
mod sessions;

pub use cmd::{Cmd, GossipCmd, Inbox, MAX_QUEUED_BYTES, Outbox, Outgoing};
pub use directory::{PeerNow, directory, peer_statuses, report};
pub use error::ActorError;
pub use peers::{PeerRecord, remember_linked};
pub use queries::{Ask, ControlContext, DialState, LinkCardError, Overview};
pub use records::Records;
use records::{KIND_CARD, load_records, own_network, tagged};
pub use run::SUMMARY_EVERY;

/// A live session.
struct Live {
    peer: DeviceId,
    /// The device that dialed this connection (to keep one per peer).
    dialer: DeviceId,
    session: Session,
    out: Outbox,
    /// Whose public documents this session carries.
    scope: Scope,
    /// When it opened.
    opened: std::time::Instant,
    /// The peer is a steward or organiser device of this group: its
    /// group's links are this device's too (`trust::records::Directory`).
    vouches: bool,
}

/// Two connections with one peer within this long of each other are a
/// race (both dialed); a later one means the peer lost the first (it
/// restarted, or its network changed) and replaces it.
const DIAL_RACE: std::time::Duration = std::time::Duration::from_secs(5);

pub use groundwork_protocol::trust::admission::Admission;

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
    /// The links this node holds, from `peers`: what the trust rules read.
    links: Links,
    /// The device this one joined through, until the devices document
    /// names it (see `trust::View::inviter`).
    inviter: Option<DeviceId>,
    sessions: BTreeMap<u64, Live>,
    next_session: u64,
    admission: Arc<RwLock<Admission>>,
    events: tokio::sync::broadcast::Sender<NodeEvent>,
    /// Peers to dial, for the network side.
    dial: mpsc::UnboundedSender<PeerRecord>,
    /// The last error per peer, for `status`.
    last_error: BTreeMap<DeviceId, String>,
    /// When each peer last sent this node anything (Unix seconds): written
    /// to its record when a session opens and ends, kept here in between.
    heard: BTreeMap<DeviceId, u64>,
    /// Documents that may want compacting, done when the node is idle.
    compact_due: BTreeSet<DocId>,
    /// Documents being saved on a helper thread.
    compacting: BTreeSet<DocId>,
    /// Network records held, newest per group.
    records: Records,
    /// The network this node belongs to: its own id on the national node,
    /// else its affiliation's network, once it has one.
    network: Option<GroupId>,
    /// Recounting the group's summary (throttled, off this thread).
    summary: run::SummaryWork,
    /// While a batch of commands runs: what it holds back until the
    /// changes it stored are durable.
    held: Option<run::Held>,
    /// Changes from peers were stored without an fsync in this batch.
    changes_unflushed: bool,
    /// Snapshots saved on a helper thread, written to the store when idle.
    compacted: Vec<compaction::Compacted>,
    /// (document, device, genesis) already noted as holding this node's
    /// epoch of the document ([`Group::note_epoch_holder`]).
    epoch_seen: BTreeSet<(DocId, DeviceId, ChangeHash)>,
    /// The actor's own command channel, for helper threads to answer on.
    to_self: Option<mpsc::Sender<Cmd>>,
    /// The gossip task, once the daemon has started it.
    gossip: Option<mpsc::UnboundedSender<GossipCmd>>,
    /// Direct gossip neighbours now.
    gossip_neighbours: BTreeSet<DeviceId>,
    /// Valid cards and records that arrived by gossip (new or not).
    gossip_received: u64,
    /// Records or cards were committed without an fsync since the last
    /// durable commit.
    unflushed: bool,
    /// Each loaded document's sequence index (see `SeqIndex`), built when
    /// a peer first sends changes to it; dropped when a local edit changes
    /// the document.
    seqs: BTreeMap<DocId, SeqIndex>,
    /// Proofs of devices signing two changes with one sequence number.
    equivocations: Vec<EquivocationProof>,
    /// Valid cards of groups not known when they came (their affiliation
    /// may follow them): at most `MAX_PARKED_CARDS`, looked at again when
    /// records arrive, never stored.
    parked_cards: BTreeMap<GroupId, SignedCard>,
    /// Valid records (tagged) about groups or networks not known when they
    /// came, by (kind, subject): at most `MAX_PARKED_RECORDS`, offered
    /// again when an affiliation is kept (a summary can arrive before the
    /// affiliation that makes its group known, and is not sent again
    /// until its figures change), never stored.
    parked_records: BTreeMap<(u8, GroupId), Vec<u8>>,
}

/// The most records kept waiting for their group to become known.
const MAX_PARKED_RECORDS: usize = 4096;

/// The most cards kept waiting for their group to become known.
const MAX_PARKED_CARDS: usize = 256;

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("me", &self.me)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// The equivocation proofs in the store (each verified again).
fn load_equivocations(group: &Group) -> Vec<EquivocationProof> {
    match group.store().equivocations() {
        Ok(all) => all
            .iter()
            .filter_map(|b| EquivocationProof::decode(b))
            .filter(|p| p.verify().is_ok())
            .collect(),
        Err(e) => {
            tracing::warn!("could not read the equivocation proofs: {e}");
            Vec::new()
        }
    }
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
            links: peers::links(&peers, group.profile().id),
            inviter: None,
            peers,
            sessions: BTreeMap::new(),
            next_session: 1,
            admission,
            events,
            dial,
            last_error: BTreeMap::new(),
            heard: BTreeMap::new(),
            compact_due: BTreeSet::new(),
            compacting: BTreeSet::new(),
            records: Records::default(),
            network,
            summary: run::SummaryWork {
                due: true,
                ..Default::default()
            },
            held: None,
            changes_unflushed: false,
            compacted: Vec::new(),
            epoch_seen: BTreeSet::new(),
            to_self: None,
            gossip: None,
            gossip_neighbours: BTreeSet::new(),
            gossip_received: 0,
            unflushed: false,
            seqs: BTreeMap::new(),
            equivocations: load_equivocations(&group),
            parked_cards: BTreeMap::new(),
            parked_records: BTreeMap::new(),
            group,
        };
        actor.refresh_devices()?;
        actor.records = load_records(&actor.group);
        if let Some(a) = actor.group.affiliation()? {
            let _ = actor.records.offer(KIND_AFFILIATION, a.bytes(), None);
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

    /// Proofs of devices that signed two changes with one sequence number.
    pub fn equivocations(&self) -> &[EquivocationProof] {
        &self.equivocations
    }

    /// The sessions that stopped syncing `doc`: (peer, how it stopped).
    /// A peer that does not share the document is not a failure, and not
    /// shown.
    pub fn doc_stopped(
        &self,
        doc: &DocId,
    ) -> Vec<(DeviceId, groundwork_protocol::sync::session::Stopped)> {
        use groundwork_protocol::sync::session::NOT_SHARED;
        self.sessions
            .values()
            .filter_map(|l| l.session.stopped().get(doc).map(|s| (l.peer, s.clone())))
            .filter(|(_, s)| !(s.by_peer && s.reason == NOT_SHARED))
            .collect()
    }

    /// The group and kind of a loaded document.
    pub fn doc_of(&self, doc: &DocId) -> Option<(GroupId, DocKind)> {
        self.index.get(doc).copied()
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

    /// Past epoch 0, this group's devices that may read `doc` (of `kind`)
    /// and have not been seen holding this node's epoch of it.
    pub fn doc_old_epoch(&self, doc: &DocId, kind: DocKind) -> Vec<DeviceId> {
        if self.group.epoch(doc) == 0 {
            return Vec::new();
        }
        let holders = self.group.epoch_holders(doc);
        self.devices
            .devices
            .iter()
            .filter(|(_, e)| e.revoked.is_none() && e.role.may_read(kind))
            .filter_map(|(k, _)| k.parse::<DeviceId>().ok())
            .filter(|d| *d != self.me && !holders.contains(d))
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

    /// On a steward device: re-sign the group card if the devices changed,
    /// and send it at once to every session and by gossip, so linked
    /// groups and the national node admit a new device (and drop a
    /// revoked one) without waiting for their next session.
    fn refresh_card(&mut self) -> Result<(), GroupError> {
        let own = self.group.profile().id;
        if let Some(card) = self
            .group
            .refresh_own_card(self.cards.get(&own), rand::random())?
        {
            let fresh = self.cards.get(&own) != Some(&card);
            if fresh {
                self.group.store().put_card(own.as_bytes(), card.bytes())?;
                self.cards.insert(own, card);
                self.after_cards(vec![own], 0);
            }
        }
        Ok(())
    }

    /// What the trust rules read: this node, its devices, cards and links.
    fn view(&self) -> View<'_> {
        let own = self.group.profile().id;
        View {
            me: self.me,
            own,
            own_kind: self.group.profile().kind,
            devices: &self.devices,
            cards: &self.cards,
            links: &self.links,
            inviter: self.inviter,
        }
    }

    /// After the devices, peers or cards changed: the links and the
    /// handshake's admission table again, and no session for a revoked device.
    fn refresh_admission(&mut self) {
        let own = self.group.profile().id;
        self.links = peers::links(&self.peers, own);
        self.inviter = self
            .peers
            .values()
            .find(|p| p.group == Some(own) && self.devices.get(&p.device).is_none())
            .map(|p| p.device);
        let a = Admission::of(&self.view());
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

    /// Handles one command. Returns false to stop.
    pub fn handle(&mut self, cmd: Cmd) -> bool {
        // A command answered on its own channel must not describe changes
        // that are not yet durable.
        if matches!(
            cmd,
            Cmd::Open { .. }
                | Cmd::Ask(_)
                | Cmd::Join { .. }
                | Cmd::Recover { .. }
                | Cmd::LinkRequest { .. }
                | Cmd::LinkAnswered { .. }
                | Cmd::Affiliated { .. }
        ) {
            self.make_durable();
        }
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
            Cmd::Recover {
                device,
                card,
                reply,
            } => {
                let r = self.recover(device, card);
                let _ = reply.send(r);
            }
            Cmd::LinkRequest {
                device,
                card,
                code,
                addrs,
                reply,
            } => {
                let r = self.link_request(device, &card, code, addrs);
                let _ = reply.send(r);
            }
            Cmd::LinkAnswered {
                device,
                answer,
                addrs,
                reply,
            } => {
                let r = self.link_answered(device, answer, addrs);
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
            Cmd::Affiliated { record, reply } => {
                let r = self.affiliated(&record);
                let _ = reply.send(r);
            }
            Cmd::Compacted {
                doc,
                copy,
                snapshot,
                epoch,
            } => {
                // Written when nothing waits: never ahead of an edit or a
                // sync message.
                self.compacted.push(compaction::Compacted {
                    doc,
                    copy,
                    snapshot,
                    epoch,
                });
            }
            Cmd::SummaryCounted(counted) => self.summary_counted(*counted),
            Cmd::Ask(ask) => self.answer(ask),
            Cmd::PeerError { device, error } => self.note_error(device, error),
            Cmd::Shutdown(done) => {
                self.end_batch();
                let ids: Vec<u64> = self.sessions.keys().copied().collect();
                for id in ids {
                    self.end(
                        id,
                        groundwork_protocol::sync::messages::SHUTTING_DOWN.into(),
                    );
                }
                self.flush();
                let _ = done.send(());
                return false;
            }
        }
        true
    }

    /// Whether housekeeping is waiting for an idle moment.
    pub fn has_idle_work(&self) -> bool {
        !self.compact_due.is_empty()
            || !self.compacted.is_empty()
            || self.summary.due_now(self.group.clock().instant())
            || self.unflushed
    }

    /// One piece of housekeeping (compacting one document that gained
    /// changes), run when no command is waiting: a compaction of a large
    /// document takes milliseconds and must not delay sync messages.
    pub fn idle_work(&mut self) {
        if self.summary.due_now(self.group.clock().instant()) {
            self.start_summary();
        } else if self.unflushed {
            self.flush();
        } else if let Some(c) = self.compacted.pop() {
            self.write_compacted(c);
        } else if let Some(doc) = self.compact_due.pop_first() {
            self.compact_if_due(&doc);
        }
    }

    /// Where helper threads send their results (the daemon sets it).
    pub fn set_sender(&mut self, tx: mpsc::Sender<Cmd>) {
        self.to_self = Some(tx);
    }

    /// After a local edit through [`Group`] (which edits the loaded
    /// documents in place): send what it committed to every session.
    pub(super) fn after_local_edit(&mut self) {
        let changed: BTreeSet<DocId> = self
            .group
            .take_committed()
            .into_iter()
            .map(|c| c.doc)
            .collect();
        for doc in &changed {
            self.seqs.remove(doc);
        }
        self.after_changes(&changed, None);
        let _ = self.epochs_switched(None);
    }
}

/// Decodes a persisted sync state; a bad one is dropped (the next sync
/// just costs a little more).
fn decode_state(bytes: &[u8]) -> Option<State> {
    State::decode(bytes).ok()
}
