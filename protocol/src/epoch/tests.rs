use std::collections::{BTreeMap, BTreeSet};

use automerge::legacy::OpType;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use proptest::prelude::*;

use super::*;
use crate::ids::DocKind;
use crate::signed::verify_change;
use crate::trust::testing::key;
use crate::wire::chunks::{TYPE_COMPRESSED, encode_chunk};

const STEWARD: u8 = 10;
const A: u8 = 11;
const B: u8 = 12;

fn id() -> DocId {
    DocId::derive(&key(1).public(), DocKind::Roster)
}

/// The steward's founding replica: a map `m` of entries and a text `notes`.
fn founded() -> AutoCommit {
    let mut doc = edit::new_doc().with_actor(signed::actor_id(&key(STEWARD).public()));
    doc.put_object(ROOT, "m", ObjType::Map).expect("map");
    doc.put_object(ROOT, "notes", ObjType::Text).expect("text");
    doc.commit();
    doc
}

/// Another device's replica, synced from `from`.
fn replica(from: &mut AutoCommit, seed: u8) -> AutoCommit {
    let mut doc = from.fork();
    doc.set_actor(signed::actor_id(&key(seed).public()));
    doc
}

fn obj(doc: &AutoCommit, name: &str) -> ObjId {
    match doc.get(ROOT, name).expect("get") {
        Some((automerge::Value::Object(_), id)) => id,
        _ => panic!("no {name}"),
    }
}

fn put(doc: &mut AutoCommit, k: &str, v: &str) {
    let m = obj(doc, "m");
    doc.put(&m, k, v).expect("put");
    doc.commit();
}

fn delete(doc: &mut AutoCommit, k: &str) {
    let m = obj(doc, "m");
    if doc.get(&m, k).expect("get").is_some() {
        doc.delete(&m, k).expect("delete");
        doc.commit();
    }
}

fn entries(doc: &AutoCommit) -> BTreeMap<String, String> {
    let m = obj(doc, "m");
    doc.map_range(&m, ..)
        .map(|item| {
            let value = match item.value {
                automerge::ValueRef::Scalar(s) => format!("{s:?}"),
                automerge::ValueRef::Object(k) => format!("{k:?}"),
            };
            (item.key.into_owned(), value)
        })
        .collect()
}

fn get(doc: &AutoCommit, k: &str) -> Option<String> {
    let m = obj(doc, "m");
    match doc.get(&m, k).expect("get")? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            other => Some(other.to_string()),
        },
        _ => None,
    }
}

/// Every string value and map key any operation in `doc`'s history holds,
/// decoded from its changes (not grepped from bytes).
fn history_values(doc: &mut AutoCommit) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for change in doc.get_changes(&[]) {
        for op in change.decode().operations {
            if let OpType::Put(ScalarValue::Str(s)) = &op.action {
                out.insert(s.to_string());
            }
            if let automerge::legacy::Key::Map(k) = &op.key {
                out.insert(k.to_string());
            }
        }
    }
    out
}

/// The new epoch as a device that receives it builds it: from the record
/// and the genesis, checked.
fn receive(started: &Started) -> AutoCommit {
    let record = SignedEpoch::from_bytes(started.record.bytes()).expect("record");
    let chunk = record.check_genesis(&started.genesis).expect("genesis");
    edit::load_doc(&chunk).expect("load")
}

#[test]
fn a_record_round_trips_and_every_altered_byte_is_refused() {
    let mut doc = founded();
    put(&mut doc, "x", "1");
    let started = start(&mut doc, id(), 1, &key(STEWARD), None).expect("start");
    let bytes = started.record.bytes().to_vec();
    let back = SignedEpoch::from_bytes(&bytes).expect("decodes");
    assert_eq!(back, started.record);
    assert_eq!(back.author(), key(STEWARD).public());
    assert_eq!(back.epoch().number, 1);
    assert_eq!(back.epoch().covers, doc.get_heads());
    assert_eq!(back.epoch().clock[&key(STEWARD).public()], 2);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        assert!(
            SignedEpoch::from_bytes(&bad).is_err(),
            "byte {i} altered and still accepted"
        );
    }
    assert_eq!(
        SignedEpoch::from_bytes(&bytes[..bytes.len() - 1]),
        Err(EpochRejected::Malformed("truncated"))
    );
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        SignedEpoch::from_bytes(&long),
        Err(EpochRejected::Malformed("trailing bytes"))
    );
}

