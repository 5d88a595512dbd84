//! A meeting hall: three laptops on one bridge and its poor Wi-Fi.

use std::time::{Duration, Instant};

use groundwork_tests::impair::{Impairment, Relay};
use groundwork_tests::lab::Lab;
use groundwork_tests::{Node, eventually};

use super::{LAB_LIMIT, SEED, connected, converged, figure};

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
        let n = Node::join_inside(&lab, host, &a.invite("organiser"), &format!("laptop {i}"));
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
    // The control: the traffic crossed the impaired Wi-Fi. A relay
    // carries the connections dialed towards its laptop: A's has both
    // joins; B's and C's share the one mDNS made between them.
    assert!(
        counts[0].datagrams > 50,
        "relay to laptop 0: {:?}",
        counts[0]
    );
    assert!(
        counts[1].datagrams + counts[2].datagrams > 10,
        "no B-C traffic crossed the Wi-Fi: {counts:?}"
    );
    assert!(
        sum(|c| c.lost) > 0 && sum(|c| c.delivered) > 100,
        "{counts:?}"
    );
}
