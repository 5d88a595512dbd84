use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc};

use super::*;
use crate::edit;
use crate::ids::{DocId, DocKind};
use crate::keys::SecretKey;
use crate::signed::{ChangeRejected, actor_id, sign_change};
use crate::trust::change::ChangeRefused;

/// One replica: a device key, its document, and the signatures it holds.
struct Replica {
    key: SecretKey,
    doc: AutoCommit,
    sigs: HashMap<ChangeHash, [u8; 64]>,
}

fn doc_id() -> DocId {
    DocId::derive(&SecretKey::from_seed(&[1; 32]).public(), DocKind::Meetups)
}

impl Replica {
    fn new(seed: u8) -> Self {
        let key = SecretKey::from_seed(&[seed; 32]);
        let doc = edit::new_doc().with_actor(actor_id(&key.public()));
        Replica {
            key,
            doc,
            sigs: HashMap::new(),
        }
    }

    /// A local edit, signed as the node does it.
    fn edit(&mut self, k: &str, v: &str) {
        let before = self.doc.get_heads();
        self.doc.put(ROOT, k, v).expect("put");
        self.doc.commit();
        for c in self.doc.get_changes(&before) {
            let sig = sign_change(&self.key, &doc_id(), &c).expect("own change");
            self.sigs.insert(c.hash(), sig);
        }
    }

    fn get(&self, k: &str) -> Option<String> {
        self.doc
            .get(ROOT, k)
            .expect("get")
            .map(|(v, _)| v.to_string().trim_matches('"').to_owned())
    }
}

/// Receives a message as a node does: with the document's sequence index.
fn recv(
    doc: &mut AutoCommit,
    state: &mut State,
    m: &SignedSyncMessage,
    rule: impl WriteRule,
) -> Result<Vec<VerifiedChange>, SyncError> {
    let mut seqs = SeqIndex::of(doc);
    receive_verified(&doc_id(), doc, state, m, rule, &mut seqs).map(|r| r.verified)
}

/// Runs the protocol between two replicas until both are quiet. `tamper`
/// may alter each message from `a` to `b`. Returns the first error.
fn sync(
    a: &mut Replica,
    b: &mut Replica,
    writers: &[DeviceId],
    tamper: impl Fn(&mut SignedSyncMessage),
) -> Result<(), SyncError> {
    let (mut sa, mut sb) = (State::new(), State::new());
    let may_write = |d: &DeviceId| writers.contains(d);
    for _ in 0..20 {
        let a_sigs = a.sigs.clone();
        let from_a = generate(&mut a.doc, &mut sa, false, |h| a_sigs.get(h).copied())?;
        if let Some(mut m) = from_a.clone() {
            tamper(&mut m);
            for v in recv(&mut b.doc, &mut sb, &m, may_write)? {
                b.sigs.insert(v.hash, v.signature);
            }
        }
        let b_sigs = b.sigs.clone();
        let from_b = generate(&mut b.doc, &mut sb, false, |h| b_sigs.get(h).copied())?;
        if let Some(m) = &from_b {
            for v in recv(&mut a.doc, &mut sa, m, may_write)? {
                a.sigs.insert(v.hash, v.signature);
            }
        }
        if from_a.is_none() && from_b.is_none() {
            return Ok(());
        }
    }
    panic!("sync did not finish in 20 rounds");
}

#[test]
fn signed_edits_sync_both_ways_and_every_change_keeps_its_signature() {
    let (mut a, mut b) = (Replica::new(10), Replica::new(11));
    a.edit("agenda", "buses");
    b.edit("notes", "twelve came");
    let writers = [a.key.public(), b.key.public()];
    sync(&mut a, &mut b, &writers, |_| {}).expect("sync");
    assert_eq!(a.doc.get_heads(), b.doc.get_heads());
    assert_eq!(b.get("agenda").as_deref(), Some("buses"));
    assert_eq!(a.get("notes").as_deref(), Some("twelve came"));
    // Each side can now relay every change with its author's signature.
    for c in b.doc.get_changes(&[]) {
        assert!(
            b.sigs.contains_key(&c.hash()),
            "b lacks the signature of {}",
            c.hash()
        );
    }
}

