//! The node on the network: an iroh endpoint whose key is the device key,
//! and a Router serving Groundwork's versioned ALPNs.
//!
//! Connectivity comes from [`crate::config`]: with `--offline` (or
//! `relay = "disabled"`) the endpoint uses no relay and no public address
//! lookup (`presets::Minimal`), so it works on a LAN or loopback with no
//! internet. Port mapping is off, and only the socket asked for is bound
//! (`clear_ip_transports`).

use anyhow::{Context, Result};
use groundwork_protocol::SecretKey;
use iroh::endpoint::{PortmapperConfig, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, RelayMode};
use iroh_tickets::endpoint::EndpointTicket;

use crate::config::{Config, Relay};

/// Syncing a group's documents (the protocol in docs/protocol.md).
pub const SYNC_ALPN: &[u8] = b"/groundwork/sync/1";

/// Binds the endpoint for this device. With relays disabled there is no
/// public address lookup either; with n0's relays the endpoint also
/// publishes and looks up addresses through n0's DNS (`presets::N0`).
pub async fn bind(device: &SecretKey, config: &Config) -> Result<Endpoint> {
    let secret = iroh::SecretKey::from_bytes(&device.to_seed());
    let builder = match &config.relay {
        Relay::Default => Endpoint::builder(presets::N0),
        Relay::Disabled => Endpoint::builder(presets::Minimal).relay_mode(RelayMode::Disabled),
        Relay::Custom(url) => {
            Endpoint::builder(presets::Minimal).relay_mode(RelayMode::Custom(url.clone().into()))
        }
    };
    builder
        .secret_key(secret)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?
        .bind()
        .await
        .with_context(|| format!("cannot bind the endpoint on {}", config.listen))
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
