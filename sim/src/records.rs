//! A simulated node's network records and links, mirroring
//! `node/src/runtime/{records,links}.rs`: records judged by the protocol's
//! trust rules (`trust::records`) and kept only if newer
//! (`records::newer`), affiliations first, records about groups not known
//! yet parked and offered again when an affiliation arrives; every record
//! kept is broadcast by gossip. Linking keeps the other group's card and
//! remembers its device; on the national node every link is an
//! affiliation, signed and spread at once.

use std::sync::Arc;

use groundwork_protocol::card::SignedCard;
use groundwork_protocol::records::{
    Affiliation, KIND_AFFILIATION, KIND_SUMMARY, RecordRejected, Signed, day_seq, newer,
};
use groundwork_protocol::trust::records::{Directory, accept_affiliation, accept_summary};
use groundwork_protocol::{DeviceId, GroupId};

use crate::host::tagged;
use crate::node::{Ctx, GossipCmd, MAX_PARKED_RECORDS, Node, Out};
use crate::world::today;

/// What [`Node::keep_records`] did with a batch.
#[derive(Debug, Default)]
pub struct Kept {
    /// The records kept (to relay).
    pub fresh: Vec<Vec<u8>>,
    /// The first forged or malformed record's reason.
    pub forged: Option<String>,
}

/// Why one record was not kept.
enum Refused {
    /// Forged or malformed: the sender is at fault.
    Forged(String),
    /// Valid, but a trust rule or `newer` said no.
    Rule(RecordRejected),
}

impl Node {
    /// Verifies and keeps records (tagged with their kind), affiliations
    /// first, as `Actor::keep_records`.
    pub fn keep_records(&mut self, mut batch: Vec<Vec<u8>>, cx: &mut Ctx<'_>) -> Kept {
        batch.sort_by_key(|r| r.first().copied());
        let mut kept: Vec<(u8, GroupId, Vec<u8>)> = Vec::new();
        let mut out = Kept::default();
        let mut passes = 0;
        while !batch.is_empty() && passes < 4 {
            passes += 1;
            let before = kept.len();
            let mut again = Vec::new();
            for r in std::mem::take(&mut batch) {
                match self.offer_one(&r, cx) {
                    Ok(Some((kind, subject))) => kept.push((kind, subject, r)),
                    Ok(None) => {}
                    Err(Refused::Rule(
                        RecordRejected::OtherNetwork | RecordRejected::UnknownGroup,
                    )) => again.push(r),
                    Err(Refused::Rule(_)) => {}
                    Err(Refused::Forged(e)) => {
                        out.forged.get_or_insert(e);
                    }
                }
            }
            if kept.len() == before {
                for r in again {
                    self.park_record(r, cx);
                }
                break;
            }
            batch = again;
        }
        if kept.is_empty() {
            return out;
        }
        let own = self.me.own;
        let affiliations = kept.iter().any(|(k, _, _)| *k == KIND_AFFILIATION);
        for (kind, subject, tagged) in &kept {
            if *kind == KIND_AFFILIATION && *subject == own {
                self.adopt_affiliation(cx);
            }
            cx.out
                .push(Out::Gossip(GossipCmd::Broadcast(tagged.clone())));
        }
        out.fresh = kept.into_iter().map(|(_, _, r)| r).collect();
        if affiliations {
            self.unpark_cards(cx);
            self.unpark_records(cx);
        }
        out
    }

    /// Judges one tagged record and keeps it if newer: its kind and subject.
    fn offer_one(&mut self, r: &[u8], cx: &mut Ctx<'_>) -> Result<Option<(u8, GroupId)>, Refused> {
        let Some((&kind, bytes)) = r.split_first() else {
            return Err(Refused::Forged("truncated record".into()));
        };
        let view = self.me.view(&self.known);
        let dir = Directory {
            view: &view,
            network: self.me.network,
            affiliations: &self.known.networks,
            vouched: false,
        };
        match kind {
            KIND_AFFILIATION => {
                let a = cx.verified.affiliation(bytes).map_err(Refused::Forged)?;
                let s = a.record().group;
                let held = self.known.affiliations.get(&s);
                if held.is_some_and(|h| h.bytes() == bytes) {
                    return Ok(None);
                }
                accept_affiliation(&dir, a.record()).map_err(Refused::Rule)?;
                if !newer(held.map(|h| &**h), &a).map_err(Refused::Rule)? {
                    return Ok(None);
                }
                let n = a.record().network;
                self.known.affiliations.insert(s, a);
                self.known.networks.insert(s, n);
                Ok(Some((kind, s)))
            }
            KIND_SUMMARY => {
                let a = cx.verified.summary(bytes).map_err(Refused::Forged)?;
                let s = a.record().group;
                let held = self.known.summaries.get(&s);
                if held.is_some_and(|h| h.bytes() == bytes) {
                    return Ok(None);
                }
                accept_summary(&dir, a.record()).map_err(Refused::Rule)?;
                if !newer(held.map(|h| &**h), &a).map_err(Refused::Rule)? {
                    return Ok(None);
                }
                self.known.summaries.insert(s, a);
                Ok(Some((kind, s)))
            }
            _ => Err(Refused::Forged("unknown record kind".into())),
        }
    }

