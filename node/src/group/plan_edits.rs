//! Editing and removing the plan's goals and actions, so that a name typed
//! into one can be taken out (and, with an epoch of the plan, out of its
//! history: `epoch start plan`).

use groundwork_protocol::DocKind;
use groundwork_protocol::ShortId;
use groundwork_protocol::control::ActionPatch;
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::edit::{self, KeyedMap};
use groundwork_protocol::schema::{Action, Goal, Plan};
use groundwork_protocol::text::Field;

use super::documents::{non_empty, not_found, resolve_member};
use super::{Group, GroupError, checked};

impl Group {
    /// Replaces a goal's text. Returns false if it was already that.
    pub fn edit_goal(&self, id: &ShortId, text: &str) -> Result<bool, GroupError> {
        let text = non_empty(Field::Goal, text)?;
        self.edit(&[DocKind::Plan], |ed| {
            edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let g = p
                    .goals
                    .iter_mut()
                    .find(|g| &g.id == id)
                    .ok_or_else(|| not_found("goal", id))?;
                let changed = g.text != text;
                g.text = text;
                Ok(changed)
            })?
        })
    }

    /// Removes a goal, returning it.
    pub fn remove_goal(&self, id: &ShortId) -> Result<Goal, GroupError> {
        self.edit(&[DocKind::Plan], |ed| {
            edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let at = p
                    .goals
                    .iter()
                    .position(|g| &g.id == id)
                    .ok_or_else(|| not_found("goal", id))?;
                Ok(p.goals.remove(at))
            })?
        })
    }

    /// Changes an action's title, due date or owner (a member id or exact
    /// name; the link lives in the roster). Returns whether anything
    /// changed.
    pub fn edit_action(&self, id: &ShortId, patch: &ActionPatch) -> Result<bool, GroupError> {
        let title = match &patch.title {
            Some(t) => Some(non_empty(Field::ActionTitle, t)?),
            None => None,
        };
        if let Some(o) = &patch.owner {
            checked(Field::Owner, o)?;
        }
        if patch.owner.is_some() && patch.clear_owner {
            return Err(GroupError::Invalid {
                code: ErrorCode::Usage,
                field: "owner",
                why: "give an owner or clear it, not both".into(),
            });
        }
        if patch.due.is_some() && patch.clear_due {
            return Err(GroupError::Invalid {
                code: ErrorCode::Usage,
                field: "due",
                why: "give a due date or clear it, not both".into(),
            });
        }
        let owner_changes = patch.owner.is_some() || patch.clear_owner;
        let kinds: &[DocKind] = if owner_changes {
            &[DocKind::Plan, DocKind::Roster]
        } else {
            &[DocKind::Plan]
        };
        self.edit(kinds, |ed| {
            let owner = match &patch.owner {
                Some(o) => Some(resolve_member(ed.doc(DocKind::Roster)?, o)?),
                None => None,
            };
            let changed = edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let a = p
                    .actions
                    .iter_mut()
                    .find(|a| &a.id == id)
                    .ok_or_else(|| not_found("action", id))?;
                let before = a.clone();
                if let Some(t) = &title {
                    a.title = t.clone();
                }
                if let Some(d) = patch.due {
                    a.due = Some(d);
                }
                if patch.clear_due {
                    a.due = None;
                }
                Ok::<bool, GroupError>(*a != before)
            })??;
            let mut owner_changed = false;
            if owner_changes {
                let roster = ed.doc(DocKind::Roster)?;
                let held: Option<String> =
                    edit::get_entry(roster, KeyedMap::ActionOwners, id.as_str())?;
                let wanted = owner.map(|m| m.to_string());
                if held != wanted {
                    owner_changed = true;
                    match wanted {
                        Some(m) => {
                            edit::put_entry(roster, KeyedMap::ActionOwners, id.as_str(), &m)?;
                        }
                        None => {
                            edit::delete_entry(roster, KeyedMap::ActionOwners, id.as_str())?;
                        }
                    }
                }
            }
            Ok(changed || owner_changed)
        })
    }

    /// Removes an action (and its owner link), returning it.
    pub fn remove_action(&self, id: &ShortId) -> Result<Action, GroupError> {
        let kinds: &[DocKind] = if self.role()?.may_write(DocKind::Roster) {
            &[DocKind::Plan, DocKind::Roster]
        } else {
            &[DocKind::Plan]
        };
        self.edit(kinds, |ed| {
            let removed = edit::update(ed.doc(DocKind::Plan)?, |p: &mut Plan| {
                let at = p
                    .actions
                    .iter()
                    .position(|a| &a.id == id)
                    .ok_or_else(|| not_found("action", id))?;
                Ok::<Action, GroupError>(p.actions.remove(at))
            })??;
            if kinds.contains(&DocKind::Roster) {
                edit::delete_entry(
                    ed.doc(DocKind::Roster)?,
                    KeyedMap::ActionOwners,
                    id.as_str(),
                )?;
            }
            Ok(removed)
        })
    }
}
