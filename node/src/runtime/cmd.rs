//! The actor's inbox: the commands network tasks and the control socket
//! send it, and what a connection task sends its peer.

use super::*;

/// What a connection task sends to its peer.
#[derive(Debug)]
pub enum Outgoing {
    /// A message, encoded.
    Frame(groundwork_protocol::wire::frame::Frame),
    /// End the session with this reason (sent as `Bye`, then the
    /// connection is closed).
    Close(String),
}

/// The most bytes of messages queued for one peer that has not read them
/// yet; past it the peer is not keeping up and its session ends.
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

/// Where a session's messages go: the connection task's queue, which
/// counts both the messages (the channel's bound) and their bytes.
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// The connection task's end of an [`Outbox`].
#[derive(Debug)]
pub struct Inbox {
    rx: mpsc::Receiver<Outgoing>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// Why a message was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The peer is not reading: too many messages or bytes wait for it.
    Full,
    /// The connection has gone.
    Closed,
}

impl Outbox {
    /// A queue of at most `messages` messages and [`MAX_QUEUED_BYTES`].
    pub fn new(messages: usize) -> (Outbox, Inbox) {
        let (tx, rx) = mpsc::channel(messages);
        let queued = Arc::default();
        (
            Outbox {
                tx,
                queued: Arc::clone(&queued),
            },
            Inbox { rx, queued },
        )
    }

    /// Queues a message.
    pub fn send(&self, msg: &Message) -> Result<(), Refused> {
        use std::sync::atomic::Ordering::Relaxed;
        let frame = msg.encode();
        let n = frame.payload.len();
        if self.queued.load(Relaxed).saturating_add(n) > MAX_QUEUED_BYTES {
            return Err(Refused::Full);
        }
        match self.tx.try_send(Outgoing::Frame(frame)) {
            Ok(()) => {
                self.queued.fetch_add(n, Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => Err(Refused::Full),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Refused::Closed),
        }
    }

    /// Asks the connection to end the session.
    pub fn close(&self, why: String) {
        let _ = self.tx.try_send(Outgoing::Close(why));
    }
}

impl Inbox {
    /// The next thing to send (`None` once the actor let go).
    pub async fn recv(&mut self) -> Option<Outgoing> {
        let o = self.rx.recv().await;
        if let Some(Outgoing::Frame(f)) = &o {
            self.queued
                .fetch_sub(f.payload.len(), std::sync::atomic::Ordering::Relaxed);
        }
        o
    }

    /// Bytes queued now.
    pub fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }
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
        out: Outbox,
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
    /// A device holding the group key presented the group's card naming it
    /// a steward (`trust::recovery`), on the join protocol.
    Recover {
        /// The presenting device.
        device: DeviceId,
        /// The card, its signature verified.
        card: groundwork_protocol::card::SignedCard,
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
        reply: oneshot::Sender<Result<PeerRecord, super::ActorError>>,
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
        reply: oneshot::Sender<Result<(), super::ActorError>>,
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
        /// The document's epoch when the copy was taken (number, genesis):
        /// a snapshot of an epoch the document has since left is dropped.
        epoch: (u64, Option<automerge::ChangeHash>),
    },
    /// This group's membership summary, counted on a helper thread.
    SummaryCounted(
        Box<Result<groundwork_protocol::records::MembershipSummary, crate::group::GroupError>>,
    ),
    /// A question or control request, answered on its own channel.
    Ask(super::Ask),
    /// Talking to a peer failed (for `status`).
    PeerError {
        /// The peer.
        device: DeviceId,
        /// What went wrong.
        error: String,
    },
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
            Cmd::Recover { .. } => "Recover",
            Cmd::LinkRequest { .. } => "LinkRequest",
            Cmd::LinkAnswered { .. } => "LinkAnswered",
            Cmd::SawAddrs { .. } => "SawAddrs",
            Cmd::Discovered { .. } => "Discovered",
            Cmd::Gossiped { .. } => "Gossiped",
            Cmd::GossipNeighbour { .. } => "GossipNeighbour",
            Cmd::Affiliated { .. } => "Affiliated",
            Cmd::Compacted { .. } => "Compacted",
            Cmd::SummaryCounted(_) => "SummaryCounted",
            Cmd::Ask(_) => "Ask",
            Cmd::PeerError { .. } => "PeerError",
            Cmd::Shutdown(_) => "Shutdown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_queued_for_a_peer_are_capped() {
        let (out, mut inbox) = Outbox::new(1000);
        let big = Message::Bye("x".repeat(1000));
        let frame = big.encode().payload.len();
        let fits = MAX_QUEUED_BYTES / frame;
        let mut sent = 0;
        while out.send(&big).is_ok() {
            sent += 1;
            if sent > 1000 {
                break;
            }
        }
        // The message cap (1000) bites first for small messages.
        assert_eq!(sent, 1000.min(fits));
        assert_eq!(inbox.queued(), sent * frame);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            assert!(matches!(inbox.recv().await, Some(Outgoing::Frame(_))));
        });
        assert_eq!(inbox.queued(), (sent - 1) * frame);
        // A message that would take the bytes over the cap is refused.
        let (out, _inbox) = Outbox::new(10);
        let huge = Message::Records(vec![vec![0; MAX_QUEUED_BYTES / 2]]);
        assert_eq!(out.send(&huge), Ok(()));
        assert_eq!(out.send(&huge), Err(Refused::Full));
    }
}

/// What the actor asks of the network's gossip task (the network side runs
/// it; the actor only says what to do).
#[derive(Debug)]
pub enum GossipCmd {
    /// Join the topic of this network.
    Join(GroupId),
    /// A device this node may gossip with, and where it is.
    Peer(DeviceId, Vec<SocketAddr>),
    /// Send a tagged record (or card) to the network.
    Broadcast(Vec<u8>),
}
