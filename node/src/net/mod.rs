//! The node on the network: an iroh endpoint whose key is the device key,
//! and a Router serving Groundwork's versioned ALPNs.
//!
//! Connectivity: with `--offline` (or `relay = "disabled"`), the endpoint
//! uses no relay and no public address lookup (`presets::Minimal`, relays
//! and port mapping off), so it works on a LAN or loopback with no
//! internet. Only the sockets asked for are bound (`clear_ip_transports`).

use std::net::SocketAddr;

use anyhow::{Context, Result};
use groundwork_protocol::SecretKey;
use iroh::endpoint::{PortmapperConfig, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, RelayMode};
use iroh_tickets::endpoint::EndpointTicket;

/// Syncing a group's documents (the protocol in docs/protocol.md).
pub const SYNC_ALPN: &[u8] = b"/groundwork/sync/1";

/// The default listening address: every interface, a port chosen by the OS.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:0";

/// How the endpoint reaches peers.
#[derive(Clone, Debug)]
pub struct Connectivity {
    /// No relays, no public address lookup.
    pub offline: bool,
    /// Where to listen.
    pub listen: SocketAddr,
}

/// Binds the endpoint for this device.
pub async fn bind(device: &SecretKey, c: &Connectivity) -> Result<Endpoint> {
    let secret = iroh::SecretKey::from_bytes(&device.to_seed());
    let mut builder = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr(c.listen)
        .with_context(|| format!("cannot listen on {}", c.listen))?;
    builder = if c.offline {
        builder.relay_mode(RelayMode::Disabled)
    } else {
        builder.relay_mode(RelayMode::Default)
    };
    builder
        .bind()
        .await
        .with_context(|| format!("cannot bind the endpoint on {}", c.listen))
}

/// This node's ticket: its id and current addresses, as text.
pub fn ticket(ep: &Endpoint) -> String {
    EndpointTicket::new(ep.addr()).to_string()
}

/// The sync protocol's connection handler. Sessions are being built; until
/// they are, a connection is closed with a reason the peer can log.
#[derive(Debug, Clone, Default)]
pub struct SyncHandler;

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, conn: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        tracing::info!(peer = %conn.remote_id().fmt_short(), "sync connection");
        conn.close(
            1u32.into(),
            b"sync sessions are not served by this version yet",
        );
        Ok(())
    }
}

/// Starts the Router with every ALPN this node serves.
pub fn serve(ep: Endpoint) -> Router {
    Router::builder(ep).accept(SYNC_ALPN, SyncHandler).spawn()
}
