//! What a node reports of its peers and the network: `peer list`,
//! `status`, `network` and `report`.

use super::*;

/// What the node knows of a peer right now.
#[derive(Clone, Debug, Default)]
pub struct PeerNow {
    /// A session is open.
    pub connected: bool,
    /// The last failure talking to it.
    pub last_error: Option<String>,
    /// While connected: every shared document in sync.
    pub in_sync: Option<bool>,
    /// When it last sent this node anything, this run (Unix seconds).
    pub heard: Option<u64>,
}

/// What this node knows of its peers, for `peer list` and `status`:
/// remembered peers, with `live` applied.
pub fn peer_statuses(
    group: &Group,
    live: &BTreeMap<DeviceId, PeerNow>,
) -> Result<Vec<groundwork_protocol::control::PeerStatus>, GroupError> {
    let names: BTreeMap<[u8; 32], String> = group
        .store()
        .cards()?
        .into_iter()
        .filter_map(|(k, b)| {
            SignedCard::from_bytes(&b)
                .ok()
                .map(|c| (k, c.card().name.clone()))
        })
        .collect();
    Ok(peers::load(group)?
        .into_values()
        .map(|p| {
            let l = live.get(&p.device).cloned().unwrap_or_default();
            groundwork_protocol::control::PeerStatus {
                device: p.device,
                group: p.group,
                name: p.group.and_then(|g| names.get(g.as_bytes()).cloned()),
                connected: l.connected,
                last_seen: Some(p.last_seen.max(l.heard.unwrap_or(0))).filter(|s| *s > 0),
                last_error: l.last_error,
                in_sync: l.in_sync,
                requested: p.requested,
            }
        })
        .collect())
}

/// What the store holds of the network: this node's network, the newest
/// records, and the verified cards.
pub(super) fn held_network(
    group: &Group,
) -> Result<(Option<GroupId>, Records, Vec<SignedCard>), GroupError> {
    let network = own_network(group)?;
    let records = load_records(group);
    let cards = group
        .store()
        .cards()?
        .into_iter()
        .filter_map(|(_, b)| SignedCard::from_bytes(&b).ok())
        .collect();
    Ok((network, records, cards))
}

/// The directory of groups, from the cards and records in the store (a
/// running node stores every record before it uses it, so this is current).
pub fn directory(
    group: &Group,
) -> Result<Vec<groundwork_protocol::control::DirectoryEntry>, GroupError> {
    let (network, records, cards) = held_network(group)?;
    Ok(directory_of(network, &records, cards.iter()))
}

/// The directory from records and cards already verified.
pub(super) fn directory_of<'a>(
    network: Option<GroupId>,
    records: &Records,
    cards: impl Iterator<Item = &'a SignedCard>,
) -> Vec<groundwork_protocol::control::DirectoryEntry> {
    let mut out: Vec<_> = cards
        .map(|card| {
            let c = card.card();
            let summary = records.summaries.get(&c.group).map(|s| s.record());
            groundwork_protocol::control::DirectoryEntry {
                group: c.group,
                name: c.name.clone(),
                area: c.area.clone(),
                kind: c.kind,
                members: summary.map(|s| s.members.get()),
                established: summary.map(|s| s.established),
                affiliated: records
                    .affiliations
                    .get(&c.group)
                    .is_some_and(|a| Some(a.record().network) == network),
                last_seen: summary.map(|s| s.as_of),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The network's figures (`report`), from the cards, the newest summaries
/// and the summary history in the store.
pub fn report(group: &Group) -> Result<groundwork_protocol::report::NetworkReport, GroupError> {
    let (network, records, cards) = held_network(group)?;
    Ok(report_of(network, &records, cards.iter()))
}

/// The report from records and cards already verified (a running node's).
pub(super) fn report_of<'a>(
    network: Option<GroupId>,
    records: &Records,
    cards: impl Iterator<Item = &'a SignedCard>,
) -> groundwork_protocol::report::NetworkReport {
    use groundwork_protocol::report::{Listed, build};
    let listed: Vec<Listed> = cards
        .map(|card| {
            let c = card.card();
            Listed {
                group: c.group,
                name: c.name.clone(),
                area: c.area.clone(),
                kind: c.kind,
                affiliated: records
                    .affiliations
                    .get(&c.group)
                    .is_some_and(|a| Some(a.record().network) == network),
            }
        })
        .collect();
    let latest = records
        .summaries
        .iter()
        .map(|s| (s.record().group, s.record().clone()))
        .collect();
    build(network, &listed, &latest)
}

impl Actor {
    /// The directory from what this node holds in memory.
    pub fn directory(&self) -> Vec<groundwork_protocol::control::DirectoryEntry> {
        directory_of(self.network, &self.records, self.cards.values())
    }

    /// The network's figures from what this node holds in memory.
    pub fn report(&self) -> Result<groundwork_protocol::report::NetworkReport, GroupError> {
        Ok(report_of(self.network, &self.records, self.cards.values()))
    }
}
