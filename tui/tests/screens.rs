//! Snapshot tests of every screen on ratatui's `TestBackend`, at 80×24 and
//! 160×48, against the fake node's sample data.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use groundwork_protocol::schema::Role;
use groundwork_tui::fake::{self, FakeNode, Sample};
use groundwork_tui::model::{Model, Screen, Tab};
use groundwork_tui::update::{Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// A model with everything loaded from a fake node holding `sample`,
/// drawn without colour (the snapshots hold symbols only).
fn loaded(sample: &Sample, size: (u16, u16)) -> Model {
    let mut m = fake::loaded(sample, size).0;
    m.color = false;
    m
}

fn keys(m: &mut Model, node: &FakeNode, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        let cmds = update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        fake::run(m, node, cmds);
    }
}

fn draw(m: &Model) -> String {
    let (w, h) = m.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| groundwork_tui::view::view(m, f)).expect("draw");
    t.backend().to_string()
}

/// Snapshots the screen reached by `keys` at both sizes.
fn snap(name: &str, sample: &Sample, input: &str) {
    for size in SIZES {
        let node = FakeNode::new(sample.clone());
        let mut m = loaded(sample, size);
        keys(&mut m, &node, input);
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), draw(&m));
    }
}

fn steward() -> Sample {
    Sample::new(12, 40, Role::Steward)
}

#[test]
fn network() {
    snap("network", &steward(), "");
}

#[test]
fn network_filtered_and_sorted_by_members() {
    snap("network_filtered", &steward(), "/bristol\nsss");
}

#[test]
fn an_empty_network_points_the_national_node_to_affiliate() {
    let mut sample = steward();
    sample.directory.clear();
    let group = draw(&loaded(&sample, (80, 24)));
    assert!(
        group.contains("No groups known yet: link with a group"),
        "{group}"
    );
    assert!(!group.contains("affiliate LINK-CODE"), "{group}");
    sample.status.group_kind = groundwork_protocol::card::GroupKind::National;
    let national = draw(&loaded(&sample, (80, 24)));
    assert!(
        national.contains("No groups affiliated yet: `groundwork affiliate LINK-CODE` adds one."),
        "{national}"
    );
}

#[test]
fn group_constitution() {
    snap("group_constitution", &steward(), "2");
}

#[test]
fn group_plan() {
    snap("group_plan", &steward(), "2l");
}

#[test]
fn group_meetups() {
    snap("group_meetups", &steward(), "2llj");
}

#[test]
fn group_members_steward_sees_contacts() {
    snap("group_members_steward", &steward(), "2lll");
}

#[test]
fn group_members_organiser_sees_contacts() {
    snap(
        "group_members_organiser",
        &Sample::new(12, 40, Role::Organiser),
        "2lll",
    );
}

#[test]
fn member_device_sees_the_roster_without_contacts() {
    let sample = Sample::new(12, 40, Role::Member);
    let m = loaded(&sample, (160, 48));
    assert_eq!(m.tabs().len(), 4);
    let screen = {
        let node = FakeNode::new(sample.clone());
        let mut m = m;
        keys(&mut m, &node, "2lll");
        draw(&m)
    };
    assert!(screen.contains("Amara Ashworth"), "{screen}");
    assert!(
        !screen.contains("Email") && !screen.contains("@example.org"),
        "{screen}"
    );
    snap("group_members_member", &sample, "2lll");
}

#[test]
fn revoked_device_has_no_members_tab() {
    let mut sample = steward();
    sample.status.role = None;
    let m = loaded(&sample, (80, 24));
    assert_eq!(m.tabs(), vec![Tab::Constitution, Tab::Plan, Tab::Meetups]);
    snap("group_meetups_revoked", &sample, "2llll");
}

#[test]
fn other_group_shows_only_what_it_shares() {
    // ACORN Bristol is second by name: move down once from the top.
    let sample = steward();
    let m = loaded(&sample, (80, 24));
    assert_eq!(
        m.network_entry(0).map(|e| e.name.as_str()),
        Some("ACORN Bristol")
    );
    snap("other_group_constitution", &sample, "\n");
    snap("other_group_plan", &sample, "\nl");
    let node = FakeNode::new(sample.clone());
    let mut m = loaded(&sample, (80, 24));
    keys(&mut m, &node, "\nll");
    assert_eq!(m.tab, Tab::Constitution, "only two tabs: it wraps around");
    assert!(!draw(&m).contains("Meet-ups"));
}

#[test]
fn dashboard() {
    snap("dashboard", &Sample::new(200, 40, Role::Steward), "3");
}

