//! Signed changes: every Automerge change carries its author's signature.
//!
//! The actor id of every change is the author device's public key. The author
//! signs `DOMAIN || doc id || change hash` with its device key. Binding the
//! document id stops a change signed for one document being replayed into
//! another. Because the change hash covers the change's bytes and its
//! dependencies, the signature authenticates the whole change.
//!
//! A receiver calls [`verify_change`] before applying anything: it decodes the
//! change, checks the actor is a well-formed key, checks the signature, then
//! asks the caller's write rule whether that author may write the document.

use automerge::{ActorId, Change, ChangeHash};
use ed25519_dalek::Signature;

use crate::ids::DocId;
use crate::keys::{DeviceId, PublicKey, SecretKey};

/// Length of a change signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

const DOMAIN: &[u8] = b"groundwork/change-signature/v1";

/// The Automerge actor id of a device: its public key bytes.
pub fn actor_id(device: &DeviceId) -> ActorId {
    ActorId::from(&device.as_bytes()[..])
}

fn message(doc: &DocId, hash: &ChangeHash) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + 64);
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(doc.as_bytes());
    m.extend_from_slice(&hash.0);
    m
}

/// Why a change could not be signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The change's actor is not the signing device.
    #[error("the change's actor is not this device's key")]
    NotOurChange,
}

/// Signs a change made by `key`'s device.
pub fn sign_change(
    key: &SecretKey,
    doc: &DocId,
    change: &Change,
) -> Result<[u8; SIGNATURE_LEN], SignError> {
    if change.actor_id().to_bytes() != key.public().as_bytes() {
        return Err(SignError::NotOurChange);
    }
    Ok(key.sign(&message(doc, &change.hash())).to_bytes())
}

/// Why a change was rejected. Each reason names exactly what failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeRejected {
    /// The bytes are not an Automerge change.
    #[error("malformed change: {0}")]
    Malformed(String),
    /// The actor id is not 32 bytes, so it cannot be a device key.
    #[error("change actor is {0} bytes long, not a 32-byte device key")]
    ActorNotAKey(usize),
    /// The actor id is 32 bytes but not a valid ed25519 key.
    #[error("change actor is not a valid ed25519 public key")]
    ActorNotAPoint,
    /// The signature does not verify under the author's key for this document.
    #[error("bad signature on change {hash} by device {author}")]
    BadSignature {
        /// The claimed author.
        author: String,
        /// The change hash, hex.
        hash: String,
    },
    /// The signature is good but the author may not write this document.
    #[error("device {author} may not write this document")]
    NotAWriter {
        /// The author.
        author: String,
    },
}

/// Verifies a signed change for document `doc`.
///
/// `may_write` is the document's write rule: for a group's own documents,
/// "is this device in the group's device history with a role that may write
/// it"; for another group's public documents, "is this key in its card".
pub fn verify_change(
    doc: &DocId,
    bytes: &[u8],
    signature: &[u8; SIGNATURE_LEN],
    may_write: impl Fn(&DeviceId) -> bool,
) -> Result<Change, ChangeRejected> {
    let change = Change::try_from(bytes).map_err(|e| ChangeRejected::Malformed(e.to_string()))?;
    verify_parsed(doc, &change, signature, may_write)?;
    Ok(change)
}

