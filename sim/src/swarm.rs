//! Gossip connections: what iroh-gossip's networking does with the state
//! machine's output (`iroh_gossip::net`), over the simulated links.
//!
//! A message to a peer with no connection dials it first; the dial takes
//! a round trip and passes the peer's handshake gate, which admits only
//! its own group's devices and linked groups' (`trust::admission`, as the
//! real node's `Gate`). A refused dial tells the state machine the peer
//! is gone, as a failed dial does in iroh-gossip. Frames are the
//! postcard-encoded message behind a 4-byte length.

use groundwork_protocol::trust::admission::{Admission, Alpn};
use iroh_gossip::proto::{InEvent, Message, OutEvent};

use crate::gossip::{FRAME_HEADER, PeerId};
use crate::sim::{Ev, Sim};

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Sim {
    /// Feeds node `i`'s gossip one event and carries the result.
    pub(crate) fn gossip_in(&mut self, i: usize, ev: InEvent<PeerId>) {
        let now = crate::gossip::instant(self.origin, self.q.now());
        let out = self.gossip[i].handle(ev, now);
        self.gossip_out(i, out);
    }

    pub(crate) fn gossip_out(&mut self, i: usize, evs: Vec<OutEvent<PeerId>>) {
        for ev in evs {
            match ev {
                OutEvent::SendMessage(peer, msg) => {
                    let Some(&to) = self.by_device.get(&peer) else {
                        continue;
                    };
                    self.gossip_send(i, to, msg);
                }
                OutEvent::EmitEvent(_, event) => match event {
                    iroh_gossip::proto::Event::Received(m) => {
                        self.gossip[i].received += 1;
                        let bytes = m.content.to_vec();
                        self.with_node(i, |n, cx| n.gossiped(bytes, cx));
                    }
                    iroh_gossip::proto::Event::NeighborUp(p) => {
                        self.gossip[i].neighbours.insert(p);
                    }
                    iroh_gossip::proto::Event::NeighborDown(p) => {
                        self.gossip[i].neighbours.remove(&p);
                    }
                },
                OutEvent::ScheduleTimer(after, timer) => {
                    let at = self.q.now() + after.as_nanos() as u64;
                    self.q
                        .at(at, (self.depth, Ev::GossipTimer { node: i, timer }));
                }
                OutEvent::DisconnectPeer(peer) => {
                    let Some(&to) = self.by_device.get(&peer) else {
                        continue;
                    };
                    if let Some(c) = self.gconns.remove(&pair(i, to))
                        && c.open
                    {
                        let at = self.q.now() + self.links.latency(i, to);
                        self.q
                            .at(at, (self.depth + 1, Ev::GossipDown { node: to, peer: i }));
                    }
                }
                OutEvent::PeerData(_, _) => {}
            }
        }
    }

    fn gossip_send(&mut self, from: usize, to: usize, msg: Message<PeerId>) {
        let c = self.gconns.entry(pair(from, to)).or_default();
        if c.open {
            self.gossip_carry(from, to, msg);
            return;
        }
        c.queue.push((from, msg));
        if !c.dialing {
            c.dialing = true;
            let at = self.q.now() + self.links.rtt(from, to);
            self.q
                .at(at, (self.depth + 1, Ev::GossipDialed { from, to }));
        }
    }

    fn gossip_carry(&mut self, from: usize, to: usize, msg: Message<PeerId>) {
        let bytes = FRAME_HEADER + msg.size().unwrap_or(0);
        self.traffic[from].gossip_sent += bytes as u64;
        let now = self.q.now();
        let stream = (u64::MAX - (from as u64) * 1_000_003 - to as u64, true);
        let (_, at) = self.links.arrival(now, from, to, stream, bytes);
        self.q.at(
            at,
            (
                self.depth + 1,
                Ev::Gossip {
                    from,
                    to,
                    msg,
                    bytes,
                },
            ),
        );
    }

    pub(crate) fn gossip_dialed(&mut self, from: usize, to: usize) {
        let view = self.nodes[to].me.view(&self.nodes[to].known);
        let admitted = Admission::of(&view)
            .admit(&self.nodes[from].me.me, Alpn::Gossip)
            .is_ok();
        let Some(c) = self.gconns.get_mut(&pair(from, to)) else {
            return;
        };
        c.dialing = false;
        let queue = std::mem::take(&mut c.queue);
        if admitted {
            c.open = true;
            for (f, m) in queue {
                let t = if f == from { to } else { from };
                self.gossip_carry(f, t, m);
            }
        } else {
            self.out.gossip_refused += 1;
            self.gconns.remove(&pair(from, to));
            let id = *self.nodes[to].me.me.as_bytes();
            self.gossip_in(from, InEvent::PeerDisconnected(id));
        }
    }

    pub(crate) fn gossip_arrives(
        &mut self,
        from: usize,
        to: usize,
        msg: Message<PeerId>,
        bytes: usize,
    ) {
        if !self.gconns.get(&pair(from, to)).is_some_and(|c| c.open) {
            self.out.dropped_gossip_bytes += bytes as u64;
            return;
        }
        self.traffic[to].gossip_received += bytes as u64;
        let id = *self.nodes[from].me.me.as_bytes();
        self.gossip_in(to, InEvent::RecvMessage(id, msg));
    }
}
