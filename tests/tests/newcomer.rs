//! What a first-time steward meets at the command line: shell
//! completions and a man page, `--quiet` ids for scripts, a sample CSV,
//! a bad log filter named in one line, and hints on a national node that
//! point to `affiliate`.

use groundwork_tests::{Node, Run};

#[test]
fn completions_and_the_man_page_are_generated_and_a_bad_shell_is_a_usage_error() {
    let n = Node::new();
    let bash = n.ok(&["completions", "bash"]);
    assert!(bash.contains("_groundwork()"), "{bash}");
    assert!(bash.contains("affiliate"), "subcommands complete: {bash}");
    let zsh = n.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef groundwork"), "{zsh}");
    let fish = n.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c groundwork"), "{fish}");
    let line = n.fails(2, &["completions", "tcsh"]);
    assert!(
        line.starts_with("error:") && line.contains("tcsh"),
        "{line}"
    );

    let man = n.ok(&["man"]);
    assert!(man.contains(".TH groundwork"), "{man}");
    let out = tempfile::tempdir().expect("tempdir");
    n.ok(&["man", "--dir", out.path().to_str().expect("utf-8")]);
    let page = std::fs::read_to_string(out.path().join("groundwork-member.1"))
        .expect("a page per subcommand");
    assert!(page.contains(".TH groundwork-member"), "{page}");
    // Neither touched the data directory.
    assert_eq!(std::fs::read_dir(n.path()).expect("dir").count(), 0);
}

