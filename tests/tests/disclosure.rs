//! The national view cannot be differenced: a differencing attacker
//! (`groundwork_tests::disclosure`) given everything the national node
//! holds recovers no figure from 1 to 4, on the demo network and on
//! random networks. Its positive controls recover exact figures, a
//! suppressed cell from exact totals, and the small counts that rounding
//! each cell on its own would give away.

use std::collections::BTreeMap;

use groundwork_node::datadir::DataDir;
use groundwork_node::group::{Group, exact_figures, summary_of, today};
use groundwork_protocol::card::GroupKind;
use groundwork_protocol::disclosure::{Offsets, Rounded};
use groundwork_protocol::records::{Exact, GROWTH_MONTHS, MembershipSummary, Signed};
use groundwork_protocol::report::{Listed, NetworkReport, build};
use groundwork_protocol::schema::{
    Course, Meetup, Meetups, Member, MemberKind, MemberStatus, Plan, Roster,
};
use groundwork_protocol::{Date, SecretKey, ShortId};
use groundwork_tests::disclosure::{Attacker, Band, Shown, SummaryUnknowns, observe};
use proptest::prelude::*;

/// A report's totals, as plain numbers: members, trained,
/// conversations, meet-ups, and the three kinds.
fn totals_of(r: &NetworkReport) -> [u64; 7] {
    let t = &r.totals;
    [
        t.members,
        t.trained,
        t.conversations,
        t.meetups,
        t.by_kind.professional,
        t.by_kind.activist,
        t.by_kind.observer,
    ]
}

/// The exact totals the first format's report showed.
fn exact_totals(e: &[Exact]) -> [u64; 7] {
    let sum = |f: &dyn Fn(&Exact) -> u64| e.iter().map(f).sum();
    [
        sum(&|e| e.members),
        sum(&|e| e.trained),
        sum(&|e| e.conversations),
        sum(&|e| e.meetups),
        sum(&|e| e.by_kind[0]),
        sum(&|e| e.by_kind[1]),
        sum(&|e| e.by_kind[2]),
    ]
}

/// Adds what a report tells on top of the summaries it came from: each
/// total is the sum of its groups' figures (rounded ones: within 2 per
/// group, 4 for a kind, of the exact sum), or with `exact` (the first
/// format's report) the exact sum itself.
fn observe_report(a: &mut Attacker, totals: [u64; 7], groups: &[SummaryUnknowns], exact: bool) {
    let facts: [(u64, Vec<usize>); 4] = [
        (totals[0], groups.iter().map(|g| g.members).collect()),
        (totals[1], groups.iter().map(|g| g.trained).collect()),
        (totals[2], groups.iter().map(|g| g.conversations).collect()),
        (totals[3], groups.iter().map(|g| g.meetups).collect()),
    ];
    for (total, ids) in facts {
        let terms: Vec<(usize, i64)> = ids.iter().map(|i| (*i, 1)).collect();
        if exact {
            a.fact(terms, total as i64, total as i64);
        } else {
            // A sum of rounded figures: within 4 per group of the exact sum.
            let slack = 4 * ids.len() as i64;
            a.fact(terms, total as i64 - slack, total as i64 + slack);
        }
    }
    for (k, total) in totals[4..].iter().copied().enumerate() {
        let terms: Vec<(usize, i64)> = groups.iter().map(|g| (g.kinds[k], 1)).collect();
        if exact {
            a.fact(terms, total as i64, total as i64);
        } else {
            let slack = 4 * groups.len() as i64;
            a.fact(terms, total as i64 - slack, total as i64 + slack);
        }
    }
}

/// Every count of people in a report is a multiple of 5, so no
/// difference between two of them (or two reports) is from 1 to 4.
fn assert_rounded(r: &NetworkReport) {
    let mut all = totals_of(r).to_vec();
    all.extend(r.trained_by_course.iter().map(|c| c.trained));
    all.extend(r.themes.iter().map(|t| t.conversations));
    all.extend(r.growth.iter().flat_map(|p| [p.members, p.trained]));
    all.extend(
        r.by_area
            .iter()
            .flat_map(|a| [a.totals.members, a.totals.trained]),
    );
    for n in all {
        assert_eq!(n % 5, 0, "{n} in a report");
    }
}

