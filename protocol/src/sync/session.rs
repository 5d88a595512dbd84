//! One sync session with one peer over one connection: a pure state
//! machine. The node feeds it decoded [`Message`]s and sends what it
//! returns; the session never touches a socket or the disk itself.
//!
//! ```text
//! both:  Hello(digest of the shared documents' heads)
//!        equal digests        → nothing more (unchanged documents cost nothing)
//!        different digests    → Inventory (8-byte print per card and record),
//!                               Epoch (per document past epoch 0),
//!                               Prints (8-byte fingerprint per document)
//! both:  on the peer's Inventory → Records, Cards it lacks
//! both:  for each document whose heads differ → Sync messages until quiet
//! later: a local edit         → Sync for that document at once
//! ```
//!
//! `Sync` for a document flows only while both sides have said they hold
//! the same epoch of it; the side behind switches when it reads the other's
//! `Epoch` ([`SessionStore::receive_epoch`]) and says so.
//!
//! Every received change is verified ([`super::receive_verified`]) and
//! handed to [`SessionStore::store`] (which must make it durable) before the
//! session answers. A document the session does not share is never named
//! to the peer, and a message about one ends the session.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync::{BloomFilter, Have, State};
use automerge::{AutoCommit, ChangeHash};

use super::messages::{Message, VERSION, fingerprint};
use super::{SeqIndex, SyncError, generate, receive_verified};
use crate::epoch::SignedEpoch;
use crate::ids::DocId;
use crate::keys::{DeviceId, GroupId};
use crate::signed::SIGNATURE_LEN;
use crate::trust::change::SignedChange;
use crate::wire::digest::heads_digest;

pub use store::{HostError, SessionStore};

/// The documents a session works on, loaded, by id.
pub type Docs = BTreeMap<DocId, AutoCommit>;

/// The write rule of one document, from the store.
struct StoreRule<'a, S> {
    doc: &'a DocId,
    store: &'a mut S,
}

impl<S: SessionStore> super::WriteRule for StoreRule<'_, S> {
    fn may_write(&self, author: &DeviceId) -> bool {
        self.store.may_write(self.doc, author)
    }
    fn within_cut(&self, author: &DeviceId, seq: u64) -> bool {
        self.store.within_cut(self.doc, author, seq)
    }
    fn learns(&self) -> bool {
        self.store.learns(self.doc)
    }
    fn learn(&mut self, accepted: &AutoCommit) {
        self.store.learn(self.doc, accepted);
    }
}

/// Why a session ended badly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// A protocol version we do not speak.
    #[error("peer speaks sync protocol version {0}, this node speaks {VERSION}")]
    Version(u16),
    /// The peer is in another group than this session expects.
    #[error("peer belongs to another group ({0})")]
    WrongGroup(String),
    /// A message before the peer's hello, or a second hello.
    #[error("unexpected {0} message")]
    Unexpected(&'static str),
    /// A change or message failed verification.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Storing verified changes failed.
    #[error("storing changes failed: {0}")]
    Store(HostError),
    /// The peer offered a card or record that failed verification.
    #[error("peer offered a bad group card: {0}")]
    Card(HostError),
    /// The node lost a document it said it shares.
    #[error("a shared document is not loaded")]
    MissingDoc,
}

/// A session with one peer.
#[derive(Debug)]
pub struct Session {
    group: GroupId,
    same_group: bool,
    shared: BTreeSet<DocId>,
    states: BTreeMap<DocId, State>,
    peer_said_hello: bool,
    peer_group: Option<GroupId>,
    /// The peer's heads per document as last heard (from `Heads`, a
    /// matching digest, or a sync message).
    their_heads: BTreeMap<DocId, Vec<ChangeHash>>,
    /// A document to name and sync before the others.
    first: Option<DocId>,
    /// Whether this side has sent its `Heads`.
    sent_heads: bool,
    /// Whether this side has sent its `Inventory`.
    sent_inventory: bool,
    /// Documents this session no longer syncs, and why.
    stopped: BTreeMap<DocId, Stopped>,
    /// Documents whose changes arrived without their dependencies.
    resync: BTreeMap<DocId, Resync>,
    /// The epoch of each document the peer has said it holds, and its
    /// genesis hash (none said: epoch 0).
    their_epochs: BTreeMap<DocId, (u64, ChangeHash)>,
    /// Documents whose epoch this side has announced this session.
    sent_epochs: BTreeSet<DocId>,
    /// Epoch records (document, number, genesis) refused this session, so
    /// one sent again is not checked again.
    refused_epochs: BTreeSet<(DocId, u64, ChangeHash)>,
    /// Epochs (document, genesis) whose genesis this side asked for.
    wanted_epochs: BTreeSet<(DocId, ChangeHash)>,
    /// Epochs (document, genesis) whose genesis this side has sent.
    sent_geneses: BTreeSet<(DocId, ChangeHash)>,
}

