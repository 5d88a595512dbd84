//! Foundation benchmarks: the roster at 10,000 members.
//!
//! Run with `scripts/bench-foundation.sh`, or after
//! `cargo build --release -p groundwork-node`:
//!
//! ```text
//! cargo bench -p groundwork-tests --bench foundation
//! ```
//!
//! This is a plain program (`harness = false`), not a test. Most figures
//! drive the real release `groundwork` binary as a separate process, so they
//! include process start, opening the store and the durable (fsync) commit,
//! just as a user at a terminal sees them:
//!
//! 1. adding one member to a 10,000-member roster (`member add`), with the
//!    cost of starting a process that does nothing (`--version`) beside it;
//! 2. `member list --json` on 10,000 members;
//! 3. the store file's size against the Automerge saved size of the same
//!    roster and contacts, for a roster built by one CSV import and for one
//!    built by 10,000 separate adds (through the library: 10,000 processes
//!    would take too long);
//! 4. importing a 10,000-row CSV into a fresh group.
//!
//! The roster is generated from a fixed seed out of small syllable lists, so
//! no real person's name appears and every run measures the same data.
//! Scratch directories live under `target/bench-tmp` (on the same disk as
//! the build, so fsync costs what it costs there) and are removed at the end.
//!
//! `member add` is timed over 8 × `COMPACT_AFTER_CHANGES` (8 × 16 = 128)
//! consecutive adds: an add's cost grows with the changes stored since the
//! roster's last snapshot, so that many adds see each point of the
//! compaction cycle eight times.
//!
//! Sizes can be shrunk for a quick try with environment variables:
//! `GW_BENCH_MEMBERS` (10000), `GW_BENCH_ADDS` (128), `GW_BENCH_LIST_RUNS`
//! (10), `GW_BENCH_IMPORT_RUNS` (5) and `GW_BENCH_LIBRARY_ADDS` (as many as
//! `GW_BENCH_MEMBERS`; 0 skips the separate-adds size variant, which takes
//! most of the bench's five minutes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_node::group::{Group, GroupKind, MemberInputExt, today};
use groundwork_node::store::{COMPACT_AFTER_CHANGES, Store};
use groundwork_protocol::DocKind;
use groundwork_protocol::edit::{self, KeyedMap};
use groundwork_protocol::schema::Contact;
use groundwork_protocol::signed::sign_change;

#[path = "common/mod.rs"]
mod common;
use common::{SEED, fmt_bytes, fmt_ms, input, roster_csv, verdict};

/// Targets from the foundation issue.
const ADD_TARGET_MS: f64 = 30.0;
const LIST_TARGET_MS: f64 = 300.0;
const SIZE_TARGET_RATIO: f64 = 2.0;
const IMPORT_TARGET_MS: f64 = 3000.0;

/// Untimed runs before each timed series (page cache, binary mapped).
const WARM_UP: usize = 3;
/// Timed `--version` runs.
const VERSION_RUNS: usize = 30;
/// The first adds after the import, reported on their own.
const FIRST_ADDS: usize = 50;
/// In-process samples for the breakdown of an add.
const BREAKDOWN_RUNS: usize = 10;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[derive(Debug)]
struct Config {
    members: usize,
    adds: usize,
    list_runs: usize,
    import_runs: usize,
    library_adds: usize,
}

impl Config {
    fn from_env() -> Result<Config> {
        let get = |name: &str, default: usize| -> Result<usize> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .with_context(|| format!("{name}={v} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        let members = get("GW_BENCH_MEMBERS", 10_000)?;
        let config = Config {
            members,
            adds: get("GW_BENCH_ADDS", 8 * COMPACT_AFTER_CHANGES)?,
            list_runs: get("GW_BENCH_LIST_RUNS", 10)?,
            import_runs: get("GW_BENCH_IMPORT_RUNS", 5)?,
            library_adds: get("GW_BENCH_LIBRARY_ADDS", members)?,
        };
        ensure!(
            config.members > 0 && config.adds > 0 && config.list_runs > 0 && config.import_runs > 0,
            "GW_BENCH_MEMBERS, GW_BENCH_ADDS, GW_BENCH_LIST_RUNS and GW_BENCH_IMPORT_RUNS must be at least 1"
        );
        Ok(config)
    }
}

/// The release binary (built by the script, never by the bench).
fn release_binary() -> Result<PathBuf> {
    groundwork_tests::release_binary("scripts/bench-foundation.sh")
}

// ---------------------------------------------------------------------------
// The generated roster.

use groundwork_tests::people::{Rng, person};

// ---------------------------------------------------------------------------
// Running the binary and summarising samples.

/// Runs `groundwork` with `args`, returning its wall time and output.
/// Fails, with what ran and what it said, if it does not succeed.
fn timed(bin: &Path, args: &[&str]) -> Result<(Duration, Output)> {
    let start = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .env_remove("GROUNDWORK_DIR")
        .env_remove("GROUNDWORK_LOG")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!(
            "`groundwork {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok((took, out))
}

fn with_dir<'a>(dir: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--data-dir", dir];
    v.extend_from_slice(args);
    v
}

use groundwork_tests::stats::{Stats, ms, stats};

fn dir_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("scratch path {} is not UTF-8", p.display()))
}

