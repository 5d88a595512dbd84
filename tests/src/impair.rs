//! A seeded UDP impairment relay: what a poor link does to datagrams.
//!
//! iroh speaks QUIC over UDP, and this machine's kernel has no `netem`, so
//! a link's delay, jitter, loss, reordering, duplication and rate are made
//! here, in user space. A [`Relay`] listens on a front address and forwards
//! every datagram to one target; each client address gets its own socket
//! towards the target, so replies find their way back. Both directions
//! pass through a [`Pipe`] with the same [`Impairment`], each with its own
//! random stream drawn from the seed: the same seed makes the same
//! decision for the same datagram in the same order.
//!
//! Used in a network namespace (see [`crate::lab`]) the relay is the only
//! way between two hosts, so nothing bypasses it; it works on loopback
//! too, where a QUIC stack may find the direct path around it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What a link does to each datagram crossing it, in one direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..jitter` (datagrams overtake
    /// each other when it is larger than the gap between them).
    pub jitter: Duration,
    /// Chance a datagram is lost.
    pub loss: f64,
    /// Chance a datagram is delivered twice.
    pub duplicate: f64,
    /// Chance a datagram is held back a further `delay + jitter`, so later
    /// ones overtake it.
    pub reorder: f64,
    /// The link's rate in bits per second (`None`: as fast as it comes).
    pub rate_bits: Option<u64>,
    /// The most a datagram may wait for the rate before it is dropped (the
    /// link's buffer, as time).
    pub queue: Duration,
}

impl Impairment {
    /// A perfect link.
    pub const NONE: Impairment = Impairment {
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        rate_bits: None,
        queue: Duration::from_secs(1),
    };

    /// A bad mobile link: 300 ms round trip (150 ms each way, ±10 ms),
    /// 10% loss each way, 256 kbit/s.
    pub const MOBILE: Impairment = Impairment {
        delay: Duration::from_millis(145),
        jitter: Duration::from_millis(10),
        loss: 0.10,
        duplicate: 0.0,
        reorder: 0.0,
        rate_bits: Some(256_000),
        queue: Duration::from_millis(1000),
    };

    /// A church hall's Wi-Fi: 5% loss, up to 50 ms of jitter, some
    /// duplication and reordering.
    pub const HALL: Impairment = Impairment {
        delay: Duration::from_millis(2),
        jitter: Duration::from_millis(50),
        loss: 0.05,
        duplicate: 0.01,
        reorder: 0.02,
        rate_bits: None,
        queue: Duration::from_secs(1),
    };
}

/// What a relay has done so far, both directions together.
#[derive(Debug, Default)]
pub struct Stats {
    /// Datagrams that arrived.
    pub datagrams: AtomicU64,
    /// Bytes that arrived.
    pub bytes: AtomicU64,
    /// Datagrams lost on purpose.
    pub lost: AtomicU64,
    /// Datagrams dropped because the rate's queue was full.
    pub queue_dropped: AtomicU64,
    /// Datagrams dropped while the link was down.
    pub down_dropped: AtomicU64,
    /// Extra copies sent.
    pub duplicated: AtomicU64,
    /// Datagrams held back to be overtaken.
    pub reordered: AtomicU64,
    /// Datagrams sent on (copies included).
    pub delivered: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Datagrams that arrived.
    pub datagrams: u64,
    /// Bytes that arrived.
    pub bytes: u64,
    /// Datagrams lost on purpose.
    pub lost: u64,
    /// Datagrams dropped by the rate's queue.
    pub queue_dropped: u64,
    /// Datagrams dropped while the link was down.
    pub down_dropped: u64,
    /// Extra copies sent.
    pub duplicated: u64,
    /// Datagrams held back.
    pub reordered: u64,
    /// Datagrams sent on.
    pub delivered: u64,
}

impl Stats {
    /// The counts now.
    pub fn counts(&self) -> Counts {
        Counts {
            datagrams: self.datagrams.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            lost: self.lost.load(Relaxed),
            queue_dropped: self.queue_dropped.load(Relaxed),
            down_dropped: self.down_dropped.load(Relaxed),
            duplicated: self.duplicated.load(Relaxed),
            reordered: self.reordered.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
        }
    }
}

/// One direction of a link: decides, for each datagram, when (if ever)
/// each copy of it leaves. I/O-free, so its rules are tested on their own.
#[derive(Debug)]
pub struct Pipe {
    imp: Impairment,
    rng: StdRng,
    /// When the rate-limited link is next free to send.
    next_free: Option<Instant>,
}

