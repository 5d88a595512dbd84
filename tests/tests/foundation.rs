//! The foundation, end to end through the real binary: found a group, add
//! and import members, edit the constitution and notes, restart, and find
//! everything still there.

use groundwork_tests::{Node, fake_names, parse_added_id};
use serde_json::Value;

/// Everything a group holds, as the CLI reports it.
fn state(n: &Node) -> Vec<Value> {
    let members = n.json(&["member", "list"]);
    let mut shown = Vec::new();
    for m in members.as_array().expect("member list is an array") {
        let id = m["id"].as_str().expect("member id");
        shown.push(n.json(&["member", "show", id]));
    }
    vec![
        members,
        Value::Array(shown),
        n.json(&["constitution", "show"]),
        n.json(&["plan", "show"]),
        n.json(&["meetup", "list"]),
    ]
}

fn write(n: &Node, name: &str, content: &[u8]) -> String {
    let p = n.path().join(name);
    std::fs::write(&p, content).expect("write test file");
    p.display().to_string()
}

#[test]
fn found_add_import_edit_restart_and_everything_is_still_there() {
    let n = Node::founded("Community Organisers Birkenhead");
    let ada = n.add_member(&[
        "--name",
        "Ada Obi",
        "--email",
        "ada@example.org",
        "--kind",
        "professional",
        "--course",
        "Listening Skills",
        "--joined",
        "2019-03-07",
    ]);
    let bea = n.add_member(&["--name", "Bea Jones", "--phone", "0151 496 0000"]);
    assert_ne!(ada, bea);

    // A spreadsheet as Excel writes it: BOM, CRLF, quoted commas and newlines, synonyms, an extra column.
    let csv = "\u{feff}Full name,E-mail,Phone number,Member type,Date joined,Courses,Shoe size\r\n\
               \"Obi, Chidi\",chidi@example.org,,Activist,01/02/2020,Building Power; Action for Change,9\r\n\
               \"Dee \"\"D\"\" Moss\",dee@example.org,07700 900123,observer,2020-02-03,,\"7,\r\n8\"\r\n";
    let file = write(&n, "roster.csv", csv.as_bytes());
    let out = n.ok(&["member", "import", &file]);
    assert!(out.contains("imported 2 members"), "{out}");
    assert!(out.contains("ignored columns: Shoe size"), "{out}");

    let body = "Constitution of Community Organisers Birkenhead\n\n1. We meet monthly.\n2. Fees: £0 – always free.\n";
    let cfile = write(&n, "constitution.txt", body.as_bytes());
    assert!(
        n.ok(&[
            "constitution",
            "set",
            "--file",
            &cfile,
            "--summary",
            "first draft"
        ])
        .contains("version 2")
    );
    n.ok(&["constitution", "adopt", "--date", "2020-03-01"]);

    let meetup = parse_added_id(&n.ok(&[
        "meetup",
        "add",
        "--date",
        "2020-03-01",
        "--place",
        "Birkenhead library",
        "--agenda",
        "1. Buses\n2. Parks",
    ]))
    .expect("meet-up id");
    n.ok(&[
        "meetup",
        "note",
        &meetup,
        "--append",
        "Twelve came; buses are the issue.",
    ]);
    n.ok(&["meetup", "note", &meetup, "--append", "Café next time."]);
    n.ok(&["meetup", "attendance", &meetup, "12"]);
    let action = parse_added_id(&n.ok(&[
        "plan",
        "action",
        "add",
        "--title",
        "Write to the council",
        "--owner",
        &ada,
        "--due",
        "2020-04-01",
    ]))
    .expect("action id");
    n.ok(&["plan", "action", "done", &action]);
    n.ok(&[
        "plan",
        "vision",
        "--text",
        "A Birkenhead where everyone is heard.",
    ]);
    n.ok(&["plan", "conversations", "add", "5", "--theme", "buses"]);

    let before = state(&n);

    // "Restart": every command is a new process, and the data directory can move.
    let moved = tempfile::tempdir().expect("tempdir");
    let new_home = moved.path().join("moved");
    std::fs::rename(n.path(), &new_home).expect("move data dir");
    let after_move = {
        let mut c = assert_cmd::Command::new(groundwork_tests::bin());
        c.args([
            "--data-dir",
            new_home.to_str().expect("utf-8 path"),
            "member",
            "list",
            "--json",
        ]);
        let out = c.output().expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).expect("json")
    };
    assert_eq!(after_move, before[0]);
    std::fs::rename(&new_home, n.path()).expect("move back");
    assert_eq!(state(&n), before);

    // And the content is what was written.
    let members = before[0].as_array().expect("array");
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["Ada Obi", "Bea Jones", "Dee \"D\" Moss", "Obi, Chidi"]
    );
    let chidi = members
        .iter()
        .find(|m| m["name"] == "Obi, Chidi")
        .expect("chidi");
    assert_eq!(chidi["joined"], "2020-02-01");
    assert_eq!(
        chidi["courses"],
        serde_json::json!(["building-power", "action-for-change"])
    );
    let ada_shown = n.json(&["member", "show", &ada]);
    assert_eq!(ada_shown["email"], "ada@example.org");
    let c = &before[2];
    assert_eq!(c["body"], body);
    assert_eq!(c["adopted"], "2020-03-01");
    assert_eq!(c["version"], 3);
    let m = n.json(&["meetup", "show", &meetup]);
    assert_eq!(
        m["notes"],
        "Twelve came; buses are the issue.\nCafé next time.\n"
    );
    assert_eq!(m["attendance"], 12);
    let plan = &before[3];
    assert_eq!(plan["actions"][0]["status"], "done");
    assert_eq!(plan["owners"][&action]["name"], "Ada Obi");
    assert!(plan["owners"][&action]["id"].is_string(), "{plan}");
    assert_eq!(plan["listening"]["conversations_held"], 5);
}

