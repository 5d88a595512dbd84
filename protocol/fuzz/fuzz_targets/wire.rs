//! Fuzzes everything a peer's bytes pass through: frames, session messages,
//! sync-message validation, and (for what passes) Automerge receiving the
//! message and answering it. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run wire`
//! from protocol/. New crashes go in protocol/tests/sync-crashers/.
#![no_main]

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::wire::frame::Decoder;
use groundwork_protocol::wire::sync_message::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Frames and session messages.
    let mut d = Decoder::new(1 << 20);
    d.push(data);
    while let Ok(Some(frame)) = d.next_frame() {
        let _ = Message::decode(&frame);
    }
    // A raw sync message, received by a document with history.
    if let Ok(msg) = validate(data) {
        let mut doc = groundwork_protocol::edit::new_doc();
        for i in 0..3 {
            let _ = doc.put(automerge::ROOT, format!("k{i}"), i);
            doc.commit();
        }
        let mut state = State::new();
        let _ = doc.sync().receive_sync_message(&mut state, msg);
        let _ = doc.sync().generate_sync_message(&mut state);
    }
});