fn day(s: &str) -> Date {
    s.parse().expect("date")
}

fn group_key(i: usize) -> SecretKey {
    SecretKey::from_seed(&[i as u8 + 1; 32])
}

fn gid(i: usize) -> groundwork_protocol::GroupId {
    group_key(i).public()
}

/// Group `i`'s secret rounding shifts.
fn shifts(i: usize) -> Offsets {
    Offsets::of_group(&group_key(i))
}

#[test]
fn the_attacker_recovers_exact_figures_a_differenced_cell_and_naively_rounded_cells() {
    // 1. The first format published exact figures: three groups of 3, 2
    // and 7. Everything from 1 to 4 is there for the taking.
    let today = day("2026-11-20");
    let mut a = Attacker::default();
    for (i, n) in [3u64, 2, 7].into_iter().enumerate() {
        let mut joined = [0; GROWTH_MONTHS];
        joined[20] = n;
        let e = Exact {
            members: n,
            by_kind: [n / 3, n - n / 3, 0],
            joined: (0, joined),
            ..Exact::default()
        };
        observe(
            &mut a,
            &format!("group {i}"),
            &Shown::exact(&e, today),
            Some(&e),
            Band::Exact,
            Band::Exact,
            None,
        );
    }
    assert!(a.solve() && a.truth_within_bounds());
    assert!(a.small_count() >= 5);
    assert_eq!(a.recovered_small().len(), a.small_count());

    // 2. Suppressing a group's row as "<5" while the total stays exact:
    // the total less the other rows is the suppressed count.
    let mut a = Attacker::default();
    let hidden = a.unknown("small group members".into(), 1, 4, Some(3));
    let b = a.unknown("B members".into(), 7, 7, Some(7));
    let c = a.unknown("C members".into(), 12, 12, Some(12));
    a.fact(vec![(hidden, 1), (b, 1), (c, 1)], 22, 22);
    assert!(a.solve());
    assert_eq!(a.recovered_small().len(), 1);

    // 3. Rounding every cell on its own: six members, two of each kind,
    // three joined in each of two months. Kinds 0, 0, 0 and months 5, 5
    // can only be 2 + 2 + 2 = 3 + 3.
    let mut joined = vec![0; GROWTH_MONTHS];
    joined[10] = 5;
    joined[11] = 5;
    let naive = Shown {
        as_of: today,
        members: 5,
        kinds: [0, 0, 0],
        joined: (0, joined),
        trained: 0,
        trained_by_month: (0, vec![0; GROWTH_MONTHS]),
        by_course: BTreeMap::new(),
        conversations: 0,
        themes: vec![],
        meetups: 0,
        established: false,
    };
    let mut joined = [0; GROWTH_MONTHS];
    joined[10] = 3;
    joined[11] = 3;
    let exact = Exact {
        members: 6,
        by_kind: [2, 2, 2],
        joined: (0, joined),
        ..Exact::default()
    };
    let mut a = Attacker::default();
    observe(
        &mut a,
        "six",
        &naive,
        Some(&exact),
        Band::Nearest,
        Band::Nearest,
        None,
    );
    assert!(a.solve() && a.truth_within_bounds());
    let found: Vec<&str> = a
        .recovered_small()
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(
        found,
        [
            "six professional",
            "six activist",
            "six observer",
            "six joined 2025-10",
            "six joined 2025-11"
        ]
    );
    // The same group as the summary really publishes it: nothing.
    let published = MembershipSummary::publish(gid(0), &exact, today, &shifts(0));
    let mut a = Attacker::default();
    observe(
        &mut a,
        "six",
        &Shown::summary(&published),
        Some(&exact),
        Band::Shifted,
        Band::Controlled,
        Some(("six", &shifts(0))),
    );
    assert!(a.solve() && a.truth_within_bounds());
    assert_eq!(a.small_count(), 5);
    assert!(a.recovered_small().is_empty(), "{:?}", a.recovered_small());
}

