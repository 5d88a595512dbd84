//! Linking by consent: a ticket only lets a node ask; the other group's
//! steward accepts (`peer accept`), refuses (`peer refuse`), or consents in
//! advance with a one-time link code (`link-code`). Real nodes on loopback.

use groundwork_tests::{Node, SYNC_LIMIT, eventually};

/// The heads of `group`'s `kind` held by `n`, from `status`.
fn held_heads(n: &Node, group: &str, kind: &str) -> u64 {
    n.status()["documents"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["group"] == group && d["kind"] == kind)
                .and_then(|d| d["heads"].as_u64())
        })
        .unwrap_or(0)
}

fn group_id(n: &Node) -> String {
    n.status()["group"].as_str().expect("group").to_owned()
}

#[test]
fn a_plain_ticket_only_asks_and_the_steward_accepts_or_refuses() {
    let a = Node::founded("Moorlands Climate Action");
    let (_ra, ticket_a) = a.up();
    let b = Node::founded("Starting Point");
    let (_rb, _) = b.up();
    let c = Node::founded("Rotherfed");
    let (_rc, _) = c.up();
    let (ga, gb, gc) = (group_id(&a), group_id(&b), group_id(&c));

    // B asks with A's plain ticket: nothing is linked yet.
    let out = b.ok(&["peer", "add", &ticket_a]);
    assert!(out.contains("asked Moorlands Climate Action"), "{out}");
    assert!(out.contains("peer accept"), "{out}");
    let peers = b.json(&["peer", "list"]);
    assert_eq!(peers[0]["requested"], true, "{peers}");
    let requests = a.json(&["peer", "requests"]);
    assert_eq!(requests.as_array().map(Vec::len), Some(1), "{requests}");
    assert_eq!(requests[0]["name"], "Starting Point");
    assert_eq!(requests[0]["group"], gb.as_str());
    let text = a.ok(&["peer", "requests"]);
    assert!(
        text.contains("Starting Point") && text.contains("peer accept"),
        "{text}"
    );
    assert_eq!(
        a.json(&["peer", "list"]).as_array().map(Vec::len),
        Some(0),
        "a request is not a peer"
    );
    assert_eq!(
        held_heads(&b, &ga, "plan"),
        0,
        "nothing synced before consent"
    );

    // C asks too, and A's steward refuses it.
    c.ok(&["peer", "add", &ticket_a]);
    eventually("two requests on A", SYNC_LIMIT, || {
        let n = a.json(&["peer", "requests"]).as_array().map_or(0, Vec::len);
        if n == 2 { Ok(()) } else { Err(n.to_string()) }
    });
    let out = a.ok(&["peer", "refuse", &gc[..8]]);
    assert!(out.contains("refused; 1 request still waiting"), "{out}");
    let line = a.fails(1, &["peer", "accept", &gc[..8]]);
    assert!(line.contains("no request to link"), "{line}");

    // A's steward accepts B: both hold each other's public documents.
    let out = a.ok(&["peer", "accept", &gb[..8]]);
    assert!(
        out.contains("linked with") && out.contains("Starting Point"),
        "{out}"
    );
    eventually("A's plan on B", SYNC_LIMIT, || {
        let h = held_heads(&b, &ga, "plan");
        if h > 0 { Ok(()) } else { Err(h.to_string()) }
    });
    eventually("B's plan on A", SYNC_LIMIT, || {
        let h = held_heads(&a, &gb, "plan");
        if h > 0 { Ok(()) } else { Err(h.to_string()) }
    });
    let peers = b.json(&["peer", "list"]);
    assert!(peers[0].get("requested").is_none(), "linked now: {peers}");
    assert!(
        a.json(&["peer", "requests"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // C, refused, never syncs with A.
    assert_eq!(held_heads(&c, &ga, "plan"), 0);
}

#[test]
fn a_link_code_links_at_once_and_only_once() {
    let a = Node::founded("ACORN Bristol");
    let (_ra, _) = a.up();
    let b = Node::founded("Grapevine");
    let (_rb, _) = b.up();
    let code = a.link_ticket();
    let out = b.ok(&["peer", "add", &code]);
    assert!(
        out.contains("linked with") && out.contains("ACORN Bristol"),
        "{out}"
    );
    // Used: a second group cannot link with it.
    let c = Node::founded("Barton Hill Settlement");
    let (_rc, _) = c.up();
    let line = c.fails(1, &["peer", "add", &code]);
    assert!(line.contains("already been used"), "{line}");
    // A member or organiser device cannot hand out codes.
    let organiser = Node::join(&a.invite("organiser"), "organiser laptop");
    let (_ro, _) = organiser.up();
    let line = organiser.fails(1, &["link-code"]);
    assert!(line.contains("organiser device may not"), "{line}");
    // A damaged link ticket says so.
    let line = b.fails(
        2,
        &["peer", "add", &format!("{}x", &code[..code.len() - 3])],
    );
    assert!(line.contains("damaged"), "{line}");
}

#[test]
fn a_request_accepted_while_the_node_is_down_links_when_it_starts() {
    let a = Node::founded("English for Action");
    let (mut ra, ticket_a) = a.up();
    let b = Node::founded("Sneinton Alchemy");
    let (_rb, _) = b.up();
    b.ok(&["peer", "add", &ticket_a]);
    eventually("the request on A", SYNC_LIMIT, || {
        let n = a.json(&["peer", "requests"]).as_array().map_or(0, Vec::len);
        if n == 1 { Ok(()) } else { Err(n.to_string()) }
    });
    assert_eq!(ra.stop("TERM"), 0);
    let gb = group_id(&b);
    let out = a.ok(&["peer", "accept", &gb[..8]]);
    assert!(out.contains("linked with"), "{out}");
    let (_ra, _) = a.up();
    let ga = group_id(&a);
    eventually("A's plan on B, once A is back", SYNC_LIMIT, || {
        let h = held_heads(&b, &ga, "plan");
        if h > 0 { Ok(()) } else { Err(h.to_string()) }
    });
}
