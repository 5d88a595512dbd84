//! The membership summary's figures: counted from copies of the group's
//! documents (so a running node counts them off its own thread), then
//! rounded to base 5 with the group's secret shifts.

use automerge::AutoCommit;
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::{Date, DocKind, GroupId};

use super::{FromDocChecked, Group, GroupError};

/// The exact figures of a group's documents on `today`. They stay on the
/// group's devices; what leaves is [`summary_of`], rounded.
pub fn exact_figures(
    group: &Group,
    today: Date,
) -> Result<groundwork_protocol::records::Exact, GroupError> {
    use groundwork_protocol::schema::{Constitution, Meetups, Plan, Roster};
    Ok(groundwork_protocol::records::Exact::from_documents(
        &group.read::<Roster>()?,
        &group.read::<Meetups>()?,
        &group.read::<Plan>()?,
        group.read::<Constitution>()?.adopted,
        today,
    ))
}

/// The membership summary a group publishes on `today`: its figures,
/// every one rounded to base 5 (`groundwork_protocol::disclosure`).
pub fn summary_of(
    group: &Group,
    today: Date,
) -> Result<groundwork_protocol::records::MembershipSummary, GroupError> {
    group.summary_inputs()?.count(today)
}

/// Copies of the four documents a membership summary is counted from, and
/// the group's rounding shifts: taken on the node's thread in a few
/// milliseconds, so the counting (which reads every member) runs on
/// another.
pub struct SummaryInputs {
    group: GroupId,
    offsets: groundwork_protocol::disclosure::Offsets,
    roster: AutoCommit,
    meetups: AutoCommit,
    plan: AutoCommit,
    constitution: AutoCommit,
}

impl std::fmt::Debug for SummaryInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryInputs")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl SummaryInputs {
    /// Counts and rounds the figures as of `today`.
    pub fn count(
        self,
        today: Date,
    ) -> Result<groundwork_protocol::records::MembershipSummary, GroupError> {
        use groundwork_protocol::schema::{Constitution, Meetups, Plan, Roster};
        let exact = groundwork_protocol::records::Exact::from_documents(
            &Roster::from_doc_checked(&self.roster)?,
            &Meetups::from_doc_checked(&self.meetups)?,
            &Plan::from_doc_checked(&self.plan)?,
            Constitution::from_doc_checked(&self.constitution)?.adopted,
            today,
        );
        Ok(groundwork_protocol::records::MembershipSummary::publish(
            self.group,
            &exact,
            today,
            &self.offsets,
        ))
    }
}

impl Group {
    /// What this group's membership summary is counted from (see
    /// [`SummaryInputs`]). Only a steward device, which holds the group
    /// key, publishes one.
    pub fn summary_inputs(&self) -> Result<SummaryInputs, GroupError> {
        let key = self.group_key()?.ok_or_else(|| GroupError::Invalid {
            code: ErrorCode::Forbidden,
            field: "device",
            why: "only a steward device, which holds the group key, publishes the summary".into(),
        })?;
        let copy = |kind: DocKind| -> Result<AutoCommit, GroupError> {
            self.with_doc(kind, |d| Ok(d.clone()))
        };
        Ok(SummaryInputs {
            group: self.profile().id,
            offsets: groundwork_protocol::disclosure::Offsets::of_group(&key),
            roster: copy(DocKind::Roster)?,
            meetups: copy(DocKind::Meetups)?,
            plan: copy(DocKind::Plan)?,
            constitution: copy(DocKind::Constitution)?,
        })
    }
}
