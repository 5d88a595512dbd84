//! The dashboard: the programme in numbers. Members, people trained,
//! conversations and meet-ups; members by kind; growth over 24 months;
//! trained by course; listening themes; areas. Every count of people is
//! as published, rounded to base 5.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, GraphType, Paragraph, Row, Table,
    TableState,
};

use super::pending;
use super::theme::Theme;
use crate::model::Model;
use groundwork_protocol::report::NetworkReport;

pub(super) fn draw(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let Some(r) = model.report.ready() else {
        frame.render_widget(
            Paragraph::new(pending(&model.report, "the network's figures"))
                .block(Block::bordered()),
            area,
        );
        return;
    };
    let tall = area.height >= 40;
    let [figures, charts, bottom] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(if tall { 16 } else { 8 }),
        Constraint::Fill(1),
    ])
    .areas(area);
    draw_figures(r, theme, frame, figures);
    let [kinds, growth] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(charts);
    draw_kinds(r, theme, frame, kinds);
    draw_growth(r, theme, frame, growth);
    let [courses, themes, areas] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
    ])
    .areas(bottom);
    draw_courses(r, theme, frame, courses);
    draw_themes(r, theme, frame, themes);
    draw_areas(model, r, theme, frame, areas);
}

fn figure(n: u64, what: &str, theme: Theme) -> [Span<'static>; 2] {
    [
        Span::styled(n.to_string(), theme.title()),
        Span::raw(format!(" {what}")),
    ]
}

fn draw_figures(r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let t = &r.totals;
    let sep = || Span::raw(" · ");
    let mut line1 = Vec::new();
    for (i, (n, what)) in [
        (t.members, "members"),
        (t.trained, "trained"),
        (t.conversations, "conversations"),
        (t.meetups, "meet-ups"),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            line1.push(sep());
        }
        line1.extend(figure(n, what, theme));
    }
    let k = r.group_kinds;
    let mut line2 = Vec::new();
    line2.extend(figure(k.local_organising_groups, "groups", theme));
    line2.push(sep());
    line2.extend(figure(k.social_action_hubs, "hubs", theme));
    line2.push(sep());
    line2.extend(figure(r.established, "established (21+)", theme));
    line2.push(sep());
    line2.extend(figure(r.affiliated, "affiliated", theme));
    let not_reporting = r.groups.saturating_sub(r.reporting);
    let mut title = " Network figures (rounded to 5) ".to_owned();
    if not_reporting > 0 {
        title = format!(" Network figures (rounded to 5) · {not_reporting} not reporting ");
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(line1), Line::from(line2)])
            .block(Block::bordered().title(Span::styled(title, theme.title()))),
        area,
    );
}

fn draw_kinds(r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let k = &r.totals.by_kind;
    let inner_w = area.width.saturating_sub(2);
    let bar_width = (inner_w.saturating_sub(2) / 3).clamp(1, 20);
    let bars = [
        (
            if bar_width >= 12 {
                "professional"
            } else {
                "pro."
            },
            k.professional,
        ),
        (if bar_width >= 8 { "activist" } else { "act." }, k.activist),
        (if bar_width >= 8 { "observer" } else { "obs." }, k.observer),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (label, v))| {
        Bar::default()
            .value(v)
            .label(Line::from(label))
            .style(theme.chart(i))
            .value_style(theme.selected())
    })
    .collect::<Vec<_>>();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_width)
            .bar_gap(1)
            .block(Block::bordered().title(Span::styled(" Members by kind ", theme.title()))),
        area,
    );
}

