//! The running node's linking requests: `peer add`, `affiliate`,
//! `link-code`, `peer requests`, `peer accept` and `peer refuse`. The
//! trust rule (`trust::link`) is applied by the actor; these only carry the
//! exchange and the answers.

use anyhow::{Result, anyhow};
use groundwork_protocol::control::{LinkRequestView, PeerStatus, Response};
use groundwork_protocol::link::LinkMessage;
use tokio::sync::oneshot;

use super::{NodeControl, advertised_addrs};
use crate::net;
use crate::runtime::{Cmd, PeerRecord, now_secs};

impl NodeControl {
    /// This group's signed card, to offer in a request (a steward device).
    async fn own_card(&self, device: groundwork_protocol::DeviceId) -> Result<Vec<u8>> {
        self.handle
            .with(move |a| {
                if device == a.group().device_id() {
                    return Err(anyhow!("that is this node's own ticket"));
                }
                a.cards()
                    .get(&a.group().profile().id)
                    .map(|c| c.bytes().to_vec())
                    .ok_or_else(|| {
                        anyhow!("only a steward device (which holds the group key) can link groups")
                    })
            })
            .await?
    }

    /// The actor records the answer to a request this node sent.
    async fn answered(
        &self,
        device: groundwork_protocol::DeviceId,
        answer: LinkMessage,
        addrs: Vec<std::net::SocketAddr>,
    ) -> Result<PeerRecord> {
        let (reply, rx) = oneshot::channel();
        self.handle
            .send(Cmd::LinkAnswered {
                device,
                answer,
                addrs,
                reply,
            })
            .await?;
        rx.await
            .map_err(|_| anyhow!("node stopping"))?
            .map_err(|e| anyhow!(e))
    }

    /// `peer add`: ask the node behind `ticket` to link.
    pub(super) async fn link(&self, ticket: &str) -> Result<Response> {
        let (device, addrs, code) = net::parse_link_target(ticket)?;
        let card = self.own_card(device).await?;
        let answer = net::request_link(
            &self.endpoint,
            &device,
            &addrs,
            LinkMessage::Request { card, code },
        )
        .await?;
        let rec = self.answered(device, answer, addrs).await?;
        Ok(Response::Peers(vec![self.peer_status(rec).await?]))
    }

    /// `affiliate`, on the national node: ask the group behind `ticket` to
    /// link; once it accepts, it is sent the affiliation.
    pub(super) async fn affiliate(&self, ticket: &str) -> Result<Response> {
        let (device, addrs, code) = net::parse_link_target(ticket)?;
        let national = self
            .handle
            .with(|a| a.group().profile().kind.is_national())
            .await?;
        if !national {
            return Err(anyhow!(
                "only the national node affiliates groups (found one with `national init`)"
            ));
        }
        let card = self.own_card(device).await?;
        let handle = self.handle.clone();
        let answer = net::request_affiliate(
            &self.endpoint,
            &device,
            &addrs,
            LinkMessage::Request { card, code },
            |theirs| async move {
                // Linked now (the group accepted): the actor affiliates it.
                let bytes = theirs.bytes().to_vec();
                let answered = LinkMessage::Accepted(bytes);
                let (reply, rx) = oneshot::channel();
                handle
                    .send(Cmd::LinkAnswered {
                        device,
                        answer: answered,
                        addrs: Vec::new(),
                        reply,
                    })
                    .await?;
                rx.await
                    .map_err(|_| anyhow!("node stopping"))?
                    .map_err(|e| anyhow!(e))?;
                let group = theirs.card().group;
                handle
                    .with(move |a| a.affiliation_of(&group))
                    .await?
                    .ok_or_else(|| anyhow!("could not affiliate the group"))
            },
        )
        .await?;
        let pending = matches!(answer, LinkMessage::Pending(_));
        let rec = self.answered(device, answer, addrs).await?;
        let status = self.peer_status(rec).await?;
        Ok(Response::Affiliated {
            group: status
                .group
                .ok_or_else(|| anyhow!("no group in the answer"))?,
            name: status.name.unwrap_or_default(),
            pending,
        })
    }

    /// A peer as `peer list` shows it.
    async fn peer_status(&self, rec: PeerRecord) -> Result<PeerStatus> {
        let group = rec.group;
        let name = self
            .handle
            .with(move |a| group.and_then(|g| a.cards().get(&g).map(|c| c.card().name.clone())))
            .await?;
        Ok(PeerStatus {
            device: rec.device,
            group: rec.group,
            name,
            connected: false,
            last_seen: Some(rec.last_seen),
            last_error: None,
            in_sync: None,
            requested: rec.requested,
        })
    }

    /// `link-code`: a one-time code, as a link ticket naming where this
    /// node listens now.
    pub(super) async fn link_code(&self, ttl_secs: u64) -> Result<Response> {
        let addrs = advertised_addrs(&self.endpoint);
        self.handle
            .with(
                move |a| match a.group().create_link_code(now_secs(), ttl_secs, addrs) {
                    Ok(t) => Response::LinkCode {
                        text: t.to_text(),
                        expires: t.expires,
                    },
                    Err(e) => Response::error(format!("{:#}", anyhow::Error::from(e))),
                },
            )
            .await
    }

    /// `peer requests`: what waits for this group's steward.
    pub(super) async fn link_requests(&self) -> Result<Response> {
        self.handle
            .with(|a| match requests(a.group()) {
                Ok(r) => Response::LinkRequests(r),
                Err(e) => Response::error(format!("{:#}", anyhow::Error::from(e))),
            })
            .await
    }

    /// `peer accept`.
    pub(super) async fn peer_accept(&self, id: String) -> Result<Response> {
        let rec = self.handle.with(move |a| a.accept_request(&id)).await?;
        match rec {
            Ok(rec) => Ok(Response::Peers(vec![self.peer_status(rec).await?])),
            Err(e) => Ok(Response::error(e)),
        }
    }

    /// `peer refuse`.
    pub(super) async fn peer_refuse(&self, id: String) -> Result<Response> {
        self.handle
            .with(move |a| match a.refuse_request(&id) {
                Ok(()) => match requests(a.group()) {
                    Ok(r) => Response::LinkRequests(r),
                    Err(e) => Response::error(format!("{:#}", anyhow::Error::from(e))),
                },
                Err(e) => Response::error(e),
            })
            .await
    }
}

/// The requests waiting for the steward, as the control API shows them.
pub fn requests(g: &crate::group::Group) -> Result<Vec<LinkRequestView>, crate::group::GroupError> {
    Ok(g.waiting_requests(now_secs())?
        .into_iter()
        .map(|(group, r, card)| {
            let c = card.card();
            LinkRequestView {
                group,
                name: c.name.clone(),
                area: c.area.clone(),
                kind: c.kind,
                device: r.device,
                at: r.at,
            }
        })
        .collect())
}
