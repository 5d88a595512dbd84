//! Document ids and the short ids people type.
//!
//! A group's documents have fixed kinds, and the id of each is derived from
//! (group id, kind), so every device knows every document id without asking.
//! Members, meet-ups and plan actions get [`ShortId`]s: six characters of
//! Crockford base32, easy to read aloud and to type.

use std::fmt;
use std::str::FromStr;

use crate::keys::{GroupId, hex};

/// The fixed set of documents a group owns.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// The group's constitution.
    Constitution,
    /// The Local Organising Plan.
    Plan,
    /// Meet-ups and their notes.
    Meetups,
    /// The membership roster (names: personal data).
    Roster,
    /// Contact details (personal data; stewards and organisers only).
    Contacts,
    /// The group's devices and their roles.
    Devices,
}

impl DocKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DocKind; 6] = [
        DocKind::Constitution,
        DocKind::Plan,
        DocKind::Meetups,
        DocKind::Roster,
        DocKind::Contacts,
        DocKind::Devices,
    ];

    /// The kind's name as used in ids, logs and the command line.
    pub fn name(self) -> &'static str {
        match self {
            DocKind::Constitution => "constitution",
            DocKind::Plan => "plan",
            DocKind::Meetups => "meetups",
            DocKind::Roster => "roster",
            DocKind::Contacts => "contacts",
            DocKind::Devices => "devices",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The id of one of a group's documents: `blake3(domain, group id, kind)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId([u8; 32]);

impl DocId {
    const DOMAIN: &'static [u8] = b"groundwork/doc-id/v1";

    /// The id of `group`'s document of `kind`.
    pub fn derive(group: &GroupId, kind: DocKind) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(Self::DOMAIN);
        h.update(group.as_bytes());
        h.update(kind.name().as_bytes());
        Self(*h.finalize().as_bytes())
    }

    /// The identity a change of this document's epoch `epoch` is signed
    /// for: the document id itself in epoch 0, else
    /// `blake3("groundwork/doc-epoch/v1", doc id, epoch u64)`. A change
    /// signed in one epoch therefore never verifies in another.
    pub fn in_epoch(&self, epoch: u64) -> Self {
        if epoch == 0 {
            return *self;
        }
        let mut h = blake3::Hasher::new();
        h.update(b"groundwork/doc-epoch/v1");
        h.update(&self.0);
        h.update(&epoch.to_be_bytes());
        Self(*h.finalize().as_bytes())
    }

    /// Wraps stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocId({})", &hex(&self.0)[..10])
    }
}

/// Crockford base32, lowercase: no i, l, o or u to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The number of characters in a short id.
pub const SHORT_ID_LEN: usize = 6;

/// A short, stable id a person can type: six Crockford base32 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShortId(String);

/// Why text is not a short id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShortIdError {
    /// Wrong number of characters.
    #[error("an id has {SHORT_ID_LEN} characters, '{0}' has {1}")]
    Length(String, usize),
    /// A character that is not in the alphabet.
    #[error("'{0}' is not a valid id: unexpected character '{1}'")]
    Character(String, char),
}

impl ShortId {
    /// Builds an id from 30 bits of `entropy` (the caller supplies randomness).
    pub fn from_entropy(entropy: u32) -> Self {
        let s = (0..SHORT_ID_LEN)
            .map(|i| ALPHABET[((entropy >> (i * 5)) & 31) as usize] as char)
            .collect();
        Self(s)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ShortId {
    type Err = ShortIdError;
    /// Parses case-insensitively and reads i/l as 1 and o as 0, as Crockford intends.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.chars().count();
        if n != SHORT_ID_LEN {
            return Err(ShortIdError::Length(s.to_owned(), n));
        }
        let mut out = String::with_capacity(SHORT_ID_LEN);
        for c in s.chars() {
            let c = match c.to_ascii_lowercase() {
                'i' | 'l' => '1',
                'o' => '0',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(ShortIdError::Character(s.to_owned(), c));
            }
            out.push(c);
        }
        Ok(Self(out))
    }
}

impl TryFrom<String> for ShortId {
    type Error = ShortIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ShortId> for String {
    fn from(id: ShortId) -> String {
        id.0
    }
}

impl fmt::Display for ShortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ShortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn doc_ids_differ_by_group_and_kind_and_are_stable() {
        let g1 = SecretKey::from_seed(&[1; 32]).public();
        let g2 = SecretKey::from_seed(&[2; 32]).public();
        let ids: std::collections::HashSet<_> = DocKind::ALL
            .iter()
            .flat_map(|k| [DocId::derive(&g1, *k), DocId::derive(&g2, *k)])
            .collect();
        assert_eq!(ids.len(), 12);
        assert_eq!(
            DocId::derive(&g1, DocKind::Roster),
            DocId::derive(&g1, DocKind::Roster)
        );
    }

    #[test]
    fn short_ids_parse_forgivingly_and_reject_garbage() {
        let id = ShortId::from_entropy(0x2f3a_11c9);
        assert_eq!(id.as_str().len(), SHORT_ID_LEN);
        assert_eq!(
            id.as_str().to_uppercase().parse::<ShortId>(),
            Ok(id.clone())
        );
        assert_eq!(
            "1o0abc".parse::<ShortId>().map(|i| i.0),
            Ok("100abc".into())
        );
        assert_eq!(
            "L00abc".parse::<ShortId>().map(|i| i.0),
            Ok("100abc".into())
        );
        assert!(matches!(
            "abc".parse::<ShortId>(),
            Err(ShortIdError::Length(_, 3))
        ));
        assert!(matches!(
            "abcdu!".parse::<ShortId>(),
            Err(ShortIdError::Character(_, 'u'))
        ));
        assert!(matches!(
            "abcdé1".parse::<ShortId>(),
            Err(ShortIdError::Character(_, 'é'))
        ));
    }
}
