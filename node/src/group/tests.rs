use groundwork_protocol::DocKind;
use groundwork_protocol::edit;
use groundwork_protocol::schema::{Devices, Role, Roster};

use super::*;
use crate::datadir::DataDir;

fn founded() -> (tempfile::TempDir, Group) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = DataDir::new(tmp.path().join("g"));
    let g = Group::found(
        &dir,
        "Test group",
        Some("Test area"),
        GroupKind::default(),
        today(),
    )
    .expect("found");
    (tmp, g)
}

fn named(n: &str) -> MemberInput {
    MemberInput {
        name: Some(n.to_owned()),
        ..MemberInput::default()
    }
}

#[test]
fn a_member_role_device_is_refused_and_nothing_changes() {
    let (_tmp, g) = founded();
    g.add_member(&named("Ada"), today())
        .expect("steward may add");
    // Demote this device to a member (as a steward elsewhere would).
    let me = g.device_id();
    g.edit(&[DocKind::Devices], |ed| {
        Ok(edit::update(
            ed.doc(DocKind::Devices)?,
            |d: &mut Devices| {
                if let Some(e) = d.devices.get_mut(&me.to_string()) {
                    e.role = Role::Member;
                }
            },
        )?)
    })
    .expect("demote");
    let before = g
        .store()
        .doc_stats(&g.doc_id(DocKind::Roster))
        .expect("stats");
    let err = g
        .add_member(&named("Bea"), today())
        .expect_err("member may not edit the roster");
    assert!(
        matches!(
            err,
            GroupError::Forbidden {
                role: Role::Member,
                kind: DocKind::Roster,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "this device is a member; a member device may not edit the roster"
    );
    assert_eq!(
        g.store()
            .doc_stats(&g.doc_id(DocKind::Roster))
            .expect("stats"),
        before
    );
    assert!(matches!(
        g.member(&"zzzzzz".parse().expect("id")),
        Err(GroupError::NotFound { .. })
    ));
    // A member device may still write meet-up notes, and may not read contacts.
    g.add_meetup(&MeetupInput {
        date: today(),
        place: "Hall".into(),
        agenda: None,
        attendance: None,
    })
    .expect("member may add a meet-up");
    assert!(
        g.members(true)
            .expect("list")
            .iter()
            .all(|m| m.contact.is_none())
    );
}

#[test]
fn compaction_folds_changes_and_loses_nothing() {
    let (_tmp, g) = founded();
    let roster_id = g.doc_id(DocKind::Roster);
    let mut ids = Vec::new();
    for i in 0..(crate::store::COMPACT_AFTER_CHANGES + 10) {
        ids.push(
            g.add_member(&named(&format!("Member {i}")), today())
                .expect("add")
                .0,
        );
    }
    let stats = g.store().doc_stats(&roster_id).expect("stats");
    assert!(stats.snapshot_bytes > 0, "never compacted: {stats:?}");
    assert!(
        stats.pending_changes < crate::store::COMPACT_AFTER_CHANGES,
        "{stats:?}"
    );
    let roster: Roster = g.read().expect("read");
    assert_eq!(roster.members.len(), ids.len());
    for id in &ids {
        assert!(roster.get(id).is_some(), "{id} lost");
    }
    // Every change's signature survives compaction (peers will need them).
    let mut doc = g.load(DocKind::Roster).expect("load");
    for c in doc.get_changes(&[]) {
        assert!(
            g.store().signature(&c.hash().0).expect("sig").is_some(),
            "no signature for {}",
            c.hash()
        );
    }
}

#[test]
fn every_stored_change_verifies_under_its_author() {
    let (_tmp, g) = founded();
    g.add_member(
        &MemberInput {
            email: Some("a@example.org".into()),
            ..named("Ada")
        },
        today(),
    )
    .expect("add");
    for kind in DocKind::ALL {
        let id = g.doc_id(kind);
        let mut doc = g.load(kind).expect("load");
        for c in doc.get_changes(&[]) {
            let sig = g
                .store()
                .signature(&c.hash().0)
                .expect("read")
                .expect("present");
            groundwork_protocol::signed::verify_change(&id, c.raw_bytes(), &sig, |a| {
                *a == g.device_id()
            })
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
}

#[test]
fn notes_saved_from_an_older_base_keep_changes_made_since() {
    let (_d, g) = founded();
    let id = g
        .add_meetup(&MeetupInput {
            date: "2026-03-01".parse().expect("date"),
            place: "Library".into(),
            agenda: None,
            attendance: None,
        })
        .expect("add");
    g.set_meetup_notes(&id, "Twelve came.\n", None)
        .expect("first notes");
    // Someone opens the notes; meanwhile another edit lands.
    let base = g.meetup(&id).expect("meetup").notes.as_str().to_owned();
    g.set_meetup_notes(&id, "Twelve came.\nBuses again.\n", None)
        .expect("the other edit");
    // Saving what they wrote from `base` keeps both.
    g.set_meetup_notes(&id, "Thirteen came.\n", Some(&base))
        .expect("save");
    assert_eq!(
        g.meetup(&id).expect("meetup").notes.as_str(),
        "Thirteen came.\nBuses again.\n"
    );
    // Without a base the text replaces the notes, as `meetup note --file`.
    g.set_meetup_notes(&id, "Only this.\n", None)
        .expect("replace");
    assert_eq!(
        g.meetup(&id).expect("meetup").notes.as_str(),
        "Only this.\n"
    );
}

#[test]
fn a_long_history_starts_a_new_epoch_on_the_epoch_keeper_alone() {
    let (_tmp, g) = founded();
    assert!(g.is_epoch_keeper(), "the founder is the only steward");
    g.set_history_limit(40);
    let roster = g.doc_id(DocKind::Roster);
    let mut added = 0;
    while g.epoch(&roster) == 0 {
        added += 1;
        assert!(added <= 60, "no epoch after {added} adds");
        g.add_member(&named(&format!("Member {added}")), today())
            .expect("add");
    }
    // The rule checks when it compacts: the first compaction at or past
    // 40 changes (16 per compaction) started it.
    assert!((40..=48).contains(&added), "started after {added} adds");
    let history = g
        .load(DocKind::Roster)
        .expect("roster")
        .get_changes(&[])
        .len();
    assert_eq!(history, 1, "the new epoch's history is its genesis");
    let names = g.members(false).expect("members");
    assert_eq!(names.len(), added, "every member kept");

    // Another steward device with a lower id takes the keeping over.
    let me = g.device_id();
    let lower = (0u8..=255)
        .map(|b| groundwork_protocol::SecretKey::from_seed(&[b; 32]).public())
        .find(|k| *k < me)
        .expect("a lower key");
    g.edit(&[DocKind::Devices], |ed| {
        Ok(edit::update(
            ed.doc(DocKind::Devices)?,
            |d: &mut Devices| {
                d.devices.insert(
                    lower.to_string(),
                    groundwork_protocol::schema::DeviceEntry {
                        role: Role::Steward,
                        label: "other steward".into(),
                        added_by: me,
                        added: today(),
                        revoked: None,
                        cut: Default::default(),
                    },
                );
            },
        )?)
    })
    .expect("add a steward");
    assert!(!g.is_epoch_keeper());
    assert_eq!(g.auto_epoch(DocKind::Roster, 10_000), None);
    assert_eq!(g.epoch(&roster), 1);
}
