//! The constitution, the plan and meet-ups.

use std::collections::BTreeMap;

use autosurgeon::Text;
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::control::{
    ConstitutionUpdate, MeetupInput, MeetupPatch, PlanView, SharedDocs,
};
use groundwork_protocol::edit::{self, KeyedMap};
use groundwork_protocol::schema::GroupDocument;
use groundwork_protocol::schema::{
    Action, ActionStatus, Amendment, Constitution, Goal, Meetup, Meetups, Member, Plan, Roster,
};
use groundwork_protocol::{Date, DocId, DocKind, GroupId, ShortId};

use groundwork_protocol::text::Field;

use super::checked;
use super::{FromDocChecked, Group, GroupError};

pub(super) fn not_found(what: &'static str, id: &ShortId) -> GroupError {
    GroupError::NotFound {
        what,
        id: id.to_string(),
    }
}

impl Group {
    /// Amends the constitution: new text and/or an adoption date. Returns the
    /// new version, or `None` if nothing changed.
    pub fn amend_constitution(
        &self,
        update: &ConstitutionUpdate,
        today: Date,
    ) -> Result<Option<u64>, GroupError> {
        if let Some(t) = &update.text {
            checked(Field::Constitution, t)?;
        }
        if let Some(t) = &update.summary {
            checked(Field::AmendmentSummary, t)?;
        }
        let by = self.device_id().fmt_short();
        self.edit(&[DocKind::Constitution], |ed| {
            edit::update(ed.doc(DocKind::Constitution)?, |c: &mut Constitution| {
                let text_changed = update.text.as_deref().is_some_and(|t| t != c.body.as_str());
                let adopted_changed = update.adopted.is_some_and(|d| Some(d) != c.adopted);
                if !text_changed && !adopted_changed {
                    return None;
                }
                if let Some(t) = update.text.as_deref().filter(|_| text_changed) {
                    c.body.update(t);
                }
                if adopted_changed {
                    c.adopted = update.adopted;
                }
                let version = c
                    .amendments
                    .iter()
                    .map(|a| a.version)
                    .max()
                    .unwrap_or(0)
                    .max(c.version)
                    + 1;
                c.version = version;
                let summary = update.summary.clone().unwrap_or_else(|| {
                    match (text_changed, update.adopted) {
                        (true, _) => "text amended".to_owned(),
                        (false, Some(d)) => format!("adopted on {d}"),
                        (false, None) => "amended".to_owned(),
                    }
                });
                c.amendments.push(Amendment {
                    version,
                    date: today,
                    summary,
                    by: by.clone(),
                });
                Some(version)
            })
            .map_err(GroupError::from)
        })
    }

    /// The plan, with action owners resolved where the roster is readable.
    pub fn plan_view(&self) -> Result<PlanView, GroupError> {
        let plan: Plan = self.read()?;
        let mut owners = BTreeMap::new();
        if self.role()?.may_read(DocKind::Roster) {
            let roster: Roster = self.read()?;
            for (action, member) in &roster.action_owners {
                if let Some(m) = roster.members.get(member) {
                    owners.insert(
                        action.clone(),
                        groundwork_protocol::control::Owner {
                            id: member.clone(),
                            name: m.name.clone(),
                        },
                    );
                }
            }
        }
        Ok(PlanView { plan, owners })
    }

    /// What `group` shares with this node: its constitution and plan as held
    /// here (from syncing with it or relaying for it), `None` where none is
    /// held. For this node's own group, its own documents.
    pub fn shared(&self, group: &GroupId) -> Result<SharedDocs, GroupError> {
        fn held<T: GroupDocument>(g: &Group, group: &GroupId) -> Result<Option<T>, GroupError> {
            let id = DocId::derive(group, T::KIND);
            let cached = g.docs().get(&id).map(|d| {
                if d.is_empty() {
                    Ok(None)
                } else {
                    T::from_doc_checked(d).map(Some)
                }
            });
            match cached {
                Some(r) => r,
                None => match g.store().load(&id)? {
                    Some(d) if !d.is_empty() => T::from_doc_checked(&d).map(Some),
                    _ => Ok(None),
                },
            }
        }
        Ok(SharedDocs {
            group: *group,
            constitution: held(self, group)?,
            plan: held(self, group)?,
        })
    }

