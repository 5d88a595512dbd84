//! What a running node reports about itself and its peers: `status`,
//! `peer list`, `peer requests`, `network` and another group's shared
//! documents.

use crate::ids::DocKind;
use crate::keys::{DeviceId, GroupId};
use crate::schema::{Constitution, Plan, Role};

/// A running node's state, for `groundwork status`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeStatus {
    /// This device's id (also its endpoint id).
    pub device: DeviceId,
    /// The group this device belongs to.
    pub group: GroupId,
    /// The group's name.
    pub group_name: String,
    /// What sort of group it is (the national body's node affiliates
    /// groups; a group's links them).
    #[serde(default)]
    pub group_kind: crate::card::GroupKind,
    /// This device's role; `None` if it is not (or no longer) an active device.
    pub role: Option<Role>,
    /// Peers this node knows.
    pub peers: Vec<PeerStatus>,
    /// The group's documents.
    pub documents: Vec<DocStatus>,
    /// The network this group is affiliated to, and since when, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<crate::records::Affiliation>,
    /// The network gossip this node takes part in, once it belongs to a
    /// network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gossip: Option<GossipStatus>,
    /// Bytes of sync frames sent and received since the node started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficStatus>,
    /// Devices caught signing two different changes with one sequence
    /// number (the node keeps both as proof). Such a device is broken or
    /// compromised: a steward should revoke it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equivocations: Vec<EquivocationStatus>,
    /// How this device keeps the group's data on its disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_rest: Option<AtRest>,
    /// The group's steward devices that are not revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steward_devices: Option<u32>,
}

/// How a device keeps the group's data on its disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AtRest {
    /// The data directory has a passphrase.
    pub passphrase: bool,
    /// The store's personal data and the key files are sealed under it
    /// (false while a `passphrase set` is unfinished).
    pub sealed: bool,
}

/// The warning for a device whose data directory has no passphrase.
pub const NO_PASSPHRASE_WARNING: &str = "no passphrase: anyone with this laptop's disk can read \
     the roster and contacts; set one with `groundwork passphrase set`, or use full-disk encryption";
/// The warning for a passphrase set that did not finish.
pub const UNSEALED_WARNING: &str =
    "setting the passphrase did not finish: run `groundwork passphrase set` again";
/// The warning for a group with one steward device.
pub const ONE_STEWARD_WARNING: &str = "this group has only one steward device: if it is lost, \
     only a backup of it can admit or revoke devices (`groundwork device recover`); add a second \
     with `groundwork invite --role steward` here and `groundwork join` on another laptop";

impl NodeStatus {
    /// What a user should be told about this node, most urgent first.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if let Some(a) = self.at_rest {
            if !a.passphrase {
                out.push(NO_PASSPHRASE_WARNING);
            } else if !a.sealed {
                out.push(UNSEALED_WARNING);
            }
        }
        if self.steward_devices == Some(1) {
            out.push(ONE_STEWARD_WARNING);
        }
        out
    }
}

/// A device that signed two different changes with one sequence number.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EquivocationStatus {
    /// The device.
    pub device: DeviceId,
    /// The group whose document it is.
    pub group: GroupId,
    /// Which document.
    pub kind: DocKind,
    /// The sequence number it signed twice.
    pub seq: u64,
    /// The document's epoch it did so in.
    #[serde(default)]
    pub epoch: u64,
    /// Whether the document has since moved to a later epoch, which holds
    /// one history only (a steward started one, or revoked the device).
    #[serde(default)]
    pub healed: bool,
}

/// A document a session with a peer stopped syncing, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoppedSync {
    /// The peer.
    pub peer: DeviceId,
    /// Why (this node's reason, or the peer's if it stopped).
    pub reason: String,
    /// Whether the peer stopped it.
    pub by_peer: bool,
}

