//! LAN discovery: mDNS (iroh-mdns-address-lookup) on the local network.
//!
//! The endpoint advertises itself and resolves other devices' addresses
//! through mDNS, so a device that moved (a new address, a new port) is still
//! found by its id. When a device this node knows announces itself, its
//! addresses are remembered and the dialer tries it. Unknown devices are
//! ignored: discovery never admits anyone.

use groundwork_protocol::DeviceId;
use iroh::Endpoint;
use iroh_mdns_address_lookup::{DiscoveryEvent, MdnsAddressLookup};
use n0_future::StreamExt;

use super::{NetError, NetResult, NodeHandle};
use crate::runtime::Cmd;

/// The mDNS service name Groundwork nodes advertise under.
pub const SERVICE: &str = "groundwork";

/// Starts mDNS on `ep` and feeds discovered devices to the node.
pub fn start(ep: &Endpoint, node: NodeHandle) -> NetResult<()> {
    let mdns = MdnsAddressLookup::builder()
        .service_name(SERVICE)
        .build(ep.id())
        .map_err(|e| NetError::Lan(e.to_string()))?;
    ep.address_lookup()
        .map_err(|e| NetError::Lan(format!("the endpoint has no address lookup: {e}")))?
        .add(mdns.clone());
    let tasks = node.tasks().clone();
    tasks.spawn(async move {
        let mut events = mdns.subscribe().await;
        while let Some(event) = events.next().await {
            let DiscoveryEvent::Discovered { endpoint_info, .. } = event else {
                continue;
            };
            let Ok(device) = DeviceId::from_bytes(endpoint_info.endpoint_id.as_bytes()) else {
                continue;
            };
            let addrs: Vec<_> = endpoint_info.data.ip_addrs().copied().collect();
            if addrs.is_empty() {
                continue;
            }
            if node.send(Cmd::Discovered { device, addrs }).await.is_err() {
                return;
            }
        }
    });
    Ok(())
}