/// Signs a body exactly as given, so tests can build what `sign` never
/// would.
fn sign_raw(body: Vec<u8>, by: &SecretKey) -> Vec<u8> {
    let mut bytes = body;
    bytes.extend_from_slice(by.public().as_bytes());
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(&bytes);
    bytes.extend_from_slice(&by.sign(&message).to_bytes());
    bytes
}

#[test]
fn the_largest_record_is_the_size_docs_protocol_md_gives() {
    assert_eq!(MAX_RECORD_BYTES, 196_813);
    let clock: BTreeMap<DeviceId, u64> = (0..MAX_CLOCK)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
            (SecretKey::from_seed(&seed).public(), 1)
        })
        .collect();
    let largest = Epoch {
        doc: id(),
        number: 1,
        covers: (0..MAX_COVERED_HEADS)
            .map(|i| {
                let mut h = [0u8; 32];
                h[..8].copy_from_slice(&(i as u64).to_be_bytes());
                ChangeHash(h)
            })
            .collect(),
        clock,
        genesis: ChangeHash([9; 32]),
        previous: Some(ChangeHash([8; 32])),
    }
    .sign(&key(STEWARD))
    .expect("sign");
    assert_eq!(largest.bytes().len(), MAX_RECORD_BYTES);
    assert!(SignedEpoch::from_bytes(largest.bytes()).is_ok());
}

