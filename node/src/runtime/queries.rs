//! What callers ask of the node state, as typed commands ([`Ask`]): the
//! control API's group requests (reads, and edits that go out to every
//! connected peer at once), and what the network side, the demo and the
//! benches ask.

use groundwork_protocol::control::{
    DocStatus, EquivocationStatus, NodeStatus, PeerStatus, Request, Response, StoppedSync,
    TrafficStatus,
};

use super::*;
use crate::group::GroupKind;

/// What the control API's caller knows and the actor does not.
#[derive(Clone, Debug, Default)]
pub struct ControlContext {
    /// Where the endpoint can be reached (for invites and link codes).
    pub addrs: Vec<SocketAddr>,
    /// Sync traffic since the node started (for `status`).
    pub traffic: Option<TrafficStatus>,
}

/// Who this node is and what it holds of the network.
#[derive(Clone, Debug)]
pub struct Overview {
    /// This device.
    pub device: DeviceId,
    /// Its group.
    pub group: GroupId,
    /// The group's name.
    pub name: String,
    /// Local group or national body.
    pub kind: GroupKind,
    /// The group cards held: group → its name.
    pub cards: BTreeMap<GroupId, String>,
    /// The groups whose affiliation this node holds.
    pub affiliations: BTreeSet<GroupId>,
    /// The groups whose membership summary this node holds.
    pub summaries: BTreeSet<GroupId>,
    /// Peers with a session open now.
    pub connected: BTreeSet<DeviceId>,
}

/// What the dialer needs to know of a remembered peer.
#[derive(Clone, Debug)]
pub struct DialState {
    /// A session with it is open.
    pub connected: bool,
    /// Where it was last seen, if it is remembered.
    pub addrs: Option<Vec<SocketAddr>>,
    /// It is a device of this group that has been revoked.
    pub revoked: bool,
}

/// Why this node's card cannot go into a link request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkCardError {
    /// The ticket is this node's own.
    #[error("that is this node's own ticket")]
    OwnTicket,
    /// Only a steward device holds the signed card.
    #[error("only a steward device (which holds the group key) can link groups")]
    NotSteward,
}

/// A question for the actor, with the channel its answer goes back on.
pub enum Ask {
    /// A control API request about this group. An edit is durably
    /// committed, then offered to every connected peer, before the answer.
    Control {
        /// The request.
        req: Request,
        /// What the caller adds.
        context: ControlContext,
        /// The answer.
        reply: oneshot::Sender<Response>,
    },
    /// Who this node is and what it holds.
    Overview(oneshot::Sender<Overview>),
    /// Whether the session with `peer` has synced every shared document.
    SyncedWith {
        /// The peer.
        peer: DeviceId,
        /// In sync, or not (or not connected).
        reply: oneshot::Sender<bool>,
    },
    /// For the dialer: the state of a remembered peer.
    Dial {
        /// The peer.
        peer: DeviceId,
        /// Its state.
        reply: oneshot::Sender<DialState>,
    },
    /// This group's signed card, to offer `to` in a link request.
    LinkCard {
        /// The device asked.
        to: DeviceId,
        /// The card's bytes, or why not.
        reply: oneshot::Sender<Result<Vec<u8>, LinkCardError>>,
    },
    /// The affiliation certificate this node holds for `group`.
    AffiliationOf {
        /// The group.
        group: GroupId,
        /// Its bytes, if held.
        reply: oneshot::Sender<Option<Vec<u8>>>,
    },
    /// A remembered peer as `peer list` shows it.
    PeerStatus {
        /// The peer as remembered.
        record: PeerRecord,
        /// How it is shown.
        reply: oneshot::Sender<PeerStatus>,
    },
}

impl std::fmt::Debug for Ask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ask::Control { .. } => "Control",
            Ask::Overview(_) => "Overview",
            Ask::SyncedWith { .. } => "SyncedWith",
            Ask::Dial { .. } => "Dial",
            Ask::LinkCard { .. } => "LinkCard",
            Ask::AffiliationOf { .. } => "AffiliationOf",
            Ask::PeerStatus { .. } => "PeerStatus",
        })
    }
}

