//! The shared test harness for Groundwork's end-to-end tests.
//!
//! [`Node`] is one data directory driven through the real `groundwork`
//! binary. [`bin`] finds (building if needed) that binary once per test run.
//! Every helper fails with a message that says what was run and what came
//! back, so a failing test explains itself.

pub mod attacks;
pub mod decoded;
pub mod disclosure;
pub mod impair;
pub mod lab;
pub mod people;
pub mod procfs;
pub mod sealed;
pub mod stats;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use assert_cmd::Command;
use tempfile::TempDir;

/// The `groundwork` binary under test, `target/debug/groundwork`.
///
/// `cargo test --workspace` builds it (the node package has an integration
/// test). When it is missing, or older than any source file of the node or
/// protocol crates (as after `cargo test -p groundwork-tests` alone), it is
/// built here first, so the tests never drive stale code.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let path = target_dir().join("debug").join("groundwork");
        if !is_fresh(&path) {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "groundwork-node",
                    "--bin",
                    "groundwork",
                ])
                .current_dir(workspace_root())
                .status()
                .expect("run cargo build for the groundwork binary");
            assert!(status.success(), "building the groundwork binary failed");
        }
        assert!(path.exists(), "no binary at {}", path.display());
        path
    })
}

/// Whether `bin` exists and is newer than every source file it is built from.
fn is_fresh(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let root = workspace_root();
    let mut stack = vec![
        root.join("node/src"),
        root.join("protocol/src"),
        root.join("tui/src"),
        root.join("Cargo.lock"),
    ];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.filter_map(Result::ok).map(|e| e.path()));
            }
        } else if meta.modified().is_ok_and(|m| m > built) {
            return false;
        }
    }
    true
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// The release binary, which the benchmarks never build themselves;
/// `script` is the one that builds it before running them.
pub fn release_binary(script: &str) -> anyhow::Result<PathBuf> {
    let bin = target_dir().join("release").join("groundwork");
    if !bin.is_file() {
        anyhow::bail!(
            "no release binary at {}; build it first with `cargo build --release -p groundwork-node` \
             ({script} does this)",
            bin.display()
        );
    }
    Ok(bin)
}

/// One data directory, driven through the CLI.
#[derive(Debug)]
pub struct Node {
    dir: TempDir,
}

/// A finished command: exit code, stdout and stderr as text.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

impl Node {
    /// A fresh, empty data directory.
    pub fn new() -> Self {
        Node {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A data directory with a group founded in it.
    pub fn founded(name: &str) -> Self {
        let n = Self::new();
        n.ok(&["init", "--name", name, "--area", "Test area"]);
        n
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command for this node, with the environment pinned.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// The same as a plain `std::process::Command`, for spawning and killing.
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(bin());
        c.env("GROUNDWORK_DIR", self.path())
            .env("NO_COLOR", "1")
            .env_remove("GROUNDWORK_LOG")
            .env_remove("RUST_LOG")
            .env_remove("GROUNDWORK_OFFLINE")
            .args(args);
        // GW_TEST_LOG=debug shows the nodes' logs when a test needs explaining.
        if let Some(level) = std::env::var_os("GW_TEST_LOG") {
            c.env("GROUNDWORK_LOG", level);
        }
        c
    }

    /// Runs a command and returns what happened.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("spawn groundwork"))
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "`groundwork {}` failed ({}):\n{}",
            args.join(" "),
            r.code,
            r.stderr
        );
        r.stdout
    }

    /// Runs a command that must fail with `code` and print exactly one line
    /// on stderr; returns that line.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code,
            code,
            "`groundwork {}`: expected exit {code}, got {}\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        );
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "`groundwork {}`: expected one error line, got:\n{}",
            args.join(" "),
            r.stderr
        );
        assert!(
            !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
            "panic: {}",
            r.stderr
        );
        lines[0].to_owned()
    }

    /// Runs a command with `--json` and parses the output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "`groundwork {}` printed invalid JSON ({e}):\n{out}",
                a.join(" ")
            )
        })
    }

    /// Adds a member and returns the id the CLI printed.
    pub fn add_member(&self, args: &[&str]) -> String {
        let mut a = vec!["member", "add"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        parse_added_id(&out).unwrap_or_else(|| panic!("no id in `{}`", out.trim()))
    }
}

/// The id in a line like `added member k3f9qz: Ada Obi` or `added meet-up k3f9qz`.
pub fn parse_added_id(out: &str) -> Option<String> {
    let line = out.lines().find(|l| l.starts_with("added "))?;
    let word = line.split_whitespace().nth(2)?;
    Some(word.trim_end_matches(':').to_owned())
}

