//! The simulated network's nodes as founded before the run: keys, signed
//! cards, the public documents (constitution and plan, with the demo's
//! edits, each a signed change), and each group's signed, rounded
//! membership summary.
//!
//! Everything is drawn from one seeded generator, so a seed fixes every
//! key, document and figure. The shapes follow `groundwork demo`
//! (`node/src/demo`): the same founding documents, the same kinds of plan
//! edits and the same ranges of figures, built here with the protocol's
//! schema types and signing functions.

use std::collections::{BTreeMap, HashMap};

use automerge::{AutoCommit, ChangeHash};
use groundwork_protocol::card::{GroupCard, GroupKind, SignedCard};
use groundwork_protocol::date::Date;
use groundwork_protocol::disclosure::Offsets;
use groundwork_protocol::edit;
use groundwork_protocol::ids::ShortId;
use groundwork_protocol::records::{Exact, GROWTH_MONTHS, MembershipSummary, Signed};
use groundwork_protocol::schema::{
    Action, ActionStatus, Constitution, DeviceEntry, Devices, Goal, GroupDocument, Plan, Role,
};
use groundwork_protocol::signed::{actor_id, sign_change};
use groundwork_protocol::{DeviceId, DocId, DocKind, GroupId, SecretKey};
use rand::rngs::StdRng;
use rand::{Rng, RngExt as _, SeedableRng};

use crate::SimError;

/// The day every record and document of the run is dated.
pub fn today() -> Date {
    Date::new(2026, 6, 1).expect("a valid date")
}

/// A node as founded: its keys, card, public documents and summary.
#[derive(Debug)]
pub struct Founded {
    /// The group's (or national body's) name.
    pub name: String,
    /// Local organising group, social action hub, or national.
    pub kind: GroupKind,
    /// The group key (signs the card and records).
    pub group_key: SecretKey,
    /// The node's device key (writes the documents; its id is the peer id).
    pub device_key: SecretKey,
    /// The signed card.
    pub card: SignedCard,
    /// The devices document's value: the one founding steward device.
    pub devices: Devices,
    /// Constitution and plan, with their changes' signatures.
    pub docs: BTreeMap<DocId, AutoCommit>,
    /// The signature of every change in `docs`.
    pub signatures: HashMap<ChangeHash, [u8; 64]>,
    /// The group's published summary (none for the national body).
    pub summary: Option<Signed<MembershipSummary>>,
}

impl Founded {
    /// The group id.
    pub fn group(&self) -> GroupId {
        self.group_key.public()
    }
    /// The device id.
    pub fn device(&self) -> DeviceId {
        self.device_key.public()
    }
}

/// The demo's sample groups' names, areas and kinds (`node/src/demo/sample.rs`).
const SAMPLE: [(&str, &str, GroupKind); 6] = [
    (
        "Community Organisers Birkenhead",
        "Wirral",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Latin American Parents Association",
        "London",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Moorlands Climate Action",
        "Staffordshire Moorlands",
        GroupKind::LocalOrganisingGroup,
    ),
    ("ACORN Bristol", "Bristol", GroupKind::SocialActionHub),
    (
        "The Wharton Trust",
        "Hartlepool",
        GroupKind::SocialActionHub,
    ),
    (
        "Grapevine",
        "Coventry and Warwickshire",
        GroupKind::SocialActionHub,
    ),
];

const THEMES: [&str; 6] = [
    "housing",
    "buses",
    "food poverty",
    "street lighting",
    "parks",
    "loneliness",
];

fn key(rng: &mut StdRng) -> SecretKey {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    SecretKey::from_seed(&seed)
}

/// One signed change: `f` writes to the document, and every change it
/// made is signed with `device` and its signature kept.
fn signed(
    doc: &mut AutoCommit,
    id: &DocId,
    device: &SecretKey,
    signatures: &mut HashMap<ChangeHash, [u8; 64]>,
    f: impl FnOnce(&mut AutoCommit) -> Result<(), String>,
) -> Result<(), SimError> {
    let before = doc.get_heads();
    f(doc).map_err(SimError::Fixture)?;
    doc.commit();
    for c in doc.get_changes(&before) {
        let sig = sign_change(device, &id.in_epoch(0), &c)
            .map_err(|e| SimError::Fixture(e.to_string()))?;
        signatures.insert(c.hash(), sig);
    }
    Ok(())
}

