//! The join protocol (ALPN `/groundwork/join/1`): a new device redeems an
//! invite with the inviting device and learns which group it joined.
//!
//! ```text
//! joiner  → inviter:  JoinRequest  (frame kind 16, JSON)
//! inviter → joiner:   JoinReply    (frame kind 17, JSON)
//! ```
//!
//! The same protocol carries a recovery (`trust::recovery`): a device
//! holding the group key sends the group's card naming it a steward
//! (frame kind 18, the signed card's bytes), and the device answers with a
//! `JoinReply`: `Recovered`, or `Refused` with the reason.
//!
//! The inviter checks the token against the invites it made (one use,
//! not expired), adds the joiner's device key to the `devices` document
//! with the invited role, durably, and only then replies. The group's
//! secret key travels only to a device joining as steward, and only over
//! the encrypted, authenticated iroh connection. The joiner then syncs over
//! the sync protocol like any other group device.

use zeroize::Zeroizing;

use crate::date::Date;
use crate::keys::GroupId;
use crate::schema::Role;
use crate::wire::frame::Frame;

/// Frame kind of a [`JoinRequest`] (see [`crate::wire::kinds`]).
pub const REQUEST: u8 = crate::wire::kinds::join::REQUEST;
/// Frame kind of a [`JoinReply`].
pub const REPLY: u8 = crate::wire::kinds::join::REPLY;
/// Frame kind of a recovery: a signed group card.
pub const RECOVER: u8 = crate::wire::kinds::join::RECOVER;
/// The largest join frame payload.
pub const MAX_JOIN_BYTES: usize = 16 * 1024;
/// The longest device label (its text limit).
pub const MAX_LABEL: usize = crate::text::Field::DeviceLabel.max_chars();

/// What the joining device sends.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The invite's one-time secret.
    pub token: [u8; 16],
    /// A label for people ("Amina's laptop").
    pub label: String,
}

/// What the joining device learns about the group. `Debug` never shows
/// the group secret.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Joined {
    /// The group id.
    pub group: GroupId,
    /// Its name.
    pub name: String,
    /// Its area.
    pub area: Option<String>,
    /// What sort of group it is.
    pub kind: crate::card::GroupKind,
    /// When it was founded.
    pub founded: Date,
    /// The role this device now has.
    pub role: Role,
    /// The group secret key, for a steward device only.
    pub group_secret: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for Joined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joined")
            .field("group", &self.group)
            .field("name", &self.name)
            .field("role", &self.role)
            .field(
                "group_secret",
                &self.group_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// The inviting device's answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum JoinReply {
    /// Welcome.
    Accepted(Box<Joined>),
    /// Refused, and why (one line for the person joining).
    Refused(String),
    /// A recovery's card was taken: the device is admitted as a steward.
    Recovered,
}

/// A recovery: the group's card, naming the presenting device a steward.
pub fn recover_frame(card: &crate::card::SignedCard) -> Frame {
    Frame {
        kind: RECOVER,
        payload: card.bytes().to_vec(),
    }
}

/// The card a recovery frame carries, its signature verified; at most
/// [`crate::card::MAX_CARD_BYTES`].
pub fn decode_recover(frame: &Frame) -> Result<crate::card::SignedCard, JoinMessageError> {
    if frame.kind != RECOVER {
        return Err(JoinMessageError::Kind {
            expected: RECOVER,
            found: frame.kind,
        });
    }
    if frame.payload.len() > crate::card::MAX_CARD_BYTES {
        return Err(JoinMessageError::TooLarge(frame.payload.len()));
    }
    crate::card::SignedCard::from_bytes(&frame.payload)
        .map_err(|e| JoinMessageError::Malformed(e.to_string()))
}

/// Why a join frame is not valid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinMessageError {
    /// Not the frame kind expected.
    #[error("expected a join message of kind {expected}, found kind {found}")]
    Kind {
        /// The kind expected.
        expected: u8,
        /// The kind found.
        found: u8,
    },
    /// Over the size cap.
    #[error("join message of {0} bytes is over the cap")]
    TooLarge(usize),
    /// Not the JSON expected.
    #[error("malformed join message: {0}")]
    Malformed(String),
}

