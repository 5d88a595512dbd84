//! The Groundwork terminal UI: browse the network, a group's documents and
//! the national dashboard, live; add and edit meet-ups, plan actions and
//! members.
//!
//! # Architecture
//!
//! Model, update, view (the Elm architecture):
//!
//! - [`model::Model`] is everything on screen and where the user is.
//! - [`update::update`] applies one [`update::Msg`] (a key, a node event, a
//!   node's answer) and returns the [`update::Cmd`]s to run. It is tested
//!   without a terminal.
//! - [`view::view`] draws a model; it is pure, and snapshot-tested.
//! - [`app::run`] owns the terminal and the threads, and runs commands
//!   against a [`node::Node`].
//!
//! The UI reaches a node only through the [`node::Node`] trait it defines
//! here. The node crate implements it over the control API; every screen is
//! tested against `fake::FakeNode` (the `fake` feature, on for the
//! crate's own tests and bench, not in the release binary).

pub mod app;
pub mod editor;
#[cfg(any(test, feature = "fake"))]
pub mod fake;
pub mod form;
pub mod model;
pub mod node;
pub mod textarea;
pub mod update;
pub mod view;

pub use app::{Options, TuiError, run};
pub use node::{Node, NodeError, NodeResult};