#[test]
fn a_change_by_a_device_that_may_not_write_is_rejected_and_nothing_changes() {
    let (mut a, mut b) = (Replica::new(20), Replica::new(21));
    b.edit("notes", "b's own");
    a.edit("agenda", "written by a non-writer");
    let heads_before = b.doc.get_heads();
    let only_b = [b.key.public()];
    let err = sync(&mut a, &mut b, &only_b, |_| {}).expect_err("a may not write");
    assert!(
        matches!(err, SyncError::Change(ChangeRefused::NotAWriter { .. })),
        "{err}"
    );
    assert!(
        !err.ends_session(),
        "an honest relay may judge writers differently"
    );
    assert_eq!(
        b.doc.get_heads(),
        heads_before,
        "b applied part of a rejected message"
    );
    assert_eq!(b.get("agenda"), None);
}

#[test]
fn a_forged_signature_is_rejected() {
    let (mut a, mut b) = (Replica::new(30), Replica::new(31));
    a.edit("agenda", "buses");
    let writers = [a.key.public(), b.key.public()];
    let err = sync(&mut a, &mut b, &writers, |m| {
        for (_, s) in &mut m.signatures {
            s[0] ^= 0x55;
        }
    })
    .expect_err("forged");
    assert!(
        matches!(
            err,
            SyncError::Change(ChangeRefused::Signature(
                ChangeRejected::BadSignature { .. }
            ))
        ),
        "{err}"
    );
    assert!(err.ends_session());
    assert_eq!(b.get("agenda"), None);
}

#[test]
fn a_change_sent_without_its_signature_is_rejected() {
    let (mut a, mut b) = (Replica::new(40), Replica::new(41));
    a.edit("agenda", "buses");
    let writers = [a.key.public(), b.key.public()];
    let err = sync(&mut a, &mut b, &writers, |m| m.signatures.clear()).expect_err("unsigned");
    assert!(matches!(err, SyncError::MissingSignature(_)), "{err}");
    assert_eq!(b.get("agenda"), None);
}

#[test]
fn a_node_refuses_to_send_a_change_it_holds_no_signature_for() {
    let (mut a, mut b) = (Replica::new(50), Replica::new(51));
    a.edit("agenda", "buses");
    a.sigs.clear(); // as if the store had lost them
    let (mut sa, mut sb) = (State::new(), State::new());
    // The first message only announces heads; the changes follow the reply.
    let hello = generate(&mut a.doc, &mut sa, false, |_| None)
        .expect("no changes yet")
        .expect("a message");
    assert!(hello.signatures.is_empty());
    recv(&mut b.doc, &mut sb, &hello, |_: &DeviceId| true).expect("heads only");
    let reply = generate(&mut b.doc, &mut sb, false, |_| None)
        .expect("b has nothing to sign")
        .expect("a reply");
    recv(&mut a.doc, &mut sa, &reply, |_: &DeviceId| true).expect("reply");
    let err = generate(&mut a.doc, &mut sa, false, |_| None).expect_err("unsigned local change");
    assert!(matches!(err, SyncError::UnsignedLocalChange(_)), "{err}");
}

#[test]
fn a_garbage_message_is_rejected_before_automerge_sees_it() {
    let mut b = Replica::new(61);
    let mut state = State::new();
    let bad = SignedSyncMessage {
        message: vec![0x42, 0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x00, 0x01, 0x00],
        signatures: vec![],
    };
    let err = recv(&mut b.doc, &mut state, &bad, |_: &DeviceId| true).expect_err("crasher");
    assert!(matches!(err, SyncError::Message(_)), "{err}");
    assert_eq!(state, State::new());
}

/// A rule like the devices document's: S1 may write, and so may any key
/// an accepted change listed under "writers".
struct Listed {
    first: DeviceId,
    learned: Vec<String>,
}

impl WriteRule for Listed {
    fn may_write(&self, author: &DeviceId) -> bool {
        *author == self.first || self.learned.contains(&author.to_string())
    }
    fn learns(&self) -> bool {
        true
    }
    fn learn(&mut self, accepted: &AutoCommit) {
        use automerge::ReadDoc;
        self.learned = accepted.keys(ROOT).collect();
    }
}

