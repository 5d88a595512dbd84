//! A flapping link: down and up every few seconds, then an outage past
//! QUIC's idle timeout.

use std::time::{Duration, Instant};

use groundwork_tests::impair::{Impairment, Relay};
use groundwork_tests::lab::Lab;
use groundwork_tests::{Node, eventually};

use super::{LAB_LIMIT, SEED, connected, converged, figure, invite_via};

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
    let invite = invite_via(&a.invite("organiser"), relay.front());
    let b = Node::join_inside(&lab, &phone, &invite, "phone");
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
