//! Linking two groups by consent (ALPN `/groundwork/link/1`).
//!
//! A node's ticket (printed by `up`, announced on the LAN, inside invites)
//! lets anyone *ask* to link. A link is made only when the other side's
//! steward consents: in advance, by handing out a one-time link code
//! (`groundwork link-code`, printed as a [`LinkTicket`]), or afterwards, by
//! accepting the request (`groundwork peer accept`). The rule is
//! [`crate::trust::link`]; this module holds the ticket text, the code a
//! steward's node keeps, and the protocol's messages.
//!
//! ```text
//! link ticket: "gwlink" + base32(version 1 | group 32 | device 32 | code 16
//!                                 | expires u64 | n 1 | n × (4|6, ip, port u16))
//! ```
//!
//! One request/response exchange per connection, the requester speaking
//! first. Frame kinds (the payloads are capped by the node's small-frame
//! cap, 128 KiB):
//!
//! | kind | message | payload |
//! |---|---|---|
//! | 32 | `Request` | has-code u8 (0 or 1) \| code 16 if 1 \| the requester's signed group card |
//! | 33 | `Refused` | reason, UTF-8, at most 1,024 bytes |
//! | 34 | `Affiliation` | a signed affiliation (the national node, after `Accepted`) |
//! | 35 | `Kept` | empty: the affiliation was kept |
//! | 36 | `Accepted` | the responder's signed group card: the groups are linked |
//! | 37 | `Pending` | the responder's signed group card: its steward has been asked |

use std::net::SocketAddr;

use crate::invite::{Cursor, InviteParseError, decode_text, encode_text, write_addrs};
use crate::keys::{DeviceId, GroupId};
use crate::wire::frame::Frame;
/// Frame kinds of the link protocol ([`crate::wire::kinds`], the one
/// registry: a new message takes a new number there).
use crate::wire::kinds::link as kinds;

const PREFIX: &str = "gwlink";
const VERSION: u8 = 1;
/// How long a link code lasts unless told otherwise: 7 days.
pub const DEFAULT_TTL_SECS: u64 = 7 * 24 * 60 * 60;
/// The longest refusal reason.
pub const MAX_REASON: usize = 1024;

/// A one-time link code and where to use it, as the other group's steward
/// receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTicket {
    /// The group that made the code.
    pub group: GroupId,
    /// The device that redeems it.
    pub device: DeviceId,
    /// Where that device listens.
    pub addrs: Vec<SocketAddr>,
    /// The one-time secret.
    pub code: [u8; 16],
    /// When it stops working (seconds since 1970).
    pub expires: u64,
}

impl LinkTicket {
    /// The text to give the other group.
    pub fn to_text(&self) -> String {
        let mut b = vec![VERSION];
        b.extend_from_slice(self.group.as_bytes());
        b.extend_from_slice(self.device.as_bytes());
        b.extend_from_slice(&self.code);
        b.extend_from_slice(&self.expires.to_be_bytes());
        write_addrs(&mut b, &self.addrs);
        encode_text(&b, PREFIX)
    }

    /// Reads link ticket text (surrounding whitespace and case are ignored).
    pub fn from_text(text: &str) -> Result<LinkTicket, InviteParseError> {
        let bytes = decode_text(text, PREFIX)?;
        let mut r = Cursor(bytes.as_slice());
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(InviteParseError::Version(version));
        }
        let group = r.key("group id")?;
        let device = r.key("device id")?;
        let code = r.array()?;
        let expires = u64::from_be_bytes(r.array()?);
        let addrs = r.addrs()?;
        r.end()?;
        Ok(LinkTicket {
            group,
            device,
            addrs,
            code,
            expires,
        })
    }

    /// Whether `text` looks like a link ticket (rather than a node ticket).
    pub fn is_link_ticket(text: &str) -> bool {
        text.trim().starts_with(PREFIX)
    }
}

/// What a steward's node keeps about a link code it made (under the
/// code's hash, [`crate::invite::token_hash`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingCode {
    /// When it stops working (seconds since 1970).
    pub expires: u64,
    /// Whether it has been used.
    pub used: bool,
}

/// Why a link code does not work.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeRefused {
    /// Never made here.
    #[error("this link code is not known to the node")]
    Unknown,
    /// Used already.
    #[error("this link code has already been used")]
    Used,
    /// Too late.
    #[error("this link code expired")]
    Expired,
}

