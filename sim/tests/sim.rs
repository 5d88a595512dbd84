//! The simulation's own checks: a seed gives the same run, every
//! affiliated group's summary reaches the national node and an
//! unaffiliated one's is not counted, and the bytes add up.

use groundwork_sim::{Config, Outcome, run};

fn small(groups: usize, seed: u64) -> Config {
    let mut c = Config::new(groups, seed);
    // A short limit: a small network converges in a few simulated seconds.
    c.limit = 120_000_000_000;
    c
}

fn ran(c: Config) -> Outcome {
    run(c).expect("the sample network builds")
}

#[test]
fn the_same_seed_gives_the_same_figures_and_another_seed_others() {
    let a = ran(small(30, 7));
    let b = ran(small(30, 7));
    assert_eq!(a, b, "two runs of one seed differ");
    let c = ran(small(30, 8));
    assert_ne!(a.traffic, c.traffic, "another seed changed nothing");
}

#[test]
fn every_summary_reaches_the_national_node_and_every_group_the_directory() {
    let o = ran(small(30, 1));
    assert_eq!(o.reporting, 30, "groups counted by the national node");
    assert!(o.counted[1..].iter().all(|c| *c));
    let at = o.summaries_at.expect("all summaries arrived");
    assert!(at > 0 && at < 60_000_000_000, "took {at} ns");
    assert!(
        o.summaries_rounds.is_some_and(|r| r >= 4),
        "a summary needs a link, a session and a message"
    );
    assert!(o.directory_at.is_some(), "every group holds the directory");
    assert_eq!(o.full_directories(), 30);
}

#[test]
fn an_unaffiliated_groups_summary_is_not_counted() {
    // Group 5 (0-based) is linked with group 4 only: its summary reaches
    // the national node's neighbours but the national node does not know
    // the group, so it does not count it.
    let mut c = small(30, 1);
    c.unaffiliated.insert(5);
    let o = ran(c);
    assert_eq!(o.reporting, 29);
    assert!(!o.counted[6], "the unaffiliated group was counted");
    assert!(o.counted.iter().skip(1).filter(|c| **c).count() == 29);
    assert!(
        o.summaries_at.is_some(),
        "the 29 affiliated groups were all counted"
    );
}

#[test]
fn the_bytes_are_real_frames_and_add_up() {
    let o = ran(small(30, 3));
    let sent: u64 = o.traffic.iter().map(|t| t.sync_sent).sum();
    let received: u64 = o.traffic.iter().map(|t| t.sync_received).sum();
    assert_eq!(
        sent,
        received + o.dropped_bytes + o.in_flight_bytes,
        "sync bytes sent: read, dropped with their session, or on their way"
    );
    let gs: u64 = o.traffic.iter().map(|t| t.gossip_sent).sum();
    let gr: u64 = o.traffic.iter().map(|t| t.gossip_received).sum();
    assert_eq!(
        gs,
        gr + o.dropped_gossip_bytes + o.in_flight_gossip_bytes,
        "gossip bytes sent and read"
    );
    let ls: u64 = o.traffic.iter().map(|t| t.link_sent).sum();
    let lr: u64 = o.traffic.iter().map(|t| t.link_received).sum();
    assert_eq!(ls, lr);
    let frames: u64 = o.traffic.iter().map(|t| t.frames_received).sum();
    assert_eq!(frames, o.messages);
    assert!(o.in_flight_bytes < sent / 2, "most of the traffic was read");
    // Every frame has a 5-byte header and a kind; a session opens with a
    // 67-byte hello each way: the national node, with 30 sessions, sent
    // and read at least that.
    let national = o.traffic[0];
    assert!(national.sync_sent >= 30 * (5 + 67), "{national:?}");
    assert!(national.sync_received >= 30 * (5 + 67), "{national:?}");
    // The national node holds every group's card and records.
    assert!(o.national.cards > 30 * 100 && o.national.records > 60 * 100);
}

#[test]
fn on_a_lan_without_loss_every_summary_arrives_sooner() {
    // No loss, and latencies of a LAN: the run converges all the same,
    // faster.
    let mut c = small(20, 5);
    c.links.loss = 0.0;
    c.links.latency_ms = (1, 2);
    let o = ran(c);
    assert_eq!(o.reporting, 20);
    assert!(o.summaries_at.is_some_and(|t| t < 5_000_000_000));
}
