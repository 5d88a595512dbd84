//! The group's devices: invites, redeeming them, revoking devices, and the
//! group card a steward device signs from the devices history.

use std::net::SocketAddr;

use groundwork_protocol::card::{GroupCard, SignedCard};
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::edit::update;
use groundwork_protocol::invite::{Invite, InviteRefused, Pending, token_hash};
use groundwork_protocol::records::{Affiliation, Signed};
use groundwork_protocol::schema::{Cut, DeviceEntry, Devices, Role};
use groundwork_protocol::{Date, DeviceId, DocKind, GroupId};

use super::{Group, GroupError, GroupKind};

fn invite_key(hash: &[u8; 32]) -> String {
    format!("invite:{}", data_encoding::HEXLOWER.encode(hash))
}

/// The meta entry holding this group's own newest signed card.
const OWN_CARD_KEY: &str = "own-card-seq";

impl Group {
    /// Makes a one-time invite for a new device with `role`, valid until
    /// `now + ttl_secs`. Only the token's hash is stored. Only a steward
    /// device may invite, since only it may write the devices document.
    pub fn create_invite(
        &self,
        role: Role,
        now: u64,
        ttl_secs: u64,
        addrs: Vec<SocketAddr>,
    ) -> Result<Invite, GroupError> {
        let mine = self.role()?;
        if !mine.may_write(DocKind::Devices) {
            return Err(GroupError::Forbidden {
                role: mine,
                kind: DocKind::Devices,
                verb: "edit",
            });
        }
        let token: [u8; 16] = rand::random();
        let expires = now.saturating_add(ttl_secs);
        let pending = Pending {
            role,
            expires,
            used: false,
        };
        let value =
            serde_json::to_value(&pending).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(&invite_key(&token_hash(&token)), value)?;
        Ok(Invite {
            group: self.profile().id,
            inviter: self.device_id(),
            addrs,
            role,
            token,
            expires,
        })
    }

    /// Redeems an invite token for `device`: marks the invite used
    /// (durably, first, so it can never be used twice), then adds the
    /// device to the devices document with the invited role.
    pub fn redeem_invite(
        &self,
        token: &[u8; 16],
        device: &DeviceId,
        label: &str,
        now: u64,
        today: Date,
    ) -> Result<Result<Role, InviteRefused>, GroupError> {
        super::checked(groundwork_protocol::text::Field::DeviceLabel, label.trim())?;
        let key = invite_key(&token_hash(token));
        let Some(mut pending) = self.meta::<Pending>(&key)? else {
            return Ok(Err(InviteRefused::Unknown));
        };
        let role = match pending.redeem(now) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let value =
            serde_json::to_value(&pending).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(&key, value)?;
        let label = match label.trim() {
            "" => format!("{role} device"),
            l => l.to_owned(),
        };
        self.add_device(self.role()?, device, role, label, today)?;
        Ok(Ok(role))
    }

    /// Adds `device` to the devices document with `role`, this device
    /// writing as `as_role`.
    fn add_device(
        &self,
        as_role: Role,
        device: &DeviceId,
        role: Role,
        label: String,
        today: Date,
    ) -> Result<(), GroupError> {
        let me = self.device_id();
        self.edit_as(as_role, &[DocKind::Devices], |e| {
            update::<Devices, _>(e.doc(DocKind::Devices)?, |d| {
                d.devices.insert(
                    device.to_string(),
                    DeviceEntry {
                        role,
                        label,
                        added_by: me,
                        added: today,
                        revoked: None,
                        cut: Default::default(),
                    },
                );
            })?;
            Ok(())
        })
    }

