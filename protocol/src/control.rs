//! The local control API: what the command line and the terminal UI ask a
//! running node over its Unix socket, what it answers, and the events it
//! streams. The socket itself lives in the node (`node::control`); this
//! module holds only the types, so every client encodes them one way.
//!
//! # Wire
//!
//! Newline-delimited JSON. A client writes one [`Request`] per line and
//! reads one [`Response`] line back. After [`Request::Subscribe`] the node
//! answers [`Response::Subscribed`] and then writes one [`Event`] per line
//! until the client goes away. A line is at most [`MAX_LINE_LEN`] bytes.
//!
//! Enums use serde's externally tagged form with snake_case names: a
//! variant without fields is a string (`"plan_show"`), one with fields is a
//! one-key object (`{"member_show":{"id":"abc123"}}`). Requests refuse
//! unknown fields, so a misspelt option is an error, not a silent default.
//! New variants are only ever added at the end.
//!
//! # Types shared with the node
//!
//! [`MemberInput`], [`MemberView`], [`ImportOutcome`],
//! [`ConstitutionUpdate`], [`MeetupInput`] and [`PlanView`] are the group
//! operations' own inputs and results; the node re-exports them from
//! `node::group` and keeps their validation.

use crate::date::Date;
use crate::ids::{DocKind, ShortId};
use crate::keys::{DeviceId, GroupId};
use crate::schema::{Constitution, Meetup, Member, MemberKind, Role};

/// The longest line either side accepts, newline excluded: 64 MiB. An
/// import of 10,000 rows is about 3 MB.
pub const MAX_LINE_LEN: usize = 64 * 1024 * 1024;

