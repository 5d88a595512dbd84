//! Network records from a hostile peer. A device the group admitted (a
//! member laptop's key, so it passes the handshake) offers a running node
//! cards and records in the sync protocol: valid, stale, replayed, forged,
//! signed by the wrong key, and an affiliation from a network the group is
//! not in. The node keeps only what verifies and is newer, ends the session
//! over a forged record, and logs each refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_protocol::card::GroupCard;
use groundwork_protocol::date::Date;
use groundwork_protocol::records::{
    Affiliation, Exact, GROWTH_MONTHS, KIND_AFFILIATION, KIND_SUMMARY, KIND_SUMMARY_V1,
    MembershipSummary, Signed,
};
use groundwork_protocol::sync::VerifiedChange;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::{HostError, Session, SessionStore};
use groundwork_protocol::{DeviceId, DocId, GroupId, SecretKey};
use groundwork_tests::{Node, SYNC_LIMIT, eventually};
use serde_json::Value;

mod common;
use common::{Link, play};

/// Offers cards and records, and takes nothing.
struct Offerer {
    cards: Vec<Vec<u8>>,
    records: Vec<Vec<u8>>,
}

impl SessionStore for Offerer {
    fn signature(&self, _hash: &ChangeHash) -> Option<[u8; 64]> {
        None
    }
    fn may_write(&self, _doc: &DocId, _author: &DeviceId) -> bool {
        false
    }
    fn within_cut(&self, _doc: &DocId, _author: &DeviceId, _seq: u64) -> bool {
        true
    }
    fn store(&mut self, _doc: &DocId, _changes: Vec<VerifiedChange>) -> Result<(), HostError> {
        Ok(())
    }
    fn cards(&self) -> Vec<Vec<u8>> {
        self.cards.clone()
    }
    fn records(&self) -> Vec<Vec<u8>> {
        self.records.clone()
    }
}

fn tagged(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend_from_slice(bytes);
    v
}

/// Runs one session as `key` that offers `offer`; returns the node's `Bye`
/// reason if it ended the session within `wait`, else `None` (the session
/// stayed open, then this side closed it).
fn offer(
    key: &SecretKey,
    ticket: &str,
    group: GroupId,
    offer: Offerer,
    wait: Duration,
) -> Option<String> {
    common::rt().block_on(async {
        let mut link = Link::open(key, ticket).await;
        let mut store = offer;
        let mut docs: BTreeMap<DocId, AutoCommit> = BTreeMap::new();
        let mut session = Session::new(group, BTreeSet::new(), BTreeMap::new());
        let opening = session.start(&mut docs, &store).expect("start");
        let bye = play(
            &mut link,
            opening,
            // The node's documents are not this test's business: only its
            // hello and its inventory are answered (the second with the
            // cards and records).
            |msg| match msg {
                Message::Hello { .. } | Message::Inventory(_) => session
                    .handle(msg, &mut docs, &mut store)
                    .unwrap_or_default(),
                _ => vec![],
            },
            wait,
        )
        .await;
        link.close().await;
        bye
    })
}

/// The day of every test summary.
fn summary_day() -> Date {
    "2026-11-01".parse::<Date>().expect("date")
}

/// The `n`th sequence number of the test summaries' day.
fn seq_of(n: u64) -> u64 {
    ((summary_day().unix_days() as u64) << 32) + n
}

fn summary(group: &SecretKey, seq: u64, members: u64) -> MembershipSummary {
    let exact = Exact {
        members,
        by_kind: [0, members, 0],
        joined: (members, [0; GROWTH_MONTHS]),
        ..Exact::default()
    };
    MembershipSummary {
        seq: seq_of(seq),
        ..MembershipSummary::publish(
            group.public(),
            &exact,
            summary_day(),
            &groundwork_protocol::disclosure::Offsets::of_group(group),
        )
    }
}

fn signed_summary(group: &SecretKey, seq: u64, members: u64) -> Vec<u8> {
    let s = Signed::sign(summary(group, seq, members), group).expect("sign");
    tagged(KIND_SUMMARY, s.bytes())
}

