//! The roster and contacts: adding, editing, removing, listing, importing.

use std::collections::HashMap;

use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::control::{ImportOutcome, MemberInput, MemberView, RowDiffers};
use groundwork_protocol::edit::{self, KeyedMap};
use groundwork_protocol::schema::{
    Contact, Contacts, Member, Roster, packed_email_may_be, same_email,
};
use groundwork_protocol::{Date, DocKind, ShortId};

use super::{FromDocChecked, Group, GroupError};

/// Checks an email address has the shape `local@domain.tld`. Returns it trimmed.
pub fn validate_email(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = match t.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !t
                    .chars()
                    .any(|c| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>')
        }
        None => false,
    };
    if ok {
        Ok(t.to_owned())
    } else {
        // Never echoed: an error line must not carry a contact detail.
        Err("the email is not valid (it needs one @ and a domain with a dot)".to_owned())
    }
}

/// Checks a phone number is digits with the usual punctuation. Returns it trimmed.
pub fn validate_phone(s: &str) -> Result<String, String> {
    let t = s.trim();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let allowed = t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if allowed && (6..=20).contains(&digits) {
        Ok(t.to_owned())
    } else {
        Err(
            "the phone number is not valid (6 to 20 digits, with spaces, +, -, ( ) or .)"
                .to_owned(),
        )
    }
}

fn phone_key(p: Option<&str>) -> String {
    p.map(|p| p.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default()
}

/// The dates a member's record takes, each with the `member` option and
/// the spreadsheet column that set it.
fn dates(input: &MemberInput) -> [(&'static str, &'static str, Option<Date>); 4] {
    [
        ("joined", "Joined", input.joined),
        (
            "principles",
            "Principles of Practice",
            input.principles_agreed,
        ),
        ("trained", "First trained", input.trained),
        ("consent-date", "Consent date", input.consent_date),
    ]
}

/// The first date in `input` that cannot have happened by `today` (after
/// tomorrow) or is absurd (before 1900): the option and column that set it,
/// and why.
pub fn impossible_date(
    input: &MemberInput,
    today: Date,
) -> Option<(
    &'static str,
    &'static str,
    groundwork_protocol::date::PastDateError,
)> {
    dates(input).into_iter().find_map(|(option, column, d)| {
        d.and_then(|d| d.check_past(today).err())
            .map(|e| (option, column, e))
    })
}

fn check_dates(input: &MemberInput, today: Date) -> Result<(), GroupError> {
    match impossible_date(input, today) {
        Some((field, _, e)) => Err(GroupError::Invalid {
            code: ErrorCode::Usage,
            field,
            why: e.to_string(),
        }),
        None => Ok(()),
    }
}

/// A member's name, trimmed: not empty, and within the text rules.
fn checked_name(name: &str) -> Result<&str, GroupError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(GroupError::Invalid {
            code: ErrorCode::Usage,
            field: "name",
            why: "a member needs a name".into(),
        });
    }
    super::checked(groundwork_protocol::text::Field::MemberName, name)?;
    Ok(name)
}

/// Validation of a [`MemberInput`] (the type is in `groundwork_protocol`
/// so it can cross the control socket; the rules stay here).
pub trait MemberInputExt {
    /// Builds the roster record and contact details for a new member.
    fn build(&self, today: Date) -> Result<(Member, Option<Contact>), GroupError>;
}

impl MemberInputExt for MemberInput {
    fn build(&self, today: Date) -> Result<(Member, Option<Contact>), GroupError> {
        let name = checked_name(self.name.as_deref().unwrap_or_default())?;
        check_dates(self, today)?;
        let mut member = Member {
            name: name.to_owned(),
            kind: self.kind.unwrap_or_default(),
            joined: self.joined.unwrap_or(today),
            status: self.status.unwrap_or_default(),
            principles_agreed: self.principles_agreed,
            courses: self.courses.clone(),
            trained: self
                .trained
                .or((!self.courses.is_empty()).then_some(self.joined.unwrap_or(today))),
        };
        member.normalise();
        let contact = contact_patch(self, Contact::default())?;
        Ok((member, (!contact.is_empty()).then_some(contact)))
    }
}

