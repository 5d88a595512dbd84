//! Why a network operation failed: dialing, an exchange, a session's
//! stream. Each carries the control API's code, so `peer add` against a
//! node that is down is "unavailable", and a malformed ticket "usage".

use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::join::JoinMessageError;
use groundwork_protocol::link::LinkMessageError;
use groundwork_protocol::sync::messages::MessageError;
use groundwork_protocol::wire::frame::FrameError;

use crate::runtime::{ActorError, LinkCardError};

/// A foreign error kept as the source (iroh's, the socket's).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

impl NetError {
    /// Whether this is a device that could not be reached at all (it may
    /// not be running), as opposed to one that answered badly.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            NetError::DialTimedOut { .. } | NetError::Unreachable { .. }
        )
    }
}

/// The addresses a dial tries, for an error line: "127.0.0.1:4100,
/// 192.168.1.5:4100", or how else the device is looked for.
pub fn tried(addrs: &[std::net::SocketAddr]) -> String {
    if addrs.is_empty() {
        return "no address known: looked for on the local network".into();
    }
    let shown: Vec<String> = addrs.iter().take(4).map(ToString::to_string).collect();
    match addrs.len() {
        n if n > 4 => format!("{} and {} more", shown.join(", "), n - 4),
        _ => shown.join(", "),
    }
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The node is stopping: its actor no longer answers.
    #[error("the node is shutting down")]
    Stopping,
    /// The endpoint could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: Source,
    },
    /// A ticket that does not parse.
    #[error("not a groundwork ticket ({0}); copy the whole `ticket:` value")]
    BadTicket(String),
    /// A link ticket that does not parse.
    #[error(transparent)]
    BadLinkTicket(groundwork_protocol::invite::InviteParseError),
    /// A device key that is not a key (from a ticket, or a peer's).
    #[error("{0}")]
    BadKey(&'static str),
    /// Dialing a device did not finish in time.
    #[error("timed out after {secs} s reaching {device} (tried {tried})")]
    DialTimedOut {
        /// The device, shortened.
        device: String,
        /// The addresses tried, or how it was looked for.
        tried: String,
        /// How long it tried.
        secs: u64,
    },
    /// An exchange's answer did not come in time.
    #[error("timed out waiting for {0}")]
    AnswerTimedOut(String),
    /// The device could not be reached.
    #[error("cannot reach {device} (tried {tried})")]
    Unreachable {
        /// The device, shortened.
        device: String,
        /// The addresses tried, or how it was looked for.
        tried: String,
        /// Why.
        #[source]
        source: Source,
    },
    /// A stream operation failed.
    #[error("{doing}")]
    Stream {
        /// What was being done (sending, receiving, opening a stream).
        doing: &'static str,
        /// Why.
        #[source]
        source: Source,
    },
    /// A frame that breaks the framing rules.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer kept silent after connecting.
    #[error("the peer said nothing for {0} s after connecting")]
    Silent(u64),
    /// The peer is sending a frame too slowly.
    #[error(
        "the peer is sending too slowly: a frame of {announced} bytes is unfinished after {secs} s"
    )]
    TooSlow {
        /// The frame's announced length.
        announced: usize,
        /// The deadline it missed.
        secs: u64,
    },
    /// The stream ended in the middle of a frame.
    #[error("the stream ended inside a frame")]
    EndedInFrame,
    /// A sync message that does not decode.
    #[error("bad message from peer: {0}")]
    BadMessage(#[from] MessageError),
    /// The peer ended the session, and why (its words).
    #[error("the peer ended the session: {0}")]
    PeerEnded(String),
    /// The other side closed an exchange without answering.
    #[error("{0} closed without answering")]
    NoAnswer(&'static str),
    /// An exchange's answer that does not decode.
    #[error("{who} sent a bad answer: {why}")]
    BadLinkAnswer {
        /// Who answered.
        who: &'static str,
        /// Why.
        why: LinkMessageError,
    },
    /// A join reply or request that does not decode.
    #[error("{who} sent a bad reply: {why}")]
    BadJoinMessage {
        /// Who sent it.
        who: &'static str,
        /// Why.
        why: JoinMessageError,
    },
    /// A link or join frame of the wrong kind for the exchange.
    #[error("{who} sent an unexpected answer")]
    Unexpected {
        /// Who sent it.
        who: &'static str,
    },
    /// The other node refused, and why (its words).
    #[error("{who} refused {what}: {why}")]
    Refused {
        /// Who refused.
        who: &'static str,
        /// What it refused ("to link", "the affiliation").
        what: &'static str,
        /// Its reason.
        why: String,
    },
    /// `affiliate` was given a national node's ticket.
    #[error("that is a national node, not a group")]
    NotAGroup,
    /// `affiliate` on a node that is not the national node.
    #[error("only the national node affiliates groups (found one with `national init`)")]
    NotNational,
    /// The group accepted, but no affiliation came of it (a bug, or the
    /// national key is missing).
    #[error("could not affiliate the group")]
    NotAffiliated,
    /// The group card in an answer does not verify.
    #[error("the group's card is invalid: {0}")]
    BadCard(groundwork_protocol::card::CardRejected),
    /// LAN discovery could not start.
    #[error("starting LAN discovery: {0}")]
    Lan(String),
    /// The actor refused the answer or the record.
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// This node's card cannot go into a link request.
    #[error(transparent)]
    LinkCard(#[from] LinkCardError),
}

impl NetError {
    /// A stream operation's failure.
    pub(crate) fn stream(
        doing: &'static str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        NetError::Stream {
            doing,
            source: Box::new(e),
        }
    }

    /// The control API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            NetError::BadTicket(_)
            | NetError::BadLinkTicket(_)
            | NetError::BadKey(_)
            | NetError::NotAGroup => ErrorCode::Usage,
            NetError::Refused { .. } | NetError::NotNational => ErrorCode::Forbidden,
            NetError::NotAffiliated => ErrorCode::Internal,
            NetError::Actor(e) => e.code(),
            NetError::LinkCard(LinkCardError::OwnTicket) => ErrorCode::Usage,
            NetError::LinkCard(LinkCardError::NotSteward) => ErrorCode::Forbidden,
            NetError::Lan(_) => ErrorCode::Internal,
            NetError::Stopping
            | NetError::Bind { .. }
            | NetError::DialTimedOut { .. }
            | NetError::AnswerTimedOut(_)
            | NetError::Unreachable { .. }
            | NetError::Stream { .. }
            | NetError::Frame(_)
            | NetError::Silent(_)
            | NetError::TooSlow { .. }
            | NetError::EndedInFrame
            | NetError::BadMessage(_)
            | NetError::PeerEnded(_)
            | NetError::NoAnswer(_)
            | NetError::BadLinkAnswer { .. }
            | NetError::BadJoinMessage { .. }
            | NetError::Unexpected { .. }
            | NetError::BadCard(_) => ErrorCode::Unavailable,
        }
    }
}

/// A network operation's result.
pub type NetResult<T> = Result<T, NetError>;
