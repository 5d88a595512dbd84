//! The cost of a passphrase (issue 15): edit latency and a cold `member
//! list` on a 10,000-member roster, with and without one, measured in the
//! same run, paired (plain, sealed, plain, sealed, ...) so drift on a noisy
//! machine falls on both sides alike.
//!
//! Run it with `scripts/bench-passphrase.sh` (see docs/benchmarks.md). Knobs:
//! `GW_BENCH_MEMBERS` (10,000), `GW_BENCH_ADDS` (64 of each kind of add per
//! side), `GW_BENCH_LIST_RUNS` (10 per side). The sealed directory uses the
//! real Argon2id parameters (64 MiB, 3 passes, 1 lane), not the test
//! suite's floor.
//!
//! Measured, per side:
//! - **cold `member list --json`**: a process that opens the store itself
//!   (with a passphrase: reads `store.key`, derives the key, opens the
//!   sealed values), lists and exits;
//! - **cold `member add`**: the same, making one durable edit;
//! - **`member add` served by a running node** (`up`): what a user at the
//!   TUI or CLI waits for once the node has the keys;
//! - **a library edit** (`Group::add_member` in this process, the group
//!   open): the seal's own cost per edit, no process or socket;
//! - **the Argon2id derivation** alone, in this process.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use groundwork_node::datadir::DataDir;
use groundwork_node::group::{Group, MemberInput};
use groundwork_node::secrets::{KdfParams, Passphrase, PassphraseSource};
use groundwork_tests::stats::{Stats, ms, stats};

mod common;
use common::{fmt_ms, knob, roster_csv};

const PASSPHRASE: &str = "a bench passphrase of some length";
/// Untimed runs before each timed series.
const WARM_UP: usize = 2;
/// Argon2id derivations timed.
const KDF_RUNS: usize = 5;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// One data directory under test.
struct Side {
    label: &'static str,
    dir: PathBuf,
    passphrase: Option<PathBuf>,
}

impl Side {
    fn command(&self, bin: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.arg("--data-dir")
            .arg(&self.dir)
            .args(args)
            .env_remove("GROUNDWORK_DIR")
            .env_remove("GROUNDWORK_LOG")
            .env_remove("GROUNDWORK_KDF")
            .env_remove("GROUNDWORK_PASSPHRASE_FILE")
            .stdin(Stdio::null());
        if let Some(p) = &self.passphrase {
            c.arg("--passphrase-file").arg(p);
        }
        c
    }

