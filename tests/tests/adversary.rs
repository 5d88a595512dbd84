//! The adversary suite: each attack found against the node, driven
//! against real nodes on loopback with the harness's raw protocol peer.
//! For each, what must happen: the node's memory stays bounded, the session
//! (or the document) ends with a named reason, honest peers keep syncing
//! (an edit reaches them), and nothing from the attack is stored. Each test
//! prints its figures (`--nocapture` shows them; docs/benchmarks.md keeps
//! them).

use std::time::{Duration, Instant};

use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::Session;
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId, SecretKey};
use groundwork_tests::attacks::{claiming, deflate_bomb, run_length_bomb, sync_message};
use groundwork_tests::{Node, Running, SYNC_LIMIT, eventually};

mod common;
use common::{Link, play, rt};

fn device_key(n: &Node) -> SecretKey {
    DataDir::new(n.path())
        .read_key(KeyKind::Device)
        .expect("device key")
}

fn group_of(n: &Node) -> GroupId {
    n.json(&["device", "list"]);
    n.status()["group"]
        .as_str()
        .expect("group")
        .parse()
        .expect("group id")
}

/// Opens a sync session as `key` and sends `then` right after the hello;
/// returns the node's reason for ending it (a `Bye` or `DocStop`) and how
/// long that took from the attack's last byte.
fn attack(
    key: &SecretKey,
    ticket: &str,
    group: GroupId,
    doc: DocId,
    then: Message,
) -> (String, Duration) {
    rt().block_on(async {
        let mut link = Link::open(key, ticket).await;
        let mut session = Session::new(group, [doc].into(), Default::default());
        let mut docs = Default::default();
        let hello = session
            .start(&mut docs, &common::Attacker::default())
            .expect("hello");
        for m in &hello {
            link.send(m).await;
        }
        link.send(&then).await;
        let sent = Instant::now();
        let reason = play(&mut link, vec![], |_| vec![], SYNC_LIMIT)
            .await
            .expect("the node answered the attack");
        let took = sent.elapsed();
        link.close().await;
        (reason, took)
    })
}

/// How long an edit on `from` takes to reach `to` (a member added on one
/// is listed on the other).
fn edit_latency(from: &Node, to: &Node, name: &str) -> Duration {
    let started = Instant::now();
    from.add_member(&["--name", name]);
    to.wait_for_member(name);
    started.elapsed()
}

/// A steward node running `up`, an organiser device running `up` synced
/// with it, and a member device whose key the attacker holds (a stolen or
/// buggy laptop passes the handshake).
struct Group {
    steward: Node,
    running: Running,
    ticket: String,
    organiser: Node,
    _organiser_running: Running,
    organiser_ticket: String,
    member: Node,
}

fn group(name: &str) -> Group {
    let steward = Node::founded(name);
    let (running, ticket) = steward.up();
    let organiser = Node::join(&steward.invite("organiser"), "organiser laptop");
    let member = Node::join(&steward.invite("member"), "member laptop");
    let (organiser_running, organiser_ticket) = organiser.up();
    Group {
        steward,
        running,
        ticket,
        organiser,
        _organiser_running: organiser_running,
        organiser_ticket,
        member,
    }
}

#[test]
fn hole_1_a_compressed_change_bomb_is_refused_within_a_memory_bound() {
    let g = group("Moorlands Climate Action");
    let key = device_key(&g.member);
    let gid = group_of(&g.steward);
    let meetups = DocId::derive(&gid, DocKind::Meetups);
    let before = g.running.peak_rss_kib();
    let meetups_heads = g.steward.heads("meetups");
    // 510 KiB on the wire; it inflates to 512 MiB.
    let bomb = deflate_bomb(512);
    let wire = bomb.len();
    let msg = Message::Sync {
        doc: meetups,
        body: sync_message(vec![bomb], vec![]),
    };
    let (reason, took) = attack(&key, &g.ticket, gid, meetups, msg);
    let peak = g.running.peak_rss_kib();
    println!(
        "compressed bomb: {} KiB on the wire (inflates to 512 MiB); node peak memory {} MiB \
         (before {} MiB); refused in {} ms: {reason}",
        wire / 1024,
        peak / 1024,
        before / 1024,
        took.as_millis()
    );
    assert!(reason.contains("inflate"), "{reason}");
    assert!(
        peak < 256 * 1024,
        "the node's memory reached {} MiB",
        peak / 1024
    );
    assert_eq!(g.steward.heads("meetups"), meetups_heads, "nothing stored");
    let latency = edit_latency(&g.steward, &g.organiser, "After The Bomb");
    println!("honest edit after the bomb: {} ms", latency.as_millis());
}

