use automerge::{AutoCommit, ROOT, ReadDoc, transaction::Transactable};
use groundwork_protocol::{DocId, DocKind, SecretKey};

use super::*;

fn doc_id() -> DocId {
    DocId::derive(&SecretKey::from_seed(&[1; 32]).public(), DocKind::Roster)
}

pub(super) fn change(doc: &mut AutoCommit, id: DocId, key: &str, n: i64) -> StoredChange {
    doc.put(ROOT, key, n).expect("put");
    doc.commit();
    let c = doc.get_last_local_change().expect("change");
    StoredChange {
        doc: id,
        bytes: c.raw_bytes().to_vec(),
        hash: c.hash().0,
        signature: [7; 64],
    }
}

#[test]
fn changes_survive_reopen_and_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let id = doc_id();
    let mut doc = groundwork_protocol::edit::new_doc();
    {
        let store = Store::create(&path).expect("create");
        for i in 0..10 {
            let c = change(&mut doc, id, &format!("k{i}"), i);
            store.commit(&[c], &[]).expect("commit");
        }
        assert_eq!(store.doc_stats(&id).expect("stats").pending_changes, 10);
    }
    let store = Store::open(&path).expect("reopen");
    let mut loaded = store.load(&id).expect("load").expect("present");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    store.compact(&id, &mut loaded).expect("compact");
    let stats = store.doc_stats(&id).expect("stats");
    assert_eq!(stats.pending_changes, 0);
    assert!(stats.snapshot_bytes > 0);
    let c = change(&mut doc, id, "after", 1);
    let hash = c.hash;
    store.commit(&[c], &[]).expect("commit after compaction");
    let again = store.load(&id).expect("load").expect("present");
    assert_eq!(
        again
            .get(ROOT, "after")
            .expect("get")
            .map(|(v, _)| v.to_string()),
        Some("1".into())
    );
    assert_eq!(store.signature(&hash).expect("sig"), Some([7; 64]));
}

#[test]
fn a_store_that_is_not_a_store_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    std::fs::write(&path, b"this is a shopping list, not a database").expect("write");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("s.redb"), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"this is a shopping list, not a database"
    );
    assert!(matches!(
        Store::create(&path),
        Err(StoreError::AlreadyExists(_))
    ));
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    {
        let store = Store::create(&path).expect("create");
        let tx = store.write().expect("tx");
        tx.open_table(META)
            .expect("meta")
            .insert(FORMAT_KEY, &b"99"[..])
            .expect("insert");
        tx.commit().expect("commit");
    }
    let err = Store::open(&path).expect_err("newer format");
    assert!(err.to_string().contains("newer groundwork"), "{err}");
}

#[test]
fn a_missing_document_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::create(&dir.path().join("s.redb")).expect("create");
    assert!(store.load(&doc_id()).expect("load").is_none());
}

fn table_names(store: &Store) -> std::collections::BTreeSet<String> {
    let tx = store.db.begin_read().expect("read");
    tx.list_tables()
        .expect("tables")
        .map(|t| redb::TableHandle::name(&t).to_owned())
        .collect()
}

