//! Side by side: Groundwork against samod 0.16 (the Rust automerge-repo,
//! on automerge 0.12 like Groundwork) and plain Automerge 0.12 over a
//! loopback TCP stream, the floor.
//!
//! Run with `scripts/bench-compare.sh`, or after
//! `cargo build --release -p groundwork-node`:
//!
//! ```text
//! cargo bench -p groundwork-tests --features samod --bench compare
//! ```
//!
//! samod is an optional dependency of the test crate (feature `samod`), so
//! the test suite never builds it. Everything runs on loopback with relays
//! off, from fixed seeds. Each round runs every workload on the three
//! stacks, in an order that rotates from round to round; the report gives
//! each stack's median (min–max) over the rounds and the ratio of
//! Groundwork to each, taken round by round, as min / median / max.
//!
//! The same documents: one group of 10,000 generated members (and one of
//! 20) is founded with Groundwork, and its six documents, exported as
//! Automerge saves, are what samod and the plain floor sync, edit and list.
//! The reconnect workload generates 200 small documents of the same shape
//! on each side from the same kind of seed (not the same bytes).
//!
//! Durability differs: Groundwork fsyncs every edit it reports done (on
//! the editing node) and every batch of received changes (on the
//! receiving one) before it says so; samod's filesystem storage never
//! fsyncs, and the plain floor stores nothing. The report shows
//! Groundwork as shipped and, beside it, an fsync measured on the same
//! disk in the same run, so the cost of durability can be read off.
//!
//! Knobs (environment): `GW_CMP_ROUNDS` (5), `GW_CMP_EDITS` (40 timed edits
//! per stack and round, after 5 untimed), `GW_CMP_MEMBERS` (10000),
//! `GW_CMP_DOCS` (200) and `GW_CMP_CHANGED` (20) for the reconnect.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use automerge::transaction::Transaction;
use automerge::{Automerge, ROOT, ReadDoc};
use groundwork_node::daemon::Daemon;
use groundwork_node::datadir::DataDir;
use groundwork_node::group::{Group, MemberInputExt, today};
use groundwork_protocol::schema::Role;
use groundwork_protocol::{DocId, DocKind, ShortId};
use groundwork_tests::people::{Rng, person};
use groundwork_tests::stats::{ms, percentile};

#[path = "common/mod.rs"]
mod common;
// The module reports more than this bench prints (traffic at the moment
// of convergence, listing sizes).
#[allow(dead_code)]
#[path = "compare/samod_side.rs"]
mod samod_side;

use common::*;

/// Untimed edits before the timed ones, on each stack.
const EDIT_WARM_UP: usize = 5;
/// How long an idle node settles before its memory is read.
const IDLE_SETTLE: Duration = Duration::from_secs(3);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes: this binary run again, to list or hold a document cold.
    if let Some(code) = child_mode(&args) {
        std::process::exit(code);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    match rt.block_on(run()) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// The child modes; `None` when this is the bench itself.
fn child_mode(args: &[String]) -> Option<i32> {
    let at = |flag: &str| args.iter().position(|a| a == flag);
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let result: Result<(), String> = if let Some(i) = at("--cold-list-samod") {
        samod_side::samod_cold_list(Path::new(arg(i + 1)), arg(i + 2)).map(|l| print!("{}", l.json))
    } else if let Some(i) = at("--cold-list-plain") {
        std::fs::read(arg(i + 1))
            .map_err(|e| e.to_string())
            .and_then(|b| samod_side::plain_cold_list(&b))
            .map(|l| print!("{}", l.json))
    } else if let Some(i) = at("--idle-samod") {
        samod_side::samod_idle_serve(Path::new(arg(i + 1)), arg(i + 2))
    } else if let Some(i) = at("--idle-plain") {
        plain_idle(Path::new(arg(i + 1)))
    } else {
        return None;
    };
    Some(match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    })
}

/// Holds a plain Automerge document in memory until stdin closes.
fn plain_idle(file: &Path) -> Result<(), String> {
    use std::io::{Read, Write};
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let doc = Automerge::load(&bytes).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout();
    writeln!(out, "READY")
        .and_then(|_| out.flush())
        .map_err(|e| e.to_string())?;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(doc);
    Ok(())
}

