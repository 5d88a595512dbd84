//! What a run measured, and the Markdown the binary prints: one row per
//! size, then the growth between sizes (log-log slopes) and a straight
//! extrapolation along the last slope.

use std::collections::BTreeMap;

use crate::Config;
use crate::net::Nanos;
use crate::sim::Sim;

/// One node's traffic, in bytes (frames with their headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Sync frames written.
    pub sync_sent: u64,
    /// Sync frames read.
    pub sync_received: u64,
    /// Sync frames written, counted.
    pub frames_sent: u64,
    /// Sync frames read, counted.
    pub frames_received: u64,
    /// Gossip frames written.
    pub gossip_sent: u64,
    /// Gossip frames read.
    pub gossip_received: u64,
    /// Link exchange frames written (requests, answers, affiliations).
    pub link_sent: u64,
    /// Link exchange frames read.
    pub link_received: u64,
}

/// What the national node holds at the end, in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Signed cards held (their encoded bytes).
    pub cards: u64,
    /// Signed records held (affiliations and summaries, encoded).
    pub records: u64,
    /// Documents held.
    pub docs: u64,
    /// Their saved (compressed snapshot) size.
    pub docs_saved: u64,
    /// Change signatures held (hash and signature each).
    pub signatures: u64,
    /// Live sessions' sync states (encoded) and their document sets.
    pub sessions: u64,
    /// Live sessions.
    pub live_sessions: u64,
}

impl Memory {
    /// Everything counted.
    pub fn total(&self) -> u64 {
        self.cards + self.records + self.docs_saved + self.signatures + self.sessions
    }
}

/// The figures of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Groups.
    pub groups: usize,
    /// Seed.
    pub seed: u64,
    /// When the national node first counted every affiliated group's summary.
    pub summaries_at: Option<Nanos>,
    /// The causal depth (messages in a chain) of that moment.
    pub summaries_rounds: Option<u32>,
    /// When every group first held the whole directory (every card).
    pub directory_at: Option<Nanos>,
    /// Its causal depth.
    pub directory_rounds: Option<u32>,
    /// The run stopped because no directory completed for two simulated
    /// minutes after the summaries were in.
    pub stalled: bool,
    /// Groups the national node counts (card, its affiliation, a summary).
    pub reporting: usize,
    /// Which groups' summaries the national node counts (index 0 unused).
    pub counted: Vec<bool>,
    /// Which group nodes hold the whole directory (index 0 unused).
    pub full: Vec<bool>,
    /// Simulated time at the end.
    pub end: Nanos,
    /// Events handled.
    pub events: u64,
    /// Sync messages delivered.
    pub messages: u64,
    /// Sync connections dialed.
    pub connections: u64,
    /// Per node traffic at the end (index 0: the national node).
    pub traffic: Vec<Traffic>,
    /// Per node traffic when the summaries were all in.
    pub traffic_at_summaries: Option<Vec<Traffic>>,
    /// Sync bytes sent but never read (in flight when a session ended).
    pub dropped_bytes: u64,
    /// Gossip bytes sent but never read.
    pub dropped_gossip_bytes: u64,
    /// Sync bytes on their way when the run stopped.
    pub in_flight_bytes: u64,
    /// Gossip bytes on their way when the run stopped.
    pub in_flight_gossip_bytes: u64,
    /// Packets lost and resent.
    pub lost_packets: u64,
    /// Gossip dials the handshake gate refused.
    pub gossip_refused: u64,
    /// The national node's sync frames sent, by message kind: (frames, bytes).
    pub national_by_kind: BTreeMap<&'static str, (u64, u64)>,
    /// Why sessions ended, and how often.
    pub end_reasons: BTreeMap<String, u64>,
    /// Verifications asked for, and made (each distinct item once).
    pub verifications: (u64, u64),
    /// The national node's holdings.
    pub national: Memory,
    /// The national node's gossip neighbours at the end, and the median
    /// group's.
    pub gossip_neighbours: (usize, usize),
}

impl Outcome {
    pub(crate) fn new(config: &Config) -> Outcome {
        Outcome {
            groups: config.groups,
            seed: config.seed,
            full: vec![false; config.groups + 1],
            counted: vec![false; config.groups + 1],
            ..Outcome::default()
        }
    }

    /// Groups holding the whole directory.
    pub fn full_directories(&self) -> usize {
        self.full.iter().filter(|f| **f).count()
    }

