//! The terminal UI, driven through the real binary inside tmux (loopback,
//! relays off): it shows an edit made on another device without a key
//! pressed, its own edits sync to that device, it starts the node itself when
//! none runs, and it restores the terminal when it quits.
//!
//! Each test runs its own tmux server (`tmux -L <socket>`), so tests never
//! share a terminal. tmux must be installed; CI installs it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use groundwork_tests::{Node, SYNC_LIMIT, bin, eventually};

/// How long the UI may take to draw, or to act on keys, on a slow machine.
const UI_LIMIT: Duration = Duration::from_secs(60);

/// `s` quoted for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A tmux server of its own with one 120×40 session, `gw`; killed on drop.
struct Tmux {
    socket: String,
    /// The server's socket file, which `kill-server` leaves behind.
    socket_path: String,
}

impl Tmux {
    /// Runs `groundwork --data-dir DIR --offline tui` in a new session. When
    /// the UI exits the pane prints `TUI EXITED <code>` and stays open.
    fn tui(test: &str, dir: &Path) -> Tmux {
        Tmux::tui_with(test, dir, "")
    }

    /// [`Tmux::tui`] with `env` (`NAME=value …`, quoted) set for the UI.
    fn tui_with(test: &str, dir: &Path, env: &str) -> Tmux {
        Tmux::start(test, dir, env, "--offline tui")
    }

