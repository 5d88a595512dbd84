//! Random and sample worlds for the trust rules' tests: a group's device
//! history, other groups with cards, links and requests.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::{Links, View};
use crate::card::{GroupCard, GroupKind, SignedCard};
use crate::date::Date;
use crate::keys::{DeviceId, GroupId, SecretKey};
use crate::schema::{DeviceEntry, Devices, Role};

/// A key from a small seed.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// One device of the own group, as a generator describes it.
#[derive(Clone, Debug)]
pub struct Dev {
    /// Its seed.
    pub seed: u8,
    /// Its role.
    pub role: Role,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Another group: its key seed, kind, and writer seeds.
#[derive(Clone, Debug)]
pub struct Other {
    /// Its group key seed.
    pub seed: u8,
    /// What it is.
    pub kind: GroupKind,
    /// Seeds of the devices its card lists as writers (the first is a steward).
    pub writers: Vec<u8>,
    /// Whether this node is linked with it.
    pub linked: bool,
    /// Whether this node holds its card.
    pub carded: bool,
}

/// Everything a view is made from.
#[derive(Clone, Debug)]
pub struct World {
    /// This group's kind.
    pub own_kind: GroupKind,
    /// This group's devices; the first is this device.
    pub devs: Vec<Dev>,
    /// Other groups.
    pub others: Vec<Other>,
    /// Seeds of devices asked to link with (and the index of their group in `others`).
    pub requested: Vec<(u8, usize)>,
    /// The seed of the inviter, if this device has not got its devices document yet.
    pub inviter: Option<u8>,
    /// Everything a view borrows, built once.
    built: Built,
    /// The sample's named devices (see [`World::sample`]).
    pub devices: [DeviceId; 7],
}

#[derive(Clone, Debug)]
struct Built {
    devices: Devices,
    cards: BTreeMap<GroupId, SignedCard>,
    links: Links,
}

/// The own group's id.
pub fn own() -> GroupId {
    key(1).public()
}

impl World {
    fn build(
        own_kind: GroupKind,
        devs: Vec<Dev>,
        others: Vec<Other>,
        requested: Vec<(u8, usize)>,
        inviter: Option<u8>,
    ) -> World {
        let day = Date::new(2020, 1, 1).expect("date");
        let mut devices = Devices::default();
        for d in &devs {
            devices.devices.insert(
                key(d.seed).public().to_string(),
                DeviceEntry {
                    role: d.role,
                    label: format!("device {}", d.seed),
                    added_by: key(devs[0].seed).public(),
                    added: day,
                    revoked: d.revoked.then_some(day),
                    cut: Default::default(),
                },
            );
        }
        let mut cards = BTreeMap::new();
        let mut links = Links::default();
        for o in &others {
            let gk = key(o.seed);
            let writers: Vec<DeviceId> = o.writers.iter().map(|w| key(*w).public()).collect();
            if o.carded {
                let card = GroupCard {
                    group: gk.public(),
                    seq: 1,
                    name: format!("group {}", o.seed),
                    area: None,
                    kind: o.kind,
                    write_keys: writers.clone(),
                    stewards: writers.iter().take(1).copied().collect(),
                };
                cards.insert(gk.public(), card.sign(&gk).expect("sign"));
            }
            if o.linked {
                links
                    .linked
                    .insert(gk.public(), writers.iter().take(1).copied().collect());
            }
        }
        for (seed, i) in &requested {
            if let Some(o) = others.get(*i) {
                links
                    .requested
                    .insert(key(*seed).public(), key(o.seed).public());
            }
        }
        let id = |s: u8| key(s).public();
        World {
            own_kind,
            devs,
            others,
            requested,
            inviter,
            built: Built {
                devices,
                cards,
                links,
            },
            devices: [id(10), id(11), id(12), id(13), id(40), id(99), id(50)],
        }
    }

    /// A fixed world: this steward (10), an organiser (11), a member (12),
    /// a revoked organiser (13); a linked group (seed 30) whose writer is
    /// 40; a stranger 99; a requested device 50 of group 31; and a national
    /// body (seed 32, writer 41) this group is linked with.
    pub fn sample() -> World {
        let dev = |seed, role, revoked| Dev {
            seed,
            role,
            revoked,
        };
        World::build(
            GroupKind::LocalOrganisingGroup,
            vec![
                dev(10, Role::Steward, false),
                dev(11, Role::Organiser, false),
                dev(12, Role::Member, false),
                dev(13, Role::Organiser, true),
            ],
            vec![
                Other {
                    seed: 30,
                    kind: GroupKind::SocialActionHub,
                    writers: vec![40],
                    linked: true,
                    carded: true,
                },
                Other {
                    seed: 31,
                    kind: GroupKind::LocalOrganisingGroup,
                    writers: vec![50],
                    linked: false,
                    carded: true,
                },
                Other {
                    seed: 32,
                    kind: GroupKind::National,
                    writers: vec![41],
                    linked: true,
                    carded: true,
                },
            ],
            vec![(50, 1)],
            None,
        )
    }

    /// The view of this world from its first device.
    pub fn view(&self) -> View<'_> {
        View {
            me: key(self.devs[0].seed).public(),
            own: own(),
            own_kind: self.own_kind,
            devices: &self.built.devices,
            cards: &self.built.cards,
            links: &self.built.links,
            inviter: self.inviter.map(|s| key(s).public()),
        }
    }

    /// Every device any part of the world names, and a stranger.
    pub fn everyone(&self) -> BTreeSet<DeviceId> {
        let mut all: BTreeSet<DeviceId> = self.devs.iter().map(|d| key(d.seed).public()).collect();
        for o in &self.others {
            all.extend(o.writers.iter().map(|w| key(*w).public()));
        }
        all.extend(self.requested.iter().map(|(s, _)| key(*s).public()));
        all.extend(self.inviter.map(|s| key(s).public()));
        all.insert(key(99).public());
        all
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Steward),
        Just(Role::Organiser),
        Just(Role::Member)
    ]
}

fn kind() -> impl Strategy<Value = GroupKind> {
    prop_oneof![
        Just(GroupKind::LocalOrganisingGroup),
        Just(GroupKind::SocialActionHub),
        Just(GroupKind::National)
    ]
}

/// A random world: up to six own devices (seeds 10..), up to four other
/// groups (seeds 30..) with writers (seeds 40..), some linked, some with
/// cards; requests and an inviter drawn from the same seeds, so roles
/// overlap the way a hostile world would make them.
pub fn world() -> impl Strategy<Value = World> {
    let devs = proptest::collection::vec((role(), any::<bool>()), 1..6).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (role, revoked))| Dev {
                seed: 10 + i as u8,
                role,
                // This device itself is active in its own world.
                revoked: i > 0 && revoked,
            })
            .collect::<Vec<_>>()
    });
    let others = proptest::collection::vec(
        (
            kind(),
            proptest::collection::vec(10u8..48, 1..4),
            any::<bool>(),
            any::<bool>(),
        ),
        0..4,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (kind, writers, linked, carded))| Other {
                seed: 30 + i as u8,
                kind,
                writers,
                linked,
                carded,
            })
            .collect::<Vec<_>>()
    });
    (
        kind(),
        devs,
        others,
        proptest::collection::vec((40u8..60, 0usize..4), 0..3),
        proptest::option::of(10u8..20),
    )
        .prop_map(|(own_kind, devs, others, requested, inviter)| {
            World::build(own_kind, devs, others, requested, inviter)
        })
}
