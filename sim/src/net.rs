//! Simulated time, the discrete-event queue, and the links: when a message
//! sent now arrives.
//!
//! Time is whole nanoseconds from the start of the run. Events are kept in
//! a binary heap keyed by (time, sequence number), so two events at the
//! same time run in the order they were scheduled, and a seed gives the
//! same run every time.
//!
//! A link between two nodes is reliable and ordered, like a QUIC stream:
//!
//! - each pair of nodes has a one-way latency drawn once from the seed
//!   (uniform in `latency_ms`), the same both ways;
//! - a node's uplink sends one message at a time at `uplink_mbit`: a
//!   message leaves when the uplink is free, taking its size over the rate
//!   (the national node's uplink is its own knob, `national_mbit`);
//! - loss is retransmission delay: each 1,200-byte packet of a message is
//!   lost with probability `loss`, and each loss adds a retransmission
//!   timeout of three round trips (QUIC's probe timeout is about
//!   1.5 to 3 round trips), without bytes counted twice;
//! - nothing overtakes: a message on a stream never arrives before the one
//!   sent before it on that stream.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng};

/// Simulated time in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds in a millisecond.
pub const MS: Nanos = 1_000_000;

/// The payload of a QUIC packet, for counting packets and losses.
pub const PACKET: usize = 1200;

/// The link model's knobs.
#[derive(Clone, Debug)]
pub struct LinkModel {
    /// One-way latency range, in milliseconds (uniform, per pair of nodes).
    pub latency_ms: (u64, u64),
    /// Probability that a packet is lost (and resent after a timeout).
    pub loss: f64,
    /// A group node's uplink, in megabits a second.
    pub uplink_mbit: f64,
    /// The national node's uplink, in megabits a second.
    pub national_mbit: f64,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            latency_ms: (10, 60),
            loss: 0.01,
            uplink_mbit: 20.0,
            national_mbit: 100.0,
        }
    }
}

/// An event queue entry: when, the order it was scheduled in, and what.
struct Entry<E> {
    at: Nanos,
    seq: u64,
    // Boxed: the heap moves entries as it sifts, and an event carrying a
    // frame is large.
    event: Box<E>,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The discrete-event queue.
pub struct Queue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
    now: Nanos,
}

impl<E> std::fmt::Debug for Queue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("now", &self.now)
            .field("pending", &self.heap.len())
            .finish()
    }
}

impl<E> Default for Queue<E> {
    fn default() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
        }
    }
}

impl<E> Queue<E> {
    /// The time of the event being handled.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Schedules `event` at `at` (never before now).
    pub fn at(&mut self, at: Nanos, event: E) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at: at.max(self.now),
            seq: self.seq,
            event: Box::new(event),
        }));
    }

    /// Schedules `event` after `delay`.
    pub fn after(&mut self, delay: Nanos, event: E) {
        self.at(self.now + delay, event);
    }

    /// The next event, advancing the clock to it.
    pub fn pop(&mut self) -> Option<E> {
        let Reverse(e) = self.heap.pop()?;
        self.now = e.at;
        Some(*e.event)
    }

    /// The events still waiting, in no order.
    pub fn pending(&self) -> impl Iterator<Item = &E> {
        self.heap.iter().map(|Reverse(e)| &*e.event)
    }

    /// Events still waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The links' state: latencies, uplinks, streams' last arrivals, and the
/// loss draws.
#[derive(Debug)]
pub struct Links {
    model: LinkModel,
    rng: StdRng,
    latency: HashMap<(usize, usize), Nanos>,
    uplink_free: Vec<Nanos>,
    last_arrival: HashMap<(u64, bool), Nanos>,
    /// Packets lost (and resent) so far.
    pub lost_packets: u64,
}

impl Links {
    /// Links for `nodes` nodes (node 0 is the national node).
    pub fn new(model: LinkModel, nodes: usize, seed: u64) -> Self {
        Links {
            model,
            rng: StdRng::seed_from_u64(seed ^ 0x6c69_6e6b),
            latency: HashMap::new(),
            uplink_free: vec![0; nodes],
            last_arrival: HashMap::new(),
            lost_packets: 0,
        }
    }

    /// The one-way latency between `a` and `b` (drawn on first use).
    pub fn latency(&mut self, a: usize, b: usize) -> Nanos {
        let key = (a.min(b), a.max(b));
        let (lo, hi) = self.model.latency_ms;
        let rng = &mut self.rng;
        *self
            .latency
            .entry(key)
            .or_insert_with(|| rng.random_range(lo * MS..=hi * MS))
    }

    /// The round trip between `a` and `b`.
    pub fn rtt(&mut self, a: usize, b: usize) -> Nanos {
        2 * self.latency(a, b)
    }

    fn rate(&self, node: usize) -> f64 {
        let mbit = if node == 0 {
            self.model.national_mbit
        } else {
            self.model.uplink_mbit
        };
        mbit * 1e6 / 8.0 / 1e9 // bytes per nanosecond
    }

    /// When `bytes` sent now by `from` to `to` on stream (`conn`, `dir`)
    /// leave `from`'s uplink, and when they arrive.
    pub fn arrival(
        &mut self,
        now: Nanos,
        from: usize,
        to: usize,
        stream: (u64, bool),
        bytes: usize,
    ) -> (Nanos, Nanos) {
        let start = now.max(self.uplink_free[from]);
        let serialise = (bytes as f64 / self.rate(from)).ceil() as Nanos;
        self.uplink_free[from] = start + serialise;
        let rtt = self.rtt(from, to);
        let packets = bytes.div_ceil(PACKET).max(1);
        let mut lost = 0;
        if self.model.loss > 0.0 {
            for _ in 0..packets {
                if self.rng.random_bool(self.model.loss) {
                    lost += 1;
                }
            }
        }
        self.lost_packets += lost;
        let at = start + serialise + self.latency(from, to) + lost * 3 * rtt;
        let last = self.last_arrival.entry(stream).or_default();
        *last = (*last).max(at);
        (start, *last)
    }

    /// Forgets a closed connection's streams.
    pub fn forget(&mut self, conn: u64) {
        self.last_arrival.remove(&(conn, true));
        self.last_arrival.remove(&(conn, false));
    }
}
