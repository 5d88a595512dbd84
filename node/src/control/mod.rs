//! The local control API: how the command line (and later the terminal UI)
//! reaches a running node, and the one implementation of every group
//! operation.
//!
//! # Layout
//!
//! - [`execute`] (`execute.rs`): runs a [`Request`] on a [`Group`] and
//!   answers a [`Response`]. The command line calls it directly when no node
//!   runs; a running node calls it for requests from its socket.
//! - `server.rs`: [`serve`] binds `control.sock` in the data directory (mode
//!   0600) and hands each request line to a [`ControlHandler`]; after
//!   `Subscribe` it streams the handler's [`Event`]s.
//! - `client.rs`: [`connect`] and the blocking [`Client`] the command line
//!   uses.
//! - `handler.rs`: [`GroupHandler`], a handler for a group held in this
//!   process: [`execute`] one request at a time, `DocChanged` after edits.
//!
//! # Wire
//!
//! Newline-delimited JSON of the types in `groundwork_protocol::control`:
//! one request line, one response line, any number of times on one
//! connection. A line is at most [`MAX_LINE_LEN`] bytes. A line that is too
//! long, not UTF-8 or not a request gets one [`Response::Error`] naming the
//! problem, and the connection is closed. See docs/protocol.md.
//!
//! [`Group`]: crate::group::Group

mod client;
mod error;
mod execute;
mod handler;
mod server;

pub(crate) use client::variant_name;
pub use client::{Client, Events, connect};
pub use error::ControlError;
pub use execute::{execute, execute_with_progress};
pub use groundwork_protocol::control::{Event, MAX_LINE_LEN, Request, Response};
pub use handler::{EVENT_CAPACITY, GroupHandler};
pub use server::{ControlHandler, ControlServer, serve};

use std::path::PathBuf;

use groundwork_protocol::control::ErrorCode;

use crate::datadir::DataDir;

/// An error and its sources, joined by ": " (the line the command line
/// prints after `error: `).
pub fn error_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        // `#[error(transparent)]` and `{0}` wrappers repeat their source.
        if !line.ends_with(&next) {
            line.push_str(": ");
            line.push_str(&next);
        }
        source = s.source();
    }
    line
}

/// The error answer for a group operation that failed.
pub fn refusal(e: &crate::group::GroupError) -> Response {
    Response::error(e.code(), error_line(e))
}

/// The error answer for a request that failed for want of `what` (the node
/// stopped, a task ended).
pub fn unavailable(what: impl Into<String>) -> Response {
    Response::error(ErrorCode::Unavailable, what)
}

/// The control socket's file name in the data directory.
pub const SOCKET_FILE: &str = "control.sock";

/// The control socket of the node running on `dir`.
pub fn socket_path(dir: &DataDir) -> PathBuf {
    dir.root().join(SOCKET_FILE)
}

#[cfg(test)]
mod tests;
