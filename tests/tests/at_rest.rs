//! Secrets at rest, end to end through the command line: a passphrase
//! seals the keys and the group's personal data; a decoding scan of the
//! data directory finds none of it, and finds it all again (the positive
//! control) once the passphrase is removed.

use std::os::unix::fs::PermissionsExt as _;

use groundwork_tests::Node;
use groundwork_tests::decoded::Decoded;
use groundwork_tests::sealed::{ok, passphrase_file, refused, run, snapshot};

const NAME: &str = "Priya Sealedname";
const EMAIL: &str = "priya.sealed@example.org";
const PHONE: &str = "07700 900777";

/// The device key's seed as its file holds it in the clear.
fn device_seed_hex(n: &Node) -> String {
    let text = std::fs::read_to_string(n.path().join("device.key")).expect("device.key");
    text.lines().nth(1).expect("key line").trim().to_owned()
}

#[test]
fn a_passphrase_seals_keys_and_personal_data_and_removing_it_is_the_positive_control() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "pass", "correct horse battery\n");
    let n = Node::founded("Sealed Group");
    n.add_member(&["--name", NAME, "--email", EMAIL, "--phone", PHONE]);
    let seed = device_seed_hex(&n);
    let group_seed = std::fs::read_to_string(n.path().join("group.key")).expect("group.key");
    let group_seed = group_seed.lines().nth(1).expect("line").trim().to_owned();

    // Before: the scan finds everything (the decoder works on this store).
    let held = Decoded::dir(n.path());
    for s in [NAME, EMAIL, PHONE, seed.as_str(), group_seed.as_str()] {
        assert!(held.contains(s), "{s} not found before the passphrase");
    }

    let out = ok(&n, Some(&pass), &["passphrase", "set"]);
    assert!(out.contains("passphrase set"), "{out}");
    let held = Decoded::dir(n.path());
    for s in [NAME, EMAIL, PHONE, seed.as_str(), group_seed.as_str()] {
        assert!(!held.contains(s), "{s} is readable with a passphrase set");
    }
    for f in ["store.key", "device.key", "group.key", "groundwork.redb"] {
        let mode = std::fs::metadata(n.path().join(f))
            .expect(f)
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }

    // Everything works with the passphrase...
    let list = ok(&n, Some(&pass), &["member", "list"]);
    assert!(list.contains(NAME), "{list}");
    ok(
        &n,
        Some(&pass),
        &["member", "add", "--name", "Second Member"],
    );
    let list = ok(&n, Some(&pass), &["member", "list"]);
    assert!(list.contains("Second Member"), "{list}");
    assert!(!Decoded::dir(n.path()).contains("Second Member"));

    // ...and nothing without it, or with a wrong one; nothing changes.
    let before = snapshot(n.path());
    let err = refused(&n, None, &["member", "list"]);
    assert!(err.contains("protected by a passphrase"), "{err}");
    let wrong = passphrase_file(secrets.path(), "wrong", "wrong horse battery\n");
    let err = refused(&n, Some(&wrong), &["member", "list"]);
    assert!(err.contains("the passphrase is wrong"), "{err}");
    assert_eq!(snapshot(n.path()), before, "a refused open changed a file");

    // Changing it: the old one stops working, the new one works.
    let newer = passphrase_file(secrets.path(), "newer", "a newer passphrase\n");
    let newer_arg = newer.to_str().expect("utf-8");
    ok(
        &n,
        Some(&pass),
        &["passphrase", "change", "--new-passphrase-file", newer_arg],
    );
    assert!(refused(&n, Some(&pass), &["member", "list"]).contains("wrong"));
    assert!(ok(&n, Some(&newer), &["member", "list"]).contains(NAME));

    // The positive control: removed, the scan finds them all again.
    ok(&n, Some(&newer), &["passphrase", "remove"]);
    assert!(!n.path().join("store.key").exists());
    let held = Decoded::dir(n.path());
    for s in [
        NAME,
        EMAIL,
        PHONE,
        "Second Member",
        seed.as_str(),
        group_seed.as_str(),
    ] {
        assert!(
            held.contains(s),
            "{s} not found after the passphrase was removed"
        );
    }
    assert!(ok(&n, None, &["member", "list"]).contains(NAME));
}

#[test]
fn a_damaged_sealed_key_file_is_one_clear_error_and_is_left_alone() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "pass", "correct horse battery\n");
    let n = Node::founded("Damaged Key Group");
    ok(&n, Some(&pass), &["passphrase", "set"]);
    let path = n.path().join("device.key");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with("groundwork device key v1 sealed\n"),
        "{text}"
    );
    // Flip one hex digit of the sealed key.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let c = if lines[1].ends_with('0') { '1' } else { '0' };
    lines[1].pop();
    lines[1].push(c);
    let damaged = format!("{}\n", lines.join("\n"));
    std::fs::write(&path, &damaged).expect("write");
    let before = snapshot(n.path());
    let err = refused(&n, Some(&pass), &["member", "list"]);
    assert!(
        err.contains("device.key") && err.contains("does not open"),
        "{err}"
    );
    assert_eq!(snapshot(n.path()), before);
}

