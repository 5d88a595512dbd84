//! A node held in memory, for tests, snapshots and benchmarks: the same
//! trait as the real one, with deterministic sample data and the same
//! permission rules (a member-role device may not write the plan or the
//! roster).

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};

use autosurgeon::{Counter, Text};
use groundwork_protocol::card::GroupKind;
use groundwork_protocol::control::{
    ActionPatch, DirectoryEntry, DocStatus, ErrorCode, Event, GossipStatus, LinkRequestView,
    MeetupInput, MemberInput, MemberView, NodeStatus, PeerStatus, PlanView, SharedDocs,
    TrafficStatus,
};
use groundwork_protocol::disclosure::{Offsets, Rounded};
use groundwork_protocol::records::{ESTABLISHED_AT, Exact, GROWTH_MONTHS, MembershipSummary};
use groundwork_protocol::report::{self, Listed, NetworkReport};
use groundwork_protocol::schema::{
    Action, ActionStatus, Amendment, Constitution, Contact, Course, Goal, LawfulBasis, Listening,
    Meetup, Member, MemberKind, MemberStatus, Plan, Role,
};
use groundwork_protocol::{Date, DocKind, GroupId, SecretKey, ShortId};

use crate::node::{Node, NodeError, NodeResult};

/// The fixed "today" of the sample data.
pub fn today() -> Date {
    Date::new(2026, 3, 2).unwrap_or(Date::from_unix_days(20_514))
}

/// Noon of [`today`], in seconds since the Unix epoch.
pub fn now() -> u64 {
    today().unix_days() as u64 * 86_400 + 12 * 3600
}

/// A deterministic key from a number.
pub fn key(n: u64) -> GroupId {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&n.to_le_bytes());
    SecretKey::from_seed(&seed).public()
}

fn short(n: u64) -> ShortId {
    ShortId::from_entropy((n as u32).wrapping_mul(2_654_435_761))
}

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

/// A node in memory.
#[derive(Debug)]
pub struct FakeNode {
    state: Mutex<Sample>,
    watchers: Mutex<Vec<Sender<Event>>>,
    /// Every edit made, in order, for tests to check.
    pub edits: Mutex<Vec<String>>,
    next: Mutex<u64>,
}

impl FakeNode {
    /// A fake node holding `sample`.
    pub fn new(sample: Sample) -> FakeNode {
        FakeNode {
            state: Mutex::new(sample),
            watchers: Mutex::new(Vec::new()),
            edits: Mutex::new(Vec::new()),
            next: Mutex::new(500),
        }
    }

    fn state(&self) -> MutexGuard<'_, Sample> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the state as a peer would, and tells watchers.
    pub fn from_peer(&self, kind: DocKind, change: impl FnOnce(&mut Sample)) {
        let group = {
            let mut s = self.state();
            change(&mut s);
            s.status.group
        };
        self.notify(Event::DocChanged { group, kind });
    }

    /// Sends an event to every watcher.
    pub fn notify(&self, event: Event) {
        self.watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|w| w.send(event.clone()).is_ok());
    }

    fn require(&self, kind: DocKind, verb: &str) -> NodeResult<()> {
        let role = self.state().status.role;
        match role {
            Some(r) if r.may_write(kind) => Ok(()),
            Some(r) => Err(NodeError::refused(
                ErrorCode::Forbidden,
                format!("this device is a {r}; a {r} device may not {verb} the {kind}"),
            )),
            None => Err(NodeError::refused(
                ErrorCode::Forbidden,
                "this device is not an active device of the group",
            )),
        }
    }

    /// A steward answers a request to link: it is gone from the list.
    fn answer_request(&self, group: GroupId, verb: &str) -> NodeResult<()> {
        self.require(DocKind::Devices, "link or edit")?;
        let mut s = self.state();
        let before = s.requests.len();
        s.requests.retain(|r| r.group != group);
        if s.requests.len() == before {
            return Err(NodeError::refused(
                ErrorCode::NotFound,
                format!("no request to link with id '{}'", group.fmt_short()),
            ));
        }
        drop(s);
        self.record(format!("{verb} {}", group.fmt_short()));
        Ok(())
    }

    fn new_id(&self) -> ShortId {
        let mut n = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *n += 1;
        short(*n)
    }

    fn record(&self, what: String) {
        self.edits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }

    /// Opens an event stream without blocking, for tests.
    pub fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = mpsc::channel();
        self.watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(tx);
        rx
    }
}

impl Node for FakeNode {
    fn status(&self) -> NodeResult<NodeStatus> {
        Ok(self.state().status.clone())
    }

    fn directory(&self) -> NodeResult<Vec<DirectoryEntry>> {
        Ok(self.state().directory.clone())
    }

    fn report(&self) -> NodeResult<NetworkReport> {
        Ok(self.state().report.clone())
    }

    fn constitution(&self) -> NodeResult<Constitution> {
        Ok(self.state().constitution.clone())
    }

    fn plan(&self) -> NodeResult<PlanView> {
        let s = self.state();
        let mut plan = s.plan.clone();
        if !s.status.role.is_some_and(|r| r.may_read(DocKind::Roster)) {
            plan.owners.clear();
        }
        Ok(plan)
    }

