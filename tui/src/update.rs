//! `update`: how a message changes the model, and what the runtime must do
//! next ([`Cmd`]). No terminal and no node here, so every key is tested as a
//! plain function call.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use groundwork_protocol::control::{
    ActionPatch, DirectoryEntry, ErrorCode, Event, LinkRequestView, MeetupInput, MemberInput,
    MemberView, NodeStatus, PlanView, SharedDocs,
};
use groundwork_protocol::report::NetworkReport;
use groundwork_protocol::schema::{ActionStatus, Constitution, Meetup, MemberKind};
use groundwork_protocol::{Date, DocKind, GroupId, ShortId};

use crate::form::{Form, FormKey};
use crate::model::{
    FormKind, Level, ListPos, Loaded, Model, NotesEditor, Overlay, Screen, SortKey, SyncPane, Tab,
    Target,
};
use crate::node::NodeError;
use crate::textarea::TextArea;

/// Rows of the requests table the sync screen shows at most.
pub const REQUESTS_SHOWN: usize = 5;

/// Something the node is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Data {
    /// The node's status.
    Status,
    /// The directory.
    Directory,
    /// The report.
    Report,
    /// This group's constitution.
    Constitution,
    /// This group's plan.
    Plan,
    /// This group's meet-ups.
    Meetups,
    /// This group's members.
    Members,
    /// Another group's shared documents.
    Shared(GroupId),
    /// Requests to link waiting for the steward.
    LinkRequests,
}

/// An edit for the node to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Add a meet-up.
    AddMeetup(MeetupInput),
    /// Replace a meet-up's notes.
    SetNotes {
        /// The meet-up.
        id: ShortId,
        /// The notes the edit started from (a peer's changes since are
        /// merged in by the node).
        base: String,
        /// The notes.
        text: String,
    },
    /// Add a plan action.
    AddAction {
        /// What is to be done.
        title: String,
        /// A member id, a name, or part of one.
        owner: Option<String>,
        /// When it is due.
        due: Option<Date>,
    },
    /// Mark a plan action done.
    ActionDone(ShortId),
    /// Open a done plan action again.
    ActionReopen(ShortId),
    /// Change a plan action.
    EditAction {
        /// The action.
        id: ShortId,
        /// What changes.
        patch: ActionPatch,
    },
    /// Remove a plan action.
    RemoveAction(ShortId),
    /// Add a member.
    AddMember(MemberInput),
    /// Change a member's fields.
    EditMember {
        /// The member.
        id: ShortId,
        /// The fields to change.
        patch: MemberInput,
    },
    /// Remove a member and their contact details.
    RemoveMember(ShortId),
    /// Forget a member for good.
    ForgetMember(ShortId),
    /// Accept a group's request to link.
    AcceptLink(GroupId),
    /// Refuse a group's request to link.
    RefuseLink(GroupId),
}

impl Edit {
    /// What the edit changes, for reloading after it.
    pub fn reloads(&self) -> &'static [Data] {
        match self {
            Edit::AddMeetup(_) | Edit::SetNotes { .. } => &[Data::Meetups, Data::Status],
            Edit::AddAction { .. }
            | Edit::ActionDone(_)
            | Edit::ActionReopen(_)
            | Edit::EditAction { .. }
            | Edit::RemoveAction(_) => &[Data::Plan, Data::Status],
            Edit::AddMember(_)
            | Edit::EditMember { .. }
            | Edit::RemoveMember(_)
            | Edit::ForgetMember(_) => &[Data::Members, Data::Plan, Data::Status],
            Edit::AcceptLink(_) | Edit::RefuseLink(_) => {
                &[Data::LinkRequests, Data::Status, Data::Directory]
            }
        }
    }

    /// What it is, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Edit::AddMeetup(_) => "meet-up added",
            Edit::SetNotes { .. } => "notes saved",
            Edit::AddAction { .. } => "action added",
            Edit::ActionDone(_) => "action marked done (o reopens it)",
            Edit::ActionReopen(_) => "action open again",
            Edit::EditAction { .. } => "action changed",
            Edit::RemoveAction(_) => "action removed",
            Edit::AddMember(_) => "member added",
            Edit::EditMember { .. } => "member changed",
            Edit::RemoveMember(_) => "member removed",
            Edit::ForgetMember(_) => "member forgotten",
            Edit::AcceptLink(_) => "linked",
            Edit::RefuseLink(_) => "request refused",
        }
    }
}

/// What the runtime does for `update`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// Ask the node for something; the answer comes back as
    /// [`Msg::Loaded`].
    Load(Data),
    /// Make an edit; the outcome comes back as [`Msg::Edited`].
    Edit(Edit),
    /// Open a meet-up's notes in `$EDITOR`; the text comes back as
    /// [`Msg::EditorClosed`].
    OpenEditor {
        /// The meet-up.
        id: ShortId,
        /// The notes now.
        text: String,
    },
}

/// A node's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// Status.
    Status(Box<NodeStatus>),
    /// The directory.
    Directory(Vec<DirectoryEntry>),
    /// The report.
    Report(Box<NetworkReport>),
    /// The constitution.
    Constitution(Box<Constitution>),
    /// The plan.
    Plan(Box<PlanView>),
    /// Meet-ups.
    Meetups(Vec<Meetup>),
    /// Members.
    Members(Vec<MemberView>),
    /// Another group's documents.
    Shared(Box<SharedDocs>),
    /// Requests to link.
    LinkRequests(Vec<LinkRequestView>),
}

