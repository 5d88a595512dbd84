//! Two in-memory nodes running sessions against each other.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::transaction::Transactable;
use automerge::{ChangeHash, ROOT};

use super::*;
use crate::edit;
use crate::epoch::SignedEpoch;
use crate::ids::DocKind;
use crate::keys::SecretKey;
use crate::signed::{actor_id, sign_change};
use crate::sync::VerifiedChange;
use crate::trust::change::SignedChange;

struct Node {
    key: SecretKey,
    docs: Docs,
    store: MemStore,
}

#[derive(Default)]
struct MemStore {
    sigs: HashMap<ChangeHash, [u8; 64]>,
    writers: Vec<DeviceId>,
    /// Revoked devices and the last of their changes accepted.
    cuts: HashMap<DeviceId, u64>,
    stored: usize,
    refused: Vec<(DocId, String)>,
    /// This device's key, to rebase with.
    key: Option<SecretKey>,
    /// Who may start epochs.
    stewards: Vec<DeviceId>,
    /// The epoch held of each document past 0.
    epochs: HashMap<DocId, (SignedEpoch, SignedChange)>,
    /// Cards and tagged records held (opaque here: the node verifies them).
    cards: BTreeSet<Vec<u8>>,
    records: BTreeSet<Vec<u8>>,
    /// Every card and record the peer sent, new or not.
    offered: usize,
}

impl SessionStore for MemStore {
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; 64]> {
        self.sigs.get(hash).copied()
    }
    fn may_write(&self, _doc: &DocId, author: &DeviceId) -> bool {
        self.writers.contains(author)
    }
    fn within_cut(&self, _doc: &DocId, author: &DeviceId, seq: u64) -> bool {
        self.cuts.get(author).is_none_or(|cut| seq <= *cut)
    }
    fn store(&mut self, _doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), HostError> {
        for c in changes {
            self.sigs.insert(c.hash, c.signature);
            self.stored += 1;
        }
        Ok(())
    }
    fn refused(&mut self, doc: &DocId, why: &SyncError) {
        self.refused.push((*doc, why.to_string()));
    }
    fn epoch(&self, doc: &DocId) -> u64 {
        self.epochs.get(doc).map_or(0, |(r, _)| r.epoch().number)
    }
    fn epoch_genesis(&self, doc: &DocId) -> Option<ChangeHash> {
        self.epochs.get(doc).map(|(r, _)| r.epoch().genesis)
    }
    fn epoch_message(&self, doc: &DocId) -> Option<Vec<u8>> {
        self.epochs.get(doc).map(|(r, _)| r.bytes().to_vec())
    }
    fn receive_epoch(
        &mut self,
        doc: &DocId,
        record: &SignedEpoch,
        genesis: SignedChange,
        current: &mut automerge::AutoCommit,
    ) -> Result<(), HostError> {
        // The mock's own refusals, in its own words.
        if !self.stewards.contains(&record.author()) {
            return Err(HostError::Storage("not a steward".into()));
        }
        let key = self
            .key
            .clone()
            .ok_or_else(|| HostError::Storage("no key".into()))?;
        let held = self.epochs.get(doc).map(|(r, _)| r.clone());
        let switched = crate::epoch::switch(current, record, &genesis, &key, held.as_ref())?;
        for (h, sig) in switched.signatures()? {
            self.sigs.insert(h, sig);
        }
        *current = switched.doc;
        self.epochs.insert(*doc, (record.clone(), switched.genesis));
        Ok(())
    }
    fn cards(&self) -> Vec<Vec<u8>> {
        self.cards.iter().cloned().collect()
    }
    fn receive_cards(&mut self, cards: Vec<Vec<u8>>) -> Result<Vec<DocId>, HostError> {
        self.offered += cards.len();
        self.cards.extend(cards);
        Ok(Vec::new())
    }
    fn records(&self) -> Vec<Vec<u8>> {
        self.records.iter().cloned().collect()
    }
    fn receive_records(&mut self, records: Vec<Vec<u8>>) -> Result<(), HostError> {
        self.offered += records.len();
        self.records.extend(records);
        Ok(())
    }
}

fn group() -> GroupId {
    SecretKey::from_seed(&[1; 32]).public()
}

fn ids() -> Vec<DocId> {
    [DocKind::Constitution, DocKind::Plan, DocKind::Meetups]
        .iter()
        .map(|k| DocId::derive(&group(), *k))
        .collect()
}

impl Node {
    fn new(seed: u8, writers: &[DeviceId]) -> Self {
        let key = SecretKey::from_seed(&[seed; 32]);
        let docs = ids()
            .into_iter()
            .map(|d| (d, edit::new_doc().with_actor(actor_id(&key.public()))))
            .collect();
        Node {
            key: key.clone(),
            docs,
            store: MemStore {
                writers: writers.to_vec(),
                key: Some(key.clone()),
                stewards: writers.iter().take(1).copied().collect(),
                ..MemStore::default()
            },
        }
    }

