//! Group cards: a group's signed public record.
//!
//! A card says who a group is (name, area, kind) and which device keys may
//! write its public documents (constitution and plan). It is signed by the
//! group key, so any node can relay it and every reader can check it. A
//! reader verifies a relayed constitution or plan change against the write
//! keys of the newest card it holds for that group.
//!
//! ```text
//! encoded: issuer 32 | signature 64 | body (JSON of GroupCard)
//! signed:  "groundwork/record/card/v1" ‖ body
//! ```
//!
//! Verify first, then decode: [`SignedCard::from_bytes`] checks the length,
//! the signature over the raw body and only then parses it, and refuses a
//! body whose group is not the issuer. The highest `seq` wins.

use ed25519_dalek::Signature;

use crate::ids::DocKind;
use crate::keys::{DeviceId, GroupId, PublicKey, SecretKey};
use crate::schema::Devices;

const DOMAIN: &[u8] = b"groundwork/record/card/v1";
/// The largest encoded card accepted (a card lists every writer's key).
pub const MAX_CARD_BYTES: usize = 64 * 1024;
/// At most this many write keys in a card.
pub const MAX_WRITE_KEYS: usize = 512;
const HEADER: usize = 32 + 64;

/// What sort of group a card describes (from the programme), as cards and
/// join replies name it: `local-organising-group`, `social-action-hub` or
/// `national` (the national body). Any other name makes the card malformed.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    /// A Local Organising Group.
    #[default]
    LocalOrganisingGroup,
    /// A Social Action Hub.
    SocialActionHub,
    /// The national body (founded with `national init`).
    National,
}

impl GroupKind {
    /// The name cards, join replies and `--json` output use.
    pub fn slug(self) -> &'static str {
        match self {
            GroupKind::LocalOrganisingGroup => "local-organising-group",
            GroupKind::SocialActionHub => "social-action-hub",
            GroupKind::National => "national",
        }
    }

    /// Whether this is the national body.
    pub fn is_national(self) -> bool {
        self == GroupKind::National
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupKind::LocalOrganisingGroup => "local organising group",
            GroupKind::SocialActionHub => "social action hub",
            GroupKind::National => "national body",
        })
    }
}

/// What a group publishes about itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCard {
    /// The group id (the group's public key, which signs the card).
    pub group: GroupId,
    /// Sequence number: the highest valid one wins.
    pub seq: u64,
    /// The group's name.
    pub name: String,
    /// Where it organises.
    pub area: Option<String>,
    /// What sort of group it is.
    pub kind: GroupKind,
    /// Device keys that may write the constitution and plan.
    pub write_keys: Vec<DeviceId>,
    /// Steward device keys: the roots a new device of the group trusts to
    /// write its `devices` document before it has synced it.
    #[serde(default)]
    pub stewards: Vec<DeviceId>,
}