    /// Recovery, on a device holding the group key that is not an active
    /// steward (restored from a backup after the group's only steward
    /// device was lost): adds this device to the devices document as a
    /// steward and signs the group card naming it one, for the group's
    /// devices to take (`trust::recovery`). Run again, it adds nothing and
    /// returns the card held.
    pub fn recover(&self, label: &str, today: Date) -> Result<SignedCard, GroupError> {
        super::checked(groundwork_protocol::text::Field::DeviceLabel, label.trim())?;
        if self.group_key()?.is_none() {
            return Err(GroupError::Invalid {
                code: ErrorCode::Forbidden,
                field: "device",
                why: "only a device holding the group key can recover the group (restore a steward device's backup)".into(),
            });
        }
        let devices: Devices = self.read()?;
        let me = self.device_id();
        if devices.get(&me).is_some_and(|d| d.revoked.is_some()) {
            return Err(GroupError::NotAGroupDevice);
        }
        if devices.active_role(&me) != Some(Role::Steward) {
            let label = match label.trim() {
                "" => "recovered steward device".to_owned(),
                l => l.to_owned(),
            };
            self.add_device(Role::Steward, &me, Role::Steward, label, today)?;
        }
        let own = self.profile().id;
        let held = self
            .store()
            .cards()?
            .into_iter()
            .find(|(k, _)| k == own.as_bytes())
            .and_then(|(_, b)| SignedCard::from_bytes(&b).ok());
        let card = self
            .refresh_own_card(held.as_ref(), rand::random())?
            .ok_or_else(|| GroupError::Internal("no card was signed".into()))?;
        self.store().put_card(own.as_bytes(), card.bytes())?;
        Ok(card)
    }

