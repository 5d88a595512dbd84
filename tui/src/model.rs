//! The model: everything the screen shows, and where the user is.
//!
//! It holds the node's answers as the node gave them, plus the derived,
//! filtered and sorted row orders ([`Model::refilter`]) so drawing a frame
//! never sorts 10,000 rows.

use std::collections::BTreeMap;

use groundwork_protocol::control::{
    DirectoryEntry, LinkRequestView, MemberView, NodeStatus, PeerStatus, PlanView, SharedDocs,
};
use groundwork_protocol::report::NetworkReport;
use groundwork_protocol::schema::{Constitution, Meetup, Role};
use groundwork_protocol::{Date, DocKind, GroupId};

use crate::form::Form;
use crate::textarea::TextArea;

/// The top-level screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Screen {
    /// The directory of groups.
    Network,
    /// One group's documents.
    Group,
    /// The network's figures.
    Dashboard,
    /// This device, its peers and documents.
    Sync,
}

impl Screen {
    /// All screens, in the order of their number keys.
    pub const ALL: [Screen; 4] = [
        Screen::Network,
        Screen::Group,
        Screen::Dashboard,
        Screen::Sync,
    ];

    /// The screen's title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Network => "Network",
            Screen::Group => "Group",
            Screen::Dashboard => "Dashboard",
            Screen::Sync => "Sync",
        }
    }
}

/// The tabs of the group screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// The constitution's text.
    Constitution,
    /// The Local Organising Plan.
    Plan,
    /// Meet-ups with agenda and notes.
    Meetups,
    /// The roster.
    Members,
}

impl Tab {
    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Constitution => "Constitution",
            Tab::Plan => "Plan",
            Tab::Meetups => "Meet-ups",
            Tab::Members => "Members",
        }
    }
}

/// Whose group the group screen shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// This device's own group.
    Own,
    /// Another group: only what it shares.
    Other(GroupId),
}

/// Which pane of the sync screen has the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPane {
    /// The requests to link waiting for this group's steward (shown only
    /// when there are some).
    Requests,
    /// The peers table.
    Peers,
    /// The documents table.
    Documents,
}

/// A position in a list: the selected row and the first row shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListPos {
    /// The selected row.
    pub selected: usize,
    /// The first visible row.
    pub offset: usize,
}

impl ListPos {
    /// Moves the selection by `delta` rows within `len`, scrolling the
    /// least needed to keep it in a view of `page` rows.
    pub fn move_by(&mut self, delta: isize, len: usize, page: usize) {
        if len == 0 {
            *self = ListPos::default();
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, len as isize - 1) as usize;
        self.keep_visible(len, page);
    }

    /// Selects row `i` (clamped).
    pub fn select(&mut self, i: usize, len: usize, page: usize) {
        self.selected = i.min(len.saturating_sub(1));
        self.keep_visible(len, page);
    }

    /// Clamps after the list changed length, keeping the offset where it
    /// can.
    pub fn keep_visible(&mut self, len: usize, page: usize) {
        if len == 0 {
            *self = ListPos::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        *self = self.shown(len, page);
    }

    /// The position as drawn in a view of `page` rows: the offset moved the
    /// least that keeps the selection visible (pure; for `view`).
    pub fn shown(self, len: usize, page: usize) -> ListPos {
        let page = page.max(1);
        let selected = self.selected.min(len.saturating_sub(1));
        let mut offset = self.offset.min(len.saturating_sub(page));
        if selected < offset {
            offset = selected;
        } else if selected >= offset + page {
            offset = selected + 1 - page;
        }
        ListPos { selected, offset }
    }
}

/// The directory's sort columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Group name.
    Name,
    /// Area.
    Area,
    /// Kind of group.
    Kind,
    /// Active members.
    Members,
    /// Established or forming.
    Established,
    /// Date of the newest summary.
    LastSeen,
    /// Link state.
    Link,
}

impl SortKey {
    /// The columns in table order.
    pub const ALL: [SortKey; 7] = [
        SortKey::Name,
        SortKey::Area,
        SortKey::Kind,
        SortKey::Members,
        SortKey::Established,
        SortKey::LastSeen,
        SortKey::Link,
    ];
}