/// A group founded through the CLI in `root/name`.
fn init_group(bin: &Path, root: &Path, name: &str) -> Result<PathBuf> {
    let dir = root.join(name);
    timed(
        bin,
        &with_dir(
            dir_str(&dir)?,
            &["init", "--name", "Bench Organising Group"],
        ),
    )?;
    Ok(dir)
}

// ---------------------------------------------------------------------------
// Sizes.

/// The store file against each document's Automerge saved size.
#[derive(Debug)]
struct Sizes {
    file: u64,
    roster_save: u64,
    contacts_save: u64,
    all_docs_save: u64,
    /// Snapshot bytes, pending changes and their bytes, summed over the documents.
    snapshot_bytes: u64,
    pending_changes: u64,
    pending_bytes: u64,
    /// Changes in the documents' histories: each has a stored signature.
    changes: u64,
    /// Those changes' bytes, each encoded on its own.
    change_bytes: u64,
    /// The file after redb's own compaction (`Store::shrink_file`).
    file_shrunk: Option<u64>,
    /// The epochs the roster and the contacts are in.
    epochs: (u64, u64),
}

impl Sizes {
    fn roster_and_contacts(&self) -> u64 {
        self.roster_save + self.contacts_save
    }
    fn ratio(&self) -> f64 {
        self.file as f64 / self.roster_and_contacts() as f64
    }
}

fn measure_sizes(dir: &Path) -> Result<Sizes> {
    let data = DataDir::new(dir);
    let file = std::fs::metadata(data.store_path())
        .with_context(|| format!("reading the size of {}", data.store_path().display()))?
        .len();
    let group = Group::open(&data).context("opening the benchmark group")?;
    let mut sizes = Sizes {
        file,
        roster_save: 0,
        contacts_save: 0,
        all_docs_save: 0,
        snapshot_bytes: 0,
        pending_changes: 0,
        pending_bytes: 0,
        changes: 0,
        change_bytes: 0,
        file_shrunk: None,
        epochs: (
            group.epoch(&group.doc_id(DocKind::Roster)),
            group.epoch(&group.doc_id(DocKind::Contacts)),
        ),
    };
    for kind in DocKind::ALL {
        let mut doc = group.load(kind)?;
        let saved = doc.save().len() as u64;
        let changes = doc.get_changes(&[]);
        sizes.changes += changes.len() as u64;
        sizes.change_bytes += changes
            .iter()
            .map(|c| c.raw_bytes().len() as u64)
            .sum::<u64>();
        match kind {
            DocKind::Roster => sizes.roster_save = saved,
            DocKind::Contacts => sizes.contacts_save = saved,
            _ => {}
        }
        sizes.all_docs_save += saved;
        let st = group.store().doc_stats(&group.doc_id(kind))?;
        sizes.snapshot_bytes += st.snapshot_bytes as u64;
        sizes.pending_changes += st.pending_changes as u64;
        sizes.pending_bytes += st.pending_bytes as u64;
    }
    Ok(sizes)
}

/// Shrinks the store with redb's compaction and returns the new file size.
/// Changes the file: call it last on a directory.
fn shrunk_size(dir: &Path) -> Result<u64> {
    let path = DataDir::new(dir).store_path();
    let mut store = Store::open(&path)?;
    store.shrink_file()?;
    drop(store);
    Ok(std::fs::metadata(&path)?.len())
}

// ---------------------------------------------------------------------------

/// How many roster changes are stored since its last snapshot.
fn pending_roster_changes(dir: &Path) -> Result<usize> {
    let group = Group::open(&DataDir::new(dir))?;
    Ok(group
        .store()
        .doc_stats(&group.doc_id(DocKind::Roster))?
        .pending_changes)
}

