use super::*;
use crate::disclosure::Offsets;
use crate::keys::SecretKey;
use crate::records::{Exact, GROWTH_MONTHS};

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

/// A group of `members`, all joined in the summary's month, a third
/// trained on Listening Skills, with "buses" raised in 7 conversations.
fn summary(seed: u8, as_of: &str, members: u64) -> MembershipSummary {
    let mut joined = [0; GROWTH_MONTHS];
    joined[GROWTH_MONTHS - 1] = members;
    let trained = members / 3;
    let mut trained_by_month = [0; GROWTH_MONTHS];
    trained_by_month[GROWTH_MONTHS - 1] = trained;
    let exact = Exact {
        members,
        by_kind: [
            members / 4,
            members / 2,
            members - members / 4 - members / 2,
        ],
        joined: (0, joined),
        trained,
        trained_by_month: (0, trained_by_month),
        by_course: [("listening-skills".to_owned(), trained)].into(),
        conversations: 7,
        themes: [("buses".to_owned(), 7)].into(),
        meetups: 2,
        formed: Some(2019),
    };
    MembershipSummary::publish(gid(seed), &exact, day(as_of), &Offsets::none())
}

fn latest(s: impl IntoIterator<Item = MembershipSummary>) -> BTreeMap<GroupId, MembershipSummary> {
    s.into_iter().map(|s| (s.group, s)).collect()
}

#[test]
fn every_count_of_people_is_a_sum_of_published_multiples_of_five() {
    let listed = [
        listed(1, "Alpha", "Bristol", GroupKind::SocialActionHub),
        listed(2, "Beta", "Bristol", GroupKind::LocalOrganisingGroup),
        listed(3, "Gamma", "Luton", GroupKind::LocalOrganisingGroup),
        listed(4, "Quiet", "Luton", GroupKind::LocalOrganisingGroup),
        listed(9, "Community Organisers", "England", GroupKind::National),
    ];
    let latest = latest([
        summary(1, "2026-11-01", 30),
        summary(2, "2026-11-02", 3),
        summary(3, "2026-11-03", 21),
        // Not in the directory: no card, so it is not counted.
        summary(7, "2026-11-03", 50),
    ]);
    let r = build(Some(gid(9)), &listed, &latest);
    assert_eq!(
        (r.groups, r.affiliated, r.reporting, r.established),
        (4, 2, 3, 2)
    );
    assert_eq!(
        r.group_kinds,
        GroupKinds {
            local_organising_groups: 3,
            social_action_hubs: 1
        }
    );
    // 30 + 3 (published as 5) + 21 (published as 20).
    assert_eq!(r.totals.members, 55);
    let beta = r.by_group.iter().find(|g| g.name == "Beta").expect("Beta");
    assert_eq!(beta.figures.as_ref().map(|f| f.members), Some(5));
    let quiet = r
        .by_group
        .iter()
        .find(|g| g.name == "Quiet")
        .expect("Quiet");
    assert_eq!((quiet.figures.as_ref(), quiet.as_of), (None, None));
    assert!(r.by_group.iter().all(|g| g.kind != GroupKind::National));
    let bristol = r
        .by_area
        .iter()
        .find(|a| a.area.as_deref() == Some("Bristol"))
        .expect("Bristol");
    assert_eq!((bristol.groups, bristol.totals.members), (2, 35));
    assert_eq!(
        r.formed_by_year,
        [YearRow {
            year: 2019,
            groups: 3
        }]
    );
    let buses = &r.themes[0];
    assert_eq!((buses.theme.as_str(), buses.groups), ("buses", 3));
    assert_eq!(buses.conversations, 15, "7 rounds to 5, three times");
    let listening = r
        .trained_by_course
        .iter()
        .find(|c| c.course == "listening-skills")
        .expect("course");
    // Alpha's 10, Beta's 1 (rounds to 0), Gamma's 7 (rounds to 5).
    assert_eq!(listening.trained, 15);
    assert_eq!(r.trained_by_course.len(), Course::KNOWN.len());
    // Every count of people in the report, JSON included, is a multiple of 5.
    let json = serde_json::to_value(&r).expect("json");
    let mut people = Vec::new();
    collect_people(&json, "", &mut people);
    assert!(!people.is_empty());
    for (path, n) in people {
        assert_eq!(n % 5, 0, "{path} = {n}");
    }
}