/// A document whose changes arrived without their dependencies.
#[derive(Clone, Copy, Debug, Default)]
struct Resync {
    /// The next message asks the peer to send again.
    pending: bool,
    /// Messages in a row with missing dependencies.
    runs: u8,
}

/// A document a session stopped syncing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Whether the peer stopped it (it sent `DocStop`), else this side.
    pub by_peer: bool,
    /// Why.
    pub reason: String,
}

/// The `DocStop` reason for a document this node does not share.
pub const NOT_SHARED: &str = "this node does not share that document";

/// A peer whose changes keep arriving without their dependencies after
/// this many resends in a row has the document stopped.
pub const MAX_RESYNCS: u8 = 3;

fn sorted(mut h: Vec<ChangeHash>) -> Vec<ChangeHash> {
    h.sort();
    h
}

fn prints(heads: &[(DocId, Vec<ChangeHash>)]) -> Vec<[u8; 8]> {
    heads.iter().map(|(d, h)| fingerprint(d, h)).collect()
}

/// Records in `state` that the peer has exactly `heads`, so the next local
/// change goes out in one message instead of a round of negotiation.
fn prime(state: &mut State, heads: &[ChangeHash]) {
    state.shared_heads = heads.to_vec();
    state.last_sent_heads = heads.to_vec();
    state.their_heads = Some(heads.to_vec());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![Have {
        last_sync: heads.to_vec(),
        bloom: BloomFilter::default(),
    }]);
    state.have_responded = true;
    state.in_flight = false;
}

impl Session {
    /// A session with another device of `group`, sharing `shared`. `states`
    /// are the sync states persisted from the last session with this peer.
    pub fn new(group: GroupId, shared: BTreeSet<DocId>, states: BTreeMap<DocId, State>) -> Self {
        Self::build(group, true, shared, states)
    }

    /// A session with a device of another group (a linked group or the
    /// national body): only public documents are in `shared`.
    pub fn linked(group: GroupId, shared: BTreeSet<DocId>, states: BTreeMap<DocId, State>) -> Self {
        Self::build(group, false, shared, states)
    }

    fn build(
        group: GroupId,
        same_group: bool,
        shared: BTreeSet<DocId>,
        mut states: BTreeMap<DocId, State>,
    ) -> Self {
        states.retain(|d, _| shared.contains(d));
        Session {
            group,
            same_group,
            shared,
            states,
            peer_said_hello: false,
            peer_group: None,
            their_heads: BTreeMap::new(),
            first: None,
            sent_heads: false,
            sent_inventory: false,
            stopped: BTreeMap::new(),
            resync: BTreeMap::new(),
            their_epochs: BTreeMap::new(),
            sent_epochs: BTreeSet::new(),
            refused_epochs: BTreeSet::new(),
            wanted_epochs: BTreeSet::new(),
            sent_geneses: BTreeSet::new(),
        }
    }

    /// Names and syncs `doc` before the other documents (the node puts the
    /// `devices` document first: it decides who may write the rest).
    pub fn put_first(&mut self, doc: DocId) {
        self.first = Some(doc);
    }

    /// The sync states to persist for this peer.
    pub fn states(&self) -> &BTreeMap<DocId, State> {
        &self.states
    }

    /// The documents this session shares.
    pub fn shared(&self) -> &BTreeSet<DocId> {
        &self.shared
    }

    /// The documents this session stopped syncing, and why.
    pub fn stopped(&self) -> &BTreeMap<DocId, Stopped> {
        &self.stopped
    }

    /// Whether the peer has said hello (messages may be sent to it).
    pub fn is_open(&self) -> bool {
        self.peer_said_hello
    }

    /// The group the peer said it belongs to, once it has said hello.
    pub fn peer_group(&self) -> Option<GroupId> {
        self.peer_group
    }

