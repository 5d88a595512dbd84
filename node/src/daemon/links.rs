//! The running node's linking requests that dial another node: `peer
//! add` and `affiliate`. The trust rule (`trust::link`) is applied by the
//! actor; these only carry the exchange and the answers.

use groundwork_protocol::control::{PeerStatus, Response};
use groundwork_protocol::link::LinkMessage;
use tokio::sync::oneshot;

use super::NodeControl;
use crate::net::{self, NetError, NetResult};
use crate::runtime::{Ask, Cmd, PeerRecord};

impl NodeControl {
    /// This group's signed card, to offer in a request (a steward device).
    async fn own_card(&self, device: groundwork_protocol::DeviceId) -> NetResult<Vec<u8>> {
        Ok(self
            .handle
            .ask(|reply| Ask::LinkCard { to: device, reply })
            .await??)
    }

    /// The actor records the answer to a request this node sent.
    async fn answered(
        &self,
        device: groundwork_protocol::DeviceId,
        answer: LinkMessage,
        addrs: Vec<std::net::SocketAddr>,
    ) -> NetResult<PeerRecord> {
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
            .map_err(|_| NetError::Stopping)?
            .map_err(NetError::from)
    }

    /// `peer add`: ask the node behind `ticket` to link.
    pub(super) async fn link(&self, ticket: &str) -> NetResult<Response> {
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
    pub(super) async fn affiliate(&self, ticket: &str) -> NetResult<Response> {
        let (device, addrs, code) = net::parse_link_target(ticket)?;
        if !self.handle.overview().await?.kind.is_national() {
            return Err(NetError::NotNational);
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
                rx.await.map_err(|_| NetError::Stopping)??;
                let group = theirs.card().group;
                handle
                    .ask(|reply| Ask::AffiliationOf { group, reply })
                    .await?
                    .ok_or(NetError::NotAffiliated)
            },
        )
        .await?;
        let pending = matches!(answer, LinkMessage::Pending(_));
        let rec = self.answered(device, answer, addrs).await?;
        let status = self.peer_status(rec).await?;
        Ok(Response::Affiliated {
            group: status.group.ok_or(NetError::NotAffiliated)?,
            name: status.name.unwrap_or_default(),
            pending,
        })
    }

    /// A peer as `peer list` shows it.
    async fn peer_status(&self, record: PeerRecord) -> NetResult<PeerStatus> {
        self.handle
            .ask(|reply| Ask::PeerStatus { record, reply })
            .await
    }
}