/// A card for `group` naming `writers`.
fn card_of(
    group: &SecretKey,
    name: &str,
    writers: &[DeviceId],
) -> groundwork_protocol::card::SignedCard {
    GroupCard {
        group: group.public(),
        seq: 1,
        name: name.into(),
        area: Some("Nottingham".into()),
        kind: groundwork_protocol::card::GroupKind::SocialActionHub,
        write_keys: writers.to_vec(),
        stewards: writers.to_vec(),
    }
    .sign(group)
    .expect("card")
}

/// Links with the node behind `ticket` (a link ticket) as `device` of the
/// group `card` describes, the way `peer add` does.
fn link_as(device: &SecretKey, card: &groundwork_protocol::card::SignedCard, ticket: &str) {
    let answer = common::rt().block_on(common::ask_to_link(device, card, ticket));
    assert!(
        matches!(
            answer,
            Ok(groundwork_protocol::link::LinkMessage::Accepted(_))
        ),
        "{answer:?}"
    );
}

/// The directory entry for `name` on `n`.
fn entry(n: &Node, name: &str) -> Option<Value> {
    n.json(&["network"])
        .as_array()
        .and_then(|d| d.iter().find(|e| e["name"] == name).cloned())
}

fn log_has(log: &Path, what: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    if text.contains(what) {
        Ok(())
    } else {
        Err(format!("no `{what}` in the node's log yet"))
    }
}

