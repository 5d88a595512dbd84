//! A simulated node's state as a session sees it: the protocol's
//! [`SessionStore`], mirroring the real node's (`node/src/runtime/host.rs`):
//! the same cards accepted (verified, then `trust::records::accept_card`,
//! newer only, unknown groups parked), records handed to the node to judge
//! after the message, changes' signatures kept, and the public documents
//! of a newly known group shared when the session's scope covers it.
//!
//! The store's fallible calls answer the protocol's typed [`HostError`];
//! [`store_error`] is the one place that makes one (a card that fails
//! verification: its cached reason, as a refused record's).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use automerge::ChangeHash;
use groundwork_protocol::card::{GroupKind, SignedCard};
use groundwork_protocol::records::{Affiliation, MembershipSummary, RecordRejected, Signed};
use groundwork_protocol::schema::Devices;
use groundwork_protocol::sync::VerifiedChange;
use groundwork_protocol::sync::session::{HostError, SessionStore};
use groundwork_protocol::trust::records::{Directory, accept_card};
use groundwork_protocol::trust::scope::Scope;
use groundwork_protocol::trust::{Links, View};
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId};

use crate::verified::Verified;

/// The error a store call answers (see the module docs).
pub type StoreError = HostError;

/// Makes a store error from a refused card's reason.
pub fn store_error(why: impl std::fmt::Display) -> StoreError {
    HostError::Record(why.to_string())
}

/// The tag of a card in a gossip message and an inventory (records use
/// their kind byte).
pub const KIND_CARD: u8 = 0;

/// A record with its kind byte in front, as `Records` carries it.
pub fn tagged(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(kind);
    v.extend_from_slice(bytes);
    v
}

/// What a node knows of the network: cards and the newest records.
#[derive(Debug, Default)]
pub struct Known {
    /// Cards held, by group.
    pub cards: BTreeMap<GroupId, Arc<SignedCard>>,
    /// The cards the trust rules read (see [`Known::view_cards`]), by value
    /// as `View` takes them.
    pub view_cards: BTreeMap<GroupId, SignedCard>,
    /// Affiliations held, by group.
    pub affiliations: BTreeMap<GroupId, Arc<Signed<Affiliation>>>,
    /// The network of each affiliation held.
    pub networks: BTreeMap<GroupId, GroupId>,
    /// Summaries held, by group.
    pub summaries: BTreeMap<GroupId, Arc<Signed<MembershipSummary>>>,
}

impl Known {
    /// Keeps `card` as the one held for its group; returns whether the
    /// group was not known before. `rules` says whether the trust rules
    /// read this group's card (this node's own, and every linked group's:
    /// `View::is_national_group`, `Links::group_of`, `Admission::of` and
    /// the write rule look no further).
    pub fn put_card(&mut self, card: Arc<SignedCard>, rules: bool) -> bool {
        let g = card.card().group;
        if rules || self.view_cards.contains_key(&g) {
            self.view_cards.insert(g, (*card).clone());
        }
        self.cards.insert(g, card).is_none()
    }

    /// Every record, tagged with its kind: affiliations, then summaries.
    pub fn tagged_records(&self) -> Vec<Vec<u8>> {
        use groundwork_protocol::records::{KIND_AFFILIATION, KIND_SUMMARY};
        self.affiliations
            .values()
            .map(|s| tagged(KIND_AFFILIATION, s.bytes()))
            .chain(
                self.summaries
                    .values()
                    .map(|s| tagged(KIND_SUMMARY, s.bytes())),
            )
            .collect()
    }
}

/// A node's identity and rules, as the trust functions read them.
#[derive(Debug)]
pub struct Me {
    /// This device.
    pub me: DeviceId,
    /// Its group.
    pub own: GroupId,
    /// Its group's kind.
    pub kind: GroupKind,
    /// Its group's devices (the one founding steward).
    pub devices: Devices,
    /// The links it holds.
    pub links: Links,
    /// The network it belongs to, once it does.
    pub network: Option<GroupId>,
}

impl Me {
    /// What the trust rules read.
    pub fn view<'a>(&'a self, known: &'a Known) -> View<'a> {
        View {
            me: self.me,
            own: self.own,
            own_kind: self.kind,
            devices: &self.devices,
            cards: &known.view_cards,
            links: &self.links,
            inviter: None,
        }
    }
}