/// One stack's value per round, for one measure.
#[derive(Debug, Default, Clone)]
struct Series {
    gw: Vec<f64>,
    samod: Vec<f64>,
    plain: Vec<f64>,
}

/// Everything measured, by workload.
#[derive(Debug, Default)]
struct Results {
    first_sync_ms: Series,
    first_sync_kib: Series,
    small_p50: Series,
    small_p99: Series,
    big_p50: Series,
    big_p99: Series,
    /// Groundwork's whole `member add` with contact details (two
    /// documents), p50 and p99 per round.
    gw_contacts_p50: Vec<f64>,
    gw_contacts_p99: Vec<f64>,
    reconnect_kib: Series,
    reconnect_trips: Series,
    list_ms: Series,
    idle_mib: Series,
    fsync_ms: Vec<f64>,
    /// Groundwork's first sync, start of the new node to synced (no join).
    gw_sync_only_ms: Vec<f64>,
}

/// The fixtures every round uses.
struct Fixtures {
    bin: PathBuf,
    root: PathBuf,
    /// A stopped node's data directory with the big group.
    big: PathBuf,
    /// The same for the small group.
    small: PathBuf,
    /// The big group's six documents, saved.
    big_docs: Vec<Vec<u8>>,
    /// The roster documents, saved.
    big_roster: Vec<u8>,
    small_roster: Vec<u8>,
    /// The big roster in a samod store, and its document id.
    samod_store: PathBuf,
    samod_roster: String,
    /// The big roster saved to a file.
    plain_file: PathBuf,
}

async fn run() -> Result<String> {
    let rounds = knob("GW_CMP_ROUNDS", 5)?.max(1);
    let edits = knob("GW_CMP_EDITS", 40)?.max(1);
    let members = knob("GW_CMP_MEMBERS", 10_000)?;
    let docs = knob("GW_CMP_DOCS", 200)?;
    let changed = knob("GW_CMP_CHANGED", 20)?;
    let started = Instant::now();
    let root = groundwork_tests::target_dir()
        .join("bench-tmp")
        .join("compare");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let f = fixtures(&root, members).await?;
    let mut r = Results::default();
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for turn in 0..3 {
            match (round + turn) % 3 {
                0 => groundwork_round(&f, round, edits, &mut r).await?,
                1 => samod_round(&f, edits, &mut r).await?,
                _ => plain_round(&f, edits, &mut r).await?,
            }
        }
        // The reconnect and the cold listing, in the same rotation.
        for turn in 0..3 {
            match (round + turn) % 3 {
                0 => {
                    let rc = common::reconnect::reconnect(docs, changed * 200 / docs.max(1))?;
                    let row = rc.rows.last().ok_or_else(|| anyhow!("no reconnect row"))?;
                    r.reconnect_kib.gw.push(row.node.bytes as f64 / 1024.0);
                    r.reconnect_trips.gw.push(row.node.round_trips());
                    r.list_ms.gw.push(timed_child(
                        Command::new(&f.bin)
                            .arg("--data-dir")
                            .arg(&f.big)
                            .args(["member", "list", "--json"]),
                        members,
                    )?);
                }
                1 => {
                    let rc = samod_side::samod_reconnect(docs, changed, SEED)
                        .await
                        .map_err(|e| anyhow!(e))?;
                    r.reconnect_kib.samod.push(kib(&rc.settled));
                    r.reconnect_trips
                        .samod
                        .push(rc.settled.round_trips() as f64);
                    r.list_ms.samod.push(timed_child(
                        Command::new(std::env::current_exe()?)
                            .arg("--cold-list-samod")
                            .arg(&f.samod_store)
                            .arg(&f.samod_roster),
                        members,
                    )?);
                }
                _ => {
                    let rc = samod_side::plain_reconnect(docs, changed, SEED)
                        .await
                        .map_err(|e| anyhow!(e))?;
                    r.reconnect_kib.plain.push(kib(&rc.settled));
                    r.reconnect_trips
                        .plain
                        .push(rc.settled.round_trips() as f64);
                    r.list_ms.plain.push(timed_child(
                        Command::new(std::env::current_exe()?)
                            .arg("--cold-list-plain")
                            .arg(&f.plain_file),
                        members,
                    )?);
                }
            }
        }
        r.fsync_ms.push(fsync_ms(&root)?);
    }
    // Idle memory once per stack (it varies little; each takes seconds).
    r.idle_mib.gw.push(gw_idle_mib(&f)?);
    r.idle_mib.samod.push(child_rss_mib(
        Command::new(std::env::current_exe()?)
            .arg("--idle-samod")
            .arg(&f.samod_store)
            .arg(&f.samod_roster),
    )?);
    r.idle_mib.plain.push(child_rss_mib(
        Command::new(std::env::current_exe()?)
            .arg("--idle-plain")
            .arg(&f.plain_file),
    )?);
    let _ = std::fs::remove_dir_all(&root);
    Ok(report(
        &r,
        rounds,
        edits,
        members,
        docs,
        changed,
        started.elapsed(),
    ))
}