#[test]
fn a_bad_row_imports_nothing_and_names_file_line_and_field() {
    let n = Node::founded("Rotherfed");
    n.add_member(&["--name", "Existing Member"]);
    let before = state(&n);
    let cases = [
        (
            "Name,Email\nAda,ada@example.org\n,b@example.org\n",
            "line 3: Name",
        ),
        (
            "Name,Email\nAda,ada@example.org\nBea,not-an-email\n",
            "line 3: Email",
        ),
        (
            "Name,Member type\nAda,activist\nBea,wizard\n",
            "line 3: Member type",
        ),
        (
            "Name,Joined\nAda,2019-01-01\n\"Bea\nBee\",31/02/2019\n",
            "line 3: Joined",
        ),
        (
            "Name,Joined\r\nAda,2019-01-01\r\nBea,2019-01-01\r\nCy,yesterday\r\n",
            "line 4: Joined",
        ),
    ];
    for (i, (csv, expect)) in cases.iter().enumerate() {
        let file = write(&n, &format!("bad{i}.csv"), csv.as_bytes());
        let err = n.fails(1, &["member", "import", &file]);
        assert!(
            err.contains(&file) && err.contains(expect) && err.contains("nothing was imported"),
            "case {i}: {err}"
        );
        assert_eq!(state(&n), before, "case {i} changed the group");
    }
}

#[test]
fn skip_invalid_imports_the_good_rows_and_lists_the_rest() {
    let n = Node::founded("Sneinton Alchemy");
    let file = write(
        &n,
        "mixed.csv",
        b"Name,Email\nAda,ada@example.org\nBea,bad@\n,c@example.org\nDee,dee@example.org\n",
    );
    let out = n.ok(&["member", "import", &file, "--skip-invalid"]);
    assert!(out.contains("imported 2 members"), "{out}");
    assert!(out.contains("skipped 2 invalid rows"), "{out}");
    assert!(
        out.contains("line 3: Email") && out.contains("line 4: Name"),
        "{out}"
    );
    let names: Vec<String> = n
        .json(&["member", "list"])
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["Ada", "Dee"]);
}