/// How this node is connected to a group in the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Link {
    /// This device's own group.
    Own,
    /// A linked node of that group is connected now.
    Connected,
    /// Linked, not connected now.
    Linked,
    /// Known through the network's records only.
    Network,
}

impl Link {
    /// A few words for the table.
    pub fn label(self) -> &'static str {
        match self {
            Link::Own => "this group",
            Link::Connected => "connected",
            Link::Linked => "offline",
            Link::Network => "via network",
        }
    }

    /// Fewer words, for a narrow table.
    pub fn short(self) -> &'static str {
        match self {
            Link::Own => "own",
            Link::Network => "network",
            other => other.label(),
        }
    }
}

/// A form being filled in, and what it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormKind {
    /// A new meet-up.
    Meetup,
    /// A new plan action.
    Action,
    /// A new member.
    Member,
    /// Changing a member.
    EditMember(groundwork_protocol::ShortId),
    /// Changing a plan action.
    EditAction(groundwork_protocol::ShortId),
    /// Changing a meet-up's date, place, agenda (a one-line one) or
    /// attendance.
    EditMeetup(groundwork_protocol::ShortId),
    /// A new goal.
    Goal,
    /// Changing a goal.
    EditGoal(groundwork_protocol::ShortId),
}

/// Something drawn over the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Every key of the current screen.
    Help,
    /// A form for a new meet-up, action or member.
    Form(FormKind, Form),
    /// A meet-up's notes in the text area.
    Notes(NotesEditor),
    /// One member's record, with keys to edit, remove or forget them.
    Member(groundwork_protocol::ShortId),
    /// The plan's goals, the selected one's index: keys to add, change
    /// or remove one.
    Goals(usize),
    /// A question before an edit that cannot be undone: y makes it.
    Confirm {
        /// What is asked.
        prompt: String,
        /// The edit made on y.
        edit: crate::update::Edit,
    },
    /// A message to acknowledge.
    Message {
        /// The title.
        title: String,
        /// The text.
        text: String,
    },
}

/// Editing a meet-up's notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotesEditor {
    /// The meet-up.
    pub meetup: groundwork_protocol::ShortId,
    /// Its date and place, for the title.
    pub title: String,
    /// The notes when the editor opened: what the edit is a change of.
    pub base: String,
    /// The text being edited.
    pub area: TextArea,
    /// Asking whether to throw away the changes.
    pub confirm_discard: bool,
    /// Quit once they are thrown away (Ctrl-C asked).
    pub quit_on_discard: bool,
    /// Reopened after a save from `$EDITOR` failed: the text is unsaved
    /// even if it matches nothing here.
    pub from_editor: bool,
    /// Waiting for the node to store it.
    pub saving: bool,
    /// Why the last save failed.
    pub error: Option<String>,
}

impl NotesEditor {
    /// Whether there is text not yet stored.
    pub fn unsaved(&self) -> bool {
        self.from_editor || self.area.is_modified()
    }
}

/// How serious a status-line message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something done.
    Info,
    /// Something refused or failed.
    Error,
}

/// A value loaded from the node, or why it could not be.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Loaded<T> {
    /// Not asked for yet, or on its way.
    #[default]
    Loading,
    /// The node's answer.
    Ready(T),
    /// The node refused or could not be reached.
    Failed(String),
}