/// Sync traffic since the node started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrafficStatus {
    /// Bytes sent (frame headers included).
    pub sent: u64,
    /// Bytes received.
    pub received: u64,
    /// UDP bytes the endpoint sent: everything on the wire, encrypted,
    /// gossip and handshakes included (0 from a node that does not count).
    #[serde(default)]
    pub wire_sent: u64,
    /// UDP bytes the endpoint received.
    #[serde(default)]
    pub wire_received: u64,
}

/// A node's part in its network's gossip.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GossipStatus {
    /// The network whose topic it joined.
    pub network: GroupId,
    /// Direct neighbours in the swarm now.
    pub neighbours: u64,
    /// Valid cards and records that arrived by gossip (new here or not:
    /// gossip and sync sessions race to deliver them).
    pub records_received: u64,
}

/// One peer of a running node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeerStatus {
    /// The peer's device id.
    pub device: DeviceId,
    /// The peer's group, once known.
    pub group: Option<GroupId>,
    /// The group's name, if known.
    pub name: Option<String>,
    /// Whether a connection is open now.
    pub connected: bool,
    /// When it was last heard from, in seconds since the Unix epoch.
    pub last_seen: Option<u64>,
    /// The last failure talking to it, if any.
    pub last_error: Option<String>,
    /// While connected: whether every document the session shares is in
    /// sync (both sides hold the same heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_sync: Option<bool>,
    /// This node asked to link with it, and its steward has not accepted yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requested: bool,
}

/// A request to link, waiting for this group's steward.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkRequestView {
    /// The requesting group.
    pub group: GroupId,
    /// Its name, area and kind, from its card.
    pub name: String,
    /// Its area.
    pub area: Option<String>,
    /// What sort of group it is.
    pub kind: crate::card::GroupKind,
    /// The device that asked.
    pub device: DeviceId,
    /// When it asked (seconds since 1970).
    pub at: u64,
}

/// The documents another group shares, as this node holds them: `None`
/// where it holds none (it has not synced with anyone who carries them).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharedDocs {
    /// The group.
    pub group: GroupId,
    /// Its constitution.
    pub constitution: Option<Constitution>,
    /// Its plan (action owners are not shared: they name members).
    pub plan: Option<Plan>,
}

/// One group in the directory (`network`): from its card, its newest
/// membership summary and the affiliations held. Counts only.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryEntry {
    /// The group id.
    pub group: GroupId,
    /// Its name.
    pub name: String,
    /// Its area.
    pub area: Option<String>,
    /// What sort of group it is.
    pub kind: crate::card::GroupKind,
    /// Active members, from its newest summary, as published (rounded to
    /// base 5).
    pub members: Option<u64>,
    /// Whether it is established, from its newest summary.
    pub established: Option<bool>,
    /// Whether this node holds an affiliation of it to the network.
    pub affiliated: bool,
    /// The date of its newest summary: when it last reported its figures
    /// (`as_of` in JSON, as in the report).
    #[serde(rename = "as_of")]
    pub last_seen: Option<crate::date::Date>,
}

/// One document of a running node's group.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocStatus {
    /// The group whose document it is: this group's, or (for a constitution
    /// or plan) a linked group's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// Which document.
    pub kind: DocKind,
    /// How many heads it has (more than one: concurrent edits not yet merged
    /// by a later change).
    pub heads: u64,
    /// A fingerprint of its heads (16 hex digits, the one sessions compare):
    /// two devices with the same one hold the same history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Changes stored since its snapshot, if counted.
    pub changes: Option<u64>,
    /// Bytes stored for it, if counted.
    pub bytes: Option<u64>,
    /// Connected peers whose session carries it (a running node fills it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<u64>,
    /// Of those, how many hold the same heads as this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers_in_sync: Option<u64>,
    /// Sessions that stopped syncing it (a change failed verification, or
    /// the document is forked by an equivocating device).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<StoppedSync>,
    /// The epoch this node holds of it (0: the founding history).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub epoch: u64,
    /// Past epoch 0, this group's devices that may read it and have not
    /// been seen holding this epoch yet (they still hold the old one, with
    /// whatever it erased, until they next sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub old_epoch: Vec<DeviceId>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
