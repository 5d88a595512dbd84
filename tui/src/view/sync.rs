//! The sync screen: this device, its peers, and each document's sync state.

use groundwork_protocol::control::PeerStatus;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use super::theme::Theme;
use super::{ago, pending};
use crate::model::{Model, SyncPane};

fn bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// The rows `text` takes word-wrapped to `width` columns (a word longer
/// than the width is cut, as the paragraph does).
fn wrapped_rows(text: &str, width: usize) -> usize {
    use unicode_width::UnicodeWidthStr as _;
    let (mut rows, mut used) = (1, 0);
    for word in text.split(' ') {
        let w = word.width();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else {
            rows += 1 + w.saturating_sub(1) / width.max(1);
            used = w % width.max(1);
        }
    }
    rows
}

pub(super) fn draw(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let Some(s) = model.status.ready() else {
        frame.render_widget(
            Paragraph::new(pending(&model.status, "the node's status")).block(Block::bordered()),
            area,
        );
        return;
    };
    let requests = model.requests();
    let requests_height = if requests.is_empty() {
        0
    } else {
        requests.len().min(crate::update::REQUESTS_SHOWN) as u16 + 3
    };
    let warnings = s.warnings();
    // Each warning wraps by words to the box's width.
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let warning_rows: usize = warnings
        .iter()
        .map(|w| wrapped_rows(&format!("⚠ {w}"), inner))
        .sum();
    let [me, requests_area, peers_area, docs_area, last] = Layout::vertical([
        Constraint::Length(4 + u16::try_from(warning_rows).unwrap_or(u16::MAX)),
        Constraint::Length(requests_height),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);

    let role = s
        .role
        .map_or("not an active device".to_string(), |r| r.to_string());
    let mut about = vec![
        Span::styled("Device ", theme.dim()),
        Span::raw(s.device.fmt_short()),
        Span::styled(" · role ", theme.dim()),
        Span::raw(role),
        Span::styled(" · group ", theme.dim()),
        Span::raw(s.group_name.clone()),
    ];
    if let Some(a) = &s.affiliation {
        about.push(Span::styled(" · affiliated to ", theme.dim()));
        about.push(Span::raw(a.network.fmt_short()));
    }
    let mut line2 = Vec::new();
    if let Some(g) = &s.gossip {
        line2.push(Span::styled("Gossip ", theme.dim()));
        line2.push(Span::raw(format!(
            "{} neighbours, {} records received",
            g.neighbours, g.records_received
        )));
    } else {
        line2.push(Span::styled("Gossip: not on a network topic", theme.dim()));
    }
    if let Some(t) = &s.traffic {
        line2.push(Span::styled(" · sent ", theme.dim()));
        line2.push(Span::raw(bytes(t.sent)));
        line2.push(Span::styled(" · received ", theme.dim()));
        line2.push(Span::raw(bytes(t.received)));
    }
    let mut lines = vec![Line::from(about), Line::from(line2)];
    // The stolen-laptop and one-steward warnings `status` gives.
    lines.extend(
        warnings
            .iter()
            .map(|w| Line::from(Span::styled(format!("⚠ {w}"), theme.warn()))),
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(Span::styled(" This device ", theme.title()))),
        me,
    );

    let focus = |p: SyncPane| {
        if model.sync_pane == p {
            theme.focus()
        } else {
            theme.dim()
        }
    };
    if !requests.is_empty() {
        draw_requests(
            model,
            theme,
            frame,
            requests_area,
            focus(SyncPane::Requests),
        );
    }

    let peers = model.peers();
    let connected = peers.iter().filter(|p| p.connected).count();
    let block = Block::bordered()
        .border_style(focus(SyncPane::Peers))
        .title(Line::from(vec![
            Span::styled(" Peers ", theme.title()),
            Span::styled(
                format!("{connected} of {} connected ", peers.len()),
                theme.dim(),
            ),
        ]));
    let inner = block.inner(peers_area);
    frame.render_widget(block, peers_area);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.peer_pos.shown(peers.len(), fit);
    let shown: Vec<_> = peers.iter().skip(pos.offset).take(fit).collect();
    let peer_name = |p: &PeerStatus| {
        p.name
            .clone()
            .or_else(|| {
                p.group
                    .and_then(|g| model.group_name(&g).map(str::to_string))
            })
            .unwrap_or_else(|| "(not said yet)".into())
    };
    let names: Vec<String> = shown.iter().map(|p| peer_name(p)).collect();
    let widths = super::fit_columns(
        inner.width,
        &[
            super::Col::text("Group", names.iter().map(String::as_str)),
            super::Col::fixed(10),
            super::Col::fixed(8),
            super::Col::fixed(11),
            super::Col::text(
                "Last error",
                shown
                    .iter()
                    .map(|p| p.last_error.as_deref().unwrap_or_default()),
            ),
        ],
    );
    let rows = shown.iter().zip(&names).map(|(p, name)| {
        let state = match (p.connected, p.in_sync) {
            (true, Some(true)) => Span::styled("in sync", theme.good()),
            (true, _) => Span::styled("syncing", theme.warn()),
            (false, _) if p.requested => Span::styled("asked", theme.warn()),
            (false, _) => Span::styled("offline", theme.dim()),
        };
        Row::new(vec![
            Line::raw(super::clip(name, widths[0])),
            Line::raw(p.device.fmt_short()),
            Line::from(state),
            Line::raw(ago(model.now, p.last_seen)),
            Line::from(Span::styled(
                super::clip(p.last_error.as_deref().unwrap_or_default(), widths[4]),
                theme.bad(),
            )),
        ])
    });
    let table = Table::new(rows, super::lengths(&widths))
        .header(
            Row::new(["Group", "Device", "State", "Last heard", "Last error"])
                .style(theme.header()),
        )
        .row_highlight_style(if model.sync_pane == SyncPane::Peers {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        });
    let mut state =
        TableState::default().with_selected((!peers.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);
    if peers.is_empty() {
        frame.render_widget(
            Paragraph::new("No peers yet: invite a device, or link with another group.")
                .style(theme.dim()),
            super::below(inner, 1),
        );
    }

    let names = model.names();
    let mut docs: Vec<_> = s.documents.iter().collect();
    docs.sort_by_key(|d| {
        (
            d.group != Some(s.group),
            d.group.and_then(|g| names.get(&g).cloned()),
            d.kind.name(),
        )
    });
    let block = Block::bordered()
        .border_style(focus(SyncPane::Documents))
        .title(Span::styled(
            format!(" Documents ({}) ", docs.len()),
            theme.title(),
        ));
    let inner = block.inner(docs_area);
    frame.render_widget(block, docs_area);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.doc_pos.shown(docs.len(), fit);
    let right = |s: String| Line::from(s).alignment(Alignment::Right);
    let shown: Vec<_> = docs.iter().skip(pos.offset).take(fit).collect();
    let groups: Vec<String> = shown
        .iter()
        .map(|d| {
            d.group
                .map(|g| names.get(&g).cloned().unwrap_or_else(|| g.fmt_short()))
                .unwrap_or_else(|| s.group_name.clone())
        })
        .collect();
    let states: Vec<Vec<(String, ratatui::style::Style)>> = shown
        .iter()
        .map(|d| {
            let mut parts = vec![match (d.peers, d.peers_in_sync) {
                (Some(0), _) | (None, _) => ("no peer has it open".to_string(), theme.dim()),
                (Some(n), Some(k)) if k == n => (format!("in sync with {n}"), theme.good()),
                (Some(n), k) => (
                    format!("syncing: {}/{n} in sync", k.unwrap_or(0)),
                    theme.warn(),
                ),
            }];
            if d.heads > 1 {
                // Concurrent edits not yet merged by a later change.
                parts.push((" · concurrent edits".to_string(), theme.warn()));
            }
            parts
        })
        .collect();
    let state_texts: Vec<String> = states
        .iter()
        .map(|p| p.iter().map(|(t, _)| t.as_str()).collect())
        .collect();
    let widths = super::fit_columns(
        inner.width,
        &[
            super::Col::text("Group", groups.iter().map(String::as_str)),
            super::Col::fixed(12),
            super::Col::fixed(5),
            super::Col::fixed(7),
            super::Col::fixed(9),
            super::Col::text("Sync", state_texts.iter().map(String::as_str)),
        ],
    );
    let rows = shown
        .iter()
        .zip(groups)
        .zip(states)
        .map(|((d, group), state)| {
            let heads = if d.heads > 1 {
                Span::styled(d.heads.to_string(), theme.warn())
            } else {
                Span::raw(d.heads.to_string())
            };
            Row::new(vec![
                Line::raw(super::clip(&group, widths[0])),
                Line::raw(d.kind.name()),
                Line::from(heads),
                right(d.changes.map_or("–".into(), |c| c.to_string())),
                right(d.bytes.map_or("–".into(), bytes)),
                super::clip_spans(state, widths[5]),
            ])
        });
    let table = Table::new(rows, super::lengths(&widths))
        .header(
            Row::new(vec![
                Line::raw("Group"),
                Line::raw("Document"),
                Line::raw("Heads"),
                right("Changes".into()),
                right("Stored".into()),
                Line::raw("Sync"),
            ])
            .style(theme.header()),
        )
        .row_highlight_style(if model.sync_pane == SyncPane::Documents {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        });
    let mut state =
        TableState::default().with_selected((!docs.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);

    let last_error = peers
        .iter()
        .filter_map(|p| {
            let e = p.last_error.as_ref()?;
            let who = p.name.clone().unwrap_or_else(|| p.device.fmt_short());
            Some(format!("{who}: {e}"))
        })
        .next();
    let line = match (&model.node_error, last_error) {
        (Some(e), _) => Line::from(Span::styled(format!(" Last error: node: {e}"), theme.bad())),
        (None, Some(e)) => Line::from(Span::styled(format!(" Last error: {e}"), theme.bad())),
        (None, None) => Line::from(Span::styled(" No errors.", theme.dim())),
    };
    frame.render_widget(Paragraph::new(line), last);
}

/// The requests to link waiting for this group's steward, with the keys
/// that answer them.
fn draw_requests(
    model: &Model,
    theme: Theme,
    frame: &mut Frame,
    area: Rect,
    border: ratatui::style::Style,
) {
    let requests = model.requests();
    let block = Block::bordered()
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(" Requests to link ", theme.title()),
            Span::styled(
                format!("{} waiting · a accept · x refuse ", requests.len()),
                theme.dim(),
            ),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.request_pos.shown(requests.len(), fit);
    let shown: Vec<_> = requests.iter().skip(pos.offset).take(fit).collect();
    let widths = super::fit_columns(
        inner.width,
        &[
            super::Col::text("Group", shown.iter().map(|r| r.name.as_str())),
            super::Col::text(
                "Area",
                shown.iter().map(|r| r.area.as_deref().unwrap_or_default()),
            ),
            super::Col::fixed(5),
            super::Col::fixed(10),
            super::Col::fixed(11),
        ],
    );
    let rows = shown.iter().map(|r| {
        Row::new(vec![
            Line::raw(super::clip(&r.name, widths[0])),
            Line::raw(super::clip(
                r.area.as_deref().unwrap_or_default(),
                widths[1],
            )),
            Line::raw(super::network::kind_label(r.kind)),
            Line::raw(r.group.fmt_short()),
            Line::raw(ago(model.now, Some(r.at))),
        ])
    });
    let table = Table::new(rows, super::lengths(&widths))
        .header(Row::new(["Group", "Area", "Kind", "Id", "Asked"]).style(theme.header()))
        .row_highlight_style(if model.sync_pane == SyncPane::Requests {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        });
    let mut state = TableState::default().with_selected(Some(pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);
}