    /// Keeps a valid record about a group not known yet, for a while.
    fn park_record(&mut self, tagged: Vec<u8>, cx: &mut Ctx<'_>) {
        let Some((&kind, bytes)) = tagged.split_first() else {
            return;
        };
        let subject = match kind {
            KIND_AFFILIATION => cx
                .verified
                .affiliation(bytes)
                .ok()
                .map(|a| a.record().group),
            KIND_SUMMARY => cx.verified.summary(bytes).ok().map(|a| a.record().group),
            _ => None,
        };
        let Some(subject) = subject else {
            return;
        };
        let key = (kind, subject);
        if self.parked_records.len() >= MAX_PARKED_RECORDS
            && !self.parked_records.contains_key(&key)
        {
            self.parked_records.pop_first();
        }
        self.parked_records.insert(key, tagged);
    }

    fn unpark_records(&mut self, cx: &mut Ctx<'_>) {
        if self.parked_records.is_empty() {
            return;
        }
        let batch: Vec<Vec<u8>> = std::mem::take(&mut self.parked_records)
            .into_values()
            .collect();
        let kept = self.keep_records(batch, cx);
        self.spread_records(kept.fresh, None, cx);
    }

    fn unpark_cards(&mut self, cx: &mut Ctx<'_>) {
        if self.parked_cards.is_empty() {
            return;
        }
        let cards: Vec<Vec<u8>> = std::mem::take(&mut self.parked_cards)
            .into_values()
            .map(|c| c.bytes().to_vec())
            .collect();
        self.cards_outside_session(cards, cx);
    }

    /// This group's own affiliation was just kept: it belongs to that
    /// network now, and joins its gossip topic.
    fn adopt_affiliation(&mut self, cx: &mut Ctx<'_>) {
        let Some(network) = self
            .known
            .affiliations
            .get(&self.me.own)
            .map(|a| a.record().network)
        else {
            return;
        };
        if self.me.network != Some(network) {
            self.me.network = Some(network);
            cx.out.push(Out::Gossip(GossipCmd::Join(network)));
        }
    }

    /// Keeps a record made here (an affiliation the national node signed)
    /// and sends it to every open session (`Actor::offer_record`).
    pub fn offer_record(&mut self, kind: u8, bytes: &[u8], cx: &mut Ctx<'_>) {
        let kept = self.keep_records(vec![tagged(kind, bytes)], cx);
        self.spread_records(kept.fresh, None, cx);
    }

    /// A national node's affiliation arrived inside the link exchange
    /// (`Actor::affiliated`).
    pub fn affiliated(&mut self, record: &[u8], cx: &mut Ctx<'_>) {
        let kept = self.keep_records(vec![tagged(KIND_AFFILIATION, record)], cx);
        self.spread_records(kept.fresh, None, cx);
    }

    /// A link with `device`'s group is made (both consented): its card is
    /// kept and it is remembered (`keep_linked_card`, `remember`,
    /// `link_made`). On the national node the group is affiliated: the
    /// signed affiliation is returned, to send inside the link exchange.
    pub fn linked(
        &mut self,
        device: DeviceId,
        card: &[u8],
        noise: u64,
        cx: &mut Ctx<'_>,
    ) -> Option<Vec<u8>> {
        let card: Arc<SignedCard> = cx.verified.card(card).ok()?;
        let g = card.card().group;
        self.me.links.linked.entry(g).or_default().insert(device);
        let held_seq = self.known.cards.get(&g).map(|h| h.card().seq);
        let new = if held_seq.is_some_and(|s| s >= card.card().seq) {
            // Held already: the trust rules read it from now on.
            let held = self.known.cards.get(&g).cloned();
            if let Some(h) = held {
                self.known.put_card(h, true);
            }
            false
        } else {
            self.known.put_card(card, true)
        };
        if new {
            self.after_cards(vec![g], 0, cx);
        }
        if !self.me.kind.is_national() || self.known.affiliations.contains_key(&g) {
            return None;
        }
        let signed = Signed::sign(
            Affiliation {
                network: self.me.own,
                group: g,
                since: today(),
                seq: day_seq(today(), None, noise),
            },
            &self.group_key,
        )
        .ok()?;
        let bytes = signed.bytes().to_vec();
        self.offer_record(KIND_AFFILIATION, &bytes, cx);
        Some(bytes)
    }
}
