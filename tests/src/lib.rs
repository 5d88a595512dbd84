//! The shared test harness for Groundwork's end-to-end tests.
//!
//! [`Node`] is one data directory driven through the real `groundwork`
//! binary. [`bin`] finds (building if needed) that binary once per test run.
//! Every helper fails with a message that says what was run and what came
//! back, so a failing test explains itself.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use assert_cmd::Command;
use tempfile::TempDir;

/// The `groundwork` binary under test: `target/<profile>/groundwork`, built
/// once per test run so the tests always drive the current code.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
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
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace_root().join("target"), PathBuf::from);
        let path = target.join("debug").join("groundwork");
        assert!(path.exists(), "no binary at {}", path.display());
        path
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
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
            .args(args);
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

    /// Every byte of every file in the data directory.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.path()).expect("read data dir") {
            let p = entry.expect("dir entry").path();
            if p.is_file() {
                out.extend(std::fs::read(&p).expect("read file"));
            }
        }
        out
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