/// Add times grouped by the roster changes pending before each add, in
/// quarters of the compaction cycle.
fn pending_buckets(times: &[f64], pending: &[usize]) -> Vec<(String, Stats)> {
    let width = COMPACT_AFTER_CHANGES.div_ceil(4).max(1);
    let mut out = Vec::new();
    for q in 0..4 {
        let lo = q * width;
        let hi = if q == 3 { usize::MAX } else { lo + width };
        let samples: Vec<f64> = times
            .iter()
            .zip(pending)
            .filter(|(_, p)| (lo..hi).contains(*p))
            .map(|(t, _)| *t)
            .collect();
        if !samples.is_empty() {
            let label = if q == 3 {
                format!("{lo}+")
            } else {
                format!("{lo}–{}", lo + width - 1)
            };
            out.push((label, stats(&samples)));
        }
    }
    out
}

#[derive(Debug, Default)]
struct Breakdown {
    open: Vec<f64>,
    role: Vec<f64>,
    load_roster: Vec<f64>,
    load_contacts: Vec<f64>,
    email_lookup: Vec<f64>,
    edit_commit: Vec<f64>,
    changes_since_sign: Vec<f64>,
    roster_save: Vec<f64>,
    load_roster_compacted: Vec<f64>,
    pending_roster_changes: Vec<usize>,
    add_member: Vec<f64>,
    close: Vec<f64>,
    fsync: Vec<f64>,
}

/// Where an add's time goes, measured in this process on the CLI's store.
///
/// Each round opens the group, times the steps `Group::add_member` takes on
/// throwaway copies of the documents (nothing of these is stored), then
/// times a real, durable `add_member` and closing the store.
fn breakdown(dir: &Path, rng: &mut Rng, first: usize) -> Result<Breakdown> {
    let data = DataDir::new(dir);
    let device = data.read_key(KeyKind::Device)?;
    let mut b = Breakdown::default();
    for i in 0..BREAKDOWN_RUNS {
        let p = person(rng, first + i, "lib");
        let (member, contact) = input(&p).build(today())?;
        let contact = contact.context("a generated person has contact details")?;

        let t = Instant::now();
        let group = Group::open(&data)?;
        b.open.push(ms(t.elapsed()));
        b.pending_roster_changes.push(
            group
                .store()
                .doc_stats(&group.doc_id(DocKind::Roster))?
                .pending_changes,
        );
        let t = Instant::now();
        group.role()?;
        b.role.push(ms(t.elapsed()));
        let t = Instant::now();
        let mut roster = group.load(DocKind::Roster)?;
        b.load_roster.push(ms(t.elapsed()));
        let t = Instant::now();
        let mut contacts = group.load(DocKind::Contacts)?;
        b.load_contacts.push(ms(t.elapsed()));

        let t = Instant::now();
        let lower = p.email.to_lowercase();
        let found = edit::find_packed(
            &contacts,
            KeyedMap::Contacts,
            |raw| raw.to_lowercase().contains(&lower),
            |c: &Contact| c.email.as_deref() == Some(p.email.as_str()),
        )?;
        b.email_lookup.push(ms(t.elapsed()));
        ensure!(found.is_none(), "generated email {} is taken", p.email);

        let heads = [roster.get_heads(), contacts.get_heads()];
        let t = Instant::now();
        let id = Group::new_short_id(|id| {
            edit::has_entry(&roster, KeyedMap::RosterMembers, id.as_str()).unwrap_or(true)
        });
        edit::put_member(&mut roster, &id, &member)?;
        edit::put_contact(&mut contacts, &id, &contact)?;
        roster.commit().context("the edit made a change")?;
        contacts.commit().context("the edit made a change")?;
        b.edit_commit.push(ms(t.elapsed()));

        // As `Group::edit` does: every change made since the documents were
        // loaded, found by asking Automerge for the changes since the heads
        // at load, each signed.
        let t = Instant::now();
        let mut signed = 0;
        for ((kind, doc), since) in [
            (DocKind::Roster, &mut roster),
            (DocKind::Contacts, &mut contacts),
        ]
        .into_iter()
        .zip(&heads)
        {
            for change in doc.get_changes(since) {
                sign_change(&device, &group.doc_id(kind), &change)?;
                signed += 1;
            }
        }
        b.changes_since_sign.push(ms(t.elapsed()));
        ensure!(
            signed == 2,
            "expected one new change per document, found {signed}"
        );

        let t = Instant::now();
        let saved = roster.save();
        b.roster_save.push(ms(t.elapsed()));
        let t = Instant::now();
        edit::load_doc(&saved)?;
        b.load_roster_compacted.push(ms(t.elapsed()));

        let t = Instant::now();
        group.add_member(&input(&p), today())?;
        b.add_member.push(ms(t.elapsed()));
        // Closing the redb database records its allocator state durably.
        let t = Instant::now();
        drop(group);
        b.close.push(ms(t.elapsed()));
    }
    b.fsync = fsync_floor(dir)?;
    Ok(b)
}

