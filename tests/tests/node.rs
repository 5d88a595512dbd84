//! `groundwork up`: the node starts, prints its ticket, and stops cleanly.

use groundwork_tests::Node;

#[test]
fn up_prints_a_ticket_and_stops_cleanly_on_sigterm_and_ctrl_c() {
    let n = Node::founded("Moorlands Climate Action");
    for signal in ["TERM", "INT"] {
        let (mut running, ticket) = n.up();
        assert!(ticket.starts_with("endpoint"), "{ticket}");
        assert_eq!(
            running.stop(signal),
            0,
            "exit after SIG{signal}; stdout {:?}",
            running.stdout
        );
        assert!(
            running.stdout.iter().any(|l| l == "node stopped"),
            "{:?}",
            running.stdout
        );
        // The ticket is remembered for `groundwork ticket` (bare, as
        // stdout is not a terminal), and the store is free again.
        assert_eq!(n.ok(&["ticket"]).trim(), ticket);
        assert_eq!(n.ok(&["ticket", "--bare"]).trim(), ticket);
        n.add_member(&["--name", &format!("after SIG{signal}")]);
    }
}

#[test]
fn up_outside_a_group_fails_with_one_line() {
    let n = Node::new();
    let line = n.fails(1, &["--offline", "up", "--listen", "127.0.0.1:0"]);
    assert!(line.contains("no group is founded"), "{line}");
    let line = n.fails(2, &["up", "--listen", "not-an-address"]);
    assert!(line.contains("not-an-address"), "{line}");
}

#[test]
fn ticket_while_the_node_runs_is_the_running_nodes_and_links_as_given() {
    let a = Node::founded("Ticket Group A");
    let (_ra, ticket) = a.up();
    // Served by the running node (the store is its), bare for a script.
    let printed = a.ok(&["ticket"]);
    assert_eq!(printed.trim(), ticket);
    let b = Node::founded("Ticket Group B");
    let (_rb, _) = b.up();
    let out = b.ok(&["peer", "add", printed.trim()]);
    assert!(out.contains("Ticket Group A"), "{out}");
}

#[test]
fn ticket_before_the_node_ever_ran_says_so() {
    let n = Node::founded("Rotherfed");
    let line = n.fails(1, &["ticket"]);
    assert!(line.contains("run `groundwork up`"), "{line}");
}

#[test]
fn config_toml_sets_relays_and_listening_and_a_bad_one_is_named() {
    let n = Node::founded("Grapevine");
    let config = n.path().join("config.toml");
    std::fs::write(&config, "relay = \"disabled\"\nlisten = \"127.0.0.1:0\"\n")
        .expect("write config");
    let (mut running, _ticket) = n.up_with(&["up"]);
    assert!(
        running.stdout.iter().any(|l| l.contains("127.0.0.1:")),
        "{:?}",
        running.stdout
    );
    assert_eq!(running.stop("TERM"), 0);

    std::fs::write(&config, "relay = \"sometimes\"\n").expect("write config");
    let line = n.fails(1, &["up"]);
    assert!(
        line.contains("config.toml") && line.contains("sometimes"),
        "{line}"
    );
    std::fs::write(&config, "relai = \"default\"\n").expect("write config");
    let line = n.fails(1, &["up"]);
    assert!(
        line.contains("config.toml") && line.contains("relai"),
        "{line}"
    );
}

#[test]
fn the_endpoint_id_is_the_device_key_listed_by_device_list() {
    let n = Node::founded("Barton Hill Settlement");
    let devices = n.json(&["device", "list"]);
    let list = devices.as_array().expect("array");
    assert_eq!(list.len(), 1, "{devices}");
    assert_eq!(
        (list[0]["role"].as_str(), list[0]["this_device"].as_bool()),
        (Some("steward"), Some(true))
    );
    let id = list[0]["id"].as_str().expect("id");
    assert_eq!(id.len(), 64);
    let (mut running, _ticket) = n.up();
    let announced = running
        .stdout
        .iter()
        .find(|l| l.contains(": node "))
        .cloned()
        .unwrap_or_default();
    assert!(
        announced.contains(&format!("node {} up", &id[..10])),
        "{announced}"
    );
    assert_eq!(running.stop("TERM"), 0);
}
