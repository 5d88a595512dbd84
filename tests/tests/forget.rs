//! `member forget` end to end: real nodes on loopback, relays off. Every
//! check of what a device holds decodes its store (and a wire dump),
//! with a positive control before the forget.

use groundwork_tests::decoded::Decoded;
use groundwork_tests::{Node, SYNC_LIMIT, eventually};

const NAME: &str = "Bob Forgotten";
const EMAIL: &str = "bob.forgotten@example.org";
const PHONE: &str = "07700 900461";

/// Waits until nothing of the forgotten member is in `n`'s data directory,
/// decoded.
fn erased(n: &Node, who: &str) {
    eventually(&format!("{who} erases the member"), SYNC_LIMIT, || {
        let held = Decoded::dir(n.path());
        match [NAME, EMAIL, PHONE].into_iter().find(|s| held.contains(s)) {
            Some(s) => Err(format!("{s} is still in its store")),
            None => Ok(()),
        }
    });
}

#[test]
fn a_forgotten_member_is_erased_from_every_device_and_never_reaches_one_that_joins_later() {
    let a = Node::founded("Starting Point");
    let bob = a.add_member(&["--name", NAME, "--email", EMAIL, "--phone", PHONE]);
    let ann = a.add_member(&["--name", "Ann Kept", "--email", "ann.kept@example.org"]);
    // Bob is named in one meet-up's notes, and another meet-up is kept.
    let out = a.ok(&[
        "meetup",
        "add",
        "--date",
        "2024-03-01",
        "--place",
        "Leek library",
    ]);
    let named = out
        .split_whitespace()
        .last()
        .expect("meet-up id")
        .to_owned();
    a.ok(&[
        "meetup",
        "note",
        &named,
        "--append",
        "Bob Forgotten brought the leaflets.",
    ]);
    a.ok(&[
        "meetup",
        "add",
        "--date",
        "2024-04-01",
        "--place",
        "Buxton hall",
    ]);
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "organiser laptop");
    let c = Node::join(&a.invite("organiser"), "laptop that goes offline");
    let (_rb, _) = b.up();
    let (mut rc, _) = c.up();
    b.wait_for_member(NAME);
    c.wait_for_member(NAME);
    eventually("C holds Bob's contact details", SYNC_LIMIT, || {
        let held = Decoded::dir(c.path());
        if held.contains(EMAIL) && held.contains(PHONE) {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    // Positive control: the search finds every field on every device.
    for (n, who) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        let held = Decoded::dir(n.path());
        for s in [NAME, EMAIL, PHONE] {
            assert!(held.contains(s), "{s} not found in {who}'s store");
        }
    }

    // C goes offline and edits another member there.
    rc.stop("TERM");
    c.ok(&["member", "edit", &ann, "--phone", "07700 900999"]);

    // Without --yes and with no terminal to confirm on, nothing happens.
    let line = a.fails(1, &["member", "forget", &bob]);
    assert!(line.contains("--yes"), "{line}");
    let out = a.ok(&["member", "forget", &bob, "--yes", "--redact-notes"]);
    assert!(
        out.contains(&format!("forgot member {bob}: {NAME}")),
        "{out}"
    );
    assert!(
        out.contains("roster epoch 1") && out.contains("contacts epoch 1"),
        "{out}"
    );
    assert!(
        out.contains(&format!("redacted it from 1 meet-up ({named})"))
            && out.contains("meetups epoch 1"),
        "{out}"
    );
    let notes = a.json(&["meetup", "show", &named]);
    assert!(
        notes["notes"]
            .as_str()
            .is_some_and(|n| n.contains("[redacted] brought the leaflets")),
        "{notes}"
    );
    // It reports who has switched: B at once, C (offline) not yet.
    assert!(
        out.contains("1 of 2 other devices have switched so far"),
        "{out}"
    );
    assert!(
        out.contains("laptop that goes offline") && out.contains("not connected"),
        "{out}"
    );
    erased(&a, "A");
    erased(&b, "B");
    let listed = b.json(&["member", "list"]);
    assert!(!listed.to_string().contains(NAME), "{listed}");
    // A's status names the device still on the old epoch: C, not B.
    let old_epoch = |n: &Node| -> Vec<String> {
        let s = n.status();
        let docs = s["documents"].as_array().cloned().unwrap_or_default();
        let roster = docs.iter().find(|d| d["kind"] == "roster").cloned();
        roster
            .and_then(|r| r["old_epoch"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect()
    };
    let (b_id, c_id) = (b.device_id(), c.device_id());
    eventually(
        "A's status names C alone as on the old epoch",
        SYNC_LIMIT,
        || {
            let old = old_epoch(&a);
            if old == vec![c_id.clone()] {
                Ok(())
            } else {
                Err(format!("{old:?} (B is {b_id}, C is {c_id})"))
            }
        },
    );
    let text = a.ok(&["status"]);
    assert!(
        text.contains("roster is in epoch 1; still on an older one"),
        "{text}"
    );

    // C comes back: it switches, keeps its own offline edit, and erases.
    let (_rc, _) = c.up();
    erased(&c, "C");
    eventually("A sees every device on the new epoch", SYNC_LIMIT, || {
        let old = old_epoch(&a);
        if old.is_empty() {
            Ok(())
        } else {
            Err(format!("{old:?}"))
        }
    });
    for (n, who) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        eventually(&format!("{who} has C's offline edit"), SYNC_LIMIT, || {
            let m = n.json(&["member", "show", &ann]);
            if m["phone"] == "07700 900999" {
                Ok(())
            } else {
                Err(m.to_string())
            }
        });
    }

    // A device that joins afterwards never receives the member.
    let d = Node::new();
    let root = tempfile::tempdir().expect("tempdir");
    let (log, wire) = (root.path().join("d.log"), root.path().join("d.wire"));
    let joined = d
        .std_cmd(&[
            "--offline",
            "join",
            &a.invite("organiser"),
            "--label",
            "new laptop",
        ])
        .env("GROUNDWORK_WIRE_DUMP", &wire)
        .output()
        .expect("join");
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    let (_rd, _) = d.up_recorded(&log, &wire);
    d.wait_for_member("Ann Kept");
    let received = Decoded::scan(&std::fs::read(&wire).expect("wire dump"));
    assert!(received.chunks > 0 && received.contains("ann.kept@example.org"));
    for s in [NAME, EMAIL, PHONE] {
        assert!(
            !received.contains(s),
            "{s} reached the device that joined later"
        );
    }
    erased(&d, "D");
}

#[test]
fn two_organisers_forgetting_apart_both_stay_forgotten_once_they_meet() {
    let a = Node::founded("Sneinton Alchemy");
    let first = a.add_member(&["--name", "Cora First", "--email", "cora.first@example.org"]);
    let second = a.add_member(&["--name", "Dan Second", "--phone", "07700 900777"]);
    a.add_member(&["--name", "Eve Stays"]);
    let (_ra, _) = a.up();
    let b = Node::join(&a.invite("organiser"), "organiser one");
    let c = Node::join(&a.invite("organiser"), "organiser two");
    let (mut rb, _) = b.up();
    let (mut rc, _) = c.up();
    for n in [&b, &c] {
        n.wait_for_member("Cora First");
        n.wait_for_member("Dan Second");
    }
    // Apart, each forgets a different member: both start epoch 1.
    rb.stop("TERM");
    rc.stop("TERM");
    b.ok(&["member", "forget", &first, "--yes"]);
    c.ok(&["member", "forget", &second, "--yes"]);
    let gone = [
        "Cora First",
        "cora.first@example.org",
        "Dan Second",
        "07700 900777",
    ];
    // Positive control: each still holds the member the other forgot.
    assert!(Decoded::dir(b.path()).contains("Dan Second"));
    assert!(Decoded::dir(c.path()).contains("Cora First"));
    let (_rb, _) = b.up();
    let (_rc, _) = c.up();
    for (n, who) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        eventually(&format!("{who} holds neither member"), SYNC_LIMIT, || {
            let held = Decoded::dir(n.path());
            match gone.iter().find(|s| held.contains(s)) {
                Some(s) => Err(format!(
                    "{s} is still in its store (decoded: {}); members: {}",
                    held.contains_decoded(s),
                    n.json(&["member", "list"])
                )),
                None => Ok(()),
            }
        });
        n.wait_for_member("Eve Stays");
    }
}

#[test]
fn a_name_taken_out_of_the_plan_with_erase_is_erased_on_a_linked_group_too() {
    const TYPED: &str = "Carol Planned";
    let a = Node::founded("Leek Climate Action");
    let out = a.ok(&["plan", "goal", "add", "Visit Carol Planned at home"]);
    let goal = out.split_whitespace().last().expect("goal id").to_owned();
    let out = a.ok(&["plan", "action", "add", "--title", "Ring Carol Planned"]);
    let action = out.split_whitespace().last().expect("action id").to_owned();
    let (_ra, _) = a.up();
    let b = Node::founded("Buxton Together");
    let (_rb, _) = b.up();
    b.ok(&["peer", "add", &a.link_ticket()]);
    // Positive control: the linked group holds the plan, name and all.
    eventually("B holds A's plan", SYNC_LIMIT, || {
        if Decoded::dir(b.path()).contains(TYPED) {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    let out = a.ok(&[
        "plan",
        "action",
        "edit",
        &action,
        "--title",
        "Ring the member",
    ]);
    assert!(out.contains(&format!("action {action} changed")), "{out}");
    let out = a.ok(&["plan", "goal", "remove", &goal, "--erase"]);
    assert!(
        out.contains(&format!("goal {goal} removed")) && out.contains("started plan epoch 1"),
        "{out}"
    );
    for (n, who) in [(&a, "A"), (&b, "B, the linked group")] {
        eventually(&format!("{who} erases the name"), SYNC_LIMIT, || {
            if Decoded::dir(n.path()).contains(TYPED) {
                Err("still in its store".into())
            } else {
                Ok(())
            }
        });
    }
    let plan = a.json(&["plan", "show"]);
    assert_eq!(plan["goals"].as_array().map(Vec::len), Some(0), "{plan}");
    assert_eq!(plan["actions"][0]["title"], "Ring the member", "{plan}");
}