#[test]
fn quiet_prints_only_the_new_id_and_it_is_usable() {
    let n = Node::founded("Quiet Group");
    let r = n.run(&["member", "add", "--name", "Ada Obi", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.stdout.trim();
    assert_eq!(r.stdout, format!("{id}\n"), "one line, the id alone");
    assert_eq!(id.len(), 6, "{id:?}");
    let shown = n.json(&["member", "show", id]);
    assert_eq!(shown["name"], "Ada Obi", "{shown}");
    // Without --quiet the same command says what it did.
    let loud = n.ok(&["member", "add", "--name", "Bo Obi"]);
    assert!(loud.starts_with("added member "), "{loud}");
    let meetup = n.ok(&[
        "meetup",
        "add",
        "--date",
        "2024-03-07",
        "--place",
        "Hall",
        "-q",
    ]);
    assert_eq!(meetup.trim().len(), 6, "{meetup:?}");
}

#[test]
fn the_csv_template_imports_and_is_never_written_over_a_file() {
    let n = Node::founded("Template Group");
    let csv = n.path().join("members.csv");
    let csv = csv.to_str().expect("utf-8");
    n.ok(&["member", "import", "--template", csv]);
    let out = n.ok(&["member", "import", csv]);
    assert!(out.contains("imported 2 members"), "{out}");
    let before = std::fs::read(csv).expect("template");
    let line = n.fails(1, &["member", "import", "--template", csv]);
    assert!(line.contains("exists"), "{line}");
    assert_eq!(std::fs::read(csv).expect("template"), before, "unchanged");
}

#[test]
fn a_bad_log_filter_is_one_line_naming_the_variable() {
    let n = Node::founded("Log Group");
    for var in ["GROUNDWORK_LOG", "RUST_LOG"] {
        let r = Run::from(
            n.std_cmd(&["member", "list"])
                .env(var, "groundwork=nonsense[")
                .output()
                .expect("run"),
        );
        assert_eq!(r.code, 2, "{var}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains(var),
            "{}",
            r.stderr
        );
    }
    // A good filter is accepted, and logs go to stderr without colour.
    let r = Run::from(
        n.std_cmd(&["member", "list"])
            .env("RUST_LOG", "debug")
            .output()
            .expect("run"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "no ANSI off a terminal");
}

#[test]
fn a_national_node_points_to_affiliate_when_it_has_no_groups() {
    let n = Node::new();
    n.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_national, _) = n.up();
    for args in [&["network"][..], &["report"][..], &["peer", "list"][..]] {
        let out = n.run(args);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains("groundwork affiliate LINK-CODE"),
            "{args:?}: {text}"
        );
        assert!(!text.contains("peer add"), "{args:?}: {text}");
    }
    let constitution = n.json(&["constitution", "show"]);
    let body = constitution["body"].as_str().expect("body");
    assert!(body.contains("national body"), "{body}");
    assert!(!body.contains("a Local Organising Group"), "{body}");
    // The positive control: a group's node points to `peer add`.
    let g = Node::founded("Linked Group");
    let (_group, _) = g.up();
    let out = g.ok(&["peer", "list"]);
    assert!(out.contains("groundwork peer add TICKET"), "{out}");
    assert!(!out.contains("affiliate"), "{out}");
}

#[test]
fn a_mistyped_command_is_one_line_that_keeps_the_suggestion() {
    let n = Node::new();
    let line = n.fails(2, &["membr", "list"]);
    assert!(
        line.starts_with("error:") && line.contains("membr"),
        "{line}"
    );
    assert!(line.contains("tip:") && line.contains("'member'"), "{line}");
    let line = n.fails(2, &["member", "list", "--jsn"]);
    assert!(
        line.contains("--jsn") && line.contains("'--json'"),
        "{line}"
    );
    // With nothing similar there is no tip, and still one line.
    let line = n.fails(2, &["zzzzqqq"]);
    assert!(line.contains("zzzzqqq") && !line.contains("tip:"), "{line}");
}

#[test]
fn a_future_absurd_or_us_style_date_is_refused_and_nothing_changes() {
    let n = Node::founded("Dated Group");
    let future = groundwork_node::group::today().add_days(30).to_string();
    let line = n.fails(2, &["member", "add", "--name", "Ada", "--joined", &future]);
    assert!(
        line.contains("joined") && line.contains("in the future"),
        "{line}"
    );
    let line = n.fails(
        2,
        &["member", "add", "--name", "Ada", "--trained", "0001-01-01"],
    );
    assert!(
        line.contains("trained") && line.contains("before 1900"),
        "{line}"
    );
    let line = n.fails(
        2,
        &["member", "add", "--name", "Ada", "--joined", "0001-01-01"],
    );
    assert!(
        line.contains("joined") && line.contains("before 1900"),
        "{line}"
    );
    let line = n.fails(
        2,
        &["member", "add", "--name", "Ada", "--joined", "12/31/2020"],
    );
    assert!(line.contains("did you mean 31/12/2020?"), "{line}");
    assert!(
        n.ok(&["member", "list"]).contains("no members"),
        "nothing was added"
    );

    // Positive control: the same member with a real past date is added,
    // then an edit to a future date is refused and changes nothing.
    let id = n.ok(&[
        "member",
        "add",
        "--name",
        "Ada",
        "--joined",
        "31/12/2020",
        "--quiet",
    ]);
    let id = id.trim();
    let line = n.fails(2, &["member", "edit", id, "--joined", &future]);
    assert!(line.contains("in the future"), "{line}");
    let shown = n.ok(&["member", "show", id]);
    assert!(shown.contains("2020-12-31"), "{shown}");

    // A CSV row with a future date is reported by line, and the file is
    // refused as a whole unless --skip-invalid is given.
    let csv = n.path().join("dated.csv");
    std::fs::write(&csv, format!("Name,Joined\nBea,2021-01-01\nCai,{future}\n")).expect("csv");
    let file = csv.to_str().expect("utf-8");
    let line = n.fails(1, &["member", "import", file]);
    assert!(
        line.contains("line 3: Joined:") && line.contains("in the future"),
        "{line}"
    );
    let out = n.ok(&["member", "import", file, "--skip-invalid"]);
    assert!(
        out.contains("imported 1 member") && out.contains("line 3"),
        "{out}"
    );
}

#[test]
fn plan_show_flags_open_actions_past_their_due_date() {
    let n = Node::founded("Late Group");
    let late = n.ok(&[
        "plan",
        "action",
        "add",
        "--title",
        "Book the hall",
        "--due",
        "2020-01-01",
        "--quiet",
    ]);
    let soon = groundwork_node::group::today().add_days(7).to_string();
    n.ok(&[
        "plan",
        "action",
        "add",
        "--title",
        "Print leaflets",
        "--due",
        &soon,
    ]);
    let show = n.ok(&["plan", "show"]);
    let row = |show: &str, title: &str| {
        show.lines()
            .find(|l| l.ends_with(title))
            .unwrap_or_else(|| panic!("no {title} in\n{show}"))
            .to_owned()
    };
    assert!(row(&show, "Book the hall").contains("OVERDUE"), "{show}");
    assert!(!row(&show, "Print leaflets").contains("OVERDUE"), "{show}");
    assert!(show.contains("1 open action past its due date"), "{show}");
    // Done, it is no longer overdue.
    n.ok(&["plan", "action", "done", late.trim()]);
    let show = n.ok(&["plan", "show"]);
    assert!(
        !show.contains("OVERDUE") && !show.contains("past"),
        "{show}"
    );
    assert!(row(&show, "Book the hall").contains("done"), "{show}");
    // Reopened (a done marked by mistake), it is overdue again.
    let out = n.ok(&["plan", "action", "reopen", late.trim()]);
    assert!(out.contains("open again"), "{out}");
    let show = n.ok(&["plan", "show"]);
    assert!(row(&show, "Book the hall").contains("OVERDUE"), "{show}");
    let out = n.ok(&["plan", "action", "reopen", late.trim()]);
    assert!(out.contains("was not done"), "{out}");
    let line = n.fails(1, &["plan", "action", "reopen", "zzzzzz"]);
    assert!(line.contains("no action"), "{line}");
}

#[test]
fn a_meetup_is_changed_and_removed_and_a_bad_change_is_one_line() {
    let n = Node::founded("Meeting Group");
    let id = n.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-03-01",
        "--place",
        "Library",
        "--agenda",
        "Welcome",
        "--quiet",
    ]);
    let id = id.trim();
    let out = n.ok(&[
        "meetup",
        "edit",
        id,
        "--place",
        "The hall",
        "--date",
        "08/03/2026",
        "--attendance",
        "14",
    ]);
    assert_eq!(out.trim(), format!("meet-up {id} changed"));
    let show = n.ok(&["meetup", "show", id]);
    assert!(
        show.contains("on 2026-03-08 at The hall") && show.contains("14 came"),
        "{show}"
    );
    let out = n.ok(&["meetup", "edit", id, "--place", "The hall"]);
    assert_eq!(out.trim(), format!("meet-up {id} unchanged"));
    // Nothing to change, an empty place, an unknown meet-up: one line each,
    // and the meet-up as it was.
    let line = n.fails(2, &["meetup", "edit", id]);
    assert!(line.contains("nothing to change"), "{line}");
    let line = n.fails(2, &["meetup", "edit", id, "--place", " "]);
    assert!(line.contains("place") && line.contains("empty"), "{line}");
    let line = n.fails(1, &["meetup", "remove", "zzzzzz"]);
    assert!(line.contains("no meet-up"), "{line}");
    assert_eq!(n.ok(&["meetup", "show", id]), show);
    let out = n.ok(&["meetup", "remove", id]);
    assert_eq!(out.trim(), format!("meet-up {id} removed"));
    let list = n.ok(&["meetup", "list"]);
    assert!(!list.contains(id), "{list}");
}