    /// Runs `groundwork --data-dir DIR ARGS` (ARGS already quoted) in a
    /// new session; the pane prints `TUI EXITED <code>` when it ends.
    fn start(test: &str, dir: &Path, env: &str, args: &str) -> Tmux {
        let tui = format!(
            "NO_COLOR=1 TERM=xterm-256color {env} {} --data-dir {} {args}",
            sh_quote(&bin().to_string_lossy()),
            sh_quote(&dir.to_string_lossy())
        );
        let script = format!("{tui}; echo \"TUI EXITED $?\"; sleep 600");
        let mut tmux = Tmux {
            socket: format!("gw-{test}-{}", std::process::id()),
            socket_path: String::new(),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            "gw",
            "sh",
            "-c",
            &script,
        ]);
        let path = tmux.run(&["display-message", "-p", "#{socket_path}"]);
        tmux.socket_path = path.trim().to_owned();
        tmux
    }

    /// Runs `tmux -L SOCKET ARGS`, failing the test unless it succeeds.
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .env_remove("GROUNDWORK_DIR")
            .env_remove("GROUNDWORK_LOG")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run tmux ({e}): these tests need tmux; install it (CI does)")
            });
        assert!(
            out.status.success(),
            "`tmux {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends each of `keys` (tmux key names: `2`, `Enter`, `Tab`…).
    fn send_keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "gw", key]);
        }
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "gw", "-l", text]);
    }

    /// The screen as text.
    fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "gw"])
    }

    /// The screen and all the lines scrolled off it, as text.
    fn capture_history(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-", "-t", "gw"])
    }

    /// Polls the screen until it shows `needle`; returns that screen.
    fn wait_for(&self, needle: &str, limit: Duration) -> String {
        self.wait_until(&format!("{needle:?}"), limit, |s| s.contains(needle))
    }

    /// Polls the screen until `want` holds for it; returns that screen.
    fn wait_until(&self, what: &str, limit: Duration, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.capture();
            if want(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{what} not on the screen within {limit:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Quits with `keys` and checks the UI exited 0 and gave the terminal back.
    fn quit(&self, keys: &[&str]) {
        self.send_keys(keys);
        let screen = self.wait_for("TUI EXITED 0", UI_LIMIT);
        assert!(
            !screen.contains("? help") && !screen.contains('┌'),
            "the UI is still drawn after it exited:\n{screen}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

/// Whether `plan show --json` on `n` lists an action titled `title`.
fn plan_has_action(n: &Node, title: &str) -> Result<(), String> {
    let plan = n.json(&["plan", "show"]);
    let found = plan["actions"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["title"] == title));
    if found { Ok(()) } else { Err(plan.to_string()) }
}

#[test]
fn tui_shows_an_edit_made_on_another_device_and_syncs_its_own_edits() {
    let a = Node::founded("Community Organisers Birkenhead");
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "b");
    let (_rb, _) = b.up();
    a.add_member(&["--name", "Synced Before The UI"]);
    b.wait_for_member("Synced Before The UI");

    // Declared after the nodes, so it is dropped (and the UI killed) first.
    let tmux = Tmux::tui("sync", a.path());
    tmux.wait_for("Community Organisers Birkenhead", UI_LIMIT);
    tmux.wait_for("? help", UI_LIMIT);
    tmux.send_keys(&["2"]);
    tmux.wait_for("Constitution │ Plan │ Meet-ups │ Members", UI_LIMIT);
    tmux.send_keys(&["l"]);
    tmux.wait_for("Actions ", UI_LIMIT);
    tmux.send_keys(&["l"]);
    tmux.wait_for("Meet-ups (", UI_LIMIT);

    // A meet-up written on B shows up on A's screen with no key pressed.
    b.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-20",
        "--place",
        "Tmux Hall",
    ]);
    tmux.wait_for("Tmux Hall", SYNC_LIMIT + UI_LIMIT);

    // A plan action written in the UI reaches B.
    tmux.send_keys(&["h"]);
    tmux.wait_for("Actions ", UI_LIMIT);
    tmux.send_keys(&["a"]);
    tmux.wait_for("New plan action", UI_LIMIT);
    tmux.type_text("Fix the community gate");
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("added", UI_LIMIT);
    // The list reloads after the flash: wait for the action's row.
    tmux.wait_until("the new action's row", UI_LIMIT, |s| {
        s.lines()
            .any(|l| l.contains("Fix the community gate") && l.contains("open"))
    });
    eventually("the UI's action on B", SYNC_LIMIT, || {
        plan_has_action(&b, "Fix the community gate")
    });

    // q goes back to the Network screen, and q there quits.
    tmux.send_keys(&["q"]);
    tmux.wait_for("Groups ", UI_LIMIT);
    tmux.quit(&["q"]);
}

#[test]
fn tui_starts_the_node_in_process_when_none_runs() {
    let a = Node::founded("Community Organisers Wirral");
    let tmux = Tmux::tui("in-process", a.path());
    tmux.wait_for("started this device's node", UI_LIMIT);
    tmux.quit(&["q"]);
    // The node it ran has stopped and let go of the store.
    a.ok(&["member", "list"]);
}

#[test]
fn tui_refuses_without_a_terminal() {
    let a = Node::founded("Community Organisers Sefton");
    let dir = a.path().to_string_lossy().into_owned();
    let line = a.fails(1, &["--data-dir", &dir, "tui"]);
    assert!(line.contains("terminal"), "unexpected error: {line}");
}

#[test]
fn tui_on_a_member_device_refuses_a_plan_edit_and_changes_nothing() {
    let a = Node::founded("Community Organisers Knowsley");
    let (_ra, _) = a.up();
    let m = Node::join(&a.invite("member"), "member laptop");
    let (_rm, _) = m.up();
    let before = m.json(&["plan", "show"]);

    let tmux = Tmux::tui("member", m.path());
    tmux.wait_for("? help", UI_LIMIT);
    tmux.send_keys(&["2"]);
    tmux.wait_for("Constitution │ Plan", UI_LIMIT);
    tmux.send_keys(&["l"]);
    tmux.wait_for("Actions ", UI_LIMIT);
    tmux.send_keys(&["a"]);
    tmux.wait_for("New plan action", UI_LIMIT);
    tmux.type_text("Not allowed here");
    tmux.send_keys(&["Enter"]);
    // The node's reason, in the form and on the status line.
    tmux.wait_for("refused: this device is a member", UI_LIMIT);
    assert_eq!(
        m.json(&["plan", "show"]),
        before,
        "nothing changed on the device"
    );
    assert!(
        plan_has_action(&a, "Not allowed here").is_err(),
        "nothing reached A"
    );

    tmux.send_keys(&["Escape"]);
    tmux.wait_until("the form closed", UI_LIMIT, |s| {
        !s.contains("New plan action")
    });
    tmux.send_keys(&["q"]);
    tmux.wait_for("Groups ", UI_LIMIT);
    tmux.quit(&["q"]);
}

#[test]
fn tui_edits_meetup_notes_in_the_users_editor() {
    let a = Node::founded("Community Organisers Halton");
    a.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-20",
        "--place",
        "Widnes library",
    ]);
    // An "editor" that appends a line to the file it is given.
    let editor = a.path().join("append-editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'Written in the editor.\\n' >> \"$1\"\n",
    )
    .expect("write the editor script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let env = format!("VISUAL= EDITOR={}", sh_quote(&editor.to_string_lossy()));
    let tmux = Tmux::tui_with("editor", a.path(), &env);
    tmux.wait_for("started this device's node", UI_LIMIT);
    tmux.send_keys(&["2"]);
    tmux.wait_for("Constitution │ Plan", UI_LIMIT);
    tmux.send_keys(&["l"]);
    tmux.wait_for("Actions ", UI_LIMIT);
    tmux.send_keys(&["l"]);
    tmux.wait_for("Meet-ups (1)", UI_LIMIT);
    tmux.send_keys(&["E"]);
    // Back in the UI with the notes saved and shown.
    tmux.wait_for("Written in the editor.", UI_LIMIT);
    tmux.wait_for("saved", UI_LIMIT);
    tmux.send_keys(&["q"]);
    tmux.wait_for("Groups ", UI_LIMIT);
    tmux.quit(&["q"]);
    let list = a.json(&["meetup", "list"]);
    assert_eq!(list[0]["notes"], "Written in the editor.", "{list}");
    // The editor's file went with its directory.
    let left = std::fs::read_dir(a.path())
        .expect("read the data directory")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("editing-"));
    assert!(!left, "the editor's files were left behind");
}

