//! Epochs in a session: announcing the epoch held of each document,
//! taking a peer's newer one, and keeping `Sync` to documents both sides
//! hold in the same epoch (see the table in docs/protocol.md, Sessions).

use super::*;

/// The most epoch records a session asks the genesis of, or refuses,
/// before it takes no more (asks) or ends (refusals): an honest peer sends
/// one per document it switches.
pub const MAX_EPOCH_RECORDS: usize = 32;

impl Session {
    /// The epoch (number and genesis hash) the peer has said it holds of
    /// `doc`; none: it has said nothing (epoch 0).
    pub fn peer_epoch(&self, doc: &DocId) -> Option<(u64, ChangeHash)> {
        self.their_epochs.get(doc).copied()
    }

    /// This node has switched `doc` to a new epoch (it started one, or
    /// another session brought it): the session forgets its sync state and
    /// tells the peer, and the sync resumes once the peer says it holds the
    /// same epoch.
    ///
    /// A document stopped this session (an equivocation, a refused change)
    /// syncs again: what stopped it was in the old epoch's history.
    pub fn epoch_changed(&mut self, doc: &DocId, store: &impl SessionStore) -> Vec<Message> {
        self.reset(doc);
        self.unstop(doc);
        if !self.peer_said_hello || !self.shared.contains(doc) {
            return vec![];
        }
        self.sent_epochs.remove(doc);
        self.epoch_of(doc, store).into_iter().collect()
    }

    /// Whether both sides hold the same epoch of `doc`, as far as this
    /// session knows.
    pub(super) fn in_step(&self, doc: &DocId, store: &impl SessionStore) -> bool {
        match self.their_epochs.get(doc) {
            None => store.epoch(doc) == 0,
            Some((n, genesis)) => {
                *n == store.epoch(doc) && store.epoch_genesis(doc) == Some(*genesis)
            }
        }
    }

    /// Lifts a stop of `doc` made over its old epoch's history (not one
    /// because a side does not share it).
    fn unstop(&mut self, doc: &DocId) {
        if self
            .stopped
            .get(doc)
            .is_some_and(|s| s.reason != NOT_SHARED)
        {
            self.stopped.remove(doc);
        }
    }

    /// Forgets everything this session knew of `doc`'s sync.
    pub(super) fn reset(&mut self, doc: &DocId) {
        self.states.insert(*doc, State::new());
        self.their_heads.remove(doc);
        self.resync.remove(doc);
    }

    /// The `Epoch` announce for `doc` (its record alone), once per session
    /// unless it changes.
    pub(super) fn epoch_of(&mut self, doc: &DocId, store: &impl SessionStore) -> Option<Message> {
        if self.sent_epochs.contains(doc) {
            return None;
        }
        let record = store.epoch_message(doc)?;
        self.sent_epochs.insert(*doc);
        Some(Message::Epoch {
            doc: *doc,
            record,
            genesis: Vec::new(),
            signature: [0; SIGNATURE_LEN],
        })
    }

    /// The answer to `EpochWant`: the held epoch of `doc` with its genesis
    /// (taken from the document, whose first change of the epoch it is),
    /// once per epoch per session; nothing for a document not shared or in
    /// epoch 0.
    pub(super) fn genesis_for(
        &mut self,
        doc: DocId,
        docs: &mut Docs,
        store: &impl SessionStore,
    ) -> Vec<Message> {
        if !self.shared.contains(&doc) {
            return vec![];
        }
        let (Some(genesis), Some(record)) = (store.epoch_genesis(&doc), store.epoch_message(&doc))
        else {
            return vec![];
        };
        if !self.sent_geneses.insert((doc, genesis)) {
            return vec![];
        }
        let Some(signature) = store.signature(&genesis) else {
            return vec![];
        };
        let Some(change) = docs
            .get_mut(&doc)
            .and_then(|d| d.get_change_by_hash(&genesis))
        else {
            return vec![];
        };
        vec![Message::Epoch {
            doc,
            record,
            genesis: crate::wire::chunks::compress_change(change.raw_bytes()),
            signature,
        }]
    }

