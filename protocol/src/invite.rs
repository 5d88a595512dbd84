//! Device invites: a one-time, expiring capability to join a group.
//!
//! `groundwork invite --role R` makes a random token and stores only its
//! hash ([`Pending`]) with the role and expiry; the text it prints
//! ([`Invite::to_text`]) carries the token and how to reach the inviting
//! device. `groundwork join TEXT` presents the token to that device, which
//! redeems it ([`Pending::redeem`]) once.
//!
//! ```text
//! "gwinvite" + base32(version 1 | group 32 | inviter 32 | role 1 | token 16
//!                     | expires u64 | n 1 | n × (4|6, ip, port u16))
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::keys::{DeviceId, GroupId, PublicKey};
use crate::schema::Role;

const PREFIX: &str = "gwinvite";
const VERSION: u8 = 1;
/// At most this many addresses in an invite.
pub const MAX_ADDRS: usize = 16;
/// How long an invite lasts unless told otherwise: 24 hours.
pub const DEFAULT_TTL_SECS: u64 = 24 * 60 * 60;

/// An invite, as the invited person receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// The group to join.
    pub group: GroupId,
    /// The device that made the invite and will redeem it.
    pub inviter: DeviceId,
    /// Where the inviter listens.
    pub addrs: Vec<SocketAddr>,
    /// The role the new device gets.
    pub role: Role,
    /// The one-time secret.
    pub token: [u8; 16],
    /// When it stops working (seconds since 1970).
    pub expires: u64,
}

/// Why invite text could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InviteParseError {
    /// It does not start with its prefix (`gwinvite`, `gwlink`).
    #[error("not an invite or link ticket (it should start with '{0}')")]
    Prefix(&'static str),
    /// The rest is not base32.
    #[error("the invite is damaged (not base32); copy it again")]
    Encoding,
    /// Too short, or bytes left over.
    #[error("the invite is damaged (wrong length); copy it again")]
    Length,
    /// A version this build does not read.
    #[error("invite version {0} is not supported by this version of groundwork")]
    Version(u8),
    /// A field holds an impossible value.
    #[error("the invite is damaged ({0})")]
    Field(&'static str),
}

/// Why the inviting device refuses an invite.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InviteRefused {
    /// No such invite (never made, or made for another device).
    #[error("this invite is not known to the inviting device")]
    Unknown,
    /// Someone already used it.
    #[error("this invite has already been used")]
    Used,
    /// Too late.
    #[error("this invite expired")]
    Expired,
}

fn role_byte(r: Role) -> u8 {
    match r {
        Role::Steward => 1,
        Role::Organiser => 2,
        Role::Member => 3,
    }
}

fn base32() -> data_encoding::Encoding {
    data_encoding::BASE32_NOPAD
}

impl Invite {
    /// The text to give the invited person.
    pub fn to_text(&self) -> String {
        let mut b = vec![VERSION];
        b.extend_from_slice(self.group.as_bytes());
        b.extend_from_slice(self.inviter.as_bytes());
        b.push(role_byte(self.role));
        b.extend_from_slice(&self.token);
        b.extend_from_slice(&self.expires.to_be_bytes());
        write_addrs(&mut b, &self.addrs);
        encode_text(&b, PREFIX)
    }

    /// Reads invite text (surrounding whitespace is ignored).
    pub fn from_text(text: &str) -> Result<Invite, InviteParseError> {
        let bytes = decode_text(text, PREFIX)?;
        let mut r = Cursor(bytes.as_slice());
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(InviteParseError::Version(version));
        }
        let group = r.key("group id")?;
        let inviter = r.key("inviter id")?;
        let role = match r.take(1)?[0] {
            1 => Role::Steward,
            2 => Role::Organiser,
            3 => Role::Member,
            _ => return Err(InviteParseError::Field("role")),
        };
        let token = r.array()?;
        let expires = u64::from_be_bytes(r.array()?);
        let addrs = r.addrs()?;
        r.end()?;
        Ok(Invite {
            group,
            inviter,
            addrs,
            role,
            token,
            expires,
        })
    }
}

/// The bytes of a `PREFIX` + base32 text (any case, surrounding space ignored).
pub(crate) fn decode_text(text: &str, prefix: &'static str) -> Result<Vec<u8>, InviteParseError> {
    let body = text
        .trim()
        .strip_prefix(prefix)
        .ok_or(InviteParseError::Prefix(prefix))?;
    base32()
        .decode(body.to_uppercase().as_bytes())
        .map_err(|_| InviteParseError::Encoding)
}

/// `PREFIX` + base32 of `bytes`, lower case.
pub(crate) fn encode_text(bytes: &[u8], prefix: &str) -> String {
    format!("{prefix}{}", base32().encode(bytes).to_lowercase())
}