/// The disk's floor for a durable commit: write 4 KiB, then `fdatasync`.
fn fsync_floor(dir: &Path) -> Result<Vec<f64>> {
    use std::io::Write as _;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let mut samples = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(ms(t.elapsed()));
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(samples)
}

/// 10,000 separate adds through the library: one signed change per
/// document per add, each committed durably, as the CLI would make them.
fn library_roster(root: &Path, members: usize) -> Result<(PathBuf, Vec<f64>, Duration)> {
    let dir = root.join("library-adds");
    let data = DataDir::new(&dir);
    let group = Group::found(
        &data,
        "Bench Organising Group",
        None,
        GroupKind::default(),
        today(),
    )?;
    let mut rng = Rng(SEED);
    let mut per_add = Vec::with_capacity(members);
    let start = Instant::now();
    for n in 0..members {
        let p = person(&mut rng, n, "");
        let t = Instant::now();
        group
            .add_member(&input(&p), today())
            .with_context(|| format!("library add number {}", n + 1))?;
        per_add.push(ms(t.elapsed()));
    }
    Ok((dir, per_add, start.elapsed()))
}

fn run() -> Result<()> {
    let config = Config::from_env()?;
    let bin = release_binary()?;
    let scratch_root = groundwork_tests::target_dir().join("bench-tmp");
    std::fs::create_dir_all(&scratch_root)
        .with_context(|| format!("creating {}", scratch_root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("foundation-")
        .tempdir_in(&scratch_root)
        .context("creating a scratch directory")?;
    let root = scratch.path();
    let bench_start = Instant::now();
    let n = config.members;
    eprintln!(
        "groundwork foundation bench: {n} members, binary {}",
        bin.display()
    );

    // The generated spreadsheet.
    let csv_path = root.join("members.csv");
    let csv = roster_csv(n);
    std::fs::write(&csv_path, &csv).context("writing the generated CSV")?;
    let csv_arg = dir_str(&csv_path)?;

    // Baseline: a process that starts and exits.
    eprintln!("process start baseline: {VERSION_RUNS} x --version");
    for _ in 0..WARM_UP {
        timed(&bin, &["--version"])?;
    }
    let mut version = Vec::new();
    for _ in 0..VERSION_RUNS {
        version.push(ms(timed(&bin, &["--version"])?.0));
    }
    let version = stats(&version);

    // 4. Import into fresh groups; the first becomes the 10,000-member roster.
    eprintln!(
        "import: {} x {n} rows into a fresh group",
        config.import_runs
    );
    let mut import = Vec::new();
    let mut import_dirs = Vec::new();
    for i in 0..config.import_runs {
        let dir = init_group(&bin, root, &format!("import-{i}"))?;
        let (took, out) = timed(
            &bin,
            &with_dir(dir_str(&dir)?, &["member", "import", csv_arg]),
        )?;
        let said = String::from_utf8_lossy(&out.stdout);
        ensure!(
            said.contains(&format!("imported {n} member")),
            "the import did not add all {n} rows: {}",
            said.trim()
        );
        import.push(ms(took));
        import_dirs.push(dir);
    }
    let import = stats(&import);
    let roster_dir = import_dirs[0].clone();
    let roster_arg = dir_str(&roster_dir)?.to_owned();

    // 3a. Sizes after one CSV import (before any add touches it). The file
    // size differs from one import to the next (redb trims free pages at the
    // end of the file on close only), so every import's file is reported.
    let import_files = import_dirs
        .iter()
        .map(|d| {
            let path = DataDir::new(d).store_path();
            std::fs::metadata(&path)
                .map(|m| m.len())
                .with_context(|| format!("reading the size of {}", path.display()))
        })
        .collect::<Result<Vec<u64>>>()?;
    let import_sizes = {
        let mut s = measure_sizes(&roster_dir)?;
        if let Some(spare) = import_dirs.get(1) {
            s.file_shrunk = Some(shrunk_size(spare)?);
        }
        s
    };

    // 2. member list --json.
    eprintln!("member list --json: {} runs", config.list_runs);
    let list_args = with_dir(&roster_arg, &["member", "list", "--json"]);
    let (_, out) = timed(&bin, &list_args)?;
    let listed: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("member list --json printed invalid JSON")?;
    let listed = listed.as_array().map_or(0, Vec::len);
    ensure!(
        listed == n,
        "member list --json listed {listed} members, not {n}"
    );
    let list_bytes = out.stdout.len();
    let mut list = Vec::new();
    for _ in 0..config.list_runs {
        list.push(ms(timed(&bin, &list_args)?.0));
    }
    let list = stats(&list);

    // 1. member add on the 10,000-member roster. An add's cost grows with
    // the changes stored since the last snapshot, which compaction folds in
    // every COMPACT_AFTER_CHANGES adds; 8 × that many consecutive adds see
    // each point of the cycle eight times. Each add's starting point is read (untimed)
    // from the store before it runs.
    eprintln!("member add: {WARM_UP} warm-up + {} timed", config.adds);
    let mut rng = Rng(SEED ^ 0xadd);
    let mut add = Vec::new();
    let mut add_pending = Vec::new();
    for i in 0..WARM_UP + config.adds {
        let p = person(&mut rng, i, "add");
        let kind = p.kind.to_string();
        let args = with_dir(
            &roster_arg,
            &[
                "member", "add", "--name", &p.name, "--email", &p.email, "--phone", &p.phone,
                "--kind", &kind,
            ],
        );
        let pending = pending_roster_changes(&roster_dir)?;
        let (took, out) = timed(&bin, &args)?;
        ensure!(
            String::from_utf8_lossy(&out.stdout).starts_with("added member"),
            "member add said: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        );
        if i >= WARM_UP {
            add.push(ms(took));
            add_pending.push(pending);
        }
    }
    let first_adds = stats(&add[..add.len().min(FIRST_ADDS)]);
    let by_pending = pending_buckets(&add, &add_pending);
    let add = stats(&add);
    let parts = breakdown(&roster_dir, &mut rng, WARM_UP + config.adds)?;

    // 3b. Sizes for a roster built by separate adds (library).
    let library = if config.library_adds > 0 {
        eprintln!(
            "library: {} separate add_member calls (durable commits)",
            config.library_adds
        );
        let (dir, per_add, total) = library_roster(root, config.library_adds)?;
        let mut sizes = measure_sizes(&dir)?;
        sizes.file_shrunk = Some(shrunk_size(&dir)?);
        // Then an epoch of each, started by hand (`epoch start`), as the
        // bounded-history rule does once a history is long.
        let after = {
            let mut g = Group::open(&DataDir::new(&dir))?;
            g.start_epoch(DocKind::Roster)?;
            g.start_epoch(DocKind::Contacts)?;
            g.maintain();
            drop(g);
            measure_sizes(&dir)?
        };
        Some((sizes, stats(&per_add), total, after))
    } else {
        None
    };

    // The report.
    let import_worst = import_files.iter().copied().max().unwrap_or(0);
    let import_worst_ratio = import_worst as f64 / import_sizes.roster_and_contacts() as f64;
    let import_median_ratio = stats(&import_files.iter().map(|&b| b as f64).collect::<Vec<_>>())
        .median
        / import_sizes.roster_and_contacts() as f64;
    let mut r = String::new();
    let _ = writeln!(r, "### Results\n");
    let _ = writeln!(r, "| measure | measured | target | result |");
    let _ = writeln!(r, "|---|---|---|---|");
    let _ = writeln!(
        r,
        "| `member add` on a {n}-member roster, CLI process, {} consecutive adds (median) | {} (p90 {}) | ≤ 30 ms | {} |",
        add.n,
        fmt_ms(add.median),
        fmt_ms(add.p90),
        verdict(add.median <= ADD_TARGET_MS)
    );
    let _ = writeln!(
        r,
        "| the same, first {} adds after the import only (median) | {} (p90 {}) | ≤ 30 ms | {} |",
        first_adds.n,
        fmt_ms(first_adds.median),
        fmt_ms(first_adds.p90),
        verdict(first_adds.median <= ADD_TARGET_MS)
    );
    let _ = writeln!(
        r,
        "| baseline: `groundwork --version` process (median of {}) | {} (p90 {}) | — | — |",
        version.n,
        fmt_ms(version.median),
        fmt_ms(version.p90)
    );
    let _ = writeln!(
        r,
        "| `member list --json`, {n} members, CLI (median of {}) | {} (p90 {}) | ≤ 300 ms | {} |",
        list.n,
        fmt_ms(list.median),
        fmt_ms(list.p90),
        verdict(list.median <= LIST_TARGET_MS)
    );
    let _ = writeln!(
        r,
        "| store file ÷ Automerge save (roster + contacts), {n} by one CSV import, largest of {} imports | {:.2}× ({} ÷ {}; median {:.2}×) | ≤ 2× | {} |",
        import_files.len(),
        import_worst_ratio,
        fmt_bytes(import_worst),
        fmt_bytes(import_sizes.roster_and_contacts()),
        import_median_ratio,
        verdict(import_worst_ratio <= SIZE_TARGET_RATIO)
    );
    if let Some((sizes, _, _, _)) = &library {
        let _ = writeln!(
            r,
            "| store file ÷ Automerge save (roster + contacts), {} by separate adds (library) | {:.2}× ({} ÷ {}) | ≤ 2× | {} |",
            config.library_adds,
            sizes.ratio(),
            fmt_bytes(sizes.file),
            fmt_bytes(sizes.roster_and_contacts()),
            verdict(sizes.ratio() <= SIZE_TARGET_RATIO)
        );
    }
    if let Some((before, _, _, after)) = &library {
        let ratio = after.file as f64 / before.roster_and_contacts() as f64;
        let _ = writeln!(
            r,
            "| the same after an epoch of the roster and contacts: store file ÷ Automerge save of the same roster and contacts (with their history) | {:.2}× ({} ÷ {}; ÷ the new epochs' own save {:.2}×) | ≤ 2× | {} |",
            ratio,
            fmt_bytes(after.file),
            fmt_bytes(before.roster_and_contacts()),
            after.ratio(),
            verdict(ratio <= SIZE_TARGET_RATIO)
        );
    }
    let _ = writeln!(
        r,
        "| `member import` of a {n}-row CSV into a fresh group, CLI (median of {}) | {} | ≤ 3 s | {} |",
        import.n,
        fmt_ms(import.median),
        verdict(import.median <= IMPORT_TARGET_MS)
    );

    let _ = writeln!(r, "\n### Details\n");
    let series = |r: &mut String, what: &str, s: &Stats| {
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
    };
    let _ = writeln!(r, "| series | n | min | median | mean | p90 | p99 | max |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
    series(&mut r, "CLI `--version`", &version);
    series(&mut r, &format!("CLI `member add` ({n}+ members)"), &add);
    series(&mut r, "CLI `member list --json`", &list);
    series(&mut r, "CLI `member import` (fresh group)", &import);
    let steps: [(&str, &Vec<f64>); 12] = [
        ("in-process: open the group (`Group::open`)", &parts.open),
        (
            "in-process: role check (loads the devices document)",
            &parts.role,
        ),
        (
            "in-process: load the roster (snapshot + changes)",
            &parts.load_roster,
        ),
        ("in-process: load the contacts", &parts.load_contacts),
        (
            "in-process: load the roster from one snapshot, no pending changes (`load_doc(save())`)",
            &parts.load_roster_compacted,
        ),
        (
            "in-process: look the email up in the contacts",
            &parts.email_lookup,
        ),
        (
            "in-process: put member and contact, commit both",
            &parts.edit_commit,
        ),
        (
            "in-process: `get_changes(heads at load)` on both, sign each",
            &parts.changes_since_sign,
        ),
        (
            "in-process: `Group::add_member`, the whole durable edit",
            &parts.add_member,
        ),
        ("in-process: close the store (drop `Group`)", &parts.close),
        (
            "in-process: `AutoCommit::save` of the roster (as in compaction)",
            &parts.roster_save,
        ),
        (
            "disk: write 4 KiB + `fdatasync` in the scratch directory",
            &parts.fsync,
        ),
    ];
    for (what, samples) in steps {
        series(&mut r, what, &stats(samples));
    }
    if let Some((_, per_add, _, _)) = &library {
        series(
            &mut r,
            "library `add_member`, growing from 0 members",
            per_add,
        );
    }
    let _ = writeln!(
        r,
        "\nThe in-process rows ran on the CLI's roster with {}–{} roster changes pending since its snapshot.",
        parts.pending_roster_changes.iter().min().unwrap_or(&0),
        parts.pending_roster_changes.iter().max().unwrap_or(&0)
    );
    if let Some((_, _, total, _)) = &library {
        let _ = writeln!(
            r,
            "\nThe {} library adds took {:.1} s in all.",
            config.library_adds,
            total.as_secs_f64()
        );
    }
    let _ = writeln!(
        r,
        "\n`member add` through the CLI by roster changes stored since the last snapshot \
         (compaction folds them in at {COMPACT_AFTER_CHANGES}):\n"
    );
    let _ = writeln!(r, "| pending roster changes | adds | median | p90 | max |");
    let _ = writeln!(r, "|---|---|---|---|---|");
    for (label, s) in &by_pending {
        let _ = writeln!(
            r,
            "| {label} | {} | {} | {} | {} |",
            s.n,
            fmt_ms(s.median),
            fmt_ms(s.p90),
            fmt_ms(s.max)
        );
    }
    let _ = writeln!(
        r,
        "\n`member list --json` printed {} of JSON for {n} members.",
        fmt_bytes(list_bytes as u64)
    );

    // Sizes: one column per way of building the roster.
    let mut variants: Vec<(String, &Sizes)> =
        vec![(format!("{n} by one CSV import"), &import_sizes)];
    if let Some((sizes, _, _, _)) = &library {
        variants.push((format!("{} by separate adds", config.library_adds), sizes));
    }
    if let Some((_, _, _, after)) = &library {
        variants.push((
            format!("{} by separate adds, after an epoch", config.library_adds),
            after,
        ));
    }
    let _ = write!(r, "\n| size |");
    for (name, _) in &variants {
        let _ = write!(r, " {name} |");
    }
    let _ = write!(r, "\n|---|");
    for _ in &variants {
        let _ = write!(r, "---|");
    }
    let _ = writeln!(r);
    let row = |r: &mut String, what: &str, f: &dyn Fn(&Sizes) -> String| {
        let _ = write!(r, "| {what} |");
        for (_, s) in &variants {
            let _ = write!(r, " {} |", f(s));
        }
        let _ = writeln!(r);
    };
    row(&mut r, "store file (`groundwork.redb`)", &|s| {
        fmt_bytes(s.file)
    });
    row(
        &mut r,
        "store file after redb compaction (`Store::shrink_file`)",
        &|s| {
            s.file_shrunk.map_or_else(
                || "not measured".to_owned(),
                |b| {
                    format!(
                        "{} ({:.2}×)",
                        fmt_bytes(b),
                        b as f64 / s.roster_and_contacts() as f64
                    )
                },
            )
        },
    );
    row(&mut r, "Automerge save: roster", &|s| {
        fmt_bytes(s.roster_save)
    });
    row(&mut r, "Automerge save: contacts", &|s| {
        fmt_bytes(s.contacts_save)
    });
    row(&mut r, "Automerge save: all six documents", &|s| {
        fmt_bytes(s.all_docs_save)
    });
    row(&mut r, "stored snapshots (all documents)", &|s| {
        fmt_bytes(s.snapshot_bytes)
    });
    row(&mut r, "epoch of the roster, the contacts", &|s| {
        format!("{}, {}", s.epochs.0, s.epochs.1)
    });
    row(&mut r, "stored changes since the snapshots", &|s| {
        format!("{} ({})", s.pending_changes, fmt_bytes(s.pending_bytes))
    });
    row(
        &mut r,
        "signed changes in the history (one stored signature each)",
        &|s| s.changes.to_string(),
    );
    row(
        &mut r,
        "their signatures: 32-byte hash key + 64-byte signature",
        &|s| fmt_bytes(s.changes * 96),
    );
    row(&mut r, "their changes, each encoded on its own", &|s| {
        fmt_bytes(s.change_bytes)
    });
    let _ = writeln!(
        r,
        "\nThe store file after each of the {} CSV imports (the table shows the first): {}.",
        import_files.len(),
        import_files
            .iter()
            .map(|&b| fmt_bytes(b))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        r,
        "\nThe whole bench took {:.0} s.",
        bench_start.elapsed().as_secs_f64()
    );
    print!("{r}");
    Ok(())
}