/// Something that happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse did something.
    Mouse(MouseEvent),
    /// Text was pasted.
    Paste(String),
    /// The terminal was resized.
    Resize(u16, u16),
    /// A second passed: the clock for "seconds ago".
    Tick {
        /// Today.
        today: Date,
        /// Now, in seconds since the Unix epoch.
        now: u64,
    },
    /// The node reported an event.
    Node(Event),
    /// The node's event stream ended.
    NodeGone(String),
    /// The node answered a [`Cmd::Load`].
    Loaded(Data, Result<Payload, NodeError>),
    /// The node answered a [`Cmd::Edit`]; the text says what was done.
    Edited(Edit, Result<String, NodeError>),
    /// `$EDITOR` closed: the new text (`None` if unchanged), or why it
    /// failed.
    EditorClosed {
        /// The meet-up.
        id: ShortId,
        /// The notes the editor was given.
        base: String,
        /// The outcome.
        result: Result<Option<String>, String>,
    },
}

/// Everything to load when the UI starts or after it missed events.
pub fn load_all(model: &Model) -> Vec<Cmd> {
    let mut cmds: Vec<Cmd> = [
        Data::Status,
        Data::Directory,
        Data::Report,
        Data::Constitution,
        Data::Plan,
        Data::Meetups,
        Data::Members,
        Data::LinkRequests,
    ]
    .into_iter()
    .map(Cmd::Load)
    .collect();
    if let Target::Other(g) = model.target {
        cmds.push(Cmd::Load(Data::Shared(g)));
    }
    cmds
}

/// Applies `msg` to `model` and says what to do next.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(model, key),
        Msg::Key(_) => Vec::new(),
        Msg::Mouse(m) => on_mouse(model, m),
        Msg::Paste(text) => {
            on_paste(model, &text);
            Vec::new()
        }
        Msg::Resize(w, h) => {
            model.size = (w, h);
            model.refilter();
            Vec::new()
        }
        Msg::Tick { today, now } => {
            model.today = today;
            model.now = now;
            vec![Cmd::Load(Data::Status)]
        }
        Msg::Node(event) => on_event(model, event),
        Msg::NodeGone(why) => {
            model.node_error = Some(why);
            Vec::new()
        }
        Msg::Loaded(data, result) => {
            on_loaded(model, data, result);
            Vec::new()
        }
        Msg::Edited(edit, result) => on_edited(model, edit, result),
        Msg::EditorClosed { id, base, result } => match result {
            Ok(Some(text)) => vec![Cmd::Edit(Edit::SetNotes { id, base, text })],
            Ok(None) => {
                model.flash = Some((Level::Info, "notes unchanged".into()));
                Vec::new()
            }
            Err(e) => {
                model.flash = Some((Level::Error, format!("editor: {e}")));
                Vec::new()
            }
        },
    }
}

fn on_event(model: &mut Model, event: Event) -> Vec<Cmd> {
    let own = model.own_group();
    let mut cmds = vec![Cmd::Load(Data::Status)];
    match event {
        Event::DocChanged { group, kind } => {
            if Some(group) == own {
                let data = match kind {
                    DocKind::Constitution => vec![Data::Constitution],
                    DocKind::Plan => vec![Data::Plan],
                    DocKind::Meetups => vec![Data::Meetups],
                    // Owners of plan actions are on the roster.
                    DocKind::Roster | DocKind::Contacts => vec![Data::Members, Data::Plan],
                    // A new role may open or close the roster.
                    DocKind::Devices => vec![Data::Members],
                };
                cmds.extend(data.into_iter().map(Cmd::Load));
            }
            if model.target == Target::Other(group) {
                cmds.push(Cmd::Load(Data::Shared(group)));
            }
        }
        Event::RecordReceived { what, .. } => {
            cmds.push(Cmd::Load(Data::Directory));
            cmds.push(Cmd::Load(Data::Report));
            if what == "link request" {
                cmds.push(Cmd::Load(Data::LinkRequests));
            }
        }
        Event::PeerConnected { .. } | Event::PeerDisconnected { .. } => {}
        Event::Lagged { .. } => cmds = load_all(model),
    }
    cmds
}

fn loaded<T>(result: Result<T, NodeError>) -> Loaded<T> {
    match result {
        Ok(t) => Loaded::Ready(t),
        Err(e) => Loaded::Failed(e.to_string()),
    }
}

/// Stores a node's answer, except that a node that cannot be reached does
/// not wipe what is shown: the last answer stays (and the user's place in
/// it), and the status line says the node is unreachable.
fn store<T>(slot: &mut Loaded<T>, result: Result<T, NodeError>) {
    if result.as_ref().is_err_and(NodeError::is_unavailable) && slot.ready().is_some() {
        return;
    }
    *slot = loaded(result);
}

/// Keeps the plan's selection inside the plan shown (this group's or
/// another's).
fn clamp_actions(model: &mut Model) {
    let n = plan_actions(model).len();
    let page = plan_page(model);
    model.action_pos.keep_visible(n, page);
}