/// Appends up to [`MAX_ADDRS`] addresses: n, then n × (4|6, ip, port u16).
pub(crate) fn write_addrs(b: &mut Vec<u8>, addrs: &[SocketAddr]) {
    let addrs = &addrs[..addrs.len().min(MAX_ADDRS)];
    b.push(addrs.len() as u8);
    for a in addrs {
        match a.ip() {
            IpAddr::V4(ip) => {
                b.push(4);
                b.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                b.push(6);
                b.extend_from_slice(&ip.octets());
            }
        }
        b.extend_from_slice(&a.port().to_be_bytes());
    }
}

/// Reads the fields of an invite or link ticket in order.
pub(crate) struct Cursor<'a>(pub(crate) &'a [u8]);

impl Cursor<'_> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&[u8], InviteParseError> {
        let (h, rest) = self.0.split_at_checked(n).ok_or(InviteParseError::Length)?;
        self.0 = rest;
        Ok(h)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], InviteParseError> {
        self.take(N)?
            .try_into()
            .map_err(|_| InviteParseError::Length)
    }

    pub(crate) fn key(&mut self, what: &'static str) -> Result<PublicKey, InviteParseError> {
        PublicKey::from_slice(self.take(32)?).map_err(|_| InviteParseError::Field(what))
    }

    pub(crate) fn addrs(&mut self) -> Result<Vec<SocketAddr>, InviteParseError> {
        let n = usize::from(self.take(1)?[0]);
        if n > MAX_ADDRS {
            return Err(InviteParseError::Field("too many addresses"));
        }
        let mut addrs = Vec::with_capacity(n);
        for _ in 0..n {
            let ip = match self.take(1)?[0] {
                4 => IpAddr::V4(Ipv4Addr::from(self.array::<4>()?)),
                6 => IpAddr::V6(Ipv6Addr::from(self.array::<16>()?)),
                _ => return Err(InviteParseError::Field("address family")),
            };
            let port = u16::from_be_bytes(self.array()?);
            addrs.push(SocketAddr::new(ip, port));
        }
        Ok(addrs)
    }

    pub(crate) fn end(&self) -> Result<(), InviteParseError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(InviteParseError::Length)
        }
    }
}

/// The hash under which the inviting device stores an invite's token.
pub fn token_hash(token: &[u8; 16]) -> [u8; 32] {
    *blake3::hash(token).as_bytes()
}

/// What the inviting device keeps about an invite it made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The role it grants.
    pub role: Role,
    /// When it stops working (seconds since 1970).
    pub expires: u64,
    /// Whether it has been redeemed.
    pub used: bool,
}

impl Pending {
    /// Redeems the invite at time `now`, marking it used. A used or expired
    /// invite is refused and stays as it is.
    pub fn redeem(&mut self, now: u64) -> Result<Role, InviteRefused> {
        if self.used {
            return Err(InviteRefused::Used);
        }
        if now >= self.expires {
            return Err(InviteRefused::Expired);
        }
        self.used = true;
        Ok(self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use proptest::prelude::*;

    fn invite() -> Invite {
        Invite {
            group: SecretKey::from_seed(&[1; 32]).public(),
            inviter: SecretKey::from_seed(&[2; 32]).public(),
            addrs: vec![
                "127.0.0.1:4433".parse().expect("addr"),
                "[::1]:9".parse().expect("addr"),
            ],
            role: Role::Organiser,
            token: [7; 16],
            expires: 1_900_000_000,
        }
    }

    #[test]
    fn text_round_trips_and_tolerates_case_and_whitespace() {
        let i = invite();
        let text = i.to_text();
        assert!(text.starts_with("gwinvite"));
        assert_eq!(Invite::from_text(&text), Ok(i.clone()));
        assert_eq!(Invite::from_text(&format!("  {}\n", text)), Ok(i.clone()));
        let upper = format!("gwinvite{}", text["gwinvite".len()..].to_uppercase());
        assert_eq!(Invite::from_text(&upper), Ok(i));
    }

    #[test]
    fn damaged_text_says_what_is_wrong() {
        let text = invite().to_text();
        assert_eq!(
            Invite::from_text("hello"),
            Err(InviteParseError::Prefix("gwinvite"))
        );
        assert_eq!(
            Invite::from_text("gwinvite!!!"),
            Err(InviteParseError::Encoding)
        );
        assert_eq!(
            Invite::from_text(&text[..text.len() - 8]),
            Err(InviteParseError::Length)
        );
    }

    #[test]
    fn an_invite_works_once_and_not_after_it_expires() {
        let mut p = Pending {
            role: Role::Member,
            expires: 100,
            used: false,
        };
        assert_eq!(p.clone().redeem(100), Err(InviteRefused::Expired));
        assert_eq!(p.redeem(99), Ok(Role::Member));
        assert_eq!(p.redeem(99), Err(InviteRefused::Used));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(s in "gwinvite[a-z2-7]{0,300}") {
            let _ = Invite::from_text(&s);
        }
    }
}
