//! Schema round trips and the merge property.

use automerge::AutoCommit;
use autosurgeon::{Counter, Text, reconcile};
use proptest::prelude::*;

use super::*;
use crate::date::Date;
use crate::edit::{self, KeyedMap};
use crate::ids::ShortId;
use crate::keys::SecretKey;

fn date(s: &str) -> Date {
    s.parse().expect("test date")
}

fn id(n: u32) -> ShortId {
    ShortId::from_entropy(n)
}

/// Reconciles `value` into a fresh document, saves, reloads and hydrates it.
fn round_trip<T: GroupDocument + std::fmt::Debug + PartialEq>(value: &T) -> T {
    let mut doc = edit::new_doc();
    reconcile(&mut doc, value).expect("reconcile");
    let bytes = doc.save();
    let loaded = edit::load_doc(&bytes).expect("load");
    T::from_doc(&loaded).expect("hydrate")
}

fn member(name: &str) -> Member {
    Member {
        name: name.into(),
        kind: MemberKind::Professional,
        joined: date("2019-05-01"),
        status: MemberStatus::Active,
        principles_agreed: Some(date("2019-05-02")),
        courses: vec![
            Course::ListeningSkills,
            Course::Level3Certificate,
            Course::Other("first-aid".into()),
        ],
        trained: Some(date("2019-06-01")),
    }
}

#[test]
fn every_document_round_trips() {
    let mut roster = Roster::default();
    roster.members.insert(id(1).to_string(), member("Ada Obi"));
    roster
        .action_owners
        .insert(id(9).to_string(), id(1).to_string());
    assert_eq!(round_trip(&roster), roster);

    let mut contacts = Contacts::default();
    contacts.contacts.insert(
        id(1).to_string(),
        Contact {
            email: Some("ada@example.org".into()),
            phone: None,
            consent_to_contact: true,
            lawful_basis: LawfulBasis::LegitimateInterests,
            consent_date: Some(date("2020-01-31")),
        },
    );
    assert_eq!(round_trip(&contacts), contacts);

    let c = Constitution {
        body: Text::with_value(Constitution::template(
            "Moorlands Climate Action",
            crate::card::GroupKind::LocalOrganisingGroup,
        )),
        adopted: Some(date("2018-02-01")),
        version: 2,
        amendments: vec![Amendment {
            version: 2,
            date: date("2019-01-01"),
            summary: "quorum".into(),
            by: "abc".into(),
        }],
    };
    assert_eq!(round_trip(&c), c);

    let p = Plan {
        vision: Text::with_value("A Moorlands where everyone is heard."),
        goals: vec![Goal {
            id: id(2),
            text: "100 conversations".into(),
        }],
        actions: vec![Action {
            id: id(3),
            title: "Book the hall".into(),
            due: Some(date("2019-06-01")),
            status: ActionStatus::Done,
            done_on: Some(date("2019-05-20")),
        }],
        listening: Listening {
            conversations_held: Counter::with_value(41),
            themes: vec!["buses".into(), "damp housing".into()],
            theme_conversations: [("buses".to_owned(), Counter::with_value(12))].into(),
        },
    };
    assert_eq!(round_trip(&p), p);

    let m = Meetups {
        meetups: vec![Meetup {
            id: id(4),
            date: date("2019-03-07"),
            place: "Leek library".into(),
            agenda: Text::with_value("1. Welcome\n2. Buses"),
            notes: Text::with_value("Twelve came."),
            attendance: 12,
            actions: vec!["Write to the council".into()],
        }],
    };
    assert_eq!(round_trip(&m), m);

    let steward = SecretKey::from_seed(&[5; 32]).public();
    let mut d = Devices::default();
    d.devices.insert(
        steward.to_string(),
        DeviceEntry {
            role: Role::Steward,
            label: "hall laptop".into(),
            added_by: steward,
            added: date("2019-01-01"),
            revoked: None,
            cut: Default::default(),
        },
    );
    assert_eq!(round_trip(&d), d);
    assert_eq!(d.active_role(&steward), Some(Role::Steward));
    // A revoked device and its cut survive the round trip.
    let revoked = SecretKey::from_seed(&[6; 32]).public();
    d.devices.insert(
        revoked.to_string(),
        DeviceEntry {
            role: Role::Organiser,
            label: "lost phone".into(),
            added_by: steward,
            added: date("2019-01-02"),
            revoked: Some(date("2019-02-01")),
            cut: [("roster".to_owned(), crate::schema::Cut { epoch: 1, seq: 7 })].into(),
        },
    );
    assert_eq!(round_trip(&d), d);
    assert!(d.within_cut(&revoked, crate::ids::DocKind::Roster, 1, 7));
    assert!(!d.within_cut(&revoked, crate::ids::DocKind::Roster, 1, 8));
}

