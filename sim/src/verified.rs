//! Verified cards and records, shared by every simulated node.
//!
//! A node verifies a card or record (its issuer's signature, then the
//! decode) before it keeps it, exactly as the real node does, by the
//! protocol's own `SignedCard::from_bytes` and `Signed::from_bytes`. The
//! answer is a pure function of the bytes, so the simulation verifies each
//! distinct item once and shares the result (an `Arc`) among the nodes
//! that keep it: at 2,000 groups every node keeps some 6,000 items, and
//! verifying and holding each 2,001 times over would cost some 12 million
//! signature checks and many gigabytes without changing any outcome.

use std::collections::HashMap;
use std::sync::Arc;

use groundwork_protocol::card::SignedCard;
use groundwork_protocol::records::{Affiliation, MembershipSummary, Signed};

/// Answers by the first half of the item's signature (a card and a record
/// are `issuer 32 | signature 64 | body`); a hit counts only if the held
/// item's bytes are these bytes.
type Cache<T> = HashMap<[u8; 32], Result<Arc<T>, String>>;

/// Every item verified so far.
#[derive(Debug, Default)]
pub struct Verified {
    cards: Cache<SignedCard>,
    affiliations: Cache<Signed<Affiliation>>,
    summaries: Cache<Signed<MembershipSummary>>,
    /// Signature checks actually made (each distinct item once).
    pub checks: u64,
    /// Verifications asked for (what the real nodes would have checked).
    pub asked: u64,
}

fn key(bytes: &[u8]) -> [u8; 32] {
    bytes
        .get(32..64)
        .and_then(|k| k.try_into().ok())
        .unwrap_or_else(|| *blake3::hash(bytes).as_bytes())
}

/// The cached answer for `bytes` if it is theirs, else a fresh one.
fn lookup<T>(
    map: &mut Cache<T>,
    checks: &mut u64,
    bytes: &[u8],
    held: impl Fn(&T) -> &[u8],
    verify: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<Arc<T>, String> {
    let k = key(bytes);
    if let Some(Ok(v)) = map.get(&k)
        && held(v) == bytes
    {
        return Ok(v.clone());
    }
    *checks += 1;
    let r = verify(bytes).map(Arc::new);
    // Other bytes under a held item's signature half are not that item:
    // answered, and not kept in its place.
    if !matches!(map.get(&k), Some(Ok(_))) {
        map.insert(k, r.clone());
    }
    r
}

impl Verified {
    /// A card, verified.
    pub fn card(&mut self, bytes: &[u8]) -> Result<Arc<SignedCard>, String> {
        self.asked += 1;
        lookup(
            &mut self.cards,
            &mut self.checks,
            bytes,
            SignedCard::bytes,
            |b| SignedCard::from_bytes(b).map_err(|e| e.to_string()),
        )
    }

    /// An affiliation, verified.
    pub fn affiliation(&mut self, bytes: &[u8]) -> Result<Arc<Signed<Affiliation>>, String> {
        self.asked += 1;
        lookup(
            &mut self.affiliations,
            &mut self.checks,
            bytes,
            Signed::bytes,
            |b| Signed::from_bytes(b).map_err(|e| e.to_string()),
        )
    }

    /// A membership summary, verified.
    pub fn summary(&mut self, bytes: &[u8]) -> Result<Arc<Signed<MembershipSummary>>, String> {
        self.asked += 1;
        lookup(
            &mut self.summaries,
            &mut self.checks,
            bytes,
            Signed::bytes,
            |b| Signed::from_bytes(b).map_err(|e| e.to_string()),
        )
    }
}
