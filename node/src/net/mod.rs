//! The node on the network: an iroh endpoint whose key is the device key,
//! a Router serving Groundwork's versioned ALPNs, and the tasks that keep
//! connections to known peers open.
//!
//! Connectivity comes from [`crate::config`]: with `--offline` (or
//! `relay = "disabled"`) the endpoint uses no relay and no public address
//! lookup (`presets::Minimal`), so it works on a LAN or loopback with no
//! internet. Port mapping is off, and only the socket asked for is bound
//! (`clear_ip_transports`).
//!
//! | ALPN | what it does |
//! |---|---|
//! | `/groundwork/sync/1` | one sync session per connection (`drive`) |
//! | `/iroh-gossip/1` | the network's records ([`gossip`]) |
//! | `/groundwork/join/1` | redeem an invite (`exchange`) |
//! | `/groundwork/link/1` | ask to link, or affiliate (`exchange`) |
//!
//! Who may open which is `protocol::trust::admission`, asked by the
//! handshake hook ([`Gate`]) before any stream is read.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::wire::frame::{self, Decoder, Frame, MAX_FRAME_LEN};
use groundwork_protocol::{DeviceId, SecretKey};
use iroh::endpoint::{
    AfterHandshakeOutcome, Connection, EndpointHooks, PortmapperConfig, RecvStream, SendStream,
    presets,
};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, RelayMode, TransportAddr};
use iroh_tickets::endpoint::EndpointTicket;
use tokio::sync::{mpsc, oneshot};

mod error;
mod exchange;
pub mod gossip;
pub mod lan;
mod tasks;

pub use error::{NetError, NetResult, tried};
pub use exchange::{
    JoinHandler, LinkHandler, parse_link_target, request_affiliate, request_join, request_link,
    request_recover,
};
pub use tasks::Tasks;

use crate::config::{Config, Relay};
use crate::runtime::{Admission, Cmd, Inbox, Outbox, Outgoing, PeerRecord};

/// Syncing documents (the protocol in docs/protocol.md).
pub const SYNC_ALPN: &[u8] = b"/groundwork/sync/1";
/// Redeeming a device invite.
pub const JOIN_ALPN: &[u8] = b"/groundwork/join/1";
/// Linking with another group's node.
pub const LINK_ALPN: &[u8] = b"/groundwork/link/1";

/// Why a join or link connection is closed at once (code 3).
pub const BUSY: &str = "busy: too many joins and links at once; try again shortly";

pub use groundwork_protocol::sync::messages::SHUTTING_DOWN;

/// Join and link frames are small.
const SMALL_FRAME: u32 = 128 * 1024;
/// How long a join or link exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest wait between attempts to reach a known peer.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Messages queued for one peer before it counts as not keeping up.
const OUTBOX: usize = 4096;

/// Bytes of sync frames sent and received, over all sessions.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Bytes written (frame headers included).
    pub sent: std::sync::atomic::AtomicU64,
    /// Bytes read.
    pub received: std::sync::atomic::AtomicU64,
    /// Frames written.
    pub frames_sent: std::sync::atomic::AtomicU64,
}

impl Traffic {
    /// (bytes sent, bytes received, frames sent) so far.
    pub fn totals(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.sent.load(Relaxed),
            self.received.load(Relaxed),
            self.frames_sent.load(Relaxed),
        )
    }
}

/// The handle network tasks use to reach the actor.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    tx: mpsc::Sender<Cmd>,
    traffic: Arc<Traffic>,
    /// Join and link exchanges in progress (at most [`MAX_EXCHANGES`]).
    exchanges: Arc<tokio::sync::Semaphore>,
    /// The network tasks, awaited at shutdown.
    tasks: Tasks,
}

/// The most join and link exchanges a node serves at once; more are
/// refused at once ("busy") rather than queued.
pub const MAX_EXCHANGES: usize = 16;