/// Founds the two groups, exports their documents, and fills the samod
/// store and the plain file.
async fn fixtures(root: &Path, members: usize) -> Result<Fixtures> {
    let bin = groundwork_tests::release_binary("scripts/bench-compare.sh")?;
    let (big, small) = (root.join("big"), root.join("small"));
    eprintln!("founding a group of {members} members, and one of 20");
    found_with_members(&big, members)?;
    found_with_members(&small, 20)?;
    let big_docs = export(&big)?;
    let roster_of = |dir: &Path| -> Result<Vec<u8>> {
        let g = Group::open(&DataDir::new(dir))?;
        let id = g.doc_id(DocKind::Roster);
        let mut d = g.store().load(&id)?.ok_or_else(|| anyhow!("no roster"))?;
        Ok(d.save())
    };
    let (big_roster, small_roster) = (roster_of(&big)?, roster_of(&small)?);
    let samod_store = root.join("samod-store");
    std::fs::create_dir_all(&samod_store)?;
    let ids = samod_side::samod_prepare_store(&samod_store, std::slice::from_ref(&big_roster))
        .await
        .map_err(|e| anyhow!(e))?;
    let samod_roster = ids
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("samod kept no document"))?;
    let plain_file = root.join("roster.automerge");
    std::fs::write(&plain_file, &big_roster)?;
    Ok(Fixtures {
        bin,
        root: root.to_owned(),
        big,
        small,
        big_docs,
        big_roster,
        small_roster,
        samod_store,
        samod_roster,
        plain_file,
    })
}

/// The six documents of the group in `dir`, saved.
fn export(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let g = Group::open(&DataDir::new(dir))?;
    let own = g.profile().id;
    DocKind::ALL
        .into_iter()
        .map(|kind| {
            let id = DocId::derive(&own, kind);
            let mut d = g
                .store()
                .load(&id)?
                .ok_or_else(|| anyhow!("no {kind} document"))?;
            Ok(d.save())
        })
        .collect()
}

/// Groundwork: the first sync of the big group to a new device (invite,
/// join, sync), then edits to that peer on it, then the same edits on the
/// small group.
async fn groundwork_round(f: &Fixtures, round: usize, edits: usize, r: &mut Results) -> Result<()> {
    let run = f.root.join(format!("gw-{round}"));
    copy_dir(&f.big, &run.join("a"))?;
    let a = Daemon::start(&DataDir::new(run.join("a")), &offline()).await?;
    let (b, times) = join(&a, &run.join("b"), Role::Organiser, "bench laptop").await?;
    r.first_sync_ms.gw.push(ms(times.total));
    r.gw_sync_only_ms.push(ms(times.sync));
    let (sent_a, _, _) = a.handle().traffic().totals();
    let (sent_b, _, _) = b.handle().traffic().totals();
    r.first_sync_kib.gw.push((sent_a + sent_b) as f64 / 1024.0);
    let (p50, p99) = gw_edits(&a, &b, edits, "big", false).await?;
    r.big_p50.gw.push(p50);
    r.big_p99.gw.push(p99);
    let (p50, p99) = gw_edits(&a, &b, edits, "big-contacts", true).await?;
    r.gw_contacts_p50.push(p50);
    r.gw_contacts_p99.push(p99);
    b.shutdown().await?;
    a.shutdown().await?;

    copy_dir(&f.small, &run.join("sa"))?;
    let a = Daemon::start(&DataDir::new(run.join("sa")), &offline()).await?;
    let (b, _) = join(&a, &run.join("sb"), Role::Organiser, "bench laptop").await?;
    let (p50, p99) = gw_edits(&a, &b, edits, "small", false).await?;
    r.small_p50.gw.push(p50);
    r.small_p99.gw.push(p99);
    b.shutdown().await?;
    a.shutdown().await?;
    let _ = std::fs::remove_dir_all(&run);
    Ok(())
}

