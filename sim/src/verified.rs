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

/// Every item verified so far, by the blake3 hash of its bytes.
#[derive(Debug, Default)]
pub struct Verified {
    cards: HashMap<[u8; 32], Result<Arc<SignedCard>, String>>,
    affiliations: HashMap<[u8; 32], Result<Arc<Signed<Affiliation>>, String>>,
    summaries: HashMap<[u8; 32], Result<Arc<Signed<MembershipSummary>>, String>>,
    /// Signature checks actually made (each distinct item once).
    pub checks: u64,
    /// Verifications asked for (what the real nodes would have checked).
    pub asked: u64,
}

fn key(bytes: &[u8]) -> [u8; 32] {
    *blake3::hash(bytes).as_bytes()
}

impl Verified {
    /// A card, verified.
    pub fn card(&mut self, bytes: &[u8]) -> Result<Arc<SignedCard>, String> {
        self.asked += 1;
        let checks = &mut self.checks;
        self.cards
            .entry(key(bytes))
            .or_insert_with(|| {
                *checks += 1;
                SignedCard::from_bytes(bytes)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// An affiliation, verified.
    pub fn affiliation(&mut self, bytes: &[u8]) -> Result<Arc<Signed<Affiliation>>, String> {
        self.asked += 1;
        let checks = &mut self.checks;
        self.affiliations
            .entry(key(bytes))
            .or_insert_with(|| {
                *checks += 1;
                Signed::from_bytes(bytes)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// A membership summary, verified.
    pub fn summary(&mut self, bytes: &[u8]) -> Result<Arc<Signed<MembershipSummary>>, String> {
        self.asked += 1;
        let checks = &mut self.checks;
        self.summaries
            .entry(key(bytes))
            .or_insert_with(|| {
                *checks += 1;
                Signed::from_bytes(bytes)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}