/// Something to do to the group, or to the node. Each is answered by one
/// [`Response`]; every group operation of the command line is one request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Add a member (`member add`). Answer: [`Response::MemberAdded`].
    MemberAdd {
        /// The new member; a name is required.
        input: MemberInput,
    },
    /// List members sorted by name (`member list`, and `member export` with
    /// contacts). Answer: [`Response::Members`].
    MemberList {
        /// Only members of this kind.
        #[serde(default)]
        kind: Option<MemberKind>,
        /// Include contact details where this device may read them.
        #[serde(default)]
        with_contacts: bool,
    },
    /// One member with contact details where readable (`member show`).
    /// Answer: [`Response::Member`].
    MemberShow {
        /// The member's id.
        id: ShortId,
    },
    /// Change the fields given; courses given are added (`member edit`).
    /// Answer: [`Response::Member`].
    MemberEdit {
        /// The member's id.
        id: ShortId,
        /// The fields to change; its `id` is ignored.
        patch: MemberInput,
    },
    /// Remove a member and their contact details (`member remove`).
    /// Answer: [`Response::MemberRemoved`].
    MemberRemove {
        /// The member's id.
        id: ShortId,
    },
    /// Forget a member for good (`member forget`): remove them as
    /// `MemberRemove` does, then start new epochs of the roster and
    /// contacts, so nothing of them stays in any history once every
    /// device has switched. Answer: [`Response::MemberForgotten`].
    MemberForget {
        /// The member's id (one removed earlier may be forgotten too).
        id: ShortId,
    },
    /// Add the rows not already on the roster, all or nothing (`member
    /// import`; the client parses the file). Answer: [`Response::Imported`].
    MemberImport {
        /// The rows, in file order.
        rows: Vec<MemberInput>,
        /// Also apply rows that match a member but differ from their
        /// record (`--update`), as `member edit` would.
        #[serde(default)]
        update: bool,
    },
    /// The constitution (`constitution show`, and the text `constitution
    /// edit` opens). Answer: [`Response::Constitution`].
    ConstitutionShow,
    /// Amend the constitution (`constitution set`, `edit` and `adopt`).
    /// Answer: [`Response::Amended`].
    ConstitutionAmend {
        /// New text and/or an adoption date.
        update: ConstitutionUpdate,
    },
    /// The plan with action owners (`plan show`). Answer: [`Response::Plan`].
    PlanShow,
    /// Set the plan's vision, trimmed (`plan vision`). Answer:
    /// [`Response::Changed`].
    PlanVision {
        /// The vision.
        text: String,
    },
    /// Add a goal (`plan goal add`). Answer: [`Response::Created`].
    PlanGoalAdd {
        /// The goal.
        text: String,
    },
    /// Add an action (`plan action add`). Answer: [`Response::Created`].
    PlanActionAdd {
        /// What is to be done.
        title: String,
        /// A member id or a member's exact name.
        #[serde(default)]
        owner: Option<String>,
        /// When it is due.
        #[serde(default)]
        due: Option<Date>,
    },
    /// Mark an action done (`plan action done`). Answer:
    /// [`Response::Changed`], false if it already was.
    PlanActionDone {
        /// The action's id.
        id: ShortId,
    },
    /// Open a done action again (`plan action reopen`, the TUI's `o`: an
    /// undo for a mistaken done). Answer: [`Response::Changed`], false if
    /// it was open.
    PlanActionReopen {
        /// The action's id.
        id: ShortId,
    },
    /// Record listening conversations and their themes (`plan conversations
    /// add`). Answer: [`Response::Conversations`].
    PlanConversationsAdd {
        /// How many were held, 1 to 100,000.
        count: u32,
        /// Themes they raised.
        #[serde(default)]
        themes: Vec<String>,
    },
    /// Add a meet-up (`meetup add`). Answer: [`Response::Created`].
    MeetupAdd {
        /// The meet-up.
        input: MeetupInput,
    },
    /// Meet-ups, newest first (`meetup list`). Answer: [`Response::Meetups`].
    MeetupList,
    /// One meet-up (`meetup show`). Answer: [`Response::Meetup`].
    MeetupShow {
        /// The meet-up's id.
        id: ShortId,
    },
    /// Append a paragraph to a meet-up's notes (`meetup note --append`).
    /// Answer: [`Response::Saved`].
    MeetupNoteAppend {
        /// The meet-up's id.
        id: ShortId,
        /// The paragraph.
        text: String,
    },
    /// Replace a meet-up's notes (`meetup note --file`). Answer:
    /// [`Response::Saved`].
    MeetupNoteSet {
        /// The meet-up's id.
        id: ShortId,
        /// The new notes.
        text: String,
        /// The notes the new text was written from, when known (an editor
        /// opened earlier): changes a peer made since are merged in
        /// rather than overwritten.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<String>,
    },
    /// Record how many came (`meetup attendance`). Answer: [`Response::Saved`].
    MeetupAttendance {
        /// The meet-up's id.
        id: ShortId,
        /// How many came.
        count: u64,
    },
    /// The group's devices (`device list`). Answer: [`Response::Devices`].
    DeviceList,
    /// The node's state: only a running node answers it. Answer:
    /// [`Response::Status`].
    Status,
    /// Turn this connection into a stream of [`Event`]s. Only a running node
    /// answers it. Answer: [`Response::Subscribed`], then events.
    Subscribe,
    /// A one-time invite for a new device (`invite`). Answer:
    /// [`Response::Invite`].
    Invite {
        /// The role the new device gets.
        role: Role,
        /// How long it lasts, in seconds.
        ttl_secs: u64,
    },
    /// Revoke a device (`device revoke`). Answer: [`Response::Revoked`].
    DeviceRevoke {
        /// The device id, or an unambiguous start of it.
        id: String,
    },
    /// Link with another group's node (`peer add`). Answer:
    /// [`Response::Peers`] with the new peer.
    PeerAdd {
        /// The other node's ticket.
        ticket: String,
    },
    /// The peers this node knows (`peer list`). Answer: [`Response::Peers`].
    PeerList,
    /// On the national node: affiliate the group behind a ticket
    /// (`affiliate`). Answer: [`Response::Affiliated`].
    Affiliate {
        /// The group node's ticket.
        ticket: String,
    },
    /// The directory of groups this node knows (`network`). Answer:
    /// [`Response::Directory`].
    Network,
    /// The network's figures from the summaries this node holds (`report`).
    /// Answer: [`Response::Report`].
    Report,
    /// What another group shares with this node: its constitution and plan,
    /// where this node holds them (it syncs with that group, or relays for
    /// it). Its meet-ups, roster and contacts are never shared. Answer:
    /// [`Response::Shared`].
    Shared {
        /// The group.
        group: GroupId,
    },
    /// On a steward device: a one-time link code for another group's
    /// steward, as a link ticket (`link-code`). Answer:
    /// [`Response::LinkCode`].
    LinkCode {
        /// How long it lasts, in seconds.
        ttl_secs: u64,
    },
    /// Requests to link waiting for this group's steward (`peer
    /// requests`). Answer: [`Response::LinkRequests`].
    LinkRequests,
    /// Accept a waiting request (`peer accept`). Answer:
    /// [`Response::Peers`] with the new peer.
    PeerAccept {
        /// The requesting group's id or device id, or an unambiguous start
        /// of either.
        id: String,
    },
    /// Refuse a waiting request (`peer refuse`). Answer:
    /// [`Response::LinkRequests`]: those still waiting.
    PeerRefuse {
        /// As for [`Request::PeerAccept`].
        id: String,
    },
    /// Start a new epoch of one of this group's documents from its current
    /// state (`epoch start`; a steward, or an organiser for any but
    /// `devices`). Answer: [`Response::EpochStarted`].
    EpochStart {
        /// Which document.
        kind: DocKind,
    },
    /// Replace a goal's text (`plan goal edit`). Answer:
    /// [`Response::Changed`].
    PlanGoalEdit {
        /// The goal's id.
        id: ShortId,
        /// The new text.
        text: String,
    },
    /// Remove a goal (`plan goal remove`). Answer: [`Response::Changed`].
    PlanGoalRemove {
        /// The goal's id.
        id: ShortId,
    },
    /// Change an action (`plan action edit`). Answer: [`Response::Changed`].
    PlanActionEdit {
        /// The action's id.
        id: ShortId,
        /// What to change.
        patch: ActionPatch,
    },
    /// Remove an action and its owner link (`plan action remove`). Answer:
    /// [`Response::Changed`].
    PlanActionRemove {
        /// The action's id.
        id: ShortId,
    },
    /// Replace a text (a forgotten member's name) in every meet-up with
    /// `[redacted]`, then start a new epoch of the meet-ups (`meetup
    /// redact`; a steward or organiser). Answer: [`Response::Redacted`].
    MeetupRedact {
        /// The text, at least 3 characters; any case matches.
        text: String,
    },
    /// Write an encrypted backup of the group (`backup FILE` while a node
    /// runs), protected by the data directory's passphrase. Answer:
    /// [`Response::BackedUp`].
    Backup {
        /// The archive to write: an absolute path.
        file: String,
    },
    /// This node's ticket, as the running node (or the last `up`) wrote
    /// it (`ticket`). Answer: [`Response::Ticket`].
    Ticket,
    /// Change a meet-up's date, place, agenda or attendance (`meetup
    /// edit`). Answer: [`Response::Changed`].
    MeetupEdit {
        /// The meet-up's id.
        id: ShortId,
        /// What to change.
        patch: MeetupPatch,
    },
    /// Remove a meet-up with its agenda and notes (`meetup remove`).
    /// Answer: [`Response::Changed`].
    MeetupRemove {
        /// The meet-up's id.
        id: ShortId,
    },
}