#[test]
fn a_failed_join_leaves_no_directory_or_key_behind() {
    let a = Node::founded("Join Once Group");
    let (_ra, _) = a.up();
    let invite = a.invite("organiser");
    // Positive control: the first use of the invite makes a device.
    let b = Node::join(&invite, "b");
    assert!(
        b.path().join("store.redb").exists()
            || std::fs::read_dir(b.path()).expect("dir").count() > 0
    );
    assert!(!b.device_id().is_empty());

    // A second use is refused by the inviting device. The empty directory
    // it was given is left empty: no device key, no store.
    let c = Node::new();
    let r = c.run(&["--offline", "join", &invite, "--label", "c"]);
    assert_ne!(r.code, 0, "a used invite was accepted: {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let left: Vec<_> = std::fs::read_dir(c.path())
        .expect("dir")
        .map(|e| e.map(|e| e.file_name()))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // A directory the join had to make is not there at all afterwards.
    let fresh = c.path().join("new-laptop");
    let r = c.run(&[
        "--offline",
        "--data-dir",
        fresh.to_str().expect("utf-8"),
        "join",
        &invite,
        "--label",
        "c",
    ]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(!fresh.exists(), "{} was left behind", fresh.display());
}

#[test]
fn join_and_peer_add_against_a_node_that_is_down_end_with_a_hint() {
    let a = Node::founded("Gone Home Group");
    let (mut ra, ticket) = a.up();
    let invite = a.invite("member");
    let link = a.link_ticket();
    assert_eq!(ra.stop("TERM"), 0);
    let b = Node::founded("Still Here Group");
    let c = Node::new();
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Waiting National Body"]);
    let (_rn, _) = national.up();
    // All three dial a device that is not running; they time out together.
    let (joined, added, affiliated) = std::thread::scope(|s| {
        let j = s.spawn(|| c.fails(1, &["--offline", "join", &invite, "--label", "c"]));
        let p = s.spawn(|| b.fails(1, &["--offline", "peer", "add", &link]));
        let f = s.spawn(|| national.fails(1, &["affiliate", &ticket]));
        (
            j.join().expect("join thread"),
            p.join().expect("peer add thread"),
            f.join().expect("affiliate thread"),
        )
    });
    for line in [&joined, &added, &affiliated] {
        assert!(line.contains("timed out after 20 s reaching"), "{line}");
        assert!(line.contains("(tried "), "the addresses tried: {line}");
        assert!(
            line.ends_with("is that node running `groundwork up`?"),
            "{line}"
        );
    }
    // Nothing was left behind by the failed join, and b remembers no peer.
    assert_eq!(std::fs::read_dir(c.path()).expect("dir").count(), 0);
    assert_eq!(b.json(&["peer", "list"]), serde_json::json!([]));
}

#[test]
fn listings_answer_from_the_store_when_no_node_runs() {
    // An empty peer list, a directory of at most this group and a report with
    // no groups: each in JSON and as text, with no node running.
    for kind in ["group", "national"] {
        let n = Node::new();
        if kind == "group" {
            n.ok(&["init", "--name", "Quiet Evening Group"]);
        } else {
            n.ok(&["national", "init", "--name", "Quiet National Body"]);
        }
        assert_eq!(n.json(&["peer", "list"]), serde_json::json!([]));
        let network = n.json(&["network"]);
        assert!(
            network.as_array().is_some_and(|d| d.len() <= 1),
            "{network}"
        );
        assert!(n.json(&["report"]).is_object());
        let peers = n.ok(&["peer", "list"]);
        assert!(peers.starts_with("no peers yet"), "{peers}");
        // The hint still tells a national body from a group.
        assert_eq!(
            peers.contains("affiliate"),
            kind == "national",
            "{kind}: {peers}"
        );
        n.ok(&["network"]);
        n.ok(&["report"]);
    }
}

#[test]
fn an_os_error_is_said_once() {
    let n = Node::founded("Missing Files Group");
    let missing = n.path().join("no-such.csv");
    let missing = missing.to_str().expect("utf-8");
    for args in [
        vec!["member", "import", missing],
        vec!["restore", missing],
        vec!["member", "export", "/proc/no-such-dir/x.csv"],
    ] {
        let r = n.run(&args);
        assert_ne!(r.code, 0, "{args:?}");
        let line = r.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{args:?}: {line}");
        assert_eq!(
            line.matches("No such file or directory").count(),
            1,
            "{args:?}: {line}"
        );
        assert!(line.contains("(os error 2)"), "{args:?}: {line}");
    }
}

/// Runs `groundwork ARGS` for `n` inside a private mount namespace where
/// its data directory is bind-mounted read-only; `None` when this machine
/// may not make one (no CAP_SYS_ADMIN), said on stderr so a skip is seen.
fn on_a_read_only_mount(n: &Node, args: &[&str]) -> Option<Run> {
    let dir = n.path().to_str().expect("utf-8 temp dir");
    let mut script = format!(
        "mount --bind '{dir}' '{dir}' && mount -o remount,bind,ro '{dir}' || exit 97; exec '{}'",
        groundwork_tests::bin().display()
    );
    for a in args {
        script.push_str(&format!(" '{a}'"));
    }
    let mut c = std::process::Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    for (k, v) in n.std_cmd(&[]).get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let out = c.output().ok()?;
    let r = Run::from(out);
    if r.code == 97 || r.stderr.starts_with("unshare:") {
        eprintln!(
            "SKIPPED: no private read-only mount here: {}",
            r.stderr.trim()
        );
        return None;
    }
    Some(r)
}

#[test]
fn a_read_only_store_is_listed_and_a_change_is_one_line() {
    let n = Node::founded("Read Only Group");
    n.add_member(&["--name", "Ada Obi", "--email", "ada@example.org"]);
    // Positive control: the mount really is read-only, so a write fails.
    let Some(touch) = on_a_read_only_mount(&n, &["member", "add", "--name", "Bo Li"]) else {
        return;
    };
    assert_eq!(touch.code, 1, "{touch:?}");
    let line = touch.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("is read-only"), "{line}");
    assert!(line.contains("listed, not changed"), "{line}");
    // The listings answer from the read-only store.
    let list = on_a_read_only_mount(&n, &["member", "list", "--json"]).expect("mount again");
    assert_eq!(list.code, 0, "{list:?}");
    let members: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let names: Vec<&str> = members
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["Ada Obi"], "{members}");
    for args in [&["plan", "show"][..], &["network"], &["member", "export"]] {
        let r = on_a_read_only_mount(&n, args).expect("mount again");
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        if args[0] == "member" {
            assert!(r.stdout.contains("Ada Obi"), "{}", r.stdout);
        }
    }
    // Nothing was changed by the refused write.
    assert_eq!(n.member_names(), ["Ada Obi"]);
}

