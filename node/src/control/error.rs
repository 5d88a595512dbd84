//! Why the control socket could not be served or a client's request could
//! not be carried (not a refusal: those are [`Response::Error`] answers).
//!
//! [`Response::Error`]: groundwork_protocol::control::Response::Error

use std::path::PathBuf;

use groundwork_protocol::control::ErrorCode;

/// Why the control socket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// A file or socket operation failed.
    #[error("{doing}")]
    Io {
        /// What was being done, naming the path.
        doing: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Something answers on the socket: a node runs already.
    #[error("a node is already running on {}", .0.display())]
    AlreadyRunning(PathBuf),
    /// The socket's name is taken by a file that is not a socket.
    #[error("{} exists and is not a socket; move it away and start again", .0.display())]
    NotASocket(PathBuf),
    /// A request on a connection that carries events.
    #[error("this connection carries events now; open another for requests")]
    Subscribed,
    /// A request or an answer that does not encode or decode.
    #[error("{what}")]
    Json {
        /// Which.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The node closed the connection before answering.
    #[error("the node closed the connection without answering")]
    NoAnswer,
    /// An answer longer than a line may be.
    #[error("the node's answer is longer than {0} MiB")]
    TooLong(usize),
    /// The connection ended inside an answer.
    #[error("the node closed the connection in the middle of an answer")]
    Cut,
    /// An answer that is not UTF-8.
    #[error("the node's answer is not UTF-8 text")]
    NotUtf8,
    /// The node refused to send events.
    #[error("{message}")]
    Refused {
        /// What kind of refusal.
        code: ErrorCode,
        /// Its line.
        message: String,
    },
    /// An answer of the wrong kind (a node of another version).
    #[error("the node answered Subscribe with {0}")]
    Unexpected(String),
}

impl ControlError {
    /// An I/O failure while `doing`.
    pub(crate) fn io(doing: impl Into<String>, source: std::io::Error) -> Self {
        ControlError::Io {
            doing: doing.into(),
            source,
        }
    }
}
