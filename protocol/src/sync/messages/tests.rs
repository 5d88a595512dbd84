//! The messages' format, caps and round trip.

use super::*;
use crate::keys::SecretKey;
use proptest::prelude::*;

fn group() -> GroupId {
    SecretKey::from_seed(&[1; 32]).public()
}

#[test]
fn the_format_is_locked() {
    let hello = Message::Hello {
        version: 1,
        group: group(),
        digest: [0xab; 32],
    }
    .encode();
    assert_eq!(hello.kind, 1);
    assert_eq!(data_encoding::HEXLOWER.encode(&hello.payload[..2]), "0001");
    assert_eq!(&hello.payload[2..34], group().as_bytes());
    let doc = DocId::from_bytes([7; 32]);
    let heads = Message::Heads(vec![(doc, vec![ChangeHash([9; 32])])]).encode();
    assert_eq!(
        data_encoding::HEXLOWER.encode(&heads.payload),
        format!("00000001{}0001{}", "07".repeat(32), "09".repeat(32))
    );
    let sync = Message::Sync {
        doc,
        body: super::super::SignedSyncMessage {
            message: vec![0x42, 0x00],
            signatures: vec![(ChangeHash([3; 32]), [4; 64])],
        },
    }
    .encode();
    assert_eq!(
        data_encoding::HEXLOWER.encode(&sync.payload),
        format!(
            "{}00000001{}{}4200",
            "07".repeat(32),
            "03".repeat(32),
            "04".repeat(64)
        )
    );
    assert_eq!(
        Message::Bye("done".into()).encode(),
        Frame {
            kind: 4,
            payload: b"done".to_vec()
        }
    );
    let stop = Message::DocStop {
        doc,
        reason: "forked".into(),
    }
    .encode();
    assert_eq!(stop.kind, 8);
    assert_eq!(
        data_encoding::HEXLOWER.encode(&stop.payload),
        format!("{}{}", "07".repeat(32), "666f726b6564")
    );
    let epoch = Message::Epoch {
        doc,
        record: vec![0xee; 2],
        genesis: vec![0x85, 0x6f],
        signature: [5; 64],
    }
    .encode();
    assert_eq!(epoch.kind, 9);
    assert_eq!(
        data_encoding::HEXLOWER.encode(&epoch.payload),
        format!("{}00000002eeee856f{}", "07".repeat(32), "05".repeat(64))
    );
    let inventory = Message::Inventory(vec![[0x11; 8], [0x22; 8]]).encode();
    assert_eq!(inventory.kind, 11);
    assert_eq!(
        data_encoding::HEXLOWER.encode(&inventory.payload),
        format!("00000002{}{}", "11".repeat(8), "22".repeat(8))
    );
    // The print's domain and tag are part of the format too (the
    // value computed apart, with Python's blake3).
    assert_eq!(
        data_encoding::HEXLOWER.encode(&inventory_print(0, b"card")),
        "c285897e5c5ce186"
    );
    assert_ne!(inventory_print(0, b"x"), inventory_print(1, b"x"));
}

#[test]
fn an_inventory_is_refused_over_its_cap_or_with_a_ragged_end() {
    let mut p = ((MAX_INVENTORY + 1) as u32).to_be_bytes().to_vec();
    p.extend_from_slice(&[0; 8]);
    assert!(matches!(
        Message::decode(&Frame {
            kind: 11,
            payload: p
        }),
        Err(MessageError::TooMany {
            what: "inventory prints",
            ..
        })
    ));
    let mut p = 2u32.to_be_bytes().to_vec();
    p.extend_from_slice(&[0; 12]);
    assert_eq!(
        Message::decode(&Frame {
            kind: 11,
            payload: p
        }),
        Err(MessageError::Malformed("inventory"))
    );
}