impl Request {
    /// The documents a successful request may change: the kinds a node
    /// reports in [`Event::DocChanged`] afterwards. Empty for reads.
    pub fn writes(&self) -> &'static [DocKind] {
        use DocKind::{Constitution, Contacts, Meetups, Plan, Roster};
        match self {
            Request::MemberAdd { .. }
            | Request::MemberEdit { .. }
            | Request::MemberRemove { .. }
            | Request::MemberForget { .. }
            | Request::MemberImport { .. } => &[Roster, Contacts],
            Request::ConstitutionAmend { .. } => &[Constitution],
            Request::PlanVision { .. }
            | Request::PlanGoalAdd { .. }
            | Request::PlanActionDone { .. }
            | Request::PlanActionReopen { .. }
            | Request::PlanConversationsAdd { .. }
            | Request::PlanGoalEdit { .. }
            | Request::PlanGoalRemove { .. } => &[Plan],
            Request::PlanActionAdd { .. }
            | Request::PlanActionEdit { .. }
            | Request::PlanActionRemove { .. } => &[Plan, Roster],
            Request::MeetupRedact { .. } => &[Meetups],
            Request::MeetupAdd { .. }
            | Request::MeetupNoteAppend { .. }
            | Request::MeetupNoteSet { .. }
            | Request::MeetupAttendance { .. }
            | Request::MeetupEdit { .. }
            | Request::MeetupRemove { .. } => &[Meetups],
            Request::MemberList { .. }
            | Request::Backup { .. }
            | Request::Ticket
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
            | Request::PeerRefuse { .. } => &[],
            Request::DeviceRevoke { .. } => &[DocKind::Devices],
            Request::EpochStart { kind } => match kind {
                DocKind::Constitution => &[Constitution],
                DocKind::Plan => &[Plan],
                DocKind::Meetups => &[Meetups],
                DocKind::Roster => &[Roster],
                DocKind::Contacts => &[Contacts],
                DocKind::Devices => &[DocKind::Devices],
            },
        }
    }
}

