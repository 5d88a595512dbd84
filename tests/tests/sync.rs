//! Devices and groups syncing over iroh (loopback, relays off), driven
//! through the real binary: each test starts `groundwork up` processes and
//! checks what the other side ends up holding.

use groundwork_protocol::control::{Request, Response};
use groundwork_tests::decoded::Decoded;
use groundwork_tests::{Node, SYNC_LIMIT, eventually};

/// The documents a running node holds, as (group id, kind, heads).
fn held(n: &Node) -> Vec<(String, String, u64)> {
    let s = n.status();
    s["documents"]
        .as_array()
        .map(|docs| {
            docs.iter()
                .map(|d| {
                    (
                        d["group"].as_str().unwrap_or_default().to_owned(),
                        d["kind"].as_str().unwrap_or_default().to_owned(),
                        d["heads"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn group_id(n: &Node) -> String {
    n.status()["group"].as_str().expect("group id").to_owned()
}

/// Whether `n`'s status shows `peer` connected, and its last error.
fn peer_state(n: &Node, peer: &str) -> (bool, String) {
    let s = n.status();
    let p = s["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["device"] == peer).cloned())
        .unwrap_or_default();
    (
        p["connected"] == true,
        p["last_error"].as_str().unwrap_or_default().to_owned(),
    )
}

fn no_mdns(n: &Node) {
    std::fs::write(n.path().join("config.toml"), "mdns = false\n").expect("write config");
}

/// A loopback port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn lan_discovery_finds_devices_whose_addresses_changed() {
    let a = Node::founded("Grapevine");
    let (mut ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "b");
    let (mut rb, _) = b.up();
    a.add_member(&["--name", "Before Moving"]);
    b.wait_for_member("Before Moving");
    assert_eq!(rb.stop("TERM"), 0);
    assert_eq!(ra.stop("TERM"), 0);
    // Both come back on new ports: every address either remembers is stale,
    // so only mDNS can bring them together.
    let listen = |p: u16| format!("127.0.0.1:{p}");
    let (pa, pb) = (listen(free_port()), listen(free_port()));
    let (_ra, _) = a.up_with(&["--offline", "up", "--listen", &pa]);
    let (_rb, _) = b.up_with(&["--offline", "up", "--listen", &pb]);
    a.add_member(&["--name", "Found On The LAN"]);
    b.wait_for_member("Found On The LAN");
}

#[test]
fn live_sync_between_two_devices() {
    let a = Node::founded("Community Organisers Birkenhead");
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "second laptop");
    let (_rb, _) = b.up();
    a.add_member(&["--name", "Live From A"]);
    b.wait_for_member("Live From A");
    // And the other way, a meet-up written on B.
    b.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-20",
        "--place",
        "Library",
    ]);
    eventually("B's meet-up on A", SYNC_LIMIT, || {
        let out = a.ok(&["meetup", "list"]);
        if out.contains("Library") {
            Ok(())
        } else {
            Err(out)
        }
    });
    // Status says the link is up and every shared document is in sync.
    let b_id = b.device_id();
    eventually("A's status showing B in sync", SYNC_LIMIT, || {
        let s = a.status();
        let p = s["peers"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["device"] == b_id.as_str()).cloned())
            .unwrap_or_default();
        if p["connected"] == true && p["in_sync"] == true {
            Ok(())
        } else {
            Err(p.to_string())
        }
    });
}

#[test]
fn offline_edits_on_both_sides_merge_after_reconnect() {
    let a = Node::founded("Community Organisers Staffordshire");
    let (mut ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "b");
    let (mut rb, _) = b.up();
    a.add_member(&["--name", "Before Both"]);
    b.wait_for_member("Before Both");
    assert_eq!(rb.stop("TERM"), 0);
    assert_eq!(ra.stop("TERM"), 0);
    // Both edit while apart: the same document, different members.
    a.add_member(&["--name", "Offline On A"]);
    b.add_member(&["--name", "Offline On B"]);
    let (_ra, _) = a.up();
    let (_rb, _) = b.up();
    for n in [&a, &b] {
        n.wait_for_member("Offline On A");
        n.wait_for_member("Offline On B");
    }
    assert_eq!(a.member_names().len(), 3);
    assert_eq!(b.member_names().len(), 3);
}

#[test]
fn a_chain_relays_edits_between_devices_that_never_connect() {
    let a = Node::founded("Latin American Parents Association");
    // No LAN discovery here: it would let A find C by id.
    no_mdns(&a);
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("steward"), "relay");
    no_mdns(&b);
    let (_rb, _) = b.up();
    // C is invited by B and only ever knows B's address.
    let c = Node::join(&b.invite("member"), "far end");
    no_mdns(&c);
    let (_rc, _) = c.up();
    a.add_member(&["--name", "Relayed Through B"]);
    c.wait_for_member("Relayed Through B");
    let a_id = a.device_id();
    let c_id = c.device_id();
    assert!(!peer_state(&c, &a_id).0, "C must not be connected to A");
    assert!(!peer_state(&a, &c_id).0, "A must not be connected to C");
    // And back: C's meet-up reaches A through B.
    c.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-21",
        "--place",
        "Far Hall",
    ]);
    eventually("C's meet-up on A", SYNC_LIMIT, || {
        let out = a.ok(&["meetup", "list"]);
        if out.contains("Far Hall") {
            Ok(())
        } else {
            Err(out)
        }
    });
}

