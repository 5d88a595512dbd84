//! Fuzzes everything a peer's bytes pass through: frames, session messages,
//! sync-message validation, the change decoder, and (for what passes) a
//! document with history receiving the message through the whole verified
//! path and answering it. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run wire
//! tests/sync-crashers` from protocol/ (the crashers are the seed corpus).
//! New crashes go in protocol/tests/sync-crashers/.
#![no_main]

use automerge::sync::State;
use automerge::transaction::Transactable;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::{SeqIndex, SignedSyncMessage, generate, receive_verified};
use groundwork_protocol::wire::frame::Decoder;
use groundwork_protocol::{DeviceId, DocId, DocKind, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Frames and session messages.
    let mut d = Decoder::new(1 << 20);
    d.push(data);
    while let Ok(Some(frame)) = d.next_frame() {
        let _ = Message::decode(&frame);
    }
    // A raw sync message, received by a document with history.
    let group = SecretKey::from_seed(&[1; 32]).public();
    let doc_id = DocId::derive(&group, DocKind::Meetups);
    let mut doc = groundwork_protocol::edit::new_doc();
    for i in 0..3 {
        let _ = doc.put(automerge::ROOT, format!("k{i}"), i);
        doc.commit();
    }
    let mut state = State::new();
    let mut seqs = SeqIndex::of(&mut doc);
    let msg = SignedSyncMessage {
        message: data.to_vec(),
        signatures: vec![],
    };
    let _ = receive_verified(&doc_id, &mut doc, &mut state, &msg, |_: &DeviceId| true, &mut seqs);
    let _ = generate(&mut doc, &mut state, false, |_| None);
});