#[test]
fn sync() {
    snap("sync", &steward(), "4");
}

#[test]
fn help_overlay() {
    snap("help_network", &steward(), "?");
    snap("help_meetups", &steward(), "2ll?");
}

#[test]
fn forms() {
    snap("form_meetup", &steward(), "2lla");
    snap("form_action", &steward(), "2laFix the gate");
    snap("form_member", &steward(), "2llla");
    snap("form_meetup_change", &steward(), "2llc");
    snap("meetup_remove_confirm", &steward(), "2llr");
    snap(
        "form_action_owner_picker",
        &steward(),
        "2laFix the gate\tbello",
    );
    snap("form_action_change", &steward(), "2le");
    snap("action_remove_confirm", &steward(), "2lr");
}

#[test]
fn the_goals_overlay_and_its_forms() {
    snap("goals", &steward(), "2lvj");
    snap("form_goal_change", &steward(), "2lve");
    snap("goal_remove_confirm", &steward(), "2lvr");
    snap("help_plan", &steward(), "2l?");
}

#[test]
fn notes_editor() {
    snap("notes_editor", &steward(), "2llje");
}

#[test]
fn loading_and_unreachable() {
    for size in SIZES {
        let mut m = Model::new(size, fake::today(), fake::now(), false);
        insta::assert_snapshot!(format!("loading_{}x{}", size.0, size.1), draw(&m));
        update(
            &mut m,
            Msg::Loaded(
                groundwork_tui::update::Data::Status,
                Err(groundwork_tui::NodeError::Unreachable(
                    "connection refused".into(),
                )),
            ),
        );
        m.screen = Screen::Sync;
        insta::assert_snapshot!(format!("unreachable_{}x{}", size.0, size.1), draw(&m));
    }
}

#[test]
fn ten_thousand_members_draw_only_the_rows_on_screen() {
    let sample = Sample::new(12, 10_000, Role::Steward);
    let node = FakeNode::new(sample.clone());
    let mut m = loaded(&sample, (80, 24));
    keys(&mut m, &node, "2lllG");
    let screen = draw(&m);
    assert!(screen.contains("10000 of 10000"), "{screen}");
    // The last member by name is on screen and selected.
    let last = &m
        .member(m.member_pos.selected)
        .expect("selected")
        .member
        .name;
    assert_eq!(m.member_pos.selected, 9_999);
    assert!(screen.contains(last.as_str()), "{screen}");
}

#[test]
fn no_color_draws_without_colours() {
    use ratatui::style::Color;
    let sample = steward();
    for screen in ["", "2", "2l", "2ll", "2lll", "3", "4", "?"] {
        let colours = |color: bool| {
            let node = FakeNode::new(sample.clone());
            let mut m = loaded(&sample, (80, 24));
            m.color = color;
            keys(&mut m, &node, screen);
            let mut t = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
            t.draw(|f| groundwork_tui::view::view(&m, f)).expect("draw");
            t.backend()
                .buffer()
                .content()
                .iter()
                .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
                .count()
        };
        assert_eq!(colours(false), 0, "NO_COLOR on screen {screen:?}");
        assert!(colours(true) > 0, "colour on screen {screen:?}");
    }
}

#[test]
fn sync_warns_without_a_passphrase_and_with_one_steward_device() {
    let mut s = steward();
    s.status.at_rest = Some(groundwork_protocol::control::AtRest {
        passphrase: false,
        sealed: false,
    });
    s.status.steward_devices = Some(1);
    assert_eq!(s.status.warnings().len(), 2);
    snap("sync_warnings", &s, "4");
    let node = FakeNode::new(s.clone());
    let mut m = loaded(&s, (160, 48));
    keys(&mut m, &node, "4");
    let screen = draw(&m);
    assert!(screen.contains("2 warnings (Sync)"), "{screen}");
    assert!(screen.contains("only one steward device"), "{screen}");
    // The control: the sample (a passphrase, two stewards) warns of nothing.
    let plain = steward();
    let node = FakeNode::new(plain.clone());
    let mut m = loaded(&plain, (160, 48));
    keys(&mut m, &node, "4");
    assert!(!draw(&m).contains("warning"));
}

#[test]
fn sync_with_requests_to_link() {
    use groundwork_protocol::control::LinkRequestView;
    let mut s = steward();
    let key = |n: u8| groundwork_protocol::SecretKey::from_seed(&[n; 32]).public();
    s.requests = vec![LinkRequestView {
        group: key(70),
        name: "Rotherfed".into(),
        area: Some("Rotherham".into()),
        kind: groundwork_protocol::card::GroupKind::SocialActionHub,
        device: key(71),
        at: fake::now() - 2 * 3600,
    }];
    snap("sync_requests", &s, "4");
}