    /// Revokes a device, found by its id or an unambiguous prefix of it,
    /// and returns the full id with the epochs started. Refuses this device
    /// itself.
    ///
    /// The revocation records the device's **cut**: for each document it
    /// could write, the epoch and the last of its changes held here. Every
    /// node that holds the revocation refuses its changes beyond that. Then
    /// each of those documents starts a new epoch, so a change of the
    /// device's that reached another device before the revocation did (and
    /// anything built on it there) is in no history once that device
    /// switches; that device's own edits are rebased onto the new epoch.
    pub fn revoke_device(
        &self,
        id: &str,
        today: Date,
    ) -> Result<(DeviceId, Vec<(DocKind, u64)>), GroupError> {
        let devices: Devices = self.read()?;
        let wanted = id.trim().to_lowercase();
        let matches: Vec<&String> = devices
            .devices
            .keys()
            .filter(|k| !wanted.is_empty() && k.starts_with(&wanted))
            .collect();
        let key = match matches.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(GroupError::Invalid {
                    code: ErrorCode::NotFound,
                    field: "device",
                    why: format!("no device of this group has an id starting {id}"),
                });
            }
            _ => {
                return Err(GroupError::Invalid {
                    code: ErrorCode::Usage,
                    field: "device",
                    why: format!(
                        "{id} matches {} devices; give more of the id",
                        matches.len()
                    ),
                });
            }
        };
        let device: DeviceId = key.parse().map_err(|_| GroupError::Schema {
            kind: DocKind::Devices,
            why: format!("device key {key} is not a key"),
        })?;
        if device == self.device_id() {
            return Err(GroupError::Invalid {
                code: ErrorCode::Forbidden,
                field: "device",
                why: "this is the device you are using; revoke it from another steward device"
                    .into(),
            });
        }
        let Some(entry) = devices.get(&device) else {
            return Err(GroupError::Internal("the device vanished".into()));
        };
        if entry.revoked.is_some() {
            // Revoked already: start any epoch that revocation did not get
            // to (a failure part-way), so running it again finishes it.
            let mut epochs = Vec::new();
            for kind in DocKind::ALL {
                let unstarted = entry
                    .cut
                    .get(kind.name())
                    .is_some_and(|c| self.epoch(&self.doc_id(kind)) == c.epoch);
                if unstarted {
                    epochs.push((kind, self.start_epoch(kind)?));
                }
            }
            return Ok((device, epochs));
        }
        let kinds: Vec<DocKind> = DocKind::ALL
            .into_iter()
            .filter(|k| entry.role.may_write(*k))
            .collect();
        let mut cut = std::collections::BTreeMap::new();
        for kind in &kinds {
            let epoch = self.epoch(&self.doc_id(*kind));
            let id = self.doc_id(*kind);
            let seq = self.docs().get_mut(&id).map(|d| last_seq(d, &device));
            let seq = match seq {
                Some(s) => s,
                None => last_seq(&mut self.load(*kind)?, &device),
            };
            cut.insert(kind.name().to_owned(), Cut { epoch, seq });
        }
        self.edit(&[DocKind::Devices], |e| {
            update::<Devices, _>(e.doc(DocKind::Devices)?, |d| {
                if let Some(entry) = d.devices.get_mut(&key) {
                    entry.revoked = Some(today);
                    entry.cut = cut.clone();
                }
            })?;
            Ok(())
        })?;
        let mut epochs = Vec::new();
        for kind in kinds {
            epochs.push((kind, self.start_epoch(kind)?));
        }
        Ok((device, epochs))
    }

    /// On a steward device (which holds the group key): the group's card,
    /// re-signed with the next sequence number if the profile or the write
    /// keys changed since the last one. `None` on other devices.
    pub fn refresh_own_card(
        &self,
        held: Option<&SignedCard>,
        noise: u64,
    ) -> Result<Option<SignedCard>, GroupError> {
        let Some(key) = self.group_key()? else {
            return Ok(None);
        };
        // A device that has just joined has no devices document until its
        // first sync: keep whatever card it holds until then.
        let devices: Devices = match self.read() {
            Ok(d) => d,
            Err(GroupError::MissingDocument(_)) => return Ok(held.cloned()),
            Err(e) => return Err(e),
        };
        if devices.devices.is_empty() {
            return Ok(held.cloned());
        }
        let p = self.profile();
        let card = GroupCard {
            group: p.id,
            seq: 0,
            name: p.name.clone(),
            area: p.area.clone(),
            kind: p.kind,
            write_keys: GroupCard::write_keys_from(&devices),
            stewards: GroupCard::stewards_from(&devices),
        };
        if let Some(h) = held
            && h.card().same_content(&card)
        {
            return Ok(Some(h.clone()));
        }
        let last = held
            .map(|h| h.card().seq)
            .max(self.meta::<u64>(OWN_CARD_KEY)?)
            .unwrap_or(0);
        // Never reuse a sequence number, even if the store lost the last
        // card; and say the day only (`records::day_seq`).
        let seq = groundwork_protocol::records::day_seq(self.clock.today(), Some(last), noise);
        let signed = GroupCard { seq, ..card }
            .sign(&key)
            .map_err(|e| GroupError::Internal(e.to_string()))?;
        self.set_meta(OWN_CARD_KEY, serde_json::Value::from(seq))?;
        Ok(Some(signed))
    }

    /// On the national node: a signed affiliation of `group` to this
    /// network, dated today, its sequence number telling the day only
    /// (`records::day_seq`, `noise` fresh randomness).
    pub fn sign_affiliation(
        &self,
        group: GroupId,
        noise: u64,
    ) -> Result<Signed<Affiliation>, GroupError> {
        if self.profile().kind != GroupKind::National {
            return Err(GroupError::Invalid {
                code: ErrorCode::Forbidden,
                field: "node",
                why: "only the national node affiliates groups".into(),
            });
        }
        let key = self.group_key()?.ok_or_else(|| GroupError::Invalid {
            code: ErrorCode::Forbidden,
            field: "node",
            why: "this device does not hold the national key".into(),
        })?;
        Signed::sign(
            Affiliation {
                network: self.profile().id,
                group,
                since: self.clock.today(),
                seq: groundwork_protocol::records::day_seq(self.clock.today(), None, noise),
            },
            &key,
        )
        .map_err(|e| GroupError::Internal(e.to_string()))
    }

    /// The affiliation certificate this group holds, if any.
    pub fn affiliation(&self) -> Result<Option<Signed<Affiliation>>, GroupError> {
        let Some(hex) = self.meta::<String>(AFFILIATION_KEY)? else {
            return Ok(None);
        };
        let bytes = data_encoding::HEXLOWER
            .decode(hex.as_bytes())
            .map_err(|e| GroupError::Internal(format!("stored affiliation: {e}")))?;
        Signed::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| GroupError::Internal(format!("stored affiliation: {e}")))
    }

    /// Durably keeps this group's affiliation certificate (the trust rule,
    /// `trust::records::accept_affiliation`, has accepted it and
    /// `records::newer` found it newer).
    pub fn store_affiliation(&self, signed: &Signed<Affiliation>) -> Result<(), GroupError> {
        let hex = data_encoding::HEXLOWER.encode(signed.bytes());
        self.set_meta(AFFILIATION_KEY, serde_json::Value::String(hex))
    }
}

/// The sequence number of `device`'s last change in `doc` (0: none).
fn last_seq(doc: &mut automerge::AutoCommit, device: &DeviceId) -> u64 {
    let actor = groundwork_protocol::signed::actor_id(device);
    doc.get_changes_meta(&[])
        .iter()
        .filter(|m| *m.actor == actor)
        .map(|m| m.seq)
        .max()
        .unwrap_or(0)
}

/// The meta entry holding this group's affiliation certificate (hex).
const AFFILIATION_KEY: &str = "affiliation";
