//! Why building, starting or running the demo network failed.

use std::path::PathBuf;

use crate::daemon::DaemonError;
use crate::group::GroupError;
use crate::net::NetError;

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Founding or filling a sample group failed.
    #[error("{doing}")]
    Group {
        /// What was being done.
        doing: String,
        /// Why.
        #[source]
        source: GroupError,
    },
    /// A sample group's own operation failed.
    #[error(transparent)]
    Edit(#[from] GroupError),
    /// Starting or stopping a node failed.
    #[error("{doing}")]
    Node {
        /// What was being done.
        doing: String,
        /// Why.
        #[source]
        source: DaemonError,
    },
    /// A running node stopped answering.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Reading or writing the manifest failed.
    #[error("{doing}")]
    Io {
        /// What was being done.
        doing: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The manifest does not parse.
    #[error("{} is not a demo manifest", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest names a directory outside the demo.
    #[error("{} names a directory outside the demo", .0.display())]
    Outside(PathBuf),
    /// A link or an affiliation was refused, and why.
    #[error("{what} {name}: {why}")]
    Link {
        /// "linking" or "affiliating".
        what: &'static str,
        /// The group.
        name: String,
        /// The node's answer.
        why: String,
    },
    /// A task of the demo panicked (a bug).
    #[error("a demo task failed: {0}")]
    Task(String),
    /// The network did not converge in time.
    #[error("the demo network did not converge in {secs} s: {progress}")]
    NotConverged {
        /// How long it waited.
        secs: u64,
        /// How far it got.
        progress: String,
    },
    /// Some nodes did not stop cleanly.
    #[error("stopping the demo network: {0}")]
    Stopping(String),
}

/// A demo operation's result.
pub type DemoResult<T> = Result<T, DemoError>;
