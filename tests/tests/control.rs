//! The command line through a running node's control socket: every group
//! command prints exactly what it prints with the store opened directly,
//! errors included, and falls back to the store when no node runs.
//!
//! The node here is the control server in this test's process, answering
//! with `GroupHandler` on the group it holds open. Holding the store also
//! proves the commands went through the socket: opening the store directly
//! would wait for it and fail.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use groundwork_node::control::{self, ControlServer, GroupHandler};
use groundwork_node::datadir::DataDir;
use groundwork_node::group::Group;
use groundwork_tests::{Node, Run, parse_added_id};

/// A node serving the control API in this process; it holds the store.
struct InProcess {
    rt: tokio::runtime::Runtime,
    server: ControlServer,
}

impl InProcess {
    fn start(n: &Node) -> Self {
        let dir = DataDir::new(n.path());
        let group = Group::open(&dir).expect("open the group");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt
            .block_on(control::serve(&dir, Arc::new(GroupHandler::new(group))))
            .expect("serve the control socket");
        InProcess { rt, server }
    }

    /// Stops serving and releases the store.
    fn stop(self) {
        let InProcess { rt, server } = self;
        rt.block_on(server.shutdown());
        // Dropping the runtime drops every task, and with them the group.
        drop(rt);
    }
}

/// What a command did, for comparing.
fn outcome(r: Run) -> (i32, String, String) {
    (r.code, r.stdout, r.stderr)
}

/// A copy of `n`'s data directory: the same group, keys and documents.
fn twin(n: &Node) -> Node {
    let t = Node::new();
    for entry in std::fs::read_dir(n.path()).expect("read data dir") {
        let p = entry.expect("dir entry").path();
        if p.is_file() {
            let to = t.path().join(p.file_name().expect("file name"));
            std::fs::copy(&p, &to).expect("copy");
        }
    }
    t
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, content).expect("write test file");
    p.display().to_string()
}