impl NodeHandle {
    /// Wraps the actor's command channel.
    pub fn new(tx: mpsc::Sender<Cmd>) -> Self {
        NodeHandle {
            tx,
            traffic: Arc::default(),
            exchanges: Arc::new(tokio::sync::Semaphore::new(MAX_EXCHANGES)),
            tasks: Tasks::default(),
        }
    }

    /// The node's network tasks.
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// A place for one join or link exchange, or `None` when
    /// [`MAX_EXCHANGES`] are in progress.
    fn exchange_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.exchanges.clone().try_acquire_owned().ok()
    }

    /// The sync traffic counters.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Sends a command; fails only when the node is stopping.
    pub async fn send(&self, cmd: Cmd) -> NetResult<()> {
        self.tx.send(cmd).await.map_err(|_| NetError::Stopping)
    }

    /// Asks the actor a question and waits for the answer.
    pub async fn ask<R>(
        &self,
        ask: impl FnOnce(oneshot::Sender<R>) -> crate::runtime::Ask,
    ) -> NetResult<R> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Ask(ask(tx))).await?;
        rx.await.map_err(|_| NetError::Stopping)
    }

    /// Answers a control API request on the actor (an edit goes out to
    /// every connected peer before the answer).
    pub async fn control(
        &self,
        req: groundwork_protocol::control::Request,
        context: crate::runtime::ControlContext,
    ) -> NetResult<groundwork_protocol::control::Response> {
        self.ask(|reply| crate::runtime::Ask::Control {
            req,
            context,
            reply,
        })
        .await
    }

    /// Who the node is and what it holds.
    pub async fn overview(&self) -> NetResult<crate::runtime::Overview> {
        self.ask(crate::runtime::Ask::Overview).await
    }

    /// Whether the session with `peer` has synced every shared document.
    pub async fn synced_with(&self, peer: DeviceId) -> NetResult<bool> {
        self.ask(|reply| crate::runtime::Ask::SyncedWith { peer, reply })
            .await
    }
}

/// Refuses, right after the TLS handshake, any device the sync protocol
/// must not serve: revoked devices and devices that are neither the
/// group's nor a linked group's.
#[derive(Debug, Clone)]
pub struct Gate {
    admission: Arc<RwLock<Admission>>,
}

impl Gate {
    /// A gate reading `admission`.
    pub fn new(admission: Arc<RwLock<Admission>>) -> Self {
        Gate { admission }
    }

    /// Why `device` may not open `alpn` (an unknown protocol: `None`).
    fn check(
        &self,
        device: &DeviceId,
        alpn: &[u8],
    ) -> Result<(), Option<groundwork_protocol::trust::admission::Refusal>> {
        use groundwork_protocol::trust::admission::Alpn;
        let alpn = match alpn {
            SYNC_ALPN => Alpn::Sync,
            gossip::GOSSIP_ALPN => Alpn::Gossip,
            JOIN_ALPN => Alpn::Join,
            LINK_ALPN => Alpn::Link,
            _ => return Err(None),
        };
        let a = match self.admission.read() {
            Ok(a) => a,
            Err(poisoned) => poisoned.into_inner(),
        };
        a.admit(device, alpn).map_err(Some)
    }
}

impl EndpointHooks for Gate {
    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        let Ok(device) = DeviceId::from_bytes(conn.remote_id().as_bytes()) else {
            return AfterHandshakeOutcome::Reject {
                error_code: 2u32.into(),
                reason: b"bad device key".to_vec(),
            };
        };
        match self.check(&device, conn.alpn()) {
            Ok(()) => AfterHandshakeOutcome::Accept,
            Err(why) => {
                let why = why.map_or_else(|| "unknown protocol".to_owned(), |w| w.to_string());
                tracing::info!(peer = %device.fmt_short(), "refused at the handshake: {why}");
                AfterHandshakeOutcome::Reject {
                    error_code: 2u32.into(),
                    reason: why.as_bytes().to_vec(),
                }
            }
        }
    }
}