#[test]
fn a_writer_added_earlier_in_the_same_message_is_accepted_but_a_self_added_one_is_not() {
    let (mut s1, mut s2, mut b) = (Replica::new(61), Replica::new(62), Replica::new(63));
    let s2_id = s2.key.public();
    // S1 lists S2 as a writer; S2 (having synced) then writes.
    s1.edit(&s2_id.to_string(), "writer");
    s2.doc.merge(&mut s1.doc).expect("merge");
    s2.sigs.extend(s1.sigs.clone());
    s2.edit("by-s2", "hello");
    let rule = || Listed {
        first: s1.key.public(),
        learned: Vec::new(),
    };
    // Everything reaches b in one message, S2's change after S1's.
    let mut sb = State::new();
    let mut s2_state = State::new();
    for _ in 0..6 {
        let sigs = s2.sigs.clone();
        if let Some(m) =
            generate(&mut s2.doc, &mut s2_state, false, |h| sigs.get(h).copied()).expect("gen")
        {
            recv(&mut b.doc, &mut sb, &m, rule()).expect("accepted in rounds");
        }
        let bsigs = b.sigs.clone();
        if let Some(m) =
            generate(&mut b.doc, &mut sb, false, |h| bsigs.get(h).copied()).expect("gen")
        {
            recv(&mut s2.doc, &mut s2_state, &m, rule()).expect("reply");
        }
    }
    assert_eq!(b.get("by-s2").as_deref(), Some("hello"));

    // A stranger listing itself as a writer is refused, whole.
    let (mut x, mut c) = (Replica::new(64), Replica::new(65));
    let x_id = x.key.public();
    x.edit(&x_id.to_string(), "writer");
    x.edit("by-x", "forged");
    let mut sc = State::new();
    let mut sx = State::new();
    let mut refused = false;
    for _ in 0..4 {
        let sigs = x.sigs.clone();
        if let Some(m) =
            generate(&mut x.doc, &mut sx, false, |h| sigs.get(h).copied()).expect("gen")
            && let Err(e) = recv(&mut c.doc, &mut sc, &m, rule())
        {
            assert!(
                matches!(e, SyncError::Change(ChangeRefused::NotAWriter { .. })),
                "{e}"
            );
            refused = true;
            break;
        }
        let csigs = c.sigs.clone();
        if let Some(m) =
            generate(&mut c.doc, &mut sc, false, |h| csigs.get(h).copied()).expect("gen")
        {
            recv(&mut x.doc, &mut sx, &m, |_: &DeviceId| true).expect("reply");
        }
    }
    assert!(refused, "the self-listed writer was never refused");
    assert_eq!(
        c.get("by-x"),
        None,
        "nothing from the refused message was applied"
    );
}

/// A second replica of `r`'s device: the same key and history, so its next
/// change takes the same sequence number as `r`'s (an equivocating device).
fn same_device(r: &mut Replica) -> Replica {
    Replica {
        key: SecretKey::from_seed(&r.key.to_seed()),
        doc: r.doc.fork().with_actor(actor_id(&r.key.public())),
        sigs: r.sigs.clone(),
    }
}

/// The message `from` would send to a peer holding nothing, with its change
/// list replaced by `keep(changes)`.
fn message_with(
    from: &mut Replica,
    keep: impl FnOnce(Vec<Vec<u8>>) -> Vec<Vec<u8>>,
) -> SignedSyncMessage {
    let mut changes: Vec<automerge::Change> = from.doc.get_changes(&[]);
    let chunks: Vec<Vec<u8>> = changes.iter_mut().map(|c| c.bytes().to_vec()).collect();
    let mut state = State::new();
    let first = generate(&mut from.doc, &mut state, false, |_| None)
        .expect("gen")
        .expect("a message");
    let mut m = automerge::sync::Message::decode(&first.message).expect("own");
    m.changes = keep(chunks).into();
    SignedSyncMessage {
        message: m.encode(),
        signatures: from.sigs.iter().map(|(h, s)| (*h, *s)).collect(),
    }
}