    fn edit(&mut self, doc: &DocId, k: &str) {
        let d = self.docs.get_mut(doc).expect("doc");
        let before = d.get_heads();
        d.put(ROOT, k, "v").expect("put");
        d.commit();
        let signed_as = doc.in_epoch(self.store.epoch(doc));
        for c in d.get_changes(&before) {
            self.store.sigs.insert(
                c.hash(),
                sign_change(&self.key, &signed_as, &c).expect("sign"),
            );
        }
    }

    /// Starts the next epoch of `doc` here, as a steward does.
    fn start_epoch(&mut self, doc: &DocId) {
        let number = self.store.epoch(doc) + 1;
        let previous = self.store.epoch_genesis(doc);
        let d = self.docs.get_mut(doc).expect("doc");
        let started = crate::epoch::start(d, *doc, number, &self.key, previous).expect("start");
        let genesis =
            automerge::Change::try_from(started.genesis.bytes.as_slice()).expect("change");
        self.store
            .sigs
            .insert(genesis.hash(), started.genesis.signature);
        self.docs.insert(*doc, started.doc);
        self.store
            .epochs
            .insert(*doc, (started.record, started.genesis));
    }

    fn get(&self, doc: &DocId, k: &str) -> bool {
        use automerge::ReadDoc as _;
        self.docs[doc].get(ROOT, k).expect("get").is_some()
    }

    fn heads(&mut self) -> Vec<Vec<ChangeHash>> {
        self.docs
            .values_mut()
            .map(|d| {
                let mut h = d.get_heads();
                h.sort();
                h
            })
            .collect()
    }
}

/// Runs two sessions to quiescence, returning (messages, payload bytes) sent.
fn run(
    a: &mut Node,
    sa: &mut Session,
    b: &mut Node,
    sb: &mut Session,
    first_a: Vec<Message>,
    first_b: Vec<Message>,
) -> (usize, usize) {
    let (mut to_b, mut to_a) = (first_a, first_b);
    let (mut count, mut bytes) = (0, 0);
    for _ in 0..50 {
        if to_a.is_empty() && to_b.is_empty() {
            return (count, bytes);
        }
        let mut next_to_a = Vec::new();
        for m in to_b.drain(..) {
            count += 1;
            bytes += m.encode().payload.len();
            let decoded = Message::decode(&m.encode()).expect("own encoding");
            next_to_a.extend(
                sb.handle(decoded, &mut b.docs, &mut b.store)
                    .expect("b handles"),
            );
        }
        let mut next_to_b = Vec::new();
        for m in to_a.drain(..).chain(next_to_a) {
            count += 1;
            bytes += m.encode().payload.len();
            let decoded = Message::decode(&m.encode()).expect("own encoding");
            next_to_b.extend(
                sa.handle(decoded, &mut a.docs, &mut a.store)
                    .expect("a handles"),
            );
        }
        to_b = next_to_b;
    }
    panic!("sessions did not go quiet");
}

fn session(states: BTreeMap<DocId, automerge::sync::State>) -> Session {
    Session::new(group(), ids().into_iter().collect::<BTreeSet<_>>(), states)
}