/// Binds the endpoint for this device. With relays disabled there is no
/// public address lookup either; with n0's relays the endpoint also
/// publishes and looks up addresses through n0's DNS (`presets::N0`).
pub async fn bind(device: &SecretKey, config: &Config, gate: Option<Gate>) -> NetResult<Endpoint> {
    let secret = iroh::SecretKey::from_bytes(&device.to_seed());
    let builder = match &config.relay {
        Relay::Default => Endpoint::builder(presets::N0),
        Relay::Disabled => Endpoint::builder(presets::Minimal).relay_mode(RelayMode::Disabled),
        Relay::Custom(url) => {
            Endpoint::builder(presets::Minimal).relay_mode(RelayMode::Custom(url.clone().into()))
        }
    };
    let mut builder = builder
        .secret_key(secret)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr(config.listen)
        .map_err(|e| NetError::Bind {
            addr: config.listen,
            source: Box::new(e),
        })?;
    if let Some(g) = gate {
        builder = builder.hooks(g);
    }
    builder.bind().await.map_err(|e| NetError::Bind {
        addr: config.listen,
        source: Box::new(e),
    })
}

/// This node's ticket: its id and current addresses, as text.
pub fn ticket(ep: &Endpoint) -> String {
    EndpointTicket::new(ep.addr()).to_string()
}

/// Parses a ticket into the address to dial.
pub fn parse_ticket(text: &str) -> NetResult<(DeviceId, Vec<SocketAddr>)> {
    let t: EndpointTicket = text
        .trim()
        .parse()
        .map_err(|e| NetError::BadTicket(format!("{e}")))?;
    let addr = t.endpoint_addr();
    let device = DeviceId::from_bytes(addr.id.as_bytes())
        .map_err(|_| NetError::BadTicket("it names an invalid device key".into()))?;
    Ok((device, addr.ip_addrs().copied().collect()))
}

pub(crate) fn endpoint_addr(device: &DeviceId, addrs: &[SocketAddr]) -> NetResult<EndpointAddr> {
    let id = iroh::PublicKey::from_bytes(device.as_bytes())
        .map_err(|_| NetError::BadKey("invalid device key"))?;
    Ok(EndpointAddr::from_parts(
        id,
        addrs.iter().map(|a| TransportAddr::Ip(*a)),
    ))
}

fn remote_device(conn: &Connection) -> NetResult<DeviceId> {
    DeviceId::from_bytes(conn.remote_id().as_bytes())
        .map_err(|_| NetError::BadKey("bad device key"))
}

fn remote_addrs(conn: &Connection) -> Vec<SocketAddr> {
    conn.paths()
        .iter()
        .filter_map(|p| match p.remote_addr() {
            TransportAddr::Ip(a) => Some(*a),
            _ => None,
        })
        .collect()
}

/// Writes one frame.
async fn write_frame(send: &mut SendStream, f: &Frame) -> NetResult<()> {
    let bytes = frame::encode(f.kind, &f.payload, MAX_FRAME_LEN)?;
    send.write_all(&bytes)
        .await
        .map_err(|e| NetError::stream("sending", e))?;
    Ok(())
}

/// With `GROUNDWORK_WIRE_DUMP=FILE` set, every byte this node receives from
/// peers (stream data and gossip messages, after decryption) is appended to
/// FILE: a diagnostic, and what the privacy test searches on the national
/// node. On a group's own device the file holds what its peers sent, so it
/// is as sensitive as the store: it is created with mode 0600.
pub fn wire_dump(bytes: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt as _;
    static DUMP: std::sync::OnceLock<Option<std::sync::Mutex<std::fs::File>>> =
        std::sync::OnceLock::new();
    let dump = DUMP.get_or_init(|| {
        let path = std::env::var_os("GROUNDWORK_WIRE_DUMP")?;
        // As sensitive as the store: readable by this user only.
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                use std::os::unix::fs::PermissionsExt as _;
                if let Err(e) = f.set_permissions(std::fs::Permissions::from_mode(0o600)) {
                    tracing::warn!("cannot make the wire dump private: {e}");
                    return None;
                }
                Some(std::sync::Mutex::new(f))
            }
            Err(e) => {
                tracing::warn!("cannot open the wire dump {}: {e}", path.to_string_lossy());
                None
            }
        }
    });
    if let Some(f) = dump
        && let Ok(mut f) = f.lock()
    {
        let _ = f.write_all(bytes);
    }
}

