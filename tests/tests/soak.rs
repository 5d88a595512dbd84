//! The soak: ten devices of one group on loopback making random edits,
//! restarting (some with kill -9), and a device revoked and replaced by a
//! new one now and then, for 30 minutes from a seed. Every minute the edits
//! pause, and it checks that every device converges to the same heads,
//! holds every acknowledged edit, and how much memory each uses; at the end
//! it prints a summary.
//!
//! Not part of the normal suite (it is ignored); run it with
//! `scripts/soak.sh` (`GW_SOAK_MINUTES`, `GW_SOAK_SEED`,
//! `GW_SOAK_REVOKE_EVERY` minutes).

use std::io::Write;
use std::time::{Duration, Instant};

use groundwork_tests::{Node, Running, eventually, procfs};
use rand::{Rng, SeedableRng, rngs::StdRng};

const DEVICES: usize = 10;
const CONVERGE_LIMIT: Duration = Duration::from_secs(180);

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "SOAK {line}");
}

struct Device {
    node: Node,
    running: Option<Running>,
    port: u16,
}

impl Device {
    fn start(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let (r, _) = self.node.up_with(&["--offline", "up", "--listen", &listen]);
        self.running = Some(r);
    }

    fn rss_kib(&self) -> u64 {
        self.running
            .as_ref()
            .and_then(|r| procfs::proc_sample(r.pid()).ok())
            .map_or(0, |s| s.rss_kib)
    }
}

#[test]
#[ignore = "a 30-minute soak: scripts/soak.sh"]
fn soak() {
    let minutes: u64 = std::env::var("GW_SOAK_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("GW_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(17);
    let revoke_every: u64 = std::env::var("GW_SOAK_REVOKE_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let base_port = 42_000 + (std::process::id() % 1000) as u16 * 16;
    let founder = Node::founded("Soak Test Group");
    let mut devices = vec![Device {
        node: founder,
        running: None,
        port: base_port,
    }];
    devices[0].start();
    let mut joins = 0;
    let join = |devices: &Vec<Device>, slot: usize, joins: &mut usize| -> Device {
        *joins += 1;
        let invite = devices[0].node.invite("organiser");
        let mut d = Device {
            node: Node::join(&invite, &format!("device {slot}.{joins}")),
            running: None,
            port: base_port + slot as u16,
        };
        d.start();
        d
    };
    for slot in 1..DEVICES {
        let d = join(&devices, slot, &mut joins);
        devices.push(d);
    }

    let mut acked: Vec<String> = Vec::new();
    let (mut edits, mut restarts, mut kills, mut revocations) = (0u64, 0u64, 0u64, 0u64);
    let mut converge_times = Vec::new();
    let mut rss_first = 0u64;
    let mut rss_max = 0u64;
    let started = Instant::now();
    for minute in 1..=minutes {
        let until = started + Duration::from_secs(60 * minute);
        while Instant::now() < until {
            let slot = rng.random_range(0..DEVICES);
            let roll = rng.random_range(0..100);
            match roll {
                // An edit on a running device: a member, a meet-up or a goal.
                0..80 => {
                    let d = &devices[slot];
                    if d.running.is_none() {
                        continue;
                    }
                    edits += 1;
                    match rng.random_range(0..3) {
                        0 => {
                            let name = format!("Soak Member {edits}");
                            d.node.add_member(&["--name", &name]);
                            acked.push(name);
                        }
                        1 => {
                            d.node.ok(&[
                                "meetup",
                                "add",
                                "--date",
                                "2026-11-30",
                                "--place",
                                &format!("Soak Hall {edits}"),
                            ]);
                        }
                        _ => {
                            d.node
                                .ok(&["plan", "goal", "add", &format!("Soak goal {edits}")]);
                        }
                    }
                }
                // A clean restart.
                80..90 => {
                    if let Some(mut r) = devices[slot].running.take() {
                        assert_eq!(r.stop("TERM"), 0, "device {slot} stopped badly");
                    }
                    devices[slot].start();
                    restarts += 1;
                }
                // kill -9, and back.
                _ => {
                    drop(devices[slot].running.take());
                    devices[slot].start();
                    kills += 1;
                }
            }
        }

        // The checkpoint: every device converges and holds every
        // acknowledged member.
        let t = Instant::now();
        eventually(
            &format!("minute {minute}: convergence"),
            CONVERGE_LIMIT,
            || {
                let all: Vec<_> = devices
                    .iter()
                    .map(|d| d.node.fingerprints())
                    .collect::<Result<_, _>>()?;
                if all.iter().all(|f| *f == all[0] && !f.is_empty()) {
                    Ok(())
                } else {
                    Err(format!("{all:?}"))
                }
            },
        );
        let took = t.elapsed();
        converge_times.push(took);
        for (i, d) in devices.iter().enumerate() {
            let names = d.node.member_names();
            let missing = acked.iter().filter(|a| !names.contains(a)).count();
            assert_eq!(
                missing, 0,
                "minute {minute}: device {i} lacks {missing} acknowledged members"
            );
        }
        let rss: Vec<u64> = devices.iter().map(Device::rss_kib).collect();
        let (sum, max) = (
            rss.iter().sum::<u64>(),
            rss.iter().copied().max().unwrap_or(0),
        );
        if minute == 1 {
            rss_first = max;
        }
        rss_max = rss_max.max(max);
        say(&format!(
            "minute {minute}: {edits} edits, {restarts} restarts, {kills} kill -9, \
             {revocations} revocations; converged in {:.1} s; memory {} MiB in all, the most \
             {} MiB",
            took.as_secs_f64(),
            sum / 1024,
            max / 1024
        ));

        // Every fifth minute (by default) a device is revoked (stopped first, after the
        // checkpoint, so nothing of it is unsynced) and a new one joins in
        // its place.
        if minute % revoke_every == 0 {
            let slot = rng.random_range(1..DEVICES);
            let id = devices[slot].node.device_id();
            if let Some(mut r) = devices[slot].running.take() {
                assert_eq!(r.stop("TERM"), 0);
            }
            let out = devices[0].node.ok(&["device", "revoke", &id[..12]]);
            assert!(out.contains("revoked device"), "{out}");
            revocations += 1;
            devices[slot] = join(&devices, slot, &mut joins);
        }
    }
    let slowest = converge_times.iter().max().copied().unwrap_or_default();
    say(&format!(
        "summary: seed {seed}, {minutes} min, {DEVICES} devices: {edits} edits ({} members), \
         {restarts} restarts, {kills} kill -9, {revocations} revocations and {joins} joins; \
         every minute converged (slowest {:.1} s) with every acknowledged member; the largest \
         device {} MiB after minute 1, {} MiB at most",
        acked.len(),
        slowest.as_secs_f64(),
        rss_first / 1024,
        rss_max / 1024,
    ));
}
