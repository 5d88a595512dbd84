//! Each node's gossip: iroh-gossip's own protocol state machine
//! (`iroh_gossip::proto::State`: HyParView membership and PlumTree
//! broadcast), driven as the real node's gossip task drives it
//! (`node/src/net/gossip.rs`): a device met in a session becomes a known
//! peer and, once the node has joined its network's topic, a way in; the
//! topic is joined with every known peer as bootstrap; every card and
//! record kept is broadcast to the swarm.
//!
//! The peer identity is the device's 32 public key bytes, as the real
//! endpoint id is, so the control messages have their real sizes. The
//! configuration is the real one: iroh-gossip's defaults with the node's
//! maximum message size.

use std::collections::BTreeSet;
use std::time::Duration;

use n0_future::time::Instant;

use bytes::Bytes;
use iroh_gossip::proto::{Command, Config, InEvent, OutEvent, PeerData, Scope, State, TopicId};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::node::GossipCmd;

/// A peer's identity on the gossip layer: its device key's bytes.
pub type PeerId = [u8; 32];

/// The largest gossip message (`node/src/net/gossip.rs`: a card and a tag).
pub const MAX_MESSAGE: usize = groundwork_protocol::card::MAX_CARD_BYTES + 1024;

/// The bytes a gossip frame adds to the postcard-encoded message (a u32
/// length, `iroh_gossip::net::util::write_frame`).
pub const FRAME_HEADER: usize = 4;

/// What the real node announces as its peer data (its addresses): one
/// IPv4 socket address, encoded, on loopback with relays off.
const PEER_DATA_BYTES: usize = 10;

/// One node's gossip.
#[derive(Debug)]
pub struct Gossip {
    state: State<PeerId, StdRng>,
    known: BTreeSet<PeerId>,
    topic: Option<TopicId>,
    /// Direct neighbours now.
    pub neighbours: BTreeSet<PeerId>,
    /// Cards and records delivered to the node by gossip.
    pub received: u64,
}

impl Gossip {
    /// The gossip of device `me`, its randomness from `seed`.
    pub fn new(me: PeerId, seed: u64) -> Self {
        let config = Config {
            max_message_size: MAX_MESSAGE,
            ..Config::default()
        };
        Gossip {
            state: State::new(
                me,
                PeerData::new(vec![0u8; PEER_DATA_BYTES]),
                config,
                StdRng::seed_from_u64(seed),
            ),
            known: BTreeSet::new(),
            topic: None,
            neighbours: BTreeSet::new(),
            received: 0,
        }
    }

    /// Runs one of the node's commands (as the real gossip task does).
    pub fn command(&mut self, cmd: GossipCmd, now: Instant) -> Vec<OutEvent<PeerId>> {
        match cmd {
            GossipCmd::Peer(device) => {
                let id = *device.as_bytes();
                match (self.known.insert(id), self.topic) {
                    (true, Some(topic)) => {
                        self.handle(InEvent::Command(topic, Command::Join(vec![id])), now)
                    }
                    _ => Vec::new(),
                }
            }
            GossipCmd::Join(network) => {
                if self.topic.is_some() {
                    return Vec::new();
                }
                let topic =
                    TopicId::from_bytes(groundwork_protocol::records::network_topic(&network));
                self.topic = Some(topic);
                let bootstrap = self.known.iter().copied().collect();
                self.handle(InEvent::Command(topic, Command::Join(bootstrap)), now)
            }
            GossipCmd::Broadcast(bytes) => match self.topic {
                Some(topic) => self.handle(
                    InEvent::Command(topic, Command::Broadcast(Bytes::from(bytes), Scope::Swarm)),
                    now,
                ),
                None => Vec::new(),
            },
        }
    }

    /// Feeds the state machine one event.
    pub fn handle(&mut self, event: InEvent<PeerId>, now: Instant) -> Vec<OutEvent<PeerId>> {
        self.state.handle(event, now, None).collect()
    }
}

/// The simulation's clock as the `Instant` the state machine reads: a
/// fixed origin plus simulated time (the machine only ever compares
/// instants it was given, so the run stays deterministic).
pub fn instant(origin: Instant, nanos: u64) -> Instant {
    origin + Duration::from_nanos(nanos)
}
