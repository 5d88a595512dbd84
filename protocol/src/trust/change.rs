//! Change acceptance: whether one signed change from a peer may join a
//! document.
//!
//! A change is accepted exactly when its signature is valid for the
//! document, its author may write the document, and its (actor, sequence)
//! pair is not already held with another hash ([`accept`]). A second change
//! with the same pair and another hash is an *equivocation*: the author's
//! device signed two histories. Automerge cannot merge both (it refuses the
//! whole message), so it is refused per change and both signed changes are
//! kept as proof ([`EquivocationProof`]).
//!
//! The batch logic (causal order, writers added within one message,
//! changes whose dependencies are missing) is in [`crate::sync`]; it asks
//! this rule about every change.

use automerge::{Change, ChangeHash};

use crate::ids::DocId;
use crate::keys::DeviceId;
use crate::signed::{ChangeRejected, SIGNATURE_LEN, verify_parsed};

/// A change and its author's signature, as stored and sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedChange {
    /// The uncompressed change chunk.
    pub bytes: Vec<u8>,
    /// The author's signature over (document id, change hash).
    pub signature: [u8; SIGNATURE_LEN],
}

/// What the receiver holds at an incoming change's (actor, sequence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldAt {
    /// Nothing: the sequence number is new for this author.
    Nothing,
    /// This very change (a duplicate: nothing to do).
    Same,
    /// Another change with this hash.
    Other(ChangeHash),
}

/// Why one change was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeRefused {
    /// The signature does not verify (or the actor is not a device key).
    #[error(transparent)]
    Signature(#[from] ChangeRejected),
    /// The author may not write this document.
    #[error("device {author} may not write this document")]
    NotAWriter {
        /// The author, short.
        author: String,
    },
    /// The author's device was revoked, and the group had accepted its
    /// changes only up to an earlier sequence number (its cut).
    #[error("device {author} was revoked; its change {seq} is past what the group accepted of it")]
    BeyondCut {
        /// The author, short.
        author: String,
        /// The change's sequence number.
        seq: u64,
    },
    /// The author already signed another change at this sequence number.
    #[error("device {author} signed two different changes with sequence number {seq}")]
    Equivocation {
        /// The author, short.
        author: String,
        /// The sequence number.
        seq: u64,
    },
}

/// The rule for one change at sequence number `seq`: `signature` is
/// [`crate::signed::verify_parsed`]'s verdict, `may_write` the document's
/// write rule for the author, `held` what the receiver holds at the
/// change's (actor, sequence).
pub fn accept(
    signature: &Result<DeviceId, ChangeRejected>,
    may_write: bool,
    seq: u64,
    held: HeldAt,
) -> Result<(), ChangeRefused> {
    let author = signature.as_ref().map_err(|e| e.clone())?;
    if let HeldAt::Other(_) = held {
        return Err(ChangeRefused::Equivocation {
            author: author.fmt_short(),
            seq,
        });
    }
    if !may_write {
        return Err(ChangeRefused::NotAWriter {
            author: author.fmt_short(),
        });
    }
    Ok(())
}

/// Two changes one device signed for one document at one sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EquivocationProof {
    /// The document.
    pub doc: DocId,
    /// The document's epoch both changes are signed in.
    pub epoch: u64,
    /// The device that signed both.
    pub author: DeviceId,
    /// The sequence number both claim.
    pub seq: u64,
    /// The change held first.
    pub first: SignedChange,
    /// The change refused.
    pub second: SignedChange,
}

/// Why a claimed proof proves nothing.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofInvalid {
    /// One of the changes does not decode or verify.
    #[error("a change in the proof does not verify: {0}")]
    Change(#[from] ChangeRejected),
    /// The two changes are not by the named device at the named sequence
    /// number, or they are the same change.
    #[error("the two changes do not conflict")]
    NoConflict,
}

