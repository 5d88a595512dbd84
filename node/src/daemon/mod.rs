//! Starting and stopping a node: the actor thread, the endpoint with its
//! handshake gate, the Router and the dialer.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use groundwork_protocol::DeviceId;
use iroh::Endpoint;
use iroh::protocol::Router;
use tokio::sync::{broadcast, mpsc, oneshot};

use groundwork_protocol::control::{Request, Response};

use crate::config::Config;
use crate::control::{ControlHandler, ControlServer};
use crate::datadir::DataDir;
use crate::group::Group;
use crate::net::{self, Gate, NodeHandle};
use crate::runtime::{Actor, Admission, Cmd, ControlContext, NodeEvent};

mod error;
mod links;

/// The meta entry holding the port of the last `up`.
pub(crate) const PORT_KEY: &str = "listen-port";

pub use crate::group::TICKET_KEY;
pub use error::DaemonError;

/// How long shutdown waits for the network tasks to end by themselves.
const TASK_GRACE: Duration = Duration::from_secs(2);

/// A running node.
#[derive(Debug)]
pub struct Daemon {
    handle: NodeHandle,
    router: Router,
    events: broadcast::Sender<NodeEvent>,
    actor: Option<std::thread::JoinHandle<()>>,
    control: Option<ControlServer>,
}

impl Daemon {
    /// Opens the group in `dir` and starts the node. Must run inside a
    /// tokio runtime.
    pub async fn start(dir: &DataDir, config: &Config) -> Result<Daemon, DaemonError> {
        Daemon::start_with_clock(dir, config, crate::clock::Clock::system()).await
    }

    /// [`Daemon::start`] with the clock every time-dependent decision of
    /// the node reads (a test's, or the system's).
    pub async fn start_with_clock(
        dir: &DataDir,
        config: &Config,
        clock: crate::clock::Clock,
    ) -> Result<Daemon, DaemonError> {
        let mut group = Group::open(dir)?;
        group.set_clock(clock);
        let device = groundwork_protocol::SecretKey::from_seed(&group.device_key().to_seed());
        let admission = Arc::new(RwLock::new(Admission::default()));
        let (events, _) = broadcast::channel(1024);
        let (dial_tx, dial_rx) = mpsc::unbounded_channel();
        let mut actor = Actor::load(group, admission.clone(), events.clone(), dial_tx.clone())?;
        // Listen on the port of the last run when no port was asked for, so
        // peers' remembered addresses (and invites) stay good after a restart.
        let gate = Gate::new(admission);
        let last_port: Option<u16> = actor.group().meta(PORT_KEY)?;
        let endpoint = match last_port.filter(|p| config.listen.port() == 0 && *p != 0) {
            Some(port) => {
                let mut again = config.clone();
                again.listen.set_port(port);
                match net::bind(&device, &again, Some(gate.clone())).await {
                    Ok(ep) => ep,
                    Err(e) => {
                        tracing::info!(
                            "port {port} of the last run is taken ({}); using another",
                            crate::control::error_line(&e)
                        );
                        net::bind(&device, config, Some(gate)).await?
                    }
                }
            }
            None => net::bind(&device, config, Some(gate)).await?,
        };
        if let Some(port) = endpoint.bound_sockets().first().map(|a| a.port()) {
            actor
                .group()
                .set_meta(PORT_KEY, serde_json::Value::from(port))?;
        }
        let ticket = net::ticket(&endpoint);
        actor
            .group()
            .set_meta(TICKET_KEY, serde_json::Value::String(ticket))?;
        for t in actor.dial_targets() {
            let _ = dial_tx.send(t);
        }
        let (tx, rx) = mpsc::channel::<Cmd>(1024);
        actor.set_sender(tx.clone());
        let handle = NodeHandle::new(tx);
        let gossip = net::gossip::protocol(&endpoint);
        actor.set_gossip(net::gossip::start(
            &endpoint,
            gossip.clone(),
            handle.clone(),
        ));
        let thread = std::thread::Builder::new()
            .name("groundwork-node".into())
            .spawn(move || actor.run(rx))
            .map_err(|source| DaemonError::Io {
                doing: "starting the node thread".into(),
                source,
            })?;
        let router = net::serve(endpoint.clone(), handle.clone(), gossip);
        if config.mdns
            && let Err(e) = net::lan::start(&endpoint, handle.clone())
        {
            // A network without multicast still syncs by address.
            tracing::warn!("LAN discovery is off: {e}");
        }
        net::spawn_dialer(endpoint.clone(), handle.clone(), dial_rx);
        Ok(Daemon {
            handle,
            router,
            events,
            actor: Some(thread),
            control: None,
        })
    }

    /// The handle to the actor.
    pub fn handle(&self) -> &NodeHandle {
        &self.handle
    }

