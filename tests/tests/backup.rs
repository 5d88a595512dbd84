//! Backups that are not clones: `backup` writes one encrypted archive;
//! `restore` makes a new device of the group, which the group's devices,
//! linked groups and the national node refuse at the handshake until it
//! is admitted; the device the backup came from can then be revoked.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use groundwork_tests::decoded::Decoded;
use groundwork_tests::sealed::{ok, passphrase_file, refused, snapshot};
use groundwork_tests::{Node, SYNC_LIMIT, eventually};

const NAME: &str = "Marta Backedup";
const EMAIL: &str = "marta.backedup@example.org";
const PHONE: &str = "07700 900555";

/// The id after `label` in restore's output ("... device <id> ...").
fn id_after<'a>(out: &'a str, label: &str) -> &'a str {
    out.split(label)
        .nth(1)
        .and_then(|rest| rest.split([' ', ')', ':']).next())
        .unwrap_or_else(|| panic!("no '{label}' in {out}"))
}

fn key_hex(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).expect("key file");
    text.lines().nth(1).expect("key line").trim().to_owned()
}

/// What `peer list` on `n` says of `device`: (connected, last error).
fn peer(n: &Node, device: &str) -> (bool, String) {
    let peers = n.json(&["peer", "list"]);
    peers
        .as_array()
        .and_then(|p| p.iter().find(|p| p["device"] == device))
        .map(|p| {
            (
                p["connected"] == true,
                p["last_error"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .unwrap_or_default()
}

/// Revokes `lost` from `from`, and waits until `other` holds the revocation.
fn revoke_and_wait(from: &Node, other: &Node, lost: &str) {
    let out = from.ok(&["device", "revoke", lost]);
    assert!(out.contains("revoked device"), "{out}");
    eventually("the revocation on the other device", SYNC_LIMIT, || {
        let devices = other.json(&["device", "list"]);
        let revoked = devices
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["id"] == lost && !d["revoked"].is_null()));
        if revoked {
            Ok(())
        } else {
            Err(devices.to_string())
        }
    });
}

#[test]
fn a_restored_backup_is_a_new_device_refused_everywhere_until_admitted() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "backup-pass", "a backup passphrase\n");

    // A group with a second device, a linked group and a national node.
    let national = Node::new();
    national.ok(&["national", "init", "--name", "Community Organisers"]);
    let (_rn, _) = national.up();
    let s = Node::founded("Backed Up Group");
    s.add_member(&["--name", NAME, "--email", EMAIL, "--phone", PHONE]);
    let (mut rs, _) = s.up();
    national.ok(&["affiliate", &s.link_ticket()]);
    let linked = Node::founded("Linked Group");
    let (_rl, _) = linked.up();
    linked.ok(&["peer", "add", &s.link_ticket()]);
    let b = Node::join(&s.invite("organiser"), "second laptop");
    let (_rb, _) = b.up();
    b.wait_for_member(NAME);
    let (s_id, b_id) = (s.device_id(), b.device_id());
    let (l_id, n_id) = (linked.device_id(), national.device_id());
    eventually(
        "S connected to B, the linked group and the national node",
        SYNC_LIMIT,
        || {
            let all = [&b_id, &l_id, &n_id].iter().all(|d| peer(&s, d).0);
            if all {
                Ok(())
            } else {
                Err(s.json(&["peer", "list"]).to_string())
            }
        },
    );

    // A backup needs the node stopped, and is one encrypted file.
    let archive = secrets.path().join("group.backup");
    let archive_s = archive.to_str().expect("utf-8");
    let line = s.fails(1, &["backup", archive_s]);
    assert!(line.contains("stop `groundwork up`"), "{line}");
    assert_eq!(rs.stop("TERM"), 0);
    let out = ok(
        &s,
        None,
        &[
            "backup",
            archive_s,
            "--backup-passphrase-file",
            pass.to_str().expect("utf-8"),
        ],
    );
    assert!(out.contains("the group key"), "{out}");
    let mode = std::fs::metadata(&archive)
        .expect("archive")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let (device_seed, group_seed) = (
        key_hex(s.path(), "device.key"),
        key_hex(s.path(), "group.key"),
    );
    let scan = Decoded::scan(&std::fs::read(&archive).expect("read"));
    for secret in [
        NAME,
        EMAIL,
        PHONE,
        &device_seed,
        &group_seed,
        "Backed Up Group",
    ] {
        assert!(!scan.contains(secret), "{secret} is readable in the backup");
    }

    // Restored: a new device, sealed under the backup's passphrase.
    let r = Node::new();
    let out = ok(&r, Some(&pass), &["restore", archive_s]);
    assert!(
        out.contains(&format!("from a backup of device {s_id}")),
        "{out}"
    );
    let r_id = id_after(&out, "this is a new device (").to_owned();
    assert_ne!(r_id, s_id);
    let held = Decoded::dir(r.path());
    for secret in [NAME, EMAIL, PHONE, &group_seed] {
        assert!(
            !held.contains(secret),
            "{secret} is readable in the restored directory"
        );
    }
    let line = refused(&r, Some(&pass), &["member", "list"]);
    assert!(line.contains("awaits an invite"), "{line}");
    // The positive control: in the clear, the restored directory holds
    // the roster, the contacts and the group key, and not the old device key.
    ok(&r, Some(&pass), &["passphrase", "remove"]);
    let held = Decoded::dir(r.path());
    for secret in [NAME, EMAIL, PHONE, &group_seed] {
        assert!(
            held.contains(secret),
            "{secret} did not come back from the backup"
        );
    }
    assert!(
        !held.contains(&device_seed),
        "the old device key was restored"
    );

    // Refused at the handshake by the group's device, the linked group and
    // the national node.
    let (mut rr, _) = r.up();
    eventually(
        "R refused by B, the linked group and the national node",
        SYNC_LIMIT,
        || {
            let errors: Vec<(bool, String)> =
                [&b_id, &l_id, &n_id].iter().map(|d| peer(&r, d)).collect();
            if errors
                .iter()
                .all(|(c, e)| !c && e.contains("unknown device"))
            {
                Ok(())
            } else {
                Err(format!("{errors:?}"))
            }
        },
    );
    assert_eq!(rr.stop("TERM"), 0);

    // Admitted by an invite from the group's device, it syncs with all three.
    let (_rs, _) = s.up();
    let out = r.ok(&[
        "--offline",
        "join",
        &s.invite("steward"),
        "--label",
        "restored laptop",
    ]);
    assert!(out.contains("first sync done"), "{out}");
    let (_rr, _) = r.up();
    s.add_member(&["--name", "After The Restore"]);
    r.wait_for_member("After The Restore");
    eventually(
        "R admitted by B, the linked group and the national node",
        SYNC_LIMIT,
        || {
            let state: Vec<(bool, String)> =
                [&b_id, &l_id, &n_id].iter().map(|d| peer(&r, d)).collect();
            if state.iter().all(|(c, _)| *c) {
                Ok(())
            } else {
                Err(format!("{state:?}"))
            }
        },
    );

    // The laptop the backup came from is lost: revoked from the restored one.
    revoke_and_wait(&r, &b, &s_id);
}

