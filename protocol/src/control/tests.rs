use autosurgeon::{Counter, Text};

use super::*;
use crate::keys::SecretKey;
use crate::schema::{
    Action, ActionStatus, Amendment, Contact, Course, DeviceEntry, Goal, LawfulBasis, Listening,
    MemberStatus, Plan,
};

fn key(seed: u8) -> crate::PublicKey {
    SecretKey::from_seed(&[seed; 32]).public()
}

fn id(s: &str) -> ShortId {
    s.parse().expect("a valid short id")
}

fn date(s: &str) -> Date {
    s.parse().expect("a valid date")
}

fn member() -> Member {
    Member {
        name: "Ada Obi".into(),
        kind: MemberKind::Professional,
        joined: date("2024-03-01"),
        status: MemberStatus::Active,
        principles_agreed: Some(date("2024-03-02")),
        courses: vec![Course::parse_known("building-power").expect("a known course")],
        trained: None,
    }
}

fn full_input() -> MemberInput {
    MemberInput {
        id: Some(id("abc123")),
        name: Some("Ada Obi".into()),
        email: Some("ada@example.org".into()),
        phone: Some("07700 900123".into()),
        kind: Some(MemberKind::Activist),
        joined: Some(date("2024-01-02")),
        status: Some(MemberStatus::Lapsed),
        principles_agreed: Some(date("2024-01-03")),
        courses: vec![Course::Other("Bread making".into())],
        trained: Some(date("2024-02-01")),
        consent_to_contact: Some(true),
        lawful_basis: Some(LawfulBasis::LegitimateInterests),
        consent_date: Some(date("2024-01-04")),
    }
}

fn view(contact: Option<Contact>) -> MemberView {
    MemberView {
        id: id("abc123"),
        member: member(),
        contact,
    }
}

fn meetup() -> Meetup {
    Meetup {
        id: id("m00001"),
        date: date("2024-05-06"),
        place: "The library".into(),
        agenda: Text::with_value("1. Welcome\n2. Housing\n"),
        notes: Text::with_value(""),
        attendance: 12,
        actions: vec!["Write to the council".into()],
    }
}

fn plan() -> PlanView {
    PlanView {
        plan: Plan {
            vision: Text::with_value("Homes people can afford"),
            goals: vec![Goal {
                id: id("g00001"),
                text: "A tenants' union".into(),
            }],
            actions: vec![Action {
                id: id("a00001"),
                title: "Book a room".into(),
                due: Some(date("2024-06-01")),
                status: ActionStatus::Done,
                done_on: Some(date("2024-05-30")),
            }],
            listening: Listening {
                conversations_held: Counter::with_value(42),
                themes: vec!["rent".into(), "repairs".into()],
                theme_conversations: [("rent".to_owned(), Counter::with_value(30))].into(),
            },
        },
        owners: [(
            "a00001".into(),
            Owner {
                id: "abc123".into(),
                name: "Ada Obi".into(),
            },
        )]
        .into(),
    }
}

