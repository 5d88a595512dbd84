use groundwork_protocol::DocKind;
use groundwork_protocol::edit;
use groundwork_protocol::schema::{Devices, Meetups, Role, Roster};

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

#[test]
fn goals_and_actions_are_edited_and_removed_and_bad_edits_change_nothing() {
    use groundwork_protocol::control::ActionPatch;
    let (_tmp, g) = founded();
    let goal = g.add_goal("Ring Bob Named every week").expect("goal");
    let ada = g.add_member(&named("Ada Owner"), today()).expect("ada").0;
    let action = g
        .add_action("Book the hall with Bob Named", Some("Ada Owner"), None)
        .expect("action");
    assert!(
        g.edit_goal(&goal, "Ring every member every week")
            .expect("edit")
    );
    assert!(
        !g.edit_goal(&goal, "Ring every member every week")
            .expect("same")
    );
    let due = "2027-01-31".parse().expect("date");
    let patch = ActionPatch {
        title: Some("Book the hall".into()),
        due: Some(due),
        clear_owner: true,
        ..Default::default()
    };
    assert!(g.edit_action(&action, &patch).expect("edit action"));
    let plan = g.plan_view().expect("plan");
    assert_eq!(plan.plan.goals[0].text, "Ring every member every week");
    let a = &plan.plan.actions[0];
    assert_eq!((a.title.as_str(), a.due), ("Book the hall", Some(due)));
    assert!(!plan.owners.contains_key(action.as_str()), "owner cleared");
    // An owner by id, then the action removed with its owner link.
    let by_id = ActionPatch {
        owner: Some(ada.to_string()),
        ..Default::default()
    };
    assert!(g.edit_action(&action, &by_id).expect("owner"));
    assert!(
        g.plan_view()
            .expect("plan")
            .owners
            .contains_key(action.as_str())
    );
    // Bad edits: one clear error, nothing changed.
    let heads = g
        .store()
        .doc_stats(&g.doc_id(DocKind::Plan))
        .expect("stats");
    for (patch, field) in [
        (
            ActionPatch {
                title: Some("  ".into()),
                ..Default::default()
            },
            "title",
        ),
        (
            ActionPatch {
                owner: Some("Nobody Known".into()),
                ..Default::default()
            },
            "owner",
        ),
        (
            ActionPatch {
                due: Some(due),
                clear_due: true,
                ..Default::default()
            },
            "due",
        ),
    ] {
        match g.edit_action(&action, &patch) {
            Err(GroupError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        g.edit_goal(&"zzzzzz".parse().expect("id"), "x"),
        Err(GroupError::NotFound { .. })
    ));
    assert_eq!(
        g.store()
            .doc_stats(&g.doc_id(DocKind::Plan))
            .expect("stats"),
        heads,
        "no refused edit stored anything"
    );
    let removed = g.remove_action(&action).expect("remove");
    assert_eq!(removed.title, "Book the hall");
    let plan = g.plan_view().expect("plan");
    assert!(plan.plan.actions.is_empty() && plan.owners.is_empty());
    g.remove_goal(&goal).expect("remove goal");
    assert!(g.plan_view().expect("plan").plan.goals.is_empty());
    // With an epoch of the plan, the old text is in no history.
    let history = |g: &Group| {
        let mut plan = g.load(DocKind::Plan).expect("plan");
        plan.get_changes(&[])
            .iter()
            .any(|c| format!("{:?}", c.decode()).contains("Bob Named"))
    };
    assert!(
        history(&g),
        "positive control: the history holds the old text"
    );
    g.start_epoch(DocKind::Plan).expect("epoch");
    assert!(!history(&g), "gone with the epoch");
}

#[test]
fn a_name_is_redacted_from_every_meetup_and_its_history() {
    let (_tmp, g) = founded();
    let with = g
        .add_meetup(&MeetupInput {
            date: today(),
            place: "Bob Named's kitchen".into(),
            agenda: Some("1. Welcome".into()),
            attendance: None,
        })
        .expect("meetup");
    g.append_meetup_note(&with, "bob named brought leaflets")
        .expect("note");
    let without = g
        .add_meetup(&MeetupInput {
            date: today(),
            place: "Library".into(),
            agenda: None,
            attendance: None,
        })
        .expect("meetup");
    assert_eq!(
        g.meetup_mentions("Bob Named").expect("mentions"),
        vec![with.clone()]
    );
    let (ids, epoch) = g.redact_meetups("BOB NAMED").expect("redact");
    assert_eq!((ids, epoch), (vec![with.clone()], Some(1)));
    let ms: Meetups = g.read().expect("meetups");
    let m = ms.get(&with).expect("kept");
    assert_eq!(m.place, "[redacted]'s kitchen");
    assert!(
        m.notes.as_str().contains("[redacted] brought leaflets"),
        "{}",
        m.notes.as_str()
    );
    assert_eq!(ms.get(&without).expect("kept").place, "Library");
    assert!(g.meetup_mentions("Bob Named").expect("mentions").is_empty());
    // The history is the new epoch's genesis alone, which is the state.
    let mut doc = g.load(DocKind::Meetups).expect("meetups");
    assert_eq!(doc.get_changes(&[]).len(), 1);
    let text = format!("{:?}", doc.document().hydrate(None));
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.to_lowercase().contains("bob named"), "{text}");
    // Too short a text is refused; a text found nowhere changes nothing.
    assert!(matches!(
        g.redact_meetups("Bo"),
        Err(GroupError::Invalid { .. })
    ));
    for bad in ["Bob\u{1b}[2J", &"x".repeat(201)] {
        assert!(
            matches!(
                g.redact_meetups(bad),
                Err(GroupError::Invalid { field: "text", .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        g.redact_meetups("Nobody Here").expect("nothing"),
        (vec![], None)
    );
}

fn with_email(n: &str, email: &str) -> MemberInput {
    MemberInput {
        name: Some(n.to_owned()),
        email: Some(email.to_owned()),
        ..MemberInput::default()
    }
}

/// The same email check on a running node (its email index) and with the
/// store opened for one command (reading every contact), through adds,
/// an edit that changes an email behind the index, and case.
#[test]
fn a_second_member_with_an_email_is_refused_whether_or_not_a_node_runs() {
    for loaded in [true, false] {
        let (_tmp, mut g) = founded();
        if loaded {
            // As the node's actor does: every document held in memory.
            g.keep_loaded();
            for kind in DocKind::ALL {
                let id = g.doc_id(kind);
                let doc = g.store().load(&id).expect("load").expect("founded");
                g.docs().insert(id, doc);
            }
        }
        let (ada, _) = g
            .add_member(&with_email("Ada", "ada@example.org"), today())
            .expect("first add");
        let again = g.add_member(&with_email("Bob", "ADA@example.ORG"), today());
        assert!(
            matches!(&again, Err(GroupError::Invalid { field: "email", .. })),
            "loaded={loaded}: {again:?}"
        );
        // Changed by an edit the index does not follow: the old address is
        // free, the new one taken.
        g.edit_member(&ada, &with_email("Ada", "ada2@example.org"))
            .expect("edit");
        g.add_member(&with_email("Cy", "ada@example.org"), today())
            .unwrap_or_else(|e| panic!("loaded={loaded}: the old address is free: {e}"));
        let taken = g.add_member(&with_email("Dee", "Ada2@example.org"), today());
        assert!(taken.is_err(), "loaded={loaded}: {taken:?}");
        // Many members: every one of their addresses is found.
        for i in 0..50 {
            g.add_member(
                &with_email(&format!("M{i}"), &format!("m{i}@example.org")),
                today(),
            )
            .expect("add");
        }
        for i in [0, 17, 49] {
            let dup = g.add_member(&with_email("X", &format!("M{i}@EXAMPLE.org")), today());
            assert!(dup.is_err(), "loaded={loaded}: m{i} found");
        }
        assert_eq!(g.members(false).expect("list").len(), 52, "loaded={loaded}");
        // An entry that is not a packed contact (a number) is passed over,
        // not a reason to refuse every add.
        g.edit(&[DocKind::Contacts], |ed| {
            use automerge::transaction::Transactable;
            let doc = ed.doc(DocKind::Contacts)?;
            let Ok(Some((_, map))) = automerge::ReadDoc::get(doc, automerge::ROOT, "contacts")
            else {
                return Err(GroupError::Internal("no contacts map".into()));
            };
            doc.put(&map, "zzzz", 5)
                .map_err(|e| GroupError::Internal(e.to_string()))?;
            Ok(())
        })
        .expect("odd entry");
        g.add_member(&with_email("New", "new@example.org"), today())
            .unwrap_or_else(|e| panic!("loaded={loaded}: {e}"));
        let dup = g.add_member(&with_email("Y", "m17@example.org"), today());
        assert!(
            dup.is_err(),
            "loaded={loaded}: still found past the odd entry"
        );
    }
}

#[test]
fn an_owner_is_found_by_part_of_a_name_only_one_member_holds() {
    let (_tmp, g) = founded();
    let (ada, _) = g.add_member(&named("Ada Obi"), today()).expect("Ada");
    let (bea, _) = g
        .add_member(&named("Beatrice Adams"), today())
        .expect("Bea");
    g.add_member(&named("Cai Lee"), today()).expect("Cai");
    let owner_of = |who: &str| -> Result<String, GroupError> {
        let id = g.add_action("Book the hall", Some(who), None)?;
        let plan = g.plan_view()?;
        Ok(plan
            .owners
            .get(id.as_str())
            .map(|o| o.id.clone())
            .unwrap_or_default())
    };
    // The exact name, in any case, and a part only one name holds.
    assert_eq!(owner_of("ada obi").expect("exact"), ada.to_string());
    assert_eq!(owner_of("obi").expect("part"), ada.to_string());
    assert_eq!(owner_of("TRICE").expect("part"), bea.to_string());
    // "ada" is in Ada Obi and Beatrice Adams: refused, naming the ids.
    let actions = g.plan_view().expect("plan").plan.actions.len();
    let e = owner_of("ada").expect_err("ambiguous");
    let line = e.to_string();
    assert!(
        line.contains("2 members") && line.contains(ada.as_str()) && line.contains(bea.as_str()),
        "{line}"
    );
    assert_eq!(e.code(), ErrorCode::Usage);
    // Nobody: not found. Nothing was added by either refusal.
    let e = owner_of("zed").expect_err("nobody");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert_eq!(g.plan_view().expect("plan").plan.actions.len(), actions);
}

#[test]
fn a_meetup_is_changed_as_a_diff_and_removed_and_bad_edits_change_nothing() {
    use groundwork_protocol::control::MeetupPatch;
    use groundwork_protocol::schema::GroupDocument;
    let (_tmp, g) = founded();
    let id = g
        .add_meetup(&MeetupInput {
            date: "2026-03-01".parse().expect("date"),
            place: "Library".into(),
            agenda: Some("Welcome\nRent\n".into()),
            attendance: None,
        })
        .expect("add");
    // A peer's copy, made before this device's change, edits the agenda's
    // start.
    let mut peer = g.load(DocKind::Meetups).expect("load").fork();
    edit::update(&mut peer, |ms: &mut Meetups| {
        let m = ms.meetups.iter_mut().find(|m| m.id == id).expect("there");
        m.agenda.splice(0, 7, "Hello and welcome");
    })
    .expect("peer edit");
    let patch = MeetupPatch {
        date: Some("2026-03-08".parse().expect("date")),
        place: Some("  The hall ".into()),
        agenda: Some("Welcome\nRent\nBuses\n".into()),
        attendance: Some(14),
    };
    assert!(g.change_meetup(&id, &patch).expect("change"));
    assert!(!g.change_meetup(&id, &patch).expect("same again"));
    let m = g.meetup(&id).expect("meetup");
    assert_eq!(
        (m.date.to_string().as_str(), m.place.as_str(), m.attendance),
        ("2026-03-08", "The hall", 14)
    );
    // Merged with the peer's edit, both changes to the agenda are kept:
    // the change was a diff, not a replacement.
    let mut ours = g.load(DocKind::Meetups).expect("load");
    ours.merge(&mut peer).expect("merge");
    let merged = Meetups::from_doc(&ours).expect("hydrate");
    assert_eq!(
        merged.get(&id).expect("there").agenda.as_str(),
        "Hello and welcome\nRent\nBuses\n"
    );
    // Bad edits: one clear error, nothing changed.
    let stats = |g: &Group| {
        g.store()
            .doc_stats(&g.doc_id(DocKind::Meetups))
            .expect("stats")
    };
    let before = stats(&g);
    for (patch, field) in [
        (
            MeetupPatch {
                place: Some(" ".into()),
                ..Default::default()
            },
            "place",
        ),
        (
            MeetupPatch {
                place: Some("The\u{1b}[2Jhall".into()),
                ..Default::default()
            },
            "place",
        ),
        (
            MeetupPatch {
                agenda: Some("x".repeat(20_001)),
                ..Default::default()
            },
            "agenda",
        ),
    ] {
        match g.change_meetup(&id, &patch) {
            Err(GroupError::Invalid { field: f, .. }) => assert_eq!(f, field),
            Err(GroupError::Text(t)) => assert!(t.to_string().contains(field), "{t}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        g.change_meetup(&"zzzzzz".parse().expect("id"), &patch),
        Err(GroupError::NotFound { .. })
    ));
    assert!(matches!(
        g.remove_meetup(&"zzzzzz".parse().expect("id")),
        Err(GroupError::NotFound { .. })
    ));
    assert_eq!(stats(&g), before, "no refused edit stored anything");
    let gone = g.remove_meetup(&id).expect("remove");
    assert_eq!(gone.place, "The hall");
    assert!(g.meetups().expect("list").is_empty());
}