impl PendingCode {
    /// Uses the code at time `now`. A used or expired code is refused and
    /// stays as it is.
    pub fn redeem(&mut self, now: u64) -> Result<(), CodeRefused> {
        if self.used {
            return Err(CodeRefused::Used);
        }
        if now >= self.expires {
            return Err(CodeRefused::Expired);
        }
        self.used = true;
        Ok(())
    }
}

/// One message of the link protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkMessage {
    /// Asks to link: the requester's card, and a link code if it has one.
    Request {
        /// The requester's signed group card.
        card: Vec<u8>,
        /// A one-time code the responder's steward gave out.
        code: Option<[u8; 16]>,
    },
    /// Refused, and why.
    Refused(String),
    /// A signed affiliation, from the national node.
    Affiliation(Vec<u8>),
    /// The affiliation was kept.
    Kept,
    /// Linked: the responder's signed card.
    Accepted(Vec<u8>),
    /// Left for the responder's steward: its signed card.
    Pending(Vec<u8>),
}

/// Why a frame is not a link message.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkMessageError {
    /// A frame kind the link protocol does not use.
    #[error("unknown link message type {0}")]
    UnknownKind(u8),
    /// The payload does not parse.
    #[error("malformed link message")]
    Malformed,
}

impl LinkMessage {
    /// The frame for this message.
    pub fn encode(&self) -> Frame {
        let (kind, payload) = match self {
            LinkMessage::Request { card, code } => {
                let mut p = Vec::with_capacity(card.len() + 17);
                match code {
                    Some(c) => {
                        p.push(1);
                        p.extend_from_slice(c);
                    }
                    None => p.push(0),
                }
                p.extend_from_slice(card);
                (kinds::REQUEST, p)
            }
            LinkMessage::Refused(why) => {
                let mut end = why.len().min(MAX_REASON);
                while !why.is_char_boundary(end) {
                    end -= 1;
                }
                (kinds::REFUSED, why.as_bytes()[..end].to_vec())
            }
            LinkMessage::Affiliation(a) => (kinds::AFFILIATION, a.clone()),
            LinkMessage::Kept => (kinds::KEPT, Vec::new()),
            LinkMessage::Accepted(c) => (kinds::ACCEPTED, c.clone()),
            LinkMessage::Pending(c) => (kinds::PENDING, c.clone()),
        };
        Frame { kind, payload }
    }