/// The answer to one [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// A member was added.
    MemberAdded {
        /// Their new (or kept) id.
        id: ShortId,
        /// The roster record as stored.
        member: Member,
    },
    /// Members, sorted by name.
    Members(Vec<MemberView>),
    /// One member, as it now is.
    Member(MemberView),
    /// A member was removed.
    MemberRemoved {
        /// Their id.
        id: ShortId,
        /// The roster record they had.
        member: Member,
    },
    /// A member was forgotten.
    MemberForgotten {
        /// Their id.
        id: ShortId,
        /// The roster record they had (none: removed earlier).
        member: Option<Member>,
        /// The documents started again, with the epoch each is in now.
        epochs: Vec<(DocKind, u64)>,
        /// Meet-ups whose text still holds the member's name (`meetup
        /// redact` takes it out).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<ShortId>,
    },
    /// What an import did.
    Imported(ImportOutcome),
    /// The constitution.
    Constitution(Constitution),
    /// The constitution was amended.
    Amended {
        /// The new version, or `None` when nothing changed.
        version: Option<u64>,
    },
    /// The plan.
    Plan(PlanView),
    /// Whether a change changed anything.
    Changed {
        /// False when it was already so.
        changed: bool,
    },
    /// A goal, action or meet-up was added.
    Created {
        /// Its id.
        id: ShortId,
    },
    /// Conversations were recorded.
    Conversations {
        /// How many have been held in all.
        total: i64,
    },
    /// Meet-ups, newest first.
    Meetups(Vec<Meetup>),
    /// One meet-up.
    Meetup(Meetup),
    /// A change was stored.
    Saved,
    /// The group's devices.
    Devices(Vec<DeviceView>),
    /// The node's state.
    Status(NodeStatus),
    /// The connection is now an event stream.
    Subscribed,
    /// An invite's text.
    Invite {
        /// The text to give the invited person.
        text: String,
    },
    /// A device was revoked.
    Revoked {
        /// Its full id.
        device: DeviceId,
        /// The documents it could write, started again (each with the
        /// epoch it is in now), so nothing it sent past its cut stays.
        #[serde(default)]
        epochs: Vec<(DocKind, u64)>,
    },
    /// Peers.
    Peers(Vec<PeerStatus>),
    /// The directory of groups.
    Directory(Vec<DirectoryEntry>),
    /// The network's figures.
    Report(Box<crate::report::NetworkReport>),
    /// A group was affiliated.
    Affiliated {
        /// The group.
        group: GroupId,
        /// Its name, from its card.
        name: String,
        /// Whether the group's steward has still to accept the link (the
        /// affiliation follows when it does).
        #[serde(default)]
        pending: bool,
    },
    /// The request failed; nothing was changed.
    Error {
        /// What kind of failure, for a client to decide on (an answer from
        /// a node that sent no code reads as [`ErrorCode::Internal`]).
        #[serde(default)]
        code: ErrorCode,
        /// One line, as the command line prints it after `error: `.
        message: String,
    },
    /// What another group shares.
    Shared(SharedDocs),
    /// A one-time link code, as a link ticket to give the other group.
    LinkCode {
        /// The link ticket (`gwlink…`).
        text: String,
        /// When it stops working (seconds since 1970).
        expires: u64,
    },
    /// Requests to link waiting for this group's steward, oldest first.
    LinkRequests(Vec<LinkRequestView>),
    /// A document started a new epoch.
    EpochStarted {
        /// Which document.
        kind: DocKind,
        /// The epoch it is in now.
        epoch: u64,
    },
    /// A text redacted from meet-ups.
    Redacted {
        /// The meet-ups it was in.
        meetups: Vec<ShortId>,
        /// The meet-ups' new epoch (none: the text was nowhere).
        epoch: Option<u64>,
    },
    /// This node's ticket.
    Ticket {
        /// The ticket text.
        text: String,
    },
    /// A backup was written.
    BackedUp {
        /// The archive's size in bytes.
        bytes: u64,
        /// Whether it holds the group key.
        group_key: bool,
    },
}

