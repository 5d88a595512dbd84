//! The faults lab: real nodes in network namespaces, on links that lose,
//! delay and split (tests/src/lab.rs, tests/src/impair.rs).
//!
//! Each scenario prints its figures (`LAB …` lines, on the terminal even
//! when it passes) and asserts what must hold. Without CAP_NET_ADMIN each
//! says `SKIPPED` and passes; `GROUNDWORK_LAB=require` makes that a failure.

use std::io::Write;
use std::time::{Duration, Instant};

use groundwork_protocol::invite::Invite;
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

/// Whether device `other` is connected, as `n`'s status says.
fn connected(n: &Node, other: &str) -> bool {
    n.status()["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["device"] == other))
        .is_some_and(|p| p["connected"] == true)
}

mod flapping;
mod hall;
mod mobile;
mod partition;