    /// Decodes a frame.
    pub fn decode(f: &Frame) -> Result<LinkMessage, LinkMessageError> {
        let p = &f.payload;
        Ok(match f.kind {
            kinds::REQUEST => match p.split_first() {
                Some((0, card)) => LinkMessage::Request {
                    card: card.to_vec(),
                    code: None,
                },
                Some((1, rest)) => {
                    let (code, card) = rest
                        .split_first_chunk::<16>()
                        .ok_or(LinkMessageError::Malformed)?;
                    LinkMessage::Request {
                        card: card.to_vec(),
                        code: Some(*code),
                    }
                }
                _ => return Err(LinkMessageError::Malformed),
            },
            kinds::REFUSED => {
                if p.len() > MAX_REASON {
                    return Err(LinkMessageError::Malformed);
                }
                // Safe to log and show: it comes from a peer.
                LinkMessage::Refused(
                    crate::text::safe_line(&String::from_utf8_lossy(p)).into_owned(),
                )
            }
            kinds::AFFILIATION => LinkMessage::Affiliation(p.clone()),
            kinds::KEPT if p.is_empty() => LinkMessage::Kept,
            kinds::ACCEPTED => LinkMessage::Accepted(p.clone()),
            kinds::PENDING => LinkMessage::Pending(p.clone()),
            kinds::KEPT => return Err(LinkMessageError::Malformed),
            other => return Err(LinkMessageError::UnknownKind(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::keys::SecretKey;

    fn ticket() -> LinkTicket {
        LinkTicket {
            group: SecretKey::from_seed(&[1; 32]).public(),
            device: SecretKey::from_seed(&[2; 32]).public(),
            addrs: vec!["127.0.0.1:4433".parse().expect("addr")],
            code: [9; 16],
            expires: 1_900_000_000,
        }
    }

    /// A frame as it goes on the wire (header included), in hex.
    fn wire_hex(f: &Frame) -> String {
        let bytes = crate::wire::frame::encode(f.kind, &f.payload, 1 << 20).expect("encode");
        data_encoding::HEXLOWER.encode(&bytes)
    }

    #[test]
    fn link_frames_match_their_fixtures() {
        let fixtures = [
            (
                LinkMessage::Request {
                    card: vec![0xaa, 0xbb],
                    code: Some([9; 16]),
                },
                "00000014200109090909090909090909090909090909aabb",
            ),
            (
                LinkMessage::Request {
                    card: vec![0xaa, 0xbb],
                    code: None,
                },
                "000000042000aabb",
            ),
            (LinkMessage::Refused("busy".into()), "000000052162757379"),
            (LinkMessage::Affiliation(vec![1, 2, 3]), "0000000422010203"),
            (LinkMessage::Kept, "0000000123"),
            (LinkMessage::Accepted(vec![0xcc]), "0000000224cc"),
            (LinkMessage::Pending(vec![0xdd]), "0000000225dd"),
        ];
        for (message, hex) in fixtures {
            let frame = message.encode();
            assert_eq!(wire_hex(&frame), hex, "{message:?}");
            // And back, from the wire bytes.
            let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).expect("hex");
            let mut decoder = crate::wire::frame::Decoder::new(1 << 20);
            decoder.push(&bytes);
            let read = decoder.next_frame().expect("frame").expect("whole");
            assert_eq!(LinkMessage::decode(&read), Ok(message));
        }
        // Positive control: a sync frame's kind is not a link message.
        let bye = crate::sync::messages::Message::Bye("x".into()).encode();
        assert_eq!(
            LinkMessage::decode(&bye),
            Err(LinkMessageError::UnknownKind(crate::wire::kinds::sync::BYE))
        );
    }

    #[test]
    fn a_ticket_round_trips_and_damage_is_named() {
        let t = ticket();
        let text = t.to_text();
        assert!(text.starts_with("gwlink") && LinkTicket::is_link_ticket(&text));
        assert_eq!(LinkTicket::from_text(&format!(" {text}\n")), Ok(t.clone()));
        assert_eq!(
            LinkTicket::from_text("endpointabc"),
            Err(InviteParseError::Prefix("gwlink"))
        );
        assert_eq!(
            LinkTicket::from_text(&text[..text.len() - 4]),
            Err(InviteParseError::Length)
        );
        assert!(!LinkTicket::is_link_ticket(
            &t.to_text().replace("gwlink", "gwinvite")
        ));
    }

    #[test]
    fn a_code_works_once_and_not_after_it_expires() {
        let mut c = PendingCode {
            expires: 100,
            used: false,
        };
        assert_eq!(c.clone().redeem(100), Err(CodeRefused::Expired));
        assert_eq!(c.redeem(99), Ok(()));
        assert_eq!(c.redeem(99), Err(CodeRefused::Used));
    }

    #[test]
    fn the_format_is_locked() {
        let f = LinkMessage::Request {
            card: vec![0xaa, 0xbb],
            code: Some([7; 16]),
        }
        .encode();
        assert_eq!(f.kind, 32);
        assert_eq!(
            data_encoding::HEXLOWER.encode(&f.payload),
            format!("01{}aabb", "07".repeat(16))
        );
        let f = LinkMessage::Request {
            card: vec![0xaa],
            code: None,
        }
        .encode();
        assert_eq!(data_encoding::HEXLOWER.encode(&f.payload), "00aa");
        let kinds: Vec<u8> = [
            LinkMessage::Refused("no".into()),
            LinkMessage::Affiliation(vec![1]),
            LinkMessage::Kept,
            LinkMessage::Accepted(vec![1]),
            LinkMessage::Pending(vec![1]),
        ]
        .iter()
        .map(|m| m.encode().kind)
        .collect();
        assert_eq!(kinds, vec![33, 34, 35, 36, 37]);
    }

    fn message() -> impl Strategy<Value = LinkMessage> {
        let bytes = proptest::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            (bytes.clone(), proptest::option::of(any::<[u8; 16]>()))
                .prop_map(|(card, code)| LinkMessage::Request { card, code }),
            "[a-z ]{0,40}".prop_map(LinkMessage::Refused),
            bytes.clone().prop_map(LinkMessage::Affiliation),
            Just(LinkMessage::Kept),
            bytes.clone().prop_map(LinkMessage::Accepted),
            bytes.prop_map(LinkMessage::Pending),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(m in message()) {
            prop_assert_eq!(LinkMessage::decode(&m.encode()), Ok(m));
        }

        #[test]
        fn garbage_never_panics(kind in 30u8..40, payload in proptest::collection::vec(any::<u8>(), 0..64), text in "gwlink[a-z2-7]{0,200}") {
            let _ = LinkMessage::decode(&Frame { kind, payload });
            let _ = LinkTicket::from_text(&text);
        }
    }
}