#[test]
fn two_nodes_converge_then_an_unchanged_reconnect_costs_only_the_hellos() {
    let (ka, kb) = (
        SecretKey::from_seed(&[10; 32]).public(),
        SecretKey::from_seed(&[11; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(10, &[ka, kb]), Node::new(11, &[ka, kb]));
    let d = ids();
    a.edit(&d[0], "a0");
    a.edit(&d[1], "a1");
    b.edit(&d[2], "b2");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(
        (a.store.stored, b.store.stored),
        (1, 2),
        "each side stored exactly what it lacked"
    );

    // Reconnect with nothing changed: two hellos, no heads, no sync.
    let (mut sa2, mut sb2) = (session(sa.states().clone()), session(sb.states().clone()));
    let (ha, hb) = (
        sa2.start(&mut a.docs, &a.store).expect("start"),
        sb2.start(&mut b.docs, &b.store).expect("start"),
    );
    let (messages, bytes) = run(&mut a, &mut sa2, &mut b, &mut sb2, ha, hb);
    assert_eq!(messages, 2);
    assert!(bytes <= 2 * 66, "{bytes} bytes for an unchanged reconnect");

    // One document changed offline: only it is synced.
    a.edit(&d[1], "offline");
    let (mut sa3, mut sb3) = (session(sa2.states().clone()), session(sb2.states().clone()));
    let (ha, hb) = (
        sa3.start(&mut a.docs, &a.store).expect("start"),
        sb3.start(&mut b.docs, &b.store).expect("start"),
    );
    let before = b.store.stored;
    run(&mut a, &mut sa3, &mut b, &mut sb3, ha, hb);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(b.store.stored, before + 1);
}

#[test]
fn a_live_edit_goes_out_at_once() {
    let (ka, kb) = (
        SecretKey::from_seed(&[20; 32]).public(),
        SecretKey::from_seed(&[21; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(20, &[ka, kb]), Node::new(21, &[ka, kb]));
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    let d = ids();
    a.edit(&d[2], "live");
    let out = sa
        .local_change(&d[2], &mut a.docs, &a.store)
        .expect("local change");
    assert_eq!(out.len(), 1, "the edit is sent straight away");
    run(&mut a, &mut sa, &mut b, &mut sb, out, vec![]);
    assert_eq!(a.heads(), b.heads());
}

/// A peer's opening message with a digest that matches nothing.
fn hello_from(group: GroupId, version: u16) -> Message {
    Message::Hello {
        version,
        group,
        digest: [0; 32],
    }
}

#[test]
fn a_sync_for_a_document_not_shared_is_stopped_and_nothing_kept() {
    let mut b = Node::new(31, &[]);
    let mut sb = Session::new(group(), [ids()[0]].into_iter().collect(), BTreeMap::new());
    let hello = hello_from(group(), super::super::messages::VERSION);
    sb.handle(hello, &mut b.docs, &mut b.store).expect("hello");
    let stray = Message::Sync {
        doc: ids()[2],
        body: super::super::SignedSyncMessage {
            message: vec![],
            signatures: vec![],
        },
    };
    assert_eq!(
        sb.handle(stray, &mut b.docs, &mut b.store),
        Ok(vec![Message::DocStop {
            doc: ids()[2],
            reason: NOT_SHARED.into()
        }])
    );
    assert!(
        sb.stopped().is_empty(),
        "nothing recorded for a document not shared"
    );
    assert!(!b.docs.contains_key(&ids()[2]) || sb.shared().len() == 1);
}

#[test]
fn only_shared_documents_are_fingerprinted_and_unknown_ones_never_answered() {
    let mut b = Node::new(41, &[]);
    b.edit(&ids()[0], "x");
    let mut sb = Session::new(group(), [ids()[0]].into_iter().collect(), BTreeMap::new());
    let hello = hello_from(group(), super::super::messages::VERSION);
    let replies = sb.handle(hello, &mut b.docs, &mut b.store).expect("hello");
    // b fingerprints only the one document it shares.
    let heads = b.docs.get_mut(&ids()[0]).expect("doc").get_heads();
    let mine = super::super::messages::fingerprint(&ids()[0], &heads);
    assert_eq!(
        replies,
        vec![Message::Inventory(vec![]), Message::Prints(vec![mine])]
    );
    // A peer's fingerprints of other documents are ignored; b offers the
    // document it shares, since the peer's prints do not match it.
    let other = super::super::messages::fingerprint(&ids()[2], &[ChangeHash([5; 32])]);
    let replies = sb
        .handle(Message::Prints(vec![other]), &mut b.docs, &mut b.store)
        .expect("prints");
    assert!(
        !replies.is_empty()
            && replies
                .iter()
                .all(|m| matches!(m, Message::Sync { doc, .. } if *doc == ids()[0])),
        "{replies:?}"
    );
}

#[test]
fn a_side_holding_nothing_lets_the_holder_speak_first() {
    let (ka, kb) = (
        SecretKey::from_seed(&[70; 32]).public(),
        SecretKey::from_seed(&[71; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(70, &[ka, kb]), Node::new(71, &[ka, kb]));
    for (i, d) in ids().iter().enumerate() {
        for j in 0..20 {
            a.edit(d, &format!("k{i}-{j}"));
        }
    }
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    let change_bytes: usize = a
        .docs
        .values_mut()
        .map(|d| {
            d.get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().len())
                .sum::<usize>()
        })
        .sum();
    let (messages, bytes) = run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(b.store.stored, 60);
    // Each change crossed once: the bytes are the changes, their
    // signatures (96 bytes each) and a little framing, not twice that.
    let once = change_bytes + 60 * 96;
    eprintln!("{messages} messages, {bytes} bytes; changes + signatures {once}");
    assert!(
        bytes < once + once / 2,
        "{bytes} bytes for {once} of changes"
    );
    assert!(sa.is_synced(&mut a.docs) && sb.is_synced(&mut b.docs));
}

#[test]
fn messages_before_hello_or_from_another_group_end_the_session() {
    let mut b = Node::new(51, &[]);
    let mut sb = session(BTreeMap::new());
    assert_eq!(
        sb.handle(Message::Heads(vec![]), &mut b.docs, &mut b.store),
        Err(SessionError::Unexpected("pre-hello"))
    );
    let other = SecretKey::from_seed(&[99; 32]).public();
    let hello = hello_from(other, super::super::messages::VERSION);
    assert!(matches!(
        sb.handle(hello, &mut b.docs, &mut b.store),
        Err(SessionError::WrongGroup(_))
    ));
    let next = super::super::messages::VERSION + 1;
    assert_eq!(
        sb.handle(hello_from(group(), next), &mut b.docs, &mut b.store),
        Err(SessionError::Version(next))
    );
}

#[test]
fn an_edit_between_sending_hello_and_reading_the_peers_hello_still_syncs() {
    let (ka, kb) = (
        SecretKey::from_seed(&[60; 32]).public(),
        SecretKey::from_seed(&[61; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(60, &[ka, kb]), Node::new(61, &[ka, kb]));
    let d = ids();
    a.edit(&d[0], "before");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    assert_eq!(a.heads(), b.heads());

    // Reconnect: both hellos carry equal digests, but A edits after sending
    // its hello and before reading B's. B primes its state from A's stale
    // hello; A's heads must still get through.
    let (mut sa2, mut sb2) = (session(sa.states().clone()), session(sb.states().clone()));
    let ha = sa2.start(&mut a.docs, &a.store).expect("start");
    let hb = sb2.start(&mut b.docs, &b.store).expect("start");
    a.edit(&d[1], "in the gap");
    let early = sa2
        .local_change(&d[1], &mut a.docs, &a.store)
        .expect("local");
    assert!(
        early.is_empty(),
        "nothing is pushed before the peer's hello"
    );
    run(&mut a, &mut sa2, &mut b, &mut sb2, ha, hb);
    assert_eq!(a.heads(), b.heads(), "the edit made in the gap arrived");
    assert!(sa2.is_synced(&mut a.docs) && sb2.is_synced(&mut b.docs));
}

#[test]
fn an_equivocation_stops_only_its_document_and_the_rest_converge() {
    let m = SecretKey::from_seed(&[9; 32]);
    let mut a = Node::new(10, &[]);
    let mut b = Node::new(11, &[]);
    let writers = vec![a.key.public(), b.key.public(), m.public()];
    a.store.writers = writers.clone();
    b.store.writers = writers;
    let meetups = ids()[2];
    // The member device signs two different first changes to meet-ups:
    // one reaches a, the other b.
    for (node, place) in [(&mut a, "Leek library"), (&mut b, "Buxton library")] {
        let mut d = edit::new_doc().with_actor(actor_id(&m.public()));
        d.put(ROOT, "place", place).expect("put");
        d.commit();
        let c = d.get_last_local_change().expect("change");
        node.store
            .sigs
            .insert(c.hash(), sign_change(&m, &meetups, &c).expect("sign"));
        node.docs
            .get_mut(&meetups)
            .expect("doc")
            .apply_changes([c])
            .expect("apply");
    }
    // Both also edit the other documents.
    a.edit(&ids()[0], "by-a");
    b.edit(&ids()[1], "by-b");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let fa = sa.start(&mut a.docs, &a.store).expect("start");
    let fb = sb.start(&mut b.docs, &b.store).expect("start");
    run(&mut a, &mut sa, &mut b, &mut sb, fa, fb);
    // Constitution and plan converged; meet-ups stayed forked on both sides.
    for d in &ids()[..2] {
        let (ha, hb) = (
            a.docs.get_mut(d).expect("doc").get_heads(),
            b.docs.get_mut(d).expect("doc").get_heads(),
        );
        assert_eq!(ha, hb);
    }
    assert_ne!(
        a.docs.get_mut(&meetups).expect("doc").get_heads(),
        b.docs.get_mut(&meetups).expect("doc").get_heads()
    );
    for (s, store) in [(&sa, &a.store), (&sb, &b.store)] {
        let stopped = s.stopped().get(&meetups).expect("meet-ups stopped");
        assert!(
            stopped.reason.contains("two different changes"),
            "{stopped:?}"
        );
        assert_eq!(s.stopped().len(), 1, "only meet-ups stopped");
        // Whichever side found it first kept the proof; the other heard why.
        assert!(stopped.by_peer || store.refused.iter().any(|(d, _)| *d == meetups));
    }
    assert!(sa.is_synced(&mut a.docs) && sb.is_synced(&mut b.docs));
}

#[test]
fn a_node_behind_switches_to_the_peers_epoch_rebases_its_own_edit_and_both_converge() {
    let (ka, kb) = (
        SecretKey::from_seed(&[10; 32]).public(),
        SecretKey::from_seed(&[11; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(10, &[ka, kb]), Node::new(11, &[ka, kb]));
    let d = ids();
    let plan = d[1];
    a.edit(&plan, "kept");
    a.edit(&plan, "forgotten");
    a.edit(&d[2], "meetup");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    assert_eq!(a.heads(), b.heads());

    // Apart: B edits the plan; A forgets a key and starts epoch 1.
    b.edit(&plan, "b-offline");
    {
        use automerge::transaction::Transactable as _;
        let p = a.docs.get_mut(&plan).expect("plan");
        p.delete(ROOT, "forgotten").expect("delete");
        p.commit();
    }
    a.start_epoch(&plan);
    a.edit(&plan, "a-after");

    // B resumes from the states it saved (so its next edit goes out at
    // once, changes and all); A deleted its states for the plan with the
    // old epoch.
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(sb.states().clone()));
    let ha = sa.start(&mut a.docs, &a.store).expect("start");
    let hb = sb.start(&mut b.docs, &b.store).expect("start");
    // B's hello reaches A first: A answers with its epoch and prints. Before
    // B reads them, B edits the plan again and sends that in the old epoch.
    let from_a = sa
        .handle(hb[0].clone(), &mut a.docs, &mut a.store)
        .expect("a");
    assert!(
        from_a
            .iter()
            .any(|m| matches!(m, Message::Epoch { doc, .. } if *doc == plan))
    );
    let from_b = sb
        .handle(ha[0].clone(), &mut b.docs, &mut b.store)
        .expect("b");
    b.edit(&plan, "b-in-flight");
    let stale = sb
        .local_change(&plan, &mut b.docs, &b.store)
        .expect("local");
    assert!(
        stale
            .iter()
            .any(|m| matches!(m, Message::Sync { body, .. } if !body.signatures.is_empty())),
        "{stale:?}"
    );
    let stored = a.store.stored;
    for m in stale.iter().filter(|m| matches!(m, Message::Sync { .. })) {
        let out = sa
            .handle(m.clone(), &mut a.docs, &mut a.store)
            .expect("a takes it calmly");
        assert!(
            out.is_empty(),
            "an old-epoch sync is dropped, not answered: {out:?}"
        );
    }
    assert_eq!(a.store.stored, stored, "nothing of the old epoch stored");
    run(&mut a, &mut sa, &mut b, &mut sb, from_a, from_b);

    assert_eq!(b.store.epoch(&plan), 1, "B switched");
    assert_eq!(a.heads(), b.heads(), "and both converge");
    for node in [&a, &b] {
        assert!(node.get(&plan, "kept") && node.get(&plan, "a-after"));
        assert!(
            node.get(&plan, "b-offline") && node.get(&plan, "b-in-flight"),
            "B's own edits survive"
        );
        assert!(!node.get(&plan, "forgotten"));
    }
    let history: Vec<_> = b.docs.get_mut(&plan).expect("plan").get_changes(&[]);
    assert_eq!(
        history.len(),
        3,
        "genesis, A's edit after it, B's rebased change"
    );
    assert!(sa.stopped().is_empty() && sb.stopped().is_empty());
}

#[test]
fn an_epoch_from_a_device_that_may_not_start_one_stops_only_that_document() {
    let (ka, kb) = (
        SecretKey::from_seed(&[30; 32]).public(),
        SecretKey::from_seed(&[31; 32]).public(),
    );
    // B's view: only B itself is a steward, so A's epoch is refused.
    let (mut a, mut b) = (Node::new(30, &[ka, kb]), Node::new(31, &[kb, ka]));
    let d = ids();
    a.edit(&d[1], "plan");
    a.start_epoch(&d[1]);
    a.edit(&d[2], "meetup");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    assert_eq!(b.store.epoch(&d[1]), 0);
    assert_eq!(
        sb.stopped().get(&d[1]).map(|s| s.reason.as_str()),
        Some("not a steward")
    );
    assert!(sa.stopped().get(&d[1]).is_some_and(|s| s.by_peer));
    assert!(b.get(&d[2], "meetup"), "the other documents sync on");
    assert!(!b.get(&d[1], "plan"));
}

#[test]
fn a_bad_or_misaddressed_epoch_record_stops_the_document() {
    let ka = SecretKey::from_seed(&[40; 32]).public();
    let (mut a, mut b) = (Node::new(40, &[ka]), Node::new(41, &[ka]));
    let d = ids();
    a.edit(&d[1], "plan");
    a.start_epoch(&d[1]);
    let record = a.store.epoch_message(&d[1]).expect("held");
    let genesis = a.store.epochs[&d[1]].1.clone();
    let mut sb = session(BTreeMap::new());
    let hb = sb.start(&mut b.docs, &b.store).expect("start");
    let mut sa = session(BTreeMap::new());
    let ha = sa.start(&mut a.docs, &a.store).expect("start");
    let _ = hb;
    sb.handle(ha[0].clone(), &mut b.docs, &mut b.store)
        .expect("hello");
    let mut tampered = record.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let out = sb
        .handle(
            Message::Epoch {
                doc: d[1],
                record: tampered,
                genesis: genesis.bytes.clone(),
                signature: genesis.signature,
            },
            &mut b.docs,
            &mut b.store,
        )
        .expect("not the end of the session");
    assert!(
        matches!(&out[..], [Message::DocStop { doc, .. }] if *doc == d[1]),
        "{out:?}"
    );
    // The record of one document offered for another.
    let out = sb
        .handle(
            Message::Epoch {
                doc: d[2],
                record,
                genesis: genesis.bytes,
                signature: genesis.signature,
            },
            &mut b.docs,
            &mut b.store,
        )
        .expect("not the end of the session");
    assert!(
        matches!(&out[..], [Message::DocStop { doc, reason }] if *doc == d[2] && reason.contains("another document")),
        "{out:?}"
    );
    assert_eq!((b.store.epoch(&d[1]), b.store.epoch(&d[2])), (0, 0));
}

#[test]
fn an_epoch_started_twice_apart_settles_on_the_lower_genesis_everywhere() {
    let (ka, kb) = (
        SecretKey::from_seed(&[50; 32]).public(),
        SecretKey::from_seed(&[51; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(50, &[ka, kb]), Node::new(51, &[ka, kb]));
    a.store.stewards = vec![ka, kb];
    b.store.stewards = vec![ka, kb];
    let plan = ids()[1];
    a.edit(&plan, "shared");
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);

    // Apart, both start epoch 1, and both edit after it.
    a.start_epoch(&plan);
    a.edit(&plan, "a-after");
    b.start_epoch(&plan);
    b.edit(&plan, "b-after");
    let (ga, gb) = (
        a.store.epoch_genesis(&plan).expect("a's"),
        b.store.epoch_genesis(&plan).expect("b's"),
    );
    assert_ne!(ga, gb);
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    let standing = ga.min(gb);
    assert_eq!(a.store.epoch_genesis(&plan), Some(standing));
    assert_eq!(b.store.epoch_genesis(&plan), Some(standing));
    assert_eq!(a.heads(), b.heads(), "one epoch, converged");
    for node in [&a, &b] {
        assert!(node.get(&plan, "shared"));
        assert!(
            node.get(&plan, "a-after") && node.get(&plan, "b-after"),
            "both sides' edits after the epoch survive"
        );
    }
    assert!(sa.stopped().is_empty() && sb.stopped().is_empty());
}

/// `key`'s changes putting each of `keys` in turn on a fresh document,
/// signed for `doc` in epoch 0.
fn changes_by(key: &SecretKey, doc: &DocId, keys: &[&str]) -> Vec<(automerge::Change, [u8; 64])> {
    let mut d = edit::new_doc().with_actor(actor_id(&key.public()));
    keys.iter()
        .map(|k| {
            d.put(ROOT, *k, "v").expect("put");
            d.commit();
            let c = d.get_last_local_change().expect("change");
            let sig = sign_change(key, doc, &c).expect("sign");
            (c, sig)
        })
        .collect()
}

impl Node {
    /// Takes changes made elsewhere (as an earlier sync would have).
    fn take(&mut self, doc: &DocId, changes: &[(automerge::Change, [u8; 64])]) {
        for (c, sig) in changes {
            self.store.sigs.insert(c.hash(), *sig);
        }
        self.docs
            .get_mut(doc)
            .expect("doc")
            .apply_changes(changes.iter().map(|(c, _)| c.clone()))
            .expect("apply");
    }
}

#[test]
fn a_revoked_devices_changes_past_its_cut_are_refused_and_the_next_epoch_drops_them() {
    let r = SecretKey::from_seed(&[60; 32]);
    let (mut x, mut s) = (Node::new(61, &[]), Node::new(62, &[]));
    let writers = vec![s.key.public(), x.key.public(), r.public()];
    for n in [&mut x, &mut s] {
        n.store.writers = writers.clone();
        n.store.stewards = vec![writers[0]];
    }
    let plan = ids()[1];
    // R's first change reached both; the steward S revoked R with that as
    // its cut. R's second reached only X, which had not heard, and X
    // edited on top of it.
    let by_r = changes_by(&r, &plan, &["r-before", "r-after"]);
    s.take(&plan, &by_r[..1]);
    x.take(&plan, &by_r);
    x.edit(&plan, "x-own");
    s.store.cuts.insert(r.public(), 1);

    let (mut sx, mut ss) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (hx, hs) = (
        sx.start(&mut x.docs, &x.store).expect("start"),
        ss.start(&mut s.docs, &s.store).expect("start"),
    );
    run(&mut x, &mut sx, &mut s, &mut ss, hx, hs);
    assert!(!s.get(&plan, "r-after"), "past the cut: refused");
    assert!(
        s.store
            .refused
            .iter()
            .any(|(d, why)| *d == plan && why.contains("was revoked")),
        "{:?}",
        s.store.refused
    );
    assert!(ss.stopped().contains_key(&plan));
    // Mutation check: without the cut, S takes it.
    {
        let (mut x2, mut s2) = (Node::new(61, &[]), Node::new(62, &[]));
        for n in [&mut x2, &mut s2] {
            n.store.writers = writers.clone();
        }
        s2.take(&plan, &by_r[..1]);
        x2.take(&plan, &by_r);
        let (mut a, mut b) = (session(BTreeMap::new()), session(BTreeMap::new()));
        let (ha, hb) = (
            a.start(&mut x2.docs, &x2.store).expect("start"),
            b.start(&mut s2.docs, &s2.store).expect("start"),
        );
        run(&mut x2, &mut a, &mut s2, &mut b, ha, hb);
        assert!(s2.get(&plan, "r-after"));
    }

    // S starts the next epoch (revoking does): the stop lifts, X switches,
    // keeps its own edit and drops R's past the cut.
    s.start_epoch(&plan);
    let to_x = ss.epoch_changed(&plan, &s.store);
    assert!(!ss.stopped().contains_key(&plan), "the stop lifts");
    run(&mut x, &mut sx, &mut s, &mut ss, vec![], to_x);
    assert_eq!(x.store.epoch(&plan), 1);
    assert_eq!(x.heads(), s.heads(), "both converge");
    for n in [&x, &s] {
        assert!(n.get(&plan, "r-before") && n.get(&plan, "x-own"));
        assert!(!n.get(&plan, "r-after"));
    }
    assert!(sx.stopped().is_empty() && ss.stopped().is_empty());
}

/// A member device `m` (seed `seed`) that signed two first changes to
/// meet-ups, one held by the steward `a`, the other by `b`.
fn forked(seed: u8) -> (SecretKey, Node, Node, DocId) {
    let m = SecretKey::from_seed(&[seed; 32]);
    let (mut a, mut b) = (Node::new(seed + 1, &[]), Node::new(seed + 2, &[]));
    let writers = vec![a.key.public(), b.key.public(), m.public()];
    for n in [&mut a, &mut b] {
        n.store.writers = writers.clone();
        n.store.stewards = vec![writers[0]];
    }
    let meetups = ids()[2];
    a.take(&meetups, &changes_by(&m, &meetups, &["leek"]));
    b.take(&meetups, &changes_by(&m, &meetups, &["buxton"]));
    (m, a, b, meetups)
}

/// A session between `a` and `b`, run until quiet.
fn met(a: &mut Node, b: &mut Node) -> (Session, Session) {
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    run(a, &mut sa, b, &mut sb, ha, hb);
    (sa, sb)
}

#[test]
fn an_epoch_heals_an_equivocation_and_the_document_syncs_again() {
    let (_, mut a, mut b, meetups) = forked(70);
    b.edit(&meetups, "b-own");
    let (mut sa, mut sb) = met(&mut a, &mut b);
    assert!(sa.stopped().contains_key(&meetups) && sb.stopped().contains_key(&meetups));
    // The steward A starts an epoch: A's version stands, B keeps its own.
    a.start_epoch(&meetups);
    let to_b = sa.epoch_changed(&meetups, &a.store);
    run(&mut a, &mut sa, &mut b, &mut sb, to_b, vec![]);
    assert_eq!(a.heads(), b.heads());
    for n in [&a, &b] {
        assert!(n.get(&meetups, "leek") && n.get(&meetups, "b-own"));
        assert!(!n.get(&meetups, "buxton"));
    }
    assert!(sa.stopped().is_empty() && sb.stopped().is_empty());
}

#[test]
fn an_epoch_is_announced_by_its_record_and_its_genesis_sent_once_when_asked() {
    let (ka, kb) = (
        SecretKey::from_seed(&[80; 32]).public(),
        SecretKey::from_seed(&[81; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(80, &[ka, kb]), Node::new(81, &[ka, kb]));
    let plan = ids()[1];
    for i in 0..50 {
        a.edit(&plan, &format!("key-{i}"));
    }
    a.start_epoch(&plan);
    // Counts the Epoch messages carrying a genesis, and EpochWants.
    let exchange = |a: &mut Node, b: &mut Node| {
        let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
        let (mut to_b, mut to_a) = (
            sa.start(&mut a.docs, &a.store).expect("start"),
            sb.start(&mut b.docs, &b.store).expect("start"),
        );
        let (mut geneses, mut wants) = (0, 0);
        for _ in 0..50 {
            if to_a.is_empty() && to_b.is_empty() {
                break;
            }
            let count = |m: &Message, g: &mut usize, w: &mut usize| match m {
                Message::Epoch { genesis, .. } if !genesis.is_empty() => *g += 1,
                Message::EpochWant { .. } => *w += 1,
                _ => {}
            };
            let mut next_a = Vec::new();
            for m in to_b.drain(..) {
                count(&m, &mut geneses, &mut wants);
                next_a.extend(sb.handle(m, &mut b.docs, &mut b.store).expect("b"));
            }
            let mut next_b = Vec::new();
            for m in to_a.drain(..).chain(next_a) {
                count(&m, &mut geneses, &mut wants);
                next_b.extend(sa.handle(m, &mut a.docs, &mut a.store).expect("a"));
            }
            to_b = next_b;
        }
        (geneses, wants)
    };
    assert_eq!(
        exchange(&mut a, &mut b),
        (1, 1),
        "B asks once, A sends once"
    );
    assert_eq!(b.store.epoch(&plan), 1);
    assert_eq!(a.heads(), b.heads());
    assert!(b.get(&plan, "key-49"));
    // Both hold the epoch: a reconnect carries the records alone.
    assert_eq!(exchange(&mut a, &mut b), (0, 0));
    // A peer asking again, or for a document in epoch 0, gets nothing more.
    let mut sa = session(BTreeMap::new());
    let mut sb = session(BTreeMap::new());
    let hb = sb.start(&mut b.docs, &b.store).expect("start");
    sa.start(&mut a.docs, &a.store).expect("start");
    for m in hb {
        sa.handle(m, &mut a.docs, &mut a.store).expect("hello");
    }
    let want = |doc| Message::EpochWant { doc };
    let first = sa
        .handle(want(plan), &mut a.docs, &mut a.store)
        .expect("want");
    assert!(matches!(&first[..], [Message::Epoch { genesis, .. }] if !genesis.is_empty()));
    assert!(
        sa.handle(want(plan), &mut a.docs, &mut a.store)
            .expect("again")
            .is_empty()
    );
    assert!(
        sa.handle(want(ids()[0]), &mut a.docs, &mut a.store)
            .expect("epoch 0")
            .is_empty()
    );
}

#[test]
fn an_announce_nobody_may_make_lifts_no_stop() {
    let (m, mut a, mut b, meetups) = forked(90);
    let (_sa, mut sb) = met(&mut a, &mut b);
    assert!(sb.stopped().contains_key(&meetups));
    // The equivocating device signs an epoch of its own: B asks for it
    // (an announce is unverified) but the stop stays until it is checked,
    // and the check refuses it.
    let mut forged = edit::new_doc().with_actor(actor_id(&m.public()));
    let started = crate::epoch::start(&mut forged, meetups, 7, &m, None).expect("start");
    let announce = Message::Epoch {
        doc: meetups,
        record: started.record.bytes().to_vec(),
        genesis: Vec::new(),
        signature: [0; 64],
    };
    let out = sb
        .handle(announce.clone(), &mut b.docs, &mut b.store)
        .expect("announce");
    assert!(matches!(&out[..], [Message::EpochWant { .. }]), "{out:?}");
    assert!(
        sb.stopped().contains_key(&meetups),
        "an announce lifts nothing"
    );
    let full = Message::Epoch {
        doc: meetups,
        record: started.record.bytes().to_vec(),
        genesis: crate::wire::chunks::compress_change(&started.genesis.bytes),
        signature: started.genesis.signature,
    };
    sb.handle(full.clone(), &mut b.docs, &mut b.store)
        .expect("refused calmly");
    assert!(sb.stopped().contains_key(&meetups));
    assert_eq!(b.store.epoch(&meetups), 0);
    // Sent again, neither is looked at.
    for m in [announce, full] {
        assert!(
            sb.handle(m, &mut b.docs, &mut b.store)
                .expect("again")
                .is_empty()
        );
    }
}

#[test]
fn the_directory_goes_only_where_it_is_missing() {
    let (ka, kb) = (
        SecretKey::from_seed(&[80; 32]).public(),
        SecretKey::from_seed(&[81; 32]).public(),
    );
    let (mut a, mut b) = (Node::new(80, &[ka, kb]), Node::new(81, &[ka, kb]));
    let card = |i: u8| vec![b'c', i, 0, 0, 0, 0, 0, 0, 0, 0];
    let record = |i: u8| vec![2, b'r', i, 1, 1, 1, 1, 1];
    // a holds 50 cards and 50 records; b holds 45 of the cards, the same
    // records, one record of its own and one card a holds in another
    // version (other bytes, so another print).
    a.store.cards = (0..50).map(card).collect();
    a.store.records = (0..50).map(record).collect();
    b.store.cards = (0..45).map(card).collect();
    b.store.cards.insert(vec![b'c', 49, 9]);
    b.store.records = (0..51).map(record).collect();
    let (mut sa, mut sb) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hb) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sb.start(&mut b.docs, &b.store).expect("start"),
    );
    let (_, bytes) = run(&mut a, &mut sa, &mut b, &mut sb, ha, hb);
    // b got the five cards it lacked, a the record and the other card.
    assert_eq!(b.store.offered, 5, "cards sent to b");
    assert_eq!(a.store.offered, 2, "items sent to a");
    assert_eq!(a.store.cards, b.store.cards);
    assert_eq!(a.store.records, b.store.records);
    // Positive control: a peer that holds nothing gets everything.
    let mut c = Node::new(82, &[ka, kb]);
    let (mut sa, mut sc) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hc) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sc.start(&mut c.docs, &c.store).expect("start"),
    );
    let (_, all) = run(&mut a, &mut sa, &mut c, &mut sc, ha, hc);
    assert_eq!(c.store.offered, a.store.cards.len() + a.store.records.len());
    assert_eq!(c.store.records, a.store.records);
    assert!(
        bytes < all,
        "{bytes} bytes for the difference, {all} for all"
    );
}

#[test]
fn a_directory_larger_than_one_message_goes_in_parts() {
    use super::super::messages::MAX_CARDS;
    let (ka, kb) = (
        SecretKey::from_seed(&[83; 32]).public(),
        SecretKey::from_seed(&[84; 32]).public(),
    );
    let (mut a, mut c) = (Node::new(83, &[ka, kb]), Node::new(84, &[ka, kb]));
    // A network of about 1,500 groups: an affiliation and a summary each
    // are more records than one message carries.
    let n = MAX_CARDS + MAX_CARDS / 2;
    let item = |tag: u8, i: usize| {
        let mut v = vec![tag];
        v.extend_from_slice(&(i as u32).to_be_bytes());
        v
    };
    a.store.records = (0..n).map(|i| item(2, i)).collect();
    a.store.cards = (0..MAX_CARDS + 1).map(|i| item(b'c', i)).collect();
    let (mut sa, mut sc) = (session(BTreeMap::new()), session(BTreeMap::new()));
    let (ha, hc) = (
        sa.start(&mut a.docs, &a.store).expect("start"),
        sc.start(&mut c.docs, &c.store).expect("start"),
    );
    // Every message is encoded and decoded on the way (`run`): one over
    // the cap would be refused by the decoder and end the session.
    run(&mut a, &mut sa, &mut c, &mut sc, ha, hc);
    assert_eq!(c.store.records, a.store.records);
    assert_eq!(c.store.cards, a.store.cards);
    // The parts themselves: none over the cap, nothing lost or doubled.
    let parts = Message::records_in_parts(a.store.records.iter().cloned().collect());
    assert_eq!(parts.len(), 2);
    let mut seen = 0;
    for p in &parts {
        let Message::Records(r) = p else {
            panic!("{p:?}")
        };
        assert!(r.len() <= MAX_CARDS);
        seen += r.len();
        assert!(Message::decode(&p.encode()).is_ok());
    }
    assert_eq!(seen, n);
    // Positive control: one message with them all is refused.
    let whole = Message::Records(a.store.records.iter().cloned().collect());
    assert!(Message::decode(&whole.encode()).is_err());
    assert!(Message::records_in_parts(Vec::new()).is_empty());
}
