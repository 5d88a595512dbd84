//! Sync benchmarks: the sync issue's four measurements.
//!
//! Run with `scripts/bench-sync.sh`, or after
//! `cargo build --release -p groundwork-node`:
//!
//! ```text
//! cargo bench -p groundwork-tests --bench sync
//! ```
//!
//! This is a plain program (`harness = false`), not a test. Everything runs
//! on loopback with relays off, from fixed seeds, with no internet:
//!
//! - **(a) edit-to-peer latency.** Two nodes run in this process (the real
//!   [`Daemon`], endpoints on 127.0.0.1): group A and a second organiser
//!   device B joined to it by invite, as `groundwork join` does. Each
//!   sample adds a member through A's control API (`Daemon::request`, the
//!   socket's path, so A's durable commit is included) and waits
//!   for B's `DocChanged { kind: Roster }` event, which B raises after it
//!   has verified and durably stored the change. The baseline, interleaved
//!   edit by edit, is the same add on a third node with no peer (A's local
//!   durable edit alone). Run on a new group and again on a
//!   10,000-member roster.
//! - **(b) first sync of a 10,000-member roster** to a new organiser
//!   device: invite, join exchange, the new device's store and node, until
//!   `wait_synced` returns; bytes and frames from both nodes' sync-stream
//!   counters. Baseline: two plain iroh endpoints (relays off, their own
//!   ALPN) running Automerge's own sync protocol over one stream for the
//!   same six documents (no signatures, no verification, no disk).
//! - **(c) reconnect after offline, 200 documents, 10% changed**, at the
//!   protocol level in memory: two [`Session`]s synced fully, their states
//!   persisted (`State::encode`, as the node stores them), 20 documents
//!   changed on one side, then new sessions from the persisted states.
//!   Messages, framed bytes and one-way trips until quiet, against plain
//!   Automerge sync of every document one by one from the same states.
//!   Also 0 and 1 documents changed.
//! - **(d) an idle node holding 10,000 members**: the release binary's
//!   `up` on a data directory filled by `init` + `member import`, sampled
//!   from /proc for resident memory and CPU time over a quiet window.
//!
//! Knobs (environment): `GW_BENCH_EDITS` (300 timed edits for (a)),
//! `GW_BENCH_WARMUP` (20), `GW_BENCH_BIG_EDITS` (50 timed edits on the
//! 10,000-member roster), `GW_BENCH_MEMBERS` (10000), `GW_BENCH_SYNC_RUNS`
//! (3 runs of each side of (b)), `GW_BENCH_DOCS` (200 for (c)),
//! `GW_BENCH_IDLE_SECS` (60) and `GW_BENCH_ONLY` (e.g. `a,c`: run only
//! those parts). Scratch directories live under `target/bench-tmp` and are
//! removed at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use automerge::AutoCommit;
use automerge::sync::{State, SyncDoc};
use groundwork_node::daemon::Daemon;
use groundwork_node::datadir::DataDir;
use groundwork_node::group::Group;
use groundwork_protocol::schema::Role;
use groundwork_protocol::signed::actor_id;
use groundwork_protocol::sync::session::{Docs, Session};
use groundwork_protocol::{DocId, DocKind, SecretKey};
use groundwork_tests::procfs::{ProcSample, proc_sample};
use iroh::endpoint::{PortmapperConfig, RecvStream, SendStream, presets};
use iroh::{Endpoint, RelayMode};

#[path = "common/mod.rs"]
mod common;
use common::reconnect::*;
use common::*;

/// Targets from the sync issue.
const LATENCY_P50_TARGET_MS: f64 = 5.0;
const LATENCY_P99_TARGET_MS: f64 = 20.0;
const FIRST_SYNC_TARGET_RATIO: f64 = 1.5;
const UNCHANGED_DOC_TARGET_BYTES: f64 = 64.0;
const IDLE_RSS_TARGET_MIB: f64 = 50.0;
/// "Near 0%": the bench calls anything under this a pass.
const IDLE_CPU_TARGET_PCT: f64 = 1.0;

/// Warm-up adds before the timed ones on the 10,000-member roster.
const BIG_WARM_UP: usize = 5;
/// Documents changed offline in (c), per 200 (10%).
const CHANGED_PER_200: usize = 20;
/// ALPN of the plain Automerge baseline.
const PLAIN_ALPN: &[u8] = b"bench/plain-automerge/1";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[derive(Debug)]
struct Knobs {
    edits: usize,
    warm_up: usize,
    big_edits: usize,
    members: usize,
    sync_runs: usize,
    docs: usize,
    idle_secs: u64,
    only: Option<BTreeSet<char>>,
}

impl Knobs {
    fn from_env() -> Result<Knobs> {
        let get = |name: &str, default: usize| -> Result<usize> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .with_context(|| format!("{name}={v} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        let only = std::env::var("GW_BENCH_ONLY").ok().map(|v| {
            v.chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        });
        let k = Knobs {
            edits: get("GW_BENCH_EDITS", 300)?,
            warm_up: get("GW_BENCH_WARMUP", 20)?,
            big_edits: get("GW_BENCH_BIG_EDITS", 50)?,
            members: get("GW_BENCH_MEMBERS", 10_000)?,
            sync_runs: get("GW_BENCH_SYNC_RUNS", 3)?,
            docs: get("GW_BENCH_DOCS", 200)?,
            idle_secs: get("GW_BENCH_IDLE_SECS", 60)? as u64,
            only,
        };
        ensure!(
            k.edits > 0 && k.members > 0 && k.sync_runs > 0 && k.docs >= 10 && k.idle_secs > 0,
            "GW_BENCH_EDITS, GW_BENCH_MEMBERS, GW_BENCH_SYNC_RUNS and GW_BENCH_IDLE_SECS must be at least 1, GW_BENCH_DOCS at least 10"
        );
        Ok(k)
    }

