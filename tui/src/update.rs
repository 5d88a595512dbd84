//! `update`: how a message changes the model, and what the runtime must do
//! next ([`Cmd`]). No terminal and no node here, so every key is tested as a
//! plain function call.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use groundwork_protocol::control::{
    ActionPatch, DirectoryEntry, ErrorCode, Event, LinkRequestView, MeetupInput, MeetupPatch,
    MemberInput, MemberView, NodeStatus, PlanView, SharedDocs,
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

mod edit;
mod forms;
mod group_keys;
mod help;
mod input;
mod loaded;
mod overlay;
pub use edit::Edit;
use forms::{
    action_form, edit_meetup_form, edit_member_form, form_edit, goal_form, meetup_form, member_form,
};
use group_keys::{group_key, not_yours};
pub use help::help;
use input::{on_filter_key, on_mouse, on_paste};
use loaded::{clamp_actions, on_loaded};
use overlay::on_overlay_key;
pub use overlay::{notes_area_size, overlay_size};

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

/// The plan's vision shown, if the plan is.
pub fn plan_vision(model: &Model) -> Option<&str> {
    match model.target {
        Target::Own => model.plan.ready().map(|p| p.plan.vision.as_str()),
        Target::Other(_) => model
            .shared
            .ready()
            .and_then(|s| s.plan.as_ref())
            .map(|p| p.vision.as_str()),
    }
}

/// The plan's goals shown: this group's, or the shared plan's.
pub fn plan_goals(model: &Model) -> &[groundwork_protocol::schema::Goal] {
    match model.target {
        Target::Own => model.plan.ready().map_or(&[], |p| &p.plan.goals),
        Target::Other(_) => model
            .shared
            .ready()
            .and_then(|s| s.plan.as_ref())
            .map_or(&[], |p| &p.goals),
    }
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

#[cfg(test)]
mod tests;