/// The store a session asks while one message is handled, and what it
/// gathered for the node to act on afterwards.
pub struct Host<'a> {
    pub(crate) me: &'a Me,
    pub(crate) known: &'a mut Known,
    pub(crate) index: &'a mut BTreeMap<DocId, (GroupId, DocKind)>,
    pub(crate) signatures: &'a mut HashMap<ChangeHash, [u8; 64]>,
    pub(crate) verified: &'a mut Verified,
    /// The scope of the session whose message is handled.
    pub(crate) scope: Scope,
    /// Documents that gained changes.
    pub(crate) changed: BTreeSet<DocId>,
    /// Groups whose cards were new.
    pub(crate) new_cards: Vec<GroupId>,
    /// Records offered, for the node to judge.
    pub(crate) offered: Vec<Vec<u8>>,
    /// Valid cards of groups not known yet.
    pub(crate) parked: Vec<Arc<SignedCard>>,
}

impl std::fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("me", &self.me.me).finish()
    }
}

impl SessionStore for Host<'_> {
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; 64]> {
        self.signatures.get(hash).copied()
    }

    fn may_write(&self, doc: &DocId, author: &DeviceId) -> bool {
        let Some((g, kind)) = self.index.get(doc) else {
            return false;
        };
        if *g != self.me.own {
            // `trust::write::may_write` for another group's document reads
            // that group's card only; the node holds every card here.
            return self
                .known
                .cards
                .get(g)
                .is_some_and(|c| c.may_write(author, *kind));
        }
        groundwork_protocol::trust::write::may_write(
            &self.me.view(self.known),
            g,
            *kind,
            author,
            None,
        )
    }

    fn within_cut(&self, doc: &DocId, author: &DeviceId, seq: u64) -> bool {
        let Some((g, kind)) = self.index.get(doc) else {
            return false;
        };
        groundwork_protocol::trust::write::within_cut(
            &self.me.view(self.known),
            g,
            *kind,
            author,
            (0, seq),
            None,
        )
    }

    fn store(&mut self, doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), StoreError> {
        for c in changes {
            self.signatures.insert(c.hash, c.signature);
        }
        self.changed.insert(*doc);
        Ok(())
    }

    fn cards(&self) -> Vec<Vec<u8>> {
        self.known
            .cards
            .values()
            .map(|c| c.bytes().to_vec())
            .collect()
    }

    fn records(&self) -> Vec<Vec<u8>> {
        self.known.tagged_records()
    }

    fn receive_records(&mut self, records: Vec<Vec<u8>>) -> Result<(), StoreError> {
        self.offered.extend(records);
        Ok(())
    }

    fn receive_cards(&mut self, cards: Vec<Vec<u8>>) -> Result<Vec<DocId>, StoreError> {
        let own = self.me.own;
        let mut fresh: BTreeMap<GroupId, Arc<SignedCard>> = BTreeMap::new();
        for bytes in cards {
            let card = self.verified.card(&bytes).map_err(store_error)?;
            let g = card.card().group;
            // The card already held comes round from every peer.
            if self
                .known
                .cards
                .get(&g)
                .is_some_and(|h| h.bytes() == bytes.as_slice())
            {
                continue;
            }
            let seq = card.card().seq;
            let held = self.known.cards.get(&g).or_else(|| fresh.get(&g));
            if held.is_some_and(|h| h.card().seq >= seq) {
                continue;
            }
            let view = self.me.view(self.known);
            let dir = Directory {
                view: &view,
                network: self.me.network,
                affiliations: &self.known.networks,
                vouched: false,
            };
            let count = self.known.cards.len() + fresh.len();
            if let Err(e) = accept_card(&dir, card.card(), held.map(|h| h.card()), count) {
                if e == RecordRejected::UnknownGroup {
                    self.parked.push(card);
                }
                continue;
            }
            fresh.insert(g, card);
        }
        let mut new_docs = Vec::new();
        for (g, card) in fresh {
            let rules = self.me.links.is_linked(&g) || g == own;
            if !self.known.put_card(card, rules) {
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