#[test]
fn a_revoked_device_is_refused() {
    let a = Node::founded("Moorlands Climate Action");
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("member"), "lost laptop");
    let (mut rb, _) = b.up();
    a.add_member(&["--name", "Before Revocation"]);
    b.wait_for_member("Before Revocation");
    let b_id = b.device_id();
    let a_id = a.device_id();
    let out = a.ok(&["device", "revoke", &b_id[..12]]);
    assert!(out.contains("revoked device"), "{out}");
    // A ends B's session at once, saying why.
    eventually("B told it is revoked", SYNC_LIMIT, || {
        let (connected, err) = peer_state(&b, &a_id);
        if !connected && err.contains("revoked") {
            Ok(())
        } else {
            Err(format!("connected {connected}, last error {err:?}"))
        }
    });
    a.add_member(&["--name", "After Revocation"]);
    b.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-22",
        "--place",
        "Written After",
    ]);
    // B restarts and dials A: refused at the handshake.
    assert_eq!(rb.stop("TERM"), 0);
    let (_rb, _) = b.up();
    eventually("B refused at the handshake", SYNC_LIMIT, || {
        let (connected, err) = peer_state(&b, &a_id);
        if !connected && err.contains("revoked") {
            Ok(())
        } else {
            Err(format!("connected {connected}, last error {err:?}"))
        }
    });
    assert!(!b.member_names().iter().any(|n| n == "After Revocation"));
    assert!(!a.ok(&["meetup", "list"]).contains("Written After"));
    let devices = a.json(&["device", "list"]);
    let entry = devices
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == b_id.as_str()))
        .expect("B listed");
    assert!(entry["revoked"].is_string(), "{entry}");
}

#[test]
fn a_linked_group_gets_the_constitution_and_plan_and_nothing_else() {
    let a = Node::founded("Cancer Support Salisbury");
    a.add_member(&[
        "--name",
        "Private Person",
        "--email",
        "private.person@example.org",
    ]);
    a.ok(&[
        "plan",
        "vision",
        "--text",
        "A town where no one faces cancer alone",
    ]);
    let (_ra, _) = a.up();
    let c = Node::founded("ACORN Bristol");
    let (_rc, _) = c.up();
    let out = c.ok(&["peer", "add", &a.link_ticket()]);
    assert!(
        out.contains("linked with") && out.contains("Cancer Support Salisbury"),
        "{out}"
    );
    let ga = group_id(&a);
    let from_a = eventually("A's public documents on C", SYNC_LIMIT, || {
        let docs: Vec<(String, u64)> = held(&c)
            .into_iter()
            .filter(|(g, _, _)| *g == ga)
            .map(|(_, k, h)| (k, h))
            .collect();
        if docs.len() == 2 && docs.iter().all(|(_, h)| *h > 0) {
            Ok(docs)
        } else {
            Err(format!("{docs:?}"))
        }
    });
    let mut kinds: Vec<&str> = from_a.iter().map(|(k, _)| k.as_str()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["constitution", "plan"],
        "C holds only A's public documents"
    );
    // A holds C's public documents too (linking is mutual).
    let gc = group_id(&c);
    eventually("C's public documents on A", SYNC_LIMIT, || {
        let mut docs: Vec<String> = held(&a)
            .into_iter()
            .filter(|(g, _, h)| *g == gc && *h > 0)
            .map(|(_, k, _)| k)
            .collect();
        docs.sort();
        if docs == ["constitution", "plan"] {
            Ok(())
        } else {
            Err(format!("{docs:?}"))
        }
    });
    // What the terminal UI shows of A on C: its constitution and plan, as
    // the control API's `shared` answers them; an unknown group has none.
    let shared = |group: groundwork_protocol::GroupId| {
        let dir = groundwork_node::datadir::DataDir::new(c.path().to_owned());
        let mut client = groundwork_node::control::connect(&dir)
            .expect("reach C's node")
            .expect("C's node runs");
        match client
            .request(Request::Shared { group })
            .expect("an answer")
        {
            Response::Shared(s) => s,
            other => panic!("shared answered {other:?}"),
        }
    };
    let docs = shared(ga.parse().expect("a group id"));
    let plan = docs.plan.expect("A's plan");
    assert_eq!(
        plan.vision.as_str(),
        "A town where no one faces cancer alone"
    );
    assert!(docs.constitution.is_some());
    let unknown = groundwork_protocol::SecretKey::from_seed(&[9; 32]).public();
    let none = shared(unknown);
    assert_eq!((none.constitution, none.plan), (None, None));

    // Nothing personal reached C: the name and email are in A's store and
    // nowhere in C's.
    let (a_held, c_held) = (Decoded::dir(a.path()), Decoded::dir(c.path()));
    assert!(c_held.chunks > 0, "C's store decodes");
    for secret in ["Private Person", "private.person@example.org"] {
        assert!(a_held.contains(secret), "{secret} not in A's store");
        assert!(!c_held.contains(secret), "{secret} reached C");
    }
    let peers = c.json(&["peer", "list"]);
    assert!(
        peers
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "Cancer Support Salisbury")),
        "{peers}"
    );
}