/// One of each request. `request_index` fails to compile when a variant is
/// added, so this list cannot silently miss one.
fn every_request() -> Vec<Request> {
    vec![
        Request::MemberAdd {
            input: full_input(),
        },
        Request::MemberList {
            kind: Some(MemberKind::Observer),
            with_contacts: true,
        },
        Request::MemberShow { id: id("abc123") },
        Request::MemberEdit {
            id: id("abc123"),
            patch: MemberInput {
                name: Some("Ada".into()),
                ..MemberInput::default()
            },
        },
        Request::MemberRemove { id: id("abc123") },
        Request::MemberForget { id: id("abc123") },
        Request::MemberImport {
            rows: vec![full_input(), MemberInput::default()],
            update: true,
        },
        Request::ConstitutionShow,
        Request::ConstitutionAmend {
            update: ConstitutionUpdate {
                text: Some("Constitution\n\n1. Name.\n".into()),
                summary: Some("renamed".into()),
                adopted: Some(date("2024-02-02")),
            },
        },
        Request::PlanShow,
        Request::PlanVision {
            text: "Homes for all".into(),
        },
        Request::PlanGoalAdd {
            text: "A union".into(),
        },
        Request::PlanActionAdd {
            title: "Book a room".into(),
            owner: Some("Ada Obi".into()),
            due: Some(date("2024-06-01")),
        },
        Request::PlanActionDone { id: id("a00001") },
        Request::PlanActionReopen { id: id("a00001") },
        Request::PlanConversationsAdd {
            count: 3,
            themes: vec!["rent".into()],
        },
        Request::MeetupAdd {
            input: MeetupInput {
                date: date("2024-05-06"),
                place: "The library".into(),
                agenda: Some("Welcome".into()),
                attendance: Some(4),
            },
        },
        Request::MeetupList,
        Request::MeetupShow { id: id("m00001") },
        Request::MeetupNoteAppend {
            id: id("m00001"),
            text: "We agreed.".into(),
        },
        Request::MeetupNoteSet {
            id: id("m00001"),
            text: "New notes\n".into(),
            base: Some("Old notes\n".into()),
        },
        Request::MeetupAttendance {
            id: id("m00001"),
            count: 9,
        },
        Request::DeviceList,
        Request::Status,
        Request::Subscribe,
        Request::Invite {
            role: Role::Member,
            ttl_secs: 3600,
        },
        Request::DeviceRevoke { id: "ab12".into() },
        Request::PeerAdd {
            ticket: "endpointabc".into(),
        },
        Request::PeerList,
        Request::Affiliate {
            ticket: "endpointabc".into(),
        },
        Request::Network,
        Request::Report,
        Request::Shared { group: key(7) },
        Request::LinkCode { ttl_secs: 3600 },
        Request::LinkRequests,
        Request::PeerAccept { id: "ab12".into() },
        Request::PeerRefuse { id: "ab12".into() },
        Request::EpochStart {
            kind: DocKind::Meetups,
        },
        Request::PlanGoalEdit {
            id: id("abc123"),
            text: "Win the bus route".into(),
        },
        Request::PlanGoalRemove { id: id("abc123") },
        Request::PlanActionEdit {
            id: id("abc124"),
            patch: super::ActionPatch {
                title: Some("Book the hall".into()),
                clear_due: true,
                owner: Some("abc125".into()),
                ..Default::default()
            },
        },
        Request::PlanActionRemove { id: id("abc124") },
        Request::MeetupRedact {
            text: "Bob Forgotten".into(),
        },
        Request::Backup {
            file: "/home/steward/group.backup".into(),
        },
        Request::Ticket,
        Request::MeetupEdit {
            id: id("m00001"),
            patch: super::MeetupPatch {
                place: Some("The hall".into()),
                attendance: Some(12),
                ..Default::default()
            },
        },
        Request::MeetupRemove { id: id("m00001") },
    ]
}

fn request_index(r: &Request) -> usize {
    match r {
        Request::MemberAdd { .. } => 0,
        Request::MemberList { .. } => 1,
        Request::MemberShow { .. } => 2,
        Request::MemberEdit { .. } => 3,
        Request::MemberRemove { .. } => 4,
        Request::MemberImport { .. } => 5,
        Request::ConstitutionShow => 6,
        Request::ConstitutionAmend { .. } => 7,
        Request::PlanShow => 8,
        Request::PlanVision { .. } => 9,
        Request::PlanGoalAdd { .. } => 10,
        Request::PlanActionAdd { .. } => 11,
        Request::PlanActionDone { .. } => 12,
        Request::PlanConversationsAdd { .. } => 13,
        Request::MeetupAdd { .. } => 14,
        Request::MeetupList => 15,
        Request::MeetupShow { .. } => 16,
        Request::MeetupNoteAppend { .. } => 17,
        Request::MeetupNoteSet { .. } => 18,
        Request::MeetupAttendance { .. } => 19,
        Request::DeviceList => 20,
        Request::Status => 21,
        Request::Subscribe => 22,
        Request::Invite { .. } => 23,
        Request::DeviceRevoke { .. } => 24,
        Request::PeerAdd { .. } => 25,
        Request::PeerList => 26,
        Request::Affiliate { .. } => 27,
        Request::Network => 28,
        Request::Report => 29,
        Request::Shared { .. } => 30,
        Request::LinkCode { .. } => 31,
        Request::LinkRequests => 32,
        Request::PeerAccept { .. } => 33,
        Request::PeerRefuse { .. } => 34,
        Request::MemberForget { .. } => 35,
        Request::EpochStart { .. } => 36,
        Request::PlanGoalEdit { .. } => 37,
        Request::PlanGoalRemove { .. } => 38,
        Request::PlanActionEdit { .. } => 39,
        Request::PlanActionRemove { .. } => 40,
        Request::MeetupRedact { .. } => 41,
        Request::Backup { .. } => 42,
        Request::Ticket => 43,
        Request::PlanActionReopen { .. } => 44,
        Request::MeetupEdit { .. } => 45,
        Request::MeetupRemove { .. } => 46,
    }
}

