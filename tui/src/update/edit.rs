//! [`Edit`]: an edit the UI asks the node to make, what it reloads after
//! it, and how it is described on the status line.

use groundwork_protocol::control::{ActionPatch, MeetupInput, MeetupPatch, MemberInput};
use groundwork_protocol::{Date, GroupId, ShortId};

use super::Data;

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
    /// Change a meet-up.
    EditMeetup {
        /// The meet-up.
        id: ShortId,
        /// What changes.
        patch: MeetupPatch,
    },
    /// Remove a meet-up with its agenda and notes.
    RemoveMeetup(ShortId),
    /// Add a goal to the plan.
    AddGoal(String),
    /// Change a goal's text.
    EditGoal {
        /// The goal.
        id: ShortId,
        /// The new text.
        text: String,
    },
    /// Remove a goal.
    RemoveGoal(ShortId),
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
            Edit::AddMeetup(_)
            | Edit::SetNotes { .. }
            | Edit::EditMeetup { .. }
            | Edit::RemoveMeetup(_) => &[Data::Meetups, Data::Status],
            Edit::AddGoal(_) | Edit::EditGoal { .. } | Edit::RemoveGoal(_) => {
                &[Data::Plan, Data::Status]
            }
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
            Edit::EditMeetup { .. } => "meet-up changed",
            Edit::RemoveMeetup(_) => "meet-up removed",
            Edit::AddGoal(_) => "goal added",
            Edit::EditGoal { .. } => "goal changed",
            Edit::RemoveGoal(_) => "goal removed",
            Edit::AddMember(_) => "member added",
            Edit::EditMember { .. } => "member changed",
            Edit::RemoveMember(_) => "member removed",
            Edit::ForgetMember(_) => "member forgotten",
            Edit::AcceptLink(_) => "linked",
            Edit::RefuseLink(_) => "request refused",
        }
    }
}