#[test]
fn counts_over_their_caps_are_refused_before_the_list_is_read() {
    let mut body = vec![VERSION];
    body.extend_from_slice(id().as_bytes());
    body.extend_from_slice(&1u64.to_be_bytes());
    body.extend_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(
        SignedEpoch::from_bytes(&body),
        Err(EpochRejected::TooMany {
            what: "covered heads",
            count: usize::from(u16::MAX),
            max: MAX_COVERED_HEADS
        })
    );
    let mut body = vec![VERSION];
    body.extend_from_slice(id().as_bytes());
    body.extend_from_slice(&1u64.to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.extend_from_slice(&5000u16.to_be_bytes());
    assert!(matches!(
        SignedEpoch::from_bytes(&body),
        Err(EpochRejected::TooMany {
            what: "devices in its clock",
            count: 5000,
            ..
        })
    ));
    assert_eq!(
        SignedEpoch::from_bytes(&vec![VERSION; MAX_RECORD_BYTES + 1]),
        Err(EpochRejected::Malformed("longer than any record"))
    );
}

#[test]
fn records_not_in_their_one_encoding_are_refused() {
    let epoch = |covers: Vec<ChangeHash>, clock: BTreeMap<DeviceId, u64>, number| Epoch {
        doc: id(),
        number,
        covers,
        clock,
        genesis: ChangeHash([9; 32]),
        previous: None,
    };
    let unsorted = epoch(
        vec![ChangeHash([2; 32]), ChangeHash([1; 32])],
        BTreeMap::new(),
        1,
    );
    assert_eq!(
        SignedEpoch::from_bytes(&sign_raw(unsorted.body(), &key(STEWARD))),
        Err(EpochRejected::NotCanonical("heads not sorted and distinct"))
    );
    let twice = epoch(vec![ChangeHash([1; 32]); 2], BTreeMap::new(), 1);
    assert!(SignedEpoch::from_bytes(&sign_raw(twice.body(), &key(STEWARD))).is_err());
    let zero_seq = epoch(vec![], BTreeMap::from([(key(A).public(), 0)]), 1);
    assert_eq!(
        SignedEpoch::from_bytes(&sign_raw(zero_seq.body(), &key(STEWARD))),
        Err(EpochRejected::NotCanonical("a clock entry of sequence 0"))
    );
    // A clock with its entries out of order: swap the two entries' bytes.
    let (a, b) = (key(A).public(), key(B).public());
    let two = epoch(vec![], BTreeMap::from([(a, 1), (b, 1)]), 1);
    let mut body = two.body();
    let at = 1 + 32 + 8 + 2 + 2;
    let (first, second) = (body[at..at + 40].to_vec(), body[at + 40..at + 80].to_vec());
    body[at..at + 40].copy_from_slice(&second);
    body[at + 40..at + 80].copy_from_slice(&first);
    assert_eq!(
        SignedEpoch::from_bytes(&sign_raw(body, &key(STEWARD))),
        Err(EpochRejected::NotCanonical("clock not sorted and distinct"))
    );
    let zero = epoch(vec![], BTreeMap::new(), 0);
    assert_eq!(zero.sign(&key(STEWARD)), Err(EpochRejected::EpochZero));
    assert_eq!(
        SignedEpoch::from_bytes(&sign_raw(zero.body(), &key(STEWARD))),
        Err(EpochRejected::EpochZero)
    );
}

#[test]
fn an_epoch_keeps_the_state_and_none_of_the_history() {
    let mut doc = founded();
    put(&mut doc, "bob", "Bob Forgotten, bob@example.org");
    put(&mut doc, "ann", "Ann Kept");
    put(&mut doc, "ann", "Ann Kept, edited");
    let notes = obj(&doc, "notes");
    doc.splice_text(&notes, 0, 0, "Met Bob Forgotten at the library")
        .expect("splice");
    doc.commit();
    delete(&mut doc, "bob");
    doc.splice_text(&notes, 4, 13, "someone").expect("redact");
    doc.commit();
    // Positive control: the old history still holds what was forgotten.
    let old_values = history_values(&mut doc);
    assert!(old_values.contains("Bob Forgotten, bob@example.org"));
    assert!(old_values.contains("bob"));

    let started = start(&mut doc, id(), 1, &key(STEWARD), None).expect("start");
    let mut new = receive(&started);
    assert_eq!(entries(&new), entries(&doc));
    assert_eq!(
        new.text(obj(&new, "notes")).expect("text"),
        "Met someone at the library"
    );
    assert_eq!(new.get_changes(&[]).len(), 1, "only the genesis");
    let values = history_values(&mut new);
    assert!(
        values.contains("Ann Kept, edited"),
        "the kept state is in the genesis"
    );
    for gone in ["Bob Forgotten, bob@example.org", "Ann Kept", "bob"] {
        assert!(!values.contains(gone), "{gone} survived the epoch");
    }
    let saved = edit::save_doc(&mut new);
    let mut reloaded = edit::load_doc(&saved).expect("reload");
    assert!(!history_values(&mut reloaded).contains("Bob Forgotten, bob@example.org"));
    let notes_text = reloaded.text(obj(&reloaded, "notes")).expect("text");
    assert!(!notes_text.contains("Bob"));
}

#[test]
fn a_genesis_that_is_not_the_records_is_refused() {
    let mut doc = founded();
    put(&mut doc, "x", "1");
    let started = start(&mut doc, id(), 1, &key(STEWARD), None).expect("start");
    let record = &started.record;
    assert!(record.check_genesis(&started.genesis).is_ok());

    // Another change entirely.
    let mut other = founded();
    put(&mut other, "y", "2");
    let other = start(&mut other, id(), 1, &key(STEWARD), None).expect("start");
    assert_eq!(
        record.check_genesis(&other.genesis),
        Err(EpochRejected::GenesisHash)
    );
    // The right change with a signature for another epoch.
    let change = automerge::Change::try_from(started.genesis.bytes.as_slice()).expect("change");
    let for_epoch_0 = signed::sign_change(&key(STEWARD), &id(), &change).expect("sign");
    let wrong = SignedChange {
        bytes: started.genesis.bytes.clone(),
        signature: for_epoch_0,
    };
    assert!(matches!(
        record.check_genesis(&wrong),
        Err(EpochRejected::GenesisSignature(_))
    ));
    // A record by the steward naming a change another device wrote.
    let mut theirs = edit::new_doc().with_actor(signed::actor_id(&key(A).public()));
    theirs.put(ROOT, "z", "3").expect("put");
    theirs.commit();
    let their_change = theirs.get_last_local_change().expect("change");
    let mut epoch = record.epoch().clone();
    epoch.genesis = their_change.hash();
    let forged = epoch.sign(&key(STEWARD)).expect("sign");
    let their_sig = signed::sign_change(&key(A), &id().in_epoch(1), &their_change).expect("sign");
    assert_eq!(
        forged.check_genesis(&SignedChange {
            bytes: their_change.raw_bytes().to_vec(),
            signature: their_sig,
        }),
        Err(EpochRejected::GenesisShape("another device wrote it"))
    );
    // A change with dependencies.
    put(&mut doc, "w", "4");
    let later = doc.get_last_local_change().expect("change");
    let mut epoch = record.epoch().clone();
    epoch.genesis = later.hash();
    let forged = epoch.sign(&key(STEWARD)).expect("sign");
    let sig = signed::sign_change(&key(STEWARD), &id().in_epoch(1), &later).expect("sign");
    assert!(matches!(
        forged.check_genesis(&SignedChange {
            bytes: later.raw_bytes().to_vec(),
            signature: sig,
        }),
        Err(EpochRejected::GenesisShape(_))
    ));
    // A compressed chunk that inflates past the cap: refused by the chunk
    // decoder before Automerge sees it.
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let mut deflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::DeflateEncoder::new(zeros.as_slice(), flate2::Compression::best()),
        &mut deflated,
    )
    .expect("deflate");
    let bomb = SignedChange {
        bytes: encode_chunk(TYPE_COMPRESSED, [0; 4], &deflated),
        signature: [0; 64],
    };
    assert!(matches!(
        record.check_genesis(&bomb),
        Err(EpochRejected::GenesisChunk(_))
    ));
}