    /// Sets the plan's vision.
    pub fn set_vision(&self, vision: &str) -> Result<bool, GroupError> {
        checked(Field::Vision, vision)?;
        self.edit(&[DocKind::Plan], |ed| {
            Ok(edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let changed = p.vision.as_str() != vision;
                p.vision.update(vision);
                changed
            })?)
        })
    }

    /// Adds a goal to the plan.
    pub fn add_goal(&self, text: &str) -> Result<ShortId, GroupError> {
        let text = non_empty(Field::Goal, text)?;
        self.edit(&[DocKind::Plan], |ed| {
            Ok(edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let id = Group::new_short_id(|id| p.goals.iter().any(|g| &g.id == id));
                p.goals.push(Goal {
                    id: id.clone(),
                    text,
                });
                id
            })?)
        })
    }

    /// Adds an action. `owner` is a member id, a member's name, or a part
    /// of a name that only one member's holds.
    pub fn add_action(
        &self,
        title: &str,
        owner: Option<&str>,
        due: Option<Date>,
    ) -> Result<ShortId, GroupError> {
        let title = non_empty(Field::ActionTitle, title)?;
        if let Some(o) = owner {
            checked(Field::Owner, o)?;
        }
        let kinds: &[DocKind] = if owner.is_some() {
            &[DocKind::Plan, DocKind::Roster]
        } else {
            &[DocKind::Plan]
        };
        self.edit(kinds, |ed| {
            let owner_id = match owner {
                Some(o) => Some(resolve_member(ed.doc(DocKind::Roster)?, o)?),
                None => None,
            };
            let id = edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let id = Group::new_short_id(|id| p.action(id).is_some());
                p.actions.push(Action {
                    id: id.clone(),
                    title,
                    due,
                    status: ActionStatus::Open,
                    done_on: None,
                });
                id
            })?;
            if let Some(m) = owner_id {
                edit::put_entry(
                    ed.doc(DocKind::Roster)?,
                    KeyedMap::ActionOwners,
                    id.as_str(),
                    &m.to_string(),
                )?;
            }
            Ok(id)
        })
    }

    /// Marks an action done. Returns false if it already was.
    pub fn action_done(&self, id: &ShortId, today: Date) -> Result<bool, GroupError> {
        self.set_action_status(id, ActionStatus::Done, Some(today))
    }

    /// Opens a done action again (its done date cleared). Returns false if
    /// it was open.
    pub fn action_reopen(&self, id: &ShortId) -> Result<bool, GroupError> {
        self.set_action_status(id, ActionStatus::Open, None)
    }

    /// Sets an action's status and done date; false if it had that status.
    fn set_action_status(
        &self,
        id: &ShortId,
        status: ActionStatus,
        done_on: Option<Date>,
    ) -> Result<bool, GroupError> {
        self.edit(&[DocKind::Plan], |ed| {
            edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let a = p
                    .actions
                    .iter_mut()
                    .find(|a| &a.id == id)
                    .ok_or_else(|| not_found("action", id))?;
                if a.status == status {
                    return Ok(false);
                }
                a.status = status;
                a.done_on = done_on;
                Ok(true)
            })?
        })
    }

    /// Records listening conversations held, and any themes they raised.
    pub fn add_conversations(&self, count: u32, themes: &[String]) -> Result<i64, GroupError> {
        for t in themes {
            checked(Field::Theme, t.trim())?;
        }
        self.edit(&[DocKind::Plan], |ed| {
            Ok(edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                p.listening.conversations_held.increment(i64::from(count));
                for t in themes.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                    if !p.listening.themes.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                        p.listening.themes.push(t.to_owned());
                    }
                    p.listening
                        .theme_conversations
                        .entry(t.to_lowercase())
                        .or_default()
                        .increment(i64::from(count));
                }
                p.listening.conversations_held.value()
            })?)
        })
    }

    /// Adds a meet-up.
    pub fn add_meetup(&self, input: &MeetupInput) -> Result<ShortId, GroupError> {
        let place = non_empty(Field::Place, &input.place)?;
        if let Some(a) = &input.agenda {
            checked(Field::Agenda, a)?;
        }
        self.edit(&[DocKind::Meetups], |ed| {
            Ok(edit::update(
                ed.doc(DocKind::Meetups)?,
                |ms: &mut Meetups| {
                    let id = Group::new_short_id(|id| ms.get(id).is_some());
                    ms.meetups.push(Meetup {
                        id: id.clone(),
                        date: input.date,
                        place,
                        agenda: Text::with_value(input.agenda.as_deref().unwrap_or_default()),
                        notes: Text::with_value(""),
                        attendance: input.attendance.unwrap_or(0),
                        actions: vec![],
                    });
                    id
                },
            )?)
        })
    }

    /// Meet-ups, newest first.
    pub fn meetups(&self) -> Result<Vec<Meetup>, GroupError> {
        let mut ms = self.read::<Meetups>()?.meetups;
        ms.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        Ok(ms)
    }

    /// One meet-up.
    pub fn meetup(&self, id: &ShortId) -> Result<Meetup, GroupError> {
        self.read::<Meetups>()?
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("meet-up", id))
    }

    /// Appends a paragraph to a meet-up's notes.
    pub fn append_meetup_note(&self, id: &ShortId, text: &str) -> Result<(), GroupError> {
        let text = non_empty(Field::Notes, text)?;
        let held = self.meetup(id)?.notes.as_str().chars().count();
        let total = held + text.chars().count() + 2;
        if total > Field::Notes.max_chars() {
            return Err(groundwork_protocol::text::TextRejected::TooLong {
                field: "notes",
                chars: total,
                max: Field::Notes.max_chars(),
            }
            .into());
        }
        self.edit_meetup(id, |m| {
            let notes = m.notes.as_str();
            let sep = if notes.is_empty() || notes.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            let end = notes.len();
            m.notes.splice(end, 0, format!("{sep}{text}\n"));
        })
    }

    /// Replaces a meet-up's notes (as a diff, so concurrent edits merge).
    /// With `base`, the notes `text` was written from: if they changed
    /// since (a peer's edit arrived), both changes are kept
    /// ([`edit::merge_text`]).
    pub fn set_meetup_notes(
        &self,
        id: &ShortId,
        text: &str,
        base: Option<&str>,
    ) -> Result<(), GroupError> {
        checked(Field::Notes, text)?;
        self.edit_meetup(id, |m| {
            let merged = match base {
                Some(b) if b != m.notes.as_str() => edit::merge_text(b, m.notes.as_str(), text),
                _ => text.to_owned(),
            };
            m.notes.update(merged)
        })
    }

    /// Records how many came to a meet-up.
    pub fn set_attendance(&self, id: &ShortId, count: u64) -> Result<(), GroupError> {
        self.edit_meetup(id, |m| m.attendance = count)
    }

    /// Changes a meet-up's date, place, agenda (as a diff, so a peer's
    /// concurrent edit elsewhere in it is kept) or attendance. Returns
    /// whether anything changed.
    pub fn change_meetup(&self, id: &ShortId, patch: &MeetupPatch) -> Result<bool, GroupError> {
        let place = match &patch.place {
            Some(p) => Some(non_empty(Field::Place, p)?),
            None => None,
        };
        if let Some(a) = &patch.agenda {
            checked(Field::Agenda, a)?;
        }
        let mut changed = false;
        self.edit_meetup(id, |m| {
            let before = (
                m.date,
                m.place.clone(),
                m.agenda.as_str().to_owned(),
                m.attendance,
            );
            if let Some(d) = patch.date {
                m.date = d;
            }
            if let Some(p) = place {
                m.place = p;
            }
            if let Some(a) = &patch.agenda
                && a != m.agenda.as_str()
            {
                m.agenda.update(a.as_str());
            }
            if let Some(n) = patch.attendance {
                m.attendance = n;
            }
            changed = before
                != (
                    m.date,
                    m.place.clone(),
                    m.agenda.as_str().to_owned(),
                    m.attendance,
                );
        })?;
        Ok(changed)
    }

    /// Removes a meet-up with its agenda and notes, returning it.
    pub fn remove_meetup(&self, id: &ShortId) -> Result<Meetup, GroupError> {
        self.edit(&[DocKind::Meetups], |ed| {
            edit::update(ed.doc(DocKind::Meetups)?, |ms: &mut Meetups| {
                let at = ms
                    .meetups
                    .iter()
                    .position(|m| &m.id == id)
                    .ok_or_else(|| not_found("meet-up", id))?;
                Ok(ms.meetups.remove(at))
            })?
        })
    }

    fn edit_meetup(&self, id: &ShortId, f: impl FnOnce(&mut Meetup)) -> Result<(), GroupError> {
        self.edit(&[DocKind::Meetups], |ed| {
            edit::update(ed.doc(DocKind::Meetups)?, |ms: &mut Meetups| {
                let m = ms
                    .meetups
                    .iter_mut()
                    .find(|m| &m.id == id)
                    .ok_or_else(|| not_found("meet-up", id))?;
                f(m);
                Ok(())
            })?
        })
    }
}