/// Every number in `v` whose key names a count of people.
fn collect_people(v: &serde_json::Value, key: &str, out: &mut Vec<(String, u64)>) {
    const PEOPLE: [&str; 8] = [
        "members",
        "professional",
        "activist",
        "observer",
        "trained",
        "conversations",
        "meetups",
        "joined",
    ];
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                collect_people(v, k, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_people(v, key, out)),
        serde_json::Value::Number(n) if PEOPLE.contains(&key) => {
            out.push((key.to_owned(), n.as_u64().unwrap_or(1)));
        }
        _ => {}
    }
}

#[test]
fn growth_reads_each_group_s_series_at_each_of_the_last_24_months() {
    let listed = [
        listed(1, "Alpha", "Bristol", GroupKind::SocialActionHub),
        listed(2, "Beta", "Luton", GroupKind::LocalOrganisingGroup),
    ];
    // Alpha: 10 joined before its series, 10 in its last month (Nov).
    let mut joined = [0; GROWTH_MONTHS];
    joined[GROWTH_MONTHS - 1] = 10;
    let alpha = MembershipSummary::publish(
        gid(1),
        &Exact {
            members: 20,
            by_kind: [0, 20, 0],
            joined: (10, joined),
            ..Exact::default()
        },
        day("2026-11-20"),
        &Offsets::none(),
    );
    // Beta's summary is a month older: 15 joined in its last month (Oct).
    let mut joined = [0; GROWTH_MONTHS];
    joined[GROWTH_MONTHS - 1] = 15;
    let beta = MembershipSummary::publish(
        gid(2),
        &Exact {
            members: 15,
            by_kind: [0, 15, 0],
            joined: (0, joined),
            ..Exact::default()
        },
        day("2026-10-02"),
        &Offsets::none(),
    );
    let r = build(None, &listed, &latest([alpha, beta]));
    assert_eq!(r.growth.len(), GROWTH_MONTHS);
    let points: Vec<(String, u64)> = r
        .growth
        .iter()
        .rev()
        .take(3)
        .map(|p| (p.month.to_string(), p.members))
        .collect();
    assert_eq!(
        points,
        [
            ("2026-11".into(), 35),
            ("2026-10".into(), 25),
            ("2026-09".into(), 10),
        ]
    );
    assert_eq!(r.growth[0].month.to_string(), "2024-12");
}

#[test]
fn an_empty_network_reports_zeros_and_no_growth() {
    let r = build(None, &[], &BTreeMap::new());
    assert_eq!(r.totals, Totals::default());
    assert!(r.growth.is_empty() && r.themes.is_empty() && r.by_group.is_empty());
    assert!(r.trained_by_course.iter().all(|c| c.trained == 0));
}

#[test]
fn groups_that_gave_no_area_are_one_row_whose_area_is_null_in_json() {
    let mut nowhere = listed(5, "Nowhere", "x", GroupKind::LocalOrganisingGroup);
    nowhere.area = None;
    let listed = [
        listed(1, "Alpha", "Bristol", GroupKind::LocalOrganisingGroup),
        nowhere,
    ];
    let r = build(None, &listed, &latest([summary(5, "2026-11-01", 10)]));
    let json = serde_json::to_value(&r).expect("json");
    let areas = json["by_area"].as_array().expect("by_area");
    assert_eq!(areas.len(), 2, "{json}");
    // Every row's area is a string or null, never a stand-in such as "-".
    assert!(areas.iter().any(|a| a["area"].is_null()), "{json}");
    assert!(areas.iter().any(|a| a["area"] == "Bristol"), "{json}");
    assert!(areas.iter().all(|a| a["area"] != "-"), "{json}");
    let none = r.by_area.iter().find(|a| a.area.is_none()).expect("row");
    assert_eq!((none.label(), none.totals.members), ("-", 10));
}