#[test]
fn non_ascii_text_is_edited_where_intended() {
    let mut doc = edit::new_doc();
    reconcile(&mut doc, &Meetups { meetups: vec![] }).expect("init");
    let m = Meetup {
        id: id(1),
        date: date("2020-01-01"),
        place: "Café Nero".into(),
        agenda: Text::with_value("Fees: £5 – agreed"),
        notes: Text::with_value("naïve start"),
        attendance: 3,
        actions: vec![],
    };
    edit::update(&mut doc, |ms: &mut Meetups| ms.meetups.push(m)).expect("add");
    doc.commit();
    edit::update(&mut doc, |ms: &mut Meetups| {
        let n = &mut ms.meetups[0].notes;
        let end = n.as_str().len();
        n.splice(end, 0, " — café");
        ms.meetups[0].agenda.update("Fees: £6 – agreed by all");
    })
    .expect("edit");
    doc.commit();
    let reloaded = edit::load_doc(&doc.save()).expect("load");
    let ms = Meetups::from_doc(&reloaded).expect("hydrate");
    assert_eq!(ms.meetups[0].notes.as_str(), "naïve start — café");
    assert_eq!(ms.meetups[0].agenda.as_str(), "Fees: £6 – agreed by all");
}

/// A roster document holding only a `members` map with one member, as a
/// roster written before later fields existed would.
fn roster_with_bea() -> AutoCommit {
    let mut doc = edit::new_doc();
    automerge::transaction::Transactable::put_object(
        &mut doc,
        automerge::ROOT,
        "members",
        automerge::ObjType::Map,
    )
    .expect("members map");
    edit::put_member(&mut doc, &id(1), &member("Bea")).expect("put");
    doc
}

#[test]
fn a_document_missing_a_later_field_still_hydrates() {
    // A roster written before `action_owners` existed.
    let doc = roster_with_bea();
    let roster = Roster::from_doc(&doc).expect("hydrate");
    assert_eq!(roster.members.len(), 1);
    assert!(roster.action_owners.is_empty());
}

#[test]
fn a_malformed_record_is_a_hydrate_error_not_a_panic() {
    use automerge::transaction::Transactable;
    let mut doc = roster_with_bea();
    let members = match automerge::ReadDoc::get(&doc, automerge::ROOT, "members") {
        Ok(Some((_, obj))) => obj,
        other => panic!("no members map: {other:?}"),
    };
    for bad in [
        "not json",
        r#"{"name":"Bea","kind":"wizard","joined":"2019-01-01"}"#,
        r#"{"name":"Bea","kind":"activist","joined":"2019-02-30"}"#,
    ] {
        doc.put(&members, id(1).as_str(), bad).expect("put");
        assert!(Roster::from_doc(&doc).is_err(), "{bad} hydrated");
    }
    // A record from a newer version, with a field this one does not know, still reads.
    doc.put(
        &members,
        id(1).as_str(),
        r#"{"name":"Bea","kind":"activist","joined":"2019-01-01","pronouns":"she"}"#,
    )
    .expect("put");
    assert_eq!(
        Roster::from_doc(&doc)
            .expect("hydrate")
            .get(&id(1))
            .map(|m| m.name.as_str()),
        Some("Bea")
    );
}

#[test]
fn role_rules_match_the_document_table() {
    use crate::ids::DocKind::*;
    assert!(Role::Member.may_write(Meetups));
    for k in [Constitution, Plan, Roster, Contacts, Devices] {
        assert!(!Role::Member.may_write(k), "member may write {k}");
    }
    assert!(Role::Organiser.may_write(Roster) && !Role::Organiser.may_write(Devices));
    assert!(Role::Steward.may_write(Devices));
    assert!(!Role::Member.may_read(Contacts) && Role::Organiser.may_read(Contacts));
}

#[test]
fn courses_parse_titles_slugs_and_unknowns() {
    assert_eq!(
        Course::from("Listening Skills".to_string()),
        Course::ListeningSkills
    );
    assert_eq!(
        Course::from("building-power".to_string()),
        Course::BuildingPower
    );
    assert_eq!(
        Course::from("Community Organising with Young People".to_string()),
        Course::YoungPeople
    );
    assert_eq!(Course::parse_known("Knitting"), None);
    assert_eq!(
        Course::from("Knitting".to_string()),
        Course::Other("Knitting".into())
    );
}

// ---- The merge property -------------------------------------------------

