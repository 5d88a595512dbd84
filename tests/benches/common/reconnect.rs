//! Reconnect after offline, in memory, at the protocol level: two
//! Groundwork [`Session`]s over many small documents, synced fully, their
//! states persisted as the node stores them, some documents changed on one
//! side, then new sessions from the persisted states; and plain Automerge
//! sync of every document one by one from the same states.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Result, anyhow, bail, ensure};
use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ChangeHash, ROOT};
use groundwork_protocol::signed::{actor_id, sign_change};
use groundwork_protocol::sync::VerifiedChange;
use groundwork_protocol::sync::messages::Message;
use groundwork_protocol::sync::session::{Docs, HostError, Session, SessionStore};
use groundwork_protocol::wire::frame::HEADER_LEN;
use groundwork_protocol::{DeviceId, DocId, GroupId, SecretKey};
use groundwork_tests::people::{Rng, word};

use super::SEED;

/// Sync states by document, in memory.
pub type States = BTreeMap<DocId, State>;
/// Sync states by document as the node stores them (`State::encode`).
pub type Persisted = BTreeMap<DocId, Vec<u8>>;

#[derive(Default, Clone)]
pub struct MemStore {
    pub sigs: HashMap<ChangeHash, [u8; 64]>,
    pub writers: Vec<DeviceId>,
}

