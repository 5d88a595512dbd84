//! Network benchmark: the network issue's scale measurements.
//!
//! Run with `scripts/bench-network.sh`, or after
//! `cargo build --release -p groundwork-node`:
//!
//! ```text
//! cargo bench -p groundwork-tests --bench network
//! ```
//!
//! A plain program (`harness = false`). The national node is the release
//! binary's `groundwork up`, in its own process, so its resident memory can
//! be read from /proc. The sample groups (200 by default, from the demo's
//! seeded generator) are real nodes in this process, on loopback with relays
//! off. Every group is affiliated (so linked with the national node: the
//! national node lists only the groups it affiliated), and every other group
//! also links with its neighbouring group. Each link is by consent, as a
//! steward makes it: the group asked hands out a one-time link code
//! (`Request::LinkCode`) and the other side uses it. From the first link
//! request, the bench times:
//!
//! - until the national node's report counts every group's summary;
//! - until every group node holds the whole directory (every card).
//!
//! It reports the national node's resident memory before and after (the
//! before figure is the baseline: the same node holding no groups), the
//! sync bytes each node sent and received, and the bytes on the wire (the
//! endpoint's UDP counters: sync encrypted, gossip and handshakes too).
//!
//! Knobs: `GW_BENCH_GROUPS` (200), `GW_BENCH_RUNS` (3),
//! `GW_BENCH_LIMIT_SECS` (600: a run that has not converged by then fails,
//! saying how far it got).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use groundwork_node::control::ControlHandler as _;
use groundwork_node::daemon::Daemon;
use groundwork_node::datadir::DataDir;
use groundwork_node::demo::network::loopback_config;
use groundwork_protocol::control::{Request, Response};
use groundwork_tests::procfs::proc_sample;

#[path = "common/mod.rs"]
mod common;
use common::knob;

struct Run {
    summaries: Duration,
    directory: Duration,
    rss_before_kib: u64,
    rss_after_kib: u64,
    hwm_kib: u64,
    national: Traffic,
    group_bytes_mean: f64,
    group_bytes_max: u64,
    group_wire_median: u64,
    group_wire_max: u64,
}

/// A node's traffic: sync bytes, and everything on the wire (UDP:
/// encrypted sync, gossip, handshakes).
#[derive(Clone, Copy, Default)]
struct Traffic {
    sent: u64,
    received: u64,
    wire_sent: u64,
    wire_received: u64,
}

impl Traffic {
    fn of(r: &Response) -> Result<Traffic> {
        match r {
            Response::Status(s) => Ok(s.traffic.map_or_else(Traffic::default, |t| Traffic {
                sent: t.sent,
                received: t.received,
                wire_sent: t.wire_sent,
                wire_received: t.wire_received,
            })),
            other => bail!("unexpected status answer {other:?}"),
        }
    }
}

/// The national node's `groundwork up`, stopped when dropped.
struct National {
    child: Child,
    dir: PathBuf,
}