/// A seeded generator of made-up member names (no real person's details).
pub fn fake_names(seed: u64, n: usize) -> Vec<String> {
    use rand::{Rng, SeedableRng};
    const FIRST: &[&str] = &[
        "Ada", "Bea", "Cal", "Dev", "Eli", "Fen", "Gus", "Hal", "Ira", "Jo", "Kit", "Lou", "Mo",
        "Nia", "Oli", "Pru",
    ];
    const SYL: &[&str] = &[
        "bar", "den", "fol", "gar", "hul", "ker", "lin", "mor", "nes", "pel", "rin", "sto", "tam",
        "vel", "wyn",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last: String = (0..2)
                .map(|_| SYL[rng.random_range(0..SYL.len())])
                .collect();
            let mut last = last;
            if let Some(c) = last.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            format!("{first} {last}{i}")
        })
        .collect()
}

/// Writes `path`: a roster CSV of `n` made-up members from `seed` (names
/// from [`fake_names`], emails `m{i}@example.org`, and with `phones` a
/// phone from Ofcom's drama range), for `member import`.
pub fn write_roster_csv(path: &Path, seed: u64, n: usize, phones: bool) {
    let mut text = String::from(if phones {
        "Name,Email,Phone\n"
    } else {
        "Name,Email\n"
    });
    for (i, name) in fake_names(seed, n).iter().enumerate() {
        text.push_str(&format!("{name},m{i}@example.org"));
        if phones {
            text.push_str(&format!(",07700 9{i:05}"));
        }
        text.push('\n');
    }
    std::fs::write(path, text).expect("write the roster CSV");
}

/// A running `groundwork up`, stopped (SIGTERM) when dropped.
#[derive(Debug)]
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Everything read from stdout so far.
    pub stdout: Vec<String>,
}

impl Node {
    /// Starts `groundwork --offline up --listen 127.0.0.1:0` and waits (at
    /// most 30 s) for its `ticket:` line.
    pub fn up(&self) -> (Running, String) {
        self.up_with(&["--offline", "up", "--listen", "127.0.0.1:0"])
    }

    /// Starts `groundwork ARGS` (an `up` command line) and waits for its ticket.
    pub fn up_with(&self, args: &[&str]) -> (Running, String) {
        self.spawn_up(self.std_cmd(args).stderr(std::process::Stdio::inherit()))
    }

    /// Starts `groundwork --offline up` with debug logging written to
    /// `log`, and every byte it receives from peers to `wire` (what the
    /// privacy test searches).
    pub fn up_recorded(&self, log: &Path, wire: &Path) -> (Running, String) {
        let file = std::fs::File::create(log).expect("create the log file");
        let mut cmd = self.std_cmd(&["--offline", "up", "--listen", "127.0.0.1:0"]);
        cmd.env("GROUNDWORK_LOG", "debug")
            .env("GROUNDWORK_WIRE_DUMP", wire)
            .stderr(file);
        self.spawn_up(&mut cmd)
    }

    /// Starts `groundwork --offline up --listen LISTEN` inside the lab's
    /// namespace `ns`, and waits for its ticket.
    pub fn up_inside(&self, lab: &lab::Lab, ns: &str, listen: &str) -> (Running, String) {
        let up = self.std_cmd(&["--offline", "up", "--listen", listen]);
        self.spawn_up(lab.inside(ns, &up).stderr(std::process::Stdio::inherit()))
    }

    /// A new data directory that joins with `invite` from inside the lab's
    /// namespace `ns` (and does the first sync there).
    pub fn join_inside(lab: &lab::Lab, ns: &str, invite: &str, label: &str) -> Node {
        let n = Node::new();
        let r = n.run_inside(lab, ns, &["--offline", "join", invite, "--label", label]);
        assert_eq!(r.code, 0, "join {label} in {ns}: {}", r.stderr);
        n
    }

    /// Spawns `groundwork --offline up` on a loopback port without waiting
    /// for it (its output dropped): for tests that act while it starts or
    /// kill it at a chosen moment.
    pub fn spawn_up_unwatched(&self) -> std::process::Child {
        self.std_cmd(&["--offline", "up", "--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn groundwork up")
    }

    /// Runs a command inside the lab's namespace `ns`.
    pub fn run_inside(&self, lab: &lab::Lab, ns: &str, args: &[&str]) -> Run {
        Run::from(
            lab.inside(ns, &self.std_cmd(args))
                .output()
                .expect("spawn groundwork in a namespace"),
        )
    }

    fn spawn_up(&self, cmd: &mut std::process::Command) -> (Running, String) {
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn groundwork up");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running = Running {
            child,
            lines: rx,
            stdout: Vec::new(),
        };
        let line = running.wait_for_line(
            |l| l.starts_with("ticket: "),
            std::time::Duration::from_secs(30),
        );
        let ticket = line.trim_start_matches("ticket: ").to_owned();
        (running, ticket)
    }
}

