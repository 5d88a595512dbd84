//! The interface the terminal UI needs from a node.
//!
//! The UI never touches storage or networking: it asks a [`Node`] for
//! protocol values and hands it edits. The node crate implements it over the
//! control API (attached to a running node, or one started in-process);
//! tests and benchmarks use `fake::FakeNode` (the `fake` feature).

use groundwork_protocol::control::{
    ActionPatch, DirectoryEntry, ErrorCode, Event, LinkRequestView, MeetupInput, MeetupPatch,
    MemberInput, MemberView, NodeStatus, PlanView, SharedDocs,
};
use groundwork_protocol::report::NetworkReport;
use groundwork_protocol::schema::{Constitution, Meetup};
use groundwork_protocol::{Date, GroupId, ShortId};

/// Why a node call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The node refused the request and changed nothing: the message says
    /// why (for example, this device's role may not write the plan), and
    /// the code what kind of refusal it is; the UI decides from the code.
    #[error("{message}")]
    Refused {
        /// What kind of refusal.
        code: ErrorCode,
        /// Its one line.
        message: String,
    },
    /// The node could not be reached, or its answer made no sense.
    #[error("node unreachable: {0}")]
    Unreachable(String),
}

impl NodeError {
    /// A refusal of `code`.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        NodeError::Refused {
            code,
            message: message.into(),
        }
    }

    /// Whether the node could not be reached or could not serve the
    /// request now (stopping, a peer it needs is away): what is shown
    /// stays, and the status line says why.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            NodeError::Unreachable(_)
                | NodeError::Refused {
                    code: ErrorCode::Unavailable,
                    ..
                }
        )
    }

    /// The message alone.
    pub fn message(&self) -> &str {
        match self {
            NodeError::Refused { message, .. } | NodeError::Unreachable(message) => message,
        }
    }
}

/// The answer to a node call.
pub type NodeResult<T> = Result<T, NodeError>;

/// What the terminal UI asks of a node. Every call blocks until the node
/// answers; an edit returns only once it is durably committed.
pub trait Node: Send + Sync {
    /// This device, its peers, its documents and their sync state.
    fn status(&self) -> NodeResult<NodeStatus>;
    /// The directory of groups this node knows.
    fn directory(&self) -> NodeResult<Vec<DirectoryEntry>>;
    /// The network's figures from the summaries this node holds.
    fn report(&self) -> NodeResult<NetworkReport>;
    /// This group's constitution.
    fn constitution(&self) -> NodeResult<Constitution>;
    /// This group's plan with action owners (where the roster is readable).
    fn plan(&self) -> NodeResult<PlanView>;
    /// This group's meet-ups, newest first.
    fn meetups(&self) -> NodeResult<Vec<Meetup>>;
    /// This group's members sorted by name, with contact details where this
    /// device may read them. Refused where it may not read the roster.
    fn members(&self) -> NodeResult<Vec<MemberView>>;
    /// What another group shares with this node.
    fn shared(&self, group: GroupId) -> NodeResult<SharedDocs>;
    /// Adds a meet-up; returns its id.
    fn add_meetup(&self, input: MeetupInput) -> NodeResult<ShortId>;
    /// Replaces a meet-up's notes with `notes`, written from `base`: what
    /// a peer changed since `base` is kept, not overwritten.
    fn set_meetup_notes(&self, id: ShortId, base: String, notes: String) -> NodeResult<()>;
    /// Adds a plan action; `owner` is a member id or exact name.
    fn add_action(
        &self,
        title: String,
        owner: Option<String>,
        due: Option<Date>,
    ) -> NodeResult<ShortId>;
    /// Marks a plan action done; false if it already was.
    fn action_done(&self, id: ShortId) -> NodeResult<bool>;
    /// Opens a done plan action again; false if it was open.
    fn action_reopen(&self, id: ShortId) -> NodeResult<bool>;
    /// Changes a plan action's title, due date or owner.
    fn edit_action(&self, id: ShortId, patch: ActionPatch) -> NodeResult<bool>;
    /// Removes a plan action (and its owner link).
    fn remove_action(&self, id: ShortId) -> NodeResult<()>;
    /// Changes a meet-up's date, place, agenda or attendance; false if
    /// nothing changed.
    fn edit_meetup(&self, id: ShortId, patch: MeetupPatch) -> NodeResult<bool>;
    /// Removes a meet-up with its agenda and notes.
    fn remove_meetup(&self, id: ShortId) -> NodeResult<()>;
    /// Adds a goal to the plan; returns its id.
    fn add_goal(&self, text: String) -> NodeResult<ShortId>;
    /// Replaces a goal's text; false if it already said that.
    fn edit_goal(&self, id: ShortId, text: String) -> NodeResult<bool>;
    /// Removes a goal.
    fn remove_goal(&self, id: ShortId) -> NodeResult<()>;
    /// Adds a member; returns their id.
    fn add_member(&self, input: MemberInput) -> NodeResult<ShortId>;
    /// Changes the fields `patch` gives of member `id`.
    fn edit_member(&self, id: ShortId, patch: MemberInput) -> NodeResult<()>;
    /// Removes member `id` and their contact details.
    fn remove_member(&self, id: ShortId) -> NodeResult<()>;
    /// Forgets member `id` for good (new epochs of the roster and contacts).
    fn forget_member(&self, id: ShortId) -> NodeResult<()>;
    /// Requests to link waiting for this group's steward.
    fn link_requests(&self) -> NodeResult<Vec<LinkRequestView>>;
    /// Accepts the waiting request of `group` (a steward device only).
    fn accept_link(&self, group: GroupId) -> NodeResult<()>;
    /// Refuses the waiting request of `group` (a steward device only).
    fn refuse_link(&self, group: GroupId) -> NodeResult<()>;
    /// Calls `sink` with each event the node reports, until the node goes
    /// away (an error) or `sink` returns false (`Ok`). The first event is
    /// `Lagged { missed: 0 }`, sent once the subscription is in place, so
    /// the UI re-reads anything that changed before it (at start, and after
    /// reconnecting).
    fn watch(&self, sink: &mut dyn FnMut(Event) -> bool) -> NodeResult<()>;
}
