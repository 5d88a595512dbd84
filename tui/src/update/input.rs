//! The filter line, pasted text and the mouse wheel.

use super::*;

pub(super) fn on_filter_key(model: &mut Model, key: KeyEvent) {
    let members = model.screen == Screen::Group && model.tab == Tab::Members;
    let filter = if members {
        &mut model.member_filter
    } else {
        &mut model.network_filter
    };
    match key.code {
        KeyCode::Enter => model.filtering = false,
        KeyCode::Esc => {
            filter.clear();
            model.filtering = false;
        }
        KeyCode::Backspace => {
            filter.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.push(c),
        _ => return,
    }
    if members {
        model.member_pos = ListPos::default();
    } else {
        model.network_pos = ListPos::default();
    }
    model.refilter();
}

pub(super) fn on_paste(model: &mut Model, text: &str) {
    let (width, height) = notes_area_size(model);
    match model.overlay.as_mut() {
        Some(Overlay::Notes(n)) if !n.saving && !n.confirm_discard => {
            n.area.insert_str(text, height, width)
        }
        Some(Overlay::Form(_, f)) if !f.saving => {
            for c in text.chars().filter(|c| !c.is_control()) {
                f.input(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
        }
        _ => {}
    }
}

pub(super) fn on_mouse(model: &mut Model, m: MouseEvent) -> Vec<Cmd> {
    let delta: isize = match m.kind {
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::ScrollDown => 3,
        _ => return Vec::new(),
    };
    let (_, height) = notes_area_size(model);
    if let Some(Overlay::Notes(n)) = model.overlay.as_mut() {
        n.area.scroll(delta, height);
        return Vec::new();
    }
    if model.overlay.is_some() {
        return Vec::new();
    }
    let page = model.page(model.screen);
    match model.screen {
        Screen::Network => model
            .network_pos
            .move_by(delta, model.network_rows.len(), page),
        Screen::Dashboard => {
            let n = model.report.ready().map_or(0, |r| r.by_area.len());
            let page = dashboard_table_page(model);
            model.area_pos.move_by(delta, n, page)
        }
        Screen::Sync => {
            let page = page / 2;
            match model.sync_pane {
                SyncPane::Requests => {
                    let n = model.requests().len();
                    model.request_pos.move_by(delta, n, REQUESTS_SHOWN)
                }
                SyncPane::Peers => {
                    let n = model.peers().len();
                    model.peer_pos.move_by(delta, n, page)
                }
                SyncPane::Documents => {
                    let n = model.status.ready().map_or(0, |s| s.documents.len());
                    model.doc_pos.move_by(delta, n, page)
                }
            }
        }
        Screen::Group => match model.tab {
            Tab::Constitution => scroll_constitution(model, delta),
            Tab::Plan => {
                let n = plan_actions(model).len();
                model.action_pos.move_by(delta, n, plan_page(model))
            }
            Tab::Meetups => {
                let s = i64::from(model.meetup_scroll) + delta as i64;
                model.meetup_scroll = s.clamp(0, i64::from(u16::MAX)) as u16;
            }
            Tab::Members => model
                .member_pos
                .move_by(delta, model.member_rows.len(), page),
        },
    }
    Vec::new()
}
