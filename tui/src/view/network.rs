//! The network screen: the directory of groups.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use super::theme::Theme;
use super::{cell, days_ago, pending};
use groundwork_protocol::card::GroupKind;

use crate::model::{Link, Model, SortKey};

/// A group kind as the table shows it.
pub fn kind_label(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::LocalOrganisingGroup => "LOG",
        GroupKind::SocialActionHub => "hub",
        GroupKind::National => "nat.",
    }
}

fn header_label(k: SortKey) -> &'static str {
    match k {
        SortKey::Name => "Name",
        SortKey::Area => "Area",
        SortKey::Kind => "Kind",
        SortKey::Members => "Members",
        SortKey::Established => "Status",
        SortKey::LastSeen => "Reported",
        SortKey::Link => "Link",
    }
}

pub(super) fn draw(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    // A wide terminal shows the selected group's figures beside the table.
    let area = if area.width >= 140 {
        let [table, detail] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(44)]).areas(area);
        draw_detail(model, theme, frame, detail);
        table
    } else {
        area
    };
    let show_filter = model.filtering || !model.network_filter.is_empty();
    let [table_area, filter_area] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::from(show_filter)),
    ])
    .areas(area);
    let total = model.directory.ready().map_or(0, Vec::len);
    let (key, desc) = model.sort;
    let title = Line::from(vec![
        Span::styled(" Groups ", theme.title()),
        Span::styled(
            format!(
                "{} of {total} · sorted by {}{} ",
                model.network_rows.len(),
                header_label(key).to_lowercase(),
                if desc { " ▼" } else { " ▲" }
            ),
            theme.dim(),
        ),
    ]);
    let block = Block::bordered().title(title).border_style(theme.focus());
    if model.directory.ready().is_none() {
        let text = pending(&model.directory, "the directory");
        frame.render_widget(Paragraph::new(text).block(block), table_area);
    } else {
        let inner = block.inner(table_area);
        frame.render_widget(block, table_area);
        let rows_fit = usize::from(inner.height.saturating_sub(1));
        let pos = model
            .network_pos
            .shown(model.network_rows.len(), rows_fit.max(1));
        let wide = inner.width >= 120;
        let shown: Vec<_> = (pos.offset..model.network_rows.len().min(pos.offset + rows_fit))
            .filter_map(|r| model.network_entry(r))
            .collect();
        let cols = super::fit_columns(
            inner.width,
            &[
                // The header carries the sort mark.
                super::Col::text("Name▲", shown.iter().map(|e| e.name.as_str())),
                super::Col::text(
                    "Area▲",
                    shown.iter().map(|e| e.area.as_deref().unwrap_or_default()),
                ),
                super::Col::fixed(if wide { 10 } else { 5 }),
                super::Col::fixed(8),
                super::Col::fixed(11),
                super::Col::fixed(if wide { 10 } else { 9 }),
                super::Col::fixed(if wide { 11 } else { 9 }),
            ],
        );
        let (name_w, area_w) = (cols[0], cols[1]);
        let widths = super::lengths(&cols);
        let rows = shown.into_iter().map(|e| {
            let wide = inner.width >= 120;
            let link = model.link(&e.group);
            let link_style = match link {
                Link::Own | Link::Connected => theme.good(),
                Link::Linked => theme.warn(),
                Link::Network => theme.dim(),
            };
            let status = match e.established {
                _ if e.kind.is_national() => Span::styled("national", theme.dim()),
                Some(true) => Span::styled("established", theme.good()),
                Some(false) => Span::raw("forming"),
                None => Span::styled("no summary", theme.dim()),
            };
            Row::new(vec![
                Line::from(super::clip(&e.name, name_w)),
                Line::from(super::clip(e.area.as_deref().unwrap_or_default(), area_w)),
                Line::from(kind_label(e.kind).to_string()),
                Line::from(cell(e.members)).alignment(Alignment::Right),
                Line::from(status),
                Line::from(days_ago(model.today, e.last_seen)),
                Line::from(Span::styled(
                    if wide { link.label() } else { link.short() },
                    link_style,
                )),
            ])
        });
        let header = Row::new(SortKey::ALL.iter().map(|k| {
            let mut label = header_label(*k).to_string();
            if *k == key {
                label.push_str(if desc { "▼" } else { "▲" });
            }
            if *k == SortKey::Members {
                Line::from(label).alignment(Alignment::Right)
            } else {
                Line::from(label)
            }
        }))
        .style(theme.header());
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme.selected());
        let mut state = TableState::default()
            .with_selected((!model.network_rows.is_empty()).then(|| pos.selected - pos.offset));
        frame.render_stateful_widget(table, inner, &mut state);
        if model.network_rows.is_empty() {
            let national = model
                .status
                .ready()
                .is_some_and(|s| s.group_kind == groundwork_protocol::card::GroupKind::National);
            let text = if total == 0 && national {
                "No groups affiliated yet: `groundwork affiliate LINK-CODE` adds one."
            } else if total == 0 {
                "No groups known yet: link with a group or affiliate to a network."
            } else {
                "No group matches the filter (Esc clears it)."
            };
            frame.render_widget(
                Paragraph::new(text).style(theme.dim()),
                super::below(inner, 1),
            );
        }
    }
    if show_filter {
        super::draw_filter(
            &model.network_filter,
            model.filtering,
            theme,
            frame,
            filter_area,
        );
    }
}

/// The selected group's card, figures and link, for a wide terminal.
fn draw_detail(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Span::styled(" Selected group ", theme.title()));
    let Some(e) = model.network_entry(model.network_pos.selected) else {
        frame.render_widget(block, area);
        return;
    };
    let row = model
        .report
        .ready()
        .and_then(|r| r.by_group.iter().find(|g| g.group == e.group));
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<15}"), theme.dim()),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        Line::styled(e.name.clone(), theme.header()),
        field("area", e.area.clone().unwrap_or_else(|| "–".into())),
        field("kind", e.kind.slug().to_owned()),
        field("affiliated", if e.affiliated { "yes" } else { "no" }.into()),
        field("link", model.link(&e.group).label().into()),
        field("last summary", days_ago(model.today, e.last_seen)),
        Line::raw(""),
        field("members", cell(e.members)),
    ];
    if let Some(f) = row.and_then(|r| r.figures.as_ref()) {
        let k = f.by_kind;
        lines.push(field("  professional", k.professional.to_string()));
        lines.push(field("  activist", k.activist.to_string()));
        lines.push(field("  observer", k.observer.to_string()));
        lines.push(field("trained", f.trained.to_string()));
        lines.push(field("conversations", f.conversations.to_string()));
        lines.push(field("meet-ups", f.meetups.to_string()));
    }
    if let Some(y) = row.and_then(|r| r.formed) {
        lines.push(field("formed", y.to_string()));
    }
    lines.push(field(
        "established",
        match e.established {
            Some(true) => "yes (21 or more)".into(),
            Some(false) => "forming".into(),
            None => "–".into(),
        },
    ));
    let peers: Vec<String> = model
        .status
        .ready()
        .map(|s| {
            s.peers
                .iter()
                .filter(|p| p.group == Some(e.group))
                .map(|p| {
                    format!(
                        "{} {}",
                        p.device.fmt_short(),
                        if p.connected { "connected" } else { "offline" }
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if !peers.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Linked devices", theme.title()));
        lines.extend(peers.into_iter().map(Line::raw));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Enter opens what it shares", theme.dim()));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
