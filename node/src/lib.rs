//! The Groundwork node: the store, a group as this device holds it, and the
//! `groundwork` command line.
//!
//! # Layout
//!
//! - [`config`]: `config.toml`, resolved with the flags into one value.
//! - [`datadir`]: the data directory and its key files (mode 0600).
//! - [`store`]: the redb store: document snapshots, incremental changes,
//!   signatures; durable commits and compaction.
//! - [`group`]: a group opened on this device. Every edit goes through
//!   [`group::Group::edit`]: check the device's role, load the documents,
//!   apply typed edits (from `groundwork_protocol::edit`), sign one change
//!   per document, commit durably, then compact.
//! - [`control`]: the local control API: [`control::execute`] runs every
//!   group operation; a running node serves it on `control.sock` in the data
//!   directory, and the command line sends requests there when a node runs.
//! - [`net`]: the iroh endpoint and the Router serving Groundwork's ALPNs.
//! - [`roster_csv`]: spreadsheet import and export of the roster.
//! - [`demo`]: sample groups for `groundwork demo`.
//! - [`cli`]: the command line: argument parsing, output, exit codes.
//!
//! # Data flow of a command
//!
//! `main` parses arguments → [`cli::run`] opens the [`group::Group`] in the
//! data directory → a group method edits or reads documents through the
//! [`store::Store`] → `cli` prints the result as text or `--json`.

pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod datadir;
pub mod demo;
pub mod group;
pub mod logging;
pub mod net;
pub mod passphrase;
pub mod report_out;
pub mod roster_csv;
pub mod runtime;
pub mod secrets;
pub mod store;
pub mod tui;
