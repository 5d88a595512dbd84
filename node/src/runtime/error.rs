//! Why the actor did not take what a caller or a peer gave it: a record, a
//! link answer, an affiliation. Each carries the control API's code.

use groundwork_protocol::card::CardRejected;
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::records::RecordRejected;
use groundwork_protocol::trust::link::LinkRefused;

use super::records::record_name;
use crate::group::GroupError;

/// Why the actor refused a record, a link answer or an affiliation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    /// A record that is malformed or whose signature fails: whoever sent
    /// it is at fault.
    #[error("{}: {why}", record_name(*kind))]
    Forged {
        /// Its kind byte.
        kind: u8,
        /// What failed.
        why: RecordRejected,
    },
    /// A valid record that is not used (stale, about a group nobody here
    /// knows, another network's).
    #[error(transparent)]
    Ignored(RecordRejected),
    /// An affiliation sent to this group that names another group.
    #[error("the affiliation is for another group")]
    OtherGroup,
    /// The node asked to link said no, and why (its words, made safe where
    /// they are shown).
    #[error("the other node refused to link: {0}")]
    LinkRefused(String),
    /// The node asked to link answered something other than a link answer.
    #[error("the other node sent an unexpected answer")]
    Unexpected,
    /// The card in a link answer does not verify.
    #[error("the other node's group card is invalid: {0}")]
    BadCard(CardRejected),
    /// The link rule refuses the node that answered.
    #[error(transparent)]
    Link(#[from] LinkRefused),
    /// The group's own operation failed.
    #[error(transparent)]
    Group(#[from] GroupError),
}

impl ActorError {
    /// The control API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ActorError::Forged { .. } | ActorError::Unexpected | ActorError::BadCard(_) => {
                ErrorCode::Unavailable
            }
            ActorError::Ignored(_) | ActorError::OtherGroup => ErrorCode::Conflict,
            ActorError::LinkRefused(_) | ActorError::Link(_) => ErrorCode::Forbidden,
            ActorError::Group(e) => e.code(),
        }
    }
}