fn on_loaded(model: &mut Model, data: Data, result: Result<Payload, NodeError>) {
    if let Err(e) = &result
        && e.is_unavailable()
    {
        model.node_error = Some(e.message().to_owned());
    } else if data == Data::Status {
        model.node_error = None;
    }
    // An answer of the wrong shape cannot happen with the runtime; drop it.
    match (data, result) {
        (Data::Status, r) => {
            if let Err(e) = &r
                && model.status.ready().is_some()
            {
                // Keep showing the last status; the status line says why.
                model.node_error = Some(e.message().to_owned());
                return;
            }
            model.status = loaded(r.and_then(|p| match p {
                Payload::Status(s) => Ok(*s),
                _ => Err(mismatch()),
            }));
            if !model.tabs().contains(&model.tab) {
                model.tab = Tab::Constitution;
                model.filtering = false;
            }
            if model.sort.0 == SortKey::Link {
                // Connections changed the order.
                model.refilter();
            }
            let n = model.peers().len();
            let page = model.page(Screen::Sync) / 2;
            model.peer_pos.keep_visible(n, page);
            let n = model.status.ready().map_or(0, |s| s.documents.len());
            model.doc_pos.keep_visible(n, page);
        }
        (Data::Directory, r) => {
            let (group, member) = (model.selected_group(), model.selected_member());
            store(
                &mut model.directory,
                r.and_then(|p| match p {
                    Payload::Directory(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            model.refilter_keeping(group, member);
        }
        (Data::Report, r) => {
            store(
                &mut model.report,
                r.and_then(|p| match p {
                    Payload::Report(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
        }
        (Data::Constitution, r) => {
            store(
                &mut model.constitution,
                r.and_then(|p| match p {
                    Payload::Constitution(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
        }
        (Data::Plan, r) => {
            store(
                &mut model.plan,
                r.and_then(|p| match p {
                    Payload::Plan(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
            clamp_actions(model);
        }
        (Data::Meetups, r) => {
            let keep = model
                .meetups
                .ready()
                .and_then(|m| m.get(model.meetup_pos.selected))
                .map(|m| m.id.clone());
            store(
                &mut model.meetups,
                r.and_then(|p| match p {
                    Payload::Meetups(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            if let (Some(id), Some(list)) = (keep, model.meetups.ready())
                && let Some(i) = list.iter().position(|m| m.id == id)
            {
                model.meetup_pos.selected = i;
            }
            let n = model.meetups.ready().map_or(0, Vec::len);
            let page = model.page(Screen::Group);
            model.meetup_pos.keep_visible(n, page);
        }
        (Data::Members, r) => {
            let (group, member) = (model.selected_group(), model.selected_member());
            store(
                &mut model.members,
                r.and_then(|p| match p {
                    Payload::Members(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            model.refilter_keeping(group, member);
        }
        (Data::LinkRequests, r) => {
            store(
                &mut model.link_requests,
                r.and_then(|p| match p {
                    Payload::LinkRequests(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            let n = model.requests().len();
            model.request_pos.keep_visible(n, REQUESTS_SHOWN);
            if n == 0 && model.sync_pane == SyncPane::Requests {
                model.sync_pane = SyncPane::Peers;
            }
        }
        (Data::Shared(g), r) => {
            if model.target == Target::Other(g) {
                store(
                    &mut model.shared,
                    r.and_then(|p| match p {
                        Payload::Shared(d) => Ok(*d),
                        _ => Err(mismatch()),
                    }),
                );
                clamp_actions(model);
            }
        }
    }
}

fn mismatch() -> NodeError {
    NodeError::Unreachable("the node answered with something else".into())
}

fn on_edited(model: &mut Model, edit: Edit, result: Result<String, NodeError>) -> Vec<Cmd> {
    // Only a form or editor waiting for its own answer is closed or told:
    // one opened since (after `d`, or after saving from `$EDITOR`) is not.
    let waiting = match &mut model.overlay {
        Some(Overlay::Form(_, f)) if f.saving => Some(&mut model.overlay),
        Some(Overlay::Notes(n)) if n.saving => Some(&mut model.overlay),
        _ => None,
    };
    match result {
        Ok(what) => {
            // Durable now: close whatever asked for it.
            if let Some(o) = waiting {
                *o = None;
            }
            model.flash = Some((Level::Info, what));
            edit.reloads().iter().map(|d| Cmd::Load(*d)).collect()
        }
        Err(e) => {
            let message = match &e {
                NodeError::Refused {
                    code: ErrorCode::Unavailable,
                    message,
                } => format!("node unavailable: {message}"),
                NodeError::Refused { message, .. } => format!("refused: {message}"),
                NodeError::Unreachable(_) => e.to_string(),
            };
            // What the edit was about is gone or changed since it was shown
            // (another device removed the member, edited the notes): shown
            // afresh, beside the reason.
            let stale = matches!(
                e,
                NodeError::Refused {
                    code: ErrorCode::NotFound | ErrorCode::Conflict,
                    ..
                }
            );
            let reload: Vec<Cmd> = if stale {
                edit.reloads().iter().map(|d| Cmd::Load(*d)).collect()
            } else {
                Vec::new()
            };
            match waiting.and_then(|o| o.as_mut()) {
                Some(Overlay::Form(_, form)) => {
                    form.saving = false;
                    form.error = Some(message.clone());
                }
                Some(Overlay::Notes(n)) => {
                    n.saving = false;
                    n.error = Some(message.clone());
                }
                _ => {
                    // Notes written in `$EDITOR` that could not be saved are
                    // not thrown away: they open in the editor here, with
                    // the reason, for Ctrl-S to try again.
                    if let Edit::SetNotes { id, base, text } = &edit
                        && model.overlay.is_none()
                    {
                        let mut n = notes_editor(model, id, base);
                        n.area = TextArea::new(text);
                        n.error = Some(message.clone());
                        n.from_editor = true;
                        model.overlay = Some(Overlay::Notes(n));
                    }
                }
            }
            model.flash = Some((Level::Error, message));
            reload
        }
    }
}

/// An editor for meet-up `id`'s notes starting from `base`.
fn notes_editor(model: &Model, id: &ShortId, base: &str) -> NotesEditor {
    let title = model
        .meetups
        .ready()
        .and_then(|l| l.iter().find(|m| m.id == *id))
        .map_or_else(
            || format!("Notes of {id}"),
            |m| format!("Notes: {} at {}", m.date, m.place),
        );
    NotesEditor {
        meetup: id.clone(),
        title,
        base: base.to_string(),
        area: TextArea::new(base),
        confirm_discard: false,
        quit_on_discard: false,
        from_editor: false,
        saving: false,
        error: None,
    }
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    if ctrl(&key, 'c') {
        // Unsaved notes are asked about first, as Esc does.
        if let Some(Overlay::Notes(n)) = &mut model.overlay
            && n.unsaved()
            && !n.saving
        {
            n.confirm_discard = true;
            n.quit_on_discard = true;
            return Vec::new();
        }
        model.quit = true;
        return Vec::new();
    }
    if model.overlay.is_some() {
        return on_overlay_key(model, key);
    }
    if model.filtering {
        on_filter_key(model, key);
        return Vec::new();
    }
    model.flash = None;
    match key.code {
        KeyCode::Char('?') => {
            model.overlay = Some(Overlay::Help);
            return Vec::new();
        }
        KeyCode::Char('q') | KeyCode::Esc => {
            back(model);
            return Vec::new();
        }
        KeyCode::Char(c @ '1'..='4') => {
            let i = usize::from(c as u8 - b'1');
            if let Some(s) = Screen::ALL.get(i) {
                model.screen = *s;
                if *s == Screen::Group {
                    model.target = Target::Own;
                    if !model.tabs().contains(&model.tab) {
                        model.tab = Tab::Constitution;
                    }
                    clamp_actions(model);
                }
            }
            return Vec::new();
        }
        _ => {}
    }
    match model.screen {
        Screen::Network => network_key(model, key),
        Screen::Group => group_key(model, key),
        Screen::Dashboard => {
            let n = model.report.ready().map_or(0, |r| r.by_area.len());
            let page = dashboard_table_page(model);
            if let Some(d) = movement(&key, page) {
                model.area_pos.move_by(d, n, page);
            }
            Vec::new()
        }
        Screen::Sync => {
            match key.code {
                KeyCode::Tab | KeyCode::BackTab => {
                    let panes = model.sync_panes();
                    let i = panes
                        .iter()
                        .position(|p| *p == model.sync_pane)
                        .unwrap_or(0);
                    let n = panes.len();
                    let next = if key.code == KeyCode::Tab {
                        i + 1
                    } else {
                        i + n - 1
                    };
                    model.sync_pane = panes[next % n];
                }
                KeyCode::Char(c @ ('a' | 'x')) if model.sync_pane == SyncPane::Requests => {
                    if let Some(r) = model.requests().get(model.request_pos.selected) {
                        let g = r.group;
                        return vec![Cmd::Edit(if c == 'a' {
                            Edit::AcceptLink(g)
                        } else {
                            Edit::RefuseLink(g)
                        })];
                    }
                }
                _ => {
                    let page = model.page(Screen::Sync) / 2;
                    if let Some(d) = movement(&key, page) {
                        match model.sync_pane {
                            SyncPane::Requests => {
                                let n = model.requests().len();
                                model.request_pos.move_by(d, n, REQUESTS_SHOWN);
                            }
                            SyncPane::Peers => {
                                let n = model.peers().len();
                                model.peer_pos.move_by(d, n, page);
                            }
                            SyncPane::Documents => {
                                let n = model.status.ready().map_or(0, |s| s.documents.len());
                                model.doc_pos.move_by(d, n, page);
                            }
                        }
                    }
                }
            }
            Vec::new()
        }
    }
}

/// `q`/`Esc`: clear a filter, leave another group's screen, go back to
/// the network screen, or quit from there.
fn back(model: &mut Model) {
    match model.screen {
        Screen::Network if !model.network_filter.is_empty() => {
            model.network_filter.clear();
            model.refilter();
        }
        Screen::Group if model.tab == Tab::Members && !model.member_filter.is_empty() => {
            model.member_filter.clear();
            model.refilter();
        }
        Screen::Network => model.quit = true,
        Screen::Group if matches!(model.target, Target::Other(_)) => {
            model.target = Target::Own;
            model.shared = Loaded::Loading;
            model.screen = Screen::Network;
            clamp_actions(model);
        }
        _ => model.screen = Screen::Network,
    }
}

/// Up/down movement keys as a row delta for a list of `page` rows.
fn movement(key: &KeyEvent, page: usize) -> Option<isize> {
    let page = page.max(1) as isize;
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => -1,
        KeyCode::Down | KeyCode::Char('j') => 1,
        KeyCode::PageUp => -page,
        KeyCode::PageDown => page,
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => -page / 2,
        KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) => page / 2,
        KeyCode::Home | KeyCode::Char('g') => isize::MIN / 2,
        KeyCode::End | KeyCode::Char('G') => isize::MAX / 2,
        _ => return None,
    })
}

fn network_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let page = model.page(Screen::Network);
    if let Some(d) = movement(&key, page) {
        model.network_pos.move_by(d, model.network_rows.len(), page);
        return Vec::new();
    }
    match key.code {
        KeyCode::Char('/') => model.filtering = true,
        KeyCode::Char('s') => {
            let i = SortKey::ALL
                .iter()
                .position(|k| *k == model.sort.0)
                .unwrap_or(0);
            model.sort.0 = SortKey::ALL[(i + 1) % SortKey::ALL.len()];
            model.refilter();
        }
        KeyCode::Char('S') => {
            model.sort.1 = !model.sort.1;
            model.refilter();
        }
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
            if let Some(e) = model.network_entry(model.network_pos.selected) {
                let group = e.group;
                return open_group(model, group);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Opens the group screen on `group`: this device's own, or another.
pub fn open_group(model: &mut Model, group: GroupId) -> Vec<Cmd> {
    model.screen = Screen::Group;
    if model.own_group() == Some(group) {
        model.target = Target::Own;
        if !model.tabs().contains(&model.tab) {
            model.tab = Tab::Constitution;
        }
        clamp_actions(model);
        return Vec::new();
    }
    if model.target != Target::Other(group) {
        model.shared = Loaded::Loading;
        model.constitution_scroll = 0;
        model.action_pos = ListPos::default();
    }
    model.target = Target::Other(group);
    if !model.tabs().contains(&model.tab) {
        model.tab = Tab::Constitution;
    }
    vec![Cmd::Load(Data::Shared(group))]
}

fn switch_tab(model: &mut Model, forward: bool) {
    let tabs = model.tabs();
    let i = tabs.iter().position(|t| *t == model.tab).unwrap_or(0);
    let n = tabs.len();
    model.tab = tabs[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
}

fn group_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    match key.code {
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            switch_tab(model, true);
            return Vec::new();
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            switch_tab(model, false);
            return Vec::new();
        }
        _ => {}
    }
    let own = model.target == Target::Own;
    let page = model.page(Screen::Group);
    match model.tab {
        Tab::Constitution => {
            if let Some(d) = movement(&key, page) {
                scroll_constitution(model, d);
            }
        }
        Tab::Plan => {
            let n = plan_actions(model).len();
            let page = plan_page(model);
            if let Some(d) = movement(&key, page) {
                model.action_pos.move_by(d, n, page);
            } else if key.code == KeyCode::Char('a') {
                if !own {
                    return not_yours(model, "add actions to");
                }
                model.overlay = Some(Overlay::Form(FormKind::Action, action_form()));
            } else if matches!(key.code, KeyCode::Char('d' | 'x') | KeyCode::Enter) {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                match actions.get(model.action_pos.selected) {
                    Some(a) if a.status == ActionStatus::Done => {
                        model.flash = Some((
                            Level::Info,
                            format!("“{}” is already done (o reopens it)", a.title),
                        ));
                    }
                    Some(a) => return vec![Cmd::Edit(Edit::ActionDone(a.id.clone()))],
                    None => model.flash = Some((Level::Error, "no action selected".into())),
                }
            } else if matches!(key.code, KeyCode::Char('e' | 'r')) {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                let Some(a) = actions.get(model.action_pos.selected).cloned() else {
                    model.flash = Some((Level::Error, "no action selected".into()));
                    return Vec::new();
                };
                if key.code == KeyCode::Char('e') {
                    let owner = model
                        .plan
                        .ready()
                        .and_then(|p| p.owners.get(a.id.as_str()))
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    model.overlay = Some(Overlay::Form(
                        FormKind::EditAction(a.id.clone()),
                        Form::new(
                            "Change action",
                            &[
                                ("Title", "what is to be done", &a.title),
                                (
                                    "Owner",
                                    "a member's name, part of it, or id; empty for none",
                                    &owner,
                                ),
                                (
                                    "Due",
                                    "YYYY-MM-DD; empty for none",
                                    &a.due.map(|d| d.to_string()).unwrap_or_default(),
                                ),
                            ],
                        ),
                    ));
                } else {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!("Remove the action “{}” from the plan?", a.title),
                        edit: Edit::RemoveAction(a.id.clone()),
                    });
                }
            } else if key.code == KeyCode::Char('o') {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                match actions.get(model.action_pos.selected) {
                    Some(a) if a.status == ActionStatus::Done => {
                        return vec![Cmd::Edit(Edit::ActionReopen(a.id.clone()))];
                    }
                    Some(a) => {
                        model.flash = Some((Level::Info, format!("“{}” is still open", a.title)));
                    }
                    None => model.flash = Some((Level::Error, "no action selected".into())),
                }
            }
        }
        Tab::Meetups => {
            let n = model.meetups.ready().map_or(0, Vec::len);
            if let Some(d) = movement(&key, page) {
                let before = model.meetup_pos.selected;
                model.meetup_pos.move_by(d, n, page);
                if model.meetup_pos.selected != before {
                    model.meetup_scroll = 0;
                }
                return Vec::new();
            }
            match key.code {
                KeyCode::Char('J') => model.meetup_scroll = model.meetup_scroll.saturating_add(1),
                KeyCode::Char('K') => model.meetup_scroll = model.meetup_scroll.saturating_sub(1),
                KeyCode::Char('a') => {
                    model.overlay = Some(Overlay::Form(FormKind::Meetup, meetup_form(model.today)));
                }
                KeyCode::Char('e') | KeyCode::Enter | KeyCode::Char('E') => {
                    let Some(m) = model
                        .meetups
                        .ready()
                        .and_then(|m| m.get(model.meetup_pos.selected))
                    else {
                        model.flash =
                            Some((Level::Error, "no meet-up selected: add one with a".into()));
                        return Vec::new();
                    };
                    let text = m.notes.as_str().to_string();
                    if key.code == KeyCode::Char('E') {
                        return vec![Cmd::OpenEditor {
                            id: m.id.clone(),
                            text,
                        }];
                    }
                    let id = m.id.clone();
                    model.overlay = Some(Overlay::Notes(notes_editor(model, &id, &text)));
                }
                _ => {}
            }
        }
        Tab::Members => {
            let n = model.member_rows.len();
            if let Some(d) = movement(&key, page) {
                model.member_pos.move_by(d, n, page);
                return Vec::new();
            }
            match key.code {
                KeyCode::Char('/') => model.filtering = true,
                KeyCode::Char('a') => {
                    model.overlay = Some(Overlay::Form(FormKind::Member, member_form()));
                }
                KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => {
                    match model.member(model.member_pos.selected) {
                        Some(m) => model.overlay = Some(Overlay::Member(m.id.clone())),
                        None => model.flash = Some((Level::Error, "no member selected".into())),
                    }
                }
                _ => {}
            }
        }
    }
    Vec::new()
}

fn not_yours(model: &mut Model, verb: &str) -> Vec<Cmd> {
    let name = model.target_name();
    model.flash = Some((
        Level::Error,
        format!("only {name}'s own devices can {verb} its plan"),
    ));
    Vec::new()
}

/// The plan actions shown: this group's, or the shared plan's.
pub fn plan_actions(model: &Model) -> &[groundwork_protocol::schema::Action] {
    match model.target {
        Target::Own => model.plan.ready().map_or(&[], |p| &p.plan.actions),
        Target::Other(_) => model
            .shared
            .ready()
            .and_then(|s| s.plan.as_ref())
            .map_or(&[], |p| &p.actions),
    }
}

/// Rows the actions table has: the plan screen gives the vision and goals
/// their space first.
pub fn plan_page(model: &Model) -> usize {
    model.page(Screen::Group).saturating_sub(8).max(1)
}

/// Rows of the area table on the dashboard.
pub fn dashboard_table_page(model: &Model) -> usize {
    // Figures (4) and charts (8) above it, header and borders (3).
    usize::from(model.size.1)
        .saturating_sub(2 + 4 + 8 + 3)
        .max(1)
}

/// Scrolls the constitution by `delta` rows, stopping with its last row at
/// the bottom of the tab (wrapped lines counted at the terminal's width).
fn scroll_constitution(model: &mut Model, delta: isize) {
    let rows = crate::view::group::constitution_rows(model);
    let max = rows.saturating_sub(crate::view::group::constitution_visible(model));
    let s = i64::from(model.constitution_scroll) + delta as i64;
    model.constitution_scroll = s.clamp(0, max.min(usize::from(u16::MAX)) as i64) as u16;
}

fn meetup_form(today: Date) -> Form {
    Form::new(
        "New meet-up",
        &[
            ("Date", "YYYY-MM-DD", &today.to_string()),
            ("Place", "where it is", ""),
            ("Agenda", "optional", ""),
        ],
    )
}

fn action_form() -> Form {
    Form::new(
        "New plan action",
        &[
            ("Title", "what is to be done", ""),
            ("Owner", "optional: a member's name, part of it, or id", ""),
            ("Due", "optional: YYYY-MM-DD", ""),
        ],
    )
}

fn member_form() -> Form {
    Form::new(
        "New member",
        &[
            ("Name", "full name", ""),
            ("Kind", "professional, activist or observer", "activist"),
            ("Email", "optional", ""),
            ("Phone", "optional", ""),
            ("Consent", "may we contact them? yes or no", "no"),
        ],
    )
    .choice("Kind", &["professional", "activist", "observer"])
    .choice("Consent", &["no", "yes"])
}

/// The form that changes member `m`, filled with what is recorded.
fn edit_member_form(m: &MemberView) -> Form {
    let c = m.contact.as_ref();
    Form::new(
        "Change member",
        &[
            ("Name", "full name", &m.member.name),
            ("Kind", "", m.member.kind.name()),
            (
                "Email",
                "optional",
                c.and_then(|c| c.email.as_deref()).unwrap_or(""),
            ),
            (
                "Phone",
                "optional",
                c.and_then(|c| c.phone.as_deref()).unwrap_or(""),
            ),
            (
                "Consent",
                "",
                if c.is_some_and(|c| c.consent_to_contact) {
                    "yes"
                } else {
                    "no"
                },
            ),
        ],
    )
    .choice("Kind", &["professional", "activist", "observer"])
    .choice("Consent", &["no", "yes"])
}

fn optional_date(text: &str, what: &str) -> Result<Option<Date>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Date>()
        .map(Some)
        .map_err(|_| format!("{what} must be a date like 2026-03-01, not “{text}”"))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Checks a form and turns it into an edit, or says what is wrong.
fn form_edit(kind: &FormKind, form: &Form) -> Result<Edit, String> {
    match kind {
        FormKind::Meetup => {
            let date =
                optional_date(form.value("Date"), "the date")?.ok_or("a meet-up needs a date")?;
            let place = form.value("Place");
            if place.is_empty() {
                return Err("a meet-up needs a place".into());
            }
            Ok(Edit::AddMeetup(MeetupInput {
                date,
                place: place.to_string(),
                agenda: optional(form.value("Agenda")),
                attendance: None,
            }))
        }
        FormKind::EditAction(id) => {
            let title = form.value("Title");
            if title.is_empty() {
                return Err("an action needs a title".into());
            }
            let owner = optional(form.value("Owner"));
            let due = optional_date(form.value("Due"), "the due date")?;
            Ok(Edit::EditAction {
                id: id.clone(),
                patch: ActionPatch {
                    title: Some(title.to_string()),
                    clear_due: due.is_none(),
                    due,
                    clear_owner: owner.is_none(),
                    owner,
                },
            })
        }
        FormKind::Action => {
            let title = form.value("Title");
            if title.is_empty() {
                return Err("an action needs a title".into());
            }
            Ok(Edit::AddAction {
                title: title.to_string(),
                owner: optional(form.value("Owner")),
                due: optional_date(form.value("Due"), "the due date")?,
            })
        }
        kind_of_form @ (FormKind::Member | FormKind::EditMember(_)) => {
            let name = form.value("Name");
            if name.is_empty() {
                return Err("a member needs a name".into());
            }
            let kind: MemberKind = form.value("Kind").to_lowercase().parse().map_err(|_| {
                format!(
                    "kind must be professional, activist or observer, not “{}”",
                    form.value("Kind")
                )
            })?;
            let consent = match form.value("Consent").to_lowercase().as_str() {
                "y" | "yes" => true,
                "n" | "no" | "" => false,
                other => return Err(format!("consent must be yes or no, not “{other}”")),
            };
            let input = MemberInput {
                name: Some(name.to_string()),
                kind: Some(kind),
                email: optional(form.value("Email")),
                phone: optional(form.value("Phone")),
                consent_to_contact: Some(consent),
                ..Default::default()
            };
            Ok(match kind_of_form {
                FormKind::EditMember(id) => Edit::EditMember {
                    id: id.clone(),
                    patch: input,
                },
                _ => Edit::AddMember(input),
            })
        }
    }
}

/// The notes editor's text area size for the current terminal: the
/// overlay's inside.
pub fn notes_area_size(model: &Model) -> (u16, u16) {
    let (w, h) = model.size;
    let (ow, oh) = overlay_size(w, h);
    // Borders (2), and the title/help lines (2).
    (ow.saturating_sub(2), oh.saturating_sub(4))
}

/// The size of a large overlay on a `w`×`h` terminal.
pub fn overlay_size(w: u16, h: u16) -> (u16, u16) {
    let ow = if w > 100 {
        w * 3 / 4
    } else {
        w.saturating_sub(4)
    };
    let oh = if h > 30 {
        h * 3 / 4
    } else {
        h.saturating_sub(2)
    };
    (ow, oh)
}

fn on_overlay_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let (width, height) = notes_area_size(model);
    let Some(overlay) = model.overlay.as_mut() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Help => {
            if matches!(
                key.code,
                KeyCode::Char('?' | 'q') | KeyCode::Esc | KeyCode::Enter
            ) {
                model.overlay = None;
            }
        }
        Overlay::Message { .. } => {
            if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc | KeyCode::Enter) {
                model.overlay = None;
            }
        }
        Overlay::Member(id) => {
            let id = id.clone();
            let member = model
                .members
                .ready()
                .and_then(|all| all.iter().find(|m| m.id == id))
                .cloned();
            let Some(m) = member else {
                model.overlay = None;
                model.flash = Some((Level::Info, "that member is no longer on the roster".into()));
                return Vec::new();
            };
            match key.code {
                KeyCode::Char('q' | 'h') | KeyCode::Esc | KeyCode::Left => model.overlay = None,
                KeyCode::Char('e') | KeyCode::Enter => {
                    model.overlay = Some(Overlay::Form(
                        FormKind::EditMember(id),
                        edit_member_form(&m),
                    ));
                }
                KeyCode::Char('r') => {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!(
                            "Remove {} from the roster, with their contact details? \
                             Their past stays in the history until they are forgotten (f).",
                            m.member.name
                        ),
                        edit: Edit::RemoveMember(id),
                    });
                }
                KeyCode::Char('f') => {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!(
                            "Forget {} for good? Every device drops their record and its \
                             history as it switches. This cannot be undone.",
                            m.member.name
                        ),
                        edit: Edit::ForgetMember(id),
                    });
                }
                _ => {}
            }
        }
        Overlay::Confirm { edit, .. } => match key.code {
            KeyCode::Char('y' | 'Y') => {
                let edit = edit.clone();
                model.overlay = None;
                return vec![Cmd::Edit(edit)];
            }
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                model.overlay = None;
                model.flash = Some((Level::Info, "nothing changed".into()));
            }
            _ => {}
        },
        Overlay::Form(kind, form) => {
            if form.saving {
                return Vec::new();
            }
            match form.input(key) {
                FormKey::Cancel => model.overlay = None,
                FormKey::Submit => match form_edit(kind, form) {
                    Ok(edit) => {
                        form.saving = true;
                        form.error = None;
                        return vec![Cmd::Edit(edit)];
                    }
                    Err(e) => form.error = Some(e),
                },
                FormKey::Handled | FormKey::Ignored => {}
            }
        }
        Overlay::Notes(n) => {
            if n.saving {
                return Vec::new();
            }
            if n.confirm_discard {
                match key.code {
                    KeyCode::Char('y') => {
                        model.quit = n.quit_on_discard;
                        model.overlay = None;
                    }
                    _ => {
                        n.confirm_discard = false;
                        n.quit_on_discard = false;
                    }
                }
                return Vec::new();
            }
            if ctrl(&key, 's') {
                if !n.unsaved() {
                    model.overlay = None;
                    model.flash = Some((Level::Info, "notes unchanged".into()));
                    return Vec::new();
                }
                n.saving = true;
                n.error = None;
                return vec![Cmd::Edit(Edit::SetNotes {
                    id: n.meetup.clone(),
                    base: n.base.clone(),
                    text: n.area.text(),
                })];
            }
            if key.code == KeyCode::Esc {
                if n.unsaved() {
                    n.confirm_discard = true;
                } else {
                    model.overlay = None;
                }
                return Vec::new();
            }
            n.area.input(key, height, width);
        }
    }
    Vec::new()
}

fn on_filter_key(model: &mut Model, key: KeyEvent) {
    let members = model.screen == Screen::Group && model.tab == Tab::Members;
    let filter = if members {
        &mut model.member_filter
    } else {
        &mut model.network_filter
    };
    match key.code {
        KeyCode::Enter => model.filtering = false,
        KeyCode::Esc => {
            filter.clear();
            model.filtering = false;
        }
        KeyCode::Backspace => {
            filter.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.push(c),
        _ => return,
    }
    if members {
        model.member_pos = ListPos::default();
    } else {
        model.network_pos = ListPos::default();
    }
    model.refilter();
}

fn on_paste(model: &mut Model, text: &str) {
    let (width, height) = notes_area_size(model);
    match model.overlay.as_mut() {
        Some(Overlay::Notes(n)) if !n.saving && !n.confirm_discard => {
            n.area.insert_str(text, height, width)
        }
        Some(Overlay::Form(_, f)) if !f.saving => {
            for c in text.chars().filter(|c| !c.is_control()) {
                f.input(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
        }
        _ => {}
    }
}

fn on_mouse(model: &mut Model, m: MouseEvent) -> Vec<Cmd> {
    let delta: isize = match m.kind {
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::ScrollDown => 3,
        _ => return Vec::new(),
    };
    let (_, height) = notes_area_size(model);
    if let Some(Overlay::Notes(n)) = model.overlay.as_mut() {
        n.area.scroll(delta, height);
        return Vec::new();
    }
    if model.overlay.is_some() {
        return Vec::new();
    }
    let page = model.page(model.screen);
    match model.screen {
        Screen::Network => model
            .network_pos
            .move_by(delta, model.network_rows.len(), page),
        Screen::Dashboard => {
            let n = model.report.ready().map_or(0, |r| r.by_area.len());
            let page = dashboard_table_page(model);
            model.area_pos.move_by(delta, n, page)
        }
        Screen::Sync => {
            let page = page / 2;
            match model.sync_pane {
                SyncPane::Requests => {
                    let n = model.requests().len();
                    model.request_pos.move_by(delta, n, REQUESTS_SHOWN)
                }
                SyncPane::Peers => {
                    let n = model.peers().len();
                    model.peer_pos.move_by(delta, n, page)
                }
                SyncPane::Documents => {
                    let n = model.status.ready().map_or(0, |s| s.documents.len());
                    model.doc_pos.move_by(delta, n, page)
                }
            }
        }
        Screen::Group => match model.tab {
            Tab::Constitution => scroll_constitution(model, delta),
            Tab::Plan => {
                let n = plan_actions(model).len();
                model.action_pos.move_by(delta, n, plan_page(model))
            }
            Tab::Meetups => {
                let s = i64::from(model.meetup_scroll) + delta as i64;
                model.meetup_scroll = s.clamp(0, i64::from(u16::MAX)) as u16;
            }
            Tab::Members => model
                .member_pos
                .move_by(delta, model.member_rows.len(), page),
        },
    }
    Vec::new()
}

/// Every key of the current screen, for the help overlay: (keys, what they
/// do).
pub fn help(model: &Model) -> Vec<(&'static str, &'static str)> {
    let mut keys = vec![
        ("1 2 3 4", "Network, Group, Dashboard, Sync screens"),
        ("?", "this help (any of ? q Esc Enter closes it)"),
        ("q Esc", "back; quit from the network screen"),
        ("Ctrl-C", "quit (asks first about unsaved notes)"),
    ];
    let moves = (
        "↑↓ j k",
        "move; PgUp PgDn Ctrl-U Ctrl-D Home End g G, mouse wheel",
    );
    let own = model.target == Target::Own;
    match model.screen {
        Screen::Network => keys.extend([
            moves,
            (
                "/",
                "filter by name, area or kind (Enter keeps it, Esc clears it)",
            ),
            ("s", "sort by the next column"),
            ("S", "reverse the sort"),
            ("Enter → l", "open the group"),
        ]),
        Screen::Group => {
            keys.push(("Tab ← → h l", "previous or next tab"));
            match model.tab {
                Tab::Constitution => keys.push(("↑↓ j k PgUp PgDn", "scroll; mouse wheel")),
                Tab::Plan if own => keys.extend([
                    moves,
                    ("a", "add an action"),
                    ("d x Enter", "mark the selected action done"),
                    ("o", "open a done action again (undoes d)"),
                    ("e", "change the action: title, owner, due date"),
                    ("r", "remove the action (asks first)"),
                ]),
                Tab::Plan => keys.push(moves),
                Tab::Meetups => keys.extend([
                    ("↑↓ j k", "move; PgUp PgDn Ctrl-U Ctrl-D Home End g G"),
                    ("J K", "scroll the agenda and notes; mouse wheel"),
                    ("a", "add a meet-up"),
                    (
                        "e Enter",
                        "edit its notes here (Ctrl-S saves, Ctrl-Z undoes)",
                    ),
                    ("E", "edit its notes in $EDITOR"),
                ]),
                Tab::Members => keys.extend([
                    moves,
                    ("/", "filter by name, kind or email"),
                    ("a", "add a member"),
                    (
                        "Enter → l",
                        "the member's record: e edit, r remove, f forget",
                    ),
                ]),
            }
        }
        Screen::Dashboard => keys.push(("↑↓ j k", "scroll the table by area")),
        Screen::Sync => {
            keys.extend([
                moves,
                ("Tab", "switch between requests, peers and documents"),
            ]);
            if !model.requests().is_empty() {
                keys.extend([
                    (
                        "a",
                        "accept the selected request to link (a steward device)",
                    ),
                    ("x", "refuse the selected request to link"),
                ]);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests;
