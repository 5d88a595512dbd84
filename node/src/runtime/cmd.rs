//! The actor's inbox: the commands network tasks and the control socket
//! send it, and what a connection task sends its peer.

use super::*;

/// What a connection task sends to its peer.
#[derive(Debug)]
pub enum Outgoing {
    /// A message.
    Msg(Message),
    /// End the session with this reason (sent as `Bye`, then the
    /// connection is closed).
    Close(String),
}

/// A request to the actor.
pub enum Cmd {
    /// A connection to `peer` is ready: start a session.
    Open {
        /// The peer's device id (authenticated by the TLS handshake).
        peer: DeviceId,
        /// Whether this node dialed.
        outbound: bool,
        /// Where the session's messages go.
        out: mpsc::Sender<Outgoing>,
        /// The session id and the opening messages, or a refusal.
        reply: oneshot::Sender<Result<(u64, Vec<Message>), String>>,
    },
    /// A message arrived on a session.
    Incoming {
        /// The session.
        session: u64,
        /// The message.
        msg: Message,
    },
    /// A session's connection ended.
    Closed {
        /// The session.
        session: u64,
        /// Why, if it ended badly.
        why: Option<String>,
    },
    /// A device redeems an invite.
    Join {
        /// The joining device.
        device: DeviceId,
        /// Its request.
        req: JoinRequest,
        /// Where it connected from.
        addrs: Vec<SocketAddr>,
        /// The answer to send.
        reply: oneshot::Sender<JoinReply>,
    },
    /// A device of another group asks to link with this node.
    LinkRequest {
        /// The device.
        device: DeviceId,
        /// Its group's signed card.
        card: Vec<u8>,
        /// The link code it presented, if any.
        code: Option<[u8; 16]>,
        /// Where it connected from.
        addrs: Vec<SocketAddr>,
        /// The answer: accepted, pending or refused (a link message).
        reply: oneshot::Sender<groundwork_protocol::link::LinkMessage>,
    },
    /// The node this one asked to link with answered (`peer add`).
    LinkAnswered {
        /// The device.
        device: DeviceId,
        /// Its answer (accepted or pending, with its card).
        answer: groundwork_protocol::link::LinkMessage,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
        /// The peer as remembered, or why not.
        reply: oneshot::Sender<Result<PeerRecord, String>>,
    },
    /// Addresses a peer was reached at, to remember.
    SawAddrs {
        /// The device.
        device: DeviceId,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
    },
    /// The national node sent this group an affiliation certificate
    /// inside the link exchange.
    Affiliated {
        /// The signed certificate.
        record: Vec<u8>,
        /// Kept, or why not.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// A card or record arrived by gossip (tagged with its kind).
    Gossiped {
        /// The neighbour that passed it on.
        from: DeviceId,
        /// The tagged bytes.
        bytes: Vec<u8>,
    },
    /// A gossip neighbour came or went.
    GossipNeighbour {
        /// The device.
        device: DeviceId,
        /// Came (true) or went.
        up: bool,
    },
    /// LAN discovery saw a device at these addresses.
    Discovered {
        /// The device.
        device: DeviceId,
        /// Its addresses.
        addrs: Vec<SocketAddr>,
    },
    /// A snapshot saved on a helper thread, to replace a document's
    /// stored changes.
    Compacted {
        /// The document.
        doc: DocId,
        /// The document as saved.
        copy: Box<AutoCommit>,
        /// `copy.save()`.
        snapshot: Vec<u8>,
    },
    /// Run a closure on the actor thread with the node state.
    With(Box<dyn FnOnce(&mut Actor) + Send>),
    /// Save everything and stop.
    Shutdown(oneshot::Sender<()>),
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Open { .. } => "Open",
            Cmd::Incoming { .. } => "Incoming",
            Cmd::Closed { .. } => "Closed",
            Cmd::Join { .. } => "Join",
            Cmd::LinkRequest { .. } => "LinkRequest",
            Cmd::LinkAnswered { .. } => "LinkAnswered",
            Cmd::SawAddrs { .. } => "SawAddrs",
            Cmd::Discovered { .. } => "Discovered",
            Cmd::Gossiped { .. } => "Gossiped",
            Cmd::GossipNeighbour { .. } => "GossipNeighbour",
            Cmd::Affiliated { .. } => "Affiliated",
            Cmd::Compacted { .. } => "Compacted",
            Cmd::With(_) => "With",
            Cmd::Shutdown(_) => "Shutdown",
        })
    }
}
