use std::collections::BTreeMap;

use groundwork_protocol::SecretKey;
use groundwork_protocol::card::GroupKind;
use groundwork_protocol::records::{Exact, GROWTH_MONTHS, MembershipSummary};
use groundwork_protocol::report::{Listed, NetworkReport, build};

use super::*;

fn sample(name: &str) -> NetworkReport {
    let today: groundwork_protocol::Date = "2026-11-20".parse().expect("date");
    let mut listed = Vec::new();
    let mut latest = BTreeMap::new();
    for (i, (n, area, members)) in [
        (name, "Bristol", 33u64),
        ("Rotherfed", "Rotherham", 12),
        ("Grapevine", "Coventry", 3),
    ]
    .into_iter()
    .enumerate()
    {
        let group = SecretKey::from_seed(&[i as u8 + 1; 32]).public();
        listed.push(Listed {
            group,
            name: n.to_owned(),
            area: Some(area.to_owned()),
            kind: GroupKind::LocalOrganisingGroup,
            affiliated: true,
        });
        let mut joined = [0; GROWTH_MONTHS];
        joined[i * 5] = members;
        let exact = Exact {
            members,
            by_kind: [members / 3, members - members / 3, 0],
            joined: (0, joined),
            trained: members / 2,
            trained_by_month: (members / 2, [0; GROWTH_MONTHS]),
            by_course: [("introduction".to_owned(), members / 2)].into(),
            conversations: 40 + i as u64,
            themes: [("buses".to_owned(), 22), ("damp | housing".to_owned(), 9)].into(),
            meetups: 6,
            formed: Some(2018 + i as i32),
        };
        let offsets = groundwork_protocol::disclosure::Offsets::none();
        latest.insert(
            group,
            MembershipSummary::publish(group, &exact, today, &offsets),
        );
    }
    build(None, &listed, &latest)
}

#[test]
fn the_csv_reads_back_to_the_same_figures() {
    let r = sample("ACORN Bristol");
    let text = csv(&r).expect("csv");
    let mut back: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["section", "name", "measure", "value"]
    );
    for row in reader.records() {
        let row = row.expect("row");
        let value: u64 = row[3].parse().expect("a count");
        let key = (row[0].to_owned(), row[1].to_owned(), row[2].to_owned());
        assert!(back.insert(key, value).is_none(), "one row per figure");
    }
    let get = |s: &str, n: &str, m: &str| back.get(&(s.into(), n.into(), m.into())).copied();
    assert_eq!(get("totals", "", "members"), Some(r.totals.members));
    assert_eq!(get("totals", "", "members"), Some(35 + 10 + 5));
    assert_eq!(
        get("totals", "", "activist"),
        Some(r.totals.by_kind.activist)
    );
    for c in &r.trained_by_course {
        assert_eq!(get("course", &c.title, "trained"), Some(c.trained));
    }
    for t in &r.themes {
        assert_eq!(
            get("theme", &t.theme, "conversations"),
            Some(t.conversations)
        );
        assert_eq!(get("theme", &t.theme, "groups"), Some(t.groups));
    }
    for p in &r.growth {
        assert_eq!(
            get("growth", &p.month.to_string(), "members"),
            Some(p.members)
        );
    }
    for a in &r.by_area {
        assert_eq!(get("area", a.label(), "members"), Some(a.totals.members));
    }
    for g in &r.by_group {
        let f = g.figures.as_ref().expect("figures");
        assert_eq!(get("group", &g.name, "trained"), Some(f.trained));
    }
    for y in &r.formed_by_year {
        assert_eq!(get("formed", &y.year.to_string(), "groups"), Some(y.groups));
    }
    assert_eq!(
        back.len(),
        headline(&r).len()
            + r.trained_by_course.len()
            + 2 * r.themes.len()
            + r.formed_by_year.len()
            + 2 * r.growth.len()
            + 6 * r.by_area.len()
            + 4 * r.by_group.len()
    );
}

#[test]
fn a_hostile_group_name_is_inert_in_every_format() {
    let name = "<script>alert(1)</script> =HYPERLINK(\"x\") | **bold** \u{1b}[31m\u{202e}";
    let r = sample(name);
    let page = html(&r);
    assert!(!page.contains("<script"), "no script element");
    assert!(page.contains("&lt;script&gt;"));
    assert!(!page.contains('\u{1b}') && !page.contains('\u{202e}'));
    let md = markdown(&r);
    assert!(
        md.contains("\\<script\\>") && md.contains("\\| \\*\\*bold"),
        "{md}"
    );
    let sheet = csv(&r).expect("csv");
    assert!(!sheet.contains(",=HYPERLINK") && !sheet.contains('\u{1b}'));
    // A name that starts like a formula gets a leading quote.
    let sheet = csv(&sample("=cmd|' /C calc'!A0")).expect("csv");
    assert!(sheet.contains("'=cmd"), "{sheet}");
    let plain = text(&r);
    assert!(plain.contains("People trained"));
    assert!(
        !plain.contains('\u{1b}') && !plain.contains('\u{202e}'),
        "{plain}"
    );
}

#[test]
fn the_page_is_self_contained_with_its_charts_and_note() {
    let page = html(&sample("ACORN Bristol"));
    for id in [
        "growth",
        "kinds",
        "courses",
        "areas",
        "themes",
        "protection",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    for external in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("<polyline"));
}
