//! Linking with other groups, on this device: the one-time link codes a
//! steward hands out, and the requests to link waiting for a steward.

use groundwork_protocol::control::ErrorCode;
use std::net::SocketAddr;

use groundwork_protocol::DocKind;
use groundwork_protocol::card::SignedCard;
use groundwork_protocol::invite::token_hash;
use groundwork_protocol::link::{CodeRefused, LinkTicket, PendingCode};
use groundwork_protocol::{DeviceId, GroupId};

use super::{Group, GroupError};

fn code_key(hash: &[u8; 32]) -> String {
    format!("link-code:{}", data_encoding::HEXLOWER.encode(hash))
}

/// How long a request to link waits for the steward before it is dropped.
pub const REQUEST_TTL_SECS: u64 = 30 * 24 * 60 * 60;

/// A request to link, as this node keeps it for its steward.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WaitingRequest {
    /// The device that asked.
    pub device: DeviceId,
    /// Where it connected from (where to reach it once accepted).
    pub addrs: Vec<SocketAddr>,
    /// Its group's signed card, hex.
    pub card: String,
    /// When it asked (seconds since 1970).
    pub at: u64,
}

impl WaitingRequest {
    /// The card, verified again.
    pub fn signed_card(&self) -> Option<SignedCard> {
        let bytes = data_encoding::HEXLOWER.decode(self.card.as_bytes()).ok()?;
        SignedCard::from_bytes(&bytes).ok()
    }
}

impl Group {
    /// Makes a one-time link code, valid until `now + ttl_secs`, and the
    /// link ticket that carries it. Only the code's hash is stored. Only a
    /// steward device may consent to links.
    pub fn create_link_code(
        &self,
        now: u64,
        ttl_secs: u64,
        addrs: Vec<SocketAddr>,
    ) -> Result<LinkTicket, GroupError> {
        self.require_steward()?;
        let code: [u8; 16] = rand::random();
        let expires = now.saturating_add(ttl_secs);
        let pending = PendingCode {
            expires,
            used: false,
        };
        let value =
            serde_json::to_value(&pending).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(&code_key(&token_hash(&code)), value)?;
        Ok(LinkTicket {
            group: self.profile().id,
            device: self.device_id(),
            addrs,
            code,
            expires,
        })
    }

    /// Whether `code` would work at `now`, without using it.
    pub fn check_link_code(&self, code: &[u8; 16], now: u64) -> Result<(), CodeRefused> {
        match self.meta::<PendingCode>(&code_key(&token_hash(code))) {
            Ok(Some(mut c)) => c.redeem(now),
            _ => Err(CodeRefused::Unknown),
        }
    }

    /// Uses `code` (durably), so it never works again.
    pub fn redeem_link_code(&self, code: &[u8; 16], now: u64) -> Result<(), GroupError> {
        let key = code_key(&token_hash(code));
        let mut c = self
            .meta::<PendingCode>(&key)?
            .ok_or_else(|| GroupError::Internal("the link code vanished".into()))?;
        c.redeem(now)
            .map_err(|e| GroupError::Internal(e.to_string()))?;
        let value = serde_json::to_value(&c).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(&key, value)
    }

    /// Refuses unless this device is an active steward.
    pub fn require_steward(&self) -> Result<(), GroupError> {
        let mine = self.role()?;
        if mine.may_write(DocKind::Devices) {
            Ok(())
        } else {
            Err(GroupError::Forbidden {
                role: mine,
                kind: DocKind::Devices,
                verb: "link or edit",
            })
        }
    }

    /// The requests waiting for the steward, by group; those older than
    /// [`REQUEST_TTL_SECS`] or whose card no longer verifies are dropped.
    pub fn waiting_requests(
        &self,
        now: u64,
    ) -> Result<Vec<(GroupId, WaitingRequest, SignedCard)>, GroupError> {
        let mut out = Vec::new();
        for (group, bytes) in self.store().link_requests()? {
            let Ok(group) = GroupId::from_bytes(&group) else {
                continue;
            };
            let fresh = serde_json::from_slice::<WaitingRequest>(&bytes)
                .ok()
                .filter(|r| r.at.saturating_add(REQUEST_TTL_SECS) > now)
                .and_then(|r| r.signed_card().map(|c| (r, c)));
            match fresh {
                Some((r, c)) => out.push((group, r, c)),
                None => self.store().remove_link_request(group.as_bytes())?,
            }
        }
        out.sort_by_key(|(_, r, _)| r.at);
        Ok(out)
    }

    /// The waiting request `id` names: a start of its group's or its
    /// device's id, matching exactly one.
    pub fn find_request(
        &self,
        id: &str,
        now: u64,
    ) -> Result<(GroupId, WaitingRequest, SignedCard), GroupError> {
        let id = id.trim().to_lowercase();
        let waiting = self.waiting_requests(now)?;
        let mut found: Vec<_> = waiting
            .into_iter()
            .filter(|(g, r, _)| {
                !id.is_empty()
                    && (g.to_string().starts_with(&id) || r.device.to_string().starts_with(&id))
            })
            .collect();
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(GroupError::NotFound {
                what: "request to link (see `groundwork peer requests`)",
                id,
            }),
            n => Err(GroupError::Invalid {
                code: ErrorCode::Usage,
                field: "id",
                why: format!("'{id}' matches {n} requests; give more of it"),
            }),
        }
    }

    /// Durably keeps a request for the steward (replacing an older one
    /// from the same group).
    pub fn keep_request(
        &self,
        group: &GroupId,
        request: &WaitingRequest,
    ) -> Result<(), GroupError> {
        let bytes = serde_json::to_vec(request).map_err(|e| GroupError::Internal(e.to_string()))?;
        Ok(self.store().put_link_request(group.as_bytes(), &bytes)?)
    }

    /// Forgets a request (accepted or refused).
    pub fn drop_request(&self, group: &GroupId) -> Result<(), GroupError> {
        Ok(self.store().remove_link_request(group.as_bytes())?)
    }
}

impl Group {
    /// The link requests waiting for this group's steward at `now`
    /// (seconds since 1970), as the control API shows them.
    pub fn link_requests(
        &self,
        now: u64,
    ) -> Result<Vec<groundwork_protocol::control::LinkRequestView>, GroupError> {
        Ok(self
            .waiting_requests(now)?
            .into_iter()
            .map(|(group, r, card)| {
                let c = card.card();
                groundwork_protocol::control::LinkRequestView {
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
}