/// Adds members on `a` through its control API, each timed until `b` has
/// verified and durably stored the change: (p50, p99) in ms. Without
/// contact details a member add writes the roster alone, the one document
/// the baselines' edit writes; with them, the contacts document too, and
/// the time is until `b` holds both.
async fn gw_edits(
    a: &Daemon,
    b: &Daemon,
    edits: usize,
    tag: &str,
    contacts: bool,
) -> Result<(f64, f64)> {
    let group = a.handle().overview().await?.group;
    let mut events = b.events();
    let mut rng = Rng(SEED ^ 0xed17);
    let mut samples = Vec::with_capacity(edits);
    for i in 0..EDIT_WARM_UP + edits {
        let p = person(&mut rng, i, tag);
        while events.try_recv().is_ok() {}
        let t0 = Instant::now();
        let kinds: &[DocKind] = if contacts {
            let req = groundwork_node::control::Request::MemberAdd { input: input(&p) };
            let resp = a.request(req).await?;
            if let groundwork_node::control::Response::Error { message, .. } = resp {
                bail!("member add failed: {message}");
            }
            &[DocKind::Roster, DocKind::Contacts]
        } else {
            let mut roster_only = input(&p);
            (roster_only.email, roster_only.phone) = (None, None);
            let req = groundwork_node::control::Request::MemberAdd { input: roster_only };
            let resp = a.request(req).await?;
            if let groundwork_node::control::Response::Error { message, .. } = resp {
                bail!("member add failed: {message}");
            }
            &[DocKind::Roster]
        };
        let when = wait_changed(&mut events, group, kinds, t0).await?;
        if i >= EDIT_WARM_UP {
            samples.push(when.iter().copied().fold(0.0, f64::max));
        }
    }
    Ok(p50_p99(&samples))
}

/// The edit the baselines make: one member added to the roster, written
/// with Groundwork's own schema code (the packed member record a
/// `member add` writes).
fn add_one(tx: &mut Transaction<'_>, i: usize) {
    let mut rng = Rng(SEED ^ 0xed17 ^ i as u64);
    let p = person(&mut rng, i, "cmp");
    let Ok((member, _)) = input(&p).build(today()) else {
        return;
    };
    let Ok(Some((_, members))) = tx.get(ROOT, "members") else {
        return;
    };
    let id = ShortId::from_entropy(rng.next_u64() as u32);
    let _ = autosurgeon::reconcile_prop(tx, members, id.as_str(), &member);
}