#[test]
fn reimporting_the_same_file_adds_no_duplicates() {
    let n = Node::founded("ACORN Sheffield");
    let mut csv = String::from("Name,Email,Phone\n");
    for (i, name) in fake_names(7, 30).iter().enumerate() {
        match i % 3 {
            0 => csv.push_str(&format!("{name},p{i}@example.org,\n")),
            1 => csv.push_str(&format!("{name},,0114 496 {i:04}\n")),
            _ => csv.push_str(&format!("{name},,\n")),
        }
    }
    let file = write(&n, "r.csv", csv.as_bytes());
    assert!(
        n.ok(&["member", "import", &file])
            .contains("imported 30 members")
    );
    let first = n.json(&["member", "list"]);
    let again = n.ok(&["member", "import", &file]);
    assert!(
        again.contains("imported 0 members") && again.contains("30 already on the roster"),
        "{again}"
    );
    assert_eq!(
        n.json(&["member", "list"]),
        first,
        "re-import changed the roster"
    );
    // Emails match whatever their case.
    let upper = write(
        &n,
        "u.csv",
        csv.to_uppercase()
            .replace("NAME,EMAIL,PHONE", "Name,Email,Phone")
            .as_bytes(),
    );
    let out = n.ok(&["member", "import", &upper]);
    assert!(
        out.contains("imported 20 members"),
        "only the 10 with emails match regardless of case: {out}"
    );
    assert_eq!(
        n.json(&["member", "list"]).as_array().map(Vec::len),
        Some(50)
    );
}

#[test]
fn export_then_import_gives_an_identical_roster() {
    let a = Node::founded("Grapevine");
    a.add_member(&[
        "--name",
        "Ada, \"the\" Obi",
        "--email",
        "ada@example.org",
        "--phone",
        "+44 24 7696 0000",
        "--kind",
        "professional",
        "--course",
        "listening-skills",
        "--course",
        "level-3-certificate",
        "--principles",
        "2019-01-02",
        "--consent",
        "yes",
        "--consent-date",
        "2019-01-02",
        "--lawful-basis",
        "legitimate-interests",
    ]);
    // A name a spreadsheet must quote (a line break is refused in a name).
    a.add_member(&["--name", "Bea \"Two\", Quoted", "--status", "lapsed"]);
    assert!(
        a.fails(2, &["member", "add", "--name", "Bea\nTwo-line"])
            .contains("control character")
    );
    // A name a spreadsheet would run as a formula is exported as text.
    a.add_member(&["--name", "=HYPERLINK(\"http://evil\",\"Ada\")"]);
    let file = a.path().join("export.csv");
    a.ok(&["member", "export", file.to_str().expect("utf-8")]);
    let exported = std::fs::read(&file).expect("read export");
    let text = String::from_utf8_lossy(&exported);
    assert!(
        text.contains("'=HYPERLINK") && text.contains("'+44 24 7696 0000"),
        "{text}"
    );
    assert!(
        !text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
        0o600
    );

    let b = Node::founded("Grapevine copy");
    b.ok(&["member", "import", file.to_str().expect("utf-8")]);
    let full = |n: &Node| -> Vec<Value> {
        n.json(&["member", "list"])
            .as_array()
            .expect("array")
            .iter()
            .map(|m| n.json(&["member", "show", m["id"].as_str().expect("id")]))
            .collect()
    };
    assert_eq!(full(&a), full(&b));
    assert_eq!(b.ok(&["member", "export"]).as_bytes(), &exported[..]);
}