impl National {
    fn start(bin: &Path, dir: &Path) -> Result<National> {
        let d = dir.to_str().ok_or_else(|| anyhow!("non-UTF-8 path"))?;
        let ok = Command::new(bin)
            .args([
                "--data-dir",
                d,
                "national",
                "init",
                "--name",
                "Community Organisers",
            ])
            .output()?
            .status
            .success();
        if !ok {
            bail!("national init failed");
        }
        let mut child = Command::new(bin)
            .args([
                "--data-dir",
                d,
                "--offline",
                "up",
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        // Ready (control socket served) once it prints its ticket.
        let out = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut ready = false;
        for line in std::io::BufReader::new(out).lines() {
            if line?.starts_with("ticket: ") {
                ready = true;
                break;
            }
        }
        let national = National {
            child,
            dir: dir.to_owned(),
        };
        if !ready {
            bail!("the national node printed no ticket");
        }
        Ok(national)
    }

    /// A control request through the national node's socket.
    fn request(&self, req: Request) -> Result<Response> {
        let mut c = groundwork_node::control::connect(&DataDir::new(&self.dir))?
            .ok_or_else(|| anyhow!("the national node is not running"))?;
        Ok(c.request(req)?)
    }
}

impl Drop for National {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn run(bin: &Path, root: &Path, groups: usize, deadline: Duration) -> Result<Run> {
    let national = National::start(bin, &root.join("national"))?;
    let built = groundwork_node::demo::build(root, groups, |_| {})?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut nodes = Vec::new();
        for g in &built {
            nodes.push(Daemon::start(&DataDir::new(&g.data_dir), &loopback_config()).await?);
        }
        let pid = national.child.id();
        let rss_before_kib = proc_sample(pid)?.rss_kib;
        let national = std::sync::Arc::new(national);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
        for (i, node) in nodes.iter().enumerate() {
            let national = national.clone();
            let asked = node.control();
            let limit_a = limit.clone();
            tasks.spawn(async move {
                let _permit = limit_a.acquire_owned().await;
                let ticket = link_code(&asked).await?;
                tokio::task::spawn_blocking(move || national.request(Request::Affiliate { ticket }))
                    .await?
            });
            if i % 2 == 1 {
                let asking = node.control();
                let asked = nodes[i - 1].control();
                let limit = limit.clone();
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    let ticket = link_code(&asked).await?;
                    Ok(asking.request(Request::PeerAdd { ticket }).await)
                });
            }
        }
        while let Some(r) = tasks.join_next().await {
            if let Response::Error { message, .. } = r?? {
                bail!("linking failed: {message}");
            }
        }
        let (mut summaries, mut directory) = (None, None);
        let (mut reporting, mut fewest) = (0, 0);
        while summaries.is_none() || directory.is_none() {
            if start.elapsed() > deadline {
                for (i, node) in nodes.iter().enumerate() {
                    let o = node.handle().overview().await?;
                    if o.cards.len() > groups {
                        continue;
                    }
                    if let Response::Status(s) = node.control().request(Request::Status).await {
                        eprintln!(
                            "  node {i}: {} cards, {} affiliations, {} summaries, {} sessions; gossip neighbours and records {:?}",
                            o.cards.len(),
                            o.affiliations.len(),
                            o.summaries.len(),
                            o.connected.len(),
                            s.gossip.map(|g| (g.neighbours, g.records_received)),
                        );
                    }
                }
                bail!(
                    "no convergence in {} s: {reporting} of {groups} groups reporting, \
                     the fewest cards on a node {fewest} of {}",
                    deadline.as_secs(),
                    groups + 1
                );
            }
            if summaries.is_none() {
                let n = national.clone();
                if let Response::Report(r) =
                    tokio::task::spawn_blocking(move || n.request(Request::Report)).await??
                {
                    reporting = r.reporting as usize;
                    if r.reporting as usize == groups {
                        summaries = Some(start.elapsed());
                    }
                }
            }
            if directory.is_none() {
                fewest = usize::MAX;
                for node in &nodes {
                    fewest = fewest.min(node.handle().overview().await?.cards.len());
                }
                if fewest > groups {
                    directory = Some(start.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let after = proc_sample(pid)?;
        let n = national.clone();
        let national_traffic =
            Traffic::of(&tokio::task::spawn_blocking(move || n.request(Request::Status)).await??)?;
        let mut per_node = Vec::new();
        let mut wire = Vec::new();
        for node in &nodes {
            let t = Traffic::of(&node.control().request(Request::Status).await)?;
            per_node.push(t.sent + t.received);
            wire.push(t.wire_sent);
        }
        wire.sort_unstable();
        for node in nodes {
            node.shutdown().await?;
        }
        Ok(Run {
            summaries: summaries.unwrap_or_default(),
            directory: directory.unwrap_or_default(),
            rss_before_kib,
            rss_after_kib: after.rss_kib,
            hwm_kib: after.hwm_kib,
            national: national_traffic,
            group_wire_median: wire.get(wire.len() / 2).copied().unwrap_or(0),
            group_wire_max: wire.last().copied().unwrap_or(0),
            group_bytes_mean: per_node.iter().sum::<u64>() as f64 / per_node.len().max(1) as f64,
            group_bytes_max: per_node.iter().copied().max().unwrap_or(0),
        })
    })
}

fn main() -> Result<()> {
    let bin = groundwork_tests::release_binary("scripts/bench-network.sh")?;
    let groups = knob("GW_BENCH_GROUPS", 200)?;
    let runs = knob("GW_BENCH_RUNS", 3)?;
    let limit = Duration::from_secs(knob("GW_BENCH_LIMIT_SECS", 600)? as u64);
    let scratch = groundwork_tests::target_dir().join("bench-tmp");
    std::fs::create_dir_all(&scratch)?;
    let mut results = Vec::new();
    for i in 0..runs {
        let root = tempfile::tempdir_in(&scratch)?;
        eprintln!("run {} of {runs}: {groups} groups", i + 1);
        let r = run(&bin, root.path(), groups, limit)?;
        eprintln!(
            "  summaries {:.2} s, directory {:.2} s, national RSS {} KiB",
            r.summaries.as_secs_f64(),
            r.directory.as_secs_f64(),
            r.rss_after_kib
        );
        results.push(r);
    }
    println!(
        "### Network scale: {groups} groups, all affiliated, every other one also linked with its neighbour, {runs} runs\n"
    );
    println!(
        "| run | all summaries at the national node | whole directory on every node | national RSS before → after (peak) | national sync bytes sent / received | national wire bytes sent / received | sync bytes per group node, mean (max) | wire bytes sent per group node, median (max) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (i, r) in results.iter().enumerate() {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.1} → {:.1} MiB ({:.1} MiB) ({:.1}×) | {:.0} / {:.0} KiB | {:.0} / {:.0} KiB | {:.1} KiB ({:.1} KiB) | {:.1} KiB ({:.1} KiB) |",
            i + 1,
            r.summaries.as_secs_f64(),
            r.directory.as_secs_f64(),
            r.rss_before_kib as f64 / 1024.0,
            r.rss_after_kib as f64 / 1024.0,
            r.hwm_kib as f64 / 1024.0,
            r.rss_after_kib as f64 / r.rss_before_kib.max(1) as f64,
            r.national.sent as f64 / 1024.0,
            r.national.received as f64 / 1024.0,
            r.national.wire_sent as f64 / 1024.0,
            r.national.wire_received as f64 / 1024.0,
            r.group_bytes_mean / 1024.0,
            r.group_bytes_max as f64 / 1024.0,
            r.group_wire_median as f64 / 1024.0,
            r.group_wire_max as f64 / 1024.0,
        );
    }
    let mut s: Vec<f64> = results.iter().map(|r| r.summaries.as_secs_f64()).collect();
    s.sort_by(f64::total_cmp);
    let hwm = results.iter().map(|r| r.hwm_kib).max().unwrap_or(0);
    println!(
        "\nMedian time to all {groups} summaries at the national node: {:.2} s (target ≤ 5 s). \
         Highest national peak RSS: {:.1} MiB (target ≤ 200 MB).",
        s.get(s.len() / 2).copied().unwrap_or(0.0),
        hwm as f64 / 1024.0
    );
    Ok(())
}

/// A one-time link code from `node`, as its steward would hand out.
async fn link_code(node: &groundwork_node::daemon::NodeControl) -> Result<String> {
    match node.request(Request::LinkCode { ttl_secs: 3600 }).await {
        Response::LinkCode { text, .. } => Ok(text),
        other => bail!("no link code: {other:?}"),
    }
}