impl EquivocationProof {
    /// Checks that both changes are signed by `author` for `doc` in
    /// `epoch`, claim `seq`, and differ.
    pub fn verify(&self) -> Result<(), ProofInvalid> {
        let signed_as = self.doc.in_epoch(self.epoch);
        let check = |c: &SignedChange| -> Result<Change, ProofInvalid> {
            let change = Change::try_from(c.bytes.as_slice())
                .map_err(|e| ChangeRejected::Malformed(e.to_string()))?;
            let author = verify_parsed(&signed_as, &change, &c.signature, |_| true)?;
            if author != self.author || change.seq() != self.seq {
                return Err(ProofInvalid::NoConflict);
            }
            Ok(change)
        };
        let (a, b) = (check(&self.first)?, check(&self.second)?);
        if a.hash() == b.hash() {
            return Err(ProofInvalid::NoConflict);
        }
        Ok(())
    }

    /// The encoded proof:
    ///
    /// ```text
    /// version 2 | doc 32 | epoch u64 | author 32 | seq u64
    ///           | len u32 | first change | signature 64 | len u32 | second change | signature 64
    /// ```
    ///
    /// Version 1 (kept by earlier releases) has no epoch: it is epoch 0.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![PROOF_VERSION];
        b.extend_from_slice(self.doc.as_bytes());
        b.extend_from_slice(&self.epoch.to_be_bytes());
        b.extend_from_slice(self.author.as_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        for c in [&self.first, &self.second] {
            b.extend_from_slice(&(c.bytes.len() as u32).to_be_bytes());
            b.extend_from_slice(&c.bytes);
            b.extend_from_slice(&c.signature);
        }
        b
    }

    /// Decodes a proof (it still has to [`EquivocationProof::verify`]).
    pub fn decode(bytes: &[u8]) -> Option<EquivocationProof> {
        let mut r = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (h, rest) = r.split_at_checked(n)?;
            r = rest;
            Some(h)
        };
        let version = take(1)?[0];
        if version != 1 && version != PROOF_VERSION {
            return None;
        }
        let doc = DocId::from_bytes(take(32)?.try_into().ok()?);
        let epoch = if version == 1 {
            0
        } else {
            u64::from_be_bytes(take(8)?.try_into().ok()?)
        };
        let author = DeviceId::from_slice(take(32)?).ok()?;
        let seq = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let mut change = || -> Option<SignedChange> {
            let n = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
            let bytes = take(n)?.to_vec();
            let signature = take(SIGNATURE_LEN)?.try_into().ok()?;
            Some(SignedChange { bytes, signature })
        };
        let (first, second) = (change()?, change()?);
        if !r.is_empty() {
            return None;
        }
        Some(EquivocationProof {
            doc,
            epoch,
            author,
            seq,
            first,
            second,
        })
    }
}