    /// Sync bytes sent plus received by each group node, sorted.
    pub fn group_bytes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.traffic[1..]
            .iter()
            .map(|t| t.sync_sent + t.sync_received)
            .collect();
        v.sort_unstable();
        v
    }

    /// Gossip bytes sent plus received by each group node, sorted.
    pub fn group_gossip_bytes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.traffic[1..]
            .iter()
            .map(|t| t.gossip_sent + t.gossip_received)
            .collect();
        v.sort_unstable();
        v
    }
}

/// The median of sorted values.
pub fn median(sorted: &[u64]) -> u64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

impl Sim {
    pub(crate) fn finish(mut self) -> Outcome {
        self.out.end = self.q.now();
        for (_, ev) in self.q.pending() {
            match ev {
                crate::sim::Ev::Deliver { frame, .. } => {
                    self.out.in_flight_bytes +=
                        (groundwork_protocol::wire::frame::HEADER_LEN + frame.payload.len()) as u64;
                }
                crate::sim::Ev::Gossip { bytes, .. } => {
                    self.out.in_flight_gossip_bytes += *bytes as u64;
                }
                _ => {}
            }
        }
        self.out.traffic = self.traffic.clone();
        self.out.lost_packets = self.links.lost_packets;
        self.out.verifications = (self.verified.asked, self.verified.checks);
        let ids: Vec<_> = self.nodes.iter().map(|n| n.me.own).collect();
        let n = &mut self.nodes[0];
        for (i, g) in ids.iter().enumerate().skip(1) {
            self.out.counted[i] = n.known.summaries.contains_key(g)
                && n.known.cards.contains_key(g)
                && n.known
                    .affiliations
                    .get(g)
                    .is_some_and(|a| a.record().network == n.me.own);
        }
        let mut m = Memory {
            cards: n.known.cards.values().map(|c| c.bytes().len() as u64).sum(),
            records: n
                .known
                .tagged_records()
                .iter()
                .map(|r| r.len() as u64 - 1)
                .sum(),
            docs: n.docs.len() as u64,
            signatures: n.signatures.len() as u64 * (32 + 64),
            live_sessions: n.sessions.len() as u64,
            ..Memory::default()
        };
        for d in n.docs.values_mut() {
            m.docs_saved += groundwork_protocol::edit::save_doc(d).len() as u64;
        }
        for l in n.sessions.values() {
            m.sessions += l.session.shared().len() as u64 * 32;
            for s in l.session.states().values() {
                m.sessions += s.encode().len() as u64;
            }
        }
        self.out.national = m;
        let mut g: Vec<usize> = self.gossip[1..]
            .iter()
            .map(|g| g.neighbours.len())
            .collect();
        g.sort_unstable();
        self.out.gossip_neighbours = (
            self.gossip[0].neighbours.len(),
            g.get(g.len() / 2).copied().unwrap_or(0),
        );
        self.out
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn kib(b: u64) -> f64 {
    b as f64 / 1024.0
}

fn secs(n: Option<Nanos>) -> String {
    n.map_or("not reached".into(), |n| format!("{:.2} s", n as f64 / 1e9))
}

fn directory(o: &Outcome) -> String {
    match o.directory_at {
        Some(_) => format!("{} ({})", secs(o.directory_at), opt(o.directory_rounds)),
        None => format!(
            "not reached: {} of {} groups by {:.0} s",
            o.full_directories(),
            o.groups,
            o.end as f64 / 1e9
        ),
    }
}

fn opt(n: Option<u32>) -> String {
    n.map_or("–".into(), |n| n.to_string())
}

/// One run's row and the wall time it took.
#[derive(Debug, Clone)]
pub struct Row {
    /// The figures.
    pub outcome: Outcome,
    /// Wall-clock seconds the run took.
    pub wall: f64,
    /// The process's peak resident memory after the run (KiB).
    pub peak_rss_kib: u64,
}

/// The Markdown table of the runs.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str(
        "| groups | all summaries at national (rounds) | whole directory everywhere (rounds) | national sync sent / received | national gossip sent / received | sync bytes per group, median (max) | gossip bytes per group, median (max) | national holds (cards, records, docs, sessions) | sync messages | wall time | peak RSS |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let o = &r.outcome;
        let nat = o.traffic.first().copied().unwrap_or_default();
        let g = o.group_bytes();
        let gg = o.group_gossip_bytes();
        let m = &o.national;
        s.push_str(&format!(
            "| {} | {} ({}) | {} | {:.1} / {:.1} MiB | {:.1} / {:.1} MiB | {:.0} KiB ({:.0} KiB) | {:.0} KiB ({:.0} KiB) | {:.1} MiB ({:.2}, {:.2}, {:.2} in {} docs, {:.2}) | {} | {:.1} s | {:.0} MiB |\n",
            o.groups,
            secs(o.summaries_at),
            opt(o.summaries_rounds),
            directory(o),
            mib(nat.sync_sent),
            mib(nat.sync_received),
            mib(nat.gossip_sent),
            mib(nat.gossip_received),
            kib(median(&g)),
            kib(g.last().copied().unwrap_or(0)),
            kib(median(&gg)),
            kib(gg.last().copied().unwrap_or(0)),
            mib(m.total()),
            mib(m.cards),
            mib(m.records),
            mib(m.docs_saved),
            m.docs,
            mib(m.sessions),
            o.messages,
            r.wall,
            r.peak_rss_kib as f64 / 1024.0,
        ));
    }
    s
}