#[test]
fn every_table_survives_a_vacuum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let mut store = Store::create(&path).expect("create");
    let id = doc_id();
    let mut doc = groundwork_protocol::edit::new_doc();
    store
        .commit(
            &[change(&mut doc, id, "k", 1)],
            &[("m", serde_json::json!(1))],
        )
        .expect("commit");
    store.put_peer(&[2; 32], b"peer").expect("peer");
    store.put_card(&[3; 32], b"card").expect("card");
    store
        .put_records(
            &[RecordRow {
                kind: groundwork_protocol::records::KIND_SUMMARY,
                subject: [4; 32],
                bytes: b"record",
                history_day: Some(7),
            }],
            true,
        )
        .expect("records");
    store
        .save_peer_states(&[2; 32], &[(*id.as_bytes(), b"state".to_vec())])
        .expect("states");
    store
        .put_link_request(&[5; 32], b"request")
        .expect("request");
    store
        .put_equivocation(id.as_bytes(), &[6; 32], 1, b"proof")
        .expect("proof");
    {
        let tx = store.write().expect("tx");
        tx.open_table(epochs::EPOCHS)
            .expect("epochs")
            .insert(&[8u8; 32][..], &b"epoch"[..])
            .expect("insert");
        tx.commit().expect("commit");
    }
    let before = table_names(&store);
    let listed: std::collections::BTreeSet<String> =
        vacuum::TABLES.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(
        before, listed,
        "every table the store makes is one a vacuum copies"
    );
    store.vacuum().expect("vacuum");
    assert_eq!(table_names(&store), before);
    drop(store);
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.get_meta::<i64>("m").expect("meta"), Some(1));
    assert_eq!(store.peers().expect("peers").len(), 1);
    assert_eq!(store.cards().expect("cards").len(), 1);
    assert_eq!(store.records().expect("records").len(), 1);
    assert_eq!(store.summary_history().expect("history").len(), 1);
    assert_eq!(store.peer_states(&[2; 32]).expect("states").len(), 1);
    assert_eq!(store.link_requests().expect("requests").len(), 1);
    assert_eq!(store.equivocations().expect("proofs").len(), 1);
    assert!(store.load(&id).expect("load").is_some());
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_snapshot_is_kept_in_pieces_and_a_broken_or_old_one_is_handled() {
    use rand::{Rng as _, SeedableRng as _};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let store = Store::create(&path).expect("create");
    let id = doc_id();
    // A document whose snapshot takes several pieces (random text does not
    // compress).
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut doc = groundwork_protocol::edit::new_doc();
    for i in 0..40 {
        let value: String = (0..1000)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect();
        doc.put(ROOT, format!("k{i}"), value).expect("put");
    }
    doc.commit();
    store.compact(&id, &mut doc).expect("compact");
    let tx = store.db.begin_read().expect("read");
    let pieces = tx.open_table(SNAPSHOT_PIECES).expect("pieces");
    let n = pieces
        .range((&id.as_bytes()[..], 0)..=(&id.as_bytes()[..], u32::MAX))
        .expect("range")
        .count();
    assert!(n >= 2, "{n} pieces");
    for entry in pieces.iter().expect("iter") {
        let (_, v) = entry.expect("piece");
        assert!(v.value().len() <= PIECE_BYTES);
        assert!(snapshot_piece(v.value()).is_some());
    }
    drop((pieces, tx));
    let mut loaded = store.load(&id).expect("load").expect("held");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(
        store.doc_stats(&id).expect("stats").snapshot_bytes,
        groundwork_protocol::edit::save_doc(&mut doc).len()
    );
    // A piece lost: one clear error naming the document, no panic.
    {
        let tx = store.write().expect("tx");
        tx.open_table(SNAPSHOT_PIECES)
            .expect("pieces")
            .remove((&id.as_bytes()[..], 1))
            .expect("remove");
        tx.commit().expect("commit");
    }
    match store.load(&id) {
        Err(StoreError::CorruptDocument { why, .. }) => assert!(why.contains("piece 1"), "{why}"),
        other => panic!("{other:?}"),
    }
    // A store from before pieces (no pieces table at all): reopened, the
    // whole snapshot is read, and the next compaction moves it into pieces.
    {
        let tx = store.write().expect("tx");
        assert!(tx.delete_table(SNAPSHOT_PIECES).expect("delete"));
        tx.open_table(SNAPSHOTS)
            .expect("snapshots")
            .insert(
                &id.as_bytes()[..],
                &groundwork_protocol::edit::save_doc(&mut doc)[..],
            )
            .expect("insert");
        tx.commit().expect("commit");
    }
    drop(store);
    let store = Store::open(&path).expect("reopen an older store");
    let mut old = store.load(&id).expect("load").expect("held");
    assert_eq!(old.get_heads(), doc.get_heads());
    store.compact(&id, &mut old).expect("compact");
    let tx = store.db.begin_read().expect("read");
    assert!(
        tx.open_table(SNAPSHOTS)
            .expect("t")
            .get(&id.as_bytes()[..])
            .expect("get")
            .is_none()
    );
    drop(tx);
    assert_eq!(
        store.load(&id).expect("load").expect("held").get_heads(),
        doc.get_heads()
    );
}

#[test]
fn summaries_of_the_first_format_are_deleted_at_open() {
    use groundwork_protocol::records::{KIND_AFFILIATION, KIND_SUMMARY, KIND_SUMMARY_V1};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.redb");
    let store = Store::create(&path).expect("create");
    let row = |kind, subject: u8, bytes: &'static [u8]| RecordRow {
        kind,
        subject: [subject; 32],
        bytes,
        history_day: None,
    };
    store
        .put_records(
            &[
                row(KIND_AFFILIATION, 1, b"affiliation"),
                row(KIND_SUMMARY_V1, 2, b"{\"members\":3}"),
                row(KIND_SUMMARY_V1, 3, b"{\"members\":2}"),
                row(KIND_SUMMARY, 4, b"rounded"),
            ],
            true,
        )
        .expect("records");
    {
        let tx = store.write().expect("tx");
        tx.open_table(HISTORY_V1)
            .expect("old history")
            .insert((&[2u8; 32][..], 7), &b"{\"members\":3}"[..])
            .expect("insert");
        tx.commit().expect("commit");
    }
    // The positive control: before a reopen, the old rows are there.
    assert_eq!(store.records().expect("records").len(), 4);
    assert!(table_names(&store).contains("summary_history"));
    drop(store);
    let store = Store::open(&path).expect("reopen");
    let kinds: Vec<u8> = store
        .records()
        .expect("records")
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(kinds, [KIND_AFFILIATION, KIND_SUMMARY]);
    assert!(!table_names(&store).contains("summary_history"));
    drop(store);
    // Nor are the bytes left in freed pages: the file was compacted.
    let bytes = std::fs::read(&path).expect("read");
    assert!(
        !bytes.windows(13).any(|w| w == b"{\"members\":3}"),
        "an old summary's bytes are still in the file"
    );
    assert!(bytes.windows(11).any(|w| w == b"affiliation"));
}
