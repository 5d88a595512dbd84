//! One digest of the heads of every document two peers share.
//!
//! When peers reconnect, each sends this 32-byte digest first. Equal
//! digests mean every shared document is unchanged and nothing more is
//! sent for any of them; otherwise the peers compare per-document heads and
//! sync only the documents that differ.

use automerge::ChangeHash;

use crate::ids::DocId;

const DOMAIN: &[u8] = b"groundwork/heads-digest/v1";

/// The digest of `(document, heads)` pairs: independent of the order the
/// documents and their heads are given in, and different if any document's
/// heads differ or the set of documents differs.
pub fn heads_digest<'a>(docs: impl IntoIterator<Item = (&'a DocId, &'a [ChangeHash])>) -> [u8; 32] {
    let mut entries: Vec<(&DocId, Vec<&ChangeHash>)> = docs
        .into_iter()
        .map(|(d, heads)| {
            let mut h: Vec<&ChangeHash> = heads.iter().collect();
            h.sort();
            h.dedup();
            (d, h)
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = blake3::Hasher::new();
    hasher.update(DOMAIN);
    hasher.update(&(entries.len() as u64).to_be_bytes());
    for (doc, heads) in entries {
        hasher.update(doc.as_bytes());
        hasher.update(&(heads.len() as u64).to_be_bytes());
        for h in heads {
            hasher.update(&h.0);
        }
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DocKind;
    use crate::keys::SecretKey;

    fn doc(kind: DocKind) -> DocId {
        DocId::derive(&SecretKey::from_seed(&[4; 32]).public(), kind)
    }

    #[test]
    fn order_does_not_matter_but_every_head_does() {
        let (a, b) = (doc(DocKind::Constitution), doc(DocKind::Plan));
        let (h1, h2, h3) = (
            ChangeHash([1; 32]),
            ChangeHash([2; 32]),
            ChangeHash([3; 32]),
        );
        let base = heads_digest([(&a, &[h1, h2][..]), (&b, &[h3][..])]);
        assert_eq!(base, heads_digest([(&b, &[h3][..]), (&a, &[h2, h1][..])]));
        assert_ne!(base, heads_digest([(&a, &[h1][..]), (&b, &[h3][..])]));
        assert_ne!(base, heads_digest([(&a, &[h1, h2][..]), (&b, &[h1][..])]));
        assert_ne!(base, heads_digest([(&a, &[h1, h2][..])]));
        // Heads cannot move between documents without changing the digest.
        assert_ne!(
            heads_digest([(&a, &[h1][..]), (&b, &[h2][..])]),
            heads_digest([(&a, &[h2][..]), (&b, &[h1][..])])
        );
        assert_ne!(
            heads_digest([(&a, &[h1, h2][..]), (&b, &[][..])]),
            heads_digest([(&a, &[h1][..]), (&b, &[h2][..])])
        );
    }
}
