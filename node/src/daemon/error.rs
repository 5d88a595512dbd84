//! Why starting, running or stopping the node failed, with the control
//! API's code for each.

use groundwork_protocol::control::ErrorCode;

use crate::group::GroupError;
use crate::net::NetError;
use crate::store::StoreError;

/// Why a node operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The group's own operation failed (opening it, its store).
    #[error(transparent)]
    Group(#[from] GroupError),
    /// The network side failed (binding, dialing, an exchange).
    #[error(transparent)]
    Net(#[from] NetError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be encoded for the store (a bug).
    #[error("internal error: cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// The node's thread could not start, or the control socket failed.
    #[error("{doing}: {source}")]
    Io {
        /// What was being done.
        doing: String,
        /// Why.
        source: std::io::Error,
    },
    /// The control socket could not be served.
    #[error(transparent)]
    Control(#[from] crate::control::ControlError),
    /// The router did not stop cleanly.
    #[error("shutting down: {0}")]
    Router(String),
    /// The inviting device refused the invite, and why (its words).
    #[error("the invite was refused: {0}")]
    InviteRefused(String),
    /// The inviting device answered for another group than the invite's.
    #[error("the inviting device answered for a different group; not joining")]
    OtherGroup,
    /// A sync with a peer did not finish in time.
    #[error("timed out after {secs}s waiting to sync with {peer}")]
    SyncTimedOut {
        /// How long it waited.
        secs: u64,
        /// The peer, shortened.
        peer: String,
    },
}

impl DaemonError {
    /// The control API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            DaemonError::Group(e) => e.code(),
            DaemonError::Net(e) => e.code(),
            DaemonError::Store(e) => e.code(),
            DaemonError::InviteRefused(_) => ErrorCode::Forbidden,
            DaemonError::OtherGroup => ErrorCode::Conflict,
            DaemonError::SyncTimedOut { .. } => ErrorCode::Unavailable,
            DaemonError::Control(crate::control::ControlError::AlreadyRunning(_)) => {
                ErrorCode::Conflict
            }
            DaemonError::Encode { .. }
            | DaemonError::Io { .. }
            | DaemonError::Control(_)
            | DaemonError::Router(_) => ErrorCode::Internal,
        }
    }

    /// The error answer for it.
    pub fn response(&self) -> groundwork_protocol::control::Response {
        groundwork_protocol::control::Response::error(self.code(), crate::control::error_line(self))
    }
}
