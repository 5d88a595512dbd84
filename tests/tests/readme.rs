//! The README's tour, run from the README itself: the ```sh block under
//! "## A tour", line for line, in bash, on a fresh home directory with
//! `groundwork` on the PATH, so the tour and the program cannot drift
//! apart.
//!
//! Two changes only, both checked: after `groundwork up &` the script
//! waits until the node answers (a person reads its output first), and
//! the two `tui` lines are skipped (they need a person at a terminal; the
//! terminal UI has its own end-to-end tests in tui.rs).

use std::path::Path;
use std::process::{Command, Stdio};

use groundwork_tests::{bin, workspace_root};

/// The lines of the ```sh block that follows `## A tour`.
fn tour() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let at = readme.find("\n## A tour\n").expect("README has a tour");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("the tour has a sh block") + "```sh\n".len();
    let len = rest[start..].find("```").expect("the block ends");
    rest[start..start + len]
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The command on a line, without its comment.
fn command(line: &str) -> &str {
    line.split(" #").next().unwrap_or_default().trim()
}

/// The tour as a bash script: stop at the first failure, show each line
/// as it runs, wait for `up`, skip `tui`, and stop the node however the
/// script ends.
fn script(lines: &[String]) -> (String, Vec<String>) {
    let mut s = String::from(
        "set -euo pipefail\n\
         __gw_stop() { kill $(jobs -p) 2>/dev/null || true; }\n\
         trap __gw_stop EXIT\n\
         __gw_wait_up() {\n\
           local pid=$1; shift\n\
           for _ in $(seq 1 600); do\n\
             \"$@\" ticket --bare >/dev/null 2>&1 && return 0\n\
             kill -0 $pid 2>/dev/null || { echo 'groundwork up exited' >&2; return 1; }\n\
             sleep 0.1\n\
           done\n\
           echo 'groundwork up did not answer within 60 s' >&2; return 1\n\
         }\n\
         PS4='+ [${SECONDS}s] '\n\
         set -x\n",
    );
    let mut skipped = Vec::new();
    for line in lines {
        let cmd = command(line);
        if cmd.starts_with("groundwork") && cmd.ends_with(" tui") {
            skipped.push(cmd.to_owned());
            s.push_str(": skipped, it needs a person at a terminal\n");
            continue;
        }
        s.push_str(line);
        s.push('\n');
        // `groundwork [--data-dir D] up &`: wait until that node answers.
        if let Some(prefix) = cmd.strip_suffix(" up &") {
            s.push_str(&format!("__gw_wait_up $! {prefix}\n"));
        }
    }
    (s, skipped)
}

/// An editor that adds a clause to the file it is given.
fn editor(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("editor.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\nprintf '8. Quorum. Five members present make a meet-up quorate.\\n' >> \"$1\"\n",
    )
    .expect("write the editor");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn json(home: &Path, dir: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(home.join(dir))
        .args(args)
        .arg("--json")
        .env("HOME", home)
        .env_remove("GROUNDWORK_DIR")
        .output()
        .expect("run groundwork");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_readme_tour_runs_as_written() {
    let lines = tour();
    let (script, skipped) = script(&lines);
    // The test changes nothing else: every skipped line is a `tui`, and
    // the tour still has what it shows.
    assert_eq!(
        skipped,
        vec!["groundwork tui", "groundwork --data-dir ~/national tui"],
        "only the terminal UI lines are skipped"
    );
    let ups: Vec<&str> = lines
        .iter()
        .map(|l| command(l))
        .filter(|c| c.ends_with(" up &"))
        .collect();
    assert_eq!(
        ups,
        vec!["groundwork up &", "groundwork --data-dir ~/national up &"],
        "the tour starts a group's node and the national node"
    );
    let commands = lines
        .iter()
        .filter(|l| !command(l).is_empty() && !command(l).starts_with('#'))
        .count();
    assert!(commands >= 40, "the tour has {commands} commands");

    let home = tempfile::tempdir().expect("temp home");
    let home = home.path();
    let work = home.join("work");
    std::fs::create_dir(&work).expect("work dir");
    let bin_dir = bin().parent().expect("binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("timeout")
        .args(["--kill-after=10", "600", "bash", "-c", &script])
        .current_dir(&work)
        .env("HOME", home)
        .env("PATH", path)
        .env("EDITOR", editor(home))
        .env("NO_COLOR", "1")
        .env_remove("VISUAL")
        .env_remove("GROUNDWORK_DIR")
        .env_remove("GROUNDWORK_OFFLINE")
        .env_remove("GROUNDWORK_LOG")
        .env_remove("RUST_LOG")
        .env_remove("GROUNDWORK_PASSPHRASE_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the tour failed ({}):\n--- stdout\n{stdout}\n--- stderr (each line as it ran)\n{stderr}",
        out.status
    );
    for expected in [
        "founded Moorlands Climate Action",
        "imported 2 members",
        "forgot member",
        "joined Moorlands Climate Action",
        "affiliated Moorlands Climate Action",
        "Converged in",
    ] {
        assert!(
            stdout.contains(expected),
            "no {expected:?} in:\n{stdout}\n{stderr}"
        );
    }
    // No line of the tour printed an error or a warning.
    assert!(
        !stderr
            .lines()
            .any(|l| l.starts_with("error") || l.contains("WARN")),
        "{stderr}"
    );

    // What the tour did is there: the roster (Amara, the template's two
    // examples, not Jo), the edited constitution, the report, the joined
    // device, and the national node's directory.
    let members = json(home, "moorlands", &["member", "list"]);
    let mut names: Vec<&str> = members
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["Amara Holt", "Jo Example", "Sam Example"]);
    let constitution = json(home, "moorlands", &["constitution", "show"]);
    let body = constitution.to_string();
    assert!(body.contains("8. Quorum."), "{body}");
    assert!(body.contains("2019-02-01"), "{body}");
    let roster = std::fs::read_to_string(work.join("roster.csv")).expect("roster.csv");
    assert!(roster.contains("Amara Holt") && roster.contains("07700 900456"));
    let html = std::fs::read_to_string(work.join("report.html")).expect("report.html");
    assert!(
        html.contains("<html") && html.contains("id=\"fig-members\""),
        "{html}"
    );
    let second = json(home, "second", &["member", "list"]);
    assert_eq!(
        second.as_array().map(Vec::len),
        Some(3),
        "the joined device holds the roster"
    );
    let directory = json(home, "national", &["network"]);
    assert!(
        directory.to_string().contains("Moorlands Climate Action"),
        "{directory}"
    );
    // The demo kept out of $GROUNDWORK_DIR.
    let moorlands: Vec<String> = std::fs::read_dir(home.join("moorlands"))
        .expect("moorlands")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert!(
        !moorlands
            .iter()
            .any(|n| n.contains("demo") || n == "national"),
        "{moorlands:?}"
    );
}
