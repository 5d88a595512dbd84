//! Reconcile/Hydrate for the small value types stored as Automerge strings.

use crate::date::Date;
use crate::ids::ShortId;
use crate::keys::PublicKey;

/// Stores a type as its `Display` text and reads it back with `FromStr`.
macro_rules! string_scalar {
    ($ty:ty, $what:literal) => {
        impl autosurgeon::Reconcile for $ty {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.to_string())
            }
        }
        impl autosurgeon::Hydrate for $ty {
            fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
                s.parse()
                    .map_err(|_| autosurgeon::HydrateError::unexpected($what, format!("'{s}'")))
            }
        }
    };
}
pub(crate) use string_scalar;

string_scalar!(Date, "a date (YYYY-MM-DD)");
string_scalar!(ShortId, "a short id");
string_scalar!(PublicKey, "a public key in hex");