impl Actor {
    /// Answers a question (a caller that has gone is not an error).
    pub(super) fn answer(&mut self, ask: Ask) {
        match ask {
            Ask::Control {
                req,
                context,
                reply,
            } => {
                let r = self.control(req, context);
                let _ = reply.send(r);
            }
            Ask::Overview(reply) => {
                let _ = reply.send(self.overview());
            }
            Ask::SyncedWith { peer, reply } => {
                let _ = reply.send(self.is_synced_with(&peer));
            }
            Ask::Dial { peer, reply } => {
                let revoked = self.devices.get(&peer).is_some_and(|e| e.revoked.is_some());
                let _ = reply.send(DialState {
                    connected: self.sessions.values().any(|l| l.peer == peer),
                    addrs: self.peers.get(&peer).map(|p| p.addrs.clone()),
                    revoked,
                });
            }
            Ask::LinkCard { to, reply } => {
                let r = if to == self.me {
                    Err(LinkCardError::OwnTicket)
                } else {
                    self.cards
                        .get(&self.group.profile().id)
                        .map(|c| c.bytes().to_vec())
                        .ok_or(LinkCardError::NotSteward)
                };
                let _ = reply.send(r);
            }
            Ask::AffiliationOf { group, reply } => {
                let _ = reply.send(self.affiliation_of(&group));
            }
            Ask::PeerStatus { record, reply } => {
                let _ = reply.send(self.peer_status(&record));
            }
        }
    }

    /// Who this node is and what it holds.
    fn overview(&self) -> Overview {
        let p = self.group.profile();
        Overview {
            device: self.me,
            group: p.id,
            name: p.name.clone(),
            kind: p.kind,
            cards: self
                .cards
                .iter()
                .map(|(g, c)| (*g, c.card().name.clone()))
                .collect(),
            affiliations: self.records.affiliations.subjects().copied().collect(),
            summaries: self.records.summaries.subjects().copied().collect(),
            connected: self.sessions.values().map(|l| l.peer).collect(),
        }
    }

    /// A remembered peer as `peer list` shows it, before it connects.
    fn peer_status(&self, rec: &PeerRecord) -> PeerStatus {
        PeerStatus {
            device: rec.device,
            group: rec.group,
            name: rec
                .group
                .and_then(|g| self.cards.get(&g).map(|c| c.card().name.clone())),
            connected: false,
            last_seen: Some(rec.last_seen),
            last_error: None,
            in_sync: None,
            requested: rec.requested,
        }
    }

    /// Answers a control API request. The one path for edits: the group
    /// commits it durably, then every session is offered its changes.
    fn control(&mut self, req: Request, context: ControlContext) -> Response {
        let failed = |e: GroupError| crate::control::refusal(&e);
        match req {
            Request::Status => match self.status(context.traffic) {
                Ok(s) => Response::Status(s),
                Err(e) => failed(e),
            },
            Request::Invite { role, ttl_secs } => {
                match self.group.create_invite(
                    role,
                    self.group.clock().secs(),
                    ttl_secs,
                    context.addrs,
                ) {
                    Ok(i) => Response::Invite { text: i.to_text() },
                    Err(e) => failed(e),
                }
            }
            Request::PeerList => {
                let live = self.live_peers();
                match peer_statuses(&self.group, &live) {
                    Ok(p) => Response::Peers(p),
                    Err(e) => failed(e),
                }
            }
            // From the verified records and cards in memory, not verified
            // again from the store on every call.
            Request::Network => Response::Directory(self.directory()),
            Request::Report => match self.report() {
                Ok(r) => Response::Report(Box::new(r)),
                Err(e) => failed(e),
            },
            Request::LinkCode { ttl_secs } => {
                match self.group.create_link_code(
                    self.group.clock().secs(),
                    ttl_secs,
                    context.addrs,
                ) {
                    Ok(t) => Response::LinkCode {
                        text: t.to_text(),
                        expires: t.expires,
                    },
                    Err(e) => failed(e),
                }
            }
            Request::LinkRequests => match self.group.link_requests(self.group.clock().secs()) {
                Ok(r) => Response::LinkRequests(r),
                Err(e) => failed(e),
            },
            Request::PeerAccept { id } => match self.accept_request(&id) {
                Ok(rec) => Response::Peers(vec![self.peer_status(&rec)]),
                Err(e) => failed(e),
            },
            Request::PeerRefuse { id } => match self.refuse_request(&id) {
                Ok(()) => match self.group.link_requests(self.group.clock().secs()) {
                    Ok(r) => Response::LinkRequests(r),
                    Err(e) => failed(e),
                },
                Err(e) => failed(e),
            },
            other => {
                let r = crate::control::execute(&self.group, other);
                self.after_local_edit();
                r
            }
        }
    }