#[test]
fn a_bad_backup_or_a_used_directory_is_one_error_and_changes_nothing() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "pass", "the group's passphrase\n");
    let wrong = passphrase_file(secrets.path(), "wrong", "not the passphrase\n");
    let s = Node::new();
    ok(&s, Some(&pass), &["init", "--name", "Protected Group"]);
    ok(
        &s,
        Some(&pass),
        &["member", "add", "--name", NAME, "--email", EMAIL],
    );
    // Without --backup-passphrase-file, the directory's passphrase protects it.
    let archive = secrets.path().join("g.backup");
    let a = archive.to_str().expect("utf-8");
    ok(&s, Some(&pass), &["backup", a]);
    // A directory with no passphrase has none to give a backup.
    let plain = Node::founded("Plain Group");
    let line = refused(&plain, None, &["backup", a]);
    assert!(line.contains("always encrypted"), "{line}");
    assert!(std::fs::metadata(&archive).is_ok());

    let fresh = tempfile::tempdir().expect("tempdir");
    let target = fresh.path().join("restored");
    let t = target.to_str().expect("utf-8");
    let restore = |file: &Path, with: &Path| {
        let n = Node::new();
        refused(
            &n,
            Some(with),
            &["--data-dir", t, "restore", file.to_str().expect("utf-8")],
        )
    };
    assert!(restore(&archive, &wrong).contains("the passphrase is wrong"));
    assert!(!target.exists(), "a refused restore left a directory");

    let bytes = std::fs::read(&archive).expect("read");
    let damaged = secrets.path().join("damaged.backup");
    let mut d = bytes.clone();
    let at = d.len() - 100;
    d[at] ^= 1;
    std::fs::write(&damaged, &d).expect("write");
    let line = restore(&damaged, &pass);
    assert!(
        line.contains("does not open") && line.contains("damaged.backup"),
        "{line}"
    );
    assert!(!target.exists());
    let cut = secrets.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).expect("write");
    assert!(restore(&cut, &pass).contains("cut off"));
    let not = secrets.path().join("not.backup");
    std::fs::write(
        &not,
        b"groundwork store key v1\nkdf argon2id m=8192,t=1,p=1\n",
    )
    .expect("write");
    assert!(restore(&not, &pass).contains("not a usable groundwork backup"));
    // Hostile key-derivation parameters are refused before any memory is taken.
    let greedy = String::from_utf8_lossy(&bytes).replacen("m=8192", "m=4194304", 1);
    let hostile = secrets.path().join("hostile.backup");
    std::fs::write(&hostile, greedy.as_bytes()).expect("write");
    assert!(restore(&hostile, &pass).contains("outside what groundwork accepts"));
    assert!(!target.exists());

    // Into another group's directory: refused, nothing changed.
    let before = snapshot(plain.path());
    let line = refused(&plain, Some(&pass), &["restore", a]);
    assert!(
        line.contains("is not empty") && line.contains("Protected Group"),
        "{line}"
    );
    assert_eq!(snapshot(plain.path()), before);

    // A restored directory takes an invite of its own group only.
    let r = Node::new();
    ok(&r, Some(&pass), &["restore", a]);
    ok(&r, Some(&pass), &["passphrase", "remove"]);
    let (_rp, _) = plain.up();
    let keys = |n: &Node| ["device.key", "group.key"].map(|f| std::fs::read(n.path().join(f)).ok());
    let before = keys(&r);
    let line = r.fails(1, &["--offline", "join", &plain.invite("member")]);
    assert!(line.contains("another group"), "{line}");
    assert_eq!(keys(&r), before, "a refused join changed a key file");
    assert!(!r.path().join("config.toml").exists());
}