#[test]
fn hole_1_a_run_length_bomb_is_refused_without_walking_it() {
    let g = group("Sneinton Alchemy");
    let key = device_key(&g.member);
    let gid = group_of(&g.steward);
    let meetups = DocId::derive(&gid, DocKind::Meetups);
    let msg = Message::Sync {
        doc: meetups,
        body: sync_message(vec![run_length_bomb()], vec![]),
    };
    let (reason, took) = attack(&key, &g.ticket, gid, meetups, msg);
    println!(
        "run-length bomb (65 bytes claiming 10^12 operations): refused in {} ms: {reason}",
        took.as_millis()
    );
    assert!(reason.contains("operations"), "{reason}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let latency = edit_latency(&g.steward, &g.organiser, "After The Runs");
    println!(
        "honest edit after the run-length bomb: {} ms",
        latency.as_millis()
    );
}

#[test]
fn hole_3_an_unsigned_orphan_claiming_the_stewards_next_change_is_refused_and_kept_nowhere() {
    let g = group("Grapevine");
    let key = device_key(&g.member);
    let gid = group_of(&g.steward);
    let steward: DeviceId = g.steward.device_id().parse().expect("device id");
    let roster = DocId::derive(&gid, DocKind::Meetups);
    // A change claiming to be the steward's next one, depending on a change
    // nobody has (so Automerge would have queued it unverified).
    let (bytes, hash) = claiming(&steward, 2, automerge::ChangeHash([0xab; 32]));
    println!("claimed change: {} bytes", bytes.len());
    let heads_before = g.organiser.heads("meetups");
    for signatures in [vec![], vec![(hash, [7u8; 64])]] {
        let msg = Message::Sync {
            doc: roster,
            body: sync_message(vec![bytes.clone()], signatures),
        };
        let (reason, took) = attack(&key, &g.organiser_ticket, gid, roster, msg);
        println!(
            "orphan claiming the steward: refused in {} ms: {reason}",
            took.as_millis()
        );
        assert!(
            reason.contains("without a signature") || reason.contains("bad signature"),
            "{reason}"
        );
    }
    assert_eq!(g.organiser.heads("meetups"), heads_before);
    // The steward's real next changes still reach the organiser.
    let latency = edit_latency(&g.steward, &g.organiser, "After The Orphan");
    let meetup = g.steward.ok(&[
        "meetup",
        "add",
        "--date",
        "2019-03-07",
        "--place",
        "Leek library",
    ]);
    assert!(meetup.contains("added"), "{meetup}");
    eventually("the steward's meet-up on the organiser", SYNC_LIMIT, || {
        let list = g.organiser.ok(&["meetup", "list"]);
        if list.contains("Leek library") {
            Ok(())
        } else {
            Err(list)
        }
    });
    println!("honest edit after the orphan: {} ms", latency.as_millis());
}

/// Waits for `n`'s status to show what an equivocation leaves: `device`
/// named as having equivocated, and meet-ups stopped with a peer.
fn wait_forked(n: &Node, device: &str) -> serde_json::Value {
    eventually("the equivocation in status", SYNC_LIMIT, || {
        let s = n.status();
        let named = s["equivocations"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["device"] == device && e["kind"] == "meetups")
        });
        let stopped = s["documents"].as_array().is_some_and(|d| {
            d.iter().any(|d| {
                d["kind"] == "meetups" && d["stopped"].as_array().is_some_and(|s| !s.is_empty())
            })
        });
        if named || stopped {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    })
}