fn every_response() -> Vec<Response> {
    let devices = DeviceView {
        id: key(1).to_string(),
        entry: DeviceEntry {
            role: Role::Steward,
            label: "founding device".into(),
            added_by: key(1),
            added: date("2024-01-01"),
            revoked: None,
            cut: Default::default(),
        },
        this_device: true,
    };
    vec![
        Response::MemberAdded {
            id: id("abc123"),
            member: member(),
        },
        Response::Members(vec![view(None), view(Some(Contact::default()))]),
        Response::Member(view(Some(Contact {
            email: Some("ada@example.org".into()),
            phone: None,
            consent_to_contact: true,
            lawful_basis: LawfulBasis::Contract,
            consent_date: Some(date("2024-01-04")),
        }))),
        Response::MemberRemoved {
            id: id("abc123"),
            member: member(),
        },
        Response::MemberForgotten {
            id: id("abc123"),
            member: Some(member()),
            epochs: vec![(DocKind::Roster, 1), (DocKind::Contacts, 2)],
            mentions: vec![id("abc126")],
        },
        Response::Redacted {
            meetups: vec![id("abc126")],
            epoch: Some(3),
        },
        Response::BackedUp {
            bytes: 61_440,
            group_key: true,
        },
        Response::Ticket {
            text: "endpointabc".into(),
        },
        Response::EpochStarted {
            kind: DocKind::Plan,
            epoch: 3,
        },
        Response::Imported(ImportOutcome {
            added: vec![id("abc123"), id("abc124")],
            already_present: 3,
            differing: vec![RowDiffers {
                row: 4,
                id: id("abc125"),
                fields: vec!["Phone".into(), "Courses".into()],
            }],
            updated: vec![id("abc125")],
        }),
        Response::Constitution(Constitution {
            body: Text::with_value("Constitution of X\n"),
            adopted: Some(date("2024-02-02")),
            version: 2,
            amendments: vec![Amendment {
                version: 2,
                date: date("2024-02-02"),
                summary: "adopted".into(),
                by: "0123456789".into(),
            }],
        }),
        Response::Amended { version: Some(3) },
        Response::Amended { version: None },
        Response::Plan(plan()),
        Response::Changed { changed: false },
        Response::Created { id: id("g00002") },
        Response::Conversations { total: 45 },
        Response::Meetups(vec![meetup()]),
        Response::Meetup(meetup()),
        Response::Saved,
        Response::Devices(vec![devices]),
        Response::Status(NodeStatus {
            device: key(1),
            group: key(2),
            group_name: "Moorlands Climate Action".into(),
            group_kind: crate::card::GroupKind::SocialActionHub,
            role: Some(Role::Organiser),
            peers: vec![PeerStatus {
                device: key(3),
                group: Some(key(4)),
                name: Some("ACORN Bristol".into()),
                connected: false,
                last_seen: Some(1_717_000_000),
                last_error: Some("timed out".into()),
                in_sync: None,
                requested: true,
            }],
            documents: vec![DocStatus {
                group: None,
                kind: DocKind::Roster,
                heads: 1,
                fingerprint: Some("0123456789abcdef".into()),
                changes: Some(4),
                bytes: None,
                peers: Some(2),
                peers_in_sync: Some(1),
                stopped: vec![super::StoppedSync {
                    peer: key(3),
                    reason: "forked".into(),
                    by_peer: true,
                }],
                epoch: 2,
                old_epoch: vec![key(4)],
            }],
            affiliation: None,
            gossip: Some(super::GossipStatus {
                network: key(9),
                neighbours: 2,
                records_received: 17,
            }),
            traffic: Some(super::TrafficStatus {
                sent: 1200,
                received: 3400,
                wire_sent: 5600,
                wire_received: 7800,
            }),
            equivocations: vec![super::EquivocationStatus {
                device: key(3),
                group: key(2),
                kind: DocKind::Meetups,
                seq: 7,
                epoch: 2,
                healed: true,
            }],
            at_rest: Some(super::AtRest {
                passphrase: true,
                sealed: false,
            }),
            steward_devices: Some(1),
        }),
        Response::Subscribed,
        Response::error(ErrorCode::NotFound, "no member with id 'abc123'"),
        Response::Invite {
            text: "gwinviteabc".into(),
        },
        Response::Revoked {
            device: key(5),
            epochs: vec![(DocKind::Meetups, 1)],
        },
        Response::Peers(vec![]),
        Response::Affiliated {
            group: key(6),
            name: "ACORN Bristol".into(),
            pending: true,
        },
        Response::Directory(vec![DirectoryEntry {
            group: key(6),
            name: "ACORN Bristol".into(),
            area: Some("Bristol".into()),
            kind: crate::card::GroupKind::SocialActionHub,
            members: Some(25),
            established: Some(true),
            affiliated: true,
            last_seen: Some(date("2020-01-01")),
        }]),
        Response::Report(Box::new(sample_report())),
        Response::Shared(SharedDocs {
            group: key(7),
            constitution: Some(Constitution::default()),
            plan: None,
        }),
        Response::LinkCode {
            text: "gwlinkabc".into(),
            expires: 1_900_000_000,
        },
        Response::LinkRequests(vec![super::LinkRequestView {
            group: key(6),
            name: "ACORN Bristol".into(),
            area: None,
            kind: crate::card::GroupKind::SocialActionHub,
            device: key(7),
            at: 1_717_000_000,
        }]),
    ]
}