/// `demo` opens the terminal UI on the national node of a fresh sample
/// network; its dashboard shows the groups' growth over the last 24
/// months at once (each summary carries its group's monthly series),
/// with trained by course and the listening themes.
#[test]
fn the_demo_dashboard_shows_two_years_of_growth_at_once() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("demo");
    let tmux = Tmux::start("demo-dashboard", &dir, "", "demo --groups 3");
    tmux.wait_for("? help", SYNC_LIMIT + UI_LIMIT);
    tmux.send_keys(&["3"]);
    let today = groundwork_node::group::today().month_of();
    let (first, last) = (today.add_months(-23).to_string(), today.to_string());
    // Wait for the whole dashboard: a capture can land mid-frame, with the
    // top panels drawn and the bottom ones not yet.
    let screen = tmux.wait_until("24 months of growth", SYNC_LIMIT + UI_LIMIT, |s| {
        s.contains("Growth, 24 months")
            && s.contains(&first)
            && s.contains(&last)
            && s.contains("Trained by course")
            && s.contains("Listening themes")
            && s.contains("buses")
    });
    assert!(!screen.contains("Growth shows once"), "{screen}");
    // Back to the network screen, then out.
    tmux.send_keys(&["q"]);
    tmux.wait_for("Groups ", UI_LIMIT);
    tmux.quit(&["q"]);
}

/// On a terminal the demo shows a bar while its nodes start and stop, and
/// leaves each as a record of what was done (off a terminal it prints
/// none: foundation.rs).
#[test]
fn the_demo_shows_its_nodes_starting_and_stopping_on_a_terminal() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("demo");
    let tmux = Tmux::start("demo-progress", &dir, "", "demo --groups 3 --headless");
    tmux.wait_for("TUI EXITED", SYNC_LIMIT + UI_LIMIT);
    let screen = tmux.capture_history();
    assert!(screen.contains("TUI EXITED 0"), "{screen}");
    // The national node and three groups: 4 of 4, started then stopped.
    let bar = |doing: &str| {
        screen
            .lines()
            .find(|l| l.starts_with(doing))
            .unwrap_or_else(|| panic!("no {doing:?} bar on:\n{screen}"))
            .to_owned()
    };
    assert!(bar("starting nodes").contains("4/4"), "{screen}");
    assert!(bar("stopping nodes").contains("4/4"), "{screen}");
    // The bars sit where they ran: after the founding, before the end.
    let at = |needle: &str| screen.find(needle).unwrap_or(usize::MAX);
    assert!(at("Starting 4 nodes") < at("starting nodes"), "{screen}");
    assert!(at("starting nodes") < at("Converged"), "{screen}");
    assert!(at("Stopping 4 nodes") < at("stopping nodes"), "{screen}");
}

/// `ticket` on a terminal is labelled for a person to copy; off one it is
/// bare, for `peer add "$(groundwork ticket)"` (node.rs).
#[test]
fn ticket_is_labelled_on_a_terminal() {
    let n = Node::founded("Labelled Ticket Group");
    let (_up, ticket) = n.up();
    let tmux = Tmux::start("ticket", n.path(), "", "ticket");
    tmux.wait_for("TUI EXITED", UI_LIMIT);
    let screen = tmux.capture_history();
    assert!(screen.contains("TUI EXITED 0"), "{screen}");
    let line = screen
        .lines()
        .find(|l| l.starts_with("ticket: "))
        .unwrap_or_else(|| panic!("no labelled ticket on:\n{screen}"));
    // The terminal wraps a long line; its start is the running node's.
    let shown = line.trim_start_matches("ticket: ");
    assert!(ticket.starts_with(shown.trim_end()), "{line}");
    // Positive control: `--bare` on the same terminal drops the label.
    let bare = Tmux::start("ticket-bare", n.path(), "", "ticket --bare");
    bare.wait_for("TUI EXITED", UI_LIMIT);
    let screen = bare.capture_history();
    assert!(!screen.contains("ticket: "), "{screen}");
    assert!(screen.contains(&ticket[..20]), "{screen}");
}