/// `c` with the contact fields `input` gives, validated.
fn contact_patch(input: &MemberInput, mut c: Contact) -> Result<Contact, GroupError> {
    if let Some(e) = &input.email {
        super::checked(groundwork_protocol::text::Field::Email, e.trim())?;
        c.email = Some(validate_email(e).map_err(|why| GroupError::Invalid {
            code: ErrorCode::Usage,
            field: "email",
            why,
        })?);
    }
    if let Some(p) = &input.phone {
        super::checked(groundwork_protocol::text::Field::Phone, p.trim())?;
        c.phone = Some(validate_phone(p).map_err(|why| GroupError::Invalid {
            code: ErrorCode::Usage,
            field: "phone",
            why,
        })?);
    }
    if let Some(v) = input.consent_to_contact {
        c.consent_to_contact = v;
    }
    if let Some(v) = input.lawful_basis {
        c.lawful_basis = v;
    }
    if let Some(v) = input.consent_date {
        c.consent_date = Some(v);
    }
    Ok(c)
}

/// Whether `input` gives any contact field.
fn touches_contacts(input: &MemberInput) -> bool {
    input.email.is_some()
        || input.phone.is_some()
        || input.consent_to_contact.is_some()
        || input.lawful_basis.is_some()
        || input.consent_date.is_some()
}

/// Applies `patch` to member `id` in an edit that holds the roster (and the
/// contacts, if the patch touches them): the fields it gives replace those
/// recorded, its courses are added to theirs.
fn patch_member(
    ed: &mut super::Editing,
    id: &ShortId,
    patch: &MemberInput,
    today: Date,
) -> Result<MemberView, GroupError> {
    let roster = ed.doc(DocKind::Roster)?;
    let mut member: Member = edit::get_entry(roster, KeyedMap::RosterMembers, id.as_str())?
        .ok_or_else(|| GroupError::NotFound {
            what: "member",
            id: id.to_string(),
        })?;
    if let Some(n) = &patch.name {
        member.name = checked_name(n)?.to_owned();
    }
    member.kind = patch.kind.unwrap_or(member.kind);
    member.joined = patch.joined.unwrap_or(member.joined);
    member.status = patch.status.unwrap_or(member.status);
    member.principles_agreed = patch.principles_agreed.or(member.principles_agreed);
    if member.courses.is_empty() && !patch.courses.is_empty() {
        member.trained = patch.trained.or(Some(today));
    }
    member.trained = patch.trained.or(member.trained);
    member.courses.extend(patch.courses.iter().cloned());
    member.normalise();
    edit::put_member(roster, id, &member)?;
    let contact = if touches_contacts(patch) {
        let contacts = ed.doc(DocKind::Contacts)?;
        let old: Contact =
            edit::get_entry(contacts, KeyedMap::Contacts, id.as_str())?.unwrap_or_default();
        let new = contact_patch(patch, old)?;
        edit::put_contact(contacts, id, &new)?;
        Some(new)
    } else {
        None
    };
    Ok(MemberView {
        id: id.clone(),
        member,
        contact,
    })
}

/// The fields a row gives that differ from member `m` (with contact `c`) as
/// recorded: what an import would drop if it only added new members. Named
/// as the spreadsheet's columns; never their values.
fn differing_fields(row: &MemberInput, m: &Member, c: Option<&Contact>) -> Vec<String> {
    let mut out = Vec::new();
    let mut differs = |yes: bool, column: &str| {
        if yes {
            out.push(column.to_owned());
        }
    };
    differs(
        row.name.as_deref().is_some_and(|n| n.trim() != m.name),
        "Name",
    );
    differs(
        row.email.as_deref().is_some_and(|e| {
            !c.and_then(|c| c.email.as_deref())
                .is_some_and(|old| same_email(old, e))
        }),
        "Email",
    );
    differs(
        row.phone
            .as_deref()
            .is_some_and(|p| phone_key(Some(p)) != phone_key(c.and_then(|c| c.phone.as_deref()))),
        "Phone",
    );
    differs(row.kind.is_some_and(|k| k != m.kind), "Member type");
    differs(row.joined.is_some_and(|d| d != m.joined), "Joined");
    differs(row.status.is_some_and(|s| s != m.status), "Status");
    differs(
        row.principles_agreed.is_some() && row.principles_agreed != m.principles_agreed,
        "Principles of Practice",
    );
    differs(
        row.courses.iter().any(|k| !m.courses.contains(k)),
        "Courses",
    );
    differs(
        row.trained.is_some() && row.trained != m.trained,
        "First trained",
    );
    differs(
        row.consent_to_contact
            .is_some_and(|v| Some(v) != c.map(|c| c.consent_to_contact)),
        "Consent to contact",
    );
    differs(
        row.lawful_basis
            .is_some_and(|v| Some(v) != c.map(|c| c.lawful_basis)),
        "Lawful basis",
    );
    differs(
        row.consent_date.is_some() && row.consent_date != c.and_then(|c| c.consent_date),
        "Consent date",
    );
    out
}