#[test]
fn a_member_device_does_not_get_contacts() {
    let a = Node::founded("Starting Point");
    a.add_member(&[
        "--name",
        "Has Email",
        "--email",
        "has.email@example.org",
        "--phone",
        "07700 900123",
    ]);
    let (_ra, _) = a.up();
    let m = Node::join(&a.invite("member"), "member laptop");
    let (_rm, _) = m.up();
    m.wait_for_member("Has Email");
    let ga = group_id(&a);
    let kinds: Vec<String> = held(&m)
        .into_iter()
        .filter(|(g, _, _)| *g == ga)
        .map(|(_, k, _)| k)
        .collect();
    assert!(!kinds.iter().any(|k| k == "contacts"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "roster"), "{kinds:?}");
    let (own, held) = (Decoded::dir(a.path()), Decoded::dir(m.path()));
    assert!(held.contains("Has Email"), "the roster reached the member");
    for secret in ["has.email@example.org", "07700 900123"] {
        assert!(own.contains(secret), "{secret} is in the steward's store");
        assert!(!held.contains(secret), "{secret} reached a member device");
    }
    let shown = m.json(&["member", "list"]);
    assert!(!shown.to_string().contains("has.email"), "{shown}");
}

#[test]
fn a_restart_resumes_sync_both_ways() {
    let a = Node::founded("The Wharton Trust");
    let (mut ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "b");
    let (mut rb, _) = b.up();
    a.add_member(&["--name", "First"]);
    b.wait_for_member("First");
    // B away: A's edit reaches it when it comes back.
    assert_eq!(rb.stop("TERM"), 0);
    a.add_member(&["--name", "While B Was Away"]);
    let (_rb, _) = b.up();
    b.wait_for_member("While B Was Away");
    // A away: B's edit reaches A when it comes back.
    assert_eq!(ra.stop("TERM"), 0);
    b.add_member(&["--name", "While A Was Away"]);
    let (_ra, _) = a.up();
    a.wait_for_member("While A Was Away");
}

#[test]
fn join_with_a_used_invite_fails_cleanly() {
    let a = Node::founded("Sneinton Alchemy");
    let (_ra, _) = a.up();
    let invite = a.invite("member");
    // A label with a control character, or too long, is named, and
    // leaves the invite unused.
    let d = Node::new();
    let line = d.fails(
        2,
        &["--offline", "join", &invite, "--label", "lap\u{1b}[2Jtop"],
    );
    assert!(line.contains("label holds"), "{line}");
    let line = d.fails(
        2,
        &["--offline", "join", &invite, "--label", &"x".repeat(101)],
    );
    assert!(line.contains("label is 101 characters long"), "{line}");
    assert!(!d.path().join("groundwork.redb").exists());
    let _b = Node::join(&invite, "first");
    let c = Node::new();
    let line = c.fails(1, &["--offline", "join", &invite]);
    assert!(line.contains("already been used"), "{line}");
    // Nothing was set up in C's directory but its device key.
    assert!(!c.path().join("groundwork.redb").exists());
    // Damaged invite text is named too, as a usage mistake.
    let line = c.fails(2, &["--offline", "join", "gwinvitexyz"]);
    assert!(line.contains("invite"), "{line}");
}