#[test]
fn an_epoch_message_is_refused_over_its_caps_or_without_a_genesis() {
    let mut p = vec![7; 32];
    p.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        Message::decode(&Frame {
            kind: 9,
            payload: p
        }),
        Err(MessageError::TooMany {
            what: "epoch record bytes",
            ..
        })
    ));
    let mut p = vec![7; 32];
    p.extend_from_slice(&1u32.to_be_bytes());
    p.push(0xee);
    p.extend_from_slice(&[5; 64]);
    assert_eq!(
        Message::decode(&Frame {
            kind: 9,
            payload: p
        }),
        Err(MessageError::Malformed("epoch")),
        "a signature and no genesis"
    );
}

#[test]
fn lies_about_counts_are_caught_before_allocating() {
    let f = Frame {
        kind: 2,
        payload: u32::MAX.to_be_bytes().to_vec(),
    };
    assert!(matches!(
        Message::decode(&f),
        Err(MessageError::TooMany { .. })
    ));
    let mut p = vec![0; 32];
    p.extend_from_slice(&50_000u32.to_be_bytes());
    assert_eq!(
        Message::decode(&Frame {
            kind: 3,
            payload: p
        }),
        Err(MessageError::Malformed("sync"))
    );
    assert_eq!(
        Message::decode(&Frame {
            kind: 99,
            payload: vec![]
        }),
        Err(MessageError::UnknownKind(99))
    );
    assert_eq!(
        Message::decode(&Frame {
            kind: 1,
            payload: vec![0; 10]
        }),
        Err(MessageError::Malformed("hello"))
    );
}

#[test]
fn a_peers_reason_is_made_safe() {
    let f = Frame {
        kind: 4,
        payload: b"bad\x1b[2J\x07".to_vec(),
    };
    assert_eq!(
        Message::decode(&f),
        Ok(Message::Bye("bad\u{241b}[2J\u{2407}".into()))
    );
}

fn message() -> impl Strategy<Value = Message> {
    let hash = any::<[u8; 32]>().prop_map(ChangeHash);
    prop_oneof![
        any::<[u8; 32]>().prop_map(|digest| Message::Hello {
            version: VERSION,
            group: group(),
            digest
        }),
        proptest::collection::vec(
            (
                any::<[u8; 32]>().prop_map(DocId::from_bytes),
                proptest::collection::vec(hash.clone(), 0..4)
            ),
            0..6
        )
        .prop_map(Message::Heads),
        (
            any::<[u8; 32]>(),
            proptest::collection::vec((hash, proptest::collection::vec(any::<u8>(), 64)), 0..4),
            proptest::collection::vec(any::<u8>(), 0..100)
        )
            .prop_map(|(d, sigs, message)| Message::Sync {
                doc: DocId::from_bytes(d),
                body: super::super::SignedSyncMessage {
                    message,
                    signatures: sigs
                        .into_iter()
                        .map(|(h, s)| (h, s.try_into().unwrap_or([0; 64])))
                        .collect(),
                },
            }),
        "[a-z ]{0,40}".prop_map(Message::Bye),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..4)
            .prop_map(Message::Cards),
        proptest::collection::vec(any::<[u8; 8]>(), 0..6).prop_map(Message::Prints),
        proptest::collection::vec(any::<[u8; 8]>(), 0..6).prop_map(Message::Inventory),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..4)
            .prop_map(Message::Records),
        (any::<[u8; 32]>(), "[a-z ]{0,40}").prop_map(|(d, reason)| Message::DocStop {
            doc: DocId::from_bytes(d),
            reason
        }),
        (
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..80),
            proptest::collection::vec(any::<u8>(), 0..80),
            any::<[u8; 32]>(),
        )
            .prop_map(|(d, record, genesis, half)| {
                let mut signature = [0; 64];
                if !genesis.is_empty() {
                    signature[..32].copy_from_slice(&half);
                }
                Message::Epoch {
                    doc: DocId::from_bytes(d),
                    record,
                    genesis,
                    signature,
                }
            }),
        any::<[u8; 32]>().prop_map(|d| Message::EpochWant {
            doc: DocId::from_bytes(d)
        }),
    ]
}

proptest! {
    #[test]
    fn round_trip(m in message()) {
        prop_assert_eq!(Message::decode(&m.encode()), Ok(m));
    }

    #[test]
    fn garbage_never_panics(kind in 0u8..13, payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Message::decode(&Frame { kind, payload });
    }
}
