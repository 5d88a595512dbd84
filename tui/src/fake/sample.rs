//! The fake node's deterministic sample data: groups, a roster, a plan
//! and meet-ups.

use std::collections::BTreeMap;

use autosurgeon::{Counter, Text};
use groundwork_protocol::card::GroupKind;
use groundwork_protocol::control::{
    DirectoryEntry, DocStatus, GossipStatus, LinkRequestView, MemberView, NodeStatus, PeerStatus,
    PlanView, SharedDocs, TrafficStatus,
};
use groundwork_protocol::disclosure::{Offsets, Rounded};
use groundwork_protocol::records::{ESTABLISHED_AT, Exact, GROWTH_MONTHS, MembershipSummary};
use groundwork_protocol::report::{self, Listed, NetworkReport};
use groundwork_protocol::schema::{
    Action, ActionStatus, Amendment, Constitution, Contact, Course, Goal, LawfulBasis, Listening,
    Meetup, Member, MemberKind, MemberStatus, Plan, Role,
};
use groundwork_protocol::{Date, DocKind, GroupId};

use super::{key, now, short, today};

const GROUPS: [(&str, &str, GroupKind); 8] = [
    (
        "Community Organisers Birkenhead",
        "Wirral",
        GroupKind::LocalOrganisingGroup,
    ),
    ("ACORN Bristol", "Bristol", GroupKind::SocialActionHub),
    (
        "Latin American Parents Association",
        "London",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Moorlands Climate Action",
        "Staffordshire Moorlands",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Cancer Support Salisbury",
        "Wiltshire",
        GroupKind::LocalOrganisingGroup,
    ),
    ("Sneinton Alchemy", "Nottingham", GroupKind::SocialActionHub),
    (
        "The Wharton Trust",
        "Hartlepool",
        GroupKind::SocialActionHub,
    ),
    (
        "Barton Hill Settlement",
        "Bristol",
        GroupKind::LocalOrganisingGroup,
    ),
];

const FIRST: [&str; 12] = [
    "Amara", "Bryn", "Cora", "Dafydd", "Esme", "Farid", "Gwen", "Hamza", "Isla", "Jude", "Kemi",
    "Lorcan",
];
const LAST: [&str; 10] = [
    "Ashworth", "Bello", "Cornish", "Dunmore", "Ely", "Fenwick", "Garside", "Holt", "Ingram",
    "Kelsall",
];

/// The sample: `groups` groups in the directory (the first is this
/// device's own), `members` on its roster, this device in `role`.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The node's state.
    pub status: NodeStatus,
    /// The directory.
    pub directory: Vec<DirectoryEntry>,
    /// The report.
    pub report: NetworkReport,
    /// The constitution.
    pub constitution: Constitution,
    /// The plan.
    pub plan: PlanView,
    /// Meet-ups, newest first.
    pub meetups: Vec<Meetup>,
    /// Members, with contacts (the fake hides them from member devices).
    pub members: Vec<MemberView>,
    /// What other groups share, by group.
    pub shared: BTreeMap<GroupId, SharedDocs>,
    /// Requests to link waiting for the steward.
    pub requests: Vec<LinkRequestView>,
}

fn group_name(i: usize) -> (String, String, GroupKind) {
    match GROUPS.get(i) {
        Some((n, a, k)) => (n.to_string(), a.to_string(), *k),
        None => (
            format!("Local Organising Group {i:03}"),
            format!("Area {:02}", i % 37),
            GroupKind::LocalOrganisingGroup,
        ),
    }
}

