//! Hostile peers. A device the group admitted speaks the sync protocol
//! directly (in this process) to a running node: garbage, oversized
//! frames, changes with forged signatures and changes by a device that may
//! not write. The node ends that session with a reason, applies nothing
//! from it, and goes on serving everyone else.

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_protocol::signed::{actor_id, sign_change};
use groundwork_protocol::sync::session::Docs;
use groundwork_protocol::wire::frame::{MAX_FRAME_LEN, encode};
use groundwork_protocol::{DocId, DocKind, GroupId, SecretKey};
use groundwork_tests::{Node, SYNC_LIMIT};
use rand::{Rng, SeedableRng};

mod common;
use common::{Attacker, Link, offer, play, rt};

/// A group node running `up`, and a member device whose key the attacker
/// uses (so it passes the handshake, like a stolen or buggy laptop).
struct Setup {
    a: Node,
    _running: groundwork_tests::Running,
    ticket: String,
    member: Node,
}

fn setup(name: &str) -> Setup {
    let a = Node::founded(name);
    let (running, ticket) = a.up();
    let member = Node::join(&a.invite("member"), "member laptop");
    Setup {
        a,
        _running: running,
        ticket,
        member,
    }
}

fn member_key(member: &Node) -> SecretKey {
    DataDir::new(member.path())
        .read_key(KeyKind::Device)
        .expect("member device key")
}

/// Sends `bytes` on a sync stream and returns how the node answered: the
/// `Bye` reason if it sent one (else why it closed), and whether it closed
/// the connection.
async fn send_raw(key: &SecretKey, ticket: &str, bytes: Vec<u8>) -> (Option<String>, bool) {
    let mut link = Link::open(key, ticket).await;
    link.write(&bytes).await;
    let bye = play(&mut link, vec![], |_| vec![], SYNC_LIMIT).await;
    let closed = bye.is_some() && link.until_closed(SYNC_LIMIT).await;
    link.close().await;
    (bye, closed)
}

#[test]
fn garbage_and_oversized_frames_end_that_session_and_the_node_serves_on() {
    let s = setup("Marsh Farm Outreach");
    let key = member_key(&s.member);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let garbage: Vec<u8> = {
        // A plausible small header, then noise.
        let mut g = vec![0, 0, 0, 200, 1];
        g.extend((0..2000).map(|_| rng.random::<u8>()));
        g
    };
    let oversized = {
        let mut h = (MAX_FRAME_LEN + 1).to_be_bytes().to_vec();
        h.push(3);
        h
    };
    let unknown_kind = encode(99, b"what is this", MAX_FRAME_LEN).expect("frame");
    let runtime = rt();
    for (what, bytes) in [
        ("garbage", garbage),
        ("oversized frame", oversized),
        ("unknown message type", unknown_kind),
    ] {
        let (bye, closed) = runtime.block_on(send_raw(&key, &s.ticket, bytes));
        assert!(closed, "{what}: the node did not close the connection");
        let bye = bye.unwrap_or_default();
        assert!(!bye.is_empty(), "{what}: no reason given");
    }
    // The node is still up and serving: its own CLI and a real device.
    s.a.add_member(&["--name", "Still Serving"]);
    let (_rm, _) = s.member.up();
    s.member.wait_for_member("Still Serving");
}

#[test]
fn changes_with_a_forged_signature_or_a_wrong_author_are_rejected_whole() {
    let s = setup("Rotherfed");
    let key = member_key(&s.member);
    let group: GroupId = s.a.status()["group"]
        .as_str()
        .expect("group")
        .parse()
        .expect("group id");
    let runtime = rt();
    let meetups_before = s.a.ok(&["meetup", "list"]);
    let roster_heads = s.a.heads("roster");

    // 1. A meet-up change by the member device (which may write meet-ups)
    //    whose signature is forged.
    let meetups = DocId::derive(&group, DocKind::Meetups);
    let mut doc = groundwork_protocol::edit::new_doc().with_actor(actor_id(&key.public()));
    doc.put(ROOT, "forged", "not really signed").expect("put");
    doc.commit();
    let reason = runtime.block_on(offer(
        &key,
        &s.ticket,
        group,
        meetups,
        Docs::from([(meetups, doc)]),
        Attacker {
            sigs: HashMap::new(),
        },
    ));
    assert!(reason.contains("bad signature"), "{reason:?}");

    // 2. A roster change properly signed by the member device, which may
    //    not write the roster.
    let roster = DocId::derive(&group, DocKind::Roster);
    let mut doc: AutoCommit =
        groundwork_protocol::edit::new_doc().with_actor(actor_id(&key.public()));
    doc.put(ROOT, "sneaked", "in").expect("put");
    doc.commit();
    let mut sigs = HashMap::new();
    for c in doc.get_changes(&[]) {
        sigs.insert(c.hash(), sign_change(&key, &roster, &c).expect("sign"));
    }
    let reason = runtime.block_on(offer(
        &key,
        &s.ticket,
        group,
        roster,
        Docs::from([(roster, doc)]),
        Attacker { sigs },
    ));
    assert!(reason.contains("may not write"), "{reason:?}");

    // Nothing from either message was applied.
    assert_eq!(s.a.ok(&["meetup", "list"]), meetups_before);
    assert_eq!(s.a.heads("roster"), roster_heads);
    // And the node still syncs with the honest device.
    s.a.add_member(&["--name", "After The Attack"]);
    let (_rm, _) = s.member.up();
    s.member.wait_for_member("After The Attack");
}
