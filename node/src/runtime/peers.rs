//! What a node remembers about its peers: addresses (reused after a
//! restart), group, whether linked, and the sync state per document.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use automerge::sync::State;
use groundwork_protocol::trust::Links;
use groundwork_protocol::{DeviceId, DocId, GroupId};

use crate::group::{Group, GroupError};

/// A remembered peer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeerRecord {
    /// Its device id (the endpoint id).
    pub device: DeviceId,
    /// Its group, if known.
    pub group: Option<GroupId>,
    /// The addresses it was last reached at.
    pub addrs: Vec<SocketAddr>,
    /// Whether it is a linked group's node: a steward on each side
    /// consented (a link code, or a request accepted).
    pub linked: bool,
    /// This node asked to link with it, and its steward has not answered:
    /// not dialed (it connects back when it accepts).
    #[serde(default)]
    pub requested: bool,
    /// When it was last seen (seconds since 1970).
    pub last_seen: u64,
}

/// The links the remembered peers make (see `trust::Links`).
pub fn links(peers: &BTreeMap<DeviceId, PeerRecord>, own: GroupId) -> Links {
    let mut links = Links::default();
    for p in peers.values() {
        let Some(g) = p.group.filter(|g| *g != own) else {
            continue;
        };
        if p.linked {
            links.linked.entry(g).or_default().insert(p.device);
        } else if p.requested {
            links.requested.insert(p.device, g);
        }
    }
    links
}

/// Loads every remembered peer; a record that does not parse is skipped
/// with a warning (it is only a cache of addresses).
pub fn load(group: &Group) -> Result<BTreeMap<DeviceId, PeerRecord>, GroupError> {
    let mut out = BTreeMap::new();
    for (_, bytes) in group.store().peers()? {
        match serde_json::from_slice::<PeerRecord>(&bytes) {
            Ok(r) => {
                out.insert(r.device, r);
            }
            Err(e) => tracing::warn!("skipping an unreadable peer record: {e}"),
        }
    }
    Ok(out)
}

/// Durably remembers a linked peer (a request accepted while no node
/// runs: the next `up` dials it).
pub fn remember_linked(
    group: &Group,
    device: DeviceId,
    theirs: GroupId,
    addrs: Vec<std::net::SocketAddr>,
) -> Result<PeerRecord, GroupError> {
    let rec = PeerRecord {
        device,
        group: Some(theirs),
        addrs,
        linked: true,
        requested: false,
        last_seen: group.clock().secs(),
    };
    save(group, &rec)?;
    Ok(rec)
}

/// Durably remembers a peer.
pub fn save(group: &Group, rec: &PeerRecord) -> Result<(), GroupError> {
    let bytes = serde_json::to_vec(rec).map_err(|e| GroupError::Internal(e.to_string()))?;
    Ok(group.store().put_peer(rec.device.as_bytes(), &bytes)?)
}

/// The sync states saved for a peer.
pub fn load_states(group: &Group, peer: &DeviceId) -> BTreeMap<DocId, State> {
    match group.store().peer_states(peer.as_bytes()) {
        Ok(states) => states
            .into_iter()
            .filter_map(|(doc, bytes)| {
                super::decode_state(&bytes).map(|s| (DocId::from_bytes(doc), s))
            })
            .collect(),
        Err(e) => {
            tracing::warn!("could not read saved sync states: {e}");
            BTreeMap::new()
        }
    }
}

/// Durably saves the sync states of a session with a peer.
pub fn save_states(
    group: &Group,
    peer: &DeviceId,
    states: &BTreeMap<DocId, State>,
) -> Result<(), GroupError> {
    let encoded: Vec<([u8; 32], Vec<u8>)> = states
        .iter()
        .map(|(d, s)| (*d.as_bytes(), s.encode()))
        .collect();
    Ok(group.store().save_peer_states(peer.as_bytes(), &encoded)?)
}