#[test]
fn bad_input_to_each_command_is_one_line_and_changes_nothing() {
    let n = Node::founded("Marsh Farm Outreach");
    let id = n.add_member(&["--name", "Ada Obi", "--email", "ada@example.org"]);
    let meetup =
        parse_added_id(&n.ok(&["meetup", "add", "--date", "2020-01-01", "--place", "Hall"]))
            .expect("id");
    let before = state(&n);
    let missing = n.path().join("missing.csv").display().to_string();
    let latin1 = write(&n, "latin1.txt", b"Caf\xe9");
    let empty = write(&n, "empty.csv", b"");
    let no_name = write(&n, "noname.csv", b"Email\nx@example.org\n");
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (2, vec!["member", "add"], "--name"),
        (
            2,
            vec!["member", "add", "--name", "X", "--kind", "wizard"],
            "wizard",
        ),
        (
            2,
            vec!["member", "add", "--name", "X", "--joined", "31/02/2020"],
            "31/02/2020",
        ),
        (
            2,
            vec!["member", "add", "--name", "X", "--course", "Knitting"],
            "course",
        ),
        (
            2,
            vec!["member", "add", "--name", "X", "--email", "nope"],
            "email",
        ),
        (
            2,
            vec!["member", "add", "--name", "X", "--phone", "call me"],
            "phone",
        ),
        (2, vec!["member", "add", "--name", "   "], "name"),
        (
            1,
            vec![
                "member",
                "add",
                "--name",
                "Twin",
                "--email",
                "ADA@example.org",
            ],
            "already has this email",
        ),
        (2, vec!["member", "show", "abc"], "abc"),
        (1, vec!["member", "show", "zzzzzz"], "no member"),
        (1, vec!["member", "remove", "zzzzzz"], "no member"),
        (
            1,
            vec!["member", "edit", "zzzzzz", "--name", "Y"],
            "no member",
        ),
        (2, vec!["member", "edit", &id, "--email", "bad@"], "email"),
        (2, vec!["member", "edit", &id], "nothing to change"),
        (1, vec!["member", "import", &missing], "missing.csv"),
        (1, vec!["member", "import", &empty], "empty"),
        (1, vec!["member", "import", &no_name], "no name column"),
        (2, vec!["member", "frobnicate"], "frobnicate"),
        (
            1,
            vec!["constitution", "set", "--file", &missing],
            "missing.csv",
        ),
        (
            1,
            vec!["constitution", "set", "--file", &latin1],
            "not UTF-8",
        ),
        (1, vec!["constitution", "set", "--file", &empty], "empty"),
        (2, vec!["constitution", "adopt", "--date", "soon"], "soon"),
        (
            1,
            vec![
                "plan",
                "action",
                "add",
                "--title",
                "T",
                "--owner",
                "Nobody Here",
            ],
            "Nobody Here",
        ),
        (
            2,
            vec![
                "plan",
                "action",
                "add",
                "--title",
                "T",
                "--due",
                "2020-13-01",
            ],
            "2020-13-01",
        ),
        (1, vec!["plan", "action", "done", "zzzzzz"], "no action"),
        (2, vec!["plan", "goal", "add", " "], "goal"),
        (2, vec!["plan", "conversations", "add", "0"], "0"),
        (2, vec!["plan", "vision"], "--text"),
        (
            2,
            vec!["meetup", "add", "--date", "tomorrow", "--place", "Hall"],
            "tomorrow",
        ),
        (
            2,
            vec!["meetup", "add", "--date", "2020-01-01", "--place", ""],
            "place",
        ),
        (
            1,
            vec!["meetup", "note", "zzzzzz", "--append", "x"],
            "no meet-up",
        ),
        (2, vec!["meetup", "note", &meetup], "--append"),
        (
            1,
            vec!["meetup", "note", &meetup, "--file", &latin1],
            "not UTF-8",
        ),
        (2, vec!["meetup", "attendance", &meetup, "-3"], "-3"),
        (1, vec!["init", "--name", "Again"], "already holds"),
        (2, vec!["--no-such-flag"], "--no-such-flag"),
    ];
    for (code, args, expect) in &cases {
        let line = n.fails(*code, args);
        assert!(
            line.contains(expect),
            "`{}`: expected '{expect}' in: {line}",
            args.join(" ")
        );
    }
    assert_eq!(state(&n), before, "a bad command changed the group");
}

#[test]
fn commands_outside_a_group_say_so() {
    let n = Node::new();
    let line = n.fails(1, &["member", "list"]);
    assert!(line.contains("no group is founded"), "{line}");
    assert!(
        !n.path().join("groundwork.redb").exists(),
        "a read created a store"
    );
}