#[test]
fn an_empty_document_still_gets_a_genesis() {
    let mut doc = edit::new_doc();
    let started = start(&mut doc, id(), 1, &key(STEWARD), None).expect("start");
    let new = receive(&started);
    assert_eq!(new.keys(ROOT).count(), 0);
}

#[test]
fn a_rebase_replays_an_offline_add_and_never_resurrects_a_forgotten_member() {
    let mut steward = founded();
    put(&mut steward, "bob", "Bob Forgotten");
    let mut laptop = replica(&mut steward, A);
    // Offline, the laptop adds a member and edits Bob.
    put(&mut laptop, "new", "Added Offline");
    put(&mut laptop, "bob", "Bob Forgotten, edited offline");
    let notes = obj(&laptop, "notes");
    laptop
        .splice_text(&notes, 0, 0, "offline notes")
        .expect("splice");
    laptop.commit();
    // Meanwhile the steward forgets Bob and starts an epoch.
    delete(&mut steward, "bob");
    let started = start(&mut steward, id(), 1, &key(STEWARD), None).expect("start");

    let mut new = receive(&started);
    let out = rebase(&mut laptop, started.record.epoch(), &key(A), &mut new).expect("rebase");
    assert_eq!(out.reapplied, 3);
    assert_eq!(out.dropped, 1, "the edit to the forgotten member");
    assert_eq!(get(&new, "new").as_deref(), Some("Added Offline"));
    assert_eq!(get(&new, "bob"), None);
    assert_eq!(new.text(obj(&new, "notes")).expect("text"), "offline notes");
    let change = out.change.expect("a change");
    verify_change(&id().in_epoch(1), &change.bytes, &change.signature, |d| {
        *d == key(A).public()
    })
    .expect("signed by the laptop for epoch 1");
    assert!(
        verify_change(&id(), &change.bytes, &change.signature, |_| true).is_err(),
        "not valid in epoch 0"
    );
    let values = history_values(&mut new);
    assert!(!values.iter().any(|v| v.contains("Bob Forgotten")));

    // The steward's replica takes the laptop's rebased change and agrees.
    let mut steward_new = receive(&started);
    steward_new
        .apply_changes([automerge::Change::try_from(change.bytes.as_slice()).expect("change")])
        .expect("apply");
    assert_eq!(steward_new.get_heads(), new.get_heads());
    assert_eq!(entries(&steward_new), entries(&new));
}