/// What the national node sent, by message kind, at each size.
pub fn by_kind(rows: &[Row]) -> String {
    let kinds: std::collections::BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.outcome.national_by_kind.keys().copied())
        .collect();
    let mut s = String::from("| national node sent, by message |");
    for r in rows {
        s.push_str(&format!(" {} groups |", r.outcome.groups));
    }
    s.push_str("\n|---|");
    for _ in rows {
        s.push_str("---|");
    }
    s.push('\n');
    for k in kinds {
        s.push_str(&format!("| {k} |"));
        for r in rows {
            let (n, b) = r
                .outcome
                .national_by_kind
                .get(k)
                .copied()
                .unwrap_or_default();
            s.push_str(&format!(" {:.1} MiB in {n} |", mib(b)));
        }
        s.push('\n');
    }
    s
}

/// A figure of a run, for the growth table.
type Figure = (&'static str, fn(&Row) -> Option<f64>);

const FIGURES: [Figure; 6] = [
    ("time to all summaries (s)", |r| {
        r.outcome.summaries_at.map(|n| n as f64 / 1e9)
    }),
    ("rounds to all summaries", |r| {
        r.outcome.summaries_rounds.map(f64::from)
    }),
    ("national sync bytes sent (MiB)", |r| {
        r.outcome.traffic.first().map(|t| mib(t.sync_sent))
    }),
    ("sync bytes per group, median (KiB)", |r| {
        Some(kib(median(&r.outcome.group_bytes())))
    }),
    ("sync bytes per group, max (KiB)", |r| {
        r.outcome.group_bytes().last().map(|b| kib(*b))
    }),
    ("national holds (MiB)", |r| {
        Some(mib(r.outcome.national.total()))
    }),
];

/// The log-log slope between two sizes.
pub fn slope(n0: f64, y0: f64, n1: f64, y1: f64) -> Option<f64> {
    (y0 > 0.0 && y1 > 0.0 && n1 > n0).then(|| (y1 / y0).ln() / (n1 / n0).ln())
}

/// Growth exponents between successive sizes, and each figure carried to
/// `target` groups along the last slope.
pub fn growth(rows: &[Row], target: usize) -> String {
    let mut s = String::from("| figure |");
    for w in rows.windows(2) {
        s.push_str(&format!(
            " slope {}→{} |",
            w[0].outcome.groups, w[1].outcome.groups
        ));
    }
    s.push_str(&format!(" at {target} (last slope) |\n|---|"));
    for _ in rows.windows(2) {
        s.push_str("---|");
    }
    s.push_str("---|\n");
    for (name, f) in FIGURES {
        s.push_str(&format!("| {name} |"));
        let mut last = None;
        for w in rows.windows(2) {
            let (n0, n1) = (w[0].outcome.groups as f64, w[1].outcome.groups as f64);
            let k = f(&w[0])
                .zip(f(&w[1]))
                .and_then(|(a, b)| slope(n0, a, n1, b));
            s.push_str(&k.map_or(" – |".into(), |k| format!(" {k:.2} |")));
            last = k.zip(f(&w[1])).map(|(k, y)| (k, n1, y));
        }
        let at = last.map(|(k, n, y)| y * (target as f64 / n).powf(k));
        s.push_str(&at.map_or(" – |\n".into(), |v| format!(" {v:.1} |\n")));
    }
    s
}
