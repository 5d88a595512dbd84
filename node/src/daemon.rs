//! Starting and stopping a node: the actor thread, the endpoint with its
//! handshake gate, the Router and the dialer.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use groundwork_protocol::DeviceId;
use iroh::Endpoint;
use iroh::protocol::Router;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::config::Config;
use crate::datadir::DataDir;
use crate::group::Group;
use crate::net::{self, Gate, NodeHandle};
use crate::runtime::{Actor, Admission, Cmd, NodeEvent};

/// The meta entry holding the ticket of the last `up`.
pub const TICKET_KEY: &str = "ticket";

/// A running node.
#[derive(Debug)]
pub struct Daemon {
    handle: NodeHandle,
    router: Router,
    events: broadcast::Sender<NodeEvent>,
    actor: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    /// Opens the group in `dir` and starts the node. Must run inside a
    /// tokio runtime.
    pub async fn start(dir: &DataDir, config: &Config) -> Result<Daemon> {
        let group = Group::open(dir)?;
        let device = groundwork_protocol::SecretKey::from_seed(&group.device_key().to_seed());
        let admission = Arc::new(RwLock::new(Admission::default()));
        let (events, _) = broadcast::channel(1024);
        let (dial_tx, dial_rx) = mpsc::unbounded_channel();
        let mut actor = Actor::load(group, admission.clone(), events.clone(), dial_tx.clone())?;
        let endpoint = net::bind(&device, config, Some(Gate::new(admission))).await?;
        let ticket = net::ticket(&endpoint);
        actor
            .group()
            .set_meta(TICKET_KEY, serde_json::Value::String(ticket))?;
        for t in actor.dial_targets() {
            let _ = dial_tx.send(t);
        }
        let (tx, mut rx) = mpsc::channel::<Cmd>(1024);
        let thread = std::thread::Builder::new()
            .name("groundwork-node".into())
            .spawn(move || {
                while let Some(cmd) = rx.blocking_recv() {
                    let keep_going = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        actor.handle(cmd)
                    }))
                    .unwrap_or_else(|_| {
                        tracing::error!("the node hit an internal error handling a request");
                        true
                    });
                    if !keep_going {
                        break;
                    }
                }
            })
            .context("starting the node thread")?;
        let handle = NodeHandle::new(tx);
        let router = net::serve(endpoint.clone(), handle.clone());
        net::spawn_dialer(endpoint, handle.clone(), dial_rx);
        Ok(Daemon {
            handle,
            router,
            events,
            actor: Some(thread),
        })
    }

    /// The handle to the actor.
    pub fn handle(&self) -> &NodeHandle {
        &self.handle
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
    pub async fn wait_synced(&self, peer: DeviceId, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events();
        loop {
            if self.handle.with(move |a| a.is_synced_with(&peer)).await? {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(anyhow!(
                    "timed out after {}s waiting to sync with {}",
                    timeout.as_secs(),
                    peer.fmt_short()
                ));
            }
            // Re-check on any event, and at least every 100 ms (a sync
            // message that changes nothing raises no event).
            let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), events.recv()).await;
        }
    }

    /// Saves every session's state and stops.
    pub async fn shutdown(mut self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        if self.handle.send(Cmd::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
        self.router.shutdown().await.context("shutting down")?;
        if let Some(t) = self.actor.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        Ok(())
    }
}