#[test]
fn an_equivocating_change_is_refused_with_both_signed_changes_and_nothing_changes() {
    let (mut m, mut s) = (Replica::new(70), Replica::new(71));
    m.edit("place", "Leek library");
    let writers = [m.key.public(), s.key.public()];
    sync(&mut m, &mut s, &writers, |_| {}).expect("first sync");
    // The device signs two different next changes: one reaches s.
    let mut m2 = same_device(&mut m);
    m.edit("notes", "to the steward");
    m2.edit("notes", "to the organiser");
    sync(&mut m, &mut s, &writers, |_| {}).expect("the first version syncs");
    let heads = s.doc.get_heads();
    // The other version arrives (with the change both share).
    let msg = message_with(&mut m2, |c| c);
    let err =
        recv(&mut s.doc, &mut State::new(), &msg, |_: &DeviceId| true).expect_err("equivocation");
    let SyncError::Equivocation(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.author, m.key.public());
    assert_eq!(e.seq, 2, "the place, then the two notes at 2");
    assert!(!err.ends_session(), "an honest relay may carry it");
    assert_eq!(s.doc.get_heads(), heads, "nothing applied");
    assert_eq!(s.get("notes").as_deref(), Some("to the steward"));
    // The receiver completes the proof with the change it holds.
    let held = s.doc.get_change_by_hash(&e.held).expect("the held change");
    let proof = crate::trust::change::EquivocationProof {
        doc: doc_id(),
        epoch: 0,
        author: e.author,
        seq: e.seq,
        first: crate::trust::change::SignedChange {
            bytes: held.raw_bytes().to_vec(),
            signature: *s.sigs.get(&e.held).expect("held signature"),
        },
        second: e.offered.clone(),
    };
    assert_eq!(proof.verify(), Ok(()));
}

#[test]
fn two_changes_with_one_sequence_number_in_one_message_are_refused() {
    let mut m = Replica::new(72);
    m.edit("place", "Leek library");
    let mut m2 = same_device(&mut m);
    m.edit("notes", "one");
    m2.edit("notes", "two");
    let extra: Vec<u8> = m2
        .doc
        .get_last_local_change()
        .expect("change")
        .raw_bytes()
        .to_vec();
    let mut msg = message_with(&mut m, |mut c| {
        c.push(extra);
        c
    });
    msg.signatures.extend(m2.sigs.iter().map(|(h, s)| (*h, *s)));
    let mut b = Replica::new(73);
    let err = recv(&mut b.doc, &mut State::new(), &msg, |_: &DeviceId| true).expect_err("two");
    let SyncError::Equivocation(e) = &err else {
        panic!("{err}")
    };
    assert!(e.held_change.is_some(), "both came in the message");
    assert!(b.doc.get_heads().is_empty());
}

#[test]
fn orphans_are_verified_but_never_applied_or_queued() {
    let mut a = Replica::new(74);
    a.edit("one", "1");
    a.edit("two", "2");
    let msg = message_with(&mut a, |c| c[1..].to_vec()); // the first is missing
    let mut b = Replica::new(75);
    let mut seqs = SeqIndex::default();
    let r = receive_verified(
        &doc_id(),
        &mut b.doc,
        &mut State::new(),
        &msg,
        |_: &DeviceId| true,
        &mut seqs,
    )
    .expect("verified, not applied");
    assert_eq!((r.verified.len(), r.orphans), (0, 1));
    assert!(b.doc.get_heads().is_empty());
    assert!(
        b.doc.get_missing_deps(&[]).is_empty(),
        "Automerge queued nothing"
    );
    // An orphan with a forged signature, or by a non-writer, is refused.
    let mut forged = msg.clone();
    for (_, s) in &mut forged.signatures {
        s[1] ^= 1;
    }
    let err = recv(&mut b.doc, &mut State::new(), &forged, |_: &DeviceId| true).expect_err("f");
    assert!(err.ends_session(), "{err}");
    let err = recv(&mut b.doc, &mut State::new(), &msg, |_: &DeviceId| false).expect_err("w");
    assert!(
        matches!(err, SyncError::Change(ChangeRefused::NotAWriter { .. })),
        "{err}"
    );
    // An unsigned orphan is refused as well.
    let mut unsigned = msg;
    unsigned.signatures.clear();
    let err = recv(&mut b.doc, &mut State::new(), &unsigned, |_: &DeviceId| {
        true
    })
    .expect_err("u");
    assert!(matches!(err, SyncError::MissingSignature(_)), "{err}");
}

