//! Where a group command goes: the node running on the data directory,
//! through its control socket, or, when none runs, the store opened here.
//! Either way the request is answered by [`control::execute`], so both
//! paths give the same answers and the same error lines.

use anyhow::{Result, anyhow};
use groundwork_protocol::control::{ErrorCode, Request, Response};

use crate::control;
use crate::datadir::DataDir;
use crate::group::Group;

/// The node's control connection, or the group opened directly.
#[derive(Debug)]
pub(super) enum Target {
    /// A node runs on the data directory and owns the store.
    Node {
        /// The control connection.
        client: control::Client,
        /// The data directory.
        dir: DataDir,
    },
    /// No node runs: the store is opened in this process (boxed: a group is
    /// much larger than a connection).
    Direct(Box<Group>),
}

impl Target {
    /// Connects to the node running on `dir`, or opens the group there.
    /// A node that is starting holds the store a moment before its control
    /// socket answers: the wait for the store ends as soon as the socket
    /// appears, and the command goes to the node (it took the whole ten
    /// seconds of the store's wait, then failed as "in use").
    pub(super) fn open(dir: DataDir) -> Result<Self> {
        if let Some(client) = control::connect(&dir)? {
            return Ok(Target::Node { client, dir });
        }
        // Answers, not merely exists: a node killed with -9 leaves the file.
        let socket = control::socket_path(&dir);
        let answers = || std::os::unix::net::UnixStream::connect(&socket).is_ok();
        match Group::open_unless(&dir, &answers) {
            Ok(g) => Ok(Target::Direct(Box::new(g))),
            Err(e) => match control::connect(&dir)? {
                Some(client) => Ok(Target::Node { client, dir }),
                None => Err(e.into()),
            },
        }
    }

    /// The data directory.
    pub(super) fn dir(&self) -> &DataDir {
        match self {
            Target::Node { dir, .. } => dir,
            Target::Direct(g) => g.dir(),
        }
    }

    /// The group, when its store is open here.
    pub(super) fn group(&self) -> Option<&Group> {
        match self {
            Target::Direct(g) => Some(g),
            Target::Node { .. } => None,
        }
    }

    /// Whether the store is open here (so progress can be shown).
    pub(super) fn is_direct(&self) -> bool {
        matches!(self, Target::Direct(_))
    }

    /// Sends a request; an error answer becomes the error, as one line.
    pub(super) fn send(&mut self, req: Request) -> Result<Response> {
        match self.answer(req, |_| {})? {
            Response::Error { code, message } => Err(Answered { code, message }.into()),
            response => Ok(response),
        }
    }

    /// The answer to a request, error answers included. `progress` hears
    /// an import's progress when the store is open here.
    pub(super) fn answer(&mut self, req: Request, progress: impl FnMut(u64)) -> Result<Response> {
        match self {
            Target::Node { client, .. } => Ok(client.request(req)?),
            Target::Direct(g) => Ok(control::execute_with_progress(g, req, progress)),
        }
    }

    /// The store's housekeeping after a command run here; a running node
    /// does its own.
    pub(super) fn finish(self) {
        if let Target::Direct(mut g) = self {
            g.maintain();
        }
    }
}

/// The node's error answer (or the store's here) as an error: its line,
/// and the code the command line decides on.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(super) struct Answered {
    /// What kind of failure.
    pub(super) code: ErrorCode,
    /// Its one line.
    pub(super) message: String,
}

/// A request that dialed another node (`peer add`, `affiliate`) and could
/// not reach it gets a hint; the code decides, not the words.
pub(super) fn dial_hint(e: anyhow::Error) -> anyhow::Error {
    const HINT: &str = "is that node running `groundwork up`?";
    if let Some(a) = e.downcast_ref::<Answered>() {
        return match a.code {
            ErrorCode::Unavailable => anyhow!("{}; {HINT}", a.message),
            _ => e,
        };
    }
    // Dialed from this process (no node runs here): only a device that
    // could not be reached gets the hint.
    let unreachable = e.chain().any(|c| {
        c.downcast_ref::<crate::net::NetError>()
            .is_some_and(crate::net::NetError::is_unreachable)
            || matches!(
                c.downcast_ref::<crate::daemon::DaemonError>(),
                Some(crate::daemon::DaemonError::Net(n)) if n.is_unreachable()
            )
    });
    if unreachable {
        anyhow!("{}; {HINT}", crate::control::error_line(e.as_ref()))
    } else {
        e
    }
}

/// An answer of the wrong kind for the request (a node of another version).
pub(super) fn unexpected(r: &Response) -> anyhow::Error {
    anyhow!(
        "the node gave an unexpected answer ({})",
        control::variant_name(r)
    )
}