impl GroupCard {
    /// The write keys for a group's public documents from its devices
    /// document: every device not revoked with a role that may write them.
    /// A revoked device is left out: revoking starts new epochs of the
    /// documents it could write, so none of its changes is in the history
    /// anyone serves, and a linked node refuses its new ones as soon as it
    /// reads the new card.
    pub fn write_keys_from(devices: &Devices) -> Vec<DeviceId> {
        let mut keys: Vec<DeviceId> = devices
            .devices
            .iter()
            .filter(|(_, d)| d.revoked.is_none() && d.role.may_write(DocKind::Constitution))
            .filter_map(|(k, _)| k.parse().ok())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The steward devices not revoked (revoking a steward starts a new
    /// epoch of the devices document, so its changes there are in no
    /// history anyone serves).
    pub fn stewards_from(devices: &Devices) -> Vec<DeviceId> {
        let mut keys: Vec<DeviceId> = devices
            .devices
            .iter()
            .filter(|(_, d)| d.revoked.is_none() && d.role.may_write(DocKind::Devices))
            .filter_map(|(k, _)| k.parse().ok())
            .collect();
        keys.sort();
        keys
    }

    /// Whether two cards say the same thing, ignoring the sequence number.
    pub fn same_content(&self, other: &GroupCard) -> bool {
        GroupCard {
            seq: 0,
            ..self.clone()
        } == GroupCard {
            seq: 0,
            ..other.clone()
        }
    }

    /// Signs the card with the group key.
    pub fn sign(&self, group_key: &SecretKey) -> Result<SignedCard, CardRejected> {
        if group_key.public() != self.group {
            return Err(CardRejected::WrongIssuer);
        }
        let body = serde_json::to_vec(self).map_err(|_| CardRejected::Malformed)?;
        if HEADER + body.len() > MAX_CARD_BYTES {
            return Err(CardRejected::TooLarge(HEADER + body.len()));
        }
        let signature = group_key.sign(&signed_message(&body)).to_bytes();
        let mut bytes = Vec::with_capacity(HEADER + body.len());
        bytes.extend_from_slice(self.group.as_bytes());
        bytes.extend_from_slice(&signature);
        bytes.extend_from_slice(&body);
        Ok(SignedCard {
            bytes,
            card: self.clone(),
        })
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + body.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(body);
    m
}

/// Why a card was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CardRejected {
    /// Shorter than its header, or over the cap.
    #[error("card is {0} bytes (cap {MAX_CARD_BYTES})")]
    TooLarge(usize),
    /// Too short to hold the issuer and signature.
    #[error("card is truncated")]
    Truncated,
    /// The signature does not verify.
    #[error("card signature is invalid")]
    BadSignature,
    /// The body is not a card.
    #[error("card body is malformed")]
    Malformed,
    /// Signed by a key other than the group's own.
    #[error("card is not signed by its group's key")]
    WrongIssuer,
    /// More write keys than any group has.
    #[error("card lists too many write keys")]
    TooManyKeys,
    /// A name or area longer than a group's may be.
    #[error(transparent)]
    Text(#[from] crate::text::TextRejected),
}

/// A verified card with the exact bytes it arrived as (to relay unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCard {
    bytes: Vec<u8>,
    card: GroupCard,
}

impl SignedCard {
    /// Verifies then decodes an encoded card.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedCard, CardRejected> {
        if bytes.len() > MAX_CARD_BYTES {
            return Err(CardRejected::TooLarge(bytes.len()));
        }
        if bytes.len() < HEADER {
            return Err(CardRejected::Truncated);
        }
        let issuer = PublicKey::from_slice(&bytes[..32]).map_err(|_| CardRejected::BadSignature)?;
        let sig: [u8; 64] = bytes[32..HEADER]
            .try_into()
            .map_err(|_| CardRejected::Truncated)?;
        let body = &bytes[HEADER..];
        if !issuer.verify(&signed_message(body), &Signature::from_bytes(&sig)) {
            return Err(CardRejected::BadSignature);
        }
        let card: GroupCard = serde_json::from_slice(body).map_err(|_| CardRejected::Malformed)?;
        if card.group != issuer {
            return Err(CardRejected::WrongIssuer);
        }
        if card.write_keys.len() > MAX_WRITE_KEYS || card.stewards.len() > MAX_WRITE_KEYS {
            return Err(CardRejected::TooManyKeys);
        }
        // Lengths only: what the text holds is made safe where it is shown.
        crate::text::within_limit(crate::text::Field::GroupName, &card.name)?;
        if let Some(area) = &card.area {
            crate::text::within_limit(crate::text::Field::Area, area)?;
        }
        Ok(SignedCard {
            bytes: bytes.to_vec(),
            card,
        })
    }

    /// The encoded card.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The card's content.
    pub fn card(&self) -> &GroupCard {
        &self.card
    }

    /// Whether `author` may write the group's public document of `kind`.
    pub fn may_write(&self, author: &DeviceId, kind: DocKind) -> bool {
        matches!(kind, DocKind::Constitution | DocKind::Plan)
            && self.card.write_keys.contains(author)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(seq: u64) -> (SecretKey, GroupCard) {
        let key = SecretKey::from_seed(&[7; 32]);
        let writer = SecretKey::from_seed(&[8; 32]).public();
        let c = GroupCard {
            group: key.public(),
            seq,
            name: "Moorlands Climate Action".into(),
            area: Some("Staffordshire Moorlands".into()),
            kind: GroupKind::LocalOrganisingGroup,
            write_keys: vec![writer],
            stewards: vec![writer],
        };
        (key, c)
    }

    #[test]
    fn a_signed_card_verifies_and_round_trips() {
        let (key, c) = card(3);
        let signed = c.sign(&key).expect("sign");
        let back = SignedCard::from_bytes(signed.bytes()).expect("verify");
        assert_eq!(back.card(), &c);
        assert!(back.may_write(&SecretKey::from_seed(&[8; 32]).public(), DocKind::Plan));
        assert!(!back.may_write(&SecretKey::from_seed(&[8; 32]).public(), DocKind::Roster));
        assert!(!back.may_write(&key.public(), DocKind::Plan));
    }

    #[test]
    fn tampered_forged_and_truncated_cards_are_refused() {
        let (key, c) = card(1);
        let signed = c.sign(&key).expect("sign");
        let mut tampered = signed.bytes().to_vec();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        assert_eq!(
            SignedCard::from_bytes(&tampered),
            Err(CardRejected::BadSignature)
        );
        // Signed by another key, claiming the group.
        let other = SecretKey::from_seed(&[9; 32]);
        assert_eq!(c.sign(&other), Err(CardRejected::WrongIssuer));
        let mut forged = signed.bytes().to_vec();
        forged[..32].copy_from_slice(other.public().as_bytes());
        let sig = other.sign(&signed_message(&forged[HEADER..])).to_bytes();
        forged[32..HEADER].copy_from_slice(&sig);
        assert_eq!(
            SignedCard::from_bytes(&forged),
            Err(CardRejected::WrongIssuer)
        );
        assert_eq!(
            SignedCard::from_bytes(&signed.bytes()[..50]),
            Err(CardRejected::Truncated)
        );
        assert!(SignedCard::from_bytes(&vec![0; MAX_CARD_BYTES + 1]).is_err());
        // A name longer than a group's, signed properly, is refused.
        let long = GroupCard {
            name: "x".repeat(121),
            ..c
        };
        let signed = long.sign(&key).expect("sign");
        assert!(matches!(
            SignedCard::from_bytes(signed.bytes()),
            Err(CardRejected::Text(_))
        ));
    }
}
