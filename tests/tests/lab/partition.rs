//! Partition 2/1 and heal: three devices on a bridge, one cut off while both
//! sides edit.

use std::time::Instant;

use groundwork_tests::lab::Lab;
use groundwork_tests::{Node, eventually};

use super::{LAB_LIMIT, connected, converged, figure};

fn member<'a>(list: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    list.as_array()?.iter().find(|m| m["name"] == name)
}

#[test]
fn partition_and_heal_keeps_every_edit_from_both_sides() {
    let Some(mut lab) = Lab::new("partition_and_heal") else {
        return;
    };
    let hosts = [lab.ns("a"), lab.ns("b"), lab.ns("c")];
    let sw = lab.switch(&[
        (&hosts[0], "10.7.0.1/24"),
        (&hosts[1], "10.7.0.2/24"),
        (&hosts[2], "10.7.0.3/24"),
    ]);
    let a = Node::founded("Partition Test Group");
    let shared = a.add_member(&["--name", "Shared Member", "--email", "shared@example.org"]);
    let other = a.add_member(&["--name", "Other Member", "--email", "other@example.org"]);
    let meetup = a.ok(&[
        "meetup",
        "add",
        "--date",
        "2026-11-02",
        "--place",
        "Hall",
        "--quiet",
    ]);
    let meetup = meetup.trim().to_owned();
    a.ok(&["plan", "goal", "add", "Goal before the split"]);
    let (_ra, _) = a.up_inside(&lab, &hosts[0], "10.7.0.1:7000");
    let join =
        |host: &str, label: &str| Node::join_inside(&lab, host, &a.invite("organiser"), label);
    let b = join(&hosts[1], "b");
    let (_rb, _) = b.up_inside(&lab, &hosts[1], "10.7.0.2:7000");
    let c = join(&hosts[2], "c");
    let (_rc, _) = c.up_inside(&lab, &hosts[2], "10.7.0.3:7000");
    converged(&[&a, &b, &c], LAB_LIMIT);

    // Split 2/1: C's port on the switch goes down.
    lab.set_link(&sw, "p2", false);
    let split = Instant::now();
    // Both sides edit: the same member, different members, a new member
    // each, the meet-up's notes, the plan.
    a.ok(&[
        "member",
        "edit",
        &shared,
        "--phone",
        "07700 900001",
        "--kind",
        "professional",
    ]);
    a.add_member(&["--name", "Left Side"]);
    b.ok(&["meetup", "note", &meetup, "--append", "Noted on the left"]);
    a.ok(&["plan", "goal", "add", "Left goal"]);
    c.ok(&[
        "member",
        "edit",
        &shared,
        "--email",
        "moved@example.org",
        "--kind",
        "observer",
    ]);
    c.ok(&[
        "member",
        "edit",
        &other,
        "--phone",
        "07700 900002",
        "--kind",
        "observer",
    ]);
    c.add_member(&["--name", "Right Side"]);
    c.ok(&["meetup", "note", &meetup, "--append", "Noted on the right"]);
    c.ok(&["plan", "action", "add", "--title", "Right action"]);
    // The left side still syncs within itself...
    b.wait_for_member("Left Side");
    b.ok(&["member", "edit", &shared, "--status", "lapsed"]);
    a.wait_for_member("Left Side");
    // ...and the split holds: A notices C has gone, and C has none of it.
    let c_id = c.device_id();
    eventually("A noticing C has gone", LAB_LIMIT, || {
        if connected(&a, &c_id) {
            Err("still connected".into())
        } else {
            Ok(())
        }
    });
    let noticed = split.elapsed();
    assert!(
        !c.member_names().iter().any(|n| n == "Left Side"),
        "the partition let an edit through"
    );

    lab.set_link(&sw, "p2", true);
    let healed = converged(&[&a, &b, &c], LAB_LIMIT);
    figure(
        "partition and heal",
        &format!(
            "A noticed the split after {:.1} s; after healing all three converged in {:.1} s",
            noticed.as_secs_f64(),
            healed.as_secs_f64()
        ),
    );

    // Every edit is kept as the CRDT rules say, on every device: edits to
    // different members all merge; a member edited on both sides keeps one
    // side's whole record (docs/schema.md, "Packed records"), the same one
    // everywhere.
    let mut shared_records = Vec::new();
    for n in [&a, &b, &c] {
        let list = n.json(&["member", "list"]);
        for name in ["Shared Member", "Other Member", "Left Side", "Right Side"] {
            assert!(member(&list, name).is_some(), "{name} missing: {list}");
        }
        let o = n.json(&["member", "show", &other]);
        assert_eq!(
            (&o["phone"], &o["kind"]),
            (&"07700 900002".into(), &"observer".into()),
            "{o}"
        );
        let m = n.json(&["member", "show", &shared]);
        let left = m["kind"] == "professional" && m["status"] == "lapsed";
        let right = m["kind"] == "observer" && m["status"] == "active";
        assert!(left || right, "one side's whole record: {m}");
        let left_contact = m["phone"] == "07700 900001" && m["email"] == "shared@example.org";
        let right_contact = m["phone"].is_null() && m["email"] == "moved@example.org";
        assert!(
            left_contact || right_contact,
            "one side's whole contact: {m}"
        );
        shared_records.push(m);
        let notes = n.json(&["meetup", "show", &meetup]);
        let text = notes.to_string();
        assert!(
            text.contains("Noted on the left") && text.contains("Noted on the right"),
            "both sides' notes: {text}"
        );
        let plan = n.json(&["plan", "show"]).to_string();
        for t in ["Goal before the split", "Left goal", "Right action"] {
            assert!(plan.contains(t), "{t} missing from the plan: {plan}");
        }
    }
    assert!(
        shared_records.iter().all(|m| *m == shared_records[0]),
        "the same record wins everywhere: {shared_records:?}"
    );
}