/// One signed edit of the document's typed value (`edit::update`).
fn signed_edit<T: GroupDocument>(
    doc: &mut AutoCommit,
    id: &DocId,
    device: &SecretKey,
    signatures: &mut HashMap<ChangeHash, [u8; 64]>,
    f: impl FnOnce(&mut T),
) -> Result<(), SimError> {
    signed(doc, id, device, signatures, |d| {
        edit::update(d, f).map_err(|e| e.to_string())
    })
}

/// The founding change of a document: `value` reconciled into it.
fn signed_found<T: GroupDocument>(
    doc: &mut AutoCommit,
    id: &DocId,
    device: &SecretKey,
    signatures: &mut HashMap<ChangeHash, [u8; 64]>,
    value: &T,
) -> Result<(), SimError> {
    signed(doc, id, device, signatures, |d| {
        autosurgeon::reconcile(d, value).map_err(|e| e.to_string())
    })
}

/// Founds the national body (`seed` 0) or sample group `i` (1-based),
/// with the demo's documents and, for a group, its summary.
pub fn found(rng: &mut StdRng, i: usize) -> Result<Founded, SimError> {
    let group_key = key(rng);
    let device_key = key(rng);
    let (name, area, kind) = if i == 0 {
        ("Community Organisers".to_owned(), None, GroupKind::National)
    } else {
        let (n, a, k) = SAMPLE[(i - 1) % SAMPLE.len()];
        (format!("{n} {i}"), Some(a.to_owned()), k)
    };
    let device = device_key.public();
    let mut devices = Devices::default();
    devices.devices.insert(
        device.to_string(),
        DeviceEntry {
            role: Role::Steward,
            label: "founding device".into(),
            added_by: device,
            added: today(),
            revoked: None,
            cut: BTreeMap::new(),
        },
    );
    let card = GroupCard {
        group: group_key.public(),
        seq: groundwork_protocol::records::day_seq(today(), None, rng.random()),
        name: name.clone(),
        area: area.clone(),
        kind,
        write_keys: GroupCard::write_keys_from(&devices),
        stewards: GroupCard::stewards_from(&devices),
    }
    .sign(&group_key)
    .map_err(|e| SimError::Fixture(e.to_string()))?;
    let mut signatures = HashMap::new();
    let group = group_key.public();
    let c_id = DocId::derive(&group, DocKind::Constitution);
    let p_id = DocId::derive(&group, DocKind::Plan);
    let mut constitution = edit::new_doc().with_actor(actor_id(&device));
    let mut plan = edit::new_doc().with_actor(actor_id(&device));
    let founding = Constitution {
        body: autosurgeon::Text::with_value(Constitution::template(&name, kind)),
        version: 1,
        ..Constitution::default()
    };
    signed_found(
        &mut constitution,
        &c_id,
        &device_key,
        &mut signatures,
        &founding,
    )?;
    signed_found(
        &mut plan,
        &p_id,
        &device_key,
        &mut signatures,
        &Plan::default(),
    )?;
    let mut summary = None;
    if i > 0 {
        let area = area.as_deref().unwrap_or("our area");
        let adopted = today().add_days(-rng.random_range(30..900));
        demo_edits(
            rng,
            area,
            adopted,
            (&mut constitution, &c_id),
            (&mut plan, &p_id),
            &device_key,
            &mut signatures,
        )?;
        let exact = exact_figures(rng, adopted);
        let s = MembershipSummary::publish(group, &exact, today(), &Offsets::of_group(&group_key))
            .publish_after(None, rng.random())
            .ok_or_else(|| SimError::Fixture("no summary to publish".into()))?;
        summary = Some(Signed::sign(s, &group_key).map_err(|e| SimError::Fixture(e.to_string()))?);
    }
    Ok(Founded {
        name,
        kind,
        group_key,
        device_key,
        card,
        devices,
        docs: [(c_id, constitution), (p_id, plan)].into(),
        signatures,
        summary,
    })
}

