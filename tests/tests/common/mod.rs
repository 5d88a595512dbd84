//! Speaking the sync protocol to a running node from a test's own process,
//! as an admitted device would (shared by `hostile.rs` and `records.rs`).

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use groundwork_node::config::{Config, Relay};
use groundwork_node::net::{SYNC_ALPN, connect, parse_ticket};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::ChangeHash;
use groundwork_protocol::sync::VerifiedChange;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::{Docs, HostError, Session, SessionStore};
use groundwork_protocol::wire::frame::{Decoder, Frame, MAX_FRAME_LEN, encode};
use groundwork_protocol::{DeviceId, DocId, GroupId, SecretKey};
use iroh::Endpoint;
use iroh::endpoint::{Connection, RecvStream, SendStream};

/// A two-thread runtime for one test.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Loopback, relays off, no mDNS.
pub fn offline() -> Config {
    Config {
        relay: Relay::Disabled,
        listen: "127.0.0.1:0".parse().expect("addr"),
        mdns: false,
    }
}

/// A sync stream to the node behind `ticket`, as the device `key`.
pub struct Link {
    ep: Endpoint,
    conn: Connection,
    send: SendStream,
    recv: RecvStream,
    dec: Decoder,
    buf: Vec<u8>,
}

impl Link {
    /// Connects and opens the sync stream.
    pub async fn open(key: &SecretKey, ticket: &str) -> Link {
        let ep = groundwork_node::net::bind(key, &offline(), None)
            .await
            .expect("bind");
        let (device, addrs) = parse_ticket(ticket).expect("ticket");
        let conn = connect(&ep, &device, &addrs, SYNC_ALPN)
            .await
            .expect("connect");
        let (send, recv) = conn.open_bi().await.expect("stream");
        Link {
            ep,
            conn,
            send,
            recv,
            dec: Decoder::new(MAX_FRAME_LEN),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Writes raw bytes (the node may already have hung up).
    pub async fn write(&mut self, bytes: &[u8]) {
        let _ = self.send.write_all(bytes).await;
    }

    /// Writes one message as a frame.
    pub async fn send(&mut self, m: &Message) {
        let f = m.encode();
        let frame = encode(f.kind, &f.payload, MAX_FRAME_LEN).expect("frame");
        self.write(&frame).await;
    }

    /// The frames that arrive next; `None` once the node closed the stream.
    async fn frames(&mut self) -> Option<Vec<Frame>> {
        let n = self.recv.read(&mut self.buf).await.ok()??;
        self.dec.push(&self.buf[..n]);
        let mut out = Vec::new();
        while let Ok(Some(f)) = self.dec.next_frame() {
            out.push(f);
        }
        Some(out)
    }

    /// Reads messages until one matches `want` (returned), the node closes
    /// (`None`), or `wait` passes (`None`).
    pub async fn until(
        &mut self,
        want: impl Fn(&Message) -> bool,
        wait: Duration,
    ) -> Option<Message> {
        tokio::time::timeout(wait, async {
            loop {
                for f in self.frames().await? {
                    let m = Message::decode(&f).expect("the node's own messages decode");
                    if want(&m) {
                        return Some(m);
                    }
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Why the node closed the connection.
    async fn closed(&self) -> String {
        self.conn.closed().await.to_string()
    }

    /// Whether the node closes the connection within `wait`.
    pub async fn until_closed(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async {
            while self.frames().await.is_some() {}
            self.closed().await
        })
        .await
        .is_ok()
    }

    /// The node's reason if it closes the connection within `wait`
    /// (reading and dropping whatever it sends meanwhile).
    pub async fn closed_within(&mut self, wait: Duration) -> Option<String> {
        tokio::time::timeout(wait, async {
            while self.frames().await.is_some() {}
            self.closed().await
        })
        .await
        .ok()
    }

    /// Closes this side.
    pub async fn close(self) {
        self.ep.close().await;
    }
}

/// Sends `opening`, then answers each message from the node with
/// `reply`, until the node says `Bye`, stops a document (`DocStop`) or
/// closes: returns its reason (the message's text, else the connection's
/// close reason), or `None` if none of these happened within `wait`.
pub async fn play(
    link: &mut Link,
    opening: Vec<Message>,
    mut reply: impl FnMut(Message) -> Vec<Message>,
    wait: Duration,
) -> Option<String> {
    for m in &opening {
        link.send(m).await;
    }
    tokio::time::timeout(wait, async {
        loop {
            let Some(frames) = link.frames().await else {
                // The reason also travels in the connection close.
                return link.closed().await;
            };
            for f in frames {
                let msg = Message::decode(&f).expect("the node's own messages decode");
                if let Message::Bye(reason) | Message::DocStop { reason, .. } = &msg {
                    return reason.clone();
                }
                for r in reply(msg) {
                    link.send(&r).await;
                }
            }
        }
    })
    .await
    .ok()
}

/// The attacker's side of a session: signatures come from `sigs`, or are
/// forged when missing.
#[derive(Default)]
pub struct Attacker {
    /// Signatures of changes the attacker holds.
    pub sigs: HashMap<ChangeHash, [u8; 64]>,
}

impl SessionStore for Attacker {
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; 64]> {
        Some(self.sigs.get(hash).copied().unwrap_or([7; 64]))
    }
    fn may_write(&self, _doc: &DocId, _author: &DeviceId) -> bool {
        true
    }
    fn within_cut(&self, _doc: &DocId, _author: &DeviceId, _seq: u64) -> bool {
        true
    }
    fn store(&mut self, _doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), HostError> {
        for c in changes {
            self.sigs.insert(c.hash, c.signature);
        }
        Ok(())
    }
}

/// Runs a session that offers one doctored document; returns the node's
/// `Bye` reason.
pub async fn offer(
    key: &SecretKey,
    ticket: &str,
    group: GroupId,
    doc: DocId,
    mut docs: Docs,
    mut store: Attacker,
) -> String {
    let mut link = Link::open(key, ticket).await;
    let mut session = Session::new(group, BTreeSet::from([doc]), BTreeMap::new());
    let opening = session.start(&mut docs, &store).expect("start");
    let reason = play(
        &mut link,
        opening,
        |msg| match &msg {
            // Only the doctored document is played; the rest is ignored.
            Message::Sync { doc: d, .. } if *d != doc => vec![],
            _ => session.handle(msg, &mut docs, &mut store).expect("handle"),
        },
        groundwork_tests::SYNC_LIMIT,
    )
    .await
    .unwrap_or_default();
    link.close().await;
    reason
}

/// Asks the node behind `ticket` (a link ticket or a plain ticket) to link,
/// as `device` of the group `card` describes, the way `peer add` does:
/// returns its answer.
pub async fn ask_to_link(
    device: &SecretKey,
    card: &groundwork_protocol::card::SignedCard,
    ticket: &str,
) -> anyhow::Result<groundwork_protocol::link::LinkMessage> {
    let ep = groundwork_node::net::bind(device, &offline(), None)
        .await
        .expect("bind");
    let (to, addrs, code) = groundwork_node::net::parse_link_target(ticket).expect("ticket");
    let request = groundwork_protocol::link::LinkMessage::Request {
        card: card.bytes().to_vec(),
        code,
    };
    let r = groundwork_node::net::request_link(&ep, &to, &addrs, request).await;
    ep.close().await;
    Ok(r?)
}

/// A self-signed card for a group made up on the spot, naming `device` as
/// its steward.
pub fn made_up_card(
    group: &SecretKey,
    name: &str,
    device: &SecretKey,
) -> groundwork_protocol::card::SignedCard {
    groundwork_protocol::card::GroupCard {
        group: group.public(),
        seq: 1,
        name: name.into(),
        area: None,
        kind: groundwork_protocol::card::GroupKind::LocalOrganisingGroup,
        write_keys: vec![device.public()],
        stewards: vec![device.public()],
    }
    .sign(group)
    .expect("sign a card")
}