fn decode<T: serde::de::DeserializeOwned>(frame: &Frame, kind: u8) -> Result<T, JoinMessageError> {
    if frame.kind != kind {
        return Err(JoinMessageError::Kind {
            expected: kind,
            found: frame.kind,
        });
    }
    if frame.payload.len() > MAX_JOIN_BYTES {
        return Err(JoinMessageError::TooLarge(frame.payload.len()));
    }
    serde_json::from_slice(&frame.payload).map_err(|e| JoinMessageError::Malformed(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T, kind: u8) -> Frame {
    Frame {
        kind,
        // Serialising these plain structs cannot fail.
        payload: serde_json::to_vec(value).unwrap_or_default(),
    }
}

impl JoinRequest {
    /// The frame.
    pub fn encode(&self) -> Frame {
        encode(self, REQUEST)
    }

    /// Decodes and checks a request frame.
    pub fn decode(frame: &Frame) -> Result<Self, JoinMessageError> {
        let r: JoinRequest = decode(frame, REQUEST)?;
        if r.label.chars().count() > MAX_LABEL {
            return Err(JoinMessageError::Malformed("label too long".into()));
        }
        Ok(r)
    }
}

impl JoinReply {
    /// The frame.
    pub fn encode(&self) -> Frame {
        encode(self, REPLY)
    }

    /// Decodes a reply frame.
    pub fn decode(frame: &Frame) -> Result<Self, JoinMessageError> {
        decode(frame, REPLY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn join_frames_match_their_fixtures() {
        let req = JoinRequest {
            token: [1; 16],
            label: "Amina's laptop".into(),
        };
        let f = req.encode();
        let wire = crate::wire::frame::encode(f.kind, &f.payload, 1 << 20).expect("encode");
        let json = br#"{"token":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"label":"Amina's laptop"}"#;
        // Length (kind byte and payload), the kind, then the JSON.
        let mut want = ((json.len() + 1) as u32).to_be_bytes().to_vec();
        want.push(16);
        want.extend_from_slice(json);
        assert_eq!(wire, want);
        assert_eq!(
            data_encoding::HEXLOWER.encode(&wire[..5]),
            format!("{:08x}10", json.len() + 1)
        );
        assert_eq!(JoinRequest::decode(&f), Ok(req));
        let refused = JoinReply::Refused("expired".into()).encode();
        assert_eq!(refused.kind, 17);
        assert_eq!(refused.payload, br#"{"Refused":"expired"}"#);
        // Positive control: a request's frame is not a reply.
        assert!(JoinReply::decode(&f).is_err());
    }

    #[test]
    fn round_trip_and_refusals() {
        let req = JoinRequest {
            token: [7; 16],
            label: "Amina's laptop".into(),
        };
        assert_eq!(JoinRequest::decode(&req.encode()), Ok(req.clone()));
        let reply = JoinReply::Accepted(Box::new(Joined {
            group: SecretKey::from_seed(&[1; 32]).public(),
            name: "ACORN Bristol".into(),
            area: Some("Bristol".into()),
            kind: crate::card::GroupKind::SocialActionHub,
            founded: Date::new(2019, 5, 1).expect("date"),
            role: Role::Member,
            group_secret: None,
        }));
        assert_eq!(JoinReply::decode(&reply.encode()), Ok(reply));
        assert!(matches!(
            JoinReply::decode(&req.encode()),
            Err(JoinMessageError::Kind { .. })
        ));
        let junk = Frame {
            kind: REQUEST,
            payload: b"{\"token\":1}".to_vec(),
        };
        assert!(matches!(
            JoinRequest::decode(&junk),
            Err(JoinMessageError::Malformed(_))
        ));
        let long = JoinRequest {
            token: [0; 16],
            label: "x".repeat(MAX_LABEL + 1),
        };
        assert!(JoinRequest::decode(&long.encode()).is_err());
    }

    #[test]
    fn a_recovery_frame_carries_a_verified_card_and_nothing_else() {
        let gk = SecretKey::from_seed(&[1; 32]);
        let card = crate::card::GroupCard {
            group: gk.public(),
            seq: 3,
            name: "Recovered".into(),
            area: None,
            kind: crate::card::GroupKind::LocalOrganisingGroup,
            write_keys: vec![SecretKey::from_seed(&[2; 32]).public()],
            stewards: vec![SecretKey::from_seed(&[2; 32]).public()],
        }
        .sign(&gk)
        .expect("sign");
        let f = recover_frame(&card);
        assert_eq!(f.kind, 18);
        assert_eq!(decode_recover(&f).expect("decode").bytes(), card.bytes());
        // A flipped bit fails the signature; a request is not a recovery;
        // an oversized payload is refused before it is parsed.
        let mut bad = f.clone();
        let last = bad.payload.len() - 1;
        bad.payload[last] ^= 1;
        assert!(matches!(
            decode_recover(&bad),
            Err(JoinMessageError::Malformed(_))
        ));
        let req = JoinRequest {
            token: [0; 16],
            label: String::new(),
        };
        assert!(matches!(
            decode_recover(&req.encode()),
            Err(JoinMessageError::Kind { .. })
        ));
        let huge = Frame {
            kind: RECOVER,
            payload: vec![0; crate::card::MAX_CARD_BYTES + 1],
        };
        assert!(matches!(
            decode_recover(&huge),
            Err(JoinMessageError::TooLarge(_))
        ));
        let answer = JoinReply::Recovered.encode();
        assert_eq!(answer.payload, br#""Recovered""#);
    }
}