/// What kind of failure an error answer reports. A client decides from the
/// code, never from the message's words: the terminal UI keeps its view
/// when the node is [`Unavailable`](ErrorCode::Unavailable), reloads when
/// what it showed is [`NotFound`](ErrorCode::NotFound), and keeps a form
/// open for the user to correct on [`Usage`](ErrorCode::Usage).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request or a value in it is not acceptable (a malformed request,
    /// a name too long, a date that does not parse): the user can fix it.
    Usage,
    /// The member, meet-up, action, device, peer or request named does not
    /// exist (any more).
    NotFound,
    /// This device's role, or its standing in the group, does not allow it.
    Forbidden,
    /// It clashes with what is there: the text changed since it was read,
    /// the email is on the roster, the group is founded already.
    Conflict,
    /// Something needed is not there now: the node is not running or is
    /// stopping, a peer cannot be reached, the store is in use.
    Unavailable,
    /// A bug, or a failure of the disk or the store: not the user's doing.
    #[default]
    Internal,
}

impl ErrorCode {
    /// The code as it is written on the wire (`not_found`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Usage => "usage",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Response {
    /// An error response; line breaks in `message` become `; ` so it stays
    /// one line.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        let message: String = message.into();
        let message = if message.contains(['\n', '\r']) {
            message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            message
        };
        Response::Error { code, message }
    }
}

/// Something that happened in a running node, sent to subscribers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// One of a group's documents changed, by a local edit or from a peer.
    DocChanged {
        /// The group.
        group: GroupId,
        /// The document.
        kind: DocKind,
    },
    /// A peer connected.
    PeerConnected {
        /// The peer's device id.
        device: DeviceId,
        /// Its group, once it has said.
        group: Option<GroupId>,
    },
    /// A peer disconnected.
    PeerDisconnected {
        /// The peer's device id.
        device: DeviceId,
        /// Why, if known.
        reason: Option<String>,
    },
    /// A network record arrived (a group card, an affiliation, a summary).
    RecordReceived {
        /// The group it is about.
        group: GroupId,
        /// What it is, in a few words.
        what: String,
    },
    /// This subscriber fell behind and `missed` events were dropped:
    /// re-read whatever it shows.
    Lagged {
        /// How many events were dropped.
        missed: u64,
    },
}

mod status;
mod types;

pub use types::{
    ActionPatch, ConstitutionUpdate, DeviceView, ImportOutcome, MeetupInput, MeetupPatch,
    MemberInput, MemberView, Owner, PlanView, RowDiffers,
};

pub use status::{
    AtRest, DirectoryEntry, DocStatus, EquivocationStatus, GossipStatus, LinkRequestView,
    NO_PASSPHRASE_WARNING, NodeStatus, ONE_STEWARD_WARNING, PeerStatus, SharedDocs, StoppedSync,
    TrafficStatus, UNSEALED_WARNING,
};

#[cfg(test)]
mod tests;
