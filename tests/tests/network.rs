//! The national body: founding it, and affiliating a group over iroh
//! (loopback, relays off).

use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_protocol::disclosure::Offsets;
use groundwork_tests::decoded::Decoded;
use groundwork_tests::{Node, SYNC_LIMIT, eventually};

/// What group node `n` publishes as its members when it has `count`:
/// rounded to 5 after its secret shift (the test reads the group key from
/// the data directory, as only the group's own devices can).
fn published(n: &Node, count: u64) -> u64 {
    let key = DataDir::new(n.path())
        .read_key(KeyKind::Group)
        .expect("the group key");
    Offsets::of_group(&key).round("people", count).get()
}

#[test]
fn the_national_node_affiliates_a_group_which_keeps_and_shows_it() {
    let national = Node::new();
    let out = national.ok(&["national", "init", "--name", "Community Organisers"]);
    let network = out
        .lines()
        .find_map(|l| l.strip_prefix("network id: "))
        .expect("network id printed")
        .to_owned();
    let (_rn, _) = national.up();
    let group = Node::founded("Community Organisers Birkenhead");
    let (_rg, _) = group.up();

    let out = national.ok(&["affiliate", &group.link_ticket()]);
    assert!(
        out.contains("affiliated Community Organisers Birkenhead"),
        "{out}"
    );
    let status = group.status();
    assert_eq!(
        status["affiliation"]["network"],
        network.as_str(),
        "{status}"
    );
    assert_eq!(status["affiliation"]["group"], status["group"]);
    let text = group.ok(&["status"]);
    assert!(text.contains("affiliated to network"), "{text}");

    // Affiliating links them: the national node holds the group's public
    // documents, and nothing else of it.
    let g = status["group"].as_str().expect("group id").to_owned();
    eventually("the group's plan on the national node", SYNC_LIMIT, || {
        let s = national.status();
        let mut kinds: Vec<String> = s["documents"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter(|d| d["group"] == g.as_str() && d["heads"].as_u64() > Some(0))
                    .filter_map(|d| d["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        kinds.sort();
        if kinds == ["constitution", "plan"] {
            Ok(())
        } else {
            Err(format!("{kinds:?}"))
        }
    });
}

#[test]
fn only_the_national_node_affiliates() {
    let a = Node::founded("ACORN Newcastle");
    let (_ra, _) = a.up();
    let b = Node::founded("Rotherfed");
    let (_rb, ticket) = b.up();
    let line = a.fails(1, &["affiliate", &ticket]);
    assert!(line.contains("only the national node"), "{line}");
    // `national init` on a data directory that holds a group is refused.
    let c = Node::founded("Grapevine");
    let line = c.fails(1, &["national", "init", "--name", "X"]);
    assert!(line.contains("already"), "{line}");
}

/// The directory entry for `name` on `n`, once it shows `members` (as
/// published: rounded to 5).
fn wait_for_entry(n: &Node, name: &str, members: serde_json::Value) -> serde_json::Value {
    eventually(
        &format!("{name} with {members} members"),
        SYNC_LIMIT,
        || {
            let d = n.json(&["network"]);
            let e = d
                .as_array()
                .and_then(|d| d.iter().find(|e| e["name"] == name).cloned());
            match e {
                Some(e) if e["members"] == members => Ok(e),
                other => Err(format!("{other:?}")),
            }
        },
    )
}

#[test]
fn summaries_reach_the_national_node_rounded_to_five_and_only_from_the_network() {
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    let a = Node::founded("Moorlands Climate Action");
    let (_ra, _) = a.up();
    national.ok(&["affiliate", &a.link_ticket()]);
    let c = Node::founded("Grapevine");
    let (_rc, _) = c.up();
    national.ok(&["affiliate", &c.link_ticket()]);
    // B is linked only to A, never to the national node: it is not in the
    // network, and the national node never hears of it.
    let b = Node::founded("Cancer Support Salisbury");
    let (_rb, _) = b.up();
    b.ok(&["peer", "add", &a.link_ticket()]);
    let names = ["Ada Obi", "Bea Rinsto", "Cal Morpel"];
    for n in names {
        a.add_member(&[
            "--name",
            n,
            "--email",
            &format!("{}@example.org", n.replace(' ', ".")),
        ]);
    }
    b.add_member(&["--name", "Dev Tamvel", "--phone", "07700 900777"]);
    c.add_member(&["--name", "Eli Varrow"]);
    // Each group's count (3 and 1) leaves its devices rounded to 5 (0 or
    // 5, as its secret shift has it). The network's total is the sum of
    // what was published.
    let (pa, pc) = (published(&a, 3), published(&c, 1));
    assert!([pa, pc].iter().all(|p| *p == 0 || *p == 5), "{pa} {pc}");
    let total = pa + pc;
    eventually(
        "the published total in the national report",
        SYNC_LIMIT,
        || {
            let r = national.json(&["report"]);
            if r["totals"]["members"] == total && r["reporting"] == 2 {
                Ok(())
            } else {
                Err(format!("{}", r["totals"]))
            }
        },
    );
    let ea = wait_for_entry(&national, "Moorlands Climate Action", pa.into());
    assert_eq!(ea["affiliated"], true);
    assert_eq!(ea["established"], false);
    wait_for_entry(&national, "Grapevine", pc.into());
    let r = national.json(&["report"]);
    let rows = r["by_group"].as_array().expect("rows");
    let shown: Vec<_> = rows
        .iter()
        .map(|g| g["figures"]["members"].clone())
        .collect();
    assert_eq!(shown, [serde_json::json!(pc), serde_json::json!(pa)], "{r}");
    assert_eq!(
        (r["affiliated"].clone(), r["groups"].clone()),
        (2.into(), 2.into())
    );
    let text = national.ok(&["report"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Members ") && l.ends_with(&format!(" {total}"))),
        "{text}"
    );
    assert!(text.contains("rounded to the nearest 5"), "{text}");
    // The shareable formats, to a file and to standard output.
    let page = national.path().join("report.html");
    let line = national.ok(&[
        "report",
        "--format",
        "html",
        "--output",
        page.to_str().expect("utf-8"),
    ]);
    assert!(line.contains("wrote the report"), "{line}");
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.contains("<svg") && html.contains("Moorlands Climate Action"));
    let sheet = national.ok(&["report", "--format", "csv"]);
    assert!(
        sheet
            .lines()
            .any(|l| l == format!("totals,,members,{total}")),
        "{sheet}"
    );
    let md = national.ok(&["report", "--format", "markdown"]);
    assert!(md.contains(&format!("| Members | {total} |")), "{md}");
    let line = national.fails(2, &["report", "--format", "pdf"]);
    assert!(line.contains("pdf"), "{line}");
    // The group linked only to A sees the network's directory through A
    // (C included, which it never met).
    wait_for_entry(&b, "Moorlands Climate Action", pa.into());
    wait_for_entry(&b, "Grapevine", pc.into());
    // And the national node never kept B's card or figures: B is in no
    // directory the national node trusts.
    wait_for_entry(&a, "Cancer Support Salisbury", published(&b, 1).into());
    let d = national.json(&["network"]);
    assert!(
        d.as_array()
            .is_some_and(|d| d.iter().all(|e| e["name"] != "Cancer Support Salisbury")),
        "{d}"
    );
    // Nothing personal reached the national node's data, decoded; the
    // same search finds them in the groups' own stores.
    let (own_a, own_b) = (Decoded::dir(a.path()), Decoded::dir(b.path()));
    assert!(names.iter().all(|n| own_a.contains(n)), "A's own names");
    assert!(own_b.contains("Dev Tamvel") && own_b.contains("07700 900777"));
    let held = Decoded::dir(national.path());
    assert!(held.chunks > 0, "the national node's store decodes");
    for secret in names
        .iter()
        .copied()
        .chain(["Dev Tamvel", "07700 900777", "Ada.Obi@example.org"])
    {
        assert!(!held.contains(secret), "{secret} reached the national node");
    }
}

#[test]
fn no_name_id_email_or_phone_reaches_the_national_node_of_the_sample_network() {
    // The demo network (national node and four sample groups, each a real
    // node, all in one process) with debug logs and every byte any node
    // receives from a peer recorded.
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("network");
    let log = root.path().join("demo.log");
    let wire = root.path().join("wire");
    let out = std::process::Command::new(groundwork_tests::bin())
        .args([
            "--data-dir",
            data.to_str().expect("utf-8"),
            "demo",
            "--groups",
            "4",
            "--headless",
        ])
        .env("GROUNDWORK_LOG", "debug")
        .env("GROUNDWORK_WIRE_DUMP", &wire)
        .stderr(std::fs::File::create(&log).expect("log file"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Converged"), "{stdout}");

    // Every roster's names, ids, emails and phones, from each group's own
    // store.
    let manifest: Vec<String> =
        serde_json::from_slice(&std::fs::read(data.join("demo.json")).expect("manifest"))
            .expect("json");
    let mut secrets: Vec<(String, bool)> = Vec::new();
    let mut first: Vec<String> = Vec::new();
    for dir in &manifest {
        let group = data.join(dir);
        let export = std::process::Command::new(groundwork_tests::bin())
            .args([
                "--data-dir",
                group.to_str().expect("utf-8"),
                "member",
                "export",
            ])
            .output()
            .expect("export");
        assert!(export.status.success());
        let csv = String::from_utf8_lossy(&export.stdout).into_owned();
        for line in csv.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            secrets.push((f[0].to_owned(), true));
            for v in &f[1..4] {
                if !v.is_empty() {
                    secrets.push(((*v).to_owned(), false));
                    if dir == &manifest[0] {
                        first.push((*v).to_owned());
                    }
                }
            }
        }
    }
    let emails = secrets.iter().filter(|(s, _)| s.contains('@')).count();
    let phones = secrets
        .iter()
        .filter(|(s, _)| s.starts_with("07700"))
        .count();
    assert!(
        secrets.len() > 100 && emails > 20 && phones > 10,
        "{} secrets",
        secrets.len()
    );

    // The search can find them: the first group's store, decoded, holds
    // its own members' names, emails and phones.
    let own = Decoded::dir(&data.join(&manifest[0]));
    assert!(own.chunks > 0);
    assert!(
        first.iter().all(|s| own.contains(s)),
        "the first group's own secrets, decoded from its store"
    );

    // What the national node stores, every log line of the whole network,
    // and every byte any node received, decoded.
    let logged = std::fs::read(&log).expect("log");
    let received = std::fs::read(&wire).expect("wire dump");
    assert!(
        !logged.is_empty() && received.len() > 10_000,
        "{} bytes received",
        received.len()
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&wire)
        .expect("wire dump")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the wire dump is readable by its owner only"
    );
    let national = Decoded::dir(&data.join("national"))
        .with(Decoded::scan(&logged))
        .with(Decoded::scan(&received));
    assert!(
        national.chunks > 0,
        "the national node's store and wire decode"
    );
    for (secret, is_id) in &secrets {
        let found = if *is_id {
            national.contains_token(secret)
        } else {
            national.contains(secret)
        };
        assert!(
            !found,
            "{secret} reached the national node, a log or the wire"
        );
    }
}

#[test]
fn records_travel_by_gossip_and_a_node_that_was_offline_catches_up_by_pull() {
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    let a = Node::founded("Grapevine");
    let (_ra, _) = a.up();
    let b = Node::founded("Rotherfed");
    let (rb, _) = b.up();
    national.ok(&["affiliate", &a.link_ticket()]);
    national.ok(&["affiliate", &b.link_ticket()]);
    let network = national.status()["group"].clone();
    // Both groups joined the network's topic, with the national node as
    // their neighbour (the only node they may talk to).
    for n in [&a, &b] {
        eventually("a gossip neighbour", SYNC_LIMIT, || {
            let g = n.status()["gossip"].clone();
            if g["network"] == network && g["neighbours"].as_u64() >= Some(1) {
                Ok(())
            } else {
                Err(format!("{g}"))
            }
        });
    }
    a.add_member(&["--name", "Eli Varrow"]);
    // One member, then six, publish as two different figures whatever
    // the group's shift (1 + s rounds below 6 + s for every s in -2..2).
    let (one, six) = (published(&a, 1), published(&a, 6));
    assert_ne!(one, six);
    wait_for_entry(&b, "Grapevine", one.into());
    eventually("records delivered by gossip", SYNC_LIMIT, || {
        let got: u64 = [&national, &a, &b]
            .iter()
            .filter_map(|n| n.status()["gossip"]["records_received"].as_u64())
            .sum();
        if got > 0 {
            Ok(())
        } else {
            Err("none yet".into())
        }
    });

    // B goes offline; A's figures change meanwhile; B catches up when it
    // comes back, from the records its first session exchanges.
    drop(rb);
    for name in [
        "Fay Odell",
        "Gus Penner",
        "Hal Quist",
        "Ivy Rusk",
        "Jo Selby",
    ] {
        a.add_member(&["--name", name]);
    }
    wait_for_entry(&national, "Grapevine", six.into());
    assert_eq!(
        b.json(&["network"])
            .as_array()
            .and_then(|d| d.iter().find(|e| e["name"] == "Grapevine").cloned())
            .map(|e| e["members"].clone()),
        Some(one.into()),
        "B was offline and still has the old figures"
    );
    let (_rb, _) = b.up();
    wait_for_entry(&b, "Grapevine", six.into());
}
