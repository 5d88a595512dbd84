//! Hostile payloads for the adversary suite, built with the protocol's own
//! encoders: what an attacker sends, never what an honest node would.

use std::io::Write;

use automerge::Change;
use automerge::sync::{Message, MessageVersion};
use automerge::transaction::Transactable;
use groundwork_protocol::signed::{actor_id, sign_change};
use groundwork_protocol::sync::SignedSyncMessage;
use groundwork_protocol::wire::chunks::{TYPE_CHANGE, TYPE_COMPRESSED, encode_chunk};
use groundwork_protocol::{DocId, SecretKey};

/// A compressed change chunk whose data inflates to `mib` MiB of zeros:
/// about a thousandth of that on the wire.
///
/// Compressing hundreds of MiB takes a debug build seconds, so only two
/// MiB are compressed: once the window is all zeros, each further MiB
/// (flushed to a byte boundary) compresses to the same bytes, which are
/// repeated.
pub fn deflate_bomb(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&zeros).expect("deflate");
    e.flush().expect("flush");
    let first = e.get_ref().len();
    e.write_all(&zeros).expect("deflate");
    e.flush().expect("flush");
    let second = e.get_ref()[first..].to_vec();
    let mut stream = e.get_ref().clone();
    for _ in 2..mib {
        stream.extend_from_slice(&second);
    }
    // The final block: empty, fixed codes.
    stream.extend_from_slice(&[0x03, 0x00]);
    encode_chunk(TYPE_COMPRESSED, [0; 4], &stream)
}

/// A 65-byte change chunk whose action column claims 10¹² operations in
/// one run: Automerge would walk every one of them.
pub fn run_length_bomb() -> Vec<u8> {
    let mut d = vec![0, 32];
    d.extend_from_slice(&[5; 32]); // actor
    d.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    // One column: the action column (id 4, integers), one run.
    let run = [0x80, 0xa0, 0x94, 0xa5, 0x8d, 0x1d, 0x01]; // sleb 10^12, then value 1
    d.extend_from_slice(&[1, (4 << 4) | 2, run.len() as u8]);
    d.extend_from_slice(&run);
    encode_chunk(TYPE_CHANGE, [0; 4], &d)
}

/// An Automerge sync message carrying `changes` (chunks) and nothing else,
/// with `signatures` attached.
pub fn sync_message(
    changes: Vec<Vec<u8>>,
    signatures: Vec<(automerge::ChangeHash, [u8; 64])>,
) -> SignedSyncMessage {
    let heads = changes
        .iter()
        .filter_map(|c| Change::try_from(c.as_slice()).ok().map(|c| c.hash()))
        .collect();
    let m = Message {
        heads,
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: MessageVersion::V1,
    };
    SignedSyncMessage {
        message: m.encode(),
        signatures,
    }
}

/// A change by `key` to document `doc` that depends on nothing, setting
/// `field` to `value`, signed (or, with `forge`, carrying a bad signature),
/// with the sequence number `seq`.
pub fn change(
    key: &SecretKey,
    doc: &DocId,
    seq: u64,
    field: &str,
    value: &str,
    forge: bool,
) -> (Vec<u8>, (automerge::ChangeHash, [u8; 64])) {
    let mut d = groundwork_protocol::edit::new_doc().with_actor(actor_id(&key.public()));
    d.put(automerge::ROOT, field, value).expect("put");
    d.commit();
    let mut expanded = d.get_last_local_change().expect("a change").decode();
    expanded.seq = seq;
    let c = Change::from(expanded);
    let mut sig = sign_change(key, doc, &c).expect("own change");
    if forge {
        sig[0] ^= 0x55;
    }
    (c.raw_bytes().to_vec(), (c.hash(), sig))
}

/// A change whose actor is `victim`'s key, at `seq`, depending on
/// `depends_on` (which the receiver need not hold): the attacker cannot
/// sign it, so it travels with whatever signature the attacker makes up.
pub fn claiming(
    victim: &groundwork_protocol::DeviceId,
    seq: u64,
    depends_on: automerge::ChangeHash,
) -> (Vec<u8>, automerge::ChangeHash) {
    let mut d = groundwork_protocol::edit::new_doc().with_actor(actor_id(victim));
    d.put(automerge::ROOT, "claimed", "by an impostor")
        .expect("put");
    d.commit();
    let mut expanded = d.get_last_local_change().expect("a change").decode();
    expanded.seq = seq;
    expanded.deps = vec![depends_on];
    let c = Change::from(expanded);
    (c.raw_bytes().to_vec(), c.hash())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    #[test]
    fn the_bomb_inflates_to_what_it_says() {
        let bomb = super::deflate_bomb(64);
        // Magic, checksum, type, then a LEB128 length.
        let len_bytes = bomb[9..].iter().take_while(|b| **b & 0x80 != 0).count() + 1;
        let data = &bomb[9 + len_bytes..];
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .read_to_end(&mut out)
            .expect("valid deflate");
        assert_eq!(out.len(), 64 << 20);
        assert!(bomb.len() < 80 * 1024, "{} bytes", bomb.len());
        assert!(out.iter().all(|b| *b == 0));
    }
}