#[test]
fn a_resync_request_brings_back_what_was_dropped() {
    let (mut a, mut b) = (Replica::new(76), Replica::new(77));
    for i in 0..5 {
        a.edit(&format!("k{i}"), "v");
    }
    // b drops the first change of a's first message (as a bloom filter false
    // positive would leave it out), then asks again.
    let (mut sa, mut sb) = (State::new(), State::new());
    let mut resync = false;
    let mut dropped = false;
    for _ in 0..12 {
        let sigs = a.sigs.clone();
        if let Some(mut m) =
            generate(&mut a.doc, &mut sa, false, |h| sigs.get(h).copied()).expect("g")
        {
            let mut decoded = automerge::sync::Message::decode(&m.message).expect("own");
            if !dropped && decoded.changes.len() > 1 {
                let rest: Vec<Vec<u8>> =
                    decoded.changes.iter().skip(1).map(<[u8]>::to_vec).collect();
                decoded.changes = rest.into();
                m.message = decoded.encode();
                dropped = true;
            }
            let mut seqs = SeqIndex::of(&mut b.doc);
            let r = receive_verified(
                &doc_id(),
                &mut b.doc,
                &mut sb,
                &m,
                |_: &DeviceId| true,
                &mut seqs,
            )
            .expect("receive");
            resync = r.orphans > 0;
        }
        let bsigs = b.sigs.clone();
        if let Some(m) =
            generate(&mut b.doc, &mut sb, resync, |h| bsigs.get(h).copied()).expect("g")
        {
            recv(&mut a.doc, &mut sa, &m, |_: &DeviceId| true).expect("reply");
        }
    }
    assert!(dropped);
    assert_eq!(b.doc.get_heads(), a.doc.get_heads());
    assert!(b.doc.get_missing_deps(&[]).is_empty());
}

#[test]
fn a_compressed_bomb_in_a_message_is_refused_before_automerge_inflates_it() {
    use std::io::Write;
    let mut a = Replica::new(78);
    a.edit("k", "v");
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0; 64 << 20]).expect("deflate");
    let body = e.finish().expect("deflate");
    let bomb =
        crate::wire::chunks::encode_chunk(crate::wire::chunks::TYPE_COMPRESSED, [0; 4], &body);
    let msg = message_with(&mut a, |_| vec![bomb]);
    let mut b = Replica::new(79);
    let err = recv(&mut b.doc, &mut State::new(), &msg, |_: &DeviceId| true).expect_err("bomb");
    assert_eq!(
        err,
        SyncError::Chunk(crate::wire::chunks::ChunkRejected::TooLarge)
    );
    assert!(err.ends_session());
}

#[test]
fn changes_travel_one_by_one_even_to_a_peer_that_offers_the_document_format() {
    let mut a = Replica::new(80);
    for i in 0..30 {
        a.edit(&format!("k{i}"), "v");
    }
    let mut b = Replica::new(81);
    let (mut sa, mut sb) = (State::new(), State::new());
    // b, as Automerge itself would, advertises the whole-document format.
    for _ in 0..4 {
        if let Some(m) = b.doc.sync().generate_sync_message(&mut sb) {
            a.doc
                .sync()
                .receive_sync_message(&mut sa, m)
                .expect("receive");
        }
        let sigs = a.sigs.clone();
        if let Some(m) = generate(&mut a.doc, &mut sa, false, |h| sigs.get(h).copied()).expect("g")
        {
            let decoded = automerge::sync::Message::decode(&m.message).expect("own");
            for c in decoded.changes.iter() {
                assert!(matches!(c[8], 1 | 2), "chunk type {} sent", c[8]);
            }
            recv(&mut b.doc, &mut sb, &m, |_: &DeviceId| true).expect("receive");
        }
    }
    assert_eq!(b.doc.get_heads(), a.doc.get_heads());
}