/// What a [`Pipe`] did with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Lost on purpose.
    Lost,
    /// The rate's queue was full.
    QueueFull,
    /// Sent at these times (two when duplicated), `held` if held back to
    /// be overtaken.
    Sent {
        /// When each copy leaves.
        at: Vec<Instant>,
        /// Whether it was held back.
        held: bool,
    },
}

impl Pipe {
    /// A pipe with `imp`, its random stream from `seed`.
    pub fn new(imp: Impairment, seed: u64) -> Pipe {
        Pipe {
            imp,
            rng: StdRng::seed_from_u64(seed),
            next_free: None,
        }
    }

    /// What happens to a datagram of `len` bytes arriving at `now`. Every
    /// datagram draws the same random numbers whatever its fate, so one
    /// datagram's fate never shifts the next one's.
    pub fn admit(&mut self, len: usize, now: Instant) -> Fate {
        let lost = self.rng.random_bool(self.imp.loss.clamp(0.0, 1.0));
        let dup = self.rng.random_bool(self.imp.duplicate.clamp(0.0, 1.0));
        let held = self.rng.random_bool(self.imp.reorder.clamp(0.0, 1.0));
        let jitter = [self.jitter(), self.jitter()];
        if lost {
            return Fate::Lost;
        }
        // The rate: a datagram waits its turn on the link, and the link's
        // buffer holds at most `queue` of waiting.
        let leaves = match self.imp.rate_bits {
            Some(bits) if bits > 0 => {
                let start = self.next_free.map_or(now, |f| f.max(now));
                if start.duration_since(now) > self.imp.queue {
                    return Fate::QueueFull;
                }
                let on_wire = Duration::from_secs_f64(len as f64 * 8.0 / bits as f64);
                self.next_free = Some(start + on_wire);
                start + on_wire
            }
            _ => now,
        };
        let extra = if held {
            self.imp.delay + self.imp.jitter
        } else {
            Duration::ZERO
        };
        let first = leaves + self.imp.delay + jitter[0] + extra;
        let mut at = vec![first];
        if dup {
            at.push(leaves + self.imp.delay + jitter[1] + extra);
        }
        Fate::Sent { at, held }
    }

    fn jitter(&mut self) -> Duration {
        let j = self.imp.jitter.as_micros() as u64;
        if j == 0 {
            // Draw anyway, so a pipe without jitter keeps the same stream.
            let _: u64 = self.rng.random();
            Duration::ZERO
        } else {
            Duration::from_micros(self.rng.random_range(0..j))
        }
    }
}

/// The most client addresses one relay keeps a socket for.
const MAX_FLOWS: usize = 64;
/// Big enough for any UDP datagram.
const MAX_DATAGRAM: usize = 65_536;