#[test]
fn no_small_figure_is_recovered_from_the_demo_network() {
    let root = tempfile::tempdir().expect("tempdir");
    let groups = groundwork_node::demo::build(root.path(), 17, |_| {}).expect("demo");
    let today = today();
    let mut a = Attacker::default();
    let mut listed = Vec::new();
    let mut latest = BTreeMap::new();
    let mut unknowns = Vec::new();
    for (i, d) in groups.iter().enumerate() {
        let g = Group::open(&DataDir::new(d.data_dir.clone())).expect("open");
        let exact = exact_figures(&g, today).expect("figures");
        let s = summary_of(&g, today).expect("summary");
        let offsets = Offsets::of_group(&g.group_key().expect("key").expect("a steward device"));
        unknowns.push(observe(
            &mut a,
            &d.name,
            &Shown::summary(&s),
            Some(&exact),
            Band::Shifted,
            Band::Controlled,
            Some((&d.name, &offsets)),
        ));
        listed.push(Listed {
            group: g.profile().id,
            name: d.name.clone(),
            area: Some(d.area.clone()),
            kind: if i % 3 == 0 {
                GroupKind::SocialActionHub
            } else {
                GroupKind::LocalOrganisingGroup
            },
            affiliated: true,
        });
        latest.insert(g.profile().id, s);
    }
    let report = build(None, &listed, &latest);
    assert_rounded(&report);
    assert_eq!(
        report.totals.members,
        latest.values().map(|s| s.members.get()).sum::<u64>(),
        "the report holds nothing but the summaries' figures"
    );
    observe_report(&mut a, totals_of(&report), &unknowns, false);
    assert!(a.solve(), "the facts are consistent");
    assert!(a.truth_within_bounds(), "the attacker's facts are sound");
    assert!(
        a.small_count() > 50,
        "the demo has small counts to find: {}",
        a.small_count()
    );
    let found = a.recovered_small();
    assert!(found.is_empty(), "recovered: {found:?}");
    // The demo's history shows at once: 24 months of growth.
    assert_eq!(report.growth.len(), GROWTH_MONTHS);
    let first = report.growth.first().map_or(0, |p| p.members);
    let last = report.growth.last().map_or(0, |p| p.members);
    assert!(first < last, "growth from {first} to {last}");
}

/// One random group: its members (kind, months ago joined, trained
/// months ago, courses), conversations by theme, meet-ups.
#[derive(Clone, Debug)]
struct RandomGroup {
    members: Vec<(u8, u32, Option<u32>, Vec<u8>)>,
    themes: Vec<(u8, u32)>,
    meetups: u32,
    area: u8,
}

fn random_group() -> impl Strategy<Value = RandomGroup> {
    let member = (
        0u8..3,
        0u32..30,
        proptest::option::of(0u32..30),
        proptest::collection::vec(0u8..11, 0..3),
    );
    (
        // Sizes from 0, with 1 to 4 common.
        prop_oneof![
            3 => proptest::collection::vec(member.clone(), 0..5),
            2 => proptest::collection::vec(member, 5..30),
        ],
        proptest::collection::vec((0u8..6, 0u32..12), 0..4),
        0u32..9,
        0u8..4,
    )
        .prop_map(|(members, themes, meetups, area)| RandomGroup {
            members,
            themes,
            meetups,
            area,
        })
}

const THEMES: [&str; 6] = ["buses", "housing", "parks", "youth", "food", "lighting"];

fn documents(g: &RandomGroup, today: Date) -> (Roster, Meetups, Plan) {
    let mut roster = Roster::default();
    for (i, (kind, joined, trained, courses)) in g.members.iter().enumerate() {
        let courses: Vec<Course> = courses
            .iter()
            .map(|c| Course::KNOWN[*c as usize].clone())
            .collect();
        roster.members.insert(
            format!("m{i:05}"),
            Member {
                name: format!("Member {i}"),
                kind: [
                    MemberKind::Professional,
                    MemberKind::Activist,
                    MemberKind::Observer,
                ][*kind as usize],
                joined: today.add_days(-i64::from(*joined) * 30),
                status: MemberStatus::Active,
                principles_agreed: None,
                trained: (!courses.is_empty())
                    .then(|| trained.map(|t| today.add_days(-i64::from(t) * 30)))
                    .flatten(),
                courses,
            },
        );
    }
    let mut plan = Plan::default();
    for (t, n) in &g.themes {
        let theme = THEMES[*t as usize].to_owned();
        plan.listening.conversations_held.increment(i64::from(*n));
        if !plan.listening.themes.contains(&theme) {
            plan.listening.themes.push(theme.clone());
        }
        plan.listening
            .theme_conversations
            .entry(theme)
            .or_default()
            .increment(i64::from(*n));
    }
    let mut meetups = Meetups::default();
    for k in 0..g.meetups {
        meetups.meetups.push(Meetup {
            id: ShortId::from_entropy(k),
            date: today.add_days(-i64::from(k) * 20),
            place: "Hall".into(),
            agenda: Default::default(),
            notes: Default::default(),
            attendance: 0,
            actions: vec![],
        });
    }
    (roster, meetups, plan)
}

