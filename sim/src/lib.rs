//! A deterministic, seeded simulation of a Groundwork network in one
//! process: a national node and hundreds to thousands of groups, linked as
//! the network bench links them (`tests/benches/network.rs`), running the
//! protocol's real, I/O-free session state machines
//! (`groundwork_protocol::sync::session::Session`) and iroh-gossip's own
//! protocol state machine over simulated links with latency, a bandwidth
//! term and loss. The same seed gives the same figures.
//!
//! # Layout
//!
//! - [`world`]: the nodes as founded: keys, signed cards, the public
//!   documents with the demo's edits, signed rounded summaries.
//! - [`node`]: one node's state and what it does with a message, as the
//!   real actor does (`node/src/runtime`); [`records`] its records and
//!   links; [`host`] the protocol's `SessionStore` it gives a session.
//! - [`gossip`]: the node's gossip, iroh-gossip's state machine;
//!   `swarm` carries its messages.
//! - [`net`]: simulated time, the event queue and the link model;
//!   `transport` carries sync frames over connections.
//! - [`sim`]: the run: link setup in the bench's order, the event loop,
//!   the two convergence conditions.
//! - [`report`]: the figures and the Markdown tables.
//! - [`verified`]: cards and records verified once and shared; [`lent`]
//!   the documents a session call is lent.
//! - [`cli`]: the knobs and the runs of the binary and the bench.
//!
//! # Data flow
//!
//! The bench's link tasks start (at most 16 at once). Each link exchange
//! makes both nodes keep the other's card; on the national node it signs
//! an affiliation, keeps it and sends it to every open session; the group
//! keeps it and joins the network's gossip topic. The lower device id of
//! each link dials a sync connection; both ends open a [`Session`]
//! (`Hello`, then the inventory exchange, the records and cards each
//! lacks, and the documents that differ). Every message a node sends is
//! encoded with the protocol's encoder, carried as a frame, counted, and
//! decoded with the protocol's decoder on arrival. Every card or record a
//! node keeps is relayed to its other open sessions and broadcast on
//! gossip, as the real node does.
//!
//! # What is modelled, and what is not
//!
//! - Modelled: every sync message and its real encoded size (frame header
//!   included); the gossip layer's real messages and sizes, and its
//!   connections passing the handshake gate; link exchanges (their
//!   messages' real sizes, counted apart); latency, each node's uplink
//!   bandwidth, packet loss as retransmission delay; the session outbox's
//!   cap (4,096 messages or 64 MiB not yet on the wire: the session ends,
//!   "not keeping up"); reconnecting with the real backoff; the real
//!   decoder's caps (a message it refuses ends the session, as in the
//!   node).
//! - Not modelled: CPU time (a node handles a message in no simulated
//!   time), disk, QUIC's packet overhead, handshakes' bytes and
//!   encryption (the wire bytes of the real bench include them), a
//!   group's own other devices, and the second, losing dial of each link
//!   (one dial, by the device the race keeps).
//! - Shortcuts that change no outcome: each distinct card and record is
//!   verified once and shared ([`verified`]); a node holds only documents
//!   with content and is lent empty ones when a session reads the rest
//!   ([`node::Node::take_docs`]).
//! - A run stops when both conditions hold, when its time limit passes,
//!   or when every summary is in and no group has completed its directory
//!   for two simulated minutes (it says how far it got).
//!
//! [`Session`]: groundwork_protocol::sync::session::Session

pub mod cli;
pub mod gossip;
pub mod host;
pub mod lent;
pub mod net;
pub mod node;
pub mod records;
pub mod report;
pub mod sim;
mod swarm;
mod transport;
pub mod verified;
pub mod world;

use std::collections::BTreeSet;

pub use net::LinkModel;
pub use report::{Outcome, Row};

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Founding a node's documents or records failed.
    #[error("building the sample network: {0}")]
    Fixture(String),
    /// A knob's value is not valid.
    #[error("{name}={value}: {why}")]
    Knob {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// One run's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Groups (besides the national node).
    pub groups: usize,
    /// The seed of everything random.
    pub seed: u64,
    /// The links.
    pub links: LinkModel,
    /// Link exchanges under way at once (the bench's semaphore).
    pub concurrency: usize,
    /// Simulated time after which a run stops, converged or not.
    pub limit: net::Nanos,
    /// Groups (0-based, as the bench numbers them) the national node does
    /// not affiliate: their summaries must not be counted.
    pub unaffiliated: BTreeSet<usize>,
}

impl Config {
    /// The bench's settings for `groups` groups, with `seed`.
    pub fn new(groups: usize, seed: u64) -> Config {
        Config {
            groups,
            seed,
            links: LinkModel::default(),
            concurrency: 16,
            limit: 600_000 * net::MS,
            unaffiliated: BTreeSet::new(),
        }
    }
}

/// Runs one simulation.
pub fn run(config: Config) -> Result<Outcome, SimError> {
    Ok(sim::Sim::new(config)?.run())
}

/// The process's peak resident memory (`VmHWM` in /proc/self/status), KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