    /// Connected peers (and whether each is in sync) and last errors.
    fn live_peers(&mut self) -> BTreeMap<DeviceId, PeerNow> {
        let mut live: BTreeMap<DeviceId, PeerNow> = self
            .last_error
            .iter()
            .map(|(d, e)| {
                (
                    *d,
                    PeerNow {
                        last_error: Some(e.clone()),
                        ..Default::default()
                    },
                )
            })
            .collect();
        for d in self.connected().into_keys() {
            let synced = self.is_synced_with(&d);
            let entry = live.entry(d).or_default();
            entry.connected = true;
            entry.in_sync = Some(synced);
        }
        for (d, t) in &self.heard {
            live.entry(*d).or_default().heard = Some(*t);
        }
        live
    }

    /// What `status` shows.
    fn status(&mut self, traffic: Option<TrafficStatus>) -> Result<NodeStatus, GroupError> {
        let live = self.live_peers();
        let peers = peer_statuses(&self.group, &live)?;
        let own = self.group.profile().id;
        let documents = self
            .doc_heads()
            .into_iter()
            .map(|(g, kind, heads)| {
                let id = DocId::derive(&g, kind);
                let stats = self.group.store().doc_stats(&id).ok();
                let (peers, peers_in_sync) = self.doc_sync(&id, &heads);
                DocStatus {
                    group: Some(g),
                    kind,
                    heads: heads.len() as u64,
                    fingerprint: Some(data_encoding::HEXLOWER.encode(
                        &groundwork_protocol::sync::messages::fingerprint(&id, &heads),
                    )),
                    changes: stats.map(|s| s.pending_changes as u64),
                    bytes: stats.map(|s| (s.snapshot_bytes + s.pending_bytes) as u64),
                    peers: Some(peers),
                    peers_in_sync: Some(peers_in_sync),
                    stopped: self
                        .doc_stopped(&id)
                        .into_iter()
                        .map(|(peer, s)| StoppedSync {
                            peer,
                            reason: s.reason,
                            by_peer: s.by_peer,
                        })
                        .collect(),
                    epoch: self.group.epoch(&id),
                    old_epoch: if g == own {
                        self.doc_old_epoch(&id, kind)
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        Ok(NodeStatus {
            device: self.me,
            group: own,
            group_name: self.group.profile().name.clone(),
            group_kind: self.group.profile().kind,
            role: Some(self.role),
            peers,
            documents,
            affiliation: self
                .group
                .affiliation()
                .ok()
                .flatten()
                .map(|s| s.record().clone()),
            gossip: self.gossip_status(),
            traffic,
            equivocations: self
                .equivocations
                .iter()
                .filter_map(|p| {
                    let (group, kind) = self.doc_of(&p.doc)?;
                    Some(EquivocationStatus {
                        device: p.author,
                        group,
                        kind,
                        seq: p.seq,
                        epoch: p.epoch,
                        healed: self.group.epoch(&p.doc) > p.epoch,
                    })
                })
                .collect(),
            at_rest: Some(self.at_rest()),
            steward_devices: self
                .group
                .read::<groundwork_protocol::schema::Devices>()
                .ok()
                .map(|d| d.active_stewards() as u32),
        })
    }

    fn at_rest(&self) -> groundwork_protocol::control::AtRest {
        let p = crate::passphrase::protection(self.group.dir(), Some(self.group.store()));
        groundwork_protocol::control::AtRest {
            passphrase: p.passphrase,
            sealed: p.passphrase && !p.unfinished(),
        }
    }
}