fn sample_report() -> crate::report::NetworkReport {
    use crate::records::{Exact, MembershipSummary};
    use crate::report::{Listed, build};
    let listed = [Listed {
        group: key(6),
        name: "ACORN Bristol".into(),
        area: Some("Bristol".into()),
        kind: crate::card::GroupKind::SocialActionHub,
        affiliated: true,
    }];
    let mut joined = [0; crate::records::GROWTH_MONTHS];
    joined[3] = 25;
    let s = MembershipSummary::publish(
        key(6),
        &Exact {
            members: 25,
            by_kind: [3, 20, 2],
            joined: (0, joined),
            trained: 9,
            trained_by_month: (9, [0; crate::records::GROWTH_MONTHS]),
            conversations: 40,
            themes: [("buses".to_owned(), 12)].into(),
            meetups: 3,
            ..Exact::default()
        },
        date("2020-01-01"),
        &crate::disclosure::Offsets::none(),
    );
    let latest = [(key(6), s)].into();
    build(Some(key(9)), &listed, &latest)
}

fn response_index(r: &Response) -> usize {
    match r {
        Response::MemberAdded { .. } => 0,
        Response::Members(_) => 1,
        Response::Member(_) => 2,
        Response::MemberRemoved { .. } => 3,
        Response::Imported(_) => 4,
        Response::Constitution(_) => 5,
        Response::Amended { .. } => 6,
        Response::Plan(_) => 7,
        Response::Changed { .. } => 8,
        Response::Created { .. } => 9,
        Response::Conversations { .. } => 10,
        Response::Meetups(_) => 11,
        Response::Meetup(_) => 12,
        Response::Saved => 13,
        Response::Devices(_) => 14,
        Response::Status(_) => 15,
        Response::Subscribed => 16,
        Response::Error { .. } => 17,
        Response::Invite { .. } => 18,
        Response::Revoked { .. } => 19,
        Response::Peers(_) => 20,
        Response::Affiliated { .. } => 21,
        Response::Directory(_) => 22,
        Response::Report(_) => 23,
        Response::Shared(_) => 24,
        Response::LinkCode { .. } => 25,
        Response::LinkRequests(_) => 26,
        Response::MemberForgotten { .. } => 27,
        Response::EpochStarted { .. } => 28,
        Response::Redacted { .. } => 29,
        Response::BackedUp { .. } => 30,
        Response::Ticket { .. } => 31,
    }
}

