//! Sync connections: dialing, opening both ends' sessions, carrying
//! frames (`length u32 | kind u8 | payload`, counted as the real node
//! counts its sync traffic: header included), decoding them with the
//! protocol's decoder, and closing with a `Bye`.
//!
//! The dialer opens its session once the connection is up (one round
//! trip); the acceptor opens its own when the dialer's first frame
//! arrives, as the real node does when the stream is accepted.

use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::wire::frame::{Frame, HEADER_LEN};

use crate::node::Ctx;
use crate::sim::{Conn, Ev, Sim};

/// How long a session must have lasted for the backoff to start again
/// from the shortest wait (`node/src/net/mod.rs`).
const LASTED: u64 = 10_000 * crate::net::MS;
/// Messages queued for one peer before it counts as not keeping up
/// (`node/src/net/mod.rs`, `OUTBOX`).
const OUTBOX: usize = 4096;
/// Bytes queued for one peer before it counts as not keeping up
/// (`node/src/runtime/cmd.rs`, `MAX_QUEUED_BYTES`).
const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// The shortest wait before redialing (`node/src/net/mod.rs`).
const FIRST_BACKOFF: u64 = 250 * crate::net::MS;
/// The longest.
const MAX_BACKOFF: u64 = 10_000 * crate::net::MS;

impl Sim {
    /// `from` dials `to` unless a session or connection between them lives.
    pub(crate) fn dial(&mut self, from: usize, to: usize) {
        let busy = self.conns.values().any(|c| {
            c.open && ((c.dialer, c.acceptor) == (from, to) || (c.dialer, c.acceptor) == (to, from))
        });
        if busy {
            return;
        }
        let conn = self.next_conn;
        self.next_conn += 1;
        let now = self.q.now();
        self.conns.insert(
            conn,
            Conn {
                dialer: from,
                acceptor: to,
                accepted: false,
                open: true,
                opened_at: now,
            },
        );
        self.out.connections += 1;
        let rtt = self.links.rtt(from, to);
        self.q.at(now + rtt, (self.depth + 1, Ev::Opened(conn)));
    }

    pub(crate) fn opened(&mut self, conn: u64) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (dialer, acceptor) = (c.dialer, c.acceptor);
        let device = self.nodes[acceptor].me.me;
        let mut refused = None;
        self.with_node(dialer, |n, cx| {
            if let Err(e) = n.open(conn * 2, acceptor, device, cx) {
                refused = Some(e);
            }
        });
        if let Some(why) = refused {
            *self.out.end_reasons.entry(why).or_default() += 1;
            self.conn_closed(conn);
        }
    }

    /// Sends `msg` on session `session` of node `from`.
    pub(crate) fn send(&mut self, from: usize, session: u64, msg: &Message) {
        self.send_one(from, session, msg);
    }

    fn send_one(&mut self, from: usize, session: u64, msg: &Message) {
        let conn = session / 2;
        let from_dialer = session.is_multiple_of(2);
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if !c.open {
            return;
        }
        let to = if from_dialer { c.acceptor } else { c.dialer };
        let frame = msg.encode();
        let bytes = HEADER_LEN + frame.payload.len();
        // The session's queue: frames handed over and not yet on the wire
        // (the real outbox, drained as the connection writes). A peer
        // whose queue is full is not keeping up, and its session ends.
        let now = self.q.now();
        let q = self.queued.entry(session).or_default();
        while q.frames.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, n)) = q.frames.pop_front() {
                q.bytes -= n;
            }
        }
        if !matches!(msg, Message::Bye(_))
            && (q.frames.len() >= OUTBOX || q.bytes + frame.payload.len() > MAX_QUEUED_BYTES)
        {
            self.with_node(from, |n, cx| n.end(session, "not keeping up".into(), cx));
            return;
        }
        let t = &mut self.traffic[from];
        t.sync_sent += bytes as u64;
        t.frames_sent += 1;
        if from == 0 {
            let k = self.out.national_by_kind.entry(msg.name()).or_default();
            k.0 += 1;
            k.1 += bytes as u64;
        }
        let (leaves, at) = self
            .links
            .arrival(now, from, to, (conn, from_dialer), bytes);
        let q = self.queued.entry(session).or_default();
        q.frames.push_back((leaves, frame.payload.len()));
        q.bytes += frame.payload.len();
        self.q.at(
            at,
            (
                self.depth + 1,
                Ev::Deliver {
                    conn,
                    to_dialer: !from_dialer,
                    frame,
                },
            ),
        );
    }

    pub(crate) fn deliver(&mut self, conn: u64, to_dialer: bool, frame: Frame) {
        let bytes = (HEADER_LEN + frame.payload.len()) as u64;
        let Some(c) = self.conns.get_mut(&conn) else {
            self.out.dropped_bytes += bytes;
            return;
        };
        let (to, from) = if to_dialer {
            (c.dialer, c.acceptor)
        } else {
            (c.acceptor, c.dialer)
        };
        let session = conn * 2 + u64::from(!to_dialer);
        let first = !to_dialer && !c.accepted;
        c.accepted = true;
        let live = self.nodes[to].sessions.contains_key(&session);
        if !live && !first {
            // The session here has ended; the frame is not read.
            self.out.dropped_bytes += bytes;
            return;
        }
        let t = &mut self.traffic[to];
        t.sync_received += bytes;
        t.frames_received += 1;
        self.out.messages += 1;
        if first {
            let device = self.nodes[from].me.me;
            let mut refused = None;
            self.with_node(to, |n, cx| {
                if let Err(e) = n.open(session, from, device, cx) {
                    refused = Some(e);
                }
            });
            if let Some(why) = refused {
                *self.out.end_reasons.entry(why.clone()).or_default() += 1;
                self.send(to, session, &Message::Bye(why));
                self.conn_closed(conn);
                return;
            }
        }
        match Message::decode(&frame) {
            Err(e) => {
                let why = format!("bad message from peer: {e}");
                self.with_node(to, |n, cx| n.end(session, why, cx));
            }
            Ok(Message::Bye(_)) => {
                self.nodes[to].closed(session);
                self.conn_closed(conn);
            }
            Ok(msg) => {
                self.with_node(to, |n, cx: &mut Ctx<'_>| n.incoming(session, msg, cx));
            }
        }
    }

    /// A connection closes: both sessions end (a side that has not heard
    /// the `Bye` yet drops what arrives after), and the dialer redials
    /// after its backoff.
    pub(crate) fn conn_closed(&mut self, conn: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.open {
            return;
        }
        c.open = false;
        let (dialer, acceptor, opened_at) = (c.dialer, c.acceptor, c.opened_at);
        let now = self.q.now();
        self.nodes[dialer].closed(conn * 2);
        self.nodes[acceptor].closed(conn * 2 + 1);
        self.links.forget(conn);
        self.queued.remove(&(conn * 2));
        self.queued.remove(&(conn * 2 + 1));
        let backoff = self.backoff.entry((dialer, acceptor)).or_insert(0);
        if now.saturating_sub(opened_at) > LASTED || *backoff == 0 {
            *backoff = FIRST_BACKOFF;
        } else {
            *backoff = (*backoff * 2).min(MAX_BACKOFF);
        }
        let wait = *backoff;
        self.q.at(
            now + wait,
            (
                self.depth,
                Ev::Dial {
                    from: dialer,
                    to: acceptor,
                },
            ),
        );
    }
}