/// One sample group's published summary: `n` members who joined over
/// the two years, a third trained, and a few listening themes.
fn sample_summary(group: GroupId, i: usize, n: u64, as_of: Date) -> MembershipSummary {
    let mut joined = [0; GROWTH_MONTHS];
    let mut trained_by_month = [0; GROWTH_MONTHS];
    let earlier = n / 3;
    for k in 0..(n - earlier) {
        joined[((k * 7 + i as u64) % GROWTH_MONTHS as u64) as usize] += 1;
    }
    let trained = n / 3;
    for k in 0..trained {
        trained_by_month[((k * 5 + i as u64 + 3) % GROWTH_MONTHS as u64) as usize] += 1;
    }
    const THEMES: [&str; 5] = ["buses", "damp housing", "youth club", "parks", "food bank"];
    let conversations = n * 3;
    let exact = Exact {
        members: n,
        by_kind: [n / 4, n / 2, n - n / 4 - n / 2],
        joined: (earlier, joined),
        trained,
        trained_by_month: (0, trained_by_month),
        by_course: [
            ("introduction".to_owned(), trained),
            ("listening-skills".to_owned(), trained / 2),
            ("building-power".to_owned(), trained / 4),
        ]
        .into(),
        conversations,
        themes: THEMES
            .iter()
            .enumerate()
            .filter(|(k, _)| !(i + k).is_multiple_of(3))
            .map(|(k, t)| ((*t).to_owned(), conversations / (k as u64 + 2)))
            .collect(),
        meetups: (i % 5) as u64 * 3,
        formed: Some(2017 + (i % 8) as i32),
    };
    MembershipSummary::publish(group, &exact, as_of, &Offsets::none())
}

/// Members on one group's roster in the sample.
fn roster_size(i: usize) -> u64 {
    [34, 27, 12, 3, 22, 8, 0, 41][i % 8] + (i as u64 % 5)
}