impl Group {
    /// Adds a member. Refuses a second member with the same email.
    pub fn add_member(
        &self,
        input: &MemberInput,
        today: Date,
    ) -> Result<(ShortId, Member), GroupError> {
        let (member, contact) = input.build(today)?;
        let kinds: &[DocKind] = if contact.is_some() {
            &[DocKind::Roster, DocKind::Contacts]
        } else {
            &[DocKind::Roster]
        };
        let email = contact.as_ref().and_then(|c| c.email.as_deref());
        let mut before = Vec::new();
        let added = self.edit(kinds, |ed| {
            if let Some(email) = email {
                let contacts = ed.doc(DocKind::Contacts)?;
                before = contacts.get_heads();
                if let Some(id) = self.email_holder(contacts, email)? {
                    return Err(GroupError::Invalid {
                        code: ErrorCode::Conflict,
                        field: "email",
                        why: format!("member {id} already has this email"),
                    });
                }
            }
            let roster = ed.doc(DocKind::Roster)?;
            let id = match &input.id {
                Some(id) if edit::has_entry(roster, KeyedMap::RosterMembers, id.as_str())? => {
                    return Err(GroupError::Invalid {
                        code: ErrorCode::Conflict,
                        field: "id",
                        why: format!("{id} is already taken"),
                    });
                }
                Some(id) => id.clone(),
                None => Group::new_short_id(|id| {
                    edit::has_entry(roster, KeyedMap::RosterMembers, id.as_str()).unwrap_or(true)
                }),
            };
            edit::put_member(roster, &id, &member)?;
            if let Some(c) = &contact {
                edit::put_contact(ed.doc(DocKind::Contacts)?, &id, c)?;
            }
            Ok((id, member.clone()))
        })?;
        if let Some(email) = email {
            self.email_added(&before, added.0.as_str(), email);
        }
        Ok(added)
    }

    /// The member whose email is `email` in `contacts`, if any: from the
    /// index on a running node (built again if the document moved), else
    /// by reading the contacts.
    fn email_holder(
        &self,
        contacts: &mut automerge::AutoCommit,
        email: &str,
    ) -> Result<Option<String>, GroupError> {
        if self.cache.is_none() {
            let found = edit::find_packed(
                contacts,
                KeyedMap::Contacts,
                |raw| packed_email_may_be(raw, email),
                |c: &Contact| c.email.as_deref().is_some_and(|e| same_email(e, email)),
            )?;
            return Ok(found.map(|(id, _)| id));
        }
        let mut index = self
            .emails
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !index.as_mut().is_some_and(|i| i.is_for(contacts)) {
            *index = Some(super::email_index::EmailIndex::build(contacts)?);
        }
        match index.as_ref() {
            Some(i) => i.find(contacts, email),
            None => Ok(None),
        }
    }

    /// Keeps the email index current after this device added a member.
    fn email_added(&self, before: &[automerge::ChangeHash], id: &str, email: &str) {
        if self.cache.is_none() {
            return;
        }
        let now = match self.docs().get_mut(&self.doc_id(DocKind::Contacts)) {
            Some(d) => d.get_heads(),
            None => return,
        };
        let mut index = self
            .emails
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = index.as_mut() {
            i.added(before, now, id, email);
        }
    }

