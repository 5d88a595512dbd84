//! A node held in memory, for tests, snapshots and benchmarks: the same
//! trait as the real one, with deterministic sample data and the same
//! permission rules (a member-role device may not write the plan or the
//! roster).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};

use autosurgeon::Text;
use groundwork_protocol::control::{
    ActionPatch, DirectoryEntry, ErrorCode, Event, LinkRequestView, MeetupInput, MeetupPatch,
    MemberInput, MemberView, NodeStatus, PlanView, SharedDocs,
};
use groundwork_protocol::report::NetworkReport;
use groundwork_protocol::schema::{
    Action, ActionStatus, Constitution, Meetup, Member, MemberStatus,
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

mod sample;
pub use sample::Sample;

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

    fn edit_meetup(&self, id: ShortId, patch: MeetupPatch) -> NodeResult<bool> {
        self.require(DocKind::Meetups, "edit")?;
        if patch.place.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(NodeError::refused(
                ErrorCode::Usage,
                "place: must not be empty",
            ));
        }
        self.record(format!("edit meetup {id}"));
        let mut changed = None;
        self.from_peer(DocKind::Meetups, |s| {
            if let Some(m) = s.meetups.iter_mut().find(|m| m.id == id) {
                let before = m.clone();
                if let Some(d) = patch.date {
                    m.date = d;
                }
                if let Some(p) = &patch.place {
                    m.place = p.trim().to_owned();
                }
                if let Some(a) = &patch.agenda {
                    m.agenda = Text::with_value(a.as_str());
                }
                if let Some(n) = patch.attendance {
                    m.attendance = n;
                }
                changed = Some(*m != before);
            }
            s.meetups.sort_by_key(|m| std::cmp::Reverse(m.date));
        });
        let found = changed.is_some();
        found_or_not(found, "meet-up", &id).map(|()| changed == Some(true))
    }

    fn remove_meetup(&self, id: ShortId) -> NodeResult<()> {
        self.require(DocKind::Meetups, "edit")?;
        self.record(format!("remove meetup {id}"));
        let mut found = false;
        self.from_peer(DocKind::Meetups, |s| {
            found = s.meetups.iter().any(|m| m.id == id);
            s.meetups.retain(|m| m.id != id);
        });
        found_or_not(found, "meet-up", &id)
    }

    fn add_goal(&self, text: String) -> NodeResult<ShortId> {
        self.require(DocKind::Plan, "edit")?;
        let id = self.new_id();
        self.record(format!("goal {text}"));
        self.from_peer(DocKind::Plan, |s| {
            s.plan.plan.goals.push(groundwork_protocol::schema::Goal {
                id: id.clone(),
                text,
            });
        });
        Ok(id)
    }

    fn edit_goal(&self, id: ShortId, text: String) -> NodeResult<bool> {
        self.require(DocKind::Plan, "edit")?;
        self.record(format!("edit goal {id}"));
        let mut changed = None;
        self.from_peer(DocKind::Plan, |s| {
            if let Some(g) = s.plan.plan.goals.iter_mut().find(|g| g.id == id) {
                changed = Some(g.text != text);
                g.text = text;
            }
        });
        found_or_not(changed.is_some(), "goal", &id).map(|()| changed == Some(true))
    }

    fn remove_goal(&self, id: ShortId) -> NodeResult<()> {
        self.require(DocKind::Plan, "edit")?;
        self.record(format!("remove goal {id}"));
        let mut found = false;
        self.from_peer(DocKind::Plan, |s| {
            found = s.plan.plan.goals.iter().any(|g| g.id == id);
            s.plan.plan.goals.retain(|g| g.id != id);
        });
        found_or_not(found, "goal", &id)
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
