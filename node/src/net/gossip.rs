//! Network records by gossip: iroh-gossip on a topic derived from the
//! network id (`protocol::records::network_topic`).
//!
//! A node that belongs to a network (the national node, or a group it
//! affiliated) joins the topic, with the devices it links or syncs with as
//! its way in. Every card and record it keeps goes out on the topic, and
//! whatever arrives is checked like anything else a peer sends: verified,
//! kept only if newer, and logged when refused. Gossip is the fast path;
//! a node that was offline catches up by pull, since every sync session
//! starts by exchanging the cards and records each side holds.
//!
//! Gossip connections pass the same handshake gate as sync: only this
//! group's devices and linked nodes are let in, so the swarm follows the
//! links between groups.

use std::collections::BTreeMap;

use groundwork_protocol::{DeviceId, GroupId};
use iroh::Endpoint;
use iroh::address_lookup::memory::MemoryLookup;
use iroh_gossip::api::{Event, GossipSender};
use iroh_gossip::{Gossip, TopicId};
use n0_future::StreamExt;
use tokio::sync::mpsc;

use super::NodeHandle;
use crate::runtime::Cmd;

/// The ALPN gossip speaks.
pub const GOSSIP_ALPN: &[u8] = iroh_gossip::ALPN;

/// The largest gossip message: a card (the biggest record) and its tag.
pub const MAX_MESSAGE: usize = groundwork_protocol::card::MAX_CARD_BYTES + 1024;

pub use crate::runtime::GossipCmd;

/// Creates the gossip protocol for `ep` (register it on the Router).
pub fn protocol(ep: &Endpoint) -> Gossip {
    Gossip::builder()
        .max_message_size(MAX_MESSAGE)
        .spawn(ep.clone())
}

/// Starts the task that runs gossip for the node; returns where to send it
/// commands.
pub fn start(ep: &Endpoint, gossip: Gossip, node: NodeHandle) -> mpsc::UnboundedSender<GossipCmd> {
    let (tx, mut rx) = mpsc::unbounded_channel::<GossipCmd>();
    let lookup = MemoryLookup::new();
    match ep.address_lookup() {
        Ok(l) => l.add(lookup.clone()),
        Err(e) => tracing::warn!("gossip cannot look up addresses: {e}"),
    }
    let tasks = node.tasks().clone();
    tasks.spawn(async move {
        let mut known: BTreeMap<DeviceId, iroh::EndpointId> = BTreeMap::new();
        let mut topics: BTreeMap<GroupId, GossipSender> = BTreeMap::new();
        while let Some(cmd) = rx.recv().await {
            match cmd {
                GossipCmd::Peer(device, addrs) => {
                    let Ok(addr) = super::endpoint_addr(&device, &addrs) else {
                        continue;
                    };
                    let id = addr.id;
                    if !addrs.is_empty() {
                        lookup.add_endpoint_info(addr);
                    }
                    if known.insert(device, id).is_none() {
                        for sender in topics.values() {
                            let _ = sender.join_peers(vec![id]).await;
                        }
                    }
                }
                GossipCmd::Join(network) => {
                    if topics.contains_key(&network) {
                        continue;
                    }
                    let topic =
                        TopicId::from_bytes(groundwork_protocol::records::network_topic(&network));
                    let bootstrap: Vec<_> = known.values().copied().collect();
                    match gossip.subscribe(topic, bootstrap).await {
                        Ok(t) => {
                            let (sender, receiver) = t.split();
                            topics.insert(network, sender);
                            node.tasks().spawn(receive(network, receiver, node.clone()));
                            tracing::info!(network = %network.fmt_short(), "joined the network's gossip topic");
                        }
                        Err(e) => tracing::warn!("could not join the network's gossip topic: {e}"),
                    }
                }
                GossipCmd::Broadcast(bytes) => {
                    for sender in topics.values() {
                        if let Err(e) = sender.broadcast(bytes.clone().into()).await {
                            tracing::debug!("gossip broadcast failed: {e}");
                        }
                    }
                }
            }
        }
    });
    tx
}

/// Hands everything that arrives on a topic to the node.
async fn receive(
    network: GroupId,
    mut receiver: iroh_gossip::api::GossipReceiver,
    node: NodeHandle,
) {
    while let Some(event) = receiver.next().await {
        let cmd = match event {
            Ok(Event::Received(m)) => {
                super::wire_dump(&m.content);
                let Ok(from) = DeviceId::from_bytes(m.delivered_from.as_bytes()) else {
                    continue;
                };
                Cmd::Gossiped {
                    from,
                    bytes: m.content.to_vec(),
                }
            }
            Ok(Event::NeighborUp(id)) => match DeviceId::from_bytes(id.as_bytes()) {
                Ok(d) => Cmd::GossipNeighbour {
                    device: d,
                    up: true,
                },
                Err(_) => continue,
            },
            Ok(Event::NeighborDown(id)) => match DeviceId::from_bytes(id.as_bytes()) {
                Ok(d) => Cmd::GossipNeighbour {
                    device: d,
                    up: false,
                },
                Err(_) => continue,
            },
            Ok(Event::Lagged) => {
                // Missed messages come back by pull in the next session.
                tracing::info!(network = %network.fmt_short(), "gossip lagged; some records wait for the next sync");
                continue;
            }
            Err(e) => {
                tracing::info!(network = %network.fmt_short(), "left the gossip topic: {e}");
                return;
            }
        };
        if node.send(cmd).await.is_err() {
            return;
        }
    }
}
