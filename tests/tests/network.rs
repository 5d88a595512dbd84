//! The national body: founding it, and affiliating a group over iroh
//! (loopback, relays off).

use groundwork_tests::{Node, SYNC_LIMIT, eventually};

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
    let (_rg, ticket) = group.up();

    let out = national.ok(&["affiliate", &ticket]);
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

/// The directory entry for `name` on `n`, once it shows `members`.
fn wait_for_entry(n: &Node, name: &str, members: u64) -> serde_json::Value {
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
fn summaries_reach_the_national_node_across_hops_and_name_no_one() {
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    let a = Node::founded("Moorlands Climate Action");
    let (_ra, ticket_a) = a.up();
    national.ok(&["affiliate", &ticket_a]);
    // B is linked only to A, never to the national node.
    let b = Node::founded("Cancer Support Salisbury");
    let (_rb, _) = b.up();
    b.ok(&["peer", "add", &ticket_a]);
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
    let ea = wait_for_entry(&national, "Moorlands Climate Action", 3);
    assert_eq!(ea["affiliated"], true);
    assert_eq!(ea["established"], false);
    let eb = wait_for_entry(&national, "Cancer Support Salisbury", 1);
    assert_eq!(eb["affiliated"], false);
    let text = national.ok(&["network"]);
    assert!(text.contains("<5"), "small counts are suppressed: {text}");
    // Nothing personal reached the national node's data.
    let bytes = national.all_bytes();
    for secret in names
        .iter()
        .copied()
        .chain(["Dev Tamvel", "07700 900777", "Ada.Obi@example.org"])
    {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} reached the national node"
        );
    }
}
