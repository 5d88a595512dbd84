//! Epochs end to end on one store: after a switch, nothing of the old
//! epoch is in the store file, decoded, in pages in use or free.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use groundwork_node::store::{EpochSwitch, Store, StoredChange, StoredEpoch};
use groundwork_protocol::epoch::{self, SignedEpoch};
use groundwork_protocol::{DocId, DocKind, SecretKey, edit, signed};
use groundwork_tests::decoded::Decoded;

fn steward() -> SecretKey {
    SecretKey::from_seed(&[10; 32])
}

fn id() -> DocId {
    DocId::derive(&SecretKey::from_seed(&[1; 32]).public(), DocKind::Roster)
}

/// Commits `doc`'s last local change to the store, signed.
fn commit(store: &Store, doc: &mut AutoCommit) {
    let c = doc.get_last_local_change().expect("a change");
    let signature = signed::sign_change(&steward(), &id(), &c).expect("sign");
    store
        .commit(
            &[StoredChange {
                doc: id(),
                bytes: c.raw_bytes().to_vec(),
                hash: c.hash().0,
                signature,
            }],
            &[],
        )
        .expect("commit");
}

fn entry_map(doc: &AutoCommit) -> automerge::ObjId {
    match doc.get(ROOT, "members").expect("get") {
        Some((automerge::Value::Object(_), id)) => id,
        _ => panic!("no members"),
    }
}

/// 60 letters that do not compress, the same for the same `seed`.
fn noise(seed: u64) -> String {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..60)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(b'a' + ((x >> 33) % 26) as u8)
        })
        .collect()
}

#[test]
fn after_a_switch_the_old_epoch_is_in_no_page_of_the_store_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.redb");
    let mut store = Store::create(&path).expect("create");
    let mut doc = edit::new_doc().with_actor(signed::actor_id(&steward().public()));
    doc.put_object(ROOT, "members", ObjType::Map).expect("map");
    doc.commit();
    commit(&store, &mut doc);
    // Enough members that the snapshot's columns are compressed.
    for i in 0..300 {
        let m = entry_map(&doc);
        doc.put(
            &m,
            format!("m{i:03}"),
            format!("Member Number {i}, member{i}@example.org, {}", noise(i)),
        )
        .expect("put");
        doc.commit();
        commit(&store, &mut doc);
        if i % 50 == 0 {
            store.compact(&id(), &mut doc).expect("compact");
        }
    }
    let m = entry_map(&doc);
    doc.put(
        &m,
        "bob",
        "Bob Forgotten, bob.forgotten@example.org, 07700 900461",
    )
    .expect("put");
    doc.commit();
    commit(&store, &mut doc);
    store.compact(&id(), &mut doc).expect("compact");
    let m = entry_map(&doc);
    doc.delete(&m, "bob").expect("delete");
    doc.commit();
    commit(&store, &mut doc);
    store.flush().expect("flush");

    // Positive control: deleted, but still in the file's history, decoded.
    // The snapshot holding it is in several pieces: the decoder puts them
    // back together.
    let file = std::fs::read(&path).expect("read");
    let pieces = memchr::memmem::find_iter(&file, &groundwork_node::store::PIECE_MAGIC).count();
    assert!(pieces >= 2, "{pieces} snapshot pieces");
    let before = Decoded::scan(&file);
    assert!(before.chunks > 0);
    assert!(before.contains("bob.forgotten@example.org"));

    let mut old = store.load(&id()).expect("load").expect("held");
    let started = epoch::start(&mut old, id(), 1, &steward(), None).expect("start");
    let mut new = started.doc;
    let genesis = automerge::Change::try_from(started.genesis.bytes.as_slice()).expect("change");
    let held = StoredEpoch {
        record: started.record.bytes().to_vec(),
        signature: started.genesis.signature,
    };
    store
        .switch_epoch(EpochSwitch {
            doc: id(),
            epoch: &held,
            old: &mut old,
            new: &mut new,
            signatures: &[(genesis.hash().0, started.genesis.signature)],
        })
        .expect("switch");
    store.vacuum().expect("vacuum");
    drop(store);

    let after = Decoded::scan(&std::fs::read(&path).expect("read"));
    assert!(after.chunks > 0, "the new epoch is in the file");
    assert!(after.contains("Member Number 299, member299@example.org"));
    for gone in ["bob.forgotten@example.org", "Bob Forgotten", "07700 900461"] {
        assert!(!after.contains(gone), "{gone} is still in the store file");
    }
    let store = Store::open(&path).expect("reopen");
    let mut loaded = store.load(&id()).expect("load").expect("held");
    assert_eq!(loaded.get_heads(), vec![genesis.hash()]);
    assert_eq!(
        store.signature(&genesis.hash().0).expect("signature"),
        Some(started.genesis.signature)
    );
    let epoch = store.epoch(&id()).expect("record").expect("held");
    assert_eq!(epoch, held);
    let record = SignedEpoch::from_bytes(&epoch.record).expect("decodes");
    assert_eq!(record.epoch().number, 1);
    let m = entry_map(&loaded);
    assert_eq!(loaded.keys(&m).count(), 300);
}

#[test]
fn a_snapshot_kept_in_pieces_is_put_back_together_and_decoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.redb");
    let store = Store::create(&path).expect("create");
    let mut doc = edit::new_doc().with_actor(signed::actor_id(&steward().public()));
    let m = doc.put_object(ROOT, "members", ObjType::Map).expect("map");
    for i in 0..1000 {
        doc.put(&m, format!("m{i:04}"), noise(i)).expect("put");
    }
    doc.put(&m, "bob", "Bob Forgotten, bob.forgotten@example.org")
        .expect("put");
    doc.commit();
    // Only ever stored as a snapshot: no change chunk of it is in the file.
    store.compact(&id(), &mut doc).expect("compact");
    store.flush().expect("flush");
    drop(store);
    let file = std::fs::read(&path).expect("read");
    let pieces = memchr::memmem::find_iter(&file, &groundwork_node::store::PIECE_MAGIC).count();
    assert!(pieces >= 2, "{pieces} snapshot pieces");
    assert!(
        memchr::memmem::find(&file, b"bob.forgotten@example.org").is_none(),
        "a grep finds nothing"
    );
    let found = Decoded::scan(&file);
    assert!(found.contains_decoded("bob.forgotten@example.org"));
}