    /// Starts sharing more documents (the node learned of a group from
    /// another peer). They are synced from the next message on.
    pub fn share_more(
        &mut self,
        docs_to_add: impl IntoIterator<Item = DocId>,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        let mut out = Vec::new();
        for d in docs_to_add {
            if self.shared.insert(d) && self.peer_said_hello {
                let doc = docs.entry(d).or_insert_with(crate::edit::new_doc);
                // Announced only with content: of an empty document the
                // side that holds something speaks first (its cards come
                // before its documents), and a node that learns of a group
                // does not offer every peer two empty documents.
                if !doc.get_heads().is_empty() {
                    out.extend(self.next_for(&d, docs, store)?);
                }
            }
        }
        Ok(out)
    }

    /// Whether, as far as this session knows, the peer holds exactly what
    /// this node holds for every shared document.
    /// Stopped documents are left out: they cannot converge this session.
    pub fn is_synced(&self, docs: &mut Docs) -> bool {
        self.peer_said_hello
            && self
                .shared
                .iter()
                .filter(|d| !self.stopped.contains_key(d))
                .all(|d| {
                    let ours = docs.get_mut(d).map(|doc| sorted(doc.get_heads()));
                    ours.is_some() && self.their_heads.get(d) == ours.as_ref()
                })
    }

    /// Whether the peer last said it holds `ours` (this node's heads of
    /// `doc`): `None` when this session does not carry `doc`.
    pub fn doc_in_sync(&self, doc: &DocId, ours: &[ChangeHash]) -> Option<bool> {
        if !self.shared.contains(doc) {
            return None;
        }
        let ours = sorted(ours.to_vec());
        Some(self.peer_said_hello && self.their_heads.get(doc) == Some(&ours))
    }

    fn heads(&self, docs: &mut Docs) -> Result<Vec<(DocId, Vec<ChangeHash>)>, SessionError> {
        let first = self.first.filter(|f| self.shared.contains(f));
        first
            .iter()
            .chain(self.shared.iter().filter(|d| Some(**d) != first))
            .map(|d| {
                let h = docs.get_mut(d).ok_or(SessionError::MissingDoc)?.get_heads();
                Ok((*d, sorted(h)))
            })
            .collect()
    }

    fn digest(&self, heads: &[(DocId, Vec<ChangeHash>)], store: &impl SessionStore) -> [u8; 32] {
        let docs = heads_digest(heads.iter().map(|(d, h)| (d, h.as_slice())));
        let mut cards: Vec<[u8; 32]> = store
            .cards()
            .iter()
            .chain(store.records().iter())
            .map(|c| *blake3::hash(c).as_bytes())
            .collect();
        if cards.is_empty() {
            return docs;
        }
        cards.sort();
        let mut h = blake3::Hasher::new();
        h.update(b"groundwork/session-digest/v1");
        h.update(&docs);
        for c in cards {
            h.update(&c);
        }
        *h.finalize().as_bytes()
    }

    /// The opening message.
    pub fn start(
        &mut self,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        for d in &self.shared {
            docs.entry(*d).or_insert_with(crate::edit::new_doc);
        }
        let heads = self.heads(docs)?;
        Ok(vec![Message::Hello {
            version: VERSION,
            group: self.group,
            digest: self.digest(&heads, store),
        }])
    }