impl SessionStore for MemStore {
    fn signature(&self, hash: &ChangeHash) -> Option<[u8; 64]> {
        self.sigs.get(hash).copied()
    }
    fn may_write(&self, _doc: &DocId, author: &DeviceId) -> bool {
        self.writers.contains(author)
    }
    fn within_cut(&self, _doc: &DocId, _author: &DeviceId, _seq: u64) -> bool {
        true
    }
    fn store(&mut self, _doc: &DocId, changes: Vec<VerifiedChange>) -> Result<(), HostError> {
        for c in changes {
            self.sigs.insert(c.hash, c.signature);
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct Side {
    pub key: SecretKey,
    pub docs: Docs,
    pub store: MemStore,
}

impl Side {
    pub fn edit(&mut self, doc: &DocId, rng: &mut Rng) -> Result<()> {
        let d = self
            .docs
            .get_mut(doc)
            .ok_or_else(|| anyhow!("no document"))?;
        let before = d.get_heads();
        let key = format!("k{}", rng.below(1000));
        let syllables = 4 + rng.below(6);
        let value = word(rng, syllables);
        d.put(ROOT, key, value)?;
        d.commit();
        for c in d.get_changes(&before) {
            self.store
                .sigs
                .insert(c.hash(), sign_change(&self.key, doc, &c)?);
        }
        Ok(())
    }

    pub fn heads(&mut self) -> Vec<Vec<ChangeHash>> {
        self.docs
            .values_mut()
            .map(|d| {
                let mut h = d.get_heads();
                h.sort();
                h
            })
            .collect()
    }
}

/// What one reconnect cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cost {
    pub messages: u64,
    pub bytes: u64,
    /// One-way trips: each is a batch of messages one side sends before it
    /// needs the other's answer.
    pub trips: u64,
    /// Bytes that name or carry a document the reconnect did not need to
    /// sync (unchanged since the last session).
    pub unchanged_bytes: u64,
    /// `Sync` messages that carry changes, and their bytes.
    pub carrying: u64,
    pub carrying_bytes: u64,
}

impl Cost {
    pub fn round_trips(&self) -> f64 {
        self.trips as f64 / 2.0
    }
}

pub fn frame_len(m: &Message) -> u64 {
    (HEADER_LEN + m.encode().payload.len()) as u64
}

/// Bytes of `m` spent on documents in `unchanged`.
pub fn unchanged_share(m: &Message, unchanged: &BTreeSet<DocId>) -> u64 {
    match m {
        Message::Heads(list) => list
            .iter()
            .filter(|(d, _)| unchanged.contains(d))
            .map(|(_, h)| 32 + 2 + 32 * h.len() as u64)
            .sum(),
        // One 8-byte fingerprint per shared document; the unchanged ones'
        // share of the message.
        Message::Prints(list) => {
            let unchanged_prints = list.len().min(unchanged.len()) as u64;
            8 * unchanged_prints
        }
        Message::Sync { doc, .. } if unchanged.contains(doc) => frame_len(m),
        _ => 0,
    }
}

pub fn wire(m: &Message) -> Result<Message> {
    Message::decode(&m.encode()).map_err(|e| anyhow!("own message does not decode: {e}"))
}

/// Runs a Groundwork session between `a` (which dials and speaks first)
/// and `b` until neither has anything to send.
pub fn session_reconnect(
    group: GroupId,
    a: &mut Side,
    b: &mut Side,
    states: (&BTreeMap<DocId, State>, &BTreeMap<DocId, State>),
    unchanged: &BTreeSet<DocId>,
) -> Result<(Cost, States, States)> {
    let shared: BTreeSet<DocId> = a.docs.keys().copied().collect();
    let mut sa = Session::new(group, shared.clone(), states.0.clone());
    let mut sb = Session::new(group, shared, states.1.clone());
    let mut cost = Cost::default();
    let count = |cost: &mut Cost, batch: &[Message]| {
        if !batch.is_empty() {
            cost.trips += 1;
        }
        for m in batch {
            if let Message::Sync { body, .. } = m
                && automerge::sync::Message::decode(&body.message)
                    .is_ok_and(|am| !am.changes.is_empty())
            {
                cost.carrying += 1;
                cost.carrying_bytes += frame_len(m);
            }
            cost.messages += 1;
            cost.bytes += frame_len(m);
            cost.unchanged_bytes += unchanged_share(m, unchanged);
        }
    };
    // The dialer's hello goes first; the other side opens its session when
    // the stream arrives and answers with its own hello and replies.
    let mut to_b = sa.start(&mut a.docs, &a.store)?;
    let mut b_started = false;
    for _ in 0..1000 {
        count(&mut cost, &to_b);
        let mut to_a = Vec::new();
        if !b_started {
            to_a.extend(sb.start(&mut b.docs, &b.store)?);
            b_started = true;
        }
        for m in to_b.drain(..) {
            to_a.extend(sb.handle(wire(&m)?, &mut b.docs, &mut b.store)?);
        }
        if to_a.is_empty() {
            return Ok((cost, sa.states().clone(), sb.states().clone()));
        }
        count(&mut cost, &to_a);
        for m in to_a {
            to_b.extend(sa.handle(wire(&m)?, &mut a.docs, &mut a.store)?);
        }
        if to_b.is_empty() {
            return Ok((cost, sa.states().clone(), sb.states().clone()));
        }
    }
    bail!("the sessions did not go quiet")
}

/// Plain Automerge sync of every document, one after the other, from the
/// persisted states: per document, `a` sends first, then each side answers
/// until neither has anything to send. A message on the wire is a length
/// (u32) and the document id (32 bytes) before the Automerge message.
/// Returns the cost and the trips of the slowest document alone (what
/// running all documents at once would take).
pub fn plain_reconnect(
    a: &mut Side,
    b: &mut Side,
    states: (&Persisted, &Persisted),
    unchanged: &BTreeSet<DocId>,
) -> Result<(Cost, u64)> {
    let mut cost = Cost::default();
    let mut slowest = 0;
    let ids: Vec<DocId> = a.docs.keys().copied().collect();
    for id in ids {
        let decode = |m: &BTreeMap<DocId, Vec<u8>>| -> Result<State> {
            m.get(&id)
                .map(|s| State::decode(s))
                .transpose()?
                .ok_or_else(|| anyhow!("no persisted state"))
        };
        let (mut sa, mut sb) = (decode(states.0)?, decode(states.1)?);
        let da = a.docs.get_mut(&id).ok_or_else(|| anyhow!("no doc"))?;
        let db = b.docs.get_mut(&id).ok_or_else(|| anyhow!("no doc"))?;
        let mut trips = 0;
        let mut next = da.sync().generate_sync_message(&mut sa);
        let mut a_turn = true;
        while let Some(m) = next.take() {
            let bytes = m.encode();
            trips += 1;
            cost.messages += 1;
            let on_wire = (4 + 32 + bytes.len()) as u64;
            cost.bytes += on_wire;
            if unchanged.contains(&id) {
                cost.unchanged_bytes += on_wire;
            }
            let m = automerge::sync::Message::decode(&bytes)?;
            next = if a_turn {
                db.sync().receive_sync_message(&mut sb, m)?;
                db.sync().generate_sync_message(&mut sb)
            } else {
                da.sync().receive_sync_message(&mut sa, m)?;
                da.sync().generate_sync_message(&mut sa)
            };
            a_turn = !a_turn;
            ensure!(trips < 1000, "plain sync did not go quiet");
        }
        cost.trips += trips;
        slowest = slowest.max(trips);
    }
    Ok((cost, slowest))
}

#[derive(Debug)]
pub struct Reconnect {
    pub changed: usize,
    pub node: Cost,
    pub plain: Cost,
    pub plain_parallel_trips: u64,
}

#[derive(Debug)]
pub struct ReconnectAll {
    pub docs: usize,
    pub first_sync: Cost,
    pub rows: Vec<Reconnect>,
    pub persisted_state_bytes: u64,
}

pub fn encode_states(s: &States) -> Persisted {
    s.iter().map(|(d, st)| (*d, st.encode())).collect()
}

pub fn decode_states(s: &Persisted) -> Result<States> {
    s.iter().map(|(d, b)| Ok((*d, State::decode(b)?))).collect()
}

pub fn reconnect(docs: usize, changed_per_200: usize) -> Result<ReconnectAll> {
    let mut rng = Rng(SEED ^ 0xc0ffee);
    let group = SecretKey::from_seed(&[1; 32]).public();
    let (ka, kb) = (
        SecretKey::from_seed(&[10; 32]),
        SecretKey::from_seed(&[11; 32]),
    );
    let writers = vec![ka.public(), kb.public()];
    let ids: Vec<DocId> = (0..docs)
        .map(|_| DocId::from_bytes(rng.bytes32()))
        .collect();
    let mut sides = [&ka, &kb].map(|key| Side {
        key: key.clone(),
        docs: ids
            .iter()
            .map(|d| {
                (
                    *d,
                    groundwork_protocol::edit::new_doc().with_actor(actor_id(&key.public())),
                )
            })
            .collect(),
        store: MemStore {
            writers: writers.clone(),
            ..MemStore::default()
        },
    });
    // Each document is written by one side (alternately), in 1 to 5 edits.
    for (i, id) in ids.iter().enumerate() {
        for _ in 0..1 + rng.below(5) {
            sides[i % 2].edit(id, &mut rng)?;
        }
    }
    let [mut a, mut b] = sides;
    // The first session, from nothing.
    let none = BTreeSet::new();
    let (first_sync, sa, sb) = session_reconnect(
        group,
        &mut a,
        &mut b,
        (&BTreeMap::new(), &BTreeMap::new()),
        &none,
    )?;
    ensure!(a.heads() == b.heads(), "the first sync did not converge");
    // What the node stores at the end of a session.
    let persisted = (encode_states(&sa), encode_states(&sb));
    let persisted_state_bytes = persisted.0.values().map(|v| v.len() as u64).sum::<u64>();
    let decoded = (decode_states(&persisted.0)?, decode_states(&persisted.1)?);

    let mut rows = Vec::new();
    let ten_percent = (docs * changed_per_200).div_ceil(200);
    let mut counts = vec![0, 1, ten_percent];
    counts.dedup();
    for changed in counts {
        // The same offline edits for both ways of reconnecting.
        let mut a0 = a.clone();
        let b0 = b.clone();
        let mut pick = Rng(SEED ^ changed as u64);
        let mut order = ids.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, pick.below(i + 1));
        }
        let touched: BTreeSet<DocId> = order.into_iter().take(changed).collect();
        for d in &touched {
            a0.edit(d, &mut pick)?;
        }
        let unchanged: BTreeSet<DocId> = ids
            .iter()
            .copied()
            .filter(|d| !touched.contains(d))
            .collect();

        let (mut a1, mut b1) = (a0.clone(), b0.clone());
        let (node, _, _) = session_reconnect(
            group,
            &mut a1,
            &mut b1,
            (&decoded.0, &decoded.1),
            &unchanged,
        )?;
        ensure!(a1.heads() == b1.heads(), "the reconnect did not converge");

        let (mut a2, mut b2) = (a0.clone(), b0.clone());
        let (plain, plain_parallel_trips) =
            plain_reconnect(&mut a2, &mut b2, (&persisted.0, &persisted.1), &unchanged)?;
        ensure!(a2.heads() == b2.heads(), "plain sync did not converge");
        rows.push(Reconnect {
            changed,
            node,
            plain,
            plain_parallel_trips,
        });
    }
    Ok(ReconnectAll {
        docs,
        first_sync,
        rows,
        persisted_state_bytes,
    })
}