/// On a terminal an import of 2,000 rows counts them in a bar left on
/// screen; off one it prints only its result.
#[test]
fn an_import_counts_its_rows_on_a_terminal_and_not_off_one() {
    let n = Node::founded("Big Import Group");
    let csv = n.path().join("big.csv");
    let mut text = String::from("Name\n");
    for name in groundwork_tests::fake_names(7, 2000) {
        text.push_str(&name);
        text.push('\n');
    }
    std::fs::write(&csv, text).expect("write the CSV");
    let csv = csv.to_string_lossy().into_owned();
    let tmux = Tmux::start(
        "import-progress",
        n.path(),
        "",
        &format!("member import {}", sh_quote(&csv)),
    );
    tmux.wait_for("TUI EXITED", UI_LIMIT);
    let screen = tmux.capture_history();
    assert!(screen.contains("TUI EXITED 0"), "{screen}");
    let bar = screen
        .lines()
        .find(|l| l.starts_with("importing members"))
        .unwrap_or_else(|| panic!("no import bar on:\n{screen}"));
    assert!(bar.contains("2000/2000"), "{bar}");
    assert!(screen.contains("imported 2000 members"), "{screen}");
    // Positive control of the other side: off a terminal, no bar.
    let again = n.run(&["member", "import", &csv]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        !again.stderr.contains("importing members"),
        "{}",
        again.stderr
    );
    assert!(
        again.stdout.contains("2000 already on the roster"),
        "{}",
        again.stdout
    );
}

/// `join` shows it is trying while it dials a device that is down (a
/// spinner naming the device), then ends with the hint.
#[test]
fn join_shows_it_is_reaching_the_inviting_device_on_a_terminal() {
    let a = Node::founded("Asleep Group");
    let (mut ra, _) = a.up();
    let invite = a.invite("member");
    assert_eq!(ra.stop("TERM"), 0);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("new-device");
    let tmux = Tmux::start(
        "join-spinner",
        &dir,
        "",
        &format!("--offline join {} --label spare", sh_quote(&invite)),
    );
    // On a terminal it first offers a passphrase, with nothing drawn over
    // the prompt while the user types.
    let asked = tmux.wait_for("New passphrase (empty for none):", UI_LIMIT);
    assert!(!asked.contains("reaching"), "{asked}");
    tmux.send_keys(&["Enter"]);
    // While it dials: the spinner, naming what it reaches.
    let during = tmux.wait_for("reaching the inviting device", UI_LIMIT);
    assert!(!during.contains("TUI EXITED"), "{during}");
    // Then the one line with the hint; the spinner is gone.
    let after = tmux.wait_for("TUI EXITED", UI_LIMIT);
    assert!(after.contains("TUI EXITED 1"), "{after}");
    assert!(
        after.contains("is that node running `groundwork up`?"),
        "{after}"
    );
    assert!(!after.contains("reaching the inviting device"), "{after}");
}

#[test]
fn tui_asks_for_the_passphrase_on_the_terminal_and_warns_of_one_steward_device() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = groundwork_tests::sealed::passphrase_file(secrets.path(), "p", "tui passphrase 1\n");
    let n = Node::new();
    groundwork_tests::sealed::ok(
        &n,
        Some(&pass),
        &["init", "--name", "Sealed Terminal Group"],
    );
    let tmux = Tmux::tui("passphrase", n.path());
    tmux.wait_for("Passphrase for the data directory", UI_LIMIT);
    tmux.type_text("tui passphrase 1");
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("Sealed Terminal Group", UI_LIMIT);
    let screen = tmux.wait_for("1 warning (Sync)", UI_LIMIT);
    assert!(
        !screen.contains("tui passphrase 1"),
        "the passphrase was echoed:\n{screen}"
    );
    tmux.send_keys(&["4"]);
    let screen = tmux.wait_for("only one steward device", UI_LIMIT);
    assert!(!screen.contains("no passphrase"), "{screen}");
    // q goes back to the first screen, then quits.
    tmux.quit(&["q", "q"]);
}