async fn samod_round(f: &Fixtures, edits: usize, r: &mut Results) -> Result<()> {
    let fs = samod_side::samod_first_sync(&f.big_docs)
        .await
        .map_err(|e| anyhow!(e))?;
    r.first_sync_ms.samod.push(ms(fs.elapsed));
    r.first_sync_kib.samod.push(kib(&fs.settled));
    let big = samod_side::samod_edit_latency(&f.big_roster, add_one, EDIT_WARM_UP, edits)
        .await
        .map_err(|e| anyhow!(e))?;
    let (p50, p99) = p50_p99(&big.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    r.big_p50.samod.push(p50);
    r.big_p99.samod.push(p99);
    let small = samod_side::samod_edit_latency(&f.small_roster, add_one, EDIT_WARM_UP, edits)
        .await
        .map_err(|e| anyhow!(e))?;
    let (p50, p99) = p50_p99(&small.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    r.small_p50.samod.push(p50);
    r.small_p99.samod.push(p99);
    Ok(())
}

async fn plain_round(f: &Fixtures, edits: usize, r: &mut Results) -> Result<()> {
    let fs = samod_side::plain_first_sync(&f.big_docs)
        .await
        .map_err(|e| anyhow!(e))?;
    r.first_sync_ms.plain.push(ms(fs.elapsed));
    r.first_sync_kib.plain.push(kib(&fs.settled));
    let big = samod_side::plain_edit_latency(&f.big_roster, add_one, EDIT_WARM_UP, edits)
        .await
        .map_err(|e| anyhow!(e))?;
    let (p50, p99) = p50_p99(&big.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    r.big_p50.plain.push(p50);
    r.big_p99.plain.push(p99);
    let small = samod_side::plain_edit_latency(&f.small_roster, add_one, EDIT_WARM_UP, edits)
        .await
        .map_err(|e| anyhow!(e))?;
    let (p50, p99) = p50_p99(&small.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    r.small_p50.plain.push(p50);
    r.small_p99.plain.push(p99);
    Ok(())
}

fn kib(t: &samod_side::Traffic) -> f64 {
    (t.a_to_b_bytes + t.b_to_a_bytes) as f64 / 1024.0
}

fn p50_p99(samples: &[f64]) -> (f64, f64) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    (percentile(&s, 0.5), percentile(&s, 0.99))
}

/// Runs a cold listing as a process; checks it listed `members` members.
/// Wall time in ms.
fn timed_child(cmd: &mut Command, members: usize) -> Result<f64> {
    cmd.env_remove("GROUNDWORK_DIR")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let out = cmd.output().context("running a cold listing")?;
    let took = ms(t0.elapsed());
    if !out.status.success() {
        bail!(
            "a cold listing failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let n = listed.as_array().map_or(0, Vec::len);
    ensure!(n == members, "a cold listing gave {n} of {members} members");
    Ok(took)
}

/// One durable empty commit on a store on the bench's disk: what an fsync
/// costs here (median of 20).
fn fsync_ms(root: &Path) -> Result<f64> {
    let path = root.join("fsync.redb");
    let _ = std::fs::remove_file(&path);
    let store = groundwork_node::store::Store::create(&path)?;
    let mut s = Vec::new();
    for _ in 0..20 {
        let t0 = Instant::now();
        store.flush()?;
        s.push(ms(t0.elapsed()));
    }
    drop(store);
    let _ = std::fs::remove_file(&path);
    Ok(p50_p99(&s).0)
}

/// Resident memory of `groundwork up` on the big group once it has
/// settled, in MiB.
fn gw_idle_mib(f: &Fixtures) -> Result<f64> {
    use std::io::BufRead as _;
    let mut child = Command::new(&f.bin)
        .arg("--data-dir")
        .arg(&f.big)
        .args(["--offline", "up", "--listen", "127.0.0.1:0"])
        .env_remove("GROUNDWORK_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting `groundwork up`")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut ready = false;
    for line in std::io::BufReader::new(stdout).lines() {
        if line?.starts_with("ticket:") {
            ready = true;
            break;
        }
    }
    let rss = if ready {
        std::thread::sleep(IDLE_SETTLE);
        groundwork_tests::procfs::proc_sample(child.id()).map(|s| s.rss_kib as f64 / 1024.0)
    } else {
        Err(anyhow!("`groundwork up` printed no ticket"))
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    rss
}

fn child_rss_mib(cmd: &mut Command) -> Result<f64> {
    let mut c = std::mem::replace(cmd, Command::new("true"));
    c.stderr(Stdio::null());
    samod_side::measure_child_rss(c, IDLE_SETTLE)
        .map(|kib| kib as f64 / 1024.0)
        .map_err(|e| anyhow!(e))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    percentile(&s, 0.5)
}

fn spread(v: &[f64], unit: &dyn Fn(f64) -> String) -> String {
    if v.is_empty() {
        return "–".into();
    }
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.len() < 2 {
        return unit(median(v));
    }
    format!("{} ({}–{})", unit(median(v)), unit(lo), unit(hi))
}

/// Groundwork ÷ the other, round by round: "min / median / max".
fn ratios(gw: &[f64], other: &[f64]) -> String {
    let r: Vec<f64> = gw
        .iter()
        .zip(other)
        .filter(|(_, o)| **o > 0.0)
        .map(|(g, o)| g / o)
        .collect();
    if r.is_empty() {
        return "–".into();
    }
    let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.2}× / **{:.2}×** / {hi:.2}×", median(&r))
}

#[allow(clippy::too_many_arguments)]
fn report(
    r: &Results,
    rounds: usize,
    edits: usize,
    members: usize,
    docs: usize,
    changed: usize,
    took: Duration,
) -> String {
    use std::fmt::Write as _;
    let msf = |v: f64| fmt_ms(v);
    let kibf = |v: f64| format!("{v:.1} KiB");
    let mibf = |v: f64| format!("{v:.1} MiB");
    let num = |v: f64| format!("{v:.1}");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Groundwork, samod 0.16 and plain Automerge 0.12, side by side\n\n\
         {rounds} interleaved rounds; {edits} timed edits per stack, round and roster. \
         Values are the median over rounds (min–max); ratios are Groundwork ÷ the other, \
         taken round by round (min / **median** / max). An fsync on this disk (a durable \
         empty redb commit) took {} (median over rounds); Groundwork pays two on an edit \
         to a peer (the editor's commit, the receiver's batch), samod none.\n",
        fmt_ms(median(&r.fsync_ms))
    );
    let _ = writeln!(
        out,
        "| workload | Groundwork (durable) | samod (no fsync) | plain Automerge | ÷ samod | ÷ plain |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let mut row = |what: &str, s: &Series, unit: &dyn Fn(f64) -> String| {
        let _ = writeln!(
            out,
            "| {what} | {} | {} | {} | {} | {} |",
            spread(&s.gw, unit),
            spread(&s.samod, unit),
            spread(&s.plain, unit),
            ratios(&s.gw, &s.samod),
            ratios(&s.gw, &s.plain),
        );
    };
    row(
        &format!("first sync, six documents of a {members}-member group: time"),
        &r.first_sync_ms,
        &msf,
    );
    row("the same: bytes both ways", &r.first_sync_kib, &kibf);
    row(
        "one edit to a peer, 20-member group, p50",
        &r.small_p50,
        &msf,
    );
    row("the same, p99", &r.small_p99, &msf);
    row(
        &format!("one edit to a peer, {members}-member roster, p50"),
        &r.big_p50,
        &msf,
    );
    row("the same, p99", &r.big_p99, &msf);
    let gw_only = |v: &[f64]| Series {
        gw: v.to_vec(),
        ..Series::default()
    };
    row(
        "Groundwork's whole `member add` (roster and contacts), p50",
        &gw_only(&r.gw_contacts_p50),
        &msf,
    );
    row("the same, p99", &gw_only(&r.gw_contacts_p99), &msf);
    row(
        &format!("reconnect, {docs} documents, {changed} changed: bytes"),
        &r.reconnect_kib,
        &kibf,
    );
    row("the same: round trips", &r.reconnect_trips, &num);
    row(
        &format!("cold `member list --json`, {members} members (a process)"),
        &r.list_ms,
        &msf,
    );
    row(
        &format!("idle resident memory holding {members} members"),
        &r.idle_mib,
        &mibf,
    );
    let _ = writeln!(
        out,
        "\nGroundwork's first sync includes the join (invite redeemed on a temporary endpoint); \
         from the new node's start to synced alone it took {} (median).\n\n\
         How each is measured:\n\n\
         - first sync: Groundwork, a new organiser device joins a running node and syncs \
         (`Daemon`s in this process over iroh on loopback); samod, repo B (filesystem storage) \
         dials repo A over TCP and finds every document; plain, Automerge's sync protocol over \
         one TCP stream, no storage. Bytes: every byte both ways until quiet.\n\
         - edit to a peer: Groundwork, `member add` through A's control API until B's roster \
         event (B verified and durably stored the change; A's edit was durable first); samod, \
         an add on A's `DocHandle` until B's change stream shows A's heads; plain, generate, \
         send, receive. The baselines add the same packed member record Groundwork writes; \
         Groundwork's measured add has no contact details, so it too writes the roster alone \
         (a full add, which also writes the contacts document, has its own rows).\n\
         - reconnect: Groundwork at the protocol level in memory (two `Session`s from persisted \
         states, the frames as sent); samod, two repos on filesystem storage reconnecting over \
         TCP; plain, every document's persisted state synced at once over TCP.\n\
         - cold listing: a new process each time: `groundwork member list --json` (no node \
         running), or this bench run again to open samod's store (or read the saved document) \
         and print the same JSON from Groundwork's typed roster.\n\
         - idle memory: VmRSS {}s after start: `groundwork up`, a samod repo holding the roster, \
         a process holding the plain document.\n\n\
         The whole comparison took {:.0} s.",
        fmt_ms(median(&r.gw_sync_only_ms)),
        IDLE_SETTLE.as_secs(),
        took.as_secs_f64()
    );
    out
}