    /// Runs a command that must succeed; its wall time and stdout.
    fn timed(&self, bin: &Path, args: &[&str]) -> Result<(Duration, String)> {
        let start = Instant::now();
        let out = self
            .command(bin, args)
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        let took = start.elapsed();
        if !out.status.success() {
            bail!(
                "`groundwork {}` ({}) failed: {}",
                args.join(" "),
                self.label,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok((took, String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    fn data_dir(&self) -> Result<DataDir> {
        let d = DataDir::new(&self.dir);
        Ok(match &self.passphrase {
            Some(p) => d.with_passphrase(PassphraseSource::file(p)),
            None => d,
        })
    }

    /// `up` on this side, once it has printed its ticket.
    fn up(&self, bin: &Path) -> Result<Child> {
        common::spawn_up(
            &mut self.command(bin, &["--offline", "up", "--listen", "127.0.0.1:0"]),
            Duration::from_secs(120),
        )
        .with_context(|| format!("`up` ({})", self.label))
    }
}

fn stop(mut child: Child) -> Result<()> {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status()?;
    let status = child.wait()?;
    ensure!(status.success(), "`groundwork up` ended with {status}");
    Ok(())
}

/// Times `f` for each side in turn, `runs` times: plain, sealed, plain, ...
fn paired(
    sides: &[Side; 2],
    runs: usize,
    mut f: impl FnMut(&Side, usize) -> Result<Duration>,
) -> Result<[Stats; 2]> {
    let mut samples = [Vec::new(), Vec::new()];
    for i in 0..WARM_UP {
        for s in sides {
            f(s, i)?;
        }
    }
    for i in 0..runs {
        for (k, s) in sides.iter().enumerate() {
            samples[k].push(ms(f(s, WARM_UP + i)?));
        }
    }
    Ok([stats(&samples[0]), stats(&samples[1])])
}

fn run() -> Result<()> {
    let members = knob("GW_BENCH_MEMBERS", 10_000)?;
    let adds = knob("GW_BENCH_ADDS", 64)?;
    let list_runs = knob("GW_BENCH_LIST_RUNS", 10)?;
    ensure!(
        members > 0 && adds > 0 && list_runs > 0,
        "knobs must be at least 1"
    );
    let bin = groundwork_tests::release_binary("scripts/bench-passphrase.sh")?;
    let scratch_root = groundwork_tests::target_dir().join("bench-tmp");
    std::fs::create_dir_all(&scratch_root)?;
    let scratch = tempfile::Builder::new()
        .prefix("at-rest-")
        .tempdir_in(&scratch_root)?;
    let root = scratch.path();
    let pass = root.join("passphrase");
    std::fs::write(&pass, format!("{PASSPHRASE}\n"))?;
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600))?;
    let csv = root.join("members.csv");
    std::fs::write(&csv, roster_csv(members))?;
    let csv = csv
        .to_str()
        .context("scratch path is not UTF-8")?
        .to_owned();

    let sides = [
        Side {
            label: "no passphrase",
            dir: root.join("plain"),
            passphrase: None,
        },
        Side {
            label: "passphrase",
            dir: root.join("sealed"),
            passphrase: Some(pass.clone()),
        },
    ];
    for s in &sides {
        eprintln!("{}: init and import {members} members", s.label);
        s.timed(&bin, &["init", "--name", "Bench Organising Group"])?;
        let (_, said) = s.timed(&bin, &["member", "import", &csv])?;
        ensure!(
            said.contains(&format!("imported {members} member")),
            "{said}"
        );
    }

    eprintln!("Argon2id derivation: {KDF_RUNS} runs");
    let p = Passphrase::new(PASSPHRASE.to_owned().into())?;
    let mut kdf = Vec::new();
    for _ in 0..KDF_RUNS {
        let t = Instant::now();
        KdfParams::DEFAULT.derive(&p, &[7; 16])?;
        kdf.push(ms(t.elapsed()));
    }
    let kdf = stats(&kdf);

    eprintln!("cold member list --json: {list_runs} per side");
    let list = paired(&sides, list_runs, |s, _| {
        let (t, out) = s.timed(&bin, &["member", "list", "--json"])?;
        let n = serde_json::from_str::<serde_json::Value>(&out)?
            .as_array()
            .map_or(0, Vec::len);
        ensure!(n >= members, "{} listed {n} members", s.label);
        Ok(t)
    })?;

    eprintln!("cold member add: {adds} per side");
    let cold_add = paired(&sides, adds, |s, i| {
        let name = format!("Cold Add {i}");
        Ok(s.timed(&bin, &["member", "add", "--name", &name])?.0)
    })?;

    eprintln!("library edit: {adds} per side");
    let groups = [
        Group::open(&sides[0].data_dir()?)?,
        Group::open(&sides[1].data_dir()?)?,
    ];
    let mut lib = [Vec::new(), Vec::new()];
    for i in 0..adds + WARM_UP {
        for (k, g) in groups.iter().enumerate() {
            let input = MemberInput {
                name: Some(format!("Library Add {i}")),
                ..MemberInput::default()
            };
            let t = Instant::now();
            g.add_member(&input, groundwork_node::group::today())?;
            if i >= WARM_UP {
                lib[k].push(ms(t.elapsed()));
            }
        }
    }
    drop(groups);
    let lib = [stats(&lib[0]), stats(&lib[1])];

    eprintln!("member add served by a running node: {adds} per side");
    let nodes = [sides[0].up(&bin)?, sides[1].up(&bin)?];
    let served = paired(&sides, adds, |s, i| {
        let name = format!("Served Add {i}");
        Ok(s.timed(&bin, &["member", "add", "--name", &name])?.0)
    });
    for n in nodes {
        stop(n)?;
    }
    let served = served?;

    let mut out = String::new();
    writeln!(
        out,
        "{members} members; medians (p90); ratio = with ÷ without a passphrase."
    )?;
    writeln!(out)?;
    writeln!(out, "| measure | no passphrase | passphrase | ratio |")?;
    writeln!(out, "|---|---|---|---|")?;
    for (what, [a, b]) in [
        (
            "cold `member list --json` (a process opening the store)",
            &list,
        ),
        ("cold `member add` (a process opening the store)", &cold_add),
        ("`member add` served by a running node", &served),
        ("library edit (`Group::add_member`, group open)", &lib),
    ] {
        writeln!(
            out,
            "| {what} | {} ({}) | {} ({}) | {:.2}× |",
            fmt_ms(a.median),
            fmt_ms(a.p90),
            fmt_ms(b.median),
            fmt_ms(b.p90),
            b.median / a.median
        )?;
    }
    writeln!(
        out,
        "| Argon2id derivation alone (m=64 MiB, t=3, p=1), in process | — | {} ({}) | — |",
        fmt_ms(kdf.median),
        fmt_ms(kdf.p90)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Runs: {list_runs} lists and {adds} adds of each kind per side, after {WARM_UP} untimed, paired."
    )?;
    print!("{out}");
    Ok(())
}
