//! The faults lab: real nodes in network namespaces, on links that lose,
//! delay and split (tests/src/lab.rs, tests/src/impair.rs).
//!
//! Each scenario prints its figures (`LAB …` lines, on the terminal even
//! when it passes) and asserts what must hold. Without CAP_NET_ADMIN each
//! says `SKIPPED` and passes; `GROUNDWORK_LAB=require` makes that a failure.

use std::io::Write;
use std::time::{Duration, Instant};

use groundwork_protocol::invite::Invite;
use groundwork_protocol::link::LinkTicket;
use groundwork_tests::impair::{Impairment, Relay};
use groundwork_tests::lab::Lab;
use groundwork_tests::{Node, eventually};

/// The lab's seed: the relays' decisions follow from it.
const SEED: u64 = 0x6c61_625f_3137;

/// How long a step may take on an impaired link.
const LAB_LIMIT: Duration = Duration::from_secs(120);

/// A figure for docs/benchmarks.md, on the terminal whether or not the
/// test passes.
fn figure(scenario: &str, what: &str) {
    let _ = writeln!(std::io::stderr(), "LAB {scenario}: {what}");
}

/// Waits until every node holds the same heads of every document.
fn converged(nodes: &[&Node], limit: Duration) -> Duration {
    let t = Instant::now();
    eventually("every device holding the same heads", limit, || {
        let all: Vec<_> = nodes
            .iter()
            .map(|n| n.fingerprints())
            .collect::<Result<_, _>>()?;
        if !all[0].is_empty() && all.iter().all(|f| *f == all[0]) {
            Ok(())
        } else {
            Err(format!("{all:?}"))
        }
    });
    t.elapsed()
}

/// An invite whose addresses are replaced by `addr` (the relay's front).
fn invite_via(invite: &str, addr: std::net::SocketAddr) -> String {
    let mut i = Invite::from_text(invite).expect("an invite the node made");
    i.addrs = vec![addr];
    i.to_text()
}

fn member<'a>(list: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    list.as_array()?.iter().find(|m| m["name"] == name)
}

