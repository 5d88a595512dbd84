//! The dashboard: the network's figures, members by kind, growth, areas,
//! and established against forming groups.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, Gauge, GraphType, Paragraph, Row, Table,
    TableState,
};

use super::theme::Theme;
use super::{cell, pending};
use crate::model::Model;

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

    let t = &r.totals;
    let forming = r.reporting.saturating_sub(r.established);
    let line1 = Line::from(vec![
        Span::styled(format!("{}", t.members), theme.title()),
        Span::raw(" members · "),
        Span::styled(format!("{}", t.new_last_30_days), theme.title()),
        Span::raw(" new in 30 days · "),
        Span::styled(format!("{}", t.trained), theme.title()),
        Span::raw(" trained · "),
        Span::styled(format!("{}", t.conversations), theme.title()),
        Span::raw(" conversations"),
    ]);
    let line2 = Line::from(vec![
        Span::styled(format!("{}", r.groups), theme.title()),
        Span::raw(" groups · "),
        Span::styled(format!("{}", r.affiliated), theme.title()),
        Span::raw(" affiliated · "),
        Span::styled(format!("{}", r.established), theme.title()),
        Span::raw(" established · "),
        Span::styled(format!("{}", t.meetups_last_90_days), theme.title()),
        Span::raw(" meet-ups in 90 days"),
    ]);
    let not_reporting = r.groups.saturating_sub(r.reporting);
    let title = if not_reporting > 0 {
        format!(" Network figures · {not_reporting} groups not reporting ")
    } else {
        " Network figures ".to_string()
    };
    frame.render_widget(
        Paragraph::new(vec![line1, line2])
            .block(Block::bordered().title(Span::styled(title, theme.title()))),
        figures,
    );

    let [kinds, growth] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(charts);
    let k = &t.by_kind;
    let inner_w = kinds.width.saturating_sub(2);
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
        ("activist", k.activist),
        ("observer", k.observer),
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
        kinds,
    );

    let points: Vec<(f64, f64)> = r
        .growth
        .iter()
        .map(|p| (p.date.unix_days() as f64, p.members as f64))
        .collect();
    let growth_block = Block::bordered().title(Span::styled(" Members over time ", theme.title()));
    if points.len() < 2 {
        frame.render_widget(
            Paragraph::new("Growth shows once summaries from two days are held.")
                .style(theme.dim())
                .block(growth_block),
            growth,
        );
    } else {
        let (x0, x1) = (points[0].0, points[points.len() - 1].0);
        let ymax = points.iter().map(|p| p.1).fold(1.0, f64::max);
        let first = r.growth[0].date.to_string();
        let last = r.growth[r.growth.len() - 1].date.to_string();
        let dataset = Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.chart(0))
            .data(&points);
        frame.render_widget(
            Chart::new(vec![dataset])
                .block(growth_block)
                .x_axis(
                    Axis::default()
                        .bounds([x0, x1.max(x0 + 1.0)])
                        .labels([Span::raw(first), Span::raw(last)])
                        .style(theme.dim()),
                )
                .y_axis(
                    Axis::default()
                        .bounds([0.0, ymax])
                        .labels([Span::raw("0"), Span::raw(format!("{ymax:.0}"))])
                        .style(theme.dim()),
                ),
            growth,
        );
    }

    let [areas, est] = Layout::horizontal([Constraint::Fill(2), Constraint::Fill(1)]).areas(bottom);
    let block = Block::bordered().title(Span::styled(
        format!(" By area ({}) ", r.by_area.len()),
        theme.title(),
    ));
    let inner = block.inner(areas);
    frame.render_widget(block, areas);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.area_pos.shown(r.by_area.len(), fit);
    let right = |s: String| Line::from(s).alignment(Alignment::Right);
    let rows = r.by_area.iter().skip(pos.offset).take(fit).map(|a| {
        Row::new(vec![
            Line::raw(a.area.clone()),
            right(a.groups.to_string()),
            right(a.established.to_string()),
            right(cell(Some(a.members))),
            right(cell(Some(a.trained))),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(
        Row::new(vec![
            Line::raw("Area"),
            right("Groups".into()),
            right("Est.".into()),
            right("Members".into()),
            right("Trained".into()),
        ])
        .style(theme.header()),
    )
    .row_highlight_style(theme.selected());
    let mut state = TableState::default()
        .with_selected((!r.by_area.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);

    let block = Block::bordered().title(Span::styled(" Established ", theme.title()));
    let inner = block.inner(est);
    frame.render_widget(block, est);
    let [gauge, text] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let ratio = if r.groups == 0 {
        0.0
    } else {
        r.established as f64 / r.groups as f64
    };
    frame.render_widget(
        Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("{}/{}", r.established, r.groups))
            .gauge_style(theme.chart(2))
            .use_unicode(true),
        gauge,
    );
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(format!("{:>5} ", r.established), theme.good()),
                Span::raw("established (21+)"),
            ]),
            Line::from(vec![
                Span::styled(format!("{forming:>5} "), theme.warn()),
                Span::raw("forming"),
            ]),
            Line::from(vec![
                Span::styled(format!("{not_reporting:>5} "), theme.dim()),
                Span::raw("not reporting"),
            ]),
        ]),
        text,
    );
}