    fn meetups(&self) -> NodeResult<Vec<Meetup>> {
        Ok(self.state().meetups.clone())
    }

    fn members(&self) -> NodeResult<Vec<MemberView>> {
        let s = self.state();
        let role = s.status.role;
        if !role.is_some_and(|r| r.may_read(DocKind::Roster)) {
            return Err(NodeError::refused(
                ErrorCode::Forbidden,
                "this device may not read the roster",
            ));
        }
        let contacts = role.is_some_and(|r| r.may_read(DocKind::Contacts));
        Ok(s.members
            .iter()
            .map(|m| MemberView {
                contact: if contacts { m.contact.clone() } else { None },
                ..m.clone()
            })
            .collect())
    }

    fn shared(&self, group: GroupId) -> NodeResult<SharedDocs> {
        Ok(self
            .state()
            .shared
            .get(&group)
            .cloned()
            .unwrap_or(SharedDocs {
                group,
                constitution: None,
                plan: None,
            }))
    }

    fn add_meetup(&self, input: MeetupInput) -> NodeResult<ShortId> {
        self.require(DocKind::Meetups, "edit")?;
        let id = self.new_id();
        self.record(format!("meetup {} {}", input.date, input.place));
        self.from_peer(DocKind::Meetups, |s| {
            s.meetups.push(Meetup {
                id: id.clone(),
                date: input.date,
                place: input.place,
                agenda: Text::with_value(input.agenda.unwrap_or_default()),
                notes: Text::default(),
                attendance: input.attendance.unwrap_or(0),
                actions: Vec::new(),
            });
            s.meetups.sort_by_key(|m| std::cmp::Reverse(m.date));
        });
        Ok(id)
    }

    fn set_meetup_notes(&self, id: ShortId, base: String, notes: String) -> NodeResult<()> {
        self.require(DocKind::Meetups, "edit")?;
        if !self.state().meetups.iter().any(|m| m.id == id) {
            return Err(NodeError::refused(
                ErrorCode::NotFound,
                format!("no meet-up with id '{id}'"),
            ));
        }
        self.record(format!("notes {id} {notes:?}"));
        self.from_peer(DocKind::Meetups, |s| {
            if let Some(m) = s.meetups.iter_mut().find(|m| m.id == id) {
                let merged = groundwork_protocol::edit::merge_text(&base, m.notes.as_str(), &notes);
                m.notes = Text::with_value(merged);
            }
        });
        Ok(())
    }

    fn add_action(
        &self,
        title: String,
        owner: Option<String>,
        due: Option<Date>,
    ) -> NodeResult<ShortId> {
        self.require(DocKind::Plan, "edit")?;
        let id = self.new_id();
        self.record(format!("action {title} {owner:?} {due:?}"));
        self.from_peer(DocKind::Plan, |s| {
            s.plan.plan.actions.push(Action {
                id: id.clone(),
                title,
                due,
                status: ActionStatus::Open,
                done_on: None,
            });
        });
        Ok(id)
    }

    fn link_requests(&self) -> NodeResult<Vec<LinkRequestView>> {
        Ok(self.state().requests.clone())
    }

    fn accept_link(&self, group: GroupId) -> NodeResult<()> {
        self.answer_request(group, "accept")
    }

    fn refuse_link(&self, group: GroupId) -> NodeResult<()> {
        self.answer_request(group, "refuse")
    }

    fn action_done(&self, id: ShortId) -> NodeResult<bool> {
        self.require(DocKind::Plan, "edit")?;
        let today = today();
        let mut changed = false;
        self.record(format!("done {id}"));
        self.from_peer(DocKind::Plan, |s| {
            if let Some(a) = s.plan.plan.actions.iter_mut().find(|a| a.id == id)
                && a.status != ActionStatus::Done
            {
                a.status = ActionStatus::Done;
                a.done_on = Some(today);
                changed = true;
            }
        });
        Ok(changed)
    }

    fn edit_action(&self, id: ShortId, patch: ActionPatch) -> NodeResult<bool> {
        self.require(DocKind::Plan, "edit")?;
        self.record(format!("edit action {id}"));
        let mut found = false;
        self.from_peer(DocKind::Plan, |s| {
            if let Some(a) = s.plan.plan.actions.iter_mut().find(|a| a.id == id) {
                found = true;
                if let Some(t) = &patch.title {
                    a.title = t.clone();
                }
                if patch.clear_due {
                    a.due = None;
                }
                if patch.due.is_some() {
                    a.due = patch.due;
                }
            }
            if patch.clear_owner {
                s.plan.owners.remove(id.as_str());
            }
        });
        found_or_not(found, "action", &id).map(|()| true)
    }

    fn remove_action(&self, id: ShortId) -> NodeResult<()> {
        self.require(DocKind::Plan, "edit")?;
        self.record(format!("remove action {id}"));
        self.from_peer(DocKind::Plan, |s| {
            s.plan.plan.actions.retain(|a| a.id != id);
            s.plan.owners.remove(id.as_str());
        });
        Ok(())
    }