#[test]
fn a_change_that_skips_sequence_numbers_is_refused() {
    let mut a = Replica::new(82);
    a.edit("k", "v");
    // A change claiming sequence 5 with its dependencies met.
    let base = a.doc.get_last_local_change().expect("change");
    let mut expanded = {
        let mut d = a.doc.fork().with_actor(actor_id(&a.key.public()));
        d.put(ROOT, "later", "x").expect("put");
        d.commit();
        d.get_last_local_change().expect("change").decode()
    };
    expanded.seq = 5;
    let gap = automerge::Change::from(expanded);
    assert_eq!(gap.deps(), &[base.hash()]);
    let sig = sign_change(&a.key, &doc_id(), &gap).expect("sign");
    let mut b = Replica::new(83);
    let mut sb = State::new();
    let writers = [a.key.public()];
    sync(&mut a, &mut b, &writers, |_| {}).expect("base");
    let mut msg = message_with(&mut a, |_| vec![gap.raw_bytes().to_vec()]);
    msg.signatures.push((gap.hash(), sig));
    let err = recv(&mut b.doc, &mut sb, &msg, |_: &DeviceId| true).expect_err("gap");
    assert!(
        matches!(
            err,
            SyncError::SeqGap {
                seq: 5,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
}

/// A document with history of its own, as a receiving node holds one.
fn receiver() -> Replica {
    let mut r = Replica::new(90);
    for i in 0..3 {
        r.edit(&format!("mine{i}"), "v");
    }
    r
}

#[test]
fn every_known_crasher_is_refused_on_the_receive_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sync-crashers");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("crashers folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read crasher");
        let mut r = receiver();
        let heads = r.doc.get_heads();
        let msg = SignedSyncMessage {
            message: bytes,
            signatures: vec![],
        };
        let err = recv(&mut r.doc, &mut State::new(), &msg, |_: &DeviceId| true)
            .expect_err(&format!("{} was accepted", path.display()));
        assert!(err.ends_session(), "{}: {err}", path.display());
        assert_eq!(r.doc.get_heads(), heads, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} crashers in {}", dir.display());
}

proptest::proptest! {
    // Mutated real messages with real changes in them, through the whole
    // receive path: refused, or received without panicking.
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0x6777_7276), ..Default::default() })]
    #[test]
    fn mutated_messages_with_changes_are_refused_or_safe(
        flips in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 1u8..=255), 1..6),
        wide in proptest::prelude::any::<bool>(),
    ) {
        let mut a = Replica::new(91);
        for i in 0..4 {
            a.edit(&format!("k{i}"), &"x".repeat(if wide { 200 } else { 3 }));
        }
        let mut msg = message_with(&mut a, |c| c);
        for (i, x) in flips {
            let i = i.index(msg.message.len());
            msg.message[i] ^= x;
        }
        let mut b = receiver();
        let _ = recv(&mut b.doc, &mut State::new(), &msg, |_: &DeviceId| true);
        let _ = generate(&mut b.doc, &mut State::new(), false, |_| None);
    }
}

#[test]
fn a_value_longer_than_its_field_is_refused_for_that_document() {
    let mut a = Replica::new(92);
    a.edit("name", &"x".repeat(201));
    let mut b = Replica::new(93);
    let writers = [a.key.public()];
    let err = sync(&mut a, &mut b, &writers, |_| {}).expect_err("too long");
    assert!(
        matches!(&err, SyncError::TooLong { key, chars: 201, max: 200 } if key == "name"),
        "{err}"
    );
    assert!(!err.ends_session());
    assert!(b.doc.get_heads().is_empty());
    // Within the limit, and under a key the schema does not name, up to
    // the largest single-value limit.
    let mut c = Replica::new(94);
    c.edit("name", &"x".repeat(200));
    c.edit("anything", &"y".repeat(5000));
    let mut d = Replica::new(95);
    let writers = [c.key.public()];
    sync(&mut c, &mut d, &writers, |_| {}).expect("within the limits");
}

#[test]
fn a_large_change_travels_deflated_and_is_verified_like_any_other() {
    let (mut a, mut b) = (Replica::new(80), Replica::new(81));
    // One change of 2,000 similar values, as an import makes.
    let before = a.doc.get_heads();
    for i in 0..2000 {
        a.doc
            .put(ROOT, format!("member-{i:05}"), format!("Member number {i}"))
            .expect("put");
    }
    a.doc.commit();
    for c in a.doc.get_changes(&before) {
        let sig = sign_change(&a.key, &doc_id(), &c).expect("own change");
        a.sigs.insert(c.hash(), sig);
    }
    let raw: usize = a
        .doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().len())
        .sum();
    let (mut sa, mut sb) = (State::new(), State::new());
    let writers = [a.key.public()];
    let mut sent = 0;
    for _ in 0..10 {
        let sigs = a.sigs.clone();
        if let Some(m) = generate(&mut a.doc, &mut sa, false, |h| sigs.get(h).copied()).expect("a")
        {
            sent += m.message.len();
            recv(&mut b.doc, &mut sb, &m, |d: &DeviceId| writers.contains(d)).expect("b takes it");
        }
        let Some(m) = generate(&mut b.doc, &mut sb, false, |_| None).expect("b") else {
            break;
        };
        recv(&mut a.doc, &mut sa, &m, |_: &DeviceId| false).expect("a takes b's");
    }
    assert_eq!(b.doc.get_heads(), a.doc.get_heads());
    assert_eq!(b.get("member-01999").as_deref(), Some("Member number 1999"));
    // The chunk went compressed (type 2): far under the raw change.
    assert!(sent * 3 < raw, "{sent} bytes sent for a {raw}-byte change");
}