    fn runs(&self, part: char) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&part))
    }
}

/// The release binary (built by the script, never by the bench).
fn release_binary() -> Result<PathBuf> {
    groundwork_tests::release_binary("scripts/bench-sync.sh")
}

// ---------------------------------------------------------------------------
// The generated roster (the foundation bench's generator).

use groundwork_tests::people::{Rng, person};

// ---------------------------------------------------------------------------
// Summaries.

use groundwork_tests::stats::{Stats, ms, stats};

fn series_header(r: &mut String) {
    let _ = writeln!(r, "| series | n | min | median | mean | p90 | p99 | max |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
}

fn series_row(r: &mut String, what: &str, s: &Stats) {
    let _ = writeln!(
        r,
        "| {what} | {} | {} | {} | {} | {} | {} | {} |",
        s.n,
        fmt_ms(s.min),
        fmt_ms(s.median),
        fmt_ms(s.mean),
        fmt_ms(s.p90),
        fmt_ms(s.p99),
        fmt_ms(s.max)
    );
}

/// One row of the summary table.
#[derive(Debug)]
struct Summary {
    measure: String,
    measured: String,
    target: String,
    result: String,
}

fn summary(measure: String, measured: String, target: &str, result: &str) -> Summary {
    Summary {
        measure,
        measured,
        target: target.to_owned(),
        result: result.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Nodes in this process.

/// Sync-stream counters of both nodes once neither has sent or received
/// anything for 300 ms: (bytes both sent, frames both sent).
async fn quiet_totals(a: &Daemon, b: &Daemon) -> Result<(u64, u64)> {
    let read = || {
        let (sa, ra, fa) = a.handle().traffic().totals();
        let (sb, rb, fb) = b.handle().traffic().totals();
        (sa, ra, fa, sb, rb, fb)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = read();
    let mut still_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = read();
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= Duration::from_millis(300) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the sync traffic did not go quiet"
        );
    }
    let (sa, _, fa, sb, _, fb) = last;
    Ok((sa + sb, fa + fb))
}

// ---------------------------------------------------------------------------
// (a) Edit-to-peer latency.

#[derive(Debug, Default)]
struct Latency {
    /// Edit on the node with a peer until the peer's roster event.
    to_peer: Vec<f64>,
    /// Edit on the node with a peer until the peer has both documents.
    both_docs: Vec<f64>,
    /// The edit on the node with a peer, as its caller sees it.
    local_with_peer: Vec<f64>,
    /// The same edit on a node with no peer (the baseline).
    local_alone: Vec<f64>,
}

/// Adds `warm_up + n` members on `a` (watched on `b`) and on `alone`, one
/// after the other, timing the last `n`.
async fn latency(
    a: &Daemon,
    b: &Daemon,
    alone: &Daemon,
    warm_up: usize,
    n: usize,
    tag: &str,
) -> Result<Latency> {
    let group = a.handle().overview().await?.group;
    let mut events = b.events();
    let mut rng = Rng(SEED ^ 0x5eed);
    let mut out = Latency::default();
    for i in 0..warm_up + n {
        let p = person(&mut rng, i, tag);
        // The baseline: the same edit on a node with no peer.
        let t = Instant::now();
        add_member(alone, &p).await?;
        let alone_ms = ms(t.elapsed());

        while events.try_recv().is_ok() {}
        let t0 = Instant::now();
        add_member(a, &p).await?;
        let local = ms(t0.elapsed());
        let when = wait_changed(
            &mut events,
            group,
            &[DocKind::Roster, DocKind::Contacts],
            t0,
        )
        .await?;
        if i >= warm_up {
            out.local_alone.push(alone_ms);
            out.local_with_peer.push(local);
            out.to_peer.push(when[0]);
            out.both_docs.push(when[0].max(when[1]));
        }
    }
    Ok(out)
}

struct LatencyRun {
    small: Latency,
    small_members: usize,
}

/// (a) on a new group: A (founded), B joined as an organiser, and a lone
/// group for the baseline.
async fn latency_small(root: &Path, k: &Knobs) -> Result<LatencyRun> {
    let config = offline();
    let (a_dir, alone_dir, b_dir) = (root.join("a"), root.join("alone"), root.join("b"));
    found(&a_dir, "Latency Group")?;
    found(&alone_dir, "Latency Baseline Group")?;
    let a = Daemon::start(&DataDir::new(&a_dir), &config).await?;
    let alone = Daemon::start(&DataDir::new(&alone_dir), &config).await?;
    let (b, _) = join(&a, &b_dir, Role::Organiser, "latency laptop").await?;
    eprintln!(
        "(a) {} warm-up + {} timed adds on a new group",
        k.warm_up, k.edits
    );
    let small = latency(&a, &b, &alone, k.warm_up, k.edits, "lat").await?;
    let small_members = member_count(&b).await?;
    ensure!(
        small_members == k.warm_up + k.edits,
        "B holds {small_members} members, expected {}",
        k.warm_up + k.edits
    );
    for d in [b, a, alone] {
        d.shutdown().await?;
    }
    Ok(LatencyRun {
        small,
        small_members,
    })
}

// ---------------------------------------------------------------------------
// (b) First sync of a big roster, and the plain Automerge baseline.

#[derive(Debug, Clone, Copy)]
struct SyncRun {
    took: Duration,
    bytes: u64,
    frames: u64,
}

#[derive(Debug, Default)]
struct FirstSync {
    node: Vec<SyncRun>,
    joins: Vec<JoinTimes>,
    plain: Vec<SyncRun>,
    /// Automerge saved size of the six documents.
    saved_bytes: u64,
    members_synced: usize,
    big: Option<Latency>,
    /// The same first sync replayed in memory through two `Session`s.
    replay: Replay,
    /// In-process costs on the big roster: `Store::load` and
    /// `AutoCommit::fork` (which receiving a sync message does).
    load_roster: Vec<f64>,
    fork_roster: Vec<f64>,
}

/// One plain sync message on the wire: document index (u8), length (u32,
/// big-endian), the encoded Automerge sync message. A batch is a count
/// (u32) and that many messages.
async fn write_batch(send: &mut SendStream, batch: &[(u8, Vec<u8>)]) -> Result<u64> {
    let mut buf = Vec::with_capacity(4 + batch.iter().map(|(_, m)| 5 + m.len()).sum::<usize>());
    buf.extend_from_slice(&(batch.len() as u32).to_be_bytes());
    for (doc, m) in batch {
        buf.push(*doc);
        buf.extend_from_slice(&(m.len() as u32).to_be_bytes());
        buf.extend_from_slice(m);
    }
    send.write_all(&buf).await.context("sending")?;
    Ok(buf.len() as u64)
}

async fn read_batch(recv: &mut RecvStream) -> Result<Vec<(u8, Vec<u8>)>> {
    let mut n = [0; 4];
    recv.read_exact(&mut n).await.context("reading a batch")?;
    let mut out = Vec::new();
    for _ in 0..u32::from_be_bytes(n) {
        let mut head = [0; 5];
        recv.read_exact(&mut head).await.context("reading")?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        ensure!(len <= 64 << 20, "message too long");
        let mut m = vec![0; len];
        recv.read_exact(&mut m).await.context("reading")?;
        out.push((head[0], m));
    }
    Ok(out)
}

/// Plain Automerge sync of `docs` in turns: each side applies the other's
/// batch, then sends what `generate_sync_message` gives for every
/// document. Both are quiet once an empty batch answers an empty batch.
/// Returns (bytes sent, messages sent).
async fn plain_sync(
    docs: &mut [AutoCommit],
    send: &mut SendStream,
    recv: &mut RecvStream,
    opens: bool,
) -> Result<(u64, u64)> {
    let mut states: Vec<State> = docs.iter().map(|_| State::new()).collect();
    let generate = |docs: &mut [AutoCommit], states: &mut [State]| -> Vec<(u8, Vec<u8>)> {
        docs.iter_mut()
            .zip(states.iter_mut())
            .enumerate()
            .filter_map(|(i, (d, s))| {
                d.sync()
                    .generate_sync_message(s)
                    .map(|m| (i as u8, m.encode()))
            })
            .collect()
    };
    let (mut bytes, mut messages) = (0, 0);
    let mut sent_empty = false;
    if opens {
        let batch = generate(docs, &mut states);
        bytes += write_batch(send, &batch).await?;
        messages += batch.len() as u64;
        sent_empty = batch.is_empty();
    }
    loop {
        let got = read_batch(recv).await?;
        if got.is_empty() && sent_empty {
            break;
        }
        let got_empty = got.is_empty();
        for (i, m) in got {
            let doc = docs
                .get_mut(i as usize)
                .ok_or_else(|| anyhow!("no document {i}"))?;
            let msg = automerge::sync::Message::decode(&m)?;
            doc.sync()
                .receive_sync_message(&mut states[i as usize], msg)?;
        }
        let batch = generate(docs, &mut states);
        bytes += write_batch(send, &batch).await?;
        messages += batch.len() as u64;
        sent_empty = batch.is_empty();
        if got_empty && sent_empty {
            break;
        }
    }
    Ok((bytes, messages))
}

async fn plain_endpoint(alpns: Vec<Vec<u8>>) -> Result<Endpoint> {
    Ok(Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")?
        .alpns(alpns)
        .bind()
        .await?)
}

/// One plain run: a server endpoint holding `saved` (loaded before the
/// clock starts) and a new, empty client. Timed from the client's bind to
/// the end of the sync; bytes and messages of both sides.
async fn plain_run(saved: &[Vec<u8>]) -> Result<SyncRun> {
    let server = plain_endpoint(vec![PLAIN_ALPN.to_vec()]).await?;
    let addr = server.addr();
    let mut server_docs = saved
        .iter()
        .map(|s| groundwork_protocol::edit::load_doc(s))
        .collect::<Result<Vec<_>, _>>()?;
    let serving = tokio::spawn(async move {
        let r = async {
            let conn = server
                .accept()
                .await
                .ok_or_else(|| anyhow!("server closed"))?
                .await?;
            let (mut send, mut recv) = conn.accept_bi().await?;
            let counts = plain_sync(&mut server_docs, &mut send, &mut recv, false).await?;
            send.finish()?;
            conn.closed().await;
            anyhow::Ok(counts)
        }
        .await;
        server.close().await;
        r
    });
    let t0 = Instant::now();
    let client = plain_endpoint(vec![]).await?;
    let conn = client.connect(addr, PLAIN_ALPN).await?;
    let (mut send, mut recv) = conn.open_bi().await?;
    let mut docs: Vec<AutoCommit> = saved
        .iter()
        .map(|_| groundwork_protocol::edit::new_doc())
        .collect();
    let (cb, cm) = plain_sync(&mut docs, &mut send, &mut recv, true).await?;
    let took = t0.elapsed();
    send.finish()?;
    // Closing drops data not yet delivered: wait for the server to have
    // read the last batch (it finishes its stream then).
    recv.read_to_end(1024).await?;
    conn.close(0u32.into(), b"done");
    let (sb, sm) = serving.await??;
    client.close().await;
    // The client holds the same documents.
    for (d, s) in docs.iter_mut().zip(saved) {
        let mut want = groundwork_protocol::edit::load_doc(s)?;
        ensure!(
            d.get_heads() == want.get_heads(),
            "plain sync did not converge"
        );
    }
    Ok(SyncRun {
        took,
        bytes: cb + sb,
        frames: cm + sm,
    })
}

async fn first_sync(root: &Path, k: &Knobs) -> Result<FirstSync> {
    let template = root.join("template");
    eprintln!("(b) building a {}-member group", k.members);
    found_with_members(&template, k.members)?;
    let mut out = FirstSync::default();
    // The documents an organiser gets (all six), as A holds them.
    let saved: Vec<Vec<u8>> = {
        let group = Group::open(&DataDir::new(&template))?;
        let mut v = Vec::new();
        for kind in DocKind::ALL {
            let mut doc = group
                .store()
                .load(&group.doc_id(kind))?
                .ok_or_else(|| anyhow!("the template has no {kind} document"))?;
            v.push(doc.save());
        }
        v
    };
    out.saved_bytes = saved.iter().map(|s| s.len() as u64).sum();
    out.replay = replay_first_sync(&template)?;
    {
        let group = Group::open(&DataDir::new(&template))?;
        let id = group.doc_id(DocKind::Roster);
        for _ in 0..10 {
            let t = Instant::now();
            let mut doc = group
                .store()
                .load(&id)?
                .ok_or_else(|| anyhow!("no roster"))?;
            out.load_roster.push(ms(t.elapsed()));
            let t = Instant::now();
            let copy = doc.fork();
            out.fork_roster.push(ms(t.elapsed()));
            drop(copy);
        }
    }
    let config = offline();
    let mut last_pair = None;
    for run in 0..k.sync_runs {
        // Plain baseline first, then the node, in each round.
        eprintln!("(b) run {}: plain Automerge", run + 1);
        out.plain.push(plain_run(&saved).await?);
        eprintln!("(b) run {}: groundwork join + first sync", run + 1);
        let a_dir = root.join(format!("a{run}"));
        copy_dir(&template, &a_dir)?;
        let a = Daemon::start(&DataDir::new(&a_dir), &config).await?;
        let (b, times) = join(&a, &root.join(format!("b{run}")), Role::Organiser, "new").await?;
        let (bytes, frames) = quiet_totals(&a, &b).await?;
        out.node.push(SyncRun {
            took: times.total,
            bytes,
            frames,
        });
        out.joins.push(times);
        out.members_synced = member_count(&b).await?;
        ensure!(
            out.members_synced == k.members,
            "the new device holds {} members, expected {}",
            out.members_synced,
            k.members
        );
        if run + 1 == k.sync_runs {
            last_pair = Some((a, b));
        } else {
            shutdown_all([b, a]).await?;
        }
    }
    // (a) again on the big roster: the last run's pair, and for the
    // baseline a second group built the same way (its own keys).
    if let Some((a, b)) = last_pair.take() {
        if k.big_edits > 0 && k.runs('a') {
            let alone_dir = root.join("alone-big");
            found_with_members(&alone_dir, k.members)?;
            let alone = Daemon::start(&DataDir::new(&alone_dir), &config).await?;
            eprintln!(
                "(a) {BIG_WARM_UP} warm-up + {} timed adds on the {}-member roster",
                k.big_edits, k.members
            );
            out.big = Some(latency(&a, &b, &alone, BIG_WARM_UP, k.big_edits, "big").await?);
            alone.shutdown().await?;
        }
        shutdown_all([b, a]).await?;
    }
    Ok(out)
}

/// The first sync of (b) replayed in memory: a `Session` holding the
/// template's six documents (with their stored signatures) and one holding
/// nothing, which speaks first (it dials). Shows which messages carry the
/// documents.
fn replay_first_sync(template: &Path) -> Result<Replay> {
    let group = Group::open(&DataDir::new(template))?;
    let (ka, kb) = (
        SecretKey::from_seed(&[3; 32]),
        SecretKey::from_seed(&[4; 32]),
    );
    let writers = vec![group.device_id(), ka.public()];
    let side = |key: &SecretKey| Side {
        key: key.clone(),
        docs: Docs::new(),
        store: MemStore {
            writers: writers.clone(),
            ..MemStore::default()
        },
    };
    let (mut a, mut b) = (side(&ka), side(&kb));
    for kind in DocKind::ALL {
        let id = group.doc_id(kind);
        let mut d = group
            .store()
            .load(&id)?
            .ok_or_else(|| anyhow!("the template has no {kind} document"))?;
        for c in d.get_changes(&[]) {
            let sig = group
                .store()
                .signature(&c.hash().0)?
                .ok_or_else(|| anyhow!("no stored signature"))?;
            a.store.sigs.insert(c.hash(), sig);
        }
        a.docs.insert(id, d.with_actor(actor_id(&ka.public())));
        b.docs.insert(
            id,
            groundwork_protocol::edit::new_doc().with_actor(actor_id(&kb.public())),
        );
    }
    let gid = group.profile().id;
    let none = BTreeSet::new();
    let t = Instant::now();
    let (cost, sb, sa) = session_reconnect(
        gid,
        &mut b,
        &mut a,
        (&BTreeMap::new(), &BTreeMap::new()),
        &none,
    )?;
    let took = t.elapsed();
    ensure!(a.heads() == b.heads(), "the replay did not converge");

    // Plain Automerge sync of the same documents in memory, for scale: per
    // document, the holder speaks first, then each answers until quiet.
    let mut plain_took = Duration::ZERO;
    for kind in DocKind::ALL {
        let id = group.doc_id(kind);
        let mut holder = a.docs.get_mut(&id).ok_or_else(|| anyhow!("no doc"))?.fork();
        let mut empty = groundwork_protocol::edit::new_doc();
        let (mut sh, mut se) = (State::new(), State::new());
        let t = Instant::now();
        let mut next = holder.sync().generate_sync_message(&mut sh);
        let mut to_empty = true;
        while let Some(m) = next.take() {
            let m = automerge::sync::Message::decode(&m.encode())?;
            next = if to_empty {
                empty.sync().receive_sync_message(&mut se, m)?;
                empty.sync().generate_sync_message(&mut se)
            } else {
                holder.sync().receive_sync_message(&mut sh, m)?;
                holder.sync().generate_sync_message(&mut sh)
            };
            to_empty = !to_empty;
        }
        plain_took += t.elapsed();
        ensure!(
            holder.get_heads() == empty.get_heads(),
            "plain in-memory sync did not converge"
        );
    }

    // Live edits of the roster over sessions resumed from those states.
    let mut out = Replay {
        cost,
        took,
        plain_took,
        ..Replay::default()
    };
    let shared: BTreeSet<DocId> = a.docs.keys().copied().collect();
    let mut sa = Session::new(gid, shared.clone(), sa);
    let mut sb = Session::new(gid, shared, sb);
    let ha = sa.start(&mut a.docs, &a.store)?;
    let hb = sb.start(&mut b.docs, &b.store)?;
    for m in ha {
        ensure!(
            sb.handle(m, &mut b.docs, &mut b.store)?.is_empty(),
            "not primed"
        );
    }
    for m in hb {
        ensure!(
            sa.handle(m, &mut a.docs, &mut a.store)?.is_empty(),
            "not primed"
        );
    }
    let roster = group.doc_id(DocKind::Roster);
    let mut rng = Rng(SEED ^ 0xed17);
    for _ in 0..10 {
        let t = Instant::now();
        a.edit(&roster, &mut rng)?;
        out.edit.push(ms(t.elapsed()));
        let t = Instant::now();
        let msgs = sa.local_change(&roster, &mut a.docs, &a.store)?;
        out.generate.push(ms(t.elapsed()));
        ensure!(msgs.len() == 1, "a live edit should go in one message");
        let t = Instant::now();
        let mut replies = Vec::new();
        for m in msgs {
            replies.extend(sb.handle(wire(&m)?, &mut b.docs, &mut b.store)?);
        }
        out.receive.push(ms(t.elapsed()));
        let t = Instant::now();
        for m in replies {
            ensure!(
                sa.handle(wire(&m)?, &mut a.docs, &mut a.store)?.is_empty(),
                "the ack needs no answer"
            );
        }
        out.ack.push(ms(t.elapsed()));
    }
    ensure!(a.heads() == b.heads(), "the live edits did not converge");
    Ok(out)
}

/// The first sync replayed in memory, then live roster edits on it.
#[derive(Debug, Default)]
struct Replay {
    cost: Cost,
    /// How long the replayed first sync took (CPU only: no disk, no network).
    took: Duration,
    /// Plain Automerge sync of the same documents in memory.
    plain_took: Duration,
    /// A: one roster edit, committed and signed.
    edit: Vec<f64>,
    /// A: `Session::local_change` for it (the sync message).
    generate: Vec<f64>,
    /// B: `Session::handle` of that message (verify, apply; memory store).
    receive: Vec<f64>,
    /// A: handling B's acknowledgement.
    ack: Vec<f64>,
}

async fn shutdown_all<const N: usize>(nodes: [Daemon; N]) -> Result<()> {
    for n in nodes {
        n.shutdown().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// (d) An idle node.

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn gw(bin: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("GROUNDWORK_DIR")
        .env_remove("GROUNDWORK_LOG")
        .stdin(Stdio::null());
    c
}

fn run_ok(mut c: Command, what: &str) -> Result<std::process::Output> {
    let out = c.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

#[derive(Debug)]
struct Idle {
    label: String,
    start: ProcSample,
    end: ProcSample,
    peak_rss_kib: u64,
    cpu_pct: f64,
    secs: f64,
}

/// Starts `up` on `dir`, waits for its ticket, samples it for `secs`, then
/// stops it with SIGTERM.
fn idle_node(bin: &Path, dir: &Path, secs: u64, label: &str) -> Result<Idle> {
    let mut cmd = gw(bin, dir, &["--offline", "up", "--listen", "127.0.0.1:0"]);
    let mut child = common::spawn_up(&mut cmd, Duration::from_secs(60))?;
    let pid = child.id();
    let result = (|| -> Result<Idle> {
        let ticks = clock_ticks() as f64;
        let start = proc_sample(pid)?;
        let t0 = Instant::now();
        let mut peak = start.rss_kib;
        let mut end = start;
        while t0.elapsed() < Duration::from_secs(secs) {
            std::thread::sleep(Duration::from_millis(500).min(Duration::from_secs(secs)));
            end = proc_sample(pid)?;
            peak = peak.max(end.rss_kib);
        }
        let window = t0.elapsed().as_secs_f64();
        Ok(Idle {
            label: label.to_owned(),
            start,
            end,
            peak_rss_kib: peak,
            cpu_pct: (end.cpu_ticks - start.cpu_ticks) as f64 / ticks / window * 100.0,
            secs: window,
        })
    })();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    result
}

/// Peak resident memory of a short command, from GNU time, if present.
fn peak_rss_of(bin: &Path, dir: &Path, args: &[&str]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let out = Command::new(time)
        .args(["-f", "%M"])
        .arg(bin)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("GROUNDWORK_DIR")
        .env_remove("GROUNDWORK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
}

#[derive(Debug)]
struct IdleAll {
    runs: Vec<Idle>,
    list_peak_kib: Option<u64>,
    version_peak_kib: Option<u64>,
    store_bytes: u64,
}

fn idle(root: &Path, k: &Knobs) -> Result<IdleAll> {
    let bin = release_binary()?;
    let dir = root.join("idle");
    eprintln!("(d) {}-member data directory through the CLI", k.members);
    run_ok(
        gw(&bin, &dir, &["init", "--name", "Bench Organising Group"]),
        "groundwork init",
    )?;
    let csv = root.join("members.csv");
    std::fs::write(&csv, roster_csv(k.members))?;
    let csv_arg = csv.to_str().context("scratch path is not UTF-8")?;
    run_ok(
        gw(&bin, &dir, &["member", "import", csv_arg]),
        "groundwork member import",
    )?;
    let store_bytes = std::fs::metadata(DataDir::new(&dir).store_path())?.len();
    let list_peak_kib = peak_rss_of(&bin, &dir, &["member", "list", "--json"]);
    let version_peak_kib = peak_rss_of(&bin, &dir, &["--version"]);
    let mut runs = Vec::new();
    eprintln!("(d) idle node, {} s", k.idle_secs);
    runs.push(idle_node(&bin, &dir, k.idle_secs, "as shipped")?);
    Ok(IdleAll {
        runs,
        list_peak_kib,
        version_peak_kib,
        store_bytes,
    })
}

// ---------------------------------------------------------------------------
// The report.

fn kib_to_mib(k: u64) -> f64 {
    k as f64 / 1024.0
}

fn run() -> Result<()> {
    let k = Knobs::from_env()?;
    let scratch_root = groundwork_tests::target_dir().join("bench-tmp");
    std::fs::create_dir_all(&scratch_root)
        .with_context(|| format!("creating {}", scratch_root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("sync-")
        .tempdir_in(&scratch_root)
        .context("creating a scratch directory")?;
    let root = scratch.path();
    let bench_start = Instant::now();
    eprintln!("groundwork sync bench: {k:?}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let small = if k.runs('a') {
        let dir = root.join("latency");
        Some(runtime.block_on(latency_small(&dir, &k))?)
    } else {
        None
    };
    let first = if k.runs('b') {
        let dir = root.join("first-sync");
        Some(runtime.block_on(first_sync(&dir, &k))?)
    } else {
        None
    };
    drop(runtime);
    let recon = if k.runs('c') {
        eprintln!("(c) reconnect, {} documents, in memory", k.docs);
        Some(reconnect(k.docs, CHANGED_PER_200)?)
    } else {
        None
    };
    let idle = if k.runs('d') {
        Some(idle(root, &k)?)
    } else {
        None
    };

    let mut sum = Vec::new();
    let mut details = String::new();
    let r = &mut details;

    if let Some(l) = &small {
        let peer = stats(&l.small.to_peer);
        let alone = stats(&l.small.local_alone);
        sum.push(summary(
            format!(
                "(a) edit-to-peer latency, durable on both ends, new group ({}–{} members), p50",
                k.warm_up, l.small_members
            ),
            format!(
                "{} ({:.1}× the edit alone, {})",
                fmt_ms(peer.median),
                peer.median / alone.median,
                fmt_ms(alone.median)
            ),
            "≤ 5 ms",
            verdict(peer.median <= LATENCY_P50_TARGET_MS),
        ));
        sum.push(summary(
            "(a) the same, p99".into(),
            format!("{} (edit alone: {})", fmt_ms(peer.p99), fmt_ms(alone.p99)),
            "≤ 20 ms",
            verdict(peer.p99 <= LATENCY_P99_TARGET_MS),
        ));
    }
    if let Some(big) = first.as_ref().and_then(|f| f.big.as_ref()) {
        let peer = stats(&big.to_peer);
        let alone = stats(&big.local_alone);
        sum.push(summary(
            format!("(a) the same on a {}-member roster, p50 / p99", k.members),
            format!(
                "{} / {} (edit alone: {} / {})",
                fmt_ms(peer.median),
                fmt_ms(peer.p99),
                fmt_ms(alone.median),
                fmt_ms(alone.p99)
            ),
            "≤ 5 ms / ≤ 20 ms",
            verdict(peer.median <= LATENCY_P50_TARGET_MS && peer.p99 <= LATENCY_P99_TARGET_MS),
        ));
    }
    if let Some(f) = &first {
        let node_t = stats(&f.node.iter().map(|s| ms(s.took)).collect::<Vec<_>>());
        let plain_t = stats(&f.plain.iter().map(|s| ms(s.took)).collect::<Vec<_>>());
        let node_b = median_u64(&f.node.iter().map(|s| s.bytes).collect::<Vec<_>>());
        let plain_b = median_u64(&f.plain.iter().map(|s| s.bytes).collect::<Vec<_>>());
        let t_ratio = node_t.median / plain_t.median;
        let b_ratio = node_b as f64 / plain_b as f64;
        sum.push(summary(
            format!(
                "(b) first sync of {} members to a new device: time, ÷ plain Automerge over iroh (median of {})",
                k.members, k.sync_runs
            ),
            format!(
                "{:.2}× ({} ÷ {})",
                t_ratio,
                fmt_ms(node_t.median),
                fmt_ms(plain_t.median)
            ),
            "≤ 1.5×",
            verdict(t_ratio <= FIRST_SYNC_TARGET_RATIO),
        ));
        sum.push(summary(
            "(b) the same: bytes".into(),
            format!(
                "{:.2}× ({} ÷ {})",
                b_ratio,
                fmt_bytes(node_b),
                fmt_bytes(plain_b)
            ),
            "≤ 1.5×",
            verdict(b_ratio <= FIRST_SYNC_TARGET_RATIO),
        ));
    }
    if let Some(c) = &recon {
        let unchanged_docs = |row: &Reconnect| (c.docs - row.changed) as f64;
        if let Some(row) = c.rows.iter().find(|r| r.changed == 0) {
            let per = row.node.bytes as f64 / unchanged_docs(row);
            sum.push(summary(
                format!(
                    "(c) reconnect, {} documents, none changed: bytes per unchanged document",
                    c.docs
                ),
                format!(
                    "{per:.2} B ({} in all; plain Automerge: {:.0} B per document)",
                    fmt_bytes(row.node.bytes),
                    row.plain.bytes as f64 / unchanged_docs(row)
                ),
                "≤ 64 B",
                verdict(per <= UNCHANGED_DOC_TARGET_BYTES),
            ));
        }
        if let Some(row) = c.rows.iter().max_by_key(|r| r.changed) {
            let per = row.node.unchanged_bytes as f64 / unchanged_docs(row);
            sum.push(summary(
                format!(
                    "(c) reconnect, {} of {} documents changed: bytes per unchanged document",
                    row.changed, c.docs
                ),
                format!("{per:.0} B (its `Prints` fingerprints, both ways)"),
                "≤ 64 B",
                verdict(per <= UNCHANGED_DOC_TARGET_BYTES),
            ));
            sum.push(summary(
                "(c) the same: bytes and round trips, ÷ plain Automerge one document at a time"
                    .to_owned(),
                format!(
                    "{:.2}× bytes ({} ÷ {}), {} ÷ {} round trips",
                    row.node.bytes as f64 / row.plain.bytes as f64,
                    fmt_bytes(row.node.bytes),
                    fmt_bytes(row.plain.bytes),
                    row.node.round_trips(),
                    row.plain.round_trips()
                ),
                "less than syncing each",
                verdict(row.node.bytes < row.plain.bytes && row.node.trips < row.plain.trips),
            ));
        }
    }
    if let Some(d) = &idle
        && let Some(run) = d.runs.first()
    {
        let peak = kib_to_mib(run.peak_rss_kib);
        sum.push(summary(
            format!(
                "(d) idle node holding {} members: peak resident memory over {:.0} s",
                k.members, run.secs
            ),
            format!("{peak:.1} MiB"),
            "≤ 50 MB",
            verdict(peak <= IDLE_RSS_TARGET_MIB),
        ));
        sum.push(summary(
            "(d) the same: CPU".into(),
            format!("{:.2}%", run.cpu_pct),
            "near 0%",
            verdict(run.cpu_pct <= IDLE_CPU_TARGET_PCT),
        ));
    }

    // Details.
    if let Some(l) = &small {
        let _ = writeln!(r, "\n#### (a) Edit-to-peer latency\n");
        series_header(r);
        let rows: [(&str, &Vec<f64>); 4] = [
            (
                "new group: edit on A until B's roster event (B verified and stored it)",
                &l.small.to_peer,
            ),
            (
                "new group: the same until B has both documents (roster and contacts)",
                &l.small.both_docs,
            ),
            (
                "new group: the edit on A as its caller sees it (A has a peer)",
                &l.small.local_with_peer,
            ),
            (
                "new group: baseline, the same edit on a node with no peer",
                &l.small.local_alone,
            ),
        ];
        for (what, s) in rows {
            series_row(r, what, &stats(s));
        }
        if let Some(big) = first.as_ref().and_then(|f| f.big.as_ref()) {
            let n = k.members;
            let rows: [(String, &Vec<f64>); 4] = [
                (
                    format!("{n} members: edit on A until B's roster event"),
                    &big.to_peer,
                ),
                (
                    format!("{n} members: the same until B has both documents"),
                    &big.both_docs,
                ),
                (
                    format!("{n} members: the edit on A as its caller sees it"),
                    &big.local_with_peer,
                ),
                (
                    format!("{n} members: baseline, the same edit on a node with no peer"),
                    &big.local_alone,
                ),
            ];
            for (what, s) in rows {
                series_row(r, &what, &stats(s));
            }
        }
        if let Some(f) = &first
            && !f.load_roster.is_empty()
        {
            let n = k.members;
            series_row(
                r,
                &format!("in-process: `Store::load` of the {n}-member roster (each edit loads it)"),
                &stats(&f.load_roster),
            );
            series_row(
                r,
                &format!(
                    "in-process: `AutoCommit::fork` of the {n}-member roster (each received sync message forks)"
                ),
                &stats(&f.fork_roster),
            );
            let rp = &f.replay;
            for (what, v) in [
                ("A: one roster edit, committed and signed", &rp.edit),
                (
                    "A: `Session::local_change`, the sync message for it",
                    &rp.generate,
                ),
                (
                    "B: `Session::handle` of that message (verify, apply)",
                    &rp.receive,
                ),
                ("A: `Session::handle` of B's acknowledgement", &rp.ack),
            ] {
                series_row(
                    r,
                    &format!("in memory, {n} members, no disk: {what}"),
                    &stats(v),
                );
            }
        }
        let s = stats(&l.small.to_peer);
        let a = stats(&l.small.local_alone);
        let _ = writeln!(
            r,
            "\nNew group, p50: {} to the peer against {} for the edit alone, so syncing adds {} ({:.1}×).",
            fmt_ms(s.median),
            fmt_ms(a.median),
            fmt_ms(s.median - a.median),
            s.median / a.median
        );
    }
    if let Some(f) = &first {
        let _ = writeln!(r, "\n#### (b) First sync of {} members\n", k.members);
        let _ = writeln!(
            r,
            "The six documents' Automerge saved size: {}. The new device held {} members after each run.\n",
            fmt_bytes(f.saved_bytes),
            f.members_synced
        );
        let _ = writeln!(
            r,
            "| run | groundwork: time | bytes | frames | plain Automerge: time | bytes | messages |"
        );
        let _ = writeln!(r, "|---|---|---|---|---|---|---|");
        for (i, (n, p)) in f.node.iter().zip(&f.plain).enumerate() {
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                fmt_ms(ms(n.took)),
                fmt_bytes(n.bytes),
                n.frames,
                fmt_ms(ms(p.took)),
                fmt_bytes(p.bytes),
                p.frames
            );
        }
        let rp = &f.replay.cost;
        let _ = writeln!(
            r,
            "\nThe same first sync replayed in memory through two `Session`s (the new device speaks first): \
             {} messages, {}, {} round trips; {} `Sync` messages carried changes ({}) for the 6 documents.",
            rp.messages,
            fmt_bytes(rp.bytes),
            rp.round_trips(),
            rp.carrying,
            fmt_bytes(rp.carrying_bytes)
        );
        let _ = writeln!(
            r,
            "\nIt took {} in memory (verification included, no disk, no network); plain Automerge sync of the same six documents in memory took {} ({:.1}×).",
            fmt_ms(ms(f.replay.took)),
            fmt_ms(ms(f.replay.plain_took)),
            ms(f.replay.took) / ms(f.replay.plain_took)
        );
        let _ = writeln!(r, "\nWhere the groundwork time went (per run):\n");
        let _ = writeln!(
            r,
            "| run | join exchange (temporary endpoint, invite redeemed, closed) | new store | node start | start → `wait_synced` | total |"
        );
        let _ = writeln!(r, "|---|---|---|---|---|---|");
        for (i, j) in f.joins.iter().enumerate() {
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} |",
                i + 1,
                fmt_ms(ms(j.exchange)),
                fmt_ms(ms(j.setup)),
                fmt_ms(ms(j.start)),
                fmt_ms(ms(j.sync)),
                fmt_ms(ms(j.total))
            );
        }
    }
    if let Some(c) = &recon {
        let _ = writeln!(
            r,
            "\n#### (c) Reconnect after offline, {} documents\n",
            c.docs
        );
        let _ = writeln!(
            r,
            "First session (from nothing): {} messages, {}, {} round trips. Persisted sync states: {} for {} documents on each side.\n",
            c.first_sync.messages,
            fmt_bytes(c.first_sync.bytes),
            c.first_sync.round_trips(),
            fmt_bytes(c.persisted_state_bytes),
            c.docs
        );
        let _ = writeln!(
            r,
            "| changed | groundwork: messages | bytes | round trips | bytes on unchanged docs | plain, one by one: messages | bytes | round trips | plain, all at once: round trips |"
        );
        let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|");
        for row in &c.rows {
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.changed,
                row.node.messages,
                fmt_bytes(row.node.bytes),
                row.node.round_trips(),
                fmt_bytes(row.node.unchanged_bytes),
                row.plain.messages,
                fmt_bytes(row.plain.bytes),
                row.plain.round_trips(),
                row.plain_parallel_trips as f64 / 2.0
            );
        }
    }
    if let Some(d) = &idle {
        let _ = writeln!(r, "\n#### (d) Idle node, {} members\n", k.members);
        let _ = writeln!(
            r,
            "Store file: {}. Samples every 0.5 s from /proc/PID/status and /proc/PID/stat.\n",
            fmt_bytes(d.store_bytes)
        );
        let _ = writeln!(
            r,
            "| run | window | RSS at start | RSS at end | peak RSS (sampled) | VmHWM | anon / file at end | threads | CPU |"
        );
        let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|");
        for run in &d.runs {
            let _ = writeln!(
                r,
                "| {} | {:.0} s | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} / {:.1} MiB | {} | {:.2}% |",
                run.label,
                run.secs,
                kib_to_mib(run.start.rss_kib),
                kib_to_mib(run.end.rss_kib),
                kib_to_mib(run.peak_rss_kib),
                kib_to_mib(run.end.hwm_kib),
                kib_to_mib(run.end.anon_kib),
                kib_to_mib(run.end.file_kib),
                run.end.threads,
                run.cpu_pct
            );
        }
        if let Some(p) = d.list_peak_kib {
            let _ = writeln!(
                r,
                "\nFor reference, peak RSS (GNU time) of `member list --json` on the same data directory: {:.1} MiB; of `--version`: {}.",
                kib_to_mib(p),
                d.version_peak_kib
                    .map_or_else(|| "-".into(), |v| format!("{:.1} MiB", kib_to_mib(v)))
            );
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "### Results\n");
    let _ = writeln!(out, "| measure | measured | target | result |");
    let _ = writeln!(out, "|---|---|---|---|");
    for s in &sum {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            s.measure, s.measured, s.target, s.result
        );
    }
    let _ = writeln!(out, "\n### Details");
    out.push_str(&details);
    let _ = writeln!(
        out,
        "\nThe whole bench took {:.0} s.",
        bench_start.elapsed().as_secs_f64()
    );
    print!("{out}");
    Ok(())
}