fn every_event() -> Vec<Event> {
    vec![
        Event::DocChanged {
            group: key(2),
            kind: DocKind::Meetups,
        },
        Event::PeerConnected {
            device: key(3),
            group: None,
        },
        Event::PeerDisconnected {
            device: key(3),
            reason: Some("closed by peer".into()),
        },
        Event::RecordReceived {
            group: key(4),
            what: "group card".into(),
        },
        Event::Lagged { missed: 7 },
    ]
}

fn event_index(e: &Event) -> usize {
    match e {
        Event::DocChanged { .. } => 0,
        Event::PeerConnected { .. } => 1,
        Event::PeerDisconnected { .. } => 2,
        Event::RecordReceived { .. } => 3,
        Event::Lagged { .. } => 4,
    }
}

/// Encodes `value` as one line, decodes it, and checks the value and the
/// bytes survive (the command line prints what it decodes, so a second
/// encoding must be identical).
fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let line = serde_json::to_string(value).expect("encode");
    assert!(!line.contains('\n'), "one line: {line}");
    let back: T = serde_json::from_str(&line).unwrap_or_else(|e| panic!("decode {line}: {e}"));
    assert_eq!(&back, value, "{line}");
    assert_eq!(serde_json::to_string(&back).expect("encode"), line);
    back
}

fn covers_all(indices: impl Iterator<Item = usize>, n: usize, what: &str) {
    let seen: std::collections::BTreeSet<usize> = indices.collect();
    assert_eq!(seen, (0..n).collect(), "every {what} variant is sampled");
}

#[test]
fn every_request_round_trips() {
    let all = every_request();
    covers_all(all.iter().map(request_index), 47, "request");
    for r in &all {
        round_trip(r);
    }
}

#[test]
fn every_response_round_trips() {
    let all = every_response();
    covers_all(all.iter().map(response_index), 32, "response");
    for r in &all {
        round_trip(r);
    }
}

#[test]
fn every_event_round_trips() {
    let all = every_event();
    covers_all(all.iter().map(event_index), 5, "event");
    for e in &all {
        round_trip(e);
    }
}

#[test]
fn the_json_form_is_fixed() {
    let show = Request::MemberShow { id: id("abc123") };
    assert_eq!(
        serde_json::to_string(&show).expect("encode"),
        r#"{"member_show":{"id":"abc123"}}"#
    );
    assert_eq!(
        serde_json::to_string(&Request::Status).expect("encode"),
        r#""status""#
    );
    let changed = Event::DocChanged {
        group: key(2),
        kind: DocKind::Roster,
    };
    assert_eq!(
        serde_json::to_string(&changed).expect("encode"),
        format!(
            r#"{{"doc_changed":{{"group":"{}","kind":"roster"}}}}"#,
            key(2)
        )
    );
    assert_eq!(
        serde_json::to_string(&Response::error(ErrorCode::Conflict, "a\nb")).expect("encode"),
        r#"{"error":{"code":"conflict","message":"a; b"}}"#
    );
}