impl<T> Loaded<T> {
    /// The value, if loaded.
    pub fn ready(&self) -> Option<&T> {
        match self {
            Loaded::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// Everything the terminal UI shows.
#[derive(Clone, Debug)]
pub struct Model {
    /// The terminal's size (columns, rows).
    pub size: (u16, u16),
    /// Today, for "days ago".
    pub today: Date,
    /// Now, in seconds since the Unix epoch, for "seconds ago".
    pub now: u64,
    /// Whether to draw in colour (off under `NO_COLOR`).
    pub color: bool,
    /// The current screen.
    pub screen: Screen,
    /// The group screen's group.
    pub target: Target,
    /// The group screen's tab.
    pub tab: Tab,
    /// An overlay, if one is open.
    pub overlay: Option<Overlay>,
    /// The status line's message.
    pub flash: Option<(Level, String)>,
    /// Whether the node answered the last status request.
    pub node_error: Option<String>,
    /// Set once the user asked to quit.
    pub quit: bool,

    /// The node's status.
    pub status: Loaded<NodeStatus>,
    /// The directory.
    pub directory: Loaded<Vec<DirectoryEntry>>,
    /// The network's figures.
    pub report: Loaded<NetworkReport>,
    /// This group's constitution.
    pub constitution: Loaded<Constitution>,
    /// This group's plan.
    pub plan: Loaded<PlanView>,
    /// This group's meet-ups.
    pub meetups: Loaded<Vec<Meetup>>,
    /// This group's members.
    pub members: Loaded<Vec<MemberView>>,
    /// Requests to link waiting for this group's steward.
    pub link_requests: Loaded<Vec<LinkRequestView>>,
    /// What another group shares (for [`Target::Other`]).
    pub shared: Loaded<SharedDocs>,

    /// Directory rows shown, as indices into `directory`.
    pub network_rows: Vec<usize>,
    /// The directory filter.
    pub network_filter: String,
    /// The directory sort column and whether it is descending.
    pub sort: (SortKey, bool),
    /// The directory position.
    pub network_pos: ListPos,
    /// Member rows shown, as indices into `members`.
    pub member_rows: Vec<usize>,
    /// The member filter.
    pub member_filter: String,
    /// The member list position.
    pub member_pos: ListPos,
    /// Whether the filter line of the current list is being typed in.
    pub filtering: bool,
    /// The constitution's scroll (lines).
    pub constitution_scroll: u16,
    /// The plan's actions position.
    pub action_pos: ListPos,
    /// The meet-up list position.
    pub meetup_pos: ListPos,
    /// The selected meet-up's detail scroll (lines).
    pub meetup_scroll: u16,
    /// The area table's scroll on the dashboard.
    pub area_pos: ListPos,
    /// The sync screen's focused pane.
    pub sync_pane: SyncPane,
    /// The peers table position.
    pub peer_pos: ListPos,
    /// The documents table position.
    pub doc_pos: ListPos,
    /// The requests table position.
    pub request_pos: ListPos,
}

impl Model {
    /// A model with nothing loaded yet.
    pub fn new(size: (u16, u16), today: Date, now: u64, color: bool) -> Model {
        Model {
            size,
            today,
            now,
            color,
            screen: Screen::Network,
            target: Target::Own,
            tab: Tab::Constitution,
            overlay: None,
            flash: None,
            node_error: None,
            quit: false,
            status: Loaded::Loading,
            directory: Loaded::Loading,
            report: Loaded::Loading,
            constitution: Loaded::Loading,
            plan: Loaded::Loading,
            meetups: Loaded::Loading,
            members: Loaded::Loading,
            link_requests: Loaded::Loading,
            shared: Loaded::Loading,
            network_rows: Vec::new(),
            network_filter: String::new(),
            sort: (SortKey::Name, false),
            network_pos: ListPos::default(),
            member_rows: Vec::new(),
            member_filter: String::new(),
            member_pos: ListPos::default(),
            filtering: false,
            constitution_scroll: 0,
            action_pos: ListPos::default(),
            meetup_pos: ListPos::default(),
            meetup_scroll: 0,
            area_pos: ListPos::default(),
            sync_pane: SyncPane::Peers,
            peer_pos: ListPos::default(),
            doc_pos: ListPos::default(),
            request_pos: ListPos::default(),
        }
    }

    /// This device's role, once the status is in.
    pub fn role(&self) -> Option<Role> {
        self.status.ready().and_then(|s| s.role)
    }

    /// This device's group.
    pub fn own_group(&self) -> Option<GroupId> {
        self.status.ready().map(|s| s.group)
    }

    /// Whether this device may read the roster.
    pub fn may_read_roster(&self) -> bool {
        self.role().is_some_and(|r| r.may_read(DocKind::Roster))
    }

    /// Whether this device may read contact details.
    pub fn may_read_contacts(&self) -> bool {
        self.role().is_some_and(|r| r.may_read(DocKind::Contacts))
    }

    /// The tabs the group screen has for its target: another group shares
    /// its constitution and plan only; Members needs a device that may read
    /// the roster.
    pub fn tabs(&self) -> Vec<Tab> {
        match self.target {
            Target::Other(_) => vec![Tab::Constitution, Tab::Plan],
            Target::Own if self.may_read_roster() => {
                vec![Tab::Constitution, Tab::Plan, Tab::Meetups, Tab::Members]
            }
            Target::Own => vec![Tab::Constitution, Tab::Plan, Tab::Meetups],
        }
    }

    /// The name of a group, from the directory (or this node's status).
    pub fn group_name(&self, group: &GroupId) -> Option<&str> {
        if let Some(s) = self.status.ready()
            && s.group == *group
        {
            return Some(&s.group_name);
        }
        self.directory
            .ready()?
            .iter()
            .find(|e| e.group == *group)
            .map(|e| e.name.as_str())
    }

    /// The group screen's title: the group's name.
    pub fn target_name(&self) -> String {
        match self.target {
            Target::Own => self
                .status
                .ready()
                .map(|s| s.group_name.clone())
                .unwrap_or_else(|| "this group".into()),
            Target::Other(g) => self
                .group_name(&g)
                .map(str::to_string)
                .unwrap_or_else(|| g.fmt_short()),
        }
    }

    /// How this node is connected to `group`.
    pub fn link(&self, group: &GroupId) -> Link {
        let Some(s) = self.status.ready() else {
            return Link::Network;
        };
        if s.group == *group {
            return Link::Own;
        }
        let peers: Vec<&PeerStatus> = s
            .peers
            .iter()
            .filter(|p| p.group.as_ref() == Some(group))
            .collect();
        if peers.iter().any(|p| p.connected) {
            Link::Connected
        } else if peers.is_empty() {
            Link::Network
        } else {
            Link::Linked
        }
    }

    /// The directory entry shown in row `row`.
    pub fn network_entry(&self, row: usize) -> Option<&DirectoryEntry> {
        let i = *self.network_rows.get(row)?;
        self.directory.ready()?.get(i)
    }

    /// The member shown in row `row`.
    pub fn member(&self, row: usize) -> Option<&MemberView> {
        let i = *self.member_rows.get(row)?;
        self.members.ready()?.get(i)
    }

    /// The group selected in the directory now.
    pub fn selected_group(&self) -> Option<GroupId> {
        self.network_entry(self.network_pos.selected)
            .map(|e| e.group)
    }

    /// The member selected on the roster now.
    pub fn selected_member(&self) -> Option<groundwork_protocol::ShortId> {
        self.member(self.member_pos.selected).map(|m| m.id.clone())
    }

    /// Recomputes the directory's and the roster's shown rows from the
    /// filters and sort, keeping the selected group and member selected.
    pub fn refilter(&mut self) {
        let (group, member) = (self.selected_group(), self.selected_member());
        self.refilter_keeping(group, member);
    }

    /// [`Model::refilter`] after new data arrived: selects `group` and
    /// `member` (the ones selected before) where they are still shown.
    pub fn refilter_keeping(
        &mut self,
        group: Option<GroupId>,
        member: Option<groundwork_protocol::ShortId>,
    ) {
        self.network_rows = self.directory_rows();
        if let Some(g) = group
            && let Some(dir) = self.directory.ready()
            && let Some(i) = self.network_rows.iter().position(|&i| dir[i].group == g)
        {
            self.network_pos.selected = i;
        }
        let page = self.page(Screen::Network);
        self.network_pos.keep_visible(self.network_rows.len(), page);

        self.member_rows = self.roster_rows();
        if let Some(id) = member
            && let Some(all) = self.members.ready()
            && let Some(i) = self.member_rows.iter().position(|&i| all[i].id == id)
        {
            self.member_pos.selected = i;
        }
        let page = self.page(Screen::Group);
        self.member_pos.keep_visible(self.member_rows.len(), page);
    }

    fn directory_rows(&self) -> Vec<usize> {
        let Some(dir) = self.directory.ready() else {
            return Vec::new();
        };
        let needle = self.network_filter.to_lowercase();
        let mut rows: Vec<usize> = (0..dir.len())
            .filter(|&i| {
                let e = &dir[i];
                needle.is_empty()
                    || e.name.to_lowercase().contains(&needle)
                    || e.area
                        .as_deref()
                        .is_some_and(|a| a.to_lowercase().contains(&needle))
                    || e.kind.slug().contains(&needle)
            })
            .collect();
        let (key, desc) = self.sort;
        let members = |e: &DirectoryEntry| e.members.map_or(-1i64, |n| n as i64);
        rows.sort_by(|&a, &b| {
            let (x, y) = (&dir[a], &dir[b]);
            let by = match key {
                SortKey::Name => std::cmp::Ordering::Equal,
                SortKey::Area => x.area.cmp(&y.area),
                SortKey::Kind => x.kind.cmp(&y.kind),
                SortKey::Members => members(x).cmp(&members(y)),
                SortKey::Established => x.established.cmp(&y.established),
                SortKey::LastSeen => x.last_seen.cmp(&y.last_seen),
                SortKey::Link => self.link(&x.group).cmp(&self.link(&y.group)),
            };
            let by = by.then_with(|| x.name.to_lowercase().cmp(&y.name.to_lowercase()));
            if desc { by.reverse() } else { by }
        });
        rows
    }

    fn roster_rows(&self) -> Vec<usize> {
        let Some(members) = self.members.ready() else {
            return Vec::new();
        };
        let needle = self.member_filter.to_lowercase();
        (0..members.len())
            .filter(|&i| {
                let m = &members[i];
                needle.is_empty()
                    || m.member.name.to_lowercase().contains(&needle)
                    || m.id.as_str().contains(&needle)
                    || m.member.kind.name().contains(&needle)
                    || m.contact.as_ref().is_some_and(|c| {
                        c.email
                            .as_deref()
                            .is_some_and(|e| e.to_lowercase().contains(&needle))
                    })
            })
            .collect()
    }

    /// Rows of a screen's main list that fit on the terminal: the height
    /// less the header, tabs, borders, table header and status line.
    pub fn page(&self, screen: Screen) -> usize {
        let chrome = match screen {
            // header, border, table header, border, status
            Screen::Network => 6,
            // header, group title, tabs, border, table header, border, status
            Screen::Group => 8,
            Screen::Dashboard | Screen::Sync => 12,
        };
        usize::from(self.size.1).saturating_sub(chrome).max(1)
    }

    /// Peers, sorted as the sync screen shows them.
    pub fn peers(&self) -> Vec<&PeerStatus> {
        let Some(s) = self.status.ready() else {
            return Vec::new();
        };
        let mut peers: Vec<&PeerStatus> = s.peers.iter().collect();
        peers.sort_by_key(|p| (!p.connected, p.name.clone(), p.device));
        peers
    }

    /// The requests to link waiting, oldest first (none until loaded).
    pub fn requests(&self) -> &[LinkRequestView] {
        self.link_requests.ready().map_or(&[], Vec::as_slice)
    }

    /// The sync screen's panes, in order (requests only when there are some).
    pub fn sync_panes(&self) -> Vec<SyncPane> {
        let mut panes = Vec::new();
        if !self.requests().is_empty() {
            panes.push(SyncPane::Requests);
        }
        panes.extend([SyncPane::Peers, SyncPane::Documents]);
        panes
    }

    /// Names of the groups this node knows, for labels.
    pub fn names(&self) -> BTreeMap<GroupId, String> {
        let mut names: BTreeMap<GroupId, String> = self
            .directory
            .ready()
            .map(|d| d.iter().map(|e| (e.group, e.name.clone())).collect())
            .unwrap_or_default();
        if let Some(s) = self.status.ready() {
            names.insert(s.group, s.group_name.clone());
        }
        names
    }
}