    /// `Epoch` for every shared document past epoch 0.
    pub(super) fn announce(&mut self, store: &impl SessionStore) -> Vec<Message> {
        let shared: Vec<DocId> = self.shared.iter().copied().collect();
        shared
            .iter()
            .filter_map(|d| self.epoch_of(d, store))
            .collect()
    }

    pub(super) fn receive_epoch(
        &mut self,
        doc: DocId,
        record: &[u8],
        genesis: Vec<u8>,
        signature: [u8; SIGNATURE_LEN],
        docs: &mut Docs,
        store: &mut impl SessionStore,
    ) -> Result<Vec<Message>, SessionError> {
        if !self.shared.contains(&doc) {
            return Ok(vec![]);
        }
        let signed = match SignedEpoch::from_bytes(record) {
            Ok(r) if r.epoch().doc == doc => r,
            Ok(_) => return Ok(self.stop(doc, "an epoch record for another document".into())),
            Err(e) => return Ok(self.stop(doc, e.to_string())),
        };
        let theirs = signed.epoch().number;
        let their_genesis = signed.epoch().genesis;
        if self.refused_epochs.contains(&(doc, theirs, their_genesis)) {
            return Ok(vec![]);
        }
        let stopped = match self.stopped.get(&doc) {
            None => false,
            Some(s) if s.reason == NOT_SHARED => return Ok(vec![]),
            // Said already: nothing new.
            Some(_) if self.their_epochs.get(&doc) == Some(&(theirs, their_genesis)) => {
                return Ok(vec![]);
            }
            Some(_) => true,
        };
        let ours = store.epoch(&doc);
        let mut out = Vec::new();
        // Two records with one number: the lower genesis hash stands.
        let wins_tie = theirs == ours
            && store
                .epoch_genesis(&doc)
                .is_some_and(|g| g != their_genesis && their_genesis < g);
        let same = theirs == ours && store.epoch_genesis(&doc) == Some(their_genesis);
        // A stop over the old history lifts only on an epoch this side has
        // verified: the peer now holds the one held here, or this side
        // switches to the peer's (below). An unverified announce lifts
        // nothing.
        if stopped && !same && !(theirs > ours || wins_tie) {
            return Ok(vec![]);
        }
        if stopped && same {
            self.unstop(&doc);
        }
        if (theirs > ours || wins_tie) && genesis.is_empty() {
            // An announce of an epoch this side takes: ask for its genesis
            // (once, and for a bounded number of records per session; the
            // record is checked when the genesis comes).
            if self.wanted_epochs.len() < MAX_EPOCH_RECORDS
                && self.wanted_epochs.insert((doc, their_genesis))
            {
                return Ok(vec![Message::EpochWant { doc }]);
            }
            return Ok(vec![]);
        }
        if theirs > ours || wins_tie {
            let d = docs.get_mut(&doc).ok_or(SessionError::MissingDoc)?;
            let genesis = SignedChange {
                bytes: genesis,
                signature,
            };
            if let Err(why) = store.receive_epoch(&doc, &signed, genesis, d) {
                if self.refused_epochs.len() >= MAX_EPOCH_RECORDS {
                    return Err(SessionError::Unexpected(
                        "epoch record, refused too many times",
                    ));
                }
                self.refused_epochs.insert((doc, theirs, their_genesis));
                return Ok(self.stop(doc, why.to_string()));
            }
            self.unstop(&doc);
            self.reset(&doc);
            self.their_epochs.insert(doc, (theirs, their_genesis));
            self.sent_epochs.remove(&doc);
            out.extend(self.epoch_of(&doc, store));
        } else if same {
            if !self.in_step(&doc, store) {
                self.reset(&doc);
            }
            self.their_epochs.insert(doc, (theirs, their_genesis));
        } else {
            // The peer is behind, or holds the epoch that loses the tie: it
            // switches when it reads ours.
            self.their_epochs.insert(doc, (theirs, their_genesis));
            out.extend(self.epoch_of(&doc, store));
            return Ok(out);
        }
        out.extend(self.next_for(&doc, docs, store)?);
        Ok(out)
    }
}