#[test]
fn a_damaged_ticket_or_invite_is_a_usage_mistake_with_or_without_a_node() {
    let n = Node::founded("Damaged Tickets Group");
    let good = {
        let other = Node::founded("Ticket Giver Group");
        let (_up, ticket) = other.up();
        ticket
    };
    let damaged = format!("{}x", &good[..good.len() - 3]);
    // No node runs here: the ticket is read before anything is dialled.
    for args in [
        vec!["peer", "add", "garbage"],
        vec!["peer", "add", damaged.as_str()],
        vec!["affiliate", "garbage"],
        vec!["affiliate", "gwlinkAAAA"],
    ] {
        let line = n.fails(2, &args);
        assert!(
            line.contains("ticket") || line.contains("invite"),
            "{args:?}: {line}"
        );
    }
    let fresh = Node::new();
    let line = fresh.fails(2, &["--offline", "join", "gwinvitexyz"]);
    assert!(line.contains("invite is damaged"), "{line}");
    assert!(!fresh.path().join("groundwork.redb").exists());
    // Positive control: a well-formed ticket is read and goes on to the
    // next step, which fails as itself with 1 (no national node runs
    // here); dialling one that is down is 1 too (the test below).
    let line = n.fails(1, &["affiliate", &good]);
    assert!(line.contains("running national node"), "{line}");
}