/// `s` trimmed, refused if empty or not fit for `field` (its length, or a
/// control character).
pub(super) fn non_empty(field: Field, s: &str) -> Result<String, GroupError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(GroupError::Invalid {
            code: ErrorCode::Usage,
            field: field.name(),
            why: "must not be empty".into(),
        });
    }
    checked(field, t)?;
    Ok(t.to_owned())
}

/// A member id, or the id of the one member with exactly this name (any case).
pub(super) fn resolve_member(
    roster: &automerge::AutoCommit,
    who: &str,
) -> Result<ShortId, GroupError> {
    if let Ok(id) = who.parse::<ShortId>()
        && edit::has_entry(roster, KeyedMap::RosterMembers, id.as_str())?
    {
        return Ok(id);
    }
    let roster = Roster::from_doc_checked(roster)?;
    let wanted = who.trim().to_lowercase();
    // The exact name (any case), else part of one: "ada" finds Ada Obi
    // when no one else's name holds "ada".
    let mut matches: Vec<(ShortId, &Member)> = roster
        .iter()
        .filter(|(_, m)| m.name.to_lowercase() == wanted)
        .collect();
    let partly = matches.is_empty() && !wanted.is_empty();
    if partly {
        matches = roster
            .iter()
            .filter(|(_, m)| m.name.to_lowercase().contains(&wanted))
            .collect();
    }
    match matches.as_slice() {
        [(id, _)] => Ok(id.clone()),
        [] => Err(GroupError::Invalid {
            code: ErrorCode::NotFound,
            field: "owner",
            why: format!("no member has the id '{who}' or a name that holds it"),
        }),
        _ => Err(GroupError::Invalid {
            code: ErrorCode::Usage,
            field: "owner",
            why: format!(
                "{} members {} '{who}'; give more of the name, or a member id ({})",
                matches.len(),
                if partly {
                    "have names that hold"
                } else {
                    "are called"
                },
                matches
                    .iter()
                    .map(|(id, _)| id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