#[test]
fn hole_2_an_equivocating_device_forks_only_its_document_and_the_group_syncs_on() {
    // The steward and an organiser, and a member device that signs two
    // different meet-up changes with one sequence number: one version goes
    // to the steward while the organiser's laptop is shut, the other to the
    // organiser while the steward's is.
    let steward = Node::founded("Cancer Support Salisbury");
    let (mut running, ticket) = steward.up();
    let organiser = Node::join(&steward.invite("organiser"), "organiser laptop");
    let member = Node::join(&steward.invite("member"), "member laptop");
    let key = device_key(&member);
    let gid = group_of(&steward);
    let meetups = DocId::derive(&gid, DocKind::Meetups);
    let versions = [
        ("Salisbury library", "steward"),
        ("Wilton hall", "organiser"),
    ]
    .map(|(place, _)| groundwork_tests::attacks::change(&key, &meetups, 1, "place", place, false));
    let send = |ticket: &str, (bytes, sig): &(Vec<u8>, (automerge::ChangeHash, [u8; 64]))| {
        rt().block_on(async {
            let mut link = Link::open(&key, ticket).await;
            let mut session = Session::new(gid, [meetups].into(), Default::default());
            let mut docs = Default::default();
            for m in session
                .start(&mut docs, &common::Attacker::default())
                .expect("hello")
            {
                link.send(&m).await;
            }
            link.send(&Message::Sync {
                doc: meetups,
                body: sync_message(vec![bytes.clone()], vec![*sig]),
            })
            .await;
            // The node answers a sync message with its own for the document.
            let answered = link
                .until(
                    |m| matches!(m, Message::Sync { doc, .. } if *doc == meetups),
                    SYNC_LIMIT,
                )
                .await;
            assert!(answered.is_some(), "the node did not take the change");
            link.close().await;
        });
    };
    // The organiser's laptop learns of the member device, then shuts.
    let member_id = member.device_id();
    let (mut organiser_running, _) = organiser.up();
    eventually("the member device on the organiser", SYNC_LIMIT, || {
        let d = organiser.ok(&["device", "list"]);
        if d.contains(&member_id[..10]) {
            Ok(())
        } else {
            Err(d)
        }
    });
    assert_eq!(organiser_running.stop("TERM"), 0);
    let meetups_before = steward.heads("meetups");
    send(&ticket, &versions[0]);
    eventually("the first version on the steward", SYNC_LIMIT, || {
        let h = steward.heads("meetups");
        if h > meetups_before {
            Ok(())
        } else {
            Err(h.to_string())
        }
    });
    assert_eq!(running.stop("TERM"), 0);
    let (organiser_running, organiser_ticket) = organiser.up();
    send(&organiser_ticket, &versions[1]);
    eventually("the second version on the organiser", SYNC_LIMIT, || {
        let h = organiser.heads("meetups");
        if h > meetups_before {
            Ok(())
        } else {
            Err(h.to_string())
        }
    });
    // The two laptops meet again.
    let (_running, steward_ticket) = steward.up();
    let met = Instant::now();
    let s = wait_forked(&steward, &member_id);
    let o = wait_forked(&organiser, &member_id);
    println!(
        "equivocation found {} ms after the laptops met",
        met.elapsed().as_millis()
    );
    for (who, s) in [("steward", &s), ("organiser", &o)] {
        println!("{who}: {}", s["equivocations"]);
    }
    // Every other document goes on syncing, both ways, within seconds.
    let latency = edit_latency(&steward, &organiser, "Added After The Fork");
    let started = Instant::now();
    organiser.ok(&[
        "plan",
        "vision",
        "--text",
        "A Salisbury where no one faces cancer alone.",
    ]);
    eventually("the organiser's plan on the steward", SYNC_LIMIT, || {
        let p = steward.ok(&["plan", "show"]);
        if p.contains("no one faces cancer alone") {
            Ok(())
        } else {
            Err(p)
        }
    });
    println!(
        "after the fork: roster edit steward -> organiser {} ms, plan edit organiser -> steward {} ms",
        latency.as_millis(),
        started.elapsed().as_millis()
    );
    // Meet-ups stays forked between them, and status says why and who.
    let s = wait_forked(&steward, &member_id);
    let stopped = s["documents"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["kind"] == "meetups"))
        .map(|d| d["stopped"].clone())
        .expect("meetups");
    assert!(
        stopped.to_string().contains("two different changes"),
        "{stopped}"
    );
    let text = steward.ok(&["status"]);
    assert!(
        text.contains(&format!("device {}", &member_id[..10])) && text.contains("revoke"),
        "{text}"
    );

    // The equivocating device itself offers its other version to the
    // steward: that document stops at once and the session with it ends.
    let (reason, took) = attack(
        &key,
        &steward_ticket,
        gid,
        meetups,
        Message::Sync {
            doc: meetups,
            body: sync_message(vec![versions[1].0.clone()], vec![versions[1].1]),
        },
    );
    assert!(reason.contains("two different changes"), "{reason}");
    eventually("the steward ended the session with it", SYNC_LIMIT, || {
        let peers = steward.json(&["peer", "list"]);
        let ended = peers.as_array().is_some_and(|p| {
            p.iter().any(|p| {
                p["device"] == member_id.as_str()
                    && p["connected"] == false
                    && p["last_error"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("the peer device"))
            })
        });
        if ended {
            Ok(())
        } else {
            Err(peers.to_string())
        }
    });
    println!(
        "the equivocator's own session: refused in {} ms",
        took.as_millis()
    );

    // A steward heals the fork with a new epoch of meet-ups: one history.
    let healed_at = Instant::now();
    let out = steward.ok(&["epoch", "start", "meetups"]);
    assert!(out.contains("started meetups epoch 1"), "{out}");
    assert!(out.contains("have switched so far"), "{out}");
    let meetups_of = |n: &Node| -> serde_json::Value {
        let s = n.status();
        s["documents"]
            .as_array()
            .and_then(|d| {
                d.iter()
                    .find(|d| d["kind"] == "meetups" && d["group"] == s["group"])
                    .cloned()
            })
            .unwrap_or_default()
    };
    eventually(
        "one history of meet-ups on both laptops",
        SYNC_LIMIT,
        || {
            let (a, b) = (meetups_of(&steward), meetups_of(&organiser));
            let one = a["epoch"] == 1
                && b["epoch"] == 1
                && a["fingerprint"] == b["fingerprint"]
                && a["stopped"].is_null()
                && b["stopped"].is_null();
            if one {
                Ok(())
            } else {
                Err(format!("steward {a}, organiser {b}"))
            }
        },
    );
    println!(
        "healed by an epoch in {} ms",
        healed_at.elapsed().as_millis()
    );
    let s = steward.status();
    assert!(
        s["equivocations"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["healed"] == true) && !e.is_empty()),
        "{}",
        s["equivocations"]
    );
    let text = steward.ok(&["status"]);
    assert!(text.contains("moved to a later epoch"), "{text}");
    // Meet-ups sync again, both ways.
    organiser.ok(&[
        "meetup",
        "add",
        "--date",
        "2019-04-01",
        "--place",
        "Amesbury hall",
    ]);
    eventually("the organiser's meet-up on the steward", SYNC_LIMIT, || {
        let list = steward.ok(&["meetup", "list"]);
        if list.contains("Amesbury hall") {
            Ok(())
        } else {
            Err(list)
        }
    });
    drop(organiser_running);
}

