use super::*;
use crate::card::GroupKind;
use crate::keys::SecretKey;

fn gid(seed: u8) -> GroupId {
    SecretKey::from_seed(&[seed; 32]).public()
}

fn day(s: &str) -> Date {
    s.parse().expect("test date")
}

fn listed(seed: u8, name: &str, area: &str, kind: GroupKind) -> Listed {
    Listed {
        group: gid(seed),
        name: name.into(),
        area: Some(area.into()),
        kind,
        affiliated: seed % 2 == 1,
    }
}

fn summary(seed: u8, seq: u64, as_of: &str, members: u64) -> MembershipSummary {
    MembershipSummary {
        group: gid(seed),
        seq,
        as_of: day(as_of),
        members,
        by_kind: ByKind {
            professional: members / 4,
            activist: members / 2,
            observer: members - members / 4 - members / 2,
        },
        new_last_30_days: members / 10,
        trained: members / 3,
        meetups_last_90_days: 2,
        conversations: 7,
        established: members >= 21,
    }
}

#[test]
fn cells_hide_one_to_four_and_keep_the_rest() {
    let shown: Vec<String> = [0, 1, 4, 5, 21].map(|n| Cell::of(n).to_string()).into();
    assert_eq!(shown, ["0", "<5", "<5", "5", "21"]);
    let json = serde_json::to_string(&[Cell::of(0), Cell::of(3), Cell::of(9)]).expect("json");
    assert_eq!(json, r#"[0,"<5",9]"#);
    let back: Vec<Cell> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, [Cell::Count(0), Cell::UnderFive, Cell::Count(9)]);
    // A small count can never be smuggled in as a cell.
    assert!(serde_json::from_str::<Cell>("3").is_err());
    assert!(serde_json::from_str::<Cell>(r#""3""#).is_err());
}

#[test]
fn totals_are_exact_while_each_group_and_area_row_suppresses_small_counts() {
    let listed = [
        listed(1, "Alpha", "Bristol", GroupKind::SocialActionHub),
        listed(2, "Beta", "Bristol", GroupKind::LocalOrganisingGroup),
        listed(3, "Gamma", "Luton", GroupKind::LocalOrganisingGroup),
        listed(4, "Quiet", "Luton", GroupKind::LocalOrganisingGroup),
        listed(9, "Community Organisers", "England", GroupKind::National),
    ];
    let latest: BTreeMap<GroupId, MembershipSummary> = [
        summary(1, 2, "2026-11-01", 30),
        summary(2, 1, "2026-11-02", 3),
        summary(3, 1, "2026-11-03", 21),
        // Not in the directory: no card, so it is not counted.
        summary(7, 1, "2026-11-03", 50),
    ]
    .into_iter()
    .map(|s| (s.group, s))
    .collect();
    let r = build(Some(gid(9)), &listed, &latest, &[]);
    assert_eq!(
        (r.groups, r.affiliated, r.reporting, r.established),
        (4, 2, 3, 2)
    );
    assert_eq!(r.totals.members, 54, "exact, including the group of 3");
    // 30 / 4 + 3 / 4 + 21 / 4: each group's quarter, summed exactly.
    assert_eq!(r.totals.by_kind.professional, 12);
    let beta = r.by_group.iter().find(|g| g.name == "Beta").expect("Beta");
    assert_eq!(beta.members, Some(Cell::UnderFive));
    assert_eq!(beta.trained, Some(Cell::UnderFive));
    assert_eq!(beta.by_kind.map(|k| k.professional), Some(Cell::Count(0)));
    let quiet = r
        .by_group
        .iter()
        .find(|g| g.name == "Quiet")
        .expect("Quiet");
    assert_eq!((quiet.members, quiet.as_of), (None, None));
    assert!(r.by_group.iter().all(|g| g.kind != GroupKind::National));
    let bristol = r
        .by_area
        .iter()
        .find(|a| a.area == "Bristol")
        .expect("Bristol");
    assert_eq!((bristol.groups, bristol.members), (2, Cell::Count(33)));
    let luton = r.by_area.iter().find(|a| a.area == "Luton").expect("Luton");
    assert_eq!((luton.groups, luton.established), (2, 1));
    assert_eq!(luton.meetups_last_90_days, Cell::UnderFive);
    let json = serde_json::to_string(&r).expect("json");
    assert!(json.contains(r#""members":"<5""#), "{json}");
}

#[test]
fn growth_counts_each_group_at_its_newest_summary_on_each_day() {
    let listed = [
        listed(1, "Alpha", "Bristol", GroupKind::SocialActionHub),
        listed(2, "Beta", "Luton", GroupKind::LocalOrganisingGroup),
    ];
    let history = [
        summary(1, 1, "2026-09-01", 10),
        summary(1, 2, "2026-09-01", 12),
        summary(2, 1, "2026-10-01", 22),
        summary(1, 3, "2026-11-01", 25),
    ];
    let latest: BTreeMap<GroupId, MembershipSummary> = [
        summary(1, 3, "2026-11-01", 25),
        summary(2, 1, "2026-10-01", 22),
    ]
    .into_iter()
    .map(|s| (s.group, s))
    .collect();
    let r = build(None, &listed, &latest, &history);
    let points: Vec<(String, u64, u64, u64)> = r
        .growth
        .iter()
        .map(|p| (p.date.to_string(), p.groups, p.members, p.established))
        .collect();
    assert_eq!(
        points,
        [
            ("2026-09-01".into(), 1, 12, 0),
            ("2026-10-01".into(), 2, 34, 1),
            ("2026-11-01".into(), 2, 47, 2),
        ]
    );
}