/// Reads frames from a stream into a decoder, with the stream's timeouts:
/// a frame once begun must be finished by `frame::frame_deadline` (a
/// peer trickling bytes is cut off), and before the first frame the peer
/// may be silent only until `idle_until`. Between frames of a sync session
/// a peer may be idle: QUIC's keep-alives notice a peer that has gone.
struct FrameReader {
    recv: RecvStream,
    decoder: Decoder,
    buf: Vec<u8>,
    /// When the frame being received began.
    started: Option<tokio::time::Instant>,
    /// Until the first frame: when silence ends the stream.
    idle_until: Option<tokio::time::Instant>,
}

/// How long a peer may stay silent after connecting before its first
/// frame (a sync hello, a join or link request).
pub const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

impl FrameReader {
    fn new(recv: RecvStream, cap: u32) -> Self {
        FrameReader {
            recv,
            decoder: Decoder::new(cap),
            buf: vec![0; 64 * 1024],
            started: None,
            idle_until: Some(tokio::time::Instant::now() + FIRST_FRAME_TIMEOUT),
        }
    }

    /// The next frame, or `None` at a clean end of the stream.
    async fn next(&mut self) -> NetResult<Option<Frame>> {
        loop {
            if let Some(f) = self.decoder.next_frame()? {
                self.idle_until = None;
                self.started = (self.decoder.buffered() > 0).then(tokio::time::Instant::now);
                return Ok(Some(f));
            }
            let deadline = match self.started {
                Some(started) => {
                    let announced = self.decoder.announced().unwrap_or(0);
                    Some((started + frame::frame_deadline(announced), announced))
                }
                None => self.idle_until.map(|t| (t, 0)),
            };
            let read = self.recv.read(&mut self.buf);
            let got = match deadline {
                None => read.await,
                Some((at, announced)) => match tokio::time::timeout_at(at, read).await {
                    Ok(r) => r,
                    Err(_) if self.started.is_some() => {
                        return Err(NetError::TooSlow {
                            announced,
                            secs: frame::frame_deadline(announced).as_secs(),
                        });
                    }
                    Err(_) => return Err(NetError::Silent(FIRST_FRAME_TIMEOUT.as_secs())),
                },
            };
            match got.map_err(|e| NetError::stream("receiving", e))? {
                Some(n) => {
                    wire_dump(&self.buf[..n]);
                    self.decoder.push(&self.buf[..n]);
                    if self.started.is_none() && self.decoder.buffered() > 0 {
                        self.started = Some(tokio::time::Instant::now());
                    }
                }
                None if self.decoder.buffered() == 0 => return Ok(None),
                None => return Err(NetError::EndedInFrame),
            }
        }
    }
}