impl Sample {
    /// Builds the sample.
    pub fn new(groups: usize, members: usize, role: Role) -> Sample {
        let today = today();
        let own = key(0);
        let mut listed = Vec::new();
        let mut latest = BTreeMap::new();
        let mut directory = Vec::new();
        for i in 0..groups.max(1) {
            let (name, area, kind) = group_name(i);
            let group = key(i as u64);
            let affiliated = i % 4 != 3;
            listed.push(Listed {
                group,
                name: name.clone(),
                area: Some(area.clone()),
                kind,
                affiliated,
            });
            let reporting = i % 9 != 6;
            let n = if i == 0 {
                members as u64
            } else {
                roster_size(i)
            };
            let summary = sample_summary(group, i, n, today.add_days(-((i % 7) as i64)));
            if reporting {
                latest.insert(group, summary);
            }
            directory.push(DirectoryEntry {
                group,
                name,
                area: Some(area),
                kind,
                members: reporting.then(|| Rounded::nearest(n).get()),
                established: reporting.then_some(n >= ESTABLISHED_AT),
                affiliated,
                last_seen: reporting.then(|| today.add_days(-((i % 7) as i64))),
            });
        }
        let report = report::build(Some(key(999)), &listed, &latest);

        let peer =
            |n: u64, group: usize, connected: bool, in_sync: bool, err: Option<&str>| PeerStatus {
                device: key(1000 + n),
                group: Some(key(group as u64)),
                name: Some(group_name(group).0),
                connected,
                last_seen: Some(now() - n * 97),
                last_error: err.map(str::to_string),
                in_sync: connected.then_some(in_sync),
                requested: false,
            };
        let mut peers = vec![peer(1, 0, true, true, None)];
        if groups > 1 {
            peers.push(peer(2, 1, true, false, None));
        }
        if groups > 2 {
            peers.push(peer(3, 2, false, false, Some("timed out connecting")));
        }
        let doc = |g: usize, kind: DocKind, heads: u64, peers: u64, in_sync: u64| DocStatus {
            group: Some(key(g as u64)),
            kind,
            heads,
            fingerprint: None,
            changes: Some(3 + heads),
            bytes: Some(1200 * (heads + 1)),
            peers: Some(peers),
            peers_in_sync: Some(in_sync),
            stopped: Vec::new(),
            epoch: 0,
            old_epoch: Vec::new(),
        };
        let mut documents = vec![
            doc(0, DocKind::Constitution, 1, 2, 2),
            doc(0, DocKind::Plan, 1, 2, 1),
            doc(0, DocKind::Meetups, 2, 1, 1),
            doc(0, DocKind::Roster, 1, 1, 1),
            doc(0, DocKind::Contacts, 1, 1, 1),
            doc(0, DocKind::Devices, 1, 1, 1),
        ];
        if groups > 1 {
            documents.push(doc(1, DocKind::Constitution, 1, 1, 0));
            documents.push(doc(1, DocKind::Plan, 1, 1, 0));
        }
        let status = NodeStatus {
            device: key(1000),
            group: own,
            group_name: group_name(0).0,
            group_kind: Default::default(),
            role: Some(role),
            peers,
            documents,
            affiliation: None,
            gossip: Some(GossipStatus {
                network: key(999),
                neighbours: 2,
                records_received: 57,
            }),
            traffic: Some(TrafficStatus {
                sent: 48_213,
                received: 1_203_554,
                wire_sent: 61_870,
                wire_received: 1_318_040,
            }),
            equivocations: Vec::new(),
            at_rest: Some(groundwork_protocol::control::AtRest {
                passphrase: true,
                sealed: true,
            }),
            steward_devices: Some(2),
        };

        let body = "# Name\n\
            The group is Community Organisers Birkenhead, a Local Organising Group.\n\n\
            # Purpose\n\
            We listen to people in Birkenhead and act together on what matters to them.\n\n\
            # Membership\n\
            Anyone who lives or works in the Wirral and agrees to the Principles of Practice may join.\n\
            Members are professionals, activists or observers.\n\n\
            # Meetings\n\
            The group meets at least once a month. Notes of every meet-up are kept.\n\n\
            # Decisions\n\
            Decisions are made by consensus where possible, otherwise by a majority of members present.\n\n\
            # Stewards\n\
            Two stewards hold the group's key and look after its records.\n\n\
            # Changes\n\
            This constitution may be amended at any meet-up with two weeks' notice.";
        let constitution = Constitution {
            body: Text::with_value(body),
            adopted: Some(today.add_days(-200)),
            version: 2,
            amendments: vec![
                Amendment {
                    version: 1,
                    date: today.add_days(-200),
                    summary: "Adopted".into(),
                    by: "steward".into(),
                },
                Amendment {
                    version: 2,
                    date: today.add_days(-40),
                    summary: "Monthly meetings".into(),
                    by: "steward".into(),
                },
            ],
        };
        let actions = vec![
            ("Book the community hall for meet-ups", Some(-10), true),
            (
                "Hold 20 listening conversations on the estate",
                Some(14),
                false,
            ),
            ("Ask the council about the bus route", Some(-3), false),
            ("Run a stall at the summer fair", None, false),
        ];
        let mut owners = BTreeMap::new();
        let plan = Plan {
            vision: Text::with_value(
                "A Wirral where everyone is listened to and people act together on what matters.",
            ),
            goals: vec![
                Goal {
                    id: short(1),
                    text: "Hold 100 listening conversations this year".into(),
                },
                Goal {
                    id: short(2),
                    text: "Grow to an established group of 21 or more members".into(),
                },
            ],
            actions: actions
                .into_iter()
                .enumerate()
                .map(|(i, (title, due, done))| {
                    let id = short(10 + i as u64);
                    if i < 2 && members > 0 {
                        owners.insert(
                            id.to_string(),
                            groundwork_protocol::control::Owner {
                                id: short(100).to_string(),
                                name: member_name(0),
                            },
                        );
                    }
                    Action {
                        id,
                        title: title.into(),
                        due: due.map(|d| today.add_days(d)),
                        status: if done {
                            ActionStatus::Done
                        } else {
                            ActionStatus::Open
                        },
                        done_on: done.then(|| today.add_days(-12)),
                    }
                })
                .collect(),
            listening: Listening {
                conversations_held: Counter::with_value(45),
                themes: vec!["housing".into(), "buses".into(), "youth club".into()],
                theme_conversations: [
                    ("housing".to_owned(), Counter::with_value(20)),
                    ("buses".to_owned(), Counter::with_value(18)),
                ]
                .into(),
            },
        };
        let meetups = vec![
            meetup(
                1,
                today.add_days(7),
                "St Werburgh's hall",
                "Plan the summer fair",
                "",
                0,
            ),
            meetup(
                2,
                today.add_days(-21),
                "Birkenhead library",
                "1. Welcome\n2. Listening campaign so far\n3. Bus route",
                "Twelve came. Farid reported 15 conversations on the estate.\nAgreed to write to the council about the 437 bus.",
                12,
            ),
            meetup(
                3,
                today.add_days(-52),
                "Café on Grange Road",
                "First meet-up",
                "Agreed the constitution.",
                9,
            ),
        ];
        let members = (0..members as u64)
            .map(|i| MemberView {
                id: short(100 + i),
                member: Member {
                    name: member_name(i),
                    kind: [
                        MemberKind::Activist,
                        MemberKind::Professional,
                        MemberKind::Observer,
                    ][(i % 3) as usize],
                    joined: today.add_days(-(((i * 7) % 400) as i64)),
                    status: if i % 11 == 10 {
                        MemberStatus::Lapsed
                    } else {
                        MemberStatus::Active
                    },
                    principles_agreed: Some(today.add_days(-(((i * 7) % 400) as i64))),
                    courses: if i % 3 == 0 {
                        vec![
                            Course::parse_known("foundation")
                                .unwrap_or(Course::Other("Foundation".into())),
                        ]
                    } else {
                        Vec::new()
                    },
                    trained: None,
                },
                contact: (i % 2 == 0).then(|| Contact {
                    email: Some(format!("member{i}@example.org")),
                    phone: (i % 4 == 0).then(|| format!("07700 9{:05}", i)),
                    consent_to_contact: i % 3 != 1,
                    lawful_basis: LawfulBasis::default(),
                    consent_date: Some(today.add_days(-30)),
                }),
            })
            .collect::<Vec<_>>();
        let mut members = members;
        members.sort_by(|a, b| a.member.name.cmp(&b.member.name).then(a.id.cmp(&b.id)));

        let mut shared = BTreeMap::new();
        if groups > 1 {
            shared.insert(
                key(1),
                SharedDocs {
                    group: key(1),
                    constitution: Some(Constitution {
                        body: Text::with_value("# Name\nACORN Bristol, a social action hub.\n\n# Purpose\nA union for renters in Bristol."),
                        adopted: Some(today.add_days(-400)),
                        version: 1,
                        amendments: Vec::new(),
                    }),
                    plan: Some(Plan {
                        vision: Text::with_value("Safe, affordable homes for everyone in Bristol."),
                        goals: vec![Goal {
                            id: short(3),
                            text: "Win a landlord licensing scheme".into(),
                        }],
                        actions: vec![Action {
                            id: short(30),
                            title: "Door-knock the Easton streets".into(),
                            due: Some(today.add_days(5)),
                            status: ActionStatus::Open,
                            done_on: None,
                        }],
                        listening: Listening::default(),
                    }),
                },
            );
        }
        Sample {
            status,
            directory,
            report,
            constitution,
            plan: PlanView { plan, owners },
            meetups,
            members,
            shared,
            requests: Vec::new(),
        }
    }
}

fn member_name(i: u64) -> String {
    let f = FIRST[(i % FIRST.len() as u64) as usize];
    let l = LAST[((i / FIRST.len() as u64) % LAST.len() as u64) as usize];
    if i < (FIRST.len() * LAST.len()) as u64 {
        format!("{f} {l}")
    } else {
        format!("{f} {l} {}", i / (FIRST.len() * LAST.len()) as u64)
    }
}

fn meetup(n: u64, date: Date, place: &str, agenda: &str, notes: &str, came: u64) -> Meetup {
    Meetup {
        id: short(50 + n),
        date,
        place: place.into(),
        agenda: Text::with_value(agenda),
        notes: Text::with_value(notes),
        attendance: came,
        actions: Vec::new(),
    }
}