    /// The node's network tasks (shutdown awaits every one).
    pub fn tasks(&self) -> net::Tasks {
        self.handle.tasks().clone()
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        self.router.endpoint()
    }

    /// Subscribes to node events.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// This node's ticket.
    pub fn ticket(&self) -> String {
        net::ticket(self.endpoint())
    }

    /// Waits until the session with `peer` has synced every shared
    /// document, or `timeout` passes.
    pub async fn wait_synced(&self, peer: DeviceId, timeout: Duration) -> Result<(), DaemonError> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events();
        loop {
            if self.handle.synced_with(peer).await? {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DaemonError::SyncTimedOut {
                    secs: timeout.as_secs(),
                    peer: peer.fmt_short(),
                });
            }
            // Re-check on any event, and at least every 5 ms (a sync
            // message that changes nothing raises no event).
            let _ = tokio::time::timeout(left.min(Duration::from_millis(5)), events.recv()).await;
        }
    }

    /// Answers a control API request as the socket would.
    pub async fn request(&self, req: Request) -> Result<Response, DaemonError> {
        self.control().answer(req).await
    }

    /// The control API in this process: what the socket serves.
    pub fn control(&self) -> NodeControl {
        NodeControl {
            handle: self.handle.clone(),
            endpoint: self.endpoint().clone(),
            events: self.events.clone(),
        }
    }

    /// Serves the control API on the data directory's socket.
    pub async fn serve_control(&mut self, dir: &DataDir) -> Result<(), DaemonError> {
        let server = crate::control::serve(dir, Arc::new(self.control())).await?;
        self.control = Some(server);
        Ok(())
    }

    /// Saves every session's state and stops.
    pub async fn shutdown(mut self) -> Result<(), DaemonError> {
        if let Some(c) = self.control.take() {
            c.shutdown().await;
        }
        let (tx, rx) = oneshot::channel();
        if self.handle.send(Cmd::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
        let stopped = self.router.shutdown().await;
        if let Some(t) = self.actor.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        // With the actor and the endpoint stopped, the dialer, gossip and
        // LAN tasks end by themselves; any still waiting is stopped.
        let left = self.handle.tasks().shutdown(TASK_GRACE).await;
        if left > 0 {
            tracing::debug!("stopped {left} network tasks that were still waiting");
        }
        stopped.map_err(|e| DaemonError::Router(e.to_string()))
    }
}

/// The control API of a running node: group requests run on the actor
/// thread (then go out to peers at once); network requests use the node's
/// endpoint.
#[derive(Debug, Clone)]
pub struct NodeControl {
    handle: NodeHandle,
    endpoint: Endpoint,
    events: broadcast::Sender<NodeEvent>,
}

impl NodeControl {
    async fn answer(&self, req: Request) -> Result<Response, DaemonError> {
        Ok(match req {
            // These two dial another node first; everything else is the
            // actor's.
            Request::Affiliate { ticket } => match self.affiliate(&ticket).await {
                Ok(r) => r,
                Err(e) => DaemonError::from(e).response(),
            },
            Request::PeerAdd { ticket } => match self.link(&ticket).await {
                Ok(r) => r,
                Err(e) => DaemonError::from(e).response(),
            },
            other => {
                let context = self.context(&other);
                self.handle.control(other, context).await?
            }
        })
    }

    /// What the actor needs from the network side to answer `req`: the
    /// addresses only for what hands them out (reading them is not free).
    fn context(&self, req: &Request) -> ControlContext {
        let (sent, received, _) = self.handle.traffic().totals();
        let addrs = match req {
            Request::Invite { .. } | Request::LinkCode { .. } => advertised_addrs(&self.endpoint),
            _ => Vec::new(),
        };
        let socket = &self.endpoint.metrics().socket;
        ControlContext {
            addrs,
            traffic: Some(groundwork_protocol::control::TrafficStatus {
                sent,
                received,
                wire_sent: socket.send_ipv4.get()
                    + socket.send_ipv6.get()
                    + socket.send_relay.get(),
                wire_received: socket.recv_data_ipv4.get()
                    + socket.recv_data_ipv6.get()
                    + socket.recv_data_relay.get(),
            }),
        }
    }
}

/// The addresses to put in an invite: the sockets the endpoint is bound to,
/// with a wildcard bind replaced by the interface addresses it found.
pub fn advertised_addrs(ep: &Endpoint) -> Vec<std::net::SocketAddr> {
    let mut addrs: Vec<std::net::SocketAddr> = ep
        .bound_sockets()
        .into_iter()
        .filter(|a| !a.ip().is_unspecified())
        .collect();
    addrs.extend(ep.addr().ip_addrs().copied());
    addrs.sort();
    addrs.dedup();
    addrs
}

