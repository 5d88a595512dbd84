//! The run: the national node and the groups, the bench's links made in
//! its order, and every event until the national node counts every
//! summary and every group holds the whole directory (or the time limit).
//!
//! Link setup mirrors `tests/benches/network.rs`: for each group in turn,
//! the national node affiliates it (a link exchange it starts with the
//! group's link code), and every odd-numbered group also links with the
//! group before it; at most [`Config::concurrency`] exchanges are under
//! way at once (the bench's semaphore of 16). An exchange is a fresh
//! connection (one round trip), the request and its answer (one more),
//! and for an affiliation the signed record and its acknowledgement (one
//! more). Each side remembers the link when it learns of it; the side
//! with the lower device id dials the sync connection (of two racing
//! dials the real node keeps that one), one round trip to connect, and
//! redials with the real backoff (250 ms doubling to 10 s) when a session
//! ends.

use n0_future::time::Instant;
use std::collections::{BTreeMap, HashMap};

use groundwork_protocol::DeviceId;
use groundwork_protocol::link::LinkMessage;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::wire::frame::{Frame, HEADER_LEN};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng};

use crate::gossip::{Gossip, PeerId};
use crate::net::{Links, Nanos, Queue};
use crate::node::{Ctx, Node, Out};
use crate::report::{Outcome, Traffic};
use crate::verified::Verified;
use crate::{Config, SimError};

/// One link-setup task of the bench.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Task {
    /// The national node affiliates this group.
    Affiliate(usize),
    /// `asking` links with `asked` by `asked`'s link code.
    PeerAdd { asking: usize, asked: usize },
}

/// Something that happens at a moment of simulated time.
#[derive(Debug)]
pub(crate) enum Ev {
    /// A link task starts.
    Start(usize),
    /// The link request reaches the asked node.
    Request(usize),
    /// Its answer (`Accepted`) reaches the asking node.
    Answer(usize),
    /// The affiliation reaches the group.
    Affiliation(usize, Vec<u8>),
    /// The group's `Kept` reaches the national node: the task is done.
    Kept,
    /// `from` dials a sync connection to `to`.
    Dial { from: usize, to: usize },
    /// The dialer's connection is up.
    Opened(u64),
    /// A sync frame arrives on a connection (to the dialer or not).
    Deliver {
        conn: u64,
        to_dialer: bool,
        frame: Frame,
    },
    /// A gossip frame arrives.
    Gossip {
        from: usize,
        to: usize,
        msg: iroh_gossip::proto::Message<PeerId>,
        bytes: usize,
    },
    /// A gossip dial from `from` to `to` is answered.
    GossipDialed { from: usize, to: usize },
    /// `node`'s gossip connection to `peer` is gone.
    GossipDown { node: usize, peer: usize },
    /// A gossip timer fires.
    GossipTimer {
        node: usize,
        timer: iroh_gossip::proto::Timer<PeerId>,
    },
}

/// With every summary in, how long without a group completing its
/// directory before the run stops (it is not converging).
const STALL: Nanos = 120_000 * crate::net::MS;

/// A sync connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) dialer: usize,
    pub(crate) acceptor: usize,
    /// The acceptor has opened its session (on the first frame).
    pub(crate) accepted: bool,
    pub(crate) open: bool,
    pub(crate) opened_at: Nanos,
}

/// A session's frames queued and not yet on the wire.
#[derive(Debug, Default)]
pub(crate) struct Outq {
    /// When each leaves the uplink, and its payload bytes.
    pub(crate) frames: std::collections::VecDeque<(Nanos, usize)>,
    /// Their payload bytes.
    pub(crate) bytes: usize,
}

/// A gossip connection between two nodes.
#[derive(Debug, Default)]
pub(crate) struct GossipConn {
    pub(crate) open: bool,
    /// Messages waiting for the dial, from the dialing side.
    pub(crate) queue: Vec<(usize, iroh_gossip::proto::Message<PeerId>)>,
    pub(crate) dialing: bool,
}