/// [`verify_change`] for a change already decoded (by Automerge, from a
/// sync message): the same checks without decoding it again.
pub fn verify_parsed(
    doc: &DocId,
    change: &Change,
    signature: &[u8; SIGNATURE_LEN],
    may_write: impl Fn(&DeviceId) -> bool,
) -> Result<DeviceId, ChangeRejected> {
    let actor = change.actor_id().to_bytes();
    let author = PublicKey::from_slice(actor).map_err(|_| {
        if actor.len() == 32 {
            ChangeRejected::ActorNotAPoint
        } else {
            ChangeRejected::ActorNotAKey(actor.len())
        }
    })?;
    let sig = Signature::from_bytes(signature);
    if !author.verify(&message(doc, &change.hash()), &sig) {
        return Err(ChangeRejected::BadSignature {
            author: author.fmt_short(),
            hash: change.hash().to_string(),
        });
    }
    if !may_write(&author) {
        return Err(ChangeRejected::NotAWriter {
            author: author.fmt_short(),
        });
    }
    Ok(author)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DocKind;
    use automerge::transaction::Transactable;

    fn change_by(key: &SecretKey, actor: ActorId) -> Change {
        let _ = key;
        let mut doc = automerge::AutoCommit::new().with_actor(actor);
        doc.put(automerge::ROOT, "x", 1).expect("put");
        doc.commit();
        doc.get_last_local_change().expect("a change")
    }

    fn setup() -> (SecretKey, DocId, Change) {
        let key = SecretKey::from_seed(&[9; 32]);
        let group = SecretKey::from_seed(&[1; 32]).public();
        let doc = DocId::derive(&group, DocKind::Constitution);
        let change = change_by(&key, actor_id(&key.public()));
        (key, doc, change)
    }

    #[test]
    fn a_signed_change_by_a_writer_verifies() {
        let (key, doc, change) = setup();
        let sig = sign_change(&key, &doc, &change).expect("sign");
        let out =
            verify_change(&doc, change.raw_bytes(), &sig, |a| *a == key.public()).expect("valid");
        assert_eq!(out.hash(), change.hash());
    }

    #[test]
    fn a_change_for_another_document_is_rejected() {
        let (key, doc, change) = setup();
        let sig = sign_change(&key, &doc, &change).expect("sign");
        let other = DocId::derive(&SecretKey::from_seed(&[1; 32]).public(), DocKind::Plan);
        let err = verify_change(&other, change.raw_bytes(), &sig, |_| true).expect_err("wrong doc");
        assert!(matches!(err, ChangeRejected::BadSignature { .. }), "{err}");
    }

    #[test]
    fn a_forged_signature_is_rejected() {
        let (key, doc, change) = setup();
        let mut sig = sign_change(&key, &doc, &change).expect("sign");
        sig[5] ^= 1;
        let err = verify_change(&doc, change.raw_bytes(), &sig, |_| true).expect_err("forged");
        assert!(matches!(err, ChangeRejected::BadSignature { .. }), "{err}");
    }

    #[test]
    fn a_change_claiming_another_device_is_rejected() {
        // Mallory makes a change whose actor is Alice's key and signs it with her own key.
        let (alice, doc, _) = setup();
        let mallory = SecretKey::from_seed(&[66; 32]);
        let change = change_by(&mallory, actor_id(&alice.public()));
        assert_eq!(
            sign_change(&mallory, &doc, &change),
            Err(SignError::NotOurChange)
        );
        let sig = mallory.sign(&message(&doc, &change.hash())).to_bytes();
        let err =
            verify_change(&doc, change.raw_bytes(), &sig, |_| true).expect_err("impersonation");
        assert!(matches!(err, ChangeRejected::BadSignature { .. }), "{err}");
    }

    #[test]
    fn a_valid_signature_by_a_non_writer_is_rejected() {
        let (key, doc, change) = setup();
        let sig = sign_change(&key, &doc, &change).expect("sign");
        let err =
            verify_change(&doc, change.raw_bytes(), &sig, |_| false).expect_err("not a writer");
        assert_eq!(
            err,
            ChangeRejected::NotAWriter {
                author: key.public().fmt_short()
            }
        );
    }

    #[test]
    fn actors_that_are_not_keys_are_rejected() {
        let (key, doc, _) = setup();
        let short = change_by(&key, ActorId::from(&[1u8, 2, 3][..]));
        let err =
            verify_change(&doc, short.raw_bytes(), &[0; 64], |_| true).expect_err("short actor");
        assert_eq!(err, ChangeRejected::ActorNotAKey(3));
    }

    #[test]
    fn garbage_bytes_are_malformed() {
        let (_, doc, change) = setup();
        for bad in [
            &b""[..],
            b"hello",
            &change.raw_bytes()[..change.raw_bytes().len() - 3],
        ] {
            let err = verify_change(&doc, bad, &[0; 64], |_| true).expect_err("garbage");
            assert!(matches!(err, ChangeRejected::Malformed(_)), "{err}");
        }
    }
}
