//! Keys on the group screen: its tabs, plan, meet-ups and members.

use super::*;

pub(super) fn group_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    match key.code {
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            switch_tab(model, true);
            return Vec::new();
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            switch_tab(model, false);
            return Vec::new();
        }
        _ => {}
    }
    let own = model.target == Target::Own;
    let page = model.page(Screen::Group);
    match model.tab {
        Tab::Constitution => {
            if let Some(d) = movement(&key, page) {
                scroll_constitution(model, d);
            }
        }
        Tab::Plan => {
            let n = plan_actions(model).len();
            let page = plan_page(model);
            if let Some(d) = movement(&key, page) {
                model.action_pos.move_by(d, n, page);
            } else if key.code == KeyCode::Char('a') {
                if !own {
                    return not_yours(model, "add actions to");
                }
                model.overlay = Some(Overlay::Form(FormKind::Action, action_form(model)));
            } else if matches!(key.code, KeyCode::Char('d' | 'x') | KeyCode::Enter) {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                match actions.get(model.action_pos.selected) {
                    Some(a) if a.status == ActionStatus::Done => {
                        model.flash = Some((
                            Level::Info,
                            format!("“{}” is already done (o reopens it)", a.title),
                        ));
                    }
                    Some(a) => return vec![Cmd::Edit(Edit::ActionDone(a.id.clone()))],
                    None => model.flash = Some((Level::Error, "no action selected".into())),
                }
            } else if matches!(key.code, KeyCode::Char('e' | 'r')) {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                let Some(a) = actions.get(model.action_pos.selected).cloned() else {
                    model.flash = Some((Level::Error, "no action selected".into()));
                    return Vec::new();
                };
                if key.code == KeyCode::Char('e') {
                    let owner = model
                        .plan
                        .ready()
                        .and_then(|p| p.owners.get(a.id.as_str()))
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    model.overlay = Some(Overlay::Form(
                        FormKind::EditAction(a.id.clone()),
                        Form::new(
                            "Change action",
                            &[
                                ("Title", "what is to be done", &a.title),
                                (
                                    "Owner",
                                    "a member's name, part of it, or id; empty for none",
                                    &owner,
                                ),
                                (
                                    "Due",
                                    "YYYY-MM-DD; empty for none",
                                    &a.due.map(|d| d.to_string()).unwrap_or_default(),
                                ),
                            ],
                        )
                        .suggest("Owner", super::forms::owner_suggestions(model)),
                    ));
                } else {
                    model.overlay = Some(Overlay::Confirm {
                        prompt: format!("Remove the action “{}” from the plan?", a.title),
                        edit: Edit::RemoveAction(a.id.clone()),
                    });
                }
            } else if key.code == KeyCode::Char('v') {
                model.overlay = Some(Overlay::Goals(0));
            } else if key.code == KeyCode::Char('o') {
                if !own {
                    return not_yours(model, "change");
                }
                let actions = plan_actions(model);
                match actions.get(model.action_pos.selected) {
                    Some(a) if a.status == ActionStatus::Done => {
                        return vec![Cmd::Edit(Edit::ActionReopen(a.id.clone()))];
                    }
                    Some(a) => {
                        model.flash = Some((Level::Info, format!("“{}” is still open", a.title)));
                    }
                    None => model.flash = Some((Level::Error, "no action selected".into())),
                }
            }
        }
        Tab::Meetups => {
            let n = model.meetups.ready().map_or(0, Vec::len);
            if let Some(d) = movement(&key, page) {
                let before = model.meetup_pos.selected;
                model.meetup_pos.move_by(d, n, page);
                if model.meetup_pos.selected != before {
                    model.meetup_scroll = 0;
                }
                return Vec::new();
            }
            match key.code {
                KeyCode::Char('J') => model.meetup_scroll = model.meetup_scroll.saturating_add(1),
                KeyCode::Char('K') => model.meetup_scroll = model.meetup_scroll.saturating_sub(1),
                KeyCode::Char('a') => {
                    model.overlay = Some(Overlay::Form(FormKind::Meetup, meetup_form(model.today)));
                }
                KeyCode::Char('c' | 'r') => {
                    let Some(m) = model
                        .meetups
                        .ready()
                        .and_then(|m| m.get(model.meetup_pos.selected))
                        .cloned()
                    else {
                        model.flash =
                            Some((Level::Error, "no meet-up selected: add one with a".into()));
                        return Vec::new();
                    };
                    model.overlay = Some(if key.code == KeyCode::Char('c') {
                        Overlay::Form(FormKind::EditMeetup(m.id.clone()), edit_meetup_form(&m))
                    } else {
                        Overlay::Confirm {
                            prompt: format!(
                                "Remove the meet-up of {} at {}, with its agenda and notes?",
                                m.date, m.place
                            ),
                            edit: Edit::RemoveMeetup(m.id.clone()),
                        }
                    });
                }
                KeyCode::Char('e') | KeyCode::Enter | KeyCode::Char('E') => {
                    let Some(m) = model
                        .meetups
                        .ready()
                        .and_then(|m| m.get(model.meetup_pos.selected))
                    else {
                        model.flash =
                            Some((Level::Error, "no meet-up selected: add one with a".into()));
                        return Vec::new();
                    };
                    let text = m.notes.as_str().to_string();
                    if key.code == KeyCode::Char('E') {
                        return vec![Cmd::OpenEditor {
                            id: m.id.clone(),
                            text,
                        }];
                    }
                    let id = m.id.clone();
                    model.overlay = Some(Overlay::Notes(notes_editor(model, &id, &text)));
                }
                _ => {}
            }
        }
        Tab::Members => {
            let n = model.member_rows.len();
            if let Some(d) = movement(&key, page) {
                model.member_pos.move_by(d, n, page);
                return Vec::new();
            }
            match key.code {
                KeyCode::Char('/') => model.filtering = true,
                KeyCode::Char('a') => {
                    model.overlay = Some(Overlay::Form(FormKind::Member, member_form()));
                }
                KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => {
                    match model.member(model.member_pos.selected) {
                        Some(m) => model.overlay = Some(Overlay::Member(m.id.clone())),
                        None => model.flash = Some((Level::Error, "no member selected".into())),
                    }
                }
                _ => {}
            }
        }
    }
    Vec::new()
}

pub(super) fn not_yours(model: &mut Model, verb: &str) -> Vec<Cmd> {
    let name = model.target_name();
    model.flash = Some((
        Level::Error,
        format!("only {name}'s own devices can {verb} its plan"),
    ));
    Vec::new()
}