/// Observes one report of `network` on `today`: every group's summary
/// and the report's totals. Returns the report and each group's unknowns.
fn observe_network(
    a: &mut Attacker,
    network: &[RandomGroup],
    today: Date,
    label: &str,
    exact_control: bool,
) -> (NetworkReport, Vec<SummaryUnknowns>) {
    let mut listed = Vec::new();
    let mut latest = BTreeMap::new();
    let mut unknowns = Vec::new();
    let mut exacts = Vec::new();
    for (i, g) in network.iter().enumerate() {
        let (roster, meetups, plan) = documents(g, today);
        let exact = Exact::from_documents(&roster, &meetups, &plan, None, today);
        exacts.push(exact.clone());
        let s = MembershipSummary::publish(gid(i), &exact, today, &shifts(i));
        // Whatever the figures, the group can sign what it publishes (a
        // summary its own check refused would never leave the group).
        let seq = groundwork_protocol::records::day_seq(today, None, i as u64);
        let signed = Signed::sign(MembershipSummary { seq, ..s.clone() }, &group_key(i));
        assert!(signed.is_ok(), "{signed:?} for {exact:?}");
        let name = format!("{label} g{i}");
        let shown = if exact_control {
            Shown::exact(&exact, today)
        } else {
            Shown::summary(&s)
        };
        let (single, cells) = if exact_control {
            (Band::Exact, Band::Exact)
        } else {
            (Band::Shifted, Band::Controlled)
        };
        let offsets = shifts(i);
        let group = format!("g{i}");
        let shared = (!exact_control).then_some((group.as_str(), &offsets));
        unknowns.push(observe(
            a,
            &name,
            &shown,
            Some(&exact),
            single,
            cells,
            shared,
        ));
        listed.push(Listed {
            group: gid(i),
            name,
            area: Some(format!("area {}", g.area)),
            kind: GroupKind::LocalOrganisingGroup,
            affiliated: true,
        });
        latest.insert(gid(i), s);
    }
    let r = build(None, &listed, &latest);
    let totals = if exact_control {
        exact_totals(&exacts)
    } else {
        totals_of(&r)
    };
    observe_report(a, totals, &unknowns, exact_control);
    (r, unknowns)
}

