//! Frame rendering benchmark (see docs/benchmarks.md): the Members tab
//! with 10,000 members and the Dashboard with 200 groups, against the
//! network screen of 8 groups as the baseline, each drawn on ratatui's
//! `TestBackend` at 80×24 and 160×48. The selection moves one row before
//! every frame, so each frame draws changed rows, as scrolling does.
//!
//! Prints Markdown. Knobs: GW_BENCH_FRAMES (frames timed per case, 300).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use groundwork_protocol::schema::Role;
use groundwork_tui::app::load;
use groundwork_tui::fake::{self, Sample};
use groundwork_tui::model::Model;
use groundwork_tui::update::{Data, Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const TARGET_MS: f64 = 16.0;

fn key(m: &mut Model, c: char) {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

struct Stats {
    median: f64,
    p95: f64,
    max: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Stats {
        median: ms(v[v.len() / 2]),
        p95: ms(v[(v.len() * 95 / 100).min(v.len() - 1)]),
        max: ms(v[v.len() - 1]),
    }
}

/// Times `frames` frames of `m` after `setup` keys, moving down (and back
/// up at the end of the list) before each.
fn frames(mut m: Model, setup: &str, frames: usize) -> Stats {
    for c in setup.chars() {
        key(&mut m, c);
    }
    let (w, h) = m.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames + 20 {
        key(&mut m, if (i / 400) % 2 == 0 { 'j' } else { 'k' });
        let start = Instant::now();
        t.draw(|f| groundwork_tui::view::view(&m, f)).expect("draw");
        if i >= 20 {
            times.push(start.elapsed());
        }
    }
    stats(times)
}

/// For comparison: the Members table as a naive view would draw it, every
/// row built and handed to the table, which shows the same 20-odd.
fn naive_members(m: &Model, frames_n: usize) -> Stats {
    use ratatui::layout::Constraint;
    use ratatui::widgets::{Block, Row, Table, TableState};
    let members = m.members.ready().expect("loaded").clone();
    let (w, h) = m.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let mut times = Vec::new();
    for i in 0..frames_n + 20 {
        let start = Instant::now();
        t.draw(|f| {
            let rows = members.iter().map(|m| {
                Row::new(vec![
                    m.member.name.clone(),
                    m.member.kind.name().to_string(),
                    m.member.joined.to_string(),
                    m.member.status.to_string(),
                    m.contact
                        .as_ref()
                        .and_then(|c| c.email.clone())
                        .unwrap_or_default(),
                ])
            });
            let table = Table::new(rows, [Constraint::Fill(1); 5]).block(Block::bordered());
            let mut state = TableState::default().with_selected(Some(i % members.len()));
            f.render_stateful_widget(table, f.area(), &mut state);
        })
        .expect("draw");
        if i >= 20 {
            times.push(start.elapsed());
        }
    }
    stats(times)
}

fn main() {
    let n: usize = std::env::var("GW_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let small = Sample::new(8, 40, Role::Steward);
    let roster = Sample::new(12, 10_000, Role::Steward);
    let network = Sample::new(200, 40, Role::Steward);

    println!(
        "Frames timed per case: {n} (after 20 warm-up frames); the selection moves a row before each."
    );
    println!();
    println!(
        "| case | size | median ms | p95 ms | max ms | median ÷ baseline | p95 ÷ 16 ms target |"
    );
    println!("|---|---|---|---|---|---|---|");
    for size in [(80u16, 24u16), (160, 48)] {
        let base = frames(fake::loaded(&small, size).0, "", n);
        let cases = [
            ("baseline: network screen, 8 groups", base.median, &base),
            (
                "Members tab, 10,000 members",
                0.0,
                &frames(fake::loaded(&roster, size).0, "2lll", n),
            ),
            (
                "Dashboard, 200 groups",
                0.0,
                &frames(fake::loaded(&network, size).0, "3", n),
            ),
        ];
        let naive = naive_members(&fake::loaded(&roster, size).0, n.min(100));
        let cases = [
            cases[0],
            cases[1],
            ("(for comparison) a table of all 10,000 rows", 0.0, &naive),
            cases[2],
        ];
        for (name, _, s) in cases {
            println!(
                "| {name} | {}×{} | {:.3} | {:.3} | {:.3} | {:.1}× | {:.3} |",
                size.0,
                size.1,
                s.median,
                s.p95,
                s.max,
                s.median / base.median,
                s.p95 / TARGET_MS
            );
        }
    }

    // Not a frame, but what a live update of a big roster costs before the
    // next frame: replacing 10,000 members and recomputing the rows shown.
    let (mut m, node) = fake::loaded(&roster, (80, 24));
    for c in "2lll".chars() {
        key(&mut m, c);
    }
    let answer = load(&node, Data::Members);
    let mut times = Vec::new();
    for _ in 0..30 {
        let msg = Msg::Loaded(Data::Members, answer.clone());
        let start = Instant::now();
        update(&mut m, msg);
        times.push(start.elapsed());
    }
    let s = stats(times);
    println!();
    println!(
        "Applying a reloaded roster of 10,000 members in `update` (keeping the selection): median {:.2} ms, max {:.2} ms (30 runs).",
        s.median, s.max
    );
}