/// The whole simulated network.
pub struct Sim {
    pub(crate) config: Config,
    pub(crate) q: Queue<(u32, Ev)>,
    pub(crate) links: Links,
    pub(crate) nodes: Vec<Node>,
    pub(crate) gossip: Vec<Gossip>,
    pub(crate) by_device: HashMap<PeerId, usize>,
    pub(crate) verified: Verified,
    pub(crate) traffic: Vec<Traffic>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) next_task: usize,
    pub(crate) conns: HashMap<u64, Conn>,
    pub(crate) next_conn: u64,
    pub(crate) backoff: HashMap<(usize, usize), Nanos>,
    pub(crate) gconns: BTreeMap<(usize, usize), GossipConn>,
    pub(crate) rng: StdRng,
    pub(crate) origin: Instant,
    pub(crate) out: Outcome,
    /// The causal depth (in messages) of the event being handled.
    pub(crate) depth: u32,
    pub(crate) complete_directories: usize,
    /// Per session, the frames queued and not yet on the wire: when each
    /// leaves, and its payload bytes.
    pub(crate) queued: HashMap<u64, Outq>,
    /// When a condition last made progress (the summaries, a directory).
    pub(crate) last_progress: Nanos,
    /// Empty documents lent to session calls.
    pub(crate) empties: Vec<automerge::AutoCommit>,
    /// The national node's (cards, affiliations, summaries) when last counted.
    pub(crate) national_sizes: (usize, usize, usize),
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("groups", &self.config.groups)
            .field("now", &self.q.now())
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Founds the nodes and plans the bench's link tasks.
    pub fn new(config: Config) -> Result<Sim, SimError> {
        let founded = crate::world::found_all(config.seed, config.groups)?;
        let mut nodes = Vec::with_capacity(founded.len());
        let mut gossip = Vec::with_capacity(founded.len());
        let mut by_device = HashMap::new();
        let mut seeds = StdRng::seed_from_u64(config.seed ^ 0x676f_7373);
        for (i, f) in founded.into_iter().enumerate() {
            by_device.insert(*f.device().as_bytes(), i);
            gossip.push(Gossip::new(*f.device().as_bytes(), seeds.random()));
            nodes.push(Node::new(i, f));
        }
        let mut tasks = Vec::new();
        for i in 0..config.groups {
            if !config.unaffiliated.contains(&i) {
                tasks.push(Task::Affiliate(i + 1));
            }
            if i % 2 == 1 {
                tasks.push(Task::PeerAdd {
                    asking: i + 1,
                    asked: i,
                });
            }
        }
        let n = nodes.len();
        let mut sim = Sim {
            links: Links::new(config.links.clone(), n, config.seed),
            q: Queue::default(),
            traffic: vec![Traffic::default(); n],
            out: Outcome::new(&config),
            rng: StdRng::seed_from_u64(config.seed ^ 0x6e6f_6973),
            config,
            nodes,
            gossip,
            by_device,
            verified: Verified::default(),
            tasks,
            next_task: 0,
            conns: HashMap::new(),
            next_conn: 1,
            backoff: HashMap::new(),
            gconns: BTreeMap::new(),
            origin: Instant::now(),
            depth: 0,
            complete_directories: 0,
            national_sizes: (0, 0, 0),
            queued: HashMap::new(),
            empties: Vec::new(),
            last_progress: 0,
        };
        // The national node belongs to its own network from the start.
        let national = sim.nodes[0].me.own;
        sim.outputs(0, vec![Out::Gossip(crate::node::GossipCmd::Join(national))]);
        Ok(sim)
    }

    /// Runs until both conditions hold or the time limit passes.
    pub fn run(mut self) -> Outcome {
        let first = self.config.concurrency.min(self.tasks.len());
        for t in 0..first {
            self.q.at(0, (0, Ev::Start(t)));
        }
        self.next_task = first;
        while let Some((depth, ev)) = self.q.pop() {
            if self.q.now() > self.config.limit {
                break;
            }
            self.out.events += 1;
            self.depth = depth;
            self.handle(ev);
            if self.out.summaries_at.is_some() && self.out.directory_at.is_some() {
                break;
            }
            // Every summary is in but no group has completed its directory
            // for a long while: it will not, and the run says how far it got.
            if self.out.summaries_at.is_some()
                && self.q.now().saturating_sub(self.last_progress) > STALL
            {
                self.out.stalled = true;
                break;
            }
        }
        self.finish()
    }

    fn schedule(&mut self, at: Nanos, hops: u32, ev: Ev) {
        let d = self.depth + hops;
        self.q.at(at, (d, ev));
    }

    fn device(&self, i: usize) -> DeviceId {
        self.nodes[i].me.me
    }

    fn handle(&mut self, ev: Ev) {
        let now = self.q.now();
        match ev {
            Ev::Start(t) => {
                let (asker, asked) = self.parties(t);
                let rtt = self.links.rtt(asker, asked);
                let card = self.nodes[asker].known.cards[&self.nodes[asker].me.own]
                    .bytes()
                    .to_vec();
                let bytes = LinkMessage::Request {
                    card,
                    code: Some([0; 16]),
                }
                .encode();
                self.link_bytes(asker, asked, &bytes);
                self.schedule(now + rtt + rtt / 2, 1, Ev::Request(t));
            }
            Ev::Request(t) => {
                let (asker, asked) = self.parties(t);
                let card = self.own_card(asker);
                let device = self.device(asker);
                self.with_node(asked, |n, cx| {
                    n.linked(device, &card, 0, cx);
                });
                self.remembered(asked, asker);
                let answer = LinkMessage::Accepted(self.own_card(asked)).encode();
                self.link_bytes(asked, asker, &answer);
                let half = self.links.latency(asker, asked);
                self.schedule(now + half, 1, Ev::Answer(t));
            }
            Ev::Answer(t) => {
                let (asker, asked) = self.parties(t);
                let card = self.own_card(asked);
                let noise: u64 = self.rng.random();
                let device = self.device(asked);
                let mut affiliation = None;
                self.with_node(asker, |n, cx| {
                    affiliation = n.linked(device, &card, noise, cx);
                });
                self.remembered(asker, asked);
                let half = self.links.latency(asker, asked);
                match affiliation {
                    Some(record) => {
                        let f = LinkMessage::Affiliation(record.clone()).encode();
                        self.link_bytes(asker, asked, &f);
                        self.schedule(now + half, 1, Ev::Affiliation(t, record));
                    }
                    None => self.task_done(),
                }
            }
            Ev::Affiliation(t, record) => {
                let (asker, asked) = self.parties(t);
                self.with_node(asked, |n, cx| n.affiliated(&record, cx));
                self.link_bytes(asked, asker, &LinkMessage::Kept.encode());
                let half = self.links.latency(asker, asked);
                self.schedule(now + half, 1, Ev::Kept);
            }
            Ev::Kept => self.task_done(),
            Ev::Dial { from, to } => self.dial(from, to),
            Ev::Opened(conn) => self.opened(conn),
            Ev::Deliver {
                conn,
                to_dialer,
                frame,
            } => self.deliver(conn, to_dialer, frame),
            Ev::Gossip {
                from,
                to,
                msg,
                bytes,
            } => self.gossip_arrives(from, to, msg, bytes),
            Ev::GossipDialed { from, to } => self.gossip_dialed(from, to),
            Ev::GossipDown { node, peer } => {
                let id = *self.device(peer).as_bytes();
                self.gossip_in(node, iroh_gossip::proto::InEvent::PeerDisconnected(id));
            }
            Ev::GossipTimer { node, timer } => {
                self.gossip_in(node, iroh_gossip::proto::InEvent::TimerExpired(timer));
            }
        }
    }

    fn parties(&self, t: usize) -> (usize, usize) {
        match self.tasks[t] {
            Task::Affiliate(g) => (0, g),
            Task::PeerAdd { asking, asked } => (asking, asked),
        }
    }

    fn own_card(&self, i: usize) -> Vec<u8> {
        self.nodes[i].known.cards[&self.nodes[i].me.own]
            .bytes()
            .to_vec()
    }

    fn link_bytes(&mut self, from: usize, to: usize, f: &Frame) {
        let n = (HEADER_LEN + f.payload.len()) as u64;
        self.traffic[from].link_sent += n;
        self.traffic[to].link_received += n;
    }

    fn task_done(&mut self) {
        if self.next_task < self.tasks.len() {
            let t = self.next_task;
            self.next_task += 1;
            let now = self.q.now();
            self.schedule(now, 0, Ev::Start(t));
        }
    }

    /// `node` now remembers the link with `peer`: the side with the lower
    /// device id dials.
    fn remembered(&mut self, node: usize, peer: usize) {
        if self.device(node) < self.device(peer) {
            let now = self.q.now();
            self.schedule(
                now,
                0,
                Ev::Dial {
                    from: node,
                    to: peer,
                },
            );
        }
    }

    /// Runs `f` on node `i` and carries what it asked for.
    pub(crate) fn with_node(&mut self, i: usize, f: impl FnOnce(&mut Node, &mut Ctx<'_>)) {
        let mut out = Vec::new();
        let mut cx = Ctx {
            verified: &mut self.verified,
            out: &mut out,
            empties: &mut self.empties,
        };
        f(&mut self.nodes[i], &mut cx);
        self.outputs(i, out);
        self.check(i);
    }

    /// Whether node `i` now completes a condition.
    fn check(&mut self, i: usize) {
        let now = self.q.now();
        let groups = self.config.groups;
        let sizes = {
            let k = &self.nodes[0].known;
            (k.cards.len(), k.affiliations.len(), k.summaries.len())
        };
        if i == 0 && self.out.summaries_at.is_none() && sizes != self.national_sizes {
            self.national_sizes = sizes;
            let n = &self.nodes[0];
            let reporting = n
                .known
                .summaries
                .keys()
                .filter(|g| {
                    n.known.cards.contains_key(g)
                        && n.known
                            .affiliations
                            .get(g)
                            .is_some_and(|a| a.record().network == n.me.own)
                })
                .count();
            self.out.reporting = reporting;
            if reporting == groups - self.config.unaffiliated.len() && reporting > 0 {
                self.out.summaries_at = Some(now);
                self.last_progress = now;
                self.out.summaries_rounds = Some(self.depth);
                self.out.traffic_at_summaries = Some(self.traffic.clone());
            }
        }
        let whole = groups + 1 - self.config.unaffiliated.len();
        if i > 0 && self.nodes[i].known.cards.len() >= whole && !self.out.full[i] {
            self.out.full[i] = true;
            self.complete_directories += 1;
            self.last_progress = now;
            if self.complete_directories == groups {
                self.out.directory_at = Some(now);
                self.out.directory_rounds = Some(self.depth);
            }
        }
    }

    fn outputs(&mut self, from: usize, out: Vec<Out>) {
        for o in out {
            match o {
                Out::Send { session, msg } => self.send(from, session, &msg),
                Out::End { session, why } => {
                    *self.out.end_reasons.entry(short(&why)).or_default() += 1;
                    self.send(from, session, &Message::Bye(why));
                    self.conn_closed(session / 2);
                }
                Out::Gossip(cmd) => {
                    let now = crate::gossip::instant(self.origin, self.q.now());
                    let evs = self.gossip[from].command(cmd, now);
                    self.gossip_out(from, evs);
                }
            }
        }
    }
}

/// An end reason without the parts that vary (for counting).
fn short(why: &str) -> String {
    why.chars().take(60).collect()
}