#[test]
fn an_unreadable_store_or_key_file_is_named_and_never_overwritten() {
    let n = Node::founded("Starting Point");
    n.add_member(&["--name", "Ada"]);
    let store = n.path().join("groundwork.redb");

    std::fs::write(&store, b"not a database at all").expect("clobber store");
    for args in [
        &["member", "list"][..],
        &["member", "add", "--name", "Bea"],
        &["init", "--name", "Fresh start"],
    ] {
        let line = n.fails(1, args);
        assert!(line.contains("groundwork.redb"), "{line}");
        assert_eq!(
            std::fs::read(&store).expect("store"),
            b"not a database at all"
        );
    }

    let n = Node::founded("Starting Point");
    std::fs::write(
        n.path().join("device.key"),
        b"groundwork device key v1\nnot hex\n",
    )
    .expect("clobber key");
    let line = n.fails(1, &["member", "list"]);
    assert!(
        line.contains("device.key") && line.contains("hexadecimal"),
        "{line}"
    );
    let line = n.fails(1, &["init", "--name", "Again"]);
    assert!(line.contains("already holds"), "{line}");
    assert_eq!(
        std::fs::read(n.path().join("device.key")).expect("key"),
        b"groundwork device key v1\nnot hex\n"
    );

    use std::os::unix::fs::PermissionsExt;
    let n = Node::founded("Starting Point");
    for f in ["device.key", "group.key", "groundwork.redb"] {
        let mode = std::fs::metadata(n.path().join(f))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    std::fs::set_permissions(
        n.path().join("device.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let line = n.fails(1, &["member", "list"]);
    assert!(
        line.contains("open to other users") && line.contains("chmod 600"),
        "{line}"
    );
}

#[test]
fn constitution_edit_opens_the_editor_and_a_failed_editor_changes_nothing() {
    let n = Node::founded("English for Action");
    let script = write(
        &n,
        "fake-editor.sh",
        b"#!/bin/sh\nprintf '\\n8. We welcome everyone.\\n' >> \"$1\"\n",
    );
    let failing = write(
        &n,
        "failing-editor.sh",
        b"#!/bin/sh\necho 'garbage' > \"$1\"\nexit 3\n",
    );
    use std::os::unix::fs::PermissionsExt;
    for s in [&script, &failing] {
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let out = n
        .cmd(&["constitution", "edit", "--summary", "welcome clause"])
        .env("EDITOR", &script)
        .env_remove("VISUAL")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = n.json(&["constitution", "show"]);
    assert!(
        c["body"]
            .as_str()
            .expect("body")
            .ends_with("8. We welcome everyone.\n")
    );
    assert_eq!(c["amendments"][0]["summary"], "welcome clause");

    let out = n
        .cmd(&["constitution", "edit"])
        .env("EDITOR", &failing)
        .env_remove("VISUAL")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing changed"));
    assert_eq!(n.json(&["constitution", "show"]), c);
    let left: Vec<_> = std::fs::read_dir(n.path())
        .expect("read the data directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("editing-"))
        .collect();
    assert!(
        left.is_empty(),
        "the editor's files were left behind: {left:?}"
    );
}

#[test]
fn data_dir_flag_beats_the_environment() {
    let env_node = Node::founded("From env");
    let flag_dir = tempfile::tempdir().expect("tempdir");
    let flag = flag_dir.path().to_str().expect("utf-8");
    env_node.ok(&["--data-dir", flag, "init", "--name", "From flag"]);
    env_node.ok(&[
        "--data-dir",
        flag,
        "member",
        "add",
        "--name",
        "Only in flag dir",
    ]);
    assert_eq!(
        env_node.json(&["member", "list"]).as_array().map(Vec::len),
        Some(0)
    );
    assert!(
        env_node
            .ok(&["--data-dir", flag, "member", "list"])
            .contains("Only in flag dir")
    );
}

#[test]
fn member_edit_and_remove() {
    let n = Node::founded("Barton Hill Settlement");
    let id = n.add_member(&["--name", "Ada Ob", "--email", "ada@example.org"]);
    let action = parse_added_id(&n.ok(&[
        "plan",
        "action",
        "add",
        "--title",
        "Run a stall",
        "--owner",
        "ada ob",
    ]))
    .expect("action");
    n.ok(&[
        "member",
        "edit",
        &id,
        "--name",
        "Ada Obi",
        "--course",
        "Building Power",
        "--phone",
        "0117 496 0000",
    ]);
    let m = n.json(&["member", "show", &id]);
    assert_eq!(
        (m["name"].as_str(), m["email"].as_str(), m["phone"].as_str()),
        (
            Some("Ada Obi"),
            Some("ada@example.org"),
            Some("0117 496 0000")
        )
    );
    assert_eq!(m["courses"], serde_json::json!(["building-power"]));
    assert!(n.ok(&["member", "remove", &id]).contains("removed member"));
    assert_eq!(n.json(&["member", "list"]), serde_json::json!([]));
    let plan = n.json(&["plan", "show"]);
    assert!(
        plan["owners"].get(&action).is_none(),
        "a removed member still owns an action"
    );
    assert!(
        n.ok(&["member", "export"]).lines().count() == 1,
        "export still lists the removed member"
    );
}

#[test]
fn the_demo_founds_sample_groups_that_the_other_commands_can_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let n = Node::new();
    let run = n.run(&[
        "--data-dir",
        root.path().to_str().expect("utf-8"),
        "demo",
        "--groups",
        "3",
        "--headless",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.stdout;
    assert!(out.contains("3 groups"), "{out}");
    // Off a terminal there is no progress bar (the tmux test in tui.rs
    // shows it on one).
    assert!(
        !run.stderr.contains("starting nodes") && !run.stderr.contains('\r'),
        "{}",
        run.stderr
    );
    // It says it is stopping its nodes (the national node and 3 groups).
    assert!(out.contains("Stopping 4 nodes"), "{out}");
    assert!(out.contains("Stopped 4 nodes in "), "{out}");
    for name in [
        "Community Organisers Birkenhead",
        "Community Organisers Staffordshire",
        "Latin American Parents Association",
    ] {
        assert!(out.contains(name), "{name} missing from:\n{out}");
    }
    let birkenhead = root.path().join("community-organisers-birkenhead");
    let list = n.ok(&[
        "--data-dir",
        birkenhead.to_str().expect("utf-8"),
        "member",
        "list",
        "--json",
    ]);
    let members: Value = serde_json::from_str(&list).expect("json");
    assert!(members.as_array().is_some_and(|m| m.len() >= 8), "{list}");
    let meetups = n.ok(&[
        "--data-dir",
        birkenhead.to_str().expect("utf-8"),
        "meetup",
        "list",
        "--json",
    ]);
    assert!(
        serde_json::from_str::<Value>(&meetups)
            .expect("json")
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
}

#[test]
fn adds_from_several_processes_at_once_all_land() {
    let n = Node::founded("Community Roots CIC");
    let children: Vec<_> = (0..6)
        .map(|i| {
            n.std_cmd(&["member", "add", "--name", &format!("Parallel {i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        n.json(&["member", "list"]).as_array().map(Vec::len),
        Some(6)
    );
}

#[test]
fn a_reimported_row_with_more_data_is_listed_and_applied_only_with_update() {
    let n = Node::founded("Hyson Green");
    let first = write(
        &n,
        "first.csv",
        b"Name,Email\nAda Obi,ada@example.org\nBea Lee,\n",
    );
    assert!(
        n.ok(&["member", "import", &first])
            .contains("imported 2 members")
    );
    let ada = |n: &Node| {
        n.json(&["member", "list"])
            .as_array()
            .and_then(|a| a.iter().find(|m| m["name"] == "Ada Obi").cloned())
            .expect("Ada is listed")
    };
    let id = ada(&n)["id"].as_str().expect("id").to_owned();

    // The same people again, Ada with a phone and a course: reported by line
    // and column, never by value, and nothing changes.
    let second = write(
        &n,
        "second.csv",
        b"Name,Email,Phone,Courses\nAda Obi,ADA@example.org,07700 900123,Listening Skills\nBea Lee,,,\n",
    );
    let out = n.ok(&["member", "import", &second]);
    assert!(
        out.contains("imported 0 members") && out.contains("2 already"),
        "{out}"
    );
    assert!(
        out.contains(&format!("line 2: member {id}: Phone, Courses")),
        "{out}"
    );
    assert!(out.contains("--update") && !out.contains("07700"), "{out}");
    assert!(
        ada(&n).get("phone").is_none_or(|p| p.is_null()),
        "{}",
        ada(&n)
    );

    // With --update the row is applied as `member edit` would apply it.
    let out = n.ok(&["member", "import", &second, "--update"]);
    assert!(out.contains("updated 1 member from 1 row"), "{out}");
    let now = n.json(&["member", "show", &id]);
    assert_eq!(now["phone"], "07700 900123", "{now}");
    assert_eq!(now["courses"][0], "listening-skills", "{now}");
    assert_eq!(now["email"], "ada@example.org", "{now}");

    // Control: the roster's own export imports back with nothing to report.
    let export = n.path().join("export.csv");
    n.ok(&["member", "export", export.to_str().expect("utf-8")]);
    let out = n.ok(&["member", "import", export.to_str().expect("utf-8")]);
    assert!(
        out.contains("imported 0 members") && out.contains("2 already"),
        "{out}"
    );
    assert!(!out.contains("matched a member"), "{out}");
}
