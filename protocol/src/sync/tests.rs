use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc};

use super::*;
use crate::edit;
use crate::ids::DocKind;
use crate::keys::SecretKey;
use crate::signed::{actor_id, sign_change};

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
        let from_a = generate(&mut a.doc, &mut sa, |h| a_sigs.get(h).copied())?;
        if let Some(mut m) = from_a.clone() {
            tamper(&mut m);
            for v in receive_verified(&doc_id(), &mut b.doc, &mut sb, &m, may_write)? {
                b.sigs.insert(v.hash, v.signature);
            }
        }
        let b_sigs = b.sigs.clone();
        let from_b = generate(&mut b.doc, &mut sb, |h| b_sigs.get(h).copied())?;
        if let Some(m) = &from_b {
            for v in receive_verified(&doc_id(), &mut a.doc, &mut sa, m, may_write)? {
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
        matches!(err, SyncError::Change(ChangeRejected::NotAWriter { .. })),
        "{err}"
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
        matches!(err, SyncError::Change(ChangeRejected::BadSignature { .. })),
        "{err}"
    );
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
    let hello = generate(&mut a.doc, &mut sa, |_| None)
        .expect("no changes yet")
        .expect("a message");
    assert!(hello.signatures.is_empty());
    receive_verified(&doc_id(), &mut b.doc, &mut sb, &hello, |_: &DeviceId| true)
        .expect("heads only");
    let reply = generate(&mut b.doc, &mut sb, |_| None)
        .expect("b has nothing to sign")
        .expect("a reply");
    receive_verified(&doc_id(), &mut a.doc, &mut sa, &reply, |_: &DeviceId| true).expect("reply");
    let err = generate(&mut a.doc, &mut sa, |_| None).expect_err("unsigned local change");
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
    let err = receive_verified(&doc_id(), &mut b.doc, &mut state, &bad, |_: &DeviceId| true)
        .expect_err("crasher");
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
            generate(&mut s2.doc, &mut s2_state, |h| sigs.get(h).copied()).expect("gen")
        {
            receive_verified(&doc_id(), &mut b.doc, &mut sb, &m, rule())
                .expect("accepted in rounds");
        }
        let bsigs = b.sigs.clone();
        if let Some(m) = generate(&mut b.doc, &mut sb, |h| bsigs.get(h).copied()).expect("gen") {
            receive_verified(&doc_id(), &mut s2.doc, &mut s2_state, &m, rule()).expect("reply");
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
        if let Some(m) = generate(&mut x.doc, &mut sx, |h| sigs.get(h).copied()).expect("gen")
            && let Err(e) = receive_verified(&doc_id(), &mut c.doc, &mut sc, &m, rule())
        {
            assert!(
                matches!(e, SyncError::Change(ChangeRejected::NotAWriter { .. })),
                "{e}"
            );
            refused = true;
            break;
        }
        let csigs = c.sigs.clone();
        if let Some(m) = generate(&mut c.doc, &mut sc, |h| csigs.get(h).copied()).expect("gen") {
            receive_verified(&doc_id(), &mut x.doc, &mut sx, &m, |_: &DeviceId| true)
                .expect("reply");
        }
    }
    assert!(refused, "the self-listed writer was never refused");
    assert_eq!(
        c.get("by-x"),
        None,
        "nothing from the refused message was applied"
    );
}