#[test]
fn a_backup_holding_the_group_key_recovers_a_group_whose_only_steward_is_lost() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = passphrase_file(secrets.path(), "backup-pass", "a backup passphrase\n");
    let s = Node::founded("One Steward Group");
    let (mut rs, _) = s.up();
    let b = Node::join(&s.invite("organiser"), "organiser laptop");
    let (_rb, _) = b.up();
    s.add_member(&["--name", NAME]);
    b.wait_for_member(NAME);
    let s_id = s.device_id();
    let warned = s.run(&["status"]);
    assert!(
        warned.stderr.contains("only one steward device"),
        "{}",
        warned.stderr
    );
    assert_eq!(rs.stop("TERM"), 0);
    let archive = secrets.path().join("steward.backup");
    let a = archive.to_str().expect("utf-8");
    ok(
        &s,
        None,
        &[
            "backup",
            a,
            "--backup-passphrase-file",
            pass.to_str().expect("utf-8"),
        ],
    );

    // The steward's laptop is lost. An organiser may not revoke it.
    let line = b.fails(1, &["device", "revoke", &s_id]);
    assert!(line.contains("organiser"), "{line}");

    // Its backup, restored, is refused until it recovers the group by the key.
    let r = Node::new();
    ok(&r, Some(&pass), &["restore", a]);
    ok(&r, Some(&pass), &["passphrase", "remove"]);
    let out = r.ok(&[
        "--offline",
        "device",
        "recover",
        "--label",
        "replacement laptop",
    ]);
    assert!(
        out.contains("took the card") && out.contains("is a steward"),
        "{out}"
    );
    let r_id = r.device_id();
    // Run again, it changes nothing and is taken again.
    let again = r.ok(&["--offline", "device", "recover"]);
    assert!(again.contains("took the card"), "{again}");

    let (_rr, _) = r.up();
    eventually("B lists R as a steward", SYNC_LIMIT, || {
        let devices = b.json(&["device", "list"]);
        let steward = devices.as_array().is_some_and(|d| {
            d.iter().any(|d| {
                d["id"] == r_id.as_str() && d["role"] == "steward" && d["revoked"].is_null()
            })
        });
        if steward {
            Ok(())
        } else {
            Err(format!(
                "{devices} R's peers: {}",
                r.json(&["peer", "list"])
            ))
        }
    });
    revoke_and_wait(&r, &b, &s_id);
    b.add_member(&["--name", "After The Recovery"]);
    r.wait_for_member("After The Recovery");

    // The lost laptop, started again by whoever holds it, is refused.
    let (_rs, _) = s.up();
    eventually("the lost steward is refused as revoked", SYNC_LIMIT, || {
        let (_, error) = peer(&s, &b.device_id());
        if error.contains("revoked") {
            Ok(())
        } else {
            Err(error)
        }
    });
}

#[test]
fn only_a_device_holding_the_group_key_can_recover() {
    let s = Node::founded("Keyed Group");
    let (_rs, _) = s.up();
    let r = s.run(&["invite", "--role", "member"]);
    assert!(
        r.stdout.trim().starts_with("gwinvite"),
        "stdout is the bare invite: {}",
        r.stdout
    );
    assert!(
        r.stderr.contains("only while this device runs"),
        "{}",
        r.stderr
    );
    let b = Node::join(&s.invite("organiser"), "organiser laptop");
    let line = b.fails(1, &["device", "recover"]);
    assert!(
        line.contains("only a device holding the group key"),
        "{line}"
    );
}
