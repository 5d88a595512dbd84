//! A bad mobile link: a device and the national node each 300 ms, 10% loss
//! and 256 kbit/s from the group's node.

use std::time::Instant;

use groundwork_protocol::link::LinkTicket;
use groundwork_tests::impair::{Impairment, Relay};
use groundwork_tests::lab::Lab;
use groundwork_tests::{Node, eventually};

use super::{LAB_LIMIT, SEED, converged, figure, invite_via};

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

    let invite = invite_via(&a.invite("organiser"), relay.front());
    let t = Instant::now();
    let b = Node::join_inside(&lab, &phone, &invite, "phone");
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