impl ControlHandler for NodeControl {
    fn request(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            match self.answer(req).await {
                Ok(r) => r,
                Err(e) => e.response(),
            }
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }
}

/// Joining a group, step 1: redeems `invite` with the inviting device over
/// a temporary endpoint keyed by `device`. Returns what the group told it.
pub async fn redeem_invite(
    device: &groundwork_protocol::SecretKey,
    config: &Config,
    invite: &groundwork_protocol::invite::Invite,
    label: &str,
) -> Result<Box<groundwork_protocol::join::Joined>, DaemonError> {
    use groundwork_protocol::join::{JoinReply, JoinRequest};
    let ep = net::bind(device, config, None).await?;
    let reply = net::request_join(
        &ep,
        &invite.inviter,
        &invite.addrs,
        &JoinRequest {
            token: invite.token,
            label: label.to_owned(),
        },
    )
    .await;
    ep.close().await;
    let joined = match reply? {
        JoinReply::Accepted(j) => j,
        JoinReply::Refused(why) => return Err(DaemonError::InviteRefused(why)),
        JoinReply::Recovered => {
            return Err(DaemonError::InviteRefused(
                "the inviting device answered a recovery, not a join".into(),
            ));
        }
    };
    if joined.group != invite.group {
        return Err(DaemonError::OtherGroup);
    }
    Ok(joined)
}

/// Recovery: presents `card` (naming this device a steward) to each of
/// `peers` over a temporary endpoint keyed by `device`, concurrently;
/// returns each one's answer.
pub async fn present_card(
    device: &groundwork_protocol::SecretKey,
    config: &Config,
    card: &groundwork_protocol::card::SignedCard,
    peers: &[crate::runtime::PeerRecord],
) -> Result<
    Vec<(
        DeviceId,
        Result<groundwork_protocol::join::JoinReply, net::NetError>,
    )>,
    DaemonError,
> {
    let ep = net::bind(device, config, None).await?;
    let mut asks = tokio::task::JoinSet::new();
    for p in peers {
        let (ep, card, p) = (ep.clone(), card.clone(), p.clone());
        asks.spawn(async move {
            let r = net::request_recover(&ep, &p.device, &p.addrs, &card).await;
            (p.device, r)
        });
    }
    let mut answers = Vec::new();
    while let Some(a) = asks.join_next().await {
        if let Ok(a) = a {
            answers.push(a);
        }
    }
    ep.close().await;
    Ok(answers)
}

/// Joining a group, step 2: sets up the data directory for the group the
/// invite was redeemed for (the group key for a steward, the store with the
/// profile, the role until the devices document arrives, and the inviting
/// device as the first peer). The documents then come by sync.
pub fn set_up_joined(
    dir: &DataDir,
    device: groundwork_protocol::SecretKey,
    invite: &groundwork_protocol::invite::Invite,
    joined: &groundwork_protocol::join::Joined,
) -> Result<(), DaemonError> {
    let group_key = joined
        .group_secret
        .as_ref()
        .map(|s| groundwork_protocol::SecretKey::from_seed(s));
    let profile = crate::group::GroupProfile {
        id: joined.group,
        name: joined.name.clone(),
        area: joined.area.clone(),
        kind: joined.kind,
        founded: joined.founded,
    };
    let g = Group::joined(dir, device, profile, group_key.as_ref())?;
    admitted(&g, invite, joined)
}

/// After an invite was redeemed: the role until the devices document
/// arrives, and the inviting device as the first peer (a new directory,
/// or a restored backup of the group, which keeps the group key it has).
pub fn admitted(
    g: &Group,
    invite: &groundwork_protocol::invite::Invite,
    joined: &groundwork_protocol::join::Joined,
) -> Result<(), DaemonError> {
    if let Some(s) = &joined.group_secret
        && !g.dir().key_path(crate::datadir::KeyKind::Group).exists()
    {
        let k = groundwork_protocol::SecretKey::from_seed(s);
        if k.public() == joined.group {
            g.dir()
                .write_key(crate::datadir::KeyKind::Group, &k)
                .map_err(crate::group::GroupError::from)?;
        }
    }
    g.set_meta(
        crate::runtime::JOINED_ROLE_KEY,
        serde_json::to_value(joined.role).map_err(|source| DaemonError::Encode {
            what: "the role",
            source,
        })?,
    )?;
    let rec = crate::runtime::PeerRecord {
        device: invite.inviter,
        group: Some(invite.group),
        addrs: invite.addrs.clone(),
        linked: false,
        requested: false,
        last_seen: g.clock().secs(),
    };
    let bytes = serde_json::to_vec(&rec).map_err(|source| DaemonError::Encode {
        what: "the inviting device",
        source,
    })?;
    g.store().put_peer(rec.device.as_bytes(), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests;
