//! The forms the TUI opens, and checking what was typed into one.

use super::*;

pub(super) fn meetup_form(today: Date) -> Form {
    Form::new(
        "New meet-up",
        &[
            ("Date", "YYYY-MM-DD", &today.to_string()),
            ("Place", "where it is", ""),
            ("Agenda", "optional", ""),
        ],
    )
}

/// The form that changes meet-up `m`, filled with what is recorded. An
/// agenda of several lines is left out (a one-line field would join its
/// lines): `meetup edit --agenda` changes it.
pub(super) fn edit_meetup_form(m: &Meetup) -> Form {
    let (date, came) = (m.date.to_string(), m.attendance.to_string());
    let agenda = m.agenda.as_str().trim_end_matches('\n');
    let mut fields = vec![
        ("Date", "YYYY-MM-DD", date.as_str()),
        ("Place", "where it is", m.place.as_str()),
        ("Came", "how many came", came.as_str()),
    ];
    if !agenda.contains('\n') {
        fields.push(("Agenda", "optional", agenda));
    }
    Form::new("Change meet-up", &fields)
}

/// The form for a new goal, or one that changes a goal's `text`.
pub(super) fn goal_form(text: &str) -> Form {
    Form::new(
        if text.is_empty() {
            "New goal"
        } else {
            "Change goal"
        },
        &[("Goal", "the goal in a sentence", text)],
    )
}

pub(super) fn action_form(model: &Model) -> Form {
    Form::new(
        "New plan action",
        &[
            ("Title", "what is to be done", ""),
            ("Owner", "optional: a member's name, part of it, or id", ""),
            ("Due", "optional: YYYY-MM-DD", ""),
        ],
    )
    .suggest("Owner", owner_suggestions(model))
}

/// The members an action's owner may be picked from, by name; a name two
/// members share is shown with its id and filled in as the id, so the
/// node is never asked to guess between them.
pub(super) fn owner_suggestions(model: &Model) -> Vec<(String, String)> {
    let Some(members) = model.members.ready() else {
        return Vec::new();
    };
    let mut count = std::collections::HashMap::new();
    for m in members {
        *count.entry(m.member.name.as_str()).or_insert(0usize) += 1;
    }
    members
        .iter()
        .map(|m| {
            let name = &m.member.name;
            if count.get(name.as_str()).copied().unwrap_or(0) > 1 {
                (format!("{name} ({})", m.id), m.id.to_string())
            } else {
                (name.clone(), name.clone())
            }
        })
        .collect()
}

pub(super) fn member_form() -> Form {
    Form::new(
        "New member",
        &[
            ("Name", "full name", ""),
            ("Kind", "professional, activist or observer", "activist"),
            ("Email", "optional", ""),
            ("Phone", "optional", ""),
            ("Consent", "may we contact them? yes or no", "no"),
        ],
    )
    .choice("Kind", &["professional", "activist", "observer"])
    .choice("Consent", &["no", "yes"])
}

/// The form that changes member `m`, filled with what is recorded.
pub(super) fn edit_member_form(m: &MemberView) -> Form {
    let c = m.contact.as_ref();
    Form::new(
        "Change member",
        &[
            ("Name", "full name", &m.member.name),
            ("Kind", "", m.member.kind.name()),
            (
                "Email",
                "optional",
                c.and_then(|c| c.email.as_deref()).unwrap_or(""),
            ),
            (
                "Phone",
                "optional",
                c.and_then(|c| c.phone.as_deref()).unwrap_or(""),
            ),
            (
                "Consent",
                "",
                if c.is_some_and(|c| c.consent_to_contact) {
                    "yes"
                } else {
                    "no"
                },
            ),
        ],
    )
    .choice("Kind", &["professional", "activist", "observer"])
    .choice("Consent", &["no", "yes"])
}

fn optional_date(text: &str, what: &str) -> Result<Option<Date>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Date>()
        .map(Some)
        .map_err(|_| format!("{what} must be a date like 2026-03-01, not “{text}”"))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Checks a form and turns it into an edit, or says what is wrong.
pub(super) fn form_edit(kind: &FormKind, form: &Form) -> Result<Edit, String> {
    match kind {
        FormKind::Meetup => {
            let date =
                optional_date(form.value("Date"), "the date")?.ok_or("a meet-up needs a date")?;
            let place = form.value("Place");
            if place.is_empty() {
                return Err("a meet-up needs a place".into());
            }
            Ok(Edit::AddMeetup(MeetupInput {
                date,
                place: place.to_string(),
                agenda: optional(form.value("Agenda")),
                attendance: None,
            }))
        }
        FormKind::EditMeetup(id) => {
            let date =
                optional_date(form.value("Date"), "the date")?.ok_or("a meet-up needs a date")?;
            let place = form.value("Place");
            if place.is_empty() {
                return Err("a meet-up needs a place".into());
            }
            let came = form.value("Came");
            let attendance = came
                .parse::<u64>()
                .map_err(|_| format!("how many came must be a whole number, not “{came}”"))?;
            let has_agenda = form.fields.iter().any(|f| f.label == "Agenda");
            Ok(Edit::EditMeetup {
                id: id.clone(),
                patch: MeetupPatch {
                    date: Some(date),
                    place: Some(place.to_string()),
                    agenda: has_agenda.then(|| form.value("Agenda").to_string()),
                    attendance: Some(attendance),
                },
            })
        }
        kind @ (FormKind::Goal | FormKind::EditGoal(_)) => {
            let text = form.value("Goal");
            if text.is_empty() {
                return Err("a goal needs some words".into());
            }
            Ok(match kind {
                FormKind::EditGoal(id) => Edit::EditGoal {
                    id: id.clone(),
                    text: text.to_string(),
                },
                _ => Edit::AddGoal(text.to_string()),
            })
        }
        FormKind::EditAction(id) => {
            let title = form.value("Title");
            if title.is_empty() {
                return Err("an action needs a title".into());
            }
            let owner = optional(form.value("Owner"));
            let due = optional_date(form.value("Due"), "the due date")?;
            Ok(Edit::EditAction {
                id: id.clone(),
                patch: ActionPatch {
                    title: Some(title.to_string()),
                    clear_due: due.is_none(),
                    due,
                    clear_owner: owner.is_none(),
                    owner,
                },
            })
        }
        FormKind::Action => {
            let title = form.value("Title");
            if title.is_empty() {
                return Err("an action needs a title".into());
            }
            Ok(Edit::AddAction {
                title: title.to_string(),
                owner: optional(form.value("Owner")),
                due: optional_date(form.value("Due"), "the due date")?,
            })
        }
        kind_of_form @ (FormKind::Member | FormKind::EditMember(_)) => {
            let name = form.value("Name");
            if name.is_empty() {
                return Err("a member needs a name".into());
            }
            let kind: MemberKind = form.value("Kind").to_lowercase().parse().map_err(|_| {
                format!(
                    "kind must be professional, activist or observer, not “{}”",
                    form.value("Kind")
                )
            })?;
            let consent = match form.value("Consent").to_lowercase().as_str() {
                "y" | "yes" => true,
                "n" | "no" | "" => false,
                other => return Err(format!("consent must be yes or no, not “{other}”")),
            };
            let input = MemberInput {
                name: Some(name.to_string()),
                kind: Some(kind),
                email: optional(form.value("Email")),
                phone: optional(form.value("Phone")),
                consent_to_contact: Some(consent),
                ..Default::default()
            };
            Ok(match kind_of_form {
                FormKind::EditMember(id) => Edit::EditMember {
                    id: id.clone(),
                    patch: input,
                },
                _ => Edit::AddMember(input),
            })
        }
    }
}