    /// Handles one message from the peer; returns the replies.
    pub fn handle(
        &mut self,
        msg: Message,
        docs: &mut Docs,
        store: &mut impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        match msg {
            Message::Hello {
                version,
                group,
                digest,
            } => {
                if self.peer_said_hello {
                    return Err(SessionError::Unexpected("second hello"));
                }
                if version != VERSION {
                    return Err(SessionError::Version(version));
                }
                if self.same_group && group != self.group {
                    return Err(SessionError::WrongGroup(group.fmt_short()));
                }
                self.peer_said_hello = true;
                self.peer_group = Some(group);
                let heads = self.heads(docs)?;
                if self.digest(&heads, store) == digest {
                    for (d, h) in heads {
                        prime(self.states.entry(d).or_default(), &h);
                        self.their_heads.insert(d, h);
                    }
                    return Ok(vec![]);
                }
                // The directory first, so the peer knows a group before
                // its documents: prints now, the items the peer lacks when
                // its inventory comes.
                self.sent_inventory = true;
                let mut out = vec![directory::inventory(store)];
                out.extend(self.announce(store));
                out.push(Message::Prints(prints(&heads)));
                self.sent_heads = true;
                Ok(out)
            }
            _ if !self.peer_said_hello => Err(SessionError::Unexpected("pre-hello")),
            Message::Inventory(theirs) => {
                let mut out = Vec::new();
                if !std::mem::replace(&mut self.sent_inventory, true) {
                    out.push(directory::inventory(store));
                }
                out.extend(directory::missing(store, theirs));
                Ok(out)
            }
            Message::Cards(cards) => {
                let new = store.receive_cards(cards).map_err(SessionError::Card)?;
                for d in new {
                    if self.shared.insert(d) {
                        docs.entry(d).or_insert_with(crate::edit::new_doc);
                    }
                }
                Ok(vec![])
            }
            Message::Records(records) => {
                store.receive_records(records).map_err(SessionError::Card)?;
                Ok(vec![])
            }
            Message::Prints(theirs) => {
                let mut out = Vec::new();
                let ours = self.heads(docs)?;
                if !self.sent_heads {
                    self.sent_heads = true;
                    out.extend(self.announce(store));
                    out.push(Message::Prints(prints(&ours)));
                }
                let theirs: BTreeSet<[u8; 8]> = theirs.into_iter().collect();
                for (doc, heads) in ours {
                    if !self.in_step(&doc, store) {
                        // The two sides hold different epochs: the one
                        // behind switches when it reads the other's
                        // `Epoch`, and says so; the sync starts then.
                        continue;
                    }
                    if theirs.contains(&fingerprint(&doc, &heads)) {
                        prime(self.states.entry(doc).or_default(), &heads);
                        self.their_heads.insert(doc, heads);
                        continue;
                    }
                    // Different (or the peer does not hold it yet). Start
                    // afresh from the saved state; the side that holds
                    // something speaks first, so a device with nothing
                    // never makes the holder send the document twice.
                    let state = self.states.entry(doc).or_default();
                    state.their_heads = None;
                    state.their_have = None;
                    state.their_need = None;
                    state.have_responded = false;
                    state.last_sent_heads.clear();
                    state.in_flight = false;
                    self.their_heads.remove(&doc);
                    if !heads.is_empty() {
                        out.extend(self.next_for(&doc, docs, store)?);
                    }
                }
                Ok(out)
            }
            Message::Heads(theirs) => {
                let mut out = Vec::new();
                let ours_in_order = self.heads(docs)?;
                // The peer saw a difference our hello did not (it changed
                // after we compared): tell it our heads too, so each side
                // knows where the other stands.
                if !self.sent_heads {
                    self.sent_heads = true;
                    out.push(Message::Heads(ours_in_order.clone()));
                }
                let ours: BTreeMap<DocId, Vec<ChangeHash>> =
                    ours_in_order.iter().cloned().collect();
                let mut named = BTreeSet::new();
                for (doc, their_heads) in theirs {
                    // A document we do not share is ignored, not acknowledged.
                    let Some(our_heads) = ours.get(&doc) else {
                        continue;
                    };
                    named.insert(doc);
                    let their_heads = sorted(their_heads);
                    if &their_heads == our_heads {
                        prime(self.states.entry(doc).or_default(), our_heads);
                        self.their_heads.insert(doc, their_heads);
                    } else {
                        // We may have primed this document from a hello
                        // that was already stale (the peer edited after
                        // sending it): start the negotiation afresh from
                        // what the peer says it has.
                        let state = self.states.entry(doc).or_default();
                        state.their_heads = Some(their_heads.clone());
                        state.their_have = None;
                        state.their_need = None;
                        state.have_responded = false;
                        state.last_sent_heads.clear();
                        state.in_flight = false;
                        self.their_heads.insert(doc, their_heads);
                        out.extend(self.next_for(&doc, docs, store)?);
                    }
                }
                // Documents the peer did not name (it learns of their group
                // from our cards, sent before this): offer them too.
                for (doc, _) in ours_in_order.iter().filter(|(d, _)| !named.contains(d)) {
                    out.extend(self.next_for(doc, docs, store)?);
                }
                Ok(out)
            }
            Message::Sync { doc, body } => {
                if !self.shared.contains(&doc) {
                    // The peer shares it and this node does not (it does
                    // not know the group, or may not read the document):
                    // say so for this document, keep nothing, sync the rest.
                    return Ok(vec![Message::DocStop {
                        doc,
                        reason: NOT_SHARED.into(),
                    }]);
                }
                if self.stopped.contains_key(&doc) {
                    // Sent before the peer heard of the stop.
                    return Ok(vec![]);
                }
                if !self.in_step(&doc, store) {
                    // Of another epoch than this node holds: sent before
                    // the peer read this side's `Epoch`, or before this
                    // side read its. Nothing in it can be taken.
                    return Ok(vec![]);
                }
                let signed_as = doc.in_epoch(store.epoch(&doc));
                let state = self.states.entry(doc).or_default();
                let d = docs.get_mut(&doc).ok_or(SessionError::MissingDoc)?;
                let mut seqs = store.take_seqs(&doc).unwrap_or_else(|| SeqIndex::of(d));
                let rule = StoreRule {
                    doc: &doc,
                    store: &mut *store,
                };
                let received = receive_verified(&signed_as, d, state, &body, rule, &mut seqs);
                store.put_seqs(&doc, seqs);
                store.forget_learned();
                let received = match received {
                    Ok(r) => r,
                    Err(e) if e.ends_session() => return Err(e.into()),
                    Err(e) => {
                        store.refused(&doc, &e);
                        return Ok(self.stop(doc, e.to_string()));
                    }
                };
                if let Some(h) = &state.their_heads {
                    self.their_heads.insert(doc, sorted(h.clone()));
                }
                let progress = !received.verified.is_empty();
                if progress {
                    store
                        .store(&doc, received.verified)
                        .map_err(SessionError::Store)?;
                }
                if received.orphans > 0 {
                    let r = self.resync.entry(doc).or_default();
                    r.pending = true;
                    r.runs += 1;
                    if r.runs > MAX_RESYNCS {
                        return Ok(self.stop(
                            doc,
                            format!(
                                "the peer sent changes without their dependencies {MAX_RESYNCS} times in a row"
                            ),
                        ));
                    }
                } else if progress {
                    // Progress: the resend arrived whole.
                    self.resync.remove(&doc);
                }
                self.next_for(&doc, docs, store)
            }
            Message::Epoch {
                doc,
                record,
                genesis,
                signature,
            } => self.receive_epoch(doc, &record, genesis, signature, docs, store),
            Message::EpochWant { doc } => Ok(self.genesis_for(doc, docs, store)),
            Message::DocStop { doc, reason } => {
                if self.shared.contains(&doc) {
                    self.stopped.insert(
                        doc,
                        Stopped {
                            by_peer: true,
                            reason,
                        },
                    );
                }
                Ok(vec![])
            }
            Message::Bye(_) => Ok(vec![]),
        }
    }

