//! The shareable report: `report --format html` rendered in a real
//! browser (headless Chromium, from Debian's packages; `.ci/run` installs
//! it), with no console errors, and a screenshot kept in the test's
//! temporary directory. The CSV reads back through the csv crate.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use groundwork_node::datadir::DataDir;
use groundwork_node::group::{Group, summary_of, today};
use groundwork_node::report_out;
use groundwork_protocol::report::{Listed, NetworkReport, build};

/// The demo's seventeen groups, as the national node would report them.
fn demo_report(root: &Path) -> NetworkReport {
    let groups = groundwork_node::demo::build(root, 17, |_| {}).expect("demo");
    let mut listed = Vec::new();
    let mut latest = BTreeMap::new();
    for d in &groups {
        let g = Group::open(&DataDir::new(d.data_dir.clone())).expect("open");
        let s = summary_of(&g, today()).expect("summary");
        listed.push(Listed {
            group: g.profile().id,
            name: d.name.clone(),
            area: Some(d.area.clone()),
            kind: g.profile().kind,
            affiliated: true,
        });
        latest.insert(g.profile().id, s);
    }
    build(None, &listed, &latest)
}

/// What headless Chromium printed while it rendered `page`: its console
/// messages (`:CONSOLE` lines of its log), and whether the screenshot
/// was written.
fn render(page: &Path, shot: &Path, profile: &Path) -> (Vec<String>, bool) {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (install it with apt-get install chromium; .ci/run does)");
    let log = String::from_utf8_lossy(&out.stderr);
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let png = std::fs::read(shot).unwrap_or_default();
    (console, png.starts_with(b"\x89PNG") && png.len() > 10_000)
}

#[test]
fn the_html_report_renders_in_chromium_without_console_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = demo_report(&dir.path().join("demo"));
    let page = dir.path().join("report.html");
    std::fs::write(&page, report_out::html(&r)).expect("write");
    let shot = dir.path().join("report.png");
    let (console, shot_ok) = render(&page, &shot, &dir.path().join("profile"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(shot_ok, "a screenshot of the page at {}", shot.display());

    // The check can fail: a page with a script error shows in the log.
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); nope();</script></body></html>",
    )
    .expect("write");
    let (console, _) = render(
        &broken,
        &dir.path().join("broken.png"),
        &dir.path().join("profile2"),
    );
    assert!(
        console.iter().any(|l| l.contains("boom")) && console.iter().any(|l| l.contains("nope")),
        "{console:?}"
    );
    // Keep the screenshot for a look when asked.
    if let Ok(keep) = std::env::var("GROUNDWORK_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copy the screenshot");
    }
}

#[test]
fn the_csv_report_reads_back_to_the_report_s_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = demo_report(&dir.path().join("demo"));
    let text = report_out::csv(&r).expect("csv");
    let mut figures: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for row in csv::Reader::from_reader(text.as_bytes()).records() {
        let row = row.expect("a CSV row");
        figures.insert(
            (row[0].to_owned(), row[1].to_owned(), row[2].to_owned()),
            row[3].parse().expect("a count"),
        );
    }
    let get = |s: &str, n: &str, m: &str| figures.get(&(s.into(), n.into(), m.into())).copied();
    assert_eq!(get("totals", "", "members"), Some(r.totals.members));
    assert_eq!(get("totals", "", "trained"), Some(r.totals.trained));
    assert_eq!(
        get("totals", "", "social_action_hubs"),
        Some(r.group_kinds.social_action_hubs)
    );
    for c in &r.trained_by_course {
        assert_eq!(get("course", &c.title, "trained"), Some(c.trained));
    }
    for t in &r.themes {
        assert_eq!(get("theme", &t.theme, "groups"), Some(t.groups));
    }
    for p in &r.growth {
        assert_eq!(
            get("growth", &p.month.to_string(), "trained"),
            Some(p.trained)
        );
    }
    for g in &r.by_group {
        let f = g.figures.as_ref().expect("every demo group reports");
        assert_eq!(get("group", &g.name, "members"), Some(f.members));
    }
    assert!(r.group_kinds.social_action_hubs > 0 && r.group_kinds.local_organising_groups > 0);
    assert!(r.themes.len() >= 5 && r.formed_by_year.len() >= 3, "{r:?}");
}
