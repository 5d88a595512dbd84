use std::io::Write;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use proptest::prelude::*;

use super::*;
use crate::edit;

fn doc_with(values: usize, width: usize) -> AutoCommit {
    let mut doc = edit::new_doc().with_actor(automerge::ActorId::from(&[3u8; 32][..]));
    for i in 0..values {
        doc.put(ROOT, format!("k{i}"), "x".repeat(width))
            .expect("put");
    }
    doc.commit();
    doc
}

/// The change as a peer sends it: compressed when it is over 256 bytes.
fn wire_bytes(doc: &mut AutoCommit) -> Vec<u8> {
    let mut change = doc.get_last_local_change().expect("a change");
    change.bytes().to_vec()
}

use super::encode_chunk as chunk;

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// The data of a change with no dependencies and these op columns.
fn change_data(columns: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut d = vec![0]; // no deps
    d.push(32);
    d.extend_from_slice(&[5; 32]); // actor
    d.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    write_uleb(&mut d, columns.len() as u64);
    for (spec, data) in columns {
        write_uleb(&mut d, u64::from(*spec));
        write_uleb(&mut d, data.len() as u64);
    }
    for (_, data) in columns {
        d.extend_from_slice(data);
    }
    d
}

fn sleb(v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut v = v;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return out;
        }
    }
}

fn uleb(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_uleb(&mut out, v);
    out
}

const ACTION_SPEC: u32 = (ACTION_COLUMN << 4) | TYPE_INTEGER;
const PRED_SPEC: u32 = (PRED_COLUMN << 4) | TYPE_GROUP;

#[test]
fn a_small_change_passes_unchanged() {
    let mut doc = doc_with(2, 3);
    let bytes = wire_bytes(&mut doc);
    assert_eq!(bytes[8], TYPE_CHANGE, "small changes travel uncompressed");
    let out = decode_change(&bytes, &mut Budget::default()).expect("a real change");
    assert_eq!(out.chunk, bytes);
    assert_eq!(
        out.change.hash(),
        doc.get_last_local_change().expect("change").hash()
    );
}

#[test]
fn a_compressed_change_becomes_the_same_change_uncompressed() {
    let mut doc = doc_with(200, 40);
    let original = doc.get_last_local_change().expect("change");
    let bytes = wire_bytes(&mut doc);
    assert_eq!(bytes[8], TYPE_COMPRESSED, "large changes travel compressed");
    let out = decode_change(&bytes, &mut Budget::default()).expect("a real change");
    assert_eq!(out.chunk[8], TYPE_CHANGE);
    assert_eq!(out.chunk, original.raw_bytes());
    assert_eq!(out.change.hash(), original.hash());
    // Automerge applies the uncompressed chunk as the same change.
    let mut other = edit::new_doc();
    other.load_incremental(&out.chunk).expect("load");
    assert_eq!(other.get_heads(), doc.get_heads());
}

#[test]
fn a_deflate_bomb_is_refused_within_the_budget() {
    // 40 MiB of zeros deflate to about 40 KiB: inflating stops at the cap.
    let bomb = chunk(TYPE_COMPRESSED, [0; 4], &deflate(&vec![0; 40 << 20]));
    assert!(bomb.len() < 100 * 1024, "{} bytes", bomb.len());
    assert_eq!(
        decode_change(&bomb, &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::TooLarge)
    );
}

#[test]
fn the_inflation_budget_covers_the_whole_message() {
    // Each chunk is under the cap; together they are over it.
    let one = chunk(TYPE_COMPRESSED, [0; 4], &deflate(&vec![0; 12 << 20]));
    let mut budget = Budget::default();
    let mut results = Vec::new();
    for _ in 0..3 {
        results.push(decode_change(&one, &mut budget).map(|_| ()));
    }
    // The zeros are no change, but they fit the budget.
    assert!(
        results[..2]
            .iter()
            .all(|r| r.is_err() && *r != Err(ChunkRejected::TooLarge)),
        "{results:?}"
    );
    assert_eq!(results[2], Err(ChunkRejected::TooLarge));
}

#[test]
fn documents_bundles_and_unknown_chunks_are_refused() {
    let mut doc = doc_with(3, 3);
    let saved = doc.save();
    assert_eq!(
        decode_change(&saved, &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::Document)
    );
    let hashes = doc.get_heads();
    let bundle = doc.document().bundle(hashes).expect("bundle");
    assert_eq!(
        decode_change(bundle.bytes(), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::Bundle)
    );
    assert_eq!(
        decode_change(&chunk(9, [0; 4], b"x"), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::UnknownType(9))
    );
    assert_eq!(
        decode_change(b"\x85\x6f\x4a", &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::NotAChunk)
    );
}

#[test]
fn one_entry_holds_exactly_one_chunk() {
    let mut doc = doc_with(1, 1);
    let one = wire_bytes(&mut doc);
    let mut two = one.clone();
    two.extend_from_slice(&one);
    assert_eq!(
        decode_change(&two, &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::Trailing(one.len()))
    );
    assert_eq!(
        decode_change(&one[..one.len() - 1], &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::NotAChunk)
    );
}