    fn action_reopen(&self, id: ShortId) -> NodeResult<bool> {
        self.require(DocKind::Plan, "edit")?;
        let mut changed = false;
        self.record(format!("reopen {id}"));
        self.from_peer(DocKind::Plan, |s| {
            if let Some(a) = s.plan.plan.actions.iter_mut().find(|a| a.id == id)
                && a.status == ActionStatus::Done
            {
                a.status = ActionStatus::Open;
                a.done_on = None;
                changed = true;
            }
        });
        Ok(changed)
    }

    fn edit_member(&self, id: ShortId, patch: MemberInput) -> NodeResult<()> {
        self.require(DocKind::Roster, "edit")?;
        self.record(format!("edit member {id}"));
        let mut found = false;
        self.from_peer(DocKind::Roster, |s| {
            if let Some(m) = s.members.iter_mut().find(|m| m.id == id) {
                found = true;
                if let Some(n) = &patch.name {
                    m.member.name = n.clone();
                }
                m.member.kind = patch.kind.unwrap_or(m.member.kind);
                if patch.email.is_some()
                    || patch.phone.is_some()
                    || patch.consent_to_contact.is_some()
                {
                    let c = m.contact.get_or_insert_with(Default::default);
                    if patch.email.is_some() {
                        c.email = patch.email.clone();
                    }
                    if patch.phone.is_some() {
                        c.phone = patch.phone.clone();
                    }
                    c.consent_to_contact = patch.consent_to_contact.unwrap_or(c.consent_to_contact);
                }
            }
        });
        found_or_not(found, "member", &id)
    }

    fn remove_member(&self, id: ShortId) -> NodeResult<()> {
        self.require(DocKind::Roster, "edit")?;
        self.record(format!("remove member {id}"));
        let mut found = false;
        self.from_peer(DocKind::Roster, |s| {
            let before = s.members.len();
            s.members.retain(|m| m.id != id);
            found = s.members.len() < before;
        });
        found_or_not(found, "member", &id)
    }

    fn forget_member(&self, id: ShortId) -> NodeResult<()> {
        self.require(DocKind::Roster, "edit")?;
        self.record(format!("forget member {id}"));
        self.from_peer(DocKind::Roster, |s| s.members.retain(|m| m.id != id));
        Ok(())
    }

    fn add_member(&self, input: MemberInput) -> NodeResult<ShortId> {
        self.require(DocKind::Roster, "edit")?;
        let id = self.new_id();
        let name = input.name.clone().unwrap_or_default();
        self.record(format!("member {name}"));
        self.from_peer(DocKind::Roster, |s| {
            s.members.push(MemberView {
                id: id.clone(),
                member: Member {
                    name,
                    kind: input.kind.unwrap_or_default(),
                    joined: today(),
                    status: MemberStatus::Active,
                    principles_agreed: None,
                    courses: Vec::new(),
                    trained: None,
                },
                contact: None,
            });
            s.members.sort_by(|a, b| a.member.name.cmp(&b.member.name));
        });
        Ok(id)
    }

    fn watch(&self, sink: &mut dyn FnMut(Event) -> bool) -> NodeResult<()> {
        let rx = self.subscribe();
        if !sink(Event::Lagged { missed: 0 }) {
            return Ok(());
        }
        for e in rx {
            if !sink(e) {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Runs `cmds` against `node` the way the runtime does, feeding each answer
/// back to `update` (and the commands that asks for) until none are left.
/// `$EDITOR` is not opened. Returns the edits made, in order.
pub fn run(
    model: &mut crate::model::Model,
    node: &FakeNode,
    cmds: Vec<crate::update::Cmd>,
) -> Vec<crate::update::Edit> {
    use crate::update::{Cmd, Msg, update};
    let mut edits = Vec::new();
    let mut queue = cmds;
    while !queue.is_empty() {
        let mut next = Vec::new();
        for cmd in queue {
            match cmd {
                Cmd::Load(d) => {
                    next.extend(update(model, Msg::Loaded(d, crate::app::load(node, d))))
                }
                Cmd::Edit(e) => {
                    edits.push(e.clone());
                    let r = crate::app::edit(node, &e);
                    next.extend(update(model, Msg::Edited(e, r)));
                }
                Cmd::OpenEditor { .. } => {}
            }
        }
        queue = next;
    }
    edits
}

/// A fake node holding `sample`, and a model of `size` with everything
/// loaded from it.
pub fn loaded(sample: &Sample, size: (u16, u16)) -> (crate::model::Model, FakeNode) {
    let node = FakeNode::new(sample.clone());
    let mut model = crate::model::Model::new(size, today(), now(), true);
    let cmds = crate::update::load_all(&model);
    run(&mut model, &node, cmds);
    (model, node)
}

/// Ok if the edit found what it named, else the node's "not found" refusal.
fn found_or_not(found: bool, what: &str, id: &ShortId) -> NodeResult<()> {
    if found {
        Ok(())
    } else {
        Err(NodeError::Refused {
            code: ErrorCode::NotFound,
            message: format!("no {what} with id '{id}'"),
        })
    }
}