#[test]
fn every_error_code_has_one_wire_name_and_a_missing_code_is_internal() {
    let all = [
        ErrorCode::Usage,
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::Conflict,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];
    for code in all {
        let text = serde_json::to_string(&Response::error(code, "m")).expect("encode");
        assert_eq!(
            text,
            format!(
                r#"{{"error":{{"code":"{}","message":"m"}}}}"#,
                code.as_str()
            )
        );
        let back: Response = serde_json::from_str(&text).expect("decode");
        assert_eq!(back, Response::error(code, "m"));
    }
    // A node from before codes: its errors are read, as internal.
    let old: Response = serde_json::from_str(r#"{"error":{"message":"m"}}"#).expect("decode");
    assert_eq!(old, Response::error(ErrorCode::Internal, "m"));
    // A code this version does not know is not read as another one.
    let unknown = serde_json::from_str::<Response>(r#"{"error":{"code":"teapot","message":"m"}}"#);
    assert!(unknown.is_err(), "{unknown:?}");
}

#[test]
fn optional_request_fields_may_be_left_out() {
    let r: Request = serde_json::from_str(r#"{"member_add":{"input":{"name":"Ada"}}}"#)
        .expect("a request with only a name");
    assert_eq!(
        r,
        Request::MemberAdd {
            input: MemberInput {
                name: Some("Ada".into()),
                ..MemberInput::default()
            }
        }
    );
    let r: Request = serde_json::from_str(r#"{"member_list":{}}"#).expect("a bare list");
    assert_eq!(
        r,
        Request::MemberList {
            kind: None,
            with_contacts: false
        }
    );
}

#[test]
fn malformed_or_unknown_fields_are_refused_with_a_clear_error() {
    let refused = |line: &str, says: &str| {
        let e = serde_json::from_str::<Request>(line)
            .expect_err(line)
            .to_string();
        assert!(e.contains(says), "{line}: {e}");
    };
    refused(
        r#"{"member_add":{"input":{"name":"Ada","nickname":"A"}}}"#,
        "unknown field `nickname`",
    );
    refused(
        r#"{"member_show":{"id":"abc123","verbose":true}}"#,
        "unknown field `verbose`",
    );
    refused(r#"{"member_show":{"id":"abc"}}"#, "an id has 6 characters");
    refused(r#"{"frobnicate":{}}"#, "unknown variant `frobnicate`");
    refused(
        r#"{"meetup_add":{"input":{"place":"Hall"}}}"#,
        "missing field `date`",
    );
    refused(
        r#"{"meetup_add":{"input":{"date":"31/02/2024","place":"Hall"}}}"#,
        "31/02/2024",
    );
    refused(r#"{"member_list":{"kind":"astronaut"}}"#, "astronaut");
    refused(
        r#"{"plan_conversations_add":{"count":-1}}"#,
        "invalid value",
    );
    refused(r#"{"member_show":"#, "EOF");
}

#[test]
fn a_member_view_without_a_contact_reads_back_without_one() {
    let plain = view(None);
    let json = serde_json::to_value(&plain).expect("encode");
    assert!(json.get("consent_to_contact").is_none(), "{json}");
    assert_eq!(round_trip(&plain).contact, None);
    let defaulted = view(Some(Contact::default()));
    assert_eq!(round_trip(&defaulted).contact, Some(Contact::default()));
}

#[test]
fn writes_names_the_documents_each_edit_changes() {
    for r in every_request() {
        let writes = r.writes();
        let read_only = matches!(
            r,
            Request::MemberList { .. }
                | Request::MemberShow { .. }
                | Request::ConstitutionShow
                | Request::PlanShow
                | Request::MeetupList
                | Request::MeetupShow { .. }
                | Request::DeviceList
                | Request::Status
                | Request::Subscribe
                | Request::Invite { .. }
                | Request::PeerAdd { .. }
                | Request::PeerList
                | Request::Affiliate { .. }
                | Request::Network
                | Request::Report
                | Request::Shared { .. }
                | Request::LinkCode { .. }
                | Request::LinkRequests
                | Request::PeerAccept { .. }
                | Request::PeerRefuse { .. }
                | Request::Backup { .. }
                | Request::Ticket
        );
        assert_eq!(writes.is_empty(), read_only, "{r:?}");
        assert_eq!(
            writes.contains(&DocKind::Devices),
            matches!(r, Request::DeviceRevoke { .. }),
            "{r:?}"
        );
    }
}