/// The demo's edits (`node/src/demo/mod.rs`): a vision, three goals,
/// three actions, the adoption date, and a few batches of conversations,
/// each its own signed change.
fn demo_edits(
    rng: &mut StdRng,
    area: &str,
    adopted: Date,
    (constitution, c_id): (&mut AutoCommit, &DocId),
    (plan, p_id): (&mut AutoCommit, &DocId),
    device: &SecretKey,
    sigs: &mut HashMap<ChangeHash, [u8; 64]>,
) -> Result<(), SimError> {
    let vision =
        format!("A {area} where everyone is listened to and people act together on what matters.");
    signed_edit(plan, p_id, device, sigs, |p: &mut Plan| {
        p.vision.update(&vision)
    })?;
    for goal in [
        "Hold 100 listening conversations this year",
        "Grow to an established group of 21 or more members",
        "Run one community action chosen by members",
    ] {
        let id = ShortId::from_entropy(rng.random());
        signed_edit(plan, p_id, device, sigs, |p: &mut Plan| {
            p.goals.push(Goal {
                id,
                text: goal.to_owned(),
            })
        })?;
    }
    for (title, due) in [
        ("Book the community hall for meet-ups".to_owned(), 21),
        ("Train five members in Listening Skills".to_owned(), 75),
        (format!("Write to the council about buses in {area}"), 120),
    ] {
        let id = ShortId::from_entropy(rng.random());
        signed_edit(plan, p_id, device, sigs, |p: &mut Plan| {
            p.actions.push(Action {
                id,
                title,
                due: Some(today().add_days(due)),
                status: ActionStatus::Open,
                done_on: None,
            })
        })?;
    }
    signed_edit(constitution, c_id, device, sigs, |c: &mut Constitution| {
        c.adopted = Some(adopted);
        c.version = 2;
        c.amendments.push(groundwork_protocol::schema::Amendment {
            version: 2,
            date: today(),
            summary: format!("adopted on {adopted}"),
            by: device.public().fmt_short(),
        });
    })?;
    for _ in 0..rng.random_range(2..6) {
        let count = rng.random_range(3..40i64);
        let themes: Vec<&str> = THEMES
            .iter()
            .enumerate()
            .filter(|(k, _)| rng.random_bool(0.6 / (1.0 + *k as f64 * 0.4)))
            .map(|(_, t)| *t)
            .collect();
        signed_edit(plan, p_id, device, sigs, |p: &mut Plan| {
            p.listening.conversations_held.increment(count);
            for t in &themes {
                if !p.listening.themes.iter().any(|x| x == t) {
                    p.listening.themes.push((*t).to_owned());
                }
                p.listening
                    .theme_conversations
                    .entry((*t).to_owned())
                    .or_default()
                    .increment(count);
            }
        })?;
    }
    Ok(())
}

/// Exact figures in the demo's ranges: most groups 21 to 59 members, the
/// rest 8 to 20; about half trained; a few courses, themes and meet-ups.
fn exact_figures(rng: &mut StdRng, adopted: Date) -> Exact {
    let members: u64 = if rng.random_bool(0.75) {
        rng.random_range(21..60)
    } else {
        rng.random_range(8..21)
    };
    let mut e = Exact {
        members,
        formed: Some(adopted.year()),
        meetups: rng.random_range(3..7),
        ..Exact::default()
    };
    for _ in 0..members {
        e.by_kind[rng.random_range(0..3)] += 1;
        let month = rng.random_range(0..GROWTH_MONTHS + 6);
        match month.checked_sub(6) {
            Some(m) => e.joined.1[m] += 1,
            None => e.joined.0 += 1,
        }
        if rng.random_bool(0.5) {
            e.trained += 1;
            e.trained_by_month.1[rng.random_range(0..GROWTH_MONTHS)] += 1;
            for c in ["introduction", "listening-skills", "building-power"] {
                if rng.random_bool(0.5) {
                    *e.by_course.entry(c.to_owned()).or_default() += 1;
                }
            }
        }
    }
    e.conversations = rng.random_range(10..120);
    for t in THEMES.iter().take(rng.random_range(1..5)) {
        e.themes
            .insert((*t).to_owned(), rng.random_range(1..=e.conversations));
    }
    e
}

/// Founds the national body (index 0) and `groups` groups (1..=groups).
/// Each node draws from its own generator, seeded from `seed` and its
/// index, so the nodes can be founded on every core and still come out
/// the same.
pub fn found_all(seed: u64, groups: usize) -> Result<Vec<Founded>, SimError> {
    let one = |i: usize| {
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        found(&mut rng, i)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let indices: Vec<usize> = (0..=groups).collect();
    let chunk = indices.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Founded>, SimError>> = std::thread::scope(|s| {
        let handles: Vec<_> = indices
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|i| one(*i)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SimError::Fixture("a founding thread panicked".into())))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(groups + 1);
    for p in parts {
        all.extend(p?);
    }
    Ok(all)
}
