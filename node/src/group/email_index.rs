//! On a running node, the contacts' emails by address, so adding a member
//! checks for a second member with the same email without reading all
//! 10,000 contacts. Valid for the contacts document's heads it was built
//! at; a change from anywhere else moves the heads and it is built again,
//! in one pass, on the next add.

use std::collections::HashMap;

use automerge::{AutoCommit, ChangeHash, ReadDoc};
use groundwork_protocol::edit::{self, KeyedMap};
use groundwork_protocol::schema::{Contact, same_email};

use super::GroupError;

/// The emails in a contacts document at `heads`.
#[derive(Debug, Default)]
pub(super) struct EmailIndex {
    heads: Vec<ChangeHash>,
    /// Lowercased address → the members whose stored email it is.
    by_email: HashMap<String, Vec<String>>,
    /// Members whose stored text the quick read cannot be sure of (an
    /// escape in it): always decoded.
    unsure: Vec<String>,
}

/// The stored email of a packed contact: `Some(Ok(address))`, or
/// `Some(Err(()))` when only a full decode can tell, or `None` for none.
fn stored_email(packed: &str) -> Option<Result<&str, ()>> {
    const KEY: &str = "\"email\":\"";
    let start = packed.find(KEY)? + KEY.len();
    let rest = &packed[start..];
    match rest.find('"') {
        Some(end) if !rest[..end].contains('\\') => Some(Ok(&rest[..end])),
        _ => Some(Err(())),
    }
}

fn key(email: &str) -> String {
    email.to_lowercase()
}

impl EmailIndex {
    /// Reads every contact once.
    pub(super) fn build(doc: &mut AutoCommit) -> Result<EmailIndex, GroupError> {
        let mut index = EmailIndex {
            heads: doc.get_heads(),
            ..EmailIndex::default()
        };
        let map = match doc.get(automerge::ROOT, KeyedMap::Contacts.field()) {
            Ok(Some((automerge::Value::Object(automerge::ObjType::Map), obj))) => obj,
            Ok(_) => return Ok(index),
            Err(e) => return Err(GroupError::Internal(e.to_string())),
        };
        for item in doc.map_range(&map, ..) {
            // Not a packed contact (as when reading every contact, such an
            // entry is not looked at).
            let automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(text)) = &item.value
            else {
                continue;
            };
            match stored_email(text) {
                Some(Ok(email)) => index
                    .by_email
                    .entry(key(email))
                    .or_default()
                    .push(item.key.to_string()),
                Some(Err(())) => index.unsure.push(item.key.to_string()),
                None => {}
            }
        }
        Ok(index)
    }

    /// Whether this index describes `doc` as it is.
    pub(super) fn is_for(&self, doc: &mut AutoCommit) -> bool {
        self.heads == doc.get_heads()
    }

    /// The member holding `email` in `doc`, if any (candidates decoded).
    pub(super) fn find(&self, doc: &AutoCommit, email: &str) -> Result<Option<String>, GroupError> {
        let candidates = self
            .by_email
            .get(&key(email))
            .into_iter()
            .flatten()
            .chain(&self.unsure);
        for id in candidates {
            // An entry that does not decode holds no email to match.
            let Ok(c) = edit::get_entry::<Contact>(doc, KeyedMap::Contacts, id) else {
                continue;
            };
            if c.and_then(|c| c.email)
                .is_some_and(|e| same_email(&e, email))
            {
                return Ok(Some(id.clone()));
            }
        }
        Ok(None)
    }

    /// After this device added `id` with `email`, taking the document from
    /// the heads the index was built at to `now`: kept current.
    pub(super) fn added(
        &mut self,
        before: &[ChangeHash],
        now: Vec<ChangeHash>,
        id: &str,
        email: &str,
    ) {
        if self.heads != before {
            return;
        }
        self.by_email
            .entry(key(email))
            .or_default()
            .push(id.to_owned());
        self.heads = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_read_finds_the_email_or_says_it_cannot() {
        assert_eq!(
            stored_email(r#"{"email":"a@b.org","phone":null}"#),
            Some(Ok("a@b.org"))
        );
        assert_eq!(stored_email(r#"{"email":"a\"b@c.org"}"#), Some(Err(())));
        assert_eq!(stored_email(r#"{"email":"unterminated"#), Some(Err(())));
        assert_eq!(stored_email(r#"{"phone":"0123"}"#), None);
    }
}
