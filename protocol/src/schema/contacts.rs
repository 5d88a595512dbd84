//! Contact details: readable by stewards and organisers only.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};

use super::roster::UnknownVariant;
use super::scalars::string_scalar;
use crate::date::Date;
use crate::ids::ShortId;

/// The UK GDPR lawful basis for holding someone's contact details.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LawfulBasis {
    /// The member consented (the default for a membership group).
    #[default]
    Consent,
    /// The group's legitimate interests.
    LegitimateInterests,
    /// Needed to perform a contract with the member.
    Contract,
}

impl fmt::Display for LawfulBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LawfulBasis::Consent => "consent",
            LawfulBasis::LegitimateInterests => "legitimate-interests",
            LawfulBasis::Contract => "contract",
        })
    }
}

impl FromStr for LawfulBasis {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t: String = s
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '_' { '-' } else { c })
            .collect();
        match t.as_str() {
            "consent" => Ok(LawfulBasis::Consent),
            "legitimate-interests" | "legitimate-interest" => Ok(LawfulBasis::LegitimateInterests),
            "contract" => Ok(LawfulBasis::Contract),
            _ => Err(UnknownVariant(
                s.to_owned(),
                "consent, legitimate-interests, contract",
            )),
        }
    }
}

string_scalar!(LawfulBasis, "a lawful basis");

/// How to reach one member, and on what basis we may. Stored as one
/// Automerge value, like [`Member`](super::Member), for the same reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Whether the member agreed to be contacted.
    #[serde(default)]
    pub consent_to_contact: bool,
    /// The lawful basis for holding these details.
    #[serde(default)]
    pub lawful_basis: LawfulBasis,
    /// When consent was given or last confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_date: Option<Date>,
}

impl Reconcile for Contact {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.str(super::packed::encode(self))
    }
}

impl Hydrate for Contact {
    fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
        super::packed::decode(s, "a contact record")
    }
}

/// Emails match ignoring case.
pub fn same_email(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A fast pre-check on a stored (packed) contact: false only when its email
/// is certainly not `email`. Lets a lookup by email in 10,000 contacts skip
/// decoding all but the candidates.
pub fn packed_email_may_be(packed: &str, email: &str) -> bool {
    const KEY: &str = "\"email\":\"";
    let Some(start) = packed.find(KEY).map(|i| i + KEY.len()) else {
        return false;
    };
    let rest = &packed[start..];
    let Some(end) = rest.find('"') else {
        return true;
    };
    let stored = &rest[..end];
    // An escape in the stored text: let the full decode decide.
    stored.contains('\\') || same_email(stored, email)
}

impl Contact {
    /// True when there is nothing worth storing.
    pub fn is_empty(&self) -> bool {
        *self == Contact::default()
    }
}

/// The contacts document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Contacts {
    /// Contact details keyed by member id text.
    pub contacts: BTreeMap<String, Contact>,
}

impl Contacts {
    /// The contact details of a member, if any are held.
    pub fn get(&self, id: &ShortId) -> Option<&Contact> {
        self.contacts.get(id.as_str())
    }
}