#[test]
fn a_rebase_never_replays_another_devices_changes() {
    let mut steward = founded();
    let mut a = replica(&mut steward, A);
    let mut b = replica(&mut steward, B);
    put(&mut b, "b-entry", "by B, uncovered");
    a.merge(&mut b).expect("merge");
    put(&mut a, "a-entry", "by A, uncovered");
    let started = start(&mut steward, id(), 1, &key(STEWARD), None).expect("start");
    let mut new = receive(&started);
    let out = rebase(&mut a, started.record.epoch(), &key(A), &mut new).expect("rebase");
    assert_eq!(out.reapplied, 1);
    assert_eq!(get(&new, "a-entry").as_deref(), Some("by A, uncovered"));
    assert_eq!(get(&new, "b-entry"), None, "B's change is B's to rebase");
    // Covered changes are not replayed either.
    let mut again = receive(&started);
    let out = rebase(
        &mut steward,
        started.record.epoch(),
        &key(STEWARD),
        &mut again,
    )
    .expect("rebase");
    assert_eq!((out.reapplied, out.change.is_none()), (0, true));
}

/// One step of a random history.
#[derive(Clone, Debug)]
enum Step {
    /// A device writes one of its own keys.
    Put(usize, u8),
    /// A device deletes one of its own keys.
    Delete(usize, u8),
    /// Two devices sync both ways.
    Sync(usize, usize),
}

fn steps(devices: usize, len: usize) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0..devices, 0u8..3).prop_map(|(d, k)| Step::Put(d, k)),
            1 => (0..devices, 0u8..3).prop_map(|(d, k)| Step::Delete(d, k)),
            2 => (0..devices, 0..devices).prop_map(|(a, b)| Step::Sync(a, b)),
        ],
        0..len,
    )
}

const NAMES: [&str; 3] = ["s", "a", "b"];
/// The key the steward forgets (device A's).
const FORGOTTEN: &str = "a0";
const SEEDS: [u8; 3] = [STEWARD, A, B];