impl Running {
    /// The process id of the node.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's peak resident memory so far, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        procfs::proc_sample(self.pid()).map_or(0, |s| s.hwm_kib)
    }

    /// Waits for a stdout line matching `want`, failing the test after `limit`.
    pub fn wait_for_line(
        &mut self,
        want: impl Fn(&str) -> bool,
        limit: std::time::Duration,
    ) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no matching line from `groundwork up` within {limit:?}; got {:?}",
                    self.stdout
                ),
            }
        }
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits (at most 30 s) for the exit code.
    pub fn stop(&mut self, signal: &str) -> i32 {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                // Read to the end of its output: the reader thread ends at EOF.
                while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(10)) {
                    self.stdout.push(line);
                }
                return s.code().unwrap_or(-1);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "`groundwork up` did not stop within 30 s of SIGTERM"
            );
            std::thread::yield_now();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Checks `check` until it gives a value, failing the test with `what` and
/// the last thing seen after `limit`. Each check is a full CLI round trip;
/// between checks the thread yields briefly.
pub fn eventually<T>(
    what: &str,
    limit: std::time::Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "timed out after {limit:?} waiting for {what}; last: {last}"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// How long a sync between nodes on loopback may take in a test.
pub const SYNC_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Node {
    /// How many heads this group's document `kind` has, as `status` shows.
    pub fn heads(&self, kind: &str) -> u64 {
        let s = self.status();
        s["documents"]
            .as_array()
            .and_then(|d| {
                d.iter()
                    .find(|d| d["kind"] == kind && d["group"] == s["group"])
                    .and_then(|d| d["heads"].as_u64())
            })
            .expect("document in status")
    }

    /// The names on the roster (through the running node if there is one).
    pub fn member_names(&self) -> Vec<String> {
        let v = self.json(&["member", "list"]);
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until the roster names `name`.
    pub fn wait_for_member(&self, name: &str) {
        eventually(&format!("{name} on the roster"), SYNC_LIMIT, || {
            let names = self.member_names();
            if names.iter().any(|n| n == name) {
                Ok(())
            } else {
                Err(format!("{names:?}"))
            }
        });
    }

    /// A one-time invite for `role`, made by this node (running or not).
    pub fn invite(&self, role: &str) -> String {
        let out = self.ok(&["invite", "--role", role]);
        out.trim().to_owned()
    }

    /// A one-time link code from this node's steward, as a link ticket
    /// (`groundwork link-code`): what another group's `peer add` or the
    /// national node's `affiliate` needs to link without asking.
    pub fn link_ticket(&self) -> String {
        let out = self.ok(&["link-code"]);
        let t = out.trim().to_owned();
        assert!(t.starts_with("gwlink"), "not a link ticket: {out}");
        t
    }

    /// A new data directory that joins with `invite` (and does the first sync).
    pub fn join(invite: &str, label: &str) -> Node {
        let n = Node::new();
        n.ok(&["--offline", "join", invite, "--label", label]);
        n
    }

    /// This group's documents on the running node, as (kind, heads
    /// fingerprint), sorted; an error while no node answers.
    pub fn fingerprints(&self) -> Result<Vec<(String, String)>, String> {
        let r = self.run(&["status", "--json"]);
        let s: serde_json::Value =
            serde_json::from_str(&r.stdout).map_err(|_| r.stderr.trim().to_owned())?;
        let mut v: Vec<(String, String)> = s["documents"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter(|d| d["group"] == s["group"])
                    .map(|d| {
                        (
                            d["kind"].as_str().unwrap_or("?").to_owned(),
                            d["fingerprint"].as_str().unwrap_or("none").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        Ok(v)
    }

    /// `status --json` of the running node.
    pub fn status(&self) -> serde_json::Value {
        self.json(&["status"])
    }

    /// This node's device id (from `device list`).
    pub fn device_id(&self) -> String {
        let v = self.json(&["device", "list"]);
        v.as_array()
            .and_then(|a| a.iter().find(|d| d["this_device"] == true))
            .and_then(|d| d["id"].as_str())
            .expect("this device in device list")
            .to_owned()
    }
}