#[test]
fn forged_replayed_stale_and_foreign_records_are_refused_and_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("node.log");
    let a = Node::founded("Starting Point");
    let (_running, ticket) = a.up_recorded(&log, &dir.path().join("wire"));
    let member = Node::join(&a.invite("member"), "member laptop");
    let key = DataDir::new(member.path())
        .read_key(KeyKind::Device)
        .expect("member device key");
    let group: GroupId = a.status()["group"]
        .as_str()
        .expect("group")
        .parse()
        .expect("group id");

    let quick = Duration::from_millis(1500);
    // A group nobody here linked with, and no directory lists: its card
    // and summary are not kept.
    let stranger = SecretKey::from_seed(&[41; 32]);
    let unknown = Offerer {
        cards: vec![card_of(&stranger, "Rogue Group", &[]).bytes().to_vec()],
        records: vec![signed_summary(&stranger, 5, 30)],
    };
    assert_eq!(offer(&key, &ticket, group, unknown, quick), None);
    eventually("the unknown group's summary logged", SYNC_LIMIT, || {
        log_has(&log, "a group nobody here linked with")
    });
    assert_eq!(entry(&a, "Rogue Group"), None);

    // A group linked with this one (its steward's device uses a link code
    // A's steward gave out), with a card and a summary.
    let other = SecretKey::from_seed(&[42; 32]);
    let other_device = SecretKey::from_seed(&[43; 32]);
    let card = card_of(&other, "Sneinton Alchemy", &[other_device.public()]);
    link_as(&other_device, &card, &a.link_ticket());
    let good = Offerer {
        cards: vec![card.bytes().to_vec()],
        records: vec![signed_summary(&other, 5, 30)],
    };
    assert_eq!(offer(&key, &ticket, group, good, quick), None);
    let e = eventually("the valid summary in the directory", SYNC_LIMIT, || {
        entry(&a, "Sneinton Alchemy")
            .filter(|e| e["members"] == 30)
            .ok_or_else(|| format!("{:?}", entry(&a, "Sneinton Alchemy")))
    });
    assert_eq!(e["area"], "Nottingham");

    // Stale (an older sequence number) and replayed (the same number,
    // other figures): valid signatures, so the session goes on, but
    // neither is used, and each is logged.
    let stale = Offerer {
        cards: vec![],
        records: vec![signed_summary(&other, 3, 99)],
    };
    assert_eq!(offer(&key, &ticket, group, stale, quick), None);
    eventually("the stale summary logged", SYNC_LIMIT, || {
        log_has(
            &log,
            &format!(
                "record is stale (sequence {}, holding {})",
                seq_of(3),
                seq_of(5)
            ),
        )
    });
    let replayed = Offerer {
        cards: vec![],
        records: vec![signed_summary(&other, 5, 77)],
    };
    assert_eq!(offer(&key, &ticket, group, replayed, quick), None);
    eventually("the replayed summary logged", SYNC_LIMIT, || {
        log_has(&log, &format!("replays sequence number {}", seq_of(5)))
    });

    // A summary dated years ahead (a wrong clock, or a group holding the
    // report's growth window hostage): not kept, not held against it.
    let ahead = MembershipSummary {
        as_of: "2099-01-01".parse().expect("date"),
        seq: ("2099-01-01".parse::<Date>().expect("date").unix_days() as u64) << 32,
        ..summary(&other, 1, 60)
    };
    let ahead = Signed::sign(ahead, &other).expect("sign");
    let future = Offerer {
        cards: vec![],
        records: vec![tagged(KIND_SUMMARY, ahead.bytes())],
    };
    assert_eq!(offer(&key, &ticket, group, future, quick), None);
    eventually("the future summary logged", SYNC_LIMIT, || {
        log_has(&log, "record is dated 2099-01-01, in the future")
    });

    // A summary of the first format (exact figures, under its old kind
    // byte, with a valid signature over the old domain): not read, and
    // not held against the sender, who may simply run an older release.
    let old_body = serde_json::json!({
        "group": other.public(), "seq": 1_800_000_000u64, "as_of": "2026-11-01",
        "members": 3, "by_kind": {"professional": 1, "activist": 1, "observer": 1},
        "new_last_30_days": 1, "trained": 2, "meetups_last_90_days": 1,
        "conversations": 4, "established": false
    });
    let old_body = serde_json::to_vec(&old_body).expect("json");
    let old_sig = other
        .sign(&[b"groundwork/record/summary/v1".as_slice(), &old_body].concat())
        .to_bytes();
    let old = [other.public().as_bytes().as_slice(), &old_sig, &old_body].concat();
    let retired = Offerer {
        cards: vec![],
        records: vec![tagged(KIND_SUMMARY_V1, &old)],
    };
    assert_eq!(offer(&key, &ticket, group, retired, quick), None);
    eventually("the old-format summary logged", SYNC_LIMIT, || {
        log_has(&log, "record of a retired format, not read")
    });

    // An affiliation signed by some other "network", for a group this
    // node does not link with: not used.
    let rogue = SecretKey::from_seed(&[66; 32]);
    let affiliation = Signed::sign(
        Affiliation {
            network: rogue.public(),
            group: stranger.public(),
            since: "2026-01-01".parse().expect("date"),
            seq: 1,
        },
        &rogue,
    )
    .expect("sign");
    let foreign = Offerer {
        cards: vec![],
        records: vec![tagged(KIND_AFFILIATION, affiliation.bytes())],
    };
    assert_eq!(offer(&key, &ticket, group, foreign, quick), None);
    eventually("the foreign affiliation logged", SYNC_LIMIT, || {
        log_has(&log, "affiliation from another network")
    });

    // Forged: a newer summary whose signature does not verify, and one
    // signed by a key other than its group's. Each ends the session.
    let mut forged = signed_summary(&other, 9, 500);
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let bye = offer(
        &key,
        &ticket,
        group,
        Offerer {
            cards: vec![],
            records: vec![forged],
        },
        SYNC_LIMIT,
    );
    let bye = bye.expect("the node ends the session over a forged record");
    assert!(
        bye.contains("bad record") && bye.contains("signature"),
        "{bye}"
    );
    let impostor = SecretKey::from_seed(&[7; 32]);
    let mut body = serde_json::to_vec(&summary(&other, 10, 600)).expect("json");
    let mut message = b"groundwork/record/summary/v2".to_vec();
    message.append(&mut body.clone());
    let signature = impostor.sign(&message).to_bytes();
    let mut wrong = impostor.public().as_bytes().to_vec();
    wrong.extend_from_slice(&signature);
    wrong.append(&mut body);
    let bye = offer(
        &key,
        &ticket,
        group,
        Offerer {
            cards: vec![],
            records: vec![tagged(KIND_SUMMARY, &wrong)],
        },
        SYNC_LIMIT,
    )
    .expect("the node ends the session over a record signed by the wrong key");
    assert!(bye.contains("wrong key"), "{bye}");
    eventually("the forged records logged", SYNC_LIMIT, || {
        log_has(&log, "refused a record")
    });

    // After all that, the directory still shows the valid summary, and the
    // group is not affiliated.
    let e = entry(&a, "Sneinton Alchemy").expect("still listed");
    assert_eq!(e["members"], 30, "{e}");
    assert_eq!(e["affiliated"], false, "{e}");
    // The node served on.
    assert!(a.status()["device"].is_string());
}