/// A running relay; stops when dropped.
#[derive(Debug)]
pub struct Relay {
    front: SocketAddr,
    stats: Arc<Stats>,
    up: Arc<AtomicBool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// Starts a relay listening on `front` that forwards to `target` from
    /// sockets bound on `out_ip`. With `netns` it runs inside that network
    /// namespace (its sockets are made there; see [`crate::lab`]).
    pub fn start(
        netns: Option<&str>,
        front: SocketAddr,
        out_ip: IpAddr,
        target: SocketAddr,
        imp: Impairment,
        seed: u64,
    ) -> io::Result<Relay> {
        let stats = Arc::new(Stats::default());
        let up = Arc::new(AtomicBool::new(true));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let netns = netns.map(str::to_owned);
        let (s, u) = (stats.clone(), up.clone());
        let thread = std::thread::Builder::new()
            .name("impair-relay".into())
            .spawn(move || {
                let setup = || -> io::Result<(tokio::runtime::Runtime, std::net::UdpSocket)> {
                    if let Some(ns) = &netns {
                        crate::lab::enter_netns(ns)?;
                    }
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let sock = std::net::UdpSocket::bind(front)?;
                    sock.set_nonblocking(true)?;
                    Ok((rt, sock))
                };
                let (rt, sock) = match setup() {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let local = sock.local_addr();
                let _ = ready_tx.send(local);
                rt.block_on(async move {
                    let Ok(sock) = tokio::net::UdpSocket::from_std(sock) else {
                        return;
                    };
                    let run = serve(Arc::new(sock), out_ip, target, imp, seed, s, u);
                    tokio::select! {
                        _ = run => {}
                        _ = stop_rx => {}
                    }
                });
            })?;
        let front = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the relay thread ended before binding"))??;
        Ok(Relay {
            front,
            stats,
            up,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address clients send to.
    pub fn front(&self) -> SocketAddr {
        self.front
    }

    /// What the relay has done so far.
    pub fn counts(&self) -> Counts {
        self.stats.counts()
    }

    /// Takes the link down (every datagram dropped) or brings it back.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Both directions' pipes and what they share.
struct Link {
    forward: Mutex<Pipe>,
    back: Mutex<Pipe>,
    stats: Arc<Stats>,
    up: Arc<AtomicBool>,
}

impl Link {
    /// Sends `data` on through `pipe` from `sock` to `to`, at the times
    /// the pipe decides.
    fn pass(
        &self,
        pipe: &Mutex<Pipe>,
        data: &[u8],
        sock: &Arc<tokio::net::UdpSocket>,
        to: SocketAddr,
    ) {
        let s = &self.stats;
        s.datagrams.fetch_add(1, Relaxed);
        s.bytes.fetch_add(data.len() as u64, Relaxed);
        if !self.up.load(Relaxed) {
            s.down_dropped.fetch_add(1, Relaxed);
            return;
        }
        let fate = match pipe.lock() {
            Ok(mut p) => p.admit(data.len(), Instant::now()),
            Err(_) => return,
        };
        match fate {
            Fate::Lost => {
                s.lost.fetch_add(1, Relaxed);
            }
            Fate::QueueFull => {
                s.queue_dropped.fetch_add(1, Relaxed);
            }
            Fate::Sent { at, held } => {
                if held {
                    s.reordered.fetch_add(1, Relaxed);
                }
                if at.len() > 1 {
                    s.duplicated.fetch_add(at.len() as u64 - 1, Relaxed);
                }
                for when in at {
                    let (sock, data, stats) = (sock.clone(), data.to_vec(), self.stats.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep_until(when.into()).await;
                        if sock.send_to(&data, to).await.is_ok() {
                            stats.delivered.fetch_add(1, Relaxed);
                        }
                    });
                }
            }
        }
    }
}

async fn serve(
    front: Arc<tokio::net::UdpSocket>,
    out_ip: IpAddr,
    target: SocketAddr,
    imp: Impairment,
    seed: u64,
    stats: Arc<Stats>,
    up: Arc<AtomicBool>,
) {
    let link = Arc::new(Link {
        forward: Mutex::new(Pipe::new(imp, seed)),
        back: Mutex::new(Pipe::new(imp, seed ^ 0x9e37_79b9_7f4a_7c15)),
        stats,
        up,
    });
    let mut flows: std::collections::HashMap<SocketAddr, Arc<tokio::net::UdpSocket>> =
        std::collections::HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok((n, client)) = front.recv_from(&mut buf).await else {
            continue;
        };
        let out = match flows.get(&client) {
            Some(s) => s.clone(),
            None => {
                if flows.len() >= MAX_FLOWS {
                    continue;
                }
                let Ok(sock) = tokio::net::UdpSocket::bind(SocketAddr::new(out_ip, 0)).await else {
                    continue;
                };
                let sock = Arc::new(sock);
                flows.insert(client, sock.clone());
                // Replies from the target go back to this client.
                let (back_sock, front, link) = (sock.clone(), front.clone(), link.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; MAX_DATAGRAM];
                    while let Ok((n, from)) = back_sock.recv_from(&mut buf).await {
                        if from == target {
                            link.pass(&link.back, &buf[..n], &front, client);
                        }
                    }
                });
                sock
            }
        };
        link.pass(&link.forward, &buf[..n], &out, target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(imp: Impairment, seed: u64, n: usize) -> Vec<Fate> {
        let mut p = Pipe::new(imp, seed);
        let t0 = Instant::now();
        (0..n)
            .map(|i| p.admit(1200, t0 + Duration::from_millis(i as u64)))
            .collect()
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions_and_another_seed_others() {
        let a = run(Impairment::HALL, 7, 2000);
        let b = run(Impairment::HALL, 7, 2000);
        let c = run(Impairment::HALL, 8, 2000);
        // Times are relative to one t0 per run: compare shapes.
        let shape = |f: &[Fate]| -> Vec<(u8, usize, bool)> {
            f.iter()
                .map(|x| match x {
                    Fate::Lost => (0, 0, false),
                    Fate::QueueFull => (1, 0, false),
                    Fate::Sent { at, held } => (2, at.len(), *held),
                })
                .collect()
        };
        assert_eq!(shape(&a), shape(&b));
        assert_ne!(shape(&a), shape(&c), "a different seed decides differently");
    }

    #[test]
    fn loss_duplication_and_holding_back_come_at_their_rates() {
        let imp = Impairment {
            loss: 0.10,
            duplicate: 0.05,
            reorder: 0.03,
            ..Impairment::NONE
        };
        let f = run(imp, 1, 20_000);
        let lost = f.iter().filter(|x| **x == Fate::Lost).count() as f64 / 20_000.0;
        let dup = f
            .iter()
            .filter(|x| matches!(x, Fate::Sent { at, .. } if at.len() == 2))
            .count() as f64
            / 20_000.0;
        let held = f
            .iter()
            .filter(|x| matches!(x, Fate::Sent { held: true, .. }))
            .count() as f64
            / 20_000.0;
        assert!((0.09..0.11).contains(&lost), "loss {lost}");
        // Of those not lost.
        assert!((0.040..0.052).contains(&dup), "duplicated {dup}");
        assert!((0.022..0.032).contains(&held), "held back {held}");
        // The control: a perfect link loses, doubles and holds back nothing.
        let clean = run(Impairment::NONE, 1, 1000);
        assert!(
            clean
                .iter()
                .all(|x| matches!(x, Fate::Sent { at, held: false } if at.len() == 1))
        );
    }

    #[test]
    fn delay_and_jitter_bound_when_a_datagram_leaves_and_jitter_reorders() {
        let imp = Impairment {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(50),
            ..Impairment::NONE
        };
        let mut p = Pipe::new(imp, 3);
        let t0 = Instant::now();
        let mut leaves = Vec::new();
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(i);
            let Fate::Sent { at, .. } = p.admit(100, now) else {
                panic!("nothing is lost on this link");
            };
            let d = at[0].duration_since(now);
            assert!(
                d >= Duration::from_millis(100) && d < Duration::from_millis(150),
                "{d:?}"
            );
            leaves.push(at[0]);
        }
        let overtaken = leaves.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(
            overtaken > 100,
            "jitter of 50 ms over 1 ms gaps reorders: {overtaken}"
        );
    }

    #[test]
    fn the_rate_spaces_datagrams_and_a_full_queue_drops() {
        // 1,250 bytes at 100 kbit/s is 100 ms each; the buffer holds 250 ms.
        let imp = Impairment {
            rate_bits: Some(100_000),
            queue: Duration::from_millis(250),
            ..Impairment::NONE
        };
        let mut p = Pipe::new(imp, 4);
        let t0 = Instant::now();
        let fates: Vec<Fate> = (0..6).map(|_| p.admit(1250, t0)).collect();
        let at = |f: &Fate| match f {
            Fate::Sent { at, .. } => Some(at[0].duration_since(t0).as_millis()),
            _ => None,
        };
        assert_eq!(at(&fates[0]), Some(100));
        assert_eq!(at(&fates[1]), Some(200));
        assert_eq!(at(&fates[2]), Some(300));
        // The fourth would wait 300 ms: past the buffer.
        assert_eq!(fates[3], Fate::QueueFull);
        // Once the link has drained, datagrams go at once again.
        let later = t0 + Duration::from_secs(2);
        match p.admit(1250, later) {
            Fate::Sent { at, .. } => assert_eq!(at[0].duration_since(later).as_millis(), 100),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn a_relay_on_loopback_carries_datagrams_both_ways_and_can_be_taken_down() {
        let echo = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind echo");
        let target = echo.local_addr().expect("addr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = echo.recv_from(&mut buf) {
                let _ = echo.send_to(&buf[..n], from);
            }
        });
        let relay = Relay::start(
            None,
            "127.0.0.1:0".parse().expect("addr"),
            "127.0.0.1".parse().expect("ip"),
            target,
            Impairment {
                delay: Duration::from_millis(20),
                ..Impairment::NONE
            },
            5,
        )
        .expect("start relay");
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind client");
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let t = Instant::now();
        client.send_to(b"hello", relay.front()).expect("send");
        let mut buf = [0u8; 64];
        let (n, from) = client.recv_from(&mut buf).expect("echo back");
        assert_eq!((&buf[..n], from), (&b"hello"[..], relay.front()));
        assert!(t.elapsed() >= Duration::from_millis(40), "20 ms each way");
        // Down: the datagram reaches the relay and goes no further (the
        // next one back is the one sent once the link is up again).
        relay.set_up(false);
        client.send_to(b"lost", relay.front()).expect("send");
        let deadline = Instant::now() + Duration::from_secs(5);
        while relay.counts().datagrams < 3 {
            assert!(
                Instant::now() < deadline,
                "the relay never saw the datagram"
            );
            std::thread::yield_now();
        }
        relay.set_up(true);
        client.send_to(b"again", relay.front()).expect("send");
        let (n, _) = client
            .recv_from(&mut buf)
            .expect("echo after the link is up");
        assert_eq!(&buf[..n], b"again", "a down link carried a datagram");
        let c = relay.counts();
        assert_eq!(
            (c.datagrams, c.down_dropped, c.delivered),
            (5, 1, 4),
            "{c:?}"
        );
    }
}