/// Whether device `other` is connected, as `n`'s status says.
fn connected(n: &Node, other: &str) -> bool {
    n.status()["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["device"] == other))
        .is_some_and(|p| p["connected"] == true)
}

#[test]
fn partition_and_heal_keeps_every_edit_from_both_sides() {
    let Some(mut lab) = Lab::new("partition_and_heal") else {
        return;
    };
    let hosts = [lab.ns("a"), lab.ns("b"), lab.ns("c")];
    let sw = lab.switch(&[
        (&hosts[0], "10.7.0.1/24"),
        (&hosts[1], "10.7.0.2/24"),
        (&hosts[2], "10.7.0.3/24"),
    ]);
    let a = Node::founded("Partition Test Group");
    let shared = a.add_member(&["--name", "Shared Member", "--email", "shared@example.org"]);
    let other = a.add_member(&["--name", "Other Member", "--email", "other@example.org"]);
    let meetup = a.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-02",
        "--place",
        "Hall",
        "--quiet",
    ]);
    let meetup = meetup.trim().to_owned();
    a.ok(&["plan", "goal", "add", "Goal before the split"]);
    let (_ra, _) = a.up_inside(&lab, &hosts[0], "10.7.0.1:7000");
    let join = |host: &str, label: &str| {
        let n = Node::new();
        let r = n.run_inside(
            &lab,
            host,
            &[
                "--offline",
                "join",
                &a.invite("organiser"),
                "--label",
                label,
            ],
        );
        assert_eq!(r.code, 0, "join {label}: {}", r.stderr);
        n
    };
    let b = join(&hosts[1], "b");
    let (_rb, _) = b.up_inside(&lab, &hosts[1], "10.7.0.2:7000");
    let c = join(&hosts[2], "c");
    let (_rc, _) = c.up_inside(&lab, &hosts[2], "10.7.0.3:7000");
    converged(&[&a, &b, &c], LAB_LIMIT);

    // Split 2/1: C's port on the switch goes down.
    lab.set_link(&sw, "p2", false);
    let split = Instant::now();
    // Both sides edit: the same member, different members, a new member
    // each, the meet-up's notes, the plan.
    a.ok(&[
        "member",
        "edit",
        &shared,
        "--phone",
        "07700 900001",
        "--kind",
        "professional",
    ]);
    a.add_member(&["--name", "Left Side"]);
    b.ok(&["meetup", "note", &meetup, "--append", "Noted on the left"]);
    a.ok(&["plan", "goal", "add", "Left goal"]);
    c.ok(&[
        "member",
        "edit",
        &shared,
        "--email",
        "moved@example.org",
        "--kind",
        "observer",
    ]);
    c.ok(&[
        "member",
        "edit",
        &other,
        "--phone",
        "07700 900002",
        "--kind",
        "observer",
    ]);
    c.add_member(&["--name", "Right Side"]);
    c.ok(&["meetup", "note", &meetup, "--append", "Noted on the right"]);
    c.ok(&["plan", "action", "add", "--title", "Right action"]);
    // The left side still syncs within itself...
    b.wait_for_member("Left Side");
    b.ok(&["member", "edit", &shared, "--status", "lapsed"]);
    a.wait_for_member("Left Side");
    // ...and the split holds: A notices C has gone, and C has none of it.
    let c_id = c.device_id();
    eventually("A noticing C has gone", LAB_LIMIT, || {
        if connected(&a, &c_id) {
            Err("still connected".into())
        } else {
            Ok(())
        }
    });
    let noticed = split.elapsed();
    assert!(
        !c.member_names().iter().any(|n| n == "Left Side"),
        "the partition let an edit through"
    );

    lab.set_link(&sw, "p2", true);
    let healed = converged(&[&a, &b, &c], LAB_LIMIT);
    figure(
        "partition and heal",
        &format!(
            "A noticed the split after {:.1} s; after healing all three converged in {:.1} s",
            noticed.as_secs_f64(),
            healed.as_secs_f64()
        ),
    );

    // Every edit is kept as the CRDT rules say, on every device: edits to
    // different members all merge; a member edited on both sides keeps one
    // side's whole record (docs/schema.md, "Packed records"), the same one
    // everywhere.
    let mut shared_records = Vec::new();
    for n in [&a, &b, &c] {
        let list = n.json(&["member", "list"]);
        for name in ["Shared Member", "Other Member", "Left Side", "Right Side"] {
            assert!(member(&list, name).is_some(), "{name} missing: {list}");
        }
        let o = n.json(&["member", "show", &other]);
        assert_eq!(
            (&o["phone"], &o["kind"]),
            (&"07700 900002".into(), &"observer".into()),
            "{o}"
        );
        let m = n.json(&["member", "show", &shared]);
        let left = m["kind"] == "professional" && m["status"] == "lapsed";
        let right = m["kind"] == "observer" && m["status"] == "active";
        assert!(left || right, "one side's whole record: {m}");
        let left_contact = m["phone"] == "07700 900001" && m["email"] == "shared@example.org";
        let right_contact = m["phone"].is_null() && m["email"] == "moved@example.org";
        assert!(
            left_contact || right_contact,
            "one side's whole contact: {m}"
        );
        shared_records.push(m);
        let notes = n.json(&["meetup", "show", &meetup]);
        let text = notes.to_string();
        assert!(
            text.contains("Noted on the left") && text.contains("Noted on the right"),
            "both sides' notes: {text}"
        );
        let plan = n.json(&["plan", "show"]).to_string();
        for t in ["Goal before the split", "Left goal", "Right action"] {
            assert!(plan.contains(t), "{t} missing from the plan: {plan}");
        }
    }
    assert!(
        shared_records.iter().all(|m| *m == shared_records[0]),
        "the same record wins everywhere: {shared_records:?}"
    );
}