#[test]
fn hole_4_strangers_cannot_link_and_what_they_send_is_kept_nowhere() {
    // A node, a group linked with it by consent, and 200 made-up groups
    // asking to link with the node's plain ticket (printed by `up`,
    // inside invites, announced on the LAN).
    let a = Node::founded("Marsh Farm Outreach");
    let (running, ticket) = a.up();
    let b = Node::founded("ACORN Newcastle");
    let (_rb, _) = b.up();
    b.ok(&["peer", "add", &a.link_ticket()]);
    let docs_before = a.status()["documents"].as_array().map_or(0, Vec::len);
    let started = Instant::now();
    let answers = rt().block_on(async {
        let mut answers = Vec::new();
        for i in 0..200u32 {
            let seed = [&i.to_be_bytes()[..], &[0xaa; 28]].concat();
            let group = SecretKey::from_seed(&seed.clone().try_into().expect("32"));
            let device = SecretKey::from_seed(
                &[&i.to_be_bytes()[..], &[0xbb; 28]]
                    .concat()
                    .try_into()
                    .expect("32"),
            );
            let card = common::made_up_card(&group, &format!("Fake Group {i}"), &device);
            answers.push(common::ask_to_link(&device, &card, &ticket).await);
        }
        answers
    });
    let took = started.elapsed();
    let pending = answers
        .iter()
        .filter(|a| matches!(a, Ok(groundwork_protocol::link::LinkMessage::Pending(_))))
        .count();
    let refused: Vec<String> = answers
        .iter()
        .filter_map(|a| a.as_ref().err().map(|e| format!("{e:#}")))
        .collect();
    println!(
        "200 strangers asking to link: {} ms; {pending} waiting for the steward, {} refused \
         ({}); node peak memory {} MiB",
        took.as_millis(),
        refused.len(),
        refused.first().cloned().unwrap_or_default(),
        running.peak_rss_kib() / 1024
    );
    assert_eq!(pending, groundwork_protocol::trust::link::MAX_PENDING);
    assert_eq!(refused.len(), 200 - pending);
    assert!(
        refused
            .iter()
            .all(|r| r.contains("waiting for this group's steward"))
    );
    // None is a peer, none is dialed, no document is held for any.
    let peers = a.json(&["peer", "list"]);
    assert_eq!(peers.as_array().map(Vec::len), Some(1), "only B: {peers}");
    assert_eq!(
        a.status()["documents"].as_array().map_or(0, Vec::len),
        docs_before
    );
    // Their cards reached nobody: not B, linked with A.
    let d = b.json(&["network"]);
    assert!(
        d.as_array().is_some_and(|d| d
            .iter()
            .all(|e| !e["name"].as_str().unwrap_or("").starts_with("Fake"))),
        "{d}"
    );
    // A stranger cannot open a sync session at all (so the bombs above
    // need a device the group admitted).
    let stranger = SecretKey::from_seed(&[0xcc; 32]);
    let refused = rt().block_on(async {
        let ep = groundwork_node::net::bind(&stranger, &common::offline(), None)
            .await
            .expect("bind");
        let (to, addrs) = groundwork_node::net::parse_ticket(&ticket).expect("ticket");
        let conn =
            groundwork_node::net::connect(&ep, &to, &addrs, groundwork_node::net::SYNC_ALPN).await;
        // The node closes the connection right after the handshake, with
        // its reason; nothing it sends is read.
        let why = match conn {
            Err(e) => format!("{e:#}"),
            Ok(c) => c.closed().await.to_string(),
        };
        ep.close().await;
        why
    });
    assert!(refused.contains("unknown device"), "{refused}");
    // B, linked by consent, still syncs with A.
    let ga = a.status()["group"].as_str().expect("group").to_owned();
    let before = plan_bytes(&b, &ga);
    a.ok(&["plan", "vision", "--text", "Every street a say"]);
    let started = Instant::now();
    eventually("A's plan edit on B", SYNC_LIMIT, || {
        let now = plan_bytes(&b, &ga);
        if now != before {
            Ok(())
        } else {
            Err(format!("{now:?}"))
        }
    });
    println!(
        "honest linked edit after the strangers: {} ms",
        started.elapsed().as_millis()
    );
}