    /// After a local edit of `doc` (or changes to it from another peer):
    /// the message that carries it to this peer, if any.
    pub fn local_change(
        &mut self,
        doc: &DocId,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        if !self.peer_said_hello || !self.shared.contains(doc) {
            return Ok(vec![]);
        }
        self.next_for(doc, docs, store)
    }

    /// Stops syncing `doc` with this peer for the rest of the session and
    /// tells it why.
    fn stop(&mut self, doc: DocId, reason: String) -> Vec<Message> {
        self.stopped.insert(
            doc,
            Stopped {
                by_peer: false,
                reason: reason.clone(),
            },
        );
        self.resync.remove(&doc);
        vec![Message::DocStop { doc, reason }]
    }

    fn next_for(
        &mut self,
        doc: &DocId,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        if self.stopped.contains_key(doc) || !self.in_step(doc, store) {
            return Ok(vec![]);
        }
        // A resend request goes out once; the count stays until changes
        // arrive whole.
        let resync = self
            .resync
            .get_mut(doc)
            .is_some_and(|r| std::mem::take(&mut r.pending));
        let state = self.states.entry(*doc).or_default();
        let d = docs.get_mut(doc).ok_or(SessionError::MissingDoc)?;
        let out = generate(d, state, resync, |h| store.signature(h))?;
        Ok(out
            .map(|body| Message::Sync { doc: *doc, body })
            .into_iter()
            .collect())
    }
}

mod directory;
mod epochs;
mod store;
#[cfg(test)]
mod tests;