#[test]
fn init_with_a_passphrase_is_sealed_from_the_start_and_without_one_it_warns() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "pass", "correct horse battery\n");
    let n = Node::new();
    let o = run(&n, Some(&pass), &["init", "--name", "From The Start"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("no passphrase"), "{err}");
    assert!(err.contains("only one steward device"), "{err}");
    ok(
        &n,
        Some(&pass),
        &["member", "add", "--name", NAME, "--email", EMAIL],
    );
    let held = Decoded::dir(n.path());
    assert!(!held.contains(NAME) && !held.contains(EMAIL));
    // Positive control on the same directory.
    ok(&n, Some(&pass), &["passphrase", "remove"]);
    assert!(Decoded::dir(n.path()).contains(NAME));

    let plain = Node::new();
    let o = run(&plain, None, &["init", "--name", "No Passphrase"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no passphrase") && err.contains("passphrase set"),
        "{err}"
    );
}

#[test]
fn error_lines_name_the_problem_without_echoing_a_contact() {
    let n = Node::founded("Careful Errors");
    n.add_member(&["--name", "First Holder", "--email", EMAIL]);
    let list = n.ok(&["member", "list"]);
    assert!(
        list.ends_with("1 member\n"),
        "one member, not 1 members: {list}"
    );
    let bad_email = "priya.at.example@@org";
    let bad_phone = "07700-900-777-PRIVATE";
    for (code, args, names) in [
        (
            2,
            vec!["member", "add", "--name", "X", "--email", bad_email],
            "email is not valid",
        ),
        (
            2,
            vec!["member", "add", "--name", "X", "--phone", bad_phone],
            "phone number is not valid",
        ),
        (
            1,
            vec!["member", "add", "--name", "X", "--email", EMAIL],
            "already has this email",
        ),
    ] {
        let line = n.fails(code, &args);
        assert!(line.contains(names), "{line}");
        for secret in [bad_email, bad_phone, EMAIL] {
            assert!(!line.contains(secret), "the error echoes {secret}: {line}");
        }
    }
    // An import names the line and the column, not the value.
    for (i, (row, names)) in [
        (
            format!("Bad Row,{bad_email},"),
            "line 3: Email: the email is not valid",
        ),
        (
            format!("Worse Row,,{bad_phone}"),
            "line 3: Phone: the phone number is not valid",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let csv = n.path().join(format!("in{i}.csv"));
        std::fs::write(
            &csv,
            format!("name,email,phone\nGood Row,good@example.org,\n{row}\n"),
        )
        .expect("write");
        let line = n.fails(1, &["member", "import", csv.to_str().expect("utf-8")]);
        assert!(line.contains(names), "{line}");
        for secret in [bad_email, bad_phone] {
            assert!(!line.contains(secret), "the import echoes {secret}: {line}");
        }
    }
}

#[test]
fn two_sealed_devices_sync_and_neither_disk_holds_a_name() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "pass", "correct horse battery\n");
    let p = pass.to_str().expect("utf-8");
    let a = Node::new();
    ok(&a, Some(&pass), &["init", "--name", "Sealed Sync"]);
    let (_ra, _) = a.up_with(&[
        "--offline",
        "--passphrase-file",
        p,
        "up",
        "--listen",
        "127.0.0.1:0",
    ]);
    // Served by the running node: no passphrase asked.
    let invite = a.ok(&["invite", "--role", "organiser"]);
    let b = Node::new();
    ok(
        &b,
        Some(&pass),
        &["--offline", "join", invite.trim(), "--label", "second"],
    );
    let (_rb, _) = b.up_with(&[
        "--offline",
        "--passphrase-file",
        p,
        "up",
        "--listen",
        "127.0.0.1:0",
    ]);
    let id = a.add_member(&["--name", NAME, "--email", EMAIL, "--phone", PHONE]);
    b.wait_for_member(NAME);
    groundwork_tests::eventually("the contacts on B", groundwork_tests::SYNC_LIMIT, || {
        let shown = b.json(&["member", "show", &id]);
        if shown["email"] == EMAIL {
            Ok(())
        } else {
            Err(shown.to_string())
        }
    });
    for n in [&a, &b] {
        let held = Decoded::dir(n.path());
        for s in [NAME, EMAIL, PHONE] {
            assert!(!held.contains(s), "{s} is readable on a sealed device");
        }
        assert!(n.path().join("store.key").exists());
    }
    // A running node writes a backup under its passphrase, asking nothing.
    let archive = secrets.path().join("served.backup");
    let out = a.ok(&["backup", archive.to_str().expect("utf-8")]);
    assert!(out.contains("encrypted"), "{out}");
    assert!(!Decoded::scan(&std::fs::read(&archive).expect("read")).contains(NAME));
    let r = Node::new();
    ok(
        &r,
        Some(&pass),
        &["restore", archive.to_str().expect("utf-8")],
    );
    ok(&r, Some(&pass), &["passphrase", "remove"]);
    assert!(
        Decoded::dir(r.path()).contains(NAME),
        "the served backup holds the roster"
    );
}