    /// Changes the fields given in `patch`; adds its courses to those recorded.
    pub fn edit_member(&self, id: &ShortId, patch: &MemberInput) -> Result<MemberView, GroupError> {
        let kinds: &[DocKind] = if touches_contacts(patch) {
            &[DocKind::Roster, DocKind::Contacts]
        } else {
            &[DocKind::Roster]
        };
        let today = self.clock.today();
        check_dates(patch, today)?;
        self.edit(kinds, |ed| patch_member(ed, id, patch, today))
    }

    /// Removes a member, their contact details and any action they owned.
    pub fn remove_member(&self, id: &ShortId) -> Result<Member, GroupError> {
        self.edit(&[DocKind::Roster, DocKind::Contacts], |ed| {
            let roster = ed.doc(DocKind::Roster)?;
            let member: Member = edit::get_entry(roster, KeyedMap::RosterMembers, id.as_str())?
                .ok_or_else(|| GroupError::NotFound {
                    what: "member",
                    id: id.to_string(),
                })?;
            edit::delete_entry(roster, KeyedMap::RosterMembers, id.as_str())?;
            let owned: Vec<String> = Roster::from_doc_checked(roster)?
                .action_owners
                .into_iter()
                .filter(|(_, owner)| owner == id.as_str())
                .map(|(action, _)| action)
                .collect();
            for action in owned {
                edit::delete_entry(roster, KeyedMap::ActionOwners, &action)?;
            }
            edit::delete_entry(ed.doc(DocKind::Contacts)?, KeyedMap::Contacts, id.as_str())?;
            Ok(member)
        })
    }

    /// One member, with contact details if this device may read them.
    pub fn member(&self, id: &ShortId) -> Result<MemberView, GroupError> {
        let role = self.require_read(DocKind::Roster)?;
        let member: Member = self
            .with_doc(DocKind::Roster, |roster| {
                Ok(edit::get_entry(
                    roster,
                    KeyedMap::RosterMembers,
                    id.as_str(),
                )?)
            })?
            .ok_or_else(|| GroupError::NotFound {
                what: "member",
                id: id.to_string(),
            })?;
        let contact = if role.may_read(DocKind::Contacts) {
            self.with_doc(DocKind::Contacts, |contacts| {
                Ok(edit::get_entry(contacts, KeyedMap::Contacts, id.as_str())?)
            })?
        } else {
            None
        };
        Ok(MemberView {
            id: id.clone(),
            member,
            contact,
        })
    }

    /// Every member, sorted by name, with contact details if `with_contacts`
    /// and this device may read them.
    pub fn members(&self, with_contacts: bool) -> Result<Vec<MemberView>, GroupError> {
        let role = self.require_read(DocKind::Roster)?;
        let roster: Roster = self.read()?;
        let contacts: Option<Contacts> = if with_contacts && role.may_read(DocKind::Contacts) {
            Some(self.read()?)
        } else {
            None
        };
        let mut out: Vec<MemberView> = roster
            .iter()
            .map(|(id, m)| MemberView {
                contact: contacts.as_ref().and_then(|c| c.get(&id).cloned()),
                id,
                member: m.clone(),
            })
            .collect();
        // One lowercased key per member, not two per comparison.
        out.sort_by_cached_key(|v| (v.member.name.to_lowercase(), v.id.clone()));
        Ok(out)
    }

