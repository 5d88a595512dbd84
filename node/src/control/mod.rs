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
mod execute;
mod handler;
mod server;

pub(crate) use client::variant_name;
pub use client::{Client, Events, connect};
pub use execute::{execute, execute_with_progress};
pub use groundwork_protocol::control::{Event, MAX_LINE_LEN, Request, Response};
pub use handler::{EVENT_CAPACITY, GroupHandler};
pub use server::{ControlHandler, ControlServer, serve};

use std::path::PathBuf;

use crate::datadir::DataDir;

/// The control socket's file name in the data directory.
pub const SOCKET_FILE: &str = "control.sock";

/// The control socket of the node running on `dir`.
pub fn socket_path(dir: &DataDir) -> PathBuf {
    dir.root().join(SOCKET_FILE)
}

#[cfg(test)]
mod tests;