/// Runs one sync session over a connection until either side ends it.
pub async fn drive(node: NodeHandle, conn: Connection, outbound: bool) -> NetResult<()> {
    let peer = remote_device(&conn)?;
    let addrs = remote_addrs(&conn);
    let (mut send, recv) = if outbound {
        conn.open_bi()
            .await
            .map_err(|e| NetError::stream("opening a stream", e))?
    } else {
        match tokio::time::timeout(FIRST_FRAME_TIMEOUT, conn.accept_bi()).await {
            Ok(s) => s.map_err(|e| NetError::stream("accepting a stream", e))?,
            Err(_) => {
                let silent = NetError::Silent(FIRST_FRAME_TIMEOUT.as_secs());
                conn.close(1u32.into(), silent.to_string().as_bytes());
                return Err(silent);
            }
        }
    };
    let (out_tx, mut out_rx) = Outbox::new(OUTBOX);
    let (reply, opened) = oneshot::channel();
    node.send(Cmd::Open {
        peer,
        outbound,
        out: out_tx,
        reply,
    })
    .await?;
    let (session, first) = match opened.await.map_err(|_| NetError::Stopping)? {
        Ok(v) => v,
        Err(why) => {
            let _ = write_frame(&mut send, &Message::Bye(why.clone()).encode()).await;
            let _ = send.finish();
            conn.close(1u32.into(), why.as_bytes());
            return Ok(());
        }
    };
    if outbound || !addrs.is_empty() {
        node.send(Cmd::SawAddrs {
            device: peer,
            addrs,
        })
        .await?;
    }
    let result = run_session(&node, &conn, session, &mut send, recv, &mut out_rx, first).await;
    // The peer closing with code 0 (it stopped, or ended the session
    // cleanly) is not an error.
    let clean_close = matches!(
        conn.close_reason(),
        Some(iroh::endpoint::ConnectionError::ApplicationClosed(c)) if c.error_code == 0u32.into()
    );
    let why = result
        .as_ref()
        .err()
        .filter(|_| !clean_close)
        .map(|e| crate::control::error_line(e));
    if let Some(w) = &why {
        tracing::info!(peer = %peer.fmt_short(), "session ended: {w}");
        let _ = write_frame(&mut send, &Message::Bye(w.clone()).encode()).await;
        conn.close(1u32.into(), w.as_bytes());
    }
    let _ = node.send(Cmd::Closed { session, why }).await;
    Ok(())
}

async fn write_counted(node: &NodeHandle, send: &mut SendStream, m: &Message) -> NetResult<()> {
    write_frame_counted(node, send, &m.encode()).await
}

async fn write_frame_counted(node: &NodeHandle, send: &mut SendStream, f: &Frame) -> NetResult<()> {
    use std::sync::atomic::Ordering::Relaxed;
    let bytes = frame::encode(f.kind, &f.payload, MAX_FRAME_LEN)?;
    send.write_all(&bytes)
        .await
        .map_err(|e| NetError::stream("sending", e))?;
    node.traffic.sent.fetch_add(bytes.len() as u64, Relaxed);
    node.traffic.frames_sent.fetch_add(1, Relaxed);
    Ok(())
}

async fn run_session(
    node: &NodeHandle,
    conn: &Connection,
    session: u64,
    send: &mut SendStream,
    recv: RecvStream,
    out_rx: &mut Inbox,
    first: Vec<Message>,
) -> NetResult<()> {
    for m in first {
        write_counted(node, send, &m).await?;
    }
    let mut reader = FrameReader::new(recv, MAX_FRAME_LEN);
    loop {
        tokio::select! {
            frame = reader.next() => {
                let Some(frame) = frame? else {
                    return Ok(());
                };
                node.traffic.received.fetch_add(
                    (frame.payload.len() + frame::HEADER_LEN) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                let msg = Message::decode(&frame)?;
                if let Message::Bye(reason) = msg {
                    if reason == SHUTTING_DOWN {
                        return Ok(());
                    }
                    return Err(NetError::PeerEnded(reason));
                }
                node.send(Cmd::Incoming { session, msg }).await?;
            }
            out = out_rx.recv() => match out {
                Some(Outgoing::Frame(f)) => write_frame_counted(node, send, &f).await?,
                Some(Outgoing::Close(why)) => {
                    let _ = write_counted(node, send, &Message::Bye(why.clone())).await;
                    let _ = send.finish();
                    // Code 0 is a clean stop; anything else is a refusal.
                    let code: u32 = if why == SHUTTING_DOWN { 0 } else { 1 };
                    conn.close(code.into(), why.as_bytes());
                    return Ok(());
                }
                None => return Ok(()),
            },
            _ = conn.closed() => return Ok(()),
        }
    }
}

/// The sync protocol's connection handler.
#[derive(Debug, Clone)]
pub struct SyncHandler {
    node: NodeHandle,
}

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        if let Err(e) = drive(self.node.clone(), conn, false).await {
            tracing::info!("sync connection ended: {}", crate::control::error_line(&e));
        }
        Ok(())
    }
}