#[test]
fn text_from_peers_never_reaches_the_terminal_raw() {
    let mut s = steward();
    s.directory[1].name = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}Group\u{202e}".into();
    s.members[0].member.name = "Ada\u{202e}ibO\u{9b}31m".into();
    let node = FakeNode::new(s.clone());
    for input in ["", "2lll"] {
        let mut m = loaded(&s, (160, 48));
        keys(&mut m, &node, input);
        let (w, h) = m.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|f| groundwork_tui::view::view(&m, f)).expect("draw");
        let symbols: String = t
            .backend()
            .buffer()
            .content
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(
            !symbols
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{input:?} drew a control character"
        );
        // The positive control: the hostile text is on screen, its
        // override made visible (ratatui drops the C0 controls itself).
        let shown = if input.is_empty() { "Evil" } else { "Ada" };
        assert!(symbols.contains(shown), "{input:?}");
        assert!(
            symbols.contains('\u{FFFD}'),
            "{input:?}: the override is shown as �"
        );
    }
}

#[test]
fn end_on_the_constitution_stops_with_its_last_line_at_the_bottom() {
    for size in SIZES {
        let sample = steward();
        let node = FakeNode::new(sample.clone());
        let mut m = loaded(&sample, size);
        keys(&mut m, &node, "2");
        let rows = |m: &Model| -> Vec<String> { draw(m).lines().map(str::to_owned).collect() };
        let last_line = {
            let c = m.constitution.ready().expect("loaded");
            match c.amendments.last() {
                Some(a) => format!("v{} {}  {}", a.version, a.date, a.summary),
                None => c
                    .body
                    .as_str()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .to_owned(),
            }
        };
        // The tab's last content row sits just above its bottom border.
        let bottom = usize::from(size.1) - 3;
        let at_bottom = |r: &[String]| r[bottom].contains(last_line.as_str());
        let top = rows(&m);
        if size == (80, 24) {
            // Positive control: at 80×24 the end is not on screen at first.
            assert!(
                !top.iter().any(|r| r.contains(last_line.as_str())),
                "{top:#?}"
            );
        }
        keys(&mut m, &node, "G");
        let end = rows(&m);
        assert!(
            at_bottom(&end) || (m.constitution_scroll == 0 && size == (160, 48)),
            "{size:?}: {end:#?}"
        );
        assert!(
            end.iter().any(|r| r.contains(last_line.as_str())),
            "{end:#?}"
        );
        // Past the end nothing moves: no blank page after the text.
        keys(&mut m, &node, "jjjG");
        assert_eq!(rows(&m), end, "{size:?}");
        // And g goes back to the top.
        keys(&mut m, &node, "g");
        assert_eq!(rows(&m), top, "{size:?}");
    }
}

#[test]
fn member_record_and_the_question_before_removing() {
    snap("member_record", &steward(), "2lll\n");
    snap("member_remove_confirm", &steward(), "2lll\nr");
    snap("form_member_change", &steward(), "2lll\ne");
    snap("member_forget_confirm", &steward(), "2lll\nf");
}

#[test]
fn a_long_name_is_cut_with_an_ellipsis_and_short_columns_are_kept_whole() {
    let mut sample = steward();
    let long = "Oluwaseun Adebayo-Fitzgerald-Montgomery-Wellesley of Upper Tranmere";
    sample.members[0].member.name = long.into();
    let node = FakeNode::new(sample.clone());
    let mut m = loaded(&sample, (80, 24));
    keys(&mut m, &node, "2lll");
    let screen = draw(&m);
    let row = screen
        .lines()
        .find(|l| l.contains("Oluwaseun"))
        .unwrap_or_else(|| panic!("no row for the long name:\n{screen}"));
    // The name is cut, marked, and the row still shows the whole email.
    assert!(row.contains('…'), "{row}");
    assert!(!row.contains("Upper Tranmere"), "{row}");
    let email = sample.members[0]
        .contact
        .as_ref()
        .and_then(|c| c.email.clone())
        .expect("the first sample member has an email");
    assert!(row.contains(&email), "{row}");
    // Positive control: a short name on the same screen is not cut.
    let short = screen
        .lines()
        .find(|l| l.contains("Amara Bello"))
        .expect("a short name");
    assert!(!short.contains('…'), "{short}");
}