const PROOF_VERSION: u8 = 2;

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use proptest::prelude::*;

    use super::*;
    use crate::edit;
    use crate::ids::DocKind;
    use crate::keys::SecretKey;
    use crate::signed::{actor_id, sign_change};

    fn doc() -> DocId {
        DocId::derive(&SecretKey::from_seed(&[1; 32]).public(), DocKind::Meetups)
    }

    /// A change by `key` at sequence 1 putting `value`.
    fn change(key: &SecretKey, value: &str) -> SignedChange {
        change_in(key, value, 0)
    }

    /// The same, signed for the document's `epoch`.
    fn change_in(key: &SecretKey, value: &str, epoch: u64) -> SignedChange {
        let mut d = edit::new_doc().with_actor(actor_id(&key.public()));
        d.put(automerge::ROOT, "place", value).expect("put");
        d.commit();
        let c = d.get_last_local_change().expect("change");
        SignedChange {
            bytes: c.raw_bytes().to_vec(),
            signature: sign_change(key, &doc().in_epoch(epoch), &c).expect("sign"),
        }
    }

    #[test]
    fn the_rule_for_each_case() {
        let me = SecretKey::from_seed(&[2; 32]).public();
        let good: Result<DeviceId, ChangeRejected> = Ok(me);
        assert_eq!(accept(&good, true, 1, HeldAt::Nothing), Ok(()));
        assert_eq!(accept(&good, true, 1, HeldAt::Same), Ok(()));
        assert!(matches!(
            accept(&good, true, 1, HeldAt::Other(ChangeHash([1; 32]))),
            Err(ChangeRefused::Equivocation { .. })
        ));
        assert!(matches!(
            accept(&good, false, 1, HeldAt::Nothing),
            Err(ChangeRefused::NotAWriter { .. })
        ));
        let forged: Result<DeviceId, ChangeRejected> = Err(ChangeRejected::BadSignature {
            author: me.fmt_short(),
            hash: "x".into(),
        });
        assert!(matches!(
            accept(&forged, true, 1, HeldAt::Nothing),
            Err(ChangeRefused::Signature(_))
        ));
    }

    proptest! {
        /// Accepted exactly when the signature is valid, the author may
        /// write, and the sequence number is not held with another hash.
        #[test]
        fn accepted_exactly_when_all_three_hold(
            valid in any::<bool>(), may_write in any::<bool>(), held in 0u8..3,
        ) {
            let me = SecretKey::from_seed(&[2; 32]).public();
            let sig = if valid { Ok(me) } else { Err(ChangeRejected::ActorNotAPoint) };
            let held = match held {
                0 => HeldAt::Nothing,
                1 => HeldAt::Same,
                _ => HeldAt::Other(ChangeHash([9; 32])),
            };
            let ok = accept(&sig, may_write, 1, held).is_ok();
            prop_assert_eq!(ok, valid && may_write && !matches!(held, HeldAt::Other(_)));
        }
    }

    #[test]
    fn a_proof_verifies_only_for_two_different_changes_by_one_device() {
        let key = SecretKey::from_seed(&[3; 32]);
        let proof = EquivocationProof {
            doc: doc(),
            epoch: 0,
            author: key.public(),
            seq: 1,
            first: change(&key, "Leek library"),
            second: change(&key, "Buxton library"),
        };
        assert_eq!(proof.verify(), Ok(()));
        let same = EquivocationProof {
            second: proof.first.clone(),
            ..proof.clone()
        };
        assert_eq!(same.verify(), Err(ProofInvalid::NoConflict));
        let other = SecretKey::from_seed(&[4; 32]);
        let two_devices = EquivocationProof {
            second: change(&other, "Buxton library"),
            ..proof.clone()
        };
        assert_eq!(two_devices.verify(), Err(ProofInvalid::NoConflict));
        let mut forged = proof.clone();
        forged.second.signature[0] ^= 1;
        assert!(matches!(forged.verify(), Err(ProofInvalid::Change(_))));
        let wrong_seq = EquivocationProof {
            seq: 2,
            ..proof.clone()
        };
        assert_eq!(wrong_seq.verify(), Err(ProofInvalid::NoConflict));
        // The codec round-trips and refuses anything else.
        let bytes = proof.encode();
        assert_eq!(EquivocationProof::decode(&bytes), Some(proof.clone()));
        assert_eq!(EquivocationProof::decode(&bytes[..bytes.len() - 1]), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(EquivocationProof::decode(&longer), None);
        assert_eq!(data_encoding::HEXLOWER.encode(&bytes[..1]), "02");
        // Version 1 had no epoch: it decodes as epoch 0.
        let mut v1 = vec![1];
        v1.extend_from_slice(&bytes[1..33]);
        v1.extend_from_slice(&bytes[41..]);
        assert_eq!(EquivocationProof::decode(&v1).map(|p| p.epoch), Some(0));
        // Claimed for another epoch, the same changes prove nothing.
        let other_epoch = EquivocationProof {
            epoch: 1,
            ..proof.clone()
        };
        assert!(matches!(other_epoch.verify(), Err(ProofInvalid::Change(_))));
    }

    #[test]
    fn a_proof_in_a_later_epoch_verifies_against_that_epochs_signatures() {
        let key = SecretKey::from_seed(&[3; 32]);
        let proof = EquivocationProof {
            doc: doc(),
            epoch: 3,
            author: key.public(),
            seq: 1,
            first: change_in(&key, "Leek library", 3),
            second: change_in(&key, "Buxton library", 3),
        };
        assert_eq!(proof.verify(), Ok(()));
        let decoded = EquivocationProof::decode(&proof.encode()).expect("decodes");
        assert_eq!(decoded.verify(), Ok(()));
        assert!(matches!(
            EquivocationProof { epoch: 0, ..proof }.verify(),
            Err(ProofInvalid::Change(_))
        ));
    }
}