/// One edit a replica can make.
#[derive(Clone, Debug)]
enum Op {
    AddMember { who: u8, kind: u8 },
    RenameMember { who: u8, suffix: u8 },
    RemoveMember { who: u8 },
    AddMeetup { n: u8 },
    AppendNote { n: u8, text: String },
    AddConversations { by: u8 },
    ConstitutionEdit { at: u8, text: String },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..3).prop_map(|(who, kind)| Op::AddMember { who, kind }),
        (0u8..6, any::<u8>()).prop_map(|(who, suffix)| Op::RenameMember { who, suffix }),
        (0u8..6).prop_map(|who| Op::RemoveMember { who }),
        (0u8..3).prop_map(|n| Op::AddMeetup { n }),
        (0u8..3, "[a-zé£– ]{1,8}").prop_map(|(n, text)| Op::AppendNote { n, text }),
        (1u8..5).prop_map(|by| Op::AddConversations { by }),
        (any::<u8>(), "[a-zé£– ]{0,6}").prop_map(|(at, text)| Op::ConstitutionEdit { at, text }),
    ]
}

/// A step: a replica edits, or one replica receives another's changes.
#[derive(Clone, Debug)]
enum Step {
    Edit { replica: usize, op: Op },
    Sync { from: usize, to: usize },
}

const REPLICAS: usize = 3;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..REPLICAS, op()).prop_map(|(replica, op)| Step::Edit { replica, op }),
        1 => (0..REPLICAS, 0..REPLICAS).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

/// A replica of a group's roster, meet-ups, plan and constitution.
struct Replica {
    roster: AutoCommit,
    meetups: AutoCommit,
    plan: AutoCommit,
    constitution: AutoCommit,
}

impl Replica {
    fn docs(&mut self) -> [&mut AutoCommit; 4] {
        [
            &mut self.roster,
            &mut self.meetups,
            &mut self.plan,
            &mut self.constitution,
        ]
    }
}

fn apply(r: &mut Replica, op: &Op) {
    match op {
        Op::AddMember { who, kind } => {
            let kind = [
                MemberKind::Professional,
                MemberKind::Activist,
                MemberKind::Observer,
            ][*kind as usize];
            let m = Member {
                kind,
                ..member(&format!("member {who}"))
            };
            edit::put_member(&mut r.roster, &id(u32::from(*who)), &m).expect("add");
        }
        Op::RenameMember { who, suffix } => {
            let key = id(u32::from(*who));
            let found: Option<Member> =
                edit::get_entry(&r.roster, KeyedMap::RosterMembers, key.as_str()).expect("get");
            if let Some(mut m) = found {
                m.name = format!("{} {suffix}", m.name);
                edit::put_member(&mut r.roster, &key, &m).expect("rename");
            }
        }
        Op::RemoveMember { who } => {
            edit::delete_entry(
                &mut r.roster,
                KeyedMap::RosterMembers,
                id(u32::from(*who)).as_str(),
            )
            .expect("remove");
        }
        Op::AddMeetup { n } => {
            edit::update(&mut r.meetups, |ms: &mut Meetups| {
                if ms.get(&id(u32::from(*n))).is_none() {
                    ms.meetups.push(Meetup {
                        id: id(u32::from(*n)),
                        date: date("2019-01-01"),
                        place: "hall".into(),
                        agenda: Text::with_value(""),
                        notes: Text::with_value(""),
                        attendance: 0,
                        actions: vec![],
                    });
                }
            })
            .expect("meetup");
        }
        Op::AppendNote { n, text } => {
            edit::update(&mut r.meetups, |ms: &mut Meetups| {
                if let Some(m) = ms.meetups.iter_mut().find(|m| m.id == id(u32::from(*n))) {
                    let len = m.notes.as_str().len();
                    m.notes.splice(len, 0, text);
                }
            })
            .expect("note");
        }
        Op::AddConversations { by } => {
            edit::update(&mut r.plan, |p: &mut Plan| {
                p.listening.conversations_held.increment(i64::from(*by))
            })
            .expect("count");
        }
        Op::ConstitutionEdit { at, text } => {
            edit::update(&mut r.constitution, |c: &mut Constitution| {
                let s = c.body.as_str();
                let mut pos = usize::from(*at) % (s.len() + 1);
                while !s.is_char_boundary(pos) {
                    pos -= 1;
                }
                c.body.splice(pos, 0, text);
                c.version += 1;
            })
            .expect("constitution");
        }
    }
    for d in r.docs() {
        d.commit();
    }
}