/// The bytes `n` holds of `group`'s plan, from `status`.
fn plan_bytes(n: &Node, group: &str) -> Option<u64> {
    n.status()["documents"].as_array().and_then(|d| {
        d.iter()
            .find(|d| d["group"] == group && d["kind"] == "plan")
            .and_then(|d| d["bytes"].as_u64())
    })
}

#[test]
fn hole_5_another_national_node_cannot_replace_a_groups_affiliation() {
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    let group = Node::founded("Community Roots CIC");
    let (_rg, _) = group.up();
    national.ok(&["affiliate", &group.link_ticket()]);
    let network = group.status()["affiliation"]["network"].clone();
    assert!(network.is_string());
    // A second "national" body, which the group's steward even agreed to
    // link with, tries to take the group into its own network.
    let rival = Node::new();
    rival.ok(&["national", "init", "--name", "Rival Organisers"]);
    let (_rr, _) = rival.up();
    let line = rival.fails(1, &["affiliate", &group.link_ticket()]);
    assert!(
        line.contains("refused the affiliation") && line.contains("another network"),
        "{line}"
    );
    assert_eq!(group.status()["affiliation"]["network"], network);
    let n = rival.status()["group"].clone();
    // Nor does it arrive by any other road: the group's directory still
    // calls it affiliated to its own network only.
    let d = group.json(&["network"]);
    let own = d
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|e| e["name"] == "Community Roots CIC")
                .cloned()
        })
        .expect("own entry");
    assert_eq!(own["affiliated"], true, "{own}");
    assert_ne!(network, n);
}