/// Starts the Router with every ALPN this node serves.
pub fn serve(ep: Endpoint, node: NodeHandle, gossip: iroh_gossip::Gossip) -> Router {
    Router::builder(ep)
        .accept(SYNC_ALPN, SyncHandler { node: node.clone() })
        .accept(JOIN_ALPN, JoinHandler { node: node.clone() })
        .accept(LINK_ALPN, LinkHandler { node })
        .accept(gossip::GOSSIP_ALPN, gossip)
        .spawn()
}

/// Connects to a device at `addrs` on `alpn` (tests and tools use this to
/// speak the wire protocol directly).
pub async fn connect(
    ep: &Endpoint,
    device: &DeviceId,
    addrs: &[SocketAddr],
    alpn: &[u8],
) -> NetResult<Connection> {
    let addr = endpoint_addr(device, addrs)?;
    tokio::time::timeout(EXCHANGE_TIMEOUT, ep.connect(addr, alpn))
        .await
        .map_err(|_| NetError::DialTimedOut {
            device: device.fmt_short(),
            tried: error::tried(addrs),
            secs: EXCHANGE_TIMEOUT.as_secs(),
        })?
        .map_err(|e| NetError::Unreachable {
            device: device.fmt_short(),
            tried: error::tried(addrs),
            source: Box::new(e),
        })
}

/// Keeps a sync connection to each peer it is given, redialing with
/// backoff after failures. A peer already connected (either direction) is
/// not dialed again until that session ends.
pub fn spawn_dialer(
    ep: Endpoint,
    node: NodeHandle,
    mut targets: mpsc::UnboundedReceiver<PeerRecord>,
) {
    let tasks = node.tasks.clone();
    tasks.spawn(async move {
        let mut dialing = std::collections::BTreeSet::new();
        while let Some(rec) = targets.recv().await {
            if !dialing.insert(rec.device) {
                continue;
            }
            let (ep, node) = (ep.clone(), node.clone());
            node.tasks.clone().spawn(keep_connected(ep, node, rec));
        }
    });
}

async fn keep_connected(ep: Endpoint, node: NodeHandle, rec: PeerRecord) {
    let mut backoff = Duration::from_millis(250);
    loop {
        if ep.is_closed() {
            return;
        }
        let device = rec.device;
        let state = node
            .ask(|reply| crate::runtime::Ask::Dial {
                peer: device,
                reply,
            })
            .await;
        let Ok(crate::runtime::DialState {
            connected,
            addrs,
            revoked,
        }) = state
        else {
            return; // the node is stopping
        };
        if revoked {
            return;
        }
        if !connected {
            let addrs = addrs.unwrap_or_else(|| rec.addrs.clone());
            match endpoint_addr(&device, &addrs) {
                Ok(addr) => match ep.connect(addr, SYNC_ALPN).await {
                    Ok(conn) => {
                        let began = std::time::Instant::now();
                        if let Err(e) = drive(node.clone(), conn, true).await {
                            let error = crate::control::error_line(&e);
                            tracing::debug!(peer = %device.fmt_short(), "session: {error}");
                            let _ = node.send(Cmd::PeerError { device, error }).await;
                        }
                        // A session that lasted resets the backoff; one
                        // that failed at once (refused, bad data) does not.
                        if began.elapsed() > Duration::from_secs(10) {
                            backoff = Duration::from_millis(250);
                        }
                    }
                    Err(e) => {
                        tracing::debug!(peer = %device.fmt_short(), "cannot connect: {e}");
                        let error = format!("cannot connect: {e}");
                        let _ = node.send(Cmd::PeerError { device, error }).await;
                    }
                },
                Err(e) => {
                    tracing::warn!("cannot dial a peer: {e}");
                    return;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