fn sync(replicas: &mut [Replica], from: usize, to: usize) {
    if from == to {
        return;
    }
    let (a, b) = if from < to {
        let (l, r) = replicas.split_at_mut(to);
        (&mut l[from], &mut r[0])
    } else {
        let (l, r) = replicas.split_at_mut(from);
        (&mut r[0], &mut l[to])
    };
    for (src, dst) in a.docs().into_iter().zip(b.docs()) {
        // Deliver the changes the receiver lacks, duplicated and reversed:
        // automerge must tolerate both.
        let mut changes = dst.get_changes_added(src);
        changes.extend(changes.clone());
        changes.reverse();
        dst.apply_changes(changes).expect("apply");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_edits_on_replicas_converge(steps in proptest::collection::vec(step(), 1..40)) {
        // All replicas start from one founding state, as a joined device does.
        let mut founder = Replica { roster: edit::new_doc(), meetups: edit::new_doc(), plan: edit::new_doc(), constitution: edit::new_doc() };
        reconcile(&mut founder.roster, Roster::default()).expect("init");
        reconcile(&mut founder.meetups, Meetups::default()).expect("init");
        reconcile(&mut founder.plan, Plan::default()).expect("init");
        reconcile(&mut founder.constitution, &Constitution { body: Text::with_value("Our constitution."), ..Constitution::default() }).expect("init");
        let mut replicas: Vec<Replica> = (0..REPLICAS)
            .map(|i| {
                let actor = automerge::ActorId::from(&[i as u8 + 1; 32][..]);
                let fork = |d: &mut AutoCommit| d.fork().with_actor(actor.clone());
                Replica { roster: fork(&mut founder.roster), meetups: fork(&mut founder.meetups), plan: fork(&mut founder.plan), constitution: fork(&mut founder.constitution) }
            })
            .collect();

        for s in &steps {
            match s {
                Step::Edit { replica, op } => apply(&mut replicas[*replica], op),
                Step::Sync { from, to } => sync(&mut replicas, *from, *to),
            }
        }
        // Heal the partition: everyone hears from everyone.
        for from in 0..REPLICAS {
            for to in 0..REPLICAS {
                sync(&mut replicas, from, to);
            }
        }

        let first_heads: Vec<_> = replicas[0].docs().iter_mut().map(|d| { let mut h = d.get_heads(); h.sort(); h }).collect();
        let hydrate = |r: &Replica| (
            Roster::from_doc(&r.roster).expect("roster"),
            Meetups::from_doc(&r.meetups).expect("meetups"),
            Plan::from_doc(&r.plan).expect("plan"),
            Constitution::from_doc(&r.constitution).expect("constitution"),
        );
        let first = hydrate(&replicas[0]);
        for r in replicas.iter_mut().skip(1) {
            let heads: Vec<_> = r.docs().iter_mut().map(|d| { let mut h = d.get_heads(); h.sort(); h }).collect();
            prop_assert_eq!(&heads, &first_heads);
            prop_assert_eq!(&hydrate(r), &first);
        }
    }
}

#[test]
fn the_packed_email_precheck_never_misses_a_match() {
    let with = |email: &str| {
        super::packed::encode(&Contact {
            email: Some(email.into()),
            ..Contact::default()
        })
    };
    assert!(packed_email_may_be(
        &with("Ada@Example.org"),
        "ada@example.ORG"
    ));
    assert!(packed_email_may_be(
        &with("ÉLODIE@example.org"),
        "élodie@example.org"
    ));
    assert!(!packed_email_may_be(
        &with("ada@example.org"),
        "bea@example.org"
    ));
    assert!(!packed_email_may_be(
        &super::packed::encode(&Contact::default()),
        "ada@example.org"
    ));
    // JSON escapes make the raw text differ from the value: the check must defer to a decode.
    assert!(packed_email_may_be(
        &with("a\"b@example.org"),
        "a\"b@example.org"
    ));
}

#[test]
fn each_kind_of_group_starts_with_its_own_constitution() {
    use crate::card::GroupKind;
    let local = Constitution::template("Moorlands", GroupKind::LocalOrganisingGroup);
    assert!(
        local.contains("called Moorlands, a Local Organising Group."),
        "{local}"
    );
    let hub = Constitution::template("Leeds Hub", GroupKind::SocialActionHub);
    assert!(
        hub.contains("called Leeds Hub, a Social Action Hub."),
        "{hub}"
    );
    assert!(!hub.contains("Local Organising Group"), "{hub}");
    let national = Constitution::template("Community Organisers", GroupKind::National);
    assert!(national.contains("the national body"), "{national}");
    assert!(national.contains("Affiliation."), "{national}");
    assert!(
        !national.contains("a Local Organising Group."),
        "{national}"
    );
    assert!(!national.contains("Membership is open"), "{national}");
}