#[test]
fn a_run_claiming_a_trillion_operations_is_refused_unexpanded() {
    let mut action = sleb(1_000_000_000_000);
    action.extend(uleb(1));
    let data = change_data(&[(ACTION_SPEC, action)]);
    assert!(data.len() < 100);
    let started = std::time::Instant::now();
    assert_eq!(
        decode_change(&chunk(TYPE_CHANGE, [0; 4], &data), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::TooManyOps {
            what: "operations",
            cap: MAX_OPS
        })
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // Null runs and literal runs count too.
    let mut nulls = sleb(0);
    nulls.extend(uleb(MAX_OPS + 1));
    let data = change_data(&[(ACTION_SPEC, nulls)]);
    assert!(matches!(
        decode_change(&chunk(TYPE_CHANGE, [0; 4], &data), &mut Budget::default()),
        Err(ChunkRejected::TooManyOps { .. })
    ));
}

#[test]
fn a_run_claiming_a_trillion_predecessors_is_refused() {
    let mut action = sleb(1);
    action.extend(uleb(1));
    let mut pred = sleb(1);
    pred.extend(uleb(1_000_000_000_000));
    let data = change_data(&[(ACTION_SPEC, action), (PRED_SPEC, pred)]);
    assert_eq!(
        decode_change(&chunk(TYPE_CHANGE, [0; 4], &data), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::TooManyOps {
            what: "predecessors",
            cap: MAX_PREDS
        })
    );
}

#[test]
fn the_operation_budget_covers_the_whole_message() {
    let mut action = sleb(i64::try_from(MAX_OPS / 2 + 1).expect("fits"));
    action.extend(uleb(1));
    let data = change_data(&[(ACTION_SPEC, action)]);
    let c = chunk(TYPE_CHANGE, [0; 4], &data);
    let mut budget = Budget::default();
    // The first passes the count (Automerge then finds it malformed: it has
    // no other columns); the second is over the message's budget.
    assert!(matches!(
        decode_change(&c, &mut budget),
        Err(ChunkRejected::Unreadable(_))
    ));
    assert!(matches!(
        decode_change(&c, &mut budget),
        Err(ChunkRejected::TooManyOps { .. })
    ));
}

#[test]
fn compressed_and_duplicate_columns_are_refused() {
    let data = change_data(&[(ACTION_SPEC | DEFLATE_BIT, vec![1, 1])]);
    assert_eq!(
        decode_change(&chunk(TYPE_CHANGE, [0; 4], &data), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::CompressedColumn)
    );
    let data = change_data(&[(ACTION_SPEC, vec![1, 1]), (ACTION_SPEC, vec![1, 1])]);
    assert_eq!(
        decode_change(&chunk(TYPE_CHANGE, [0; 4], &data), &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::DuplicateColumn(ACTION_SPEC))
    );
}

#[test]
fn a_wrong_checksum_is_refused() {
    let mut doc = doc_with(1, 1);
    let mut bytes = wire_bytes(&mut doc);
    bytes[4] ^= 0xff;
    assert_eq!(
        decode_change(&bytes, &mut Budget::default()).map(|_| ()),
        Err(ChunkRejected::BadChecksum)
    );
}

#[test]
fn leb128_reads_what_automerge_writes() {
    for v in [0i64, 1, -1, 63, 64, -64, -65, i64::MAX, i64::MIN, 1 << 40] {
        let b = sleb(v);
        assert_eq!(Reader(&b).sleb().ok(), Some(v), "{v}");
    }
    for v in [0u64, 127, 128, u64::MAX] {
        assert_eq!(Reader(&uleb(v)).uleb().ok(), Some(v), "{v}");
    }
    // Eleven bytes, or a tenth byte with high bits, is not a u64.
    assert!(Reader(&[0xff; 11]).uleb().is_err());
    assert!(
        Reader(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])
            .uleb()
            .is_err()
    );
}

proptest! {
    #[test]
    fn mutated_changes_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        big in any::<bool>(),
    ) {
        let mut doc = if big { doc_with(50, 20) } else { doc_with(3, 2) };
        let mut bytes = wire_bytes(&mut doc);
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= b;
        }
        let end = cut.index(bytes.len() + 1);
        let _ = decode_change(&bytes[..end.max(1)], &mut Budget::default());
        let _ = decode_change(&bytes, &mut Budget::default());
    }
}

#[test]
fn compress_change_deflates_a_large_change_into_the_same_change() {
    let mut doc = doc_with(500, 40);
    let raw = doc
        .get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec();
    let sent = compress_change(&raw);
    assert_eq!(sent[8], TYPE_COMPRESSED);
    assert!(
        sent.len() * 4 < raw.len(),
        "{} of {}",
        sent.len(),
        raw.len()
    );
    // The receiver gets back exactly the change, hash and all.
    let got = decode_change(&sent, &mut Budget::default()).expect("decodes");
    assert_eq!(got.chunk, raw);
    // A small change, a compressed one and anything that is not a change
    // chunk pass as they are.
    let mut small = doc_with(1, 1);
    let small = small
        .get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec();
    assert_eq!(compress_change(&small), small);
    assert_eq!(compress_change(&sent), sent);
    assert_eq!(compress_change(b"not a chunk"), b"not a chunk");
}