/// The JSON types under `v` that differ between rows: for every array of
/// objects, each key's types across the rows, `null` aside (an optional
/// field is a value or `null`). Returns the paths where a key has two.
fn mixed_types(v: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    use serde_json::Value;
    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
    match v {
        Value::Array(items) => {
            let mut kinds: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
                Default::default();
            for item in items {
                if let Value::Object(o) = item {
                    for (k, v) in o {
                        if !v.is_null() {
                            kinds.entry(k.as_str()).or_default().insert(kind(v));
                        }
                    }
                }
            }
            for (k, set) in kinds {
                if set.len() > 1 {
                    found.push(format!("{path}[].{k}: {set:?}"));
                }
            }
            let element_kinds: std::collections::BTreeSet<&str> =
                items.iter().filter(|v| !v.is_null()).map(kind).collect();
            if element_kinds.len() > 1 {
                found.push(format!("{path}[]: {element_kinds:?}"));
            }
            for item in items {
                mixed_types(item, &format!("{path}[]"), found);
            }
        }
        Value::Object(o) => {
            for (k, v) in o {
                mixed_types(v, &format!("{path}.{k}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_json_field_has_one_type_in_every_row() {
    // The checker itself: a count that is a number in one row and "<5" in
    // another is found (the positive control).
    let mut found = Vec::new();
    mixed_types(
        &serde_json::json!({"groups": [{"members": 30}, {"members": "<5"}, {"members": null}]}),
        "report",
        &mut found,
    );
    assert_eq!(found, [r#"report.groups[].members: {"number", "string"}"#]);

    // A sample network's national node and a group of it, every listing.
    let root = tempfile::tempdir().expect("tempdir");
    let n = Node::new();
    let data = root.path().to_str().expect("utf-8");
    n.ok(&["--data-dir", data, "demo", "--groups", "6", "--headless"]);
    let national = root.path().join("national");
    let group = root.path().join("community-organisers-birkenhead");
    let mut checked = 0;
    for (dir, args) in [
        (&national, &["report"][..]),
        (&national, &["network"]),
        (&national, &["peer", "list"]),
        (&group, &["report"]),
        (&group, &["network"]),
        (&group, &["peer", "list"]),
        (&group, &["member", "list"]),
        (&group, &["meetup", "list"]),
        (&group, &["plan", "show"]),
        (&group, &["constitution", "show"]),
    ] {
        let mut a = vec!["--data-dir", dir.to_str().expect("utf-8")];
        a.extend_from_slice(args);
        let v = n.json(&a);
        let mut found = Vec::new();
        mixed_types(&v, &args.join(" "), &mut found);
        assert!(found.is_empty(), "{args:?}: {found:?}");
        checked += 1;
    }
    assert_eq!(checked, 10);
    // status, from a running node with members, a meet-up and a peer.
    let a = Node::founded("Typed Status Group");
    a.add_member(&["--name", "Ada Obi"]);
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("member"), "second");
    let (_rb, _) = b.up();
    let mut found = Vec::new();
    mixed_types(&a.status(), "status", &mut found);
    assert!(found.is_empty(), "status: {found:?}");
}

#[test]
fn a_listing_run_as_up_starts_is_answered_once_the_node_answers() {
    // A node holds the store a moment before its control socket answers;
    // a command in that moment waited out the store's ten seconds, then
    // failed as "in use". Now it goes to the node as soon as it answers.
    let n = Node::founded("Quick Start Group");
    n.add_member(&["--name", "Ada Obi"]);
    for round in 0..5 {
        let mut up = n.spawn_up_unwatched();
        let r = n.run(&["member", "list", "--json"]);
        assert_eq!(r.code, 0, "round {round}: {}", r.stderr);
        assert!(r.stdout.contains("Ada Obi"), "round {round}: {}", r.stdout);
        // Positive control that a node runs: status needs one.
        groundwork_tests::eventually("the node answering", groundwork_tests::SYNC_LIMIT, || {
            let s = n.run(&["status", "--json"]);
            if s.code == 0 { Ok(()) } else { Err(s.stderr) }
        });
        up.kill().expect("stop");
        up.wait().expect("reap");
    }
}