#[test]
fn every_group_command_prints_the_same_through_a_running_node() {
    let n = Node::founded("Community Organisers Staffordshire");
    let ada = n.add_member(&[
        "--name",
        "Ada Obi",
        "--email",
        "ada@example.org",
        "--kind",
        "professional",
        "--course",
        "Listening Skills",
    ]);
    let bea = n.add_member(&["--name", "Bea Jones", "--phone", "0151 496 0000"]);
    let meetup = parse_added_id(&n.ok(&[
        "meetup",
        "add",
        "--date",
        "2020-03-01",
        "--place",
        "Stafford library",
        "--agenda",
        "1. Buses\n2. Parks",
    ]))
    .expect("meet-up id");
    n.ok(&["meetup", "note", &meetup, "--append", "Twelve came."]);
    let action = parse_added_id(&n.ok(&[
        "plan",
        "action",
        "add",
        "--title",
        "Write to the council",
        "--owner",
        &ada,
    ]))
    .expect("action id");
    n.ok(&["plan", "goal", "add", "A bus route that runs"]);

    // Files the commands read live outside both data directories, so the
    // messages naming them are the same for both.
    let files = tempfile::tempdir().expect("temp dir");
    let csv = write(
        files.path(),
        "roster.csv",
        b"Name,Email,Kind\nChidi Obi,chidi@example.org,activist\nDee Moss,,observer\n",
    );
    let bad_csv = write(files.path(), "bad.csv", b"Name,Email\nEve,not-an-email\n");
    let text = write(files.path(), "constitution.txt", b"Our constitution.\n");
    let notes = write(files.path(), "notes.txt", b"Notes, replaced.\n");
    let editor = write(
        files.path(),
        "editor.sh",
        b"#!/bin/sh\nprintf '\\n8. We welcome everyone.\\n' >> \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let reads: Vec<Vec<&str>> = vec![
        vec!["member", "list"],
        vec!["member", "list", "--json"],
        vec!["member", "list", "--kind", "professional"],
        vec!["member", "show", &ada],
        vec!["member", "show", &ada, "--json"],
        vec!["member", "show", &bea, "--json"],
        vec!["member", "show", "zzzzzz"],
        vec!["member", "export"],
        vec!["constitution", "show"],
        vec!["constitution", "show", "--json"],
        vec!["plan", "show"],
        vec!["plan", "show", "--json"],
        vec!["meetup", "list"],
        vec!["meetup", "list", "--json"],
        vec!["meetup", "show", &meetup],
        vec!["meetup", "show", &meetup, "--json"],
        vec!["meetup", "show", "zzzzzz"],
        vec!["device", "list"],
        vec!["device", "list", "--json"],
    ];
    // Writes whose output does not depend on fresh random ids, in order.
    let writes: Vec<Vec<&str>> = vec![
        vec!["member", "edit", &ada, "--phone", "0151 496 0001"],
        vec![
            "member",
            "add",
            "--name",
            "Twin",
            "--email",
            "ADA@example.org",
        ],
        vec!["member", "import", &csv],
        vec!["member", "import", &csv],
        vec!["member", "import", &bad_csv],
        vec!["member", "remove", &bea],
        vec!["member", "remove", &bea],
        vec!["constitution", "set", "--file", &text, "--summary", "short"],
        vec!["constitution", "set", "--file", &text],
        vec!["constitution", "adopt", "--date", "2020-03-01"],
        vec!["constitution", "edit", "--summary", "welcome clause"],
        vec!["plan", "vision", "--text", "  Buses for all.  "],
        vec!["plan", "vision", "--text", "Buses for all."],
        vec!["plan", "action", "done", &action],
        vec!["plan", "action", "done", &action],
        vec!["plan", "action", "done", "zzzzzz"],
        vec!["plan", "conversations", "add", "5", "--theme", "buses"],
        vec!["plan", "goal", "add", " "],
        vec![
            "plan",
            "action",
            "add",
            "--title",
            "T",
            "--owner",
            "Nobody Here",
        ],
        vec!["meetup", "note", &meetup, "--append", "Café next time."],
        vec!["meetup", "note", &meetup, "--file", &notes],
        vec!["meetup", "note", "zzzzzz", "--append", "x"],
        vec!["meetup", "attendance", &meetup, "12"],
        vec!["meetup", "add", "--date", "2020-01-01", "--place", " "],
        vec!["constitution", "show", "--json"],
        vec!["plan", "show"],
        vec!["meetup", "show", &meetup, "--json"],
    ];
    let run = |node: &Node, args: &[&str]| {
        outcome(Run::from(
            node.cmd(args)
                .env("EDITOR", &editor)
                .env_remove("VISUAL")
                .output()
                .expect("spawn groundwork"),
        ))
    };

    let direct_reads: Vec<_> = reads.iter().map(|a| run(&n, a)).collect();
    let copy = twin(&n);
    let direct_writes: Vec<_> = writes.iter().map(|a| run(&copy, a)).collect();

    let node = InProcess::start(&n);
    assert!(
        control::connect(&DataDir::new(n.path()))
            .expect("connect")
            .is_some()
    );
    for (args, direct) in reads.iter().zip(&direct_reads) {
        assert_eq!(
            &run(&n, args),
            direct,
            "`groundwork {}` differs through the node",
            args.join(" ")
        );
    }
    for (args, direct) in writes.iter().zip(&direct_writes) {
        assert_eq!(
            &run(&n, args),
            direct,
            "`groundwork {}` differs through the node",
            args.join(" ")
        );
    }
    // An add gets a fresh id, and it lands.
    let (code, out, err) = run(&n, &["member", "add", "--name", "Through The Node"]);
    assert_eq!(code, 0, "{err}");
    let added = parse_added_id(&out).expect("an id");
    node.stop();

    // No node: the store is opened directly again, and sees the node's edit.
    assert!(!n.path().join(control::SOCKET_FILE).exists());
    let shown = n.json(&["member", "show", &added]);
    assert_eq!(shown["name"], "Through The Node");
}

#[test]
fn a_stale_socket_is_no_node_and_the_store_is_opened_directly() {
    let n = Node::founded("Moorlands Climate Action");
    // What a node killed with -9 leaves behind.
    drop(
        std::os::unix::net::UnixListener::bind(n.path().join(control::SOCKET_FILE)).expect("bind"),
    );
    let id = n.add_member(&["--name", "Ada Obi"]);
    assert_eq!(n.json(&["member", "show", &id])["name"], "Ada Obi");
}