/// Runs `steps` over `docs` (indexed as `NAMES`), tracking each device's
/// last write to each of its keys; `offset` maps step device indices.
fn run(
    docs: &mut [AutoCommit],
    steps: &[Step],
    offset: usize,
    counter: &mut u32,
    last: &mut BTreeMap<String, Option<String>>,
) {
    for step in steps {
        match *step {
            Step::Put(d, k) => {
                let d = d + offset;
                *counter += 1;
                let (key, value) = (format!("{}{k}", NAMES[d]), format!("v{counter}"));
                put(&mut docs[d], &key, &value);
                last.insert(key, Some(value));
            }
            Step::Delete(d, k) => {
                let d = d + offset;
                let key = format!("{}{k}", NAMES[d]);
                if key == FORGOTTEN {
                    // The forgotten member is only ever edited, never
                    // removed and added again, so every later write to it
                    // is an edit that must not bring it back.
                    continue;
                }
                delete(&mut docs[d], &key);
                last.insert(key, None);
            }
            Step::Sync(x, y) => {
                let (x, y) = (x + offset, y + offset);
                if x != y {
                    let mut other = docs[y].clone();
                    docs[x].merge(&mut other).expect("merge");
                    let mut back = docs[x].clone();
                    docs[y].merge(&mut back).expect("merge");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random histories on three devices; the steward forgets the key
    /// `a0` (device A's) and starts an epoch; A and B go on editing the
    /// old epoch (meeting each other, not the steward) while the steward
    /// edits the new one; then everyone switches and rebases. Afterwards
    /// every replica has the same heads and state, no value the forgotten
    /// key held in the covered history is in any replica's history, and
    /// every device's own last write to each of its keys holds.
    #[test]
    fn after_every_device_switches_and_rebases_the_replicas_converge_and_nothing_forgotten_returns(
        before in steps(3, 30),
        offline in steps(2, 20),
        steward_after in proptest::collection::vec(0u8..3, 0..4),
    ) {
        let mut founder = founded();
        let mut docs = vec![founder.clone(), replica(&mut founder, A), replica(&mut founder, B)];
        let mut counter = 0;
        let mut last = BTreeMap::new();
        run(&mut docs, &before, 0, &mut counter, &mut last);

        // The forget: the steward deletes a0, then starts epoch 1.
        let forgot = get(&docs[0], FORGOTTEN).is_some();
        delete(&mut docs[0], FORGOTTEN);
        last.remove(FORGOTTEN);
        let forgotten: BTreeSet<String> = {
            let mut covered = docs[0].clone();
            let mut values = BTreeSet::new();
            for change in covered.get_changes(&[]) {
                for op in change.decode().operations {
                    if matches!(&op.key, automerge::legacy::Key::Map(k) if k == FORGOTTEN)
                        && let OpType::Put(ScalarValue::Str(s)) = &op.action
                    {
                        values.insert(s.to_string());
                    }
                }
            }
            // Positive control: what a0 held is in the old history, decoded.
            let held = history_values(&mut covered);
            prop_assert!(values.iter().all(|v| held.contains(v)));
            values
        };
        let started = start(&mut docs[0], id(), 1, &key(STEWARD), None).expect("start");
        let record = started.record.epoch().clone();

        // A and B edit the old epoch offline; the steward edits the new one.
        let mut old = docs;
        run(&mut old[..], &offline, 1, &mut counter, &mut last);
        let (a_new, b_new) = (receive(&started), receive(&started));
        let mut new = [started.doc, a_new, b_new];
        for k in steward_after {
            counter += 1;
            let (key, value) = (format!("s{k}"), format!("v{counter}"));
            put(&mut new[0], &key, &value);
            last.insert(key, Some(value));
        }

        // A and B switch and rebase their own changes.
        for d in 1..3 {
            let out = rebase(&mut old[d], &record, &key(SEEDS[d]), &mut new[d]).expect("rebase");
            if let Some(c) = &out.change {
                let me = key(SEEDS[d]).public();
                let verified = verify_change(&id().in_epoch(1), &c.bytes, &c.signature, |x| *x == me);
                prop_assert!(verified.is_ok());
            }
        }
        // Everyone syncs the new epoch.
        for x in 0..3 {
            for y in 0..3 {
                if x != y {
                    let mut other = new[y].clone();
                    new[x].merge(&mut other).expect("merge");
                }
            }
        }
        let heads = new[0].get_heads();
        let state = entries(&new[0]);
        for doc in new.iter_mut() {
            prop_assert_eq!(doc.get_heads(), heads.clone());
            prop_assert_eq!(entries(doc), state.clone());
            let values = history_values(doc);
            for v in &forgotten {
                prop_assert!(!values.contains(v), "forgotten value {} returned", v);
            }
        }
        // An entry the steward forgot stays gone, whatever A wrote to it
        // offline; every other key holds its owner's last write.
        if forgot {
            prop_assert_eq!(get(&new[0], FORGOTTEN), None, "the forgotten entry came back");
        }
        for (key, value) in last.iter().filter(|(k, _)| k.as_str() != FORGOTTEN) {
            prop_assert_eq!(&get(&new[0], key), value, "{}'s own last write", key);
        }
    }
}