#[test]
fn hole_6_a_hostile_group_name_reaches_no_terminal_raw() {
    let a = Node::founded("Starting Point");
    let (_ra, _) = a.up();
    // On input, the same name is refused, with one line naming the field.
    let evil = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}Group\u{202e}";
    let n = Node::new();
    let line = n.fails(2, &["init", "--name", evil]);
    assert!(line.contains("name holds a control character"), "{line}");
    let line = a.fails(2, &["member", "add", "--name", "Ada\u{202e}ibO"]);
    assert!(line.contains("bidirectional"), "{line}");
    assert!(
        a.json(&["member", "list"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // A peer's card carries it all the same. The national body affiliates
    // a group whose card bears the name (its node speaks the protocol
    // itself), and A, affiliated too but never linked with it, learns the
    // name from the network's directory.
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    national.ok(&["affiliate", &a.link_ticket()]);
    let group = SecretKey::from_seed(&[0xe1; 32]);
    let device = SecretKey::from_seed(&[0xe2; 32]);
    let card = common::made_up_card(&group, evil, &device);
    let answer = rt().block_on(common::ask_to_link(&device, &card, &national.link_ticket()));
    assert!(
        matches!(
            answer,
            Ok(groundwork_protocol::link::LinkMessage::Accepted(_))
        ),
        "{answer:?}"
    );
    eventually("the hostile name in A's directory", SYNC_LIMIT, || {
        let d = a.json(&["network"]);
        d.as_array()
            .is_some_and(|d| d.iter().any(|e| e["name"] == evil))
            .then_some(())
            .ok_or_else(|| d.to_string())
    });
    let forbidden =
        |c: char| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c);
    for (node, args) in [
        (&a, vec!["network"]),
        (&a, vec!["network", "--json"]),
        (&a, vec!["report"]),
        (&a, vec!["report", "--json"]),
        (&a, vec!["peer", "list"]),
        (&a, vec!["status"]),
        (&national, vec!["network"]),
        (&national, vec!["report"]),
        (&national, vec!["report", "--json"]),
        (&national, vec!["peer", "list"]),
        (&national, vec!["peer", "list", "--json"]),
    ] {
        let r = node.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let bad: Vec<char> = r.stdout.chars().filter(|c| forbidden(*c)).collect();
        assert!(bad.is_empty(), "{args:?} printed {bad:?}");
        if args == ["network"] {
            // The positive control: the name is there, its escapes visible,
            // exactly this line.
            let line = r
                .stdout
                .lines()
                .find(|l| l.contains("Evil"))
                .unwrap_or_else(|| panic!("{args:?}: no hostile group in\n{}", r.stdout));
            assert!(
                line.starts_with("Evil␛[2J␛]0;pwned␇Group\u{FFFD} "),
                "{line:?}"
            );
        }
        if args == ["network", "--json"] {
            let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
            assert!(
                v.as_array()
                    .is_some_and(|d| d.iter().any(|e| e["name"] == evil)),
                "the JSON keeps the name exactly, escaped: {v}"
            );
            assert!(
                r.stdout
                    .contains(r"Evil\u001b[2J\u001b]0;pwned\u0007Group\u202e"),
                "{}",
                r.stdout
            );
        }
    }
}

#[test]
fn hole_7_a_field_of_60_mib_is_refused_with_one_line_and_nothing_changes() {
    let a = Node::founded("Community Roots CIC");
    let (_ra, _) = a.up();
    let dir = DataDir::new(a.path());
    let mut client = groundwork_node::control::connect(&dir)
        .expect("reach the node")
        .expect("a node runs");
    let huge = "x".repeat(60 << 20);
    let started = Instant::now();
    let r = client
        .request(groundwork_protocol::control::Request::MemberAdd {
            input: groundwork_protocol::control::MemberInput {
                name: Some(huge),
                ..Default::default()
            },
        })
        .expect("an answer");
    let groundwork_protocol::control::Response::Error {
        code: groundwork_protocol::control::ErrorCode::Usage,
        message,
    } = r
    else {
        panic!("accepted, or not refused as a usage error: {r:?}")
    };
    println!(
        "60 MiB member name: refused in {} ms: {message}",
        started.elapsed().as_millis()
    );
    assert_eq!(
        message,
        "name is 62914560 characters long; at most 200 are allowed"
    );
    assert!(
        a.json(&["member", "list"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // The command line says the same in one line.
    let long = "y".repeat(201);
    let line = a.fails(2, &["member", "add", "--name", &long]);
    assert!(line.contains("at most 200"), "{line}");
}

#[test]
fn hole_7_a_trickling_or_silent_stream_is_cut_off_and_honest_edits_flow() {
    let g = group("Wharton Trust");
    let key = device_key(&g.member);
    let gid = group_of(&g.steward);
    let ticket = g.ticket.clone();
    let trickle = std::thread::spawn(move || {
        rt().block_on(async {
            let mut link = Link::open(&key, &ticket).await;
            let mut session = Session::new(gid, Default::default(), Default::default());
            let mut docs = Default::default();
            for m in session
                .start(&mut docs, &common::Attacker::default())
                .expect("hello")
            {
                link.send(&m).await;
            }
            // A frame announcing 1 KiB, then a byte every half second.
            link.write(&[0, 0, 4, 0, 3]).await;
            let started = Instant::now();
            let reason = loop {
                if let Some(r) = link.closed_within(Duration::from_millis(500)).await {
                    break r;
                }
                link.write(&[0]).await;
                assert!(started.elapsed() < Duration::from_secs(60), "never cut off");
            };
            (reason, started.elapsed())
        })
    });
    let key = device_key(&g.member);
    let ticket = g.ticket.clone();
    let silent = std::thread::spawn(move || {
        rt().block_on(async {
            let mut link = Link::open(&key, &ticket).await;
            link.write(&[]).await;
            let started = Instant::now();
            let reason = link
                .closed_within(Duration::from_secs(60))
                .await
                .expect("closed");
            (reason, started.elapsed())
        })
    });
    // Meanwhile an honest edit goes through.
    let latency = edit_latency(&g.steward, &g.organiser, "During The Trickle");
    let (reason, took) = trickle.join().expect("trickle");
    println!(
        "trickling stream cut off after {} ms: {reason}; honest edit meanwhile {} ms",
        took.as_millis(),
        latency.as_millis()
    );
    assert!(reason.contains("too slowly"), "{reason}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    let (reason, took) = silent.join().expect("silent");
    println!(
        "silent stream cut off after {} ms: {reason}",
        took.as_millis()
    );
    assert!(reason.contains("said nothing"), "{reason}");
}

#[test]
fn hole_7_join_and_link_exchanges_are_capped_and_the_node_recovers() {
    let a = Node::founded("Barton Hill Settlement");
    let (_ra, ticket) = a.up();
    let results = rt().block_on(async {
        let (to, addrs) = groundwork_node::net::parse_ticket(&ticket).expect("ticket");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..24u8 {
            let addrs = addrs.clone();
            tasks.spawn(async move {
                let key = SecretKey::from_seed(&[0xd0 ^ i; 32]);
                let ep = groundwork_node::net::bind(&key, &common::offline(), None)
                    .await
                    .expect("bind");
                let conn = groundwork_node::net::connect(
                    &ep,
                    &to,
                    &addrs,
                    groundwork_node::net::LINK_ALPN,
                )
                .await
                .expect("connect");
                // Open a stream and say nothing: hold the slot.
                let _streams = conn.open_bi().await;
                let why = conn.closed().await.to_string();
                ep.close().await;
                why
            });
        }
        tasks.join_all().await
    });
    let busy = results
        .iter()
        .filter(|r| r.contains(groundwork_node::net::BUSY))
        .count();
    let timed_out = results.len() - busy;
    println!("24 stalled link exchanges: {busy} refused as busy, {timed_out} timed out");
    assert!(
        busy >= 24 - groundwork_node::net::MAX_EXCHANGES,
        "{results:?}"
    );
    // Once they are gone, a real link works.
    let b = Node::founded("English for Action");
    let (_rb, _) = b.up();
    let out = b.ok(&["peer", "add", &a.link_ticket()]);
    assert!(out.contains("linked with"), "{out}");
}