/// What the attacker is assumed to know of the change between the two
/// reports: the first group gained or lost one member, every other group's
/// figures stayed as they were.
fn link_reports(a: &mut Attacker, first: &[SummaryUnknowns], second: &[SummaryUnknowns]) {
    for (i, (f, s)) in first.iter().zip(second).enumerate() {
        if i == 0 {
            a.fact(vec![(s.members, 1), (f.members, -1)], -1, 1);
        } else {
            for (x, y) in [
                (f.members, s.members),
                (f.trained, s.trained),
                (f.conversations, s.conversations),
                (f.meetups, s.meetups),
            ] {
                a.fact(vec![(x, 1), (y, -1)], 0, 0);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_small_figure_is_recovered_from_random_networks_and_two_reports(
        network in proptest::collection::vec(random_group(), 1..6),
        change in (0u8..3, 0u32..30),
        remove in any::<bool>(),
    ) {
        let today = day("2026-11-20");
        // The second report: a day later, the first group has one member
        // more (or one fewer).
        let mut later = network.clone();
        if remove && !later[0].members.is_empty() {
            later[0].members.pop();
        } else {
            later[0].members.push((change.0, change.1, None, vec![]));
        }
        let mut a = Attacker::default();
        let (first, u1) = observe_network(&mut a, &network, today, "first", false);
        let (second, u2) = observe_network(&mut a, &later, today.add_days(1), "second", false);
        link_reports(&mut a, &u1, &u2);
        assert_rounded(&first);
        assert_rounded(&second);
        prop_assert!(a.solve());
        prop_assert!(a.truth_within_bounds());
        let found = a.recovered_small();
        prop_assert!(found.is_empty(), "recovered: {:?}", found);

        // The positive control: the same networks with exact figures give
        // every small count away.
        let mut control = Attacker::default();
        let (_, c1) = observe_network(&mut control, &network, today, "first", true);
        let (_, c2) = observe_network(&mut control, &later, today.add_days(1), "second", true);
        link_reports(&mut control, &c1, &c2);
        prop_assert!(control.solve());
        prop_assert_eq!(control.recovered_small().len(), control.small_count());
    }
}

/// A reader who watches a small group's summaries as it grows one member
/// at a time from none, and knows that is how it grows, sees where the
/// published members first turn from 0 to 5. Without the secret shift
/// that is always at 3 members: a small count recovered from two
/// summaries. With it, the turn comes at a count from 1 to 5 that differs
/// from group to group and that no reader outside the group can know.
#[test]
fn watching_a_group_grow_one_member_at_a_time_does_not_tell_when_it_reached_a_small_count() {
    let today = day("2026-11-20");
    // The members count at which group `i`'s published members first
    // changed, adding one member at a time.
    let first_change = |i: usize, offsets: &Offsets| {
        (0..=12u64).find(|n| {
            let exact = Exact {
                members: *n,
                by_kind: [0, *n, 0],
                joined: (*n, [0; GROWTH_MONTHS]),
                ..Exact::default()
            };
            MembershipSummary::publish(gid(i), &exact, today, offsets)
                .members
                .get()
                != 0
        })
    };
    // The control: plain rounding turns at 3 for every group.
    let plain: std::collections::BTreeSet<Option<u64>> =
        (0..40).map(|i| first_change(i, &Offsets::none())).collect();
    assert_eq!(plain, [Some(3)].into());
    // With each group's shifts it turns anywhere from 1 to 5.
    let shifted: std::collections::BTreeSet<Option<u64>> =
        (0..40).map(|i| first_change(i, &shifts(i))).collect();
    assert_eq!(shifted, (1..=5).map(Some).collect());
}

/// Two reports either side of one new member, 2 then 3: the published
/// members turn from 0 to 5. A reader who knows one member joined and that
/// rounding has no shift pins both counts; one who knows only that each
/// group has a secret shift pins neither.
#[test]
fn two_reports_around_one_new_member_give_nothing_away() {
    let today = day("2026-11-20");
    let exact = |n: u64| Exact {
        members: n,
        by_kind: [0, n, 0],
        joined: (n, [0; GROWTH_MONTHS]),
        ..Exact::default()
    };
    // A group whose members' shift is 0 turns at the same place as plain
    // rounding, 2 to 3.
    let g = (0..40)
        .find(|i| shifts(*i).of("people") == 0)
        .expect("a group whose turn is at 3");
    let watch = |offsets: &Offsets, single: Band, shared: bool| {
        let mut a = Attacker::default();
        let mut ids = Vec::new();
        for (label, n) in [("before", 2), ("after", 3)] {
            let s = MembershipSummary::publish(gid(g), &exact(n), today, offsets);
            let group = shared.then_some(("g", offsets));
            ids.push(observe(
                &mut a,
                label,
                &Shown::summary(&s),
                Some(&exact(n)),
                single,
                Band::Controlled,
                group,
            ));
        }
        a.fact(vec![(ids[1].members, 1), (ids[0].members, -1)], 1, 1);
        assert!(a.solve() && a.truth_within_bounds());
        a.recovered_small()
            .iter()
            .map(|u| u.name.clone())
            .filter(|n| n.ends_with(" members"))
            .collect::<Vec<_>>()
    };
    // The control: no shift, and the reader knows it.
    assert_eq!(
        watch(&Offsets::none(), Band::Nearest, false),
        ["before members", "after members"]
    );
    // The real method: the reader does not know the shift, and pins
    // nothing.
    assert!(watch(&shifts(g), Band::Shifted, true).is_empty());
}

#[test]
fn a_rounded_figure_is_never_one_to_four() {
    for n in 0..200u64 {
        let r = Rounded::nearest(n).get();
        assert!(r.is_multiple_of(5) && !(1..=4).contains(&r));
    }
}