    /// Adds the rows that are not already members, all in one durable edit.
    ///
    /// A row matches an existing member (or an earlier row) by id, else by
    /// email (ignoring case), else by exact name and phone digits. Rows must
    /// already be validated; a row that fails to build aborts the whole import.
    ///
    /// A row that matches but gives data the member's record lacks or
    /// differs from is listed in [`ImportOutcome::differing`], and applied
    /// as `member edit` would apply it only if `update` is set.
    pub fn import_members(
        &self,
        rows: &[MemberInput],
        update: bool,
        today: Date,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportOutcome, GroupError> {
        self.edit(&[DocKind::Roster, DocKind::Contacts], |ed| {
            let roster = Roster::from_doc_checked(ed.doc(DocKind::Roster)?)?;
            let contacts = Contacts::from_doc_checked(ed.doc(DocKind::Contacts)?)?;
            let mut by_email: HashMap<String, ShortId> = HashMap::new();
            let mut by_name_phone: HashMap<(String, String), ShortId> = HashMap::new();
            for (id, m) in roster.iter() {
                let c = contacts.get(&id);
                if let Some(e) = c.and_then(|c| c.email.as_deref()) {
                    by_email.insert(e.to_lowercase(), id.clone());
                }
                by_name_phone.insert(
                    (
                        m.name.clone(),
                        phone_key(c.and_then(|c| c.phone.as_deref())),
                    ),
                    id,
                );
            }
            let mut taken: std::collections::HashSet<ShortId> =
                roster.iter().map(|(id, _)| id).collect();
            let mut outcome = ImportOutcome::default();
            for (n, row) in rows.iter().enumerate() {
                let (member, contact) = row.build(today)?;
                let email = contact
                    .as_ref()
                    .and_then(|c| c.email.as_deref())
                    .map(str::to_lowercase);
                let np = (
                    member.name.clone(),
                    phone_key(contact.as_ref().and_then(|c| c.phone.as_deref())),
                );
                let known = match (&row.id, &email) {
                    (Some(id), _) if taken.contains(id) => Some(id.clone()),
                    (_, Some(e)) => by_email.get(e).cloned(),
                    (_, None) => by_name_phone.get(&np).cloned(),
                };
                if let Some(id) = known {
                    outcome.already_present += 1;
                    let roster = ed.doc(DocKind::Roster)?;
                    let Some(old) =
                        edit::get_entry::<Member>(roster, KeyedMap::RosterMembers, id.as_str())?
                    else {
                        continue;
                    };
                    let old_contact: Option<Contact> = edit::get_entry(
                        ed.doc(DocKind::Contacts)?,
                        KeyedMap::Contacts,
                        id.as_str(),
                    )?;
                    let fields = differing_fields(row, &old, old_contact.as_ref());
                    if fields.is_empty() {
                        continue;
                    }
                    if update {
                        if let Some(e) = &email
                            && by_email.get(e).is_some_and(|holder| *holder != id)
                        {
                            return Err(GroupError::Invalid {
                                code: ErrorCode::Conflict,
                                field: "email",
                                why: format!(
                                    "row {} would give member {id} the email of another member",
                                    n + 1
                                ),
                            });
                        }
                        // Only what differs: an email that differs only
                        // in case, or a phone only in spacing, stays as
                        // recorded.
                        let mut patch = row.clone();
                        let keep = |column: &str| fields.iter().any(|f| f == column);
                        if !keep("Name") {
                            patch.name = None;
                        }
                        if !keep("Email") {
                            patch.email = None;
                        }
                        if !keep("Phone") {
                            patch.phone = None;
                        }
                        let view = patch_member(ed, &id, &patch, today)?;
                        if let Some(e) = email {
                            by_email.insert(e, id.clone());
                        }
                        by_name_phone.insert(
                            (
                                view.member.name.clone(),
                                phone_key(view.contact.as_ref().and_then(|c| c.phone.as_deref())),
                            ),
                            id.clone(),
                        );
                        outcome.updated.push(id.clone());
                    }
                    outcome.differing.push(RowDiffers { row: n, id, fields });
                    progress(n as u64 + 1);
                    continue;
                }
                let id = match &row.id {
                    Some(id) => id.clone(),
                    None => Group::new_short_id(|id| taken.contains(id)),
                };
                edit::put_member(ed.doc(DocKind::Roster)?, &id, &member)?;
                if let Some(c) = &contact {
                    edit::put_contact(ed.doc(DocKind::Contacts)?, &id, c)?;
                }
                if let Some(e) = email {
                    by_email.insert(e, id.clone());
                }
                by_name_phone.insert(np, id.clone());
                taken.insert(id.clone());
                outcome.added.push(id);
                progress(n as u64 + 1);
            }
            Ok(outcome)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_phone_validation() {
        for good in ["a@b.co", " ada.obi+log@example.org.uk "] {
            assert!(validate_email(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@b.co",
            "a@b",
            "a@@b.co",
            "a b@c.org",
            "a@b..co",
            "a@.b.co",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        for good in ["07700 900123", "+44 (0)1782 123456", "0161-496-0000"] {
            assert!(validate_phone(good).is_ok(), "{good}");
        }
        for bad in ["", "12", "call me", "0770090012x"] {
            assert!(validate_phone(bad).is_err(), "{bad}");
        }
    }
}
