//! Revocation that holds everywhere, end to end: real nodes on loopback,
//! relays off. A revoked device R keeps editing while it is cut off from
//! the steward with a device X that has not heard of the revocation.

use groundwork_tests::{Node, SYNC_LIMIT, eventually};

/// The fingerprint of the roster's heads on `n`, from `status --json`.
fn roster_heads(n: &Node) -> String {
    let s = n.status();
    s["documents"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["kind"] == "roster"))
        .and_then(|d| d["fingerprint"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn a_revoked_devices_edits_made_after_the_revocation_are_dropped_everywhere_and_the_rest_survive() {
    let s = Node::founded("Lowestoft Rising");
    let ann = s.add_member(&["--name", "Ann Before", "--phone", "07700 900100"]);
    let (mut rs, _) = s.up();
    let x = Node::join(&s.invite("organiser"), "X, not told");
    let r = Node::join(&s.invite("organiser"), "R, to be revoked");
    let (_rx, _) = x.up();
    let (mut rr, _) = r.up();
    // R's edit before the revocation reaches everyone.
    r.add_member(&["--name", "Ruth Before"]);
    for n in [&s, &x] {
        n.wait_for_member("Ruth Before");
    }
    let r_id = r.device_id();
    eventually("X and R connected to each other", SYNC_LIMIT, || {
        let peers = x.json(&["peer", "list"]);
        let linked = peers.as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["device"] == r_id.as_str() && p["connected"] == true)
        });
        if linked {
            Ok(())
        } else {
            Err(peers.to_string())
        }
    });

    // The steward's laptop goes offline, and is used there to revoke R.
    assert_eq!(rs.stop("TERM"), 0);
    let out = s.ok(&["device", "revoke", &r_id]);
    assert!(out.contains("revoked device"), "{out}");
    assert!(out.contains("roster epoch 1"), "{out}");

    // Meanwhile R keeps editing, and X (which has not heard) takes it and
    // edits on top.
    r.add_member(&["--name", "Rex After Revocation"]);
    x.wait_for_member("Rex After Revocation");
    x.ok(&["member", "edit", &ann, "--phone", "07700 900222"]);
    let xs_own = x.add_member(&["--name", "Xena Meanwhile"]);
    assert_eq!(rr.stop("TERM"), 0);

    // The steward comes back: X hears of the revocation and switches.
    let (_rs, _) = s.up();
    for (n, who) in [(&s, "S"), (&x, "X")] {
        eventually(
            &format!("{who} holds X's edits and none of R's after the revocation"),
            SYNC_LIMIT,
            || {
                let names = n.member_names();
                let phone = n.json(&["member", "show", &ann])["phone"].clone();
                let ok = names.iter().any(|m| m == "Xena Meanwhile")
                    && names.iter().any(|m| m == "Ruth Before")
                    && !names.iter().any(|m| m == "Rex After Revocation")
                    && phone == "07700 900222";
                if ok {
                    Ok(())
                } else {
                    Err(format!("{names:?}, Ann's phone {phone}"))
                }
            },
        );
    }
    eventually("S and X hold the same roster heads", SYNC_LIMIT, || {
        let (hs, hx) = (roster_heads(&s), roster_heads(&x));
        if !hs.is_empty() && hs == hx {
            Ok(())
        } else {
            Err(format!("S {hs:?}, X {hx:?}"))
        }
    });
    let member = x.json(&["member", "show", &xs_own]);
    assert_eq!(member["name"], "Xena Meanwhile");

    // R comes back: it is refused, and nothing of it returns.
    let (_rr, _) = r.up();
    r.add_member(&["--name", "Rex Again"]);
    eventually("R is refused", SYNC_LIMIT, || {
        let peers = r.json(&["peer", "list"]);
        let refused = peers.as_array().is_some_and(|p| {
            p.iter().any(|p| {
                p["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("revoked"))
            })
        });
        if refused {
            Ok(())
        } else {
            Err(peers.to_string())
        }
    });
    let text = s.ok(&["status"]);
    assert!(!text.contains("Rex"), "{text}");
    for n in [&s, &x] {
        let names = n.member_names();
        assert!(!names.iter().any(|m| m.starts_with("Rex")), "{names:?}");
    }
}
