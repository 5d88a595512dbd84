//! One sync session with one peer over one connection: a pure state
//! machine. The node feeds it decoded [`Message`]s and sends what it
//! returns; the session never touches a socket or the disk itself.
//!
//! ```text
//! both:  Hello(digest of the shared documents' heads)
//!        equal digests        → nothing more (unchanged documents cost nothing)
//!        different digests    → Heads(per-document heads)
//! both:  for each document whose heads differ → Sync messages until quiet
//! later: a local edit         → Sync for that document at once
//! ```
//!
//! Every received change is verified ([`super::receive_verified`]) and
//! handed to [`SessionStore::store`] (which must make it durable) before the
//! session answers. A document the session does not share is never named
//! to the peer, and a message about one ends the session.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync::State;
use automerge::{AutoCommit, ChangeHash};

use super::messages::{Message, VERSION};
use super::{SyncError, VerifiedChange, generate, receive_verified};
use crate::ids::DocId;
use crate::keys::{DeviceId, GroupId};
use crate::signed::SIGNATURE_LEN;
use crate::wire::digest::heads_digest;

/// The documents a session works on, loaded, by id.
pub type Docs = BTreeMap<DocId, AutoCommit>;

/// What a session needs from the node besides the documents themselves.
pub trait SessionStore {
    /// The stored signature of a change.
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; SIGNATURE_LEN]>;
    /// Whether `author` may write document `doc`.
    fn may_write(&self, doc: &DocId, author: &DeviceId) -> bool;
    /// Durably stores verified changes a document has just gained.
    fn store(&mut self, doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), String>;
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
    /// The peer sent a sync message for a document it may not have.
    #[error("peer sent a document this session does not share")]
    NotShared,
    /// A change or message failed verification.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Storing verified changes failed.
    #[error("storing changes failed: {0}")]
    Store(String),
    /// The node lost a document it said it shares.
    #[error("a shared document is not loaded")]
    MissingDoc,
}

/// A session with one peer.
#[derive(Debug)]
pub struct Session {
    group: GroupId,
    shared: BTreeSet<DocId>,
    states: BTreeMap<DocId, State>,
    peer_said_hello: bool,
}

impl Session {
    /// A session sharing `shared` with a peer of `group`. `states` are the
    /// sync states persisted from the last session with this peer.
    pub fn new(
        group: GroupId,
        shared: BTreeSet<DocId>,
        mut states: BTreeMap<DocId, State>,
    ) -> Self {
        states.retain(|d, _| shared.contains(d));
        Session {
            group,
            shared,
            states,
            peer_said_hello: false,
        }
    }

    /// The sync states to persist for this peer.
    pub fn states(&self) -> &BTreeMap<DocId, State> {
        &self.states
    }

    fn heads(&self, docs: &mut Docs) -> Result<Vec<(DocId, Vec<ChangeHash>)>, SessionError> {
        self.shared
            .iter()
            .map(|d| {
                let mut h = docs.get_mut(d).ok_or(SessionError::MissingDoc)?.get_heads();
                h.sort();
                Ok((*d, h))
            })
            .collect()
    }

    /// The opening message.
    pub fn start(&mut self, docs: &mut Docs) -> Result<Vec<Message>, SessionError> {
        let heads = self.heads(docs)?;
        let digest = heads_digest(heads.iter().map(|(d, h)| (d, h.as_slice())));
        Ok(vec![Message::Hello {
            version: VERSION,
            group: self.group,
            digest,
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
                if group != self.group {
                    return Err(SessionError::WrongGroup(group.fmt_short()));
                }
                self.peer_said_hello = true;
                let heads = self.heads(docs)?;
                let ours = heads_digest(heads.iter().map(|(d, h)| (d, h.as_slice())));
                Ok(if ours == digest {
                    vec![]
                } else {
                    vec![Message::Heads(heads)]
                })
            }
            _ if !self.peer_said_hello => Err(SessionError::Unexpected("pre-hello")),
            Message::Heads(theirs) => {
                let mut out = Vec::new();
                let ours: BTreeMap<DocId, Vec<ChangeHash>> =
                    self.heads(docs)?.into_iter().collect();
                for (doc, mut their_heads) in theirs {
                    // A document we do not share is ignored, not acknowledged.
                    let Some(our_heads) = ours.get(&doc) else {
                        continue;
                    };
                    their_heads.sort();
                    if &their_heads != our_heads {
                        out.extend(self.next_for(&doc, docs, store)?);
                    }
                }
                Ok(out)
            }
            Message::Sync { doc, body } => {
                if !self.shared.contains(&doc) {
                    return Err(SessionError::NotShared);
                }
                let state = self.states.entry(doc).or_default();
                let d = docs.get_mut(&doc).ok_or(SessionError::MissingDoc)?;
                let verified =
                    receive_verified(&doc, d, state, &body, |a| store.may_write(&doc, a))?;
                if !verified.is_empty() {
                    store.store(&doc, verified).map_err(SessionError::Store)?;
                }
                self.next_for(&doc, docs, store)
            }
            Message::Bye(_) => Ok(vec![]),
        }
    }

    /// After a local edit of `doc`: the message that carries it, if any.
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

    fn next_for(
        &mut self,
        doc: &DocId,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        let state = self.states.entry(*doc).or_default();
        let d = docs.get_mut(doc).ok_or(SessionError::MissingDoc)?;
        let out = generate(d, state, |h| store.signature(h))?;
        Ok(out
            .map(|body| Message::Sync { doc: *doc, body })
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests;