#[test]
fn a_bad_mobile_link_carries_a_first_sync_of_2000_members_and_live_edits() {
    const MEMBERS: usize = 2000;
    let Some(mut lab) = Lab::new("bad_mobile_link") else {
        return;
    };
    // The group's node in a hall, a device on mobile data, and between
    // them a router whose only way across is the impairment relay.
    let (hall, phone, router) = (lab.ns("hall"), lab.ns("mobile"), lab.ns("router"));
    let national_ns = lab.ns("national");
    lab.wire(
        &hall,
        "eth0",
        Some("10.8.1.2/24"),
        &router,
        "h0",
        Some("10.8.1.1/24"),
    );
    lab.wire(
        &phone,
        "eth0",
        Some("10.8.2.2/24"),
        &router,
        "m0",
        Some("10.8.2.1/24"),
    );
    let relay = Relay::start(
        Some(&router),
        "10.8.2.1:7000".parse().expect("addr"),
        "10.8.1.1".parse().expect("ip"),
        "10.8.1.2:7000".parse().expect("addr"),
        Impairment::MOBILE,
        SEED,
    )
    .expect("start the relay");

    let a = Node::founded("Mobile Link Group");
    let csv = a.path().join("roster.csv");
    groundwork_tests::write_roster_csv(&csv, 0x6d6f, MEMBERS, true);
    a.ok(&["member", "import", csv.to_str().expect("utf-8")]);
    let (_ra, _) = a.up_inside(&lab, &hall, "10.8.1.2:7000");

    let b = Node::new();
    let invite = invite_via(&a.invite("organiser"), relay.front());
    let t = Instant::now();
    let r = b.run_inside(
        &lab,
        &phone,
        &["--offline", "join", &invite, "--label", "phone"],
    );
    assert_eq!(r.code, 0, "join over the mobile link: {}", r.stderr);
    let joined = t.elapsed();
    let (_rb, _) = b.up_inside(&lab, &phone, "10.8.2.2:7000");
    let n = eventually("the whole roster on the phone", LAB_LIMIT, || {
        let n = b.member_names().len();
        if n == MEMBERS {
            Ok(n)
        } else {
            Err(format!("{n} of {MEMBERS}"))
        }
    });
    let first_sync = t.elapsed();
    let after_sync = relay.counts();

    // Live edits both ways.
    let t = Instant::now();
    a.add_member(&["--name", "Live Over Mobile"]);
    b.wait_for_member("Live Over Mobile");
    let to_phone = t.elapsed();
    let t = Instant::now();
    b.add_member(&["--name", "Written On The Bus"]);
    eventually("the phone's edit in the hall", LAB_LIMIT, || {
        if a.member_names().iter().any(|n| n == "Written On The Bus") {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    let to_hall = t.elapsed();
    converged(&[&a, &b], LAB_LIMIT);
    let c = relay.counts();

    // The national node on a mobile link of its own affiliates the group,
    // and the group's plan edits reach it.
    lab.wire(
        &national_ns,
        "eth0",
        Some("10.8.3.2/24"),
        &router,
        "n0",
        Some("10.8.3.1/24"),
    );
    let to_national = Relay::start(
        Some(&router),
        "10.8.3.1:7000".parse().expect("addr"),
        "10.8.1.1".parse().expect("ip"),
        "10.8.1.2:7000".parse().expect("addr"),
        Impairment::MOBILE,
        SEED + 1,
    )
    .expect("start the national relay");
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up_inside(&lab, &national_ns, "10.8.3.2:7000");
    let mut ticket = LinkTicket::from_text(&a.link_ticket()).expect("a link ticket");
    ticket.addrs = vec![to_national.front()];
    let t = Instant::now();
    let out = national.ok(&["affiliate", &ticket.to_text()]);
    assert!(out.contains("affiliated Mobile Link Group"), "{out}");
    let affiliated = t.elapsed();
    let group = a.status()["group"].as_str().expect("group id").to_owned();
    let plan_on = |n: &Node| -> Option<String> {
        n.status()["documents"].as_array().and_then(|d| {
            d.iter()
                .find(|d| d["group"] == group.as_str() && d["kind"] == "plan")
                .and_then(|d| d["fingerprint"].as_str().map(str::to_owned))
        })
    };
    let t = Instant::now();
    a.ok(&["plan", "goal", "add", "Twenty conversations by March"]);
    eventually("the plan edit on the national node", LAB_LIMIT, || {
        let (here, there) = (plan_on(&a), plan_on(&national));
        if here.is_some() && here == there {
            Ok(())
        } else {
            Err(format!("{here:?} / {there:?}"))
        }
    });
    let plan_edit = t.elapsed();
    let n_counts = to_national.counts();
    assert!(
        n_counts.lost > 0,
        "the national link's control: {n_counts:?}"
    );
    figure(
        "bad mobile link",
        &format!(
            "the national node affiliated in {:.1} s and had a plan edit {:.1} s after it was made \
             ({} KiB, {} of {} datagrams lost)",
            affiliated.as_secs_f64(),
            plan_edit.as_secs_f64(),
            n_counts.bytes / 1024,
            n_counts.lost,
            n_counts.datagrams,
        ),
    );
    figure(
        "bad mobile link",
        &format!(
            "join {:.1} s, first sync of {n} members {:.1} s ({} KiB across the relay, \
             {} of {} datagrams lost, {} queue drops); a live edit reached the phone in {:.1} s \
             and the hall in {:.1} s",
            joined.as_secs_f64(),
            first_sync.as_secs_f64(),
            after_sync.bytes / 1024,
            after_sync.lost,
            after_sync.datagrams,
            after_sync.queue_dropped,
            to_phone.as_secs_f64(),
            to_hall.as_secs_f64(),
        ),
    );
    // The control: the traffic really crossed the impaired link.
    assert!(c.lost > 0 && c.bytes > 100 * 1024, "{c:?}");
}

/// Bytes of sync frames a running node has sent.
fn frames_sent(n: &Node) -> u64 {
    n.status()["traffic"]["sent"].as_u64().unwrap_or(0)
}

/// Open file descriptors of a process (sockets among them).
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn a_flapping_link_leaks_no_session_or_memory_and_a_reconnect_sends_only_what_changed() {
    const MEMBERS: usize = 2000;
    let Some(mut lab) = Lab::new("flapping") else {
        return;
    };
    let (hall, phone, router) = (lab.ns("hall"), lab.ns("mobile"), lab.ns("router"));
    lab.wire(
        &hall,
        "eth0",
        Some("10.9.1.2/24"),
        &router,
        "h0",
        Some("10.9.1.1/24"),
    );
    lab.wire(
        &phone,
        "eth0",
        Some("10.9.2.2/24"),
        &router,
        "m0",
        Some("10.9.2.1/24"),
    );
    let relay = Relay::start(
        Some(&router),
        "10.9.2.1:7000".parse().expect("addr"),
        "10.9.1.1".parse().expect("ip"),
        "10.9.1.2:7000".parse().expect("addr"),
        Impairment {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            loss: 0.01,
            ..Impairment::NONE
        },
        SEED,
    )
    .expect("start the relay");
    let a = Node::founded("Flapping Link Group");
    let csv = a.path().join("roster.csv");
    groundwork_tests::write_roster_csv(&csv, 0x666c, MEMBERS, true);
    a.ok(&["member", "import", csv.to_str().expect("utf-8")]);
    let (ra, _) = a.up_inside(&lab, &hall, "10.9.1.2:7000");
    let b = Node::new();
    let invite = invite_via(&a.invite("organiser"), relay.front());
    let r = b.run_inside(
        &lab,
        &phone,
        &["--offline", "join", &invite, "--label", "phone"],
    );
    assert_eq!(r.code, 0, "join: {}", r.stderr);
    let (rb, _) = b.up_inside(&lab, &phone, "10.9.2.2:7000");
    converged(&[&a, &b], LAB_LIMIT);
    let first_sync = relay.counts().bytes;
    let first_frames = frames_sent(&a) + frames_sent(&b);
    let b_id = b.device_id();
    eventually("the phone's session", LAB_LIMIT, || {
        if connected(&a, &b_id) {
            Ok(())
        } else {
            Err("not connected".into())
        }
    });
    let (fds_a, fds_b) = (fds(ra.pid()), fds(rb.pid()));
    let rss = |r: &groundwork_tests::Running| {
        groundwork_tests::procfs::proc_sample(r.pid()).map_or(0, |s| s.rss_kib)
    };
    let (rss_a, rss_b) = (rss(&ra), rss(&rb));

    // The same edits on a steady link first: what they cost with no flaps.
    let before = relay.counts().bytes;
    for cycle in 0..10 {
        let (on_a, on_b) = (
            format!("Calm {cycle} In The Hall"),
            format!("Calm {cycle} On The Phone"),
        );
        a.add_member(&["--name", &on_a]);
        b.add_member(&["--name", &on_b]);
        b.wait_for_member(&on_a);
        a.wait_for_member(&on_b);
    }
    let calm = relay.counts().bytes - before;

    // A minute of flapping: 3 s down, 3 s up, an edit on each side in
    // every cycle (one while the link is down), each seen on the other
    // side before the next cycle.
    let before = relay.counts().bytes;
    let mut samples = Vec::new();
    let mut slowest = Duration::ZERO;
    for cycle in 0..10 {
        relay.set_up(false);
        let down = Instant::now();
        let on_a = format!("Flap {cycle} In The Hall");
        a.add_member(&["--name", &on_a]);
        // The outage lasts its 3 s whatever the edit took.
        while down.elapsed() < Duration::from_secs(3) {
            std::thread::park_timeout(Duration::from_secs(3).saturating_sub(down.elapsed()));
        }
        relay.set_up(true);
        let up = Instant::now();
        let on_b = format!("Flap {cycle} On The Phone");
        b.add_member(&["--name", &on_b]);
        b.wait_for_member(&on_a);
        a.wait_for_member(&on_b);
        slowest = slowest.max(up.elapsed());
        samples.push((rss(&ra), rss(&rb), fds(ra.pid()), fds(rb.pid())));
    }
    let flapping = relay.counts().bytes - before;

    // A long outage, past QUIC's idle timeout: the session ends, and the
    // reconnect brings only the edits made meanwhile.
    relay.set_up(false);
    let outage = Instant::now();
    a.add_member(&["--name", "Written During The Outage"]);
    eventually("the hall noticing the phone has gone", LAB_LIMIT, || {
        if connected(&a, &b_id) {
            Err("still connected".into())
        } else {
            Ok(())
        }
    });
    let before = relay.counts().bytes;
    let frames_before = frames_sent(&a) + frames_sent(&b);
    relay.set_up(true);
    let outage = outage.elapsed();
    let t = Instant::now();
    b.wait_for_member("Written During The Outage");
    converged(&[&a, &b], LAB_LIMIT);
    let reconnect = relay.counts().bytes - before;
    let reconnect_frames = frames_sent(&a) + frames_sent(&b) - frames_before;
    let reconnected = t.elapsed();
    let last = (rss(&ra), rss(&rb), fds(ra.pid()), fds(rb.pid()));

    figure(
        "flapping",
        &format!(
            "first sync {} KiB; 20 edits on a steady link {} KiB, the same during 10 cycles of \
             3 s down and 3 s up {} KiB, every edit across within {:.1} s of the link coming up; \
             a reconnect after {:.0} s down: {:.1} s, {} KiB ({} KiB of sync frames, against \
             {} KiB in the first sync); memory {}→{} KiB (hall) and \
             {}→{} KiB (phone); descriptors {}→{} and {}→{}",
            first_sync / 1024,
            calm / 1024,
            flapping / 1024,
            slowest.as_secs_f64(),
            outage.as_secs_f64(),
            reconnected.as_secs_f64(),
            reconnect / 1024,
            reconnect_frames / 1024,
            first_frames / 1024,
            rss_a,
            last.0,
            rss_b,
            last.1,
            fds_a,
            last.2,
            fds_b,
            last.3,
        ),
    );
    // Only what changed: flapping costs the edits' own bytes and the
    // resends of what a down link lost, not the roster again; a reconnect
    // carries a small part of what the first sync did.
    assert!(
        flapping < calm * 3,
        "{flapping} bytes flapping, {calm} steady"
    );
    assert!(
        flapping < first_sync / 2,
        "{flapping} bytes flapping, {first_sync} first"
    );
    assert!(
        reconnect < first_sync / 3,
        "{reconnect} bytes reconnecting, {first_sync} first"
    );
    assert!(
        reconnect_frames < first_frames / 10,
        "{reconnect_frames} bytes of frames reconnecting, {first_frames} first"
    );
    // No session or socket leaks: the descriptors end where they began
    // (give or take a connection being replaced), and memory stays flat.
    for (i, s) in samples.iter().chain([&last]).enumerate() {
        assert!(
            s.2 <= fds_a + 4 && s.3 <= fds_b + 4,
            "sample {i}: {s:?}, began {fds_a}/{fds_b}"
        );
        assert!(
            s.0 <= rss_a + rss_a / 4 + 8192 && s.1 <= rss_b + rss_b / 4 + 8192,
            "sample {i}: memory {s:?}, began {rss_a}/{rss_b} KiB"
        );
    }
    let peers = a.status()["peers"].as_array().map_or(0, Vec::len);
    assert_eq!(peers, 1, "one peer, once");
}

#[test]
fn a_meeting_hall_of_three_laptops_finds_joins_and_syncs_over_poor_wifi() {
    let Some(mut lab) = Lab::new("meeting_hall") else {
        return;
    };
    // Three laptops on one bridge with no route out. Their Groundwork
    // traffic to each other goes through the hall's "Wi-Fi" (a relay on
    // the switch, 5% loss, up to 50 ms of jitter, some duplication and
    // reordering), steered there by each laptop's own NAT rules; mDNS
    // crosses the bridge as it is.
    let hosts = [lab.ns("a"), lab.ns("b"), lab.ns("c")];
    let ips = ["10.6.0.1", "10.6.0.2", "10.6.0.3"];
    let sw = lab.switch(&[
        (&hosts[0], "10.6.0.1/24"),
        (&hosts[1], "10.6.0.2/24"),
        (&hosts[2], "10.6.0.3/24"),
    ]);
    lab.addr(&sw, "br0", "10.6.0.254/24");
    // No route out, but multicast (mDNS) has a way onto the bridge.
    for host in &hosts {
        groundwork_tests::lab::ip(&["-n", host, "route", "add", "224.0.0.0/4", "dev", "eth0"])
            .expect("a multicast route");
    }
    let relays: Vec<Relay> = ips
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            Relay::start(
                Some(&sw),
                format!("10.6.0.254:{}", 7001 + i).parse().expect("addr"),
                "10.6.0.254".parse().expect("ip"),
                format!("{ip}:7000").parse().expect("addr"),
                Impairment::HALL,
                SEED + i as u64,
            )
            .expect("start a relay")
        })
        .collect();
    for host in &hosts {
        let rules: String = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| {
                format!(
                    "    ip daddr {ip} udp dport 7000 dnat to 10.6.0.254:{}\n",
                    7001 + i
                )
            })
            .collect();
        let ruleset = format!(
            "table ip hall {{\n  chain out {{\n    type nat hook output priority -100;\n{rules}  }}\n}}\n"
        );
        if let Err(e) = lab.nft(host, &ruleset) {
            assert!(
                std::env::var("GROUNDWORK_LAB").as_deref() != Ok("require"),
                "GROUNDWORK_LAB=require, but {e}"
            );
            groundwork_tests::lab::say_skipped(
                "meeting_hall",
                &format!("needs nftables NAT ({e})"),
            );
            return;
        }
    }

    // Where the kernel has netem, the bridge's ports add their own delay
    // and loss too (this lab's machines have none: the relays stand in).
    let netem = (0..3).all(|i| lab.has_netem(&sw, &format!("p{i}")));
    if netem {
        for i in 0..3 {
            let port = format!("p{i}");
            let status = std::process::Command::new("ip")
                .args([
                    "netns", "exec", &sw, "tc", "qdisc", "add", "dev", &port, "root",
                ])
                .args(["netem", "delay", "5ms", "2ms", "loss", "1%"])
                .status()
                .expect("run tc");
            assert!(status.success(), "netem on {port}");
        }
    }

    let a = Node::founded("Meeting Hall Group");
    let (_ra, _) = a.up_inside(&lab, &hosts[0], "10.6.0.1:7000");
    let t = Instant::now();
    let mut nodes = Vec::new();
    let mut running = Vec::new();
    for (i, host) in hosts.iter().enumerate().skip(1) {
        let n = Node::new();
        let label = format!("laptop {i}");
        let r = n.run_inside(
            &lab,
            host,
            &[
                "--offline",
                "join",
                &a.invite("organiser"),
                "--label",
                &label,
            ],
        );
        assert_eq!(r.code, 0, "join {label}: {}", r.stderr);
        running.push(n.up_inside(&lab, host, &format!("{}:7000", ips[i])).0);
        nodes.push(n);
    }
    let (b, c) = (&nodes[0], &nodes[1]);
    let joined = t.elapsed();
    // B and C were given only A's address: they find each other by mDNS.
    let (b_id, c_id) = (b.device_id(), c.device_id());
    eventually("B and C finding each other on the LAN", LAB_LIMIT, || {
        if connected(b, &c_id) && connected(c, &b_id) {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    let found = t.elapsed();

    // Live edits from each laptop reach the other two.
    let mut slowest = Duration::ZERO;
    for (i, n) in [&a, b, c].into_iter().enumerate() {
        let name = format!("Signed In On Laptop {i}");
        let t = Instant::now();
        n.add_member(&["--name", &name]);
        for other in [&a, b, c] {
            other.wait_for_member(&name);
        }
        slowest = slowest.max(t.elapsed());
    }
    c.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-30",
        "--place",
        "Church Hall",
        "--agenda",
        "Listening",
    ]);
    eventually("C's meet-up on A", LAB_LIMIT, || {
        let out = a.ok(&["meetup", "list"]);
        if out.contains("Church Hall") {
            Ok(())
        } else {
            Err(out)
        }
    });
    converged(&[&a, b, c], LAB_LIMIT);
    let counts: Vec<_> = relays.iter().map(Relay::counts).collect();
    let sum = |f: fn(&groundwork_tests::impair::Counts) -> u64| counts.iter().map(f).sum::<u64>();
    figure(
        "meeting hall",
        &format!(
            "two joins and first syncs {:.1} s, B and C found each other by mDNS at {:.1} s; \
             a live edit reached both other laptops within {:.1} s; the Wi-Fi carried {} \
             datagrams ({} KiB), lost {}, doubled {}, held back {}; netem {}",
            joined.as_secs_f64(),
            found.as_secs_f64(),
            slowest.as_secs_f64(),
            sum(|c| c.datagrams),
            sum(|c| c.bytes) / 1024,
            sum(|c| c.lost),
            sum(|c| c.duplicated),
            sum(|c| c.reordered),
            if netem {
                "on the ports too"
            } else {
                "not in this kernel"
            },
        ),
    );
    // The control: every laptop's traffic crossed the impaired Wi-Fi.
    for (i, c) in counts.iter().enumerate() {
        assert!(c.datagrams > 50 && c.lost > 0, "relay to laptop {i}: {c:?}");
    }
}