fn draw_growth(r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(" Growth, 24 months: ", theme.title()),
        Span::styled("members", theme.chart(0)),
        Span::raw(", "),
        Span::styled("trained ", theme.chart(1)),
    ]));
    let (Some(first), Some(last)) = (r.growth.first(), r.growth.last()) else {
        frame.render_widget(
            Paragraph::new("Growth shows once a group has published a summary.")
                .style(theme.dim())
                .block(block),
            area,
        );
        return;
    };
    let members: Vec<(f64, f64)> = r
        .growth
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.members as f64))
        .collect();
    let trained: Vec<(f64, f64)> = r
        .growth
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.trained as f64))
        .collect();
    let ymax = members.iter().map(|p| p.1).fold(1.0, f64::max);
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.chart(0))
            .data(&members),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.chart(1))
            .data(&trained),
    ];
    frame.render_widget(
        Chart::new(datasets)
            .block(block)
            .x_axis(
                Axis::default()
                    .bounds([0.0, (r.growth.len().max(2) - 1) as f64])
                    .labels([
                        Span::raw(first.month.to_string()),
                        Span::raw(last.month.to_string()),
                    ])
                    .style(theme.dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, ymax])
                    .labels([Span::raw("0"), Span::raw(format!("{ymax:.0}"))])
                    .style(theme.dim()),
            ),
        area,
    );
}

/// A short name for a course, for a narrow panel.
fn course_label(slug: &str) -> &str {
    match slug {
        "introduction" => "Introduction",
        "listening-skills" => "Listening",
        "building-power" => "Build power",
        "action-for-change" => "Action",
        "planning-for-change" => "Planning",
        "storytelling-for-change" => "Storytelling",
        "young-people" => "Young people",
        "level-2-award" => "L2 award",
        "level-2-certificate" => "L2 cert.",
        "level-3-award" => "L3 award",
        "level-3-certificate" => "L3 cert.",
        other => other,
    }
}

fn draw_courses(r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Span::styled(" Trained by course ", theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut rows: Vec<_> = r.trained_by_course.iter().collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.trained));
    let max = rows.first().map_or(1, |c| c.trained.max(1));
    let label_w = 12usize;
    let num_w = 6usize;
    let bar_w = usize::from(inner.width).saturating_sub(label_w + num_w + 1);
    let lines: Vec<Line> = rows
        .iter()
        .take(usize::from(inner.height))
        .map(|c| {
            let len = (c.trained as usize * bar_w).div_ceil(max as usize);
            Line::from(vec![
                Span::raw(format!("{:<label_w$.label_w$}", course_label(&c.course))),
                Span::styled("█".repeat(len.min(bar_w)), theme.chart(2)),
                Span::raw(" ".repeat(bar_w - len.min(bar_w) + 1)),
                Span::styled(format!("{:>num_w$}", c.trained), theme.title()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_themes(r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Span::styled(" Listening themes ", theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if r.themes.is_empty() {
        frame.render_widget(
            Paragraph::new("No themes reported yet.").style(theme.dim()),
            inner,
        );
        return;
    }
    let right = |s: String| Line::from(s).alignment(Alignment::Right);
    let label_w = inner.width.saturating_sub(14);
    let rows = r.themes.iter().map(|t| {
        Row::new(vec![
            Line::raw(super::clip(&t.theme, label_w)),
            right(t.groups.to_string()),
            right(t.conversations.to_string()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(6),
        ],
    )
    .header(
        Row::new(vec![
            Line::raw("Theme"),
            right("Groups".into()),
            right("Conv.".into()),
        ])
        .style(theme.header()),
    );
    frame.render_widget(table, inner);
}

fn draw_areas(model: &Model, r: &NetworkReport, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Span::styled(
        format!(" By area ({}) ", r.by_area.len()),
        theme.title(),
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.area_pos.shown(r.by_area.len(), fit);
    let right = |s: String| Line::from(s).alignment(Alignment::Right);
    let label_w = inner.width.saturating_sub(15);
    let rows = r.by_area.iter().skip(pos.offset).take(fit).map(|a| {
        Row::new(vec![
            Line::raw(super::clip(a.label(), label_w)),
            right(a.groups.to_string()),
            right(a.totals.members.to_string()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(7),
        ],
    )
    .header(
        Row::new(vec![
            Line::raw("Area"),
            right("Groups".into()),
            right("Members".into()),
        ])
        .style(theme.header()),
    )
    .row_highlight_style(theme.selected());
    let mut state = TableState::default()
        .with_selected((!r.by_area.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);
}
