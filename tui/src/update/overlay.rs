//! Keys while an overlay is open: help, a message, a member's record, a confirmation, a form or the notes editor.

use super::*;

/// The notes editor's text area size for the current terminal: the
/// overlay's inside.
pub fn notes_area_size(model: &Model) -> (u16, u16) {
    let (w, h) = model.size;
    let (ow, oh) = overlay_size(w, h);
    // Borders (2), and the title/help lines (2).
    (ow.saturating_sub(2), oh.saturating_sub(4))
}

/// The size of a large overlay on a `w`×`h` terminal.
pub fn overlay_size(w: u16, h: u16) -> (u16, u16) {
    let ow = if w > 100 {
        w * 3 / 4
    } else {
        w.saturating_sub(4)
    };
    let oh = if h > 30 {
        h * 3 / 4
    } else {
        h.saturating_sub(2)
    };
    (ow, oh)
}

pub(super) fn on_overlay_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let (width, height) = notes_area_size(model);
    let Some(overlay) = model.overlay.as_mut() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Help => {
            if matches!(
                key.code,
                KeyCode::Char('?' | 'q') | KeyCode::Esc | KeyCode::Enter
            ) {
                model.overlay = None;
            }
        }
        Overlay::Message { .. } => {
            if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc | KeyCode::Enter) {
                model.overlay = None;
            }
        }
        Overlay::Member(id) => {
            let id = id.clone();
            let member = model
                .members
                .ready()
                .and_then(|all| all.iter().find(|m| m.id == id))
                .cloned();
            let Some(m) = member else {
                model.overlay = None;
                model.flash = Some((Level::Info, "that member is no longer on the roster".into()));
                return Vec::new();
            };
            match key.code {
                KeyCode::Char('q' | 'h') | KeyCode::Esc | KeyCode::Left => model.overlay = None,
                KeyCode::Char('e') | KeyCode::Enter => {
                    model.overlay = Some(Overlay::Form(
                        FormKind::EditMember(id),
                        edit_member_form(&m),
                    ));
                }
                KeyCode::Char('r') => {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!(
                            "Remove {} from the roster, with their contact details? \
                             Their past stays in the history until they are forgotten (f).",
                            m.member.name
                        ),
                        edit: Edit::RemoveMember(id),
                    });
                }
                KeyCode::Char('f') => {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!(
                            "Forget {} for good? Every device drops their record and its \
                             history as it switches. This cannot be undone.",
                            m.member.name
                        ),
                        edit: Edit::ForgetMember(id),
                    });
                }
                _ => {}
            }
        }
        Overlay::Goals(selected) => {
            let selected = *selected;
            let goals = plan_goals(model);
            let n = goals.len();
            let page = usize::from(height).max(1);
            if let Some(d) = movement(&key, page) {
                let to = (selected as isize)
                    .saturating_add(d)
                    .clamp(0, n.saturating_sub(1) as isize) as usize;
                model.overlay = Some(Overlay::Goals(to));
                return Vec::new();
            }
            let chosen = goals.get(selected).cloned();
            match key.code {
                KeyCode::Char('q' | 'h' | 'v') | KeyCode::Esc | KeyCode::Left => {
                    model.overlay = None;
                }
                KeyCode::Char('a' | 'e' | 'r') | KeyCode::Enter if model.target != Target::Own => {
                    model.overlay = None;
                    return not_yours(model, "change");
                }
                KeyCode::Char('a') => {
                    model.overlay = Some(Overlay::Form(FormKind::Goal, goal_form("")));
                }
                KeyCode::Char('e' | 'r') | KeyCode::Enter => {
                    let Some(g) = chosen else {
                        model.flash = Some((Level::Error, "no goal yet: add one with a".into()));
                        return Vec::new();
                    };
                    model.overlay = Some(if key.code == KeyCode::Char('r') {
                        Overlay::Confirm {
                            prompt: format!("Remove the goal “{}” from the plan?", g.text),
                            edit: Edit::RemoveGoal(g.id),
                        }
                    } else {
                        Overlay::Form(FormKind::EditGoal(g.id), goal_form(&g.text))
                    });
                }
                _ => {}
            }
        }
        Overlay::Confirm { edit, .. } => match key.code {
            KeyCode::Char('y' | 'Y') => {
                let edit = edit.clone();
                model.overlay = None;
                return vec![Cmd::Edit(edit)];
            }
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                model.overlay = None;
                model.flash = Some((Level::Info, "nothing changed".into()));
            }
            _ => {}
        },
        Overlay::Form(kind, form) => {
            if form.saving {
                return Vec::new();
            }
            match form.input(key) {
                FormKey::Cancel => model.overlay = None,
                FormKey::Submit => match form_edit(kind, form) {
                    Ok(edit) => {
                        form.saving = true;
                        form.error = None;
                        return vec![Cmd::Edit(edit)];
                    }
                    Err(e) => form.error = Some(e),
                },
                FormKey::Handled | FormKey::Ignored => {}
            }
        }
        Overlay::Notes(n) => {
            if n.saving {
                return Vec::new();
            }
            if n.confirm_discard {
                match key.code {
                    KeyCode::Char('y') => {
                        model.quit = n.quit_on_discard;
                        model.overlay = None;
                    }
                    _ => {
                        n.confirm_discard = false;
                        n.quit_on_discard = false;
                    }
                }
                return Vec::new();
            }
            if ctrl(&key, 's') {
                if !n.unsaved() {
                    model.overlay = None;
                    model.flash = Some((Level::Info, "notes unchanged".into()));
                    return Vec::new();
                }
                n.saving = true;
                n.error = None;
                return vec![Cmd::Edit(Edit::SetNotes {
                    id: n.meetup.clone(),
                    base: n.base.clone(),
                    text: n.area.text(),
                })];
            }
            if key.code == KeyCode::Esc {
                if n.unsaved() {
                    n.confirm_discard = true;
                } else {
                    model.overlay = None;
                }
                return Vec::new();
            }
            n.area.input(key, height, width);
        }
    }
    Vec::new()
}