#[test]
fn a_linked_group_relays_another_groups_public_documents_verified_by_its_card() {
    // A — B — C, all in one network: A and C are never linked, and never
    // connect. C keeps A's card because the network's directory lists A.
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    no_mdns(&national);
    let (_rn, _) = national.up();
    let a = Node::founded("English for Action");
    no_mdns(&a);
    a.ok(&["plan", "vision", "--text", "Every learner a leader"]);
    let (_ra, _) = a.up();
    let b = Node::founded("Barton Hill Settlement");
    no_mdns(&b);
    let (_rb, _) = b.up();
    let c = Node::founded("ACORN Sheffield");
    no_mdns(&c);
    let (_rc, _) = c.up();
    for n in [&a, &b, &c] {
        national.ok(&["affiliate", &n.link_ticket()]);
    }
    b.ok(&["peer", "add", &a.link_ticket()]);
    c.ok(&["peer", "add", &b.link_ticket()]);
    let ga = group_id(&a);
    eventually(
        "A's constitution and plan on C, through B",
        SYNC_LIMIT,
        || {
            let mut docs: Vec<String> = held(&c)
                .into_iter()
                .filter(|(g, _, h)| *g == ga && *h > 0)
                .map(|(_, k, _)| k)
                .collect();
            docs.sort();
            if docs == ["constitution", "plan"] {
                Ok(())
            } else {
                Err(format!("{docs:?}"))
            }
        },
    );
    // A later edit on A travels the same way.
    let before: u64 = held(&c)
        .iter()
        .filter(|(g, k, _)| *g == ga && k == "plan")
        .map(|(_, _, h)| *h)
        .sum();
    assert!(before > 0);
    let plan_status = |n: &Node| -> Option<u64> {
        n.status()["documents"].as_array().and_then(|d| {
            d.iter()
                .find(|d| d["group"] == ga.as_str() && d["kind"] == "plan")
                .and_then(|d| d["bytes"].as_u64())
        })
    };
    let bytes_before = plan_status(&c);
    a.ok(&["plan", "goal", "add", "A class in every ward"]);
    eventually("A's new goal on C", SYNC_LIMIT, || {
        let now = plan_status(&c);
        if now != bytes_before {
            Ok(())
        } else {
            Err(format!("{now:?}"))
        }
    });
    // C never connected to A.
    let a_id = a.device_id();
    let peers = c.json(&["peer", "list"]);
    assert!(
        !peers
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["device"] == a_id.as_str())),
        "C knows A only through B: {peers}"
    );
}

#[test]
fn status_and_peer_list_speak_plainly_and_last_heard_is_when_a_peer_spoke() {
    let a = Node::founded("Plain Words Group");
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "b");
    let (mut rb, _) = b.up();
    a.add_member(&["--name", "Said Plainly"]);
    b.wait_for_member("Said Plainly");
    eventually("the roster in sync with one peer", SYNC_LIMIT, || {
        let text = a.ok(&["status"]);
        text.lines()
            .any(|l| {
                l.starts_with("Plain Words Group") && l.contains("roster") && l.ends_with("1 of 1")
            })
            .then_some(())
            .ok_or(text)
    });
    let text = a.ok(&["status"]);
    let header = text
        .lines()
        .find(|l| l.starts_with("GROUP"))
        .unwrap_or_else(|| panic!("no table header in\n{text}"));
    for column in ["DOCUMENT", "VERSIONS", "CHANGES", "SIZE", "PEERS IN SYNC"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        !text.contains("HEADS") && !text.contains("PENDING"),
        "{text}"
    );
    let peers = a.ok(&["peer", "list"]);
    assert!(
        peers
            .lines()
            .next()
            .is_some_and(|l| l.contains("LAST HEARD")),
        "{peers}"
    );
    let b_id = b.device_id();
    let row = |peers: &str| {
        peers
            .lines()
            .find(|l| b_id.starts_with(l.split_whitespace().next().unwrap_or("-")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no row for b in\n{peers}"))
    };
    assert!(row(&peers).contains("now"), "{peers}");

    // Once b stops, its last-heard time is kept (not "never", not the day it
    // was first remembered), in the JSON and in words.
    assert_eq!(rb.stop("TERM"), 0);
    eventually("b disconnected", SYNC_LIMIT, || {
        let peers = a.json(&["peer", "list"]);
        let me = peers
            .as_array()
            .and_then(|p| {
                p.iter()
                    .find(|p| p["device"].as_str() == Some(b_id.as_str()))
            })
            .cloned()
            .unwrap_or_default();
        (me["connected"] == false)
            .then_some(me)
            .ok_or(peers.to_string())
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let peers = a.json(&["peer", "list"]);
    let heard = peers
        .as_array()
        .and_then(|p| {
            p.iter()
                .find(|p| p["device"].as_str() == Some(b_id.as_str()))
        })
        .and_then(|p| p["last_seen"].as_u64())
        .unwrap_or_else(|| panic!("no last_seen for b: {peers}"));
    assert!(now.saturating_sub(heard) < 120, "heard {heard}, now {now}");
    let peers = a.ok(&["peer", "list"]);
    assert!(
        row(&peers).contains("just now") || row(&peers).contains("min ago"),
        "{peers}"
    );
}
