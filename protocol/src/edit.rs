//! Typed edits on Automerge documents. Pure functions: the caller loads the
//! document, applies an edit, then commits, signs and stores the change.
//!
//! Whole-document edits hydrate, change and reconcile (autosurgeon diffs, so
//! only what changed becomes operations). The roster and contacts can hold
//! thousands of entries, so they also get keyed edits that touch one entry
//! without walking the rest.

use automerge::{
    AutoCommit, LoadOptions, ObjId, ObjType, ROOT, ReadDoc, TextEncoding, transaction::Transactable,
};
use autosurgeon::{Reconcile, reconcile_prop};

use crate::ids::ShortId;
use crate::schema::{Contact, GroupDocument, Member};

/// Why an edit could not be applied to a document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The document does not have the shape of its schema.
    #[error("document does not match its schema: {0}")]
    Hydrate(#[from] autosurgeon::HydrateError),
    /// Writing the new value failed.
    #[error("could not write to the document: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    /// A low-level Automerge failure.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// How every Groundwork document counts text positions: in UTF-8 bytes.
///
/// autosurgeon's `Text` computes splice positions as byte offsets into a
/// Rust `String`, while Automerge counts Unicode code points by default.
/// With the default, any text containing a non-ASCII character ("café",
/// "£5", an en dash) would be edited at the wrong place. Every document is
/// therefore created and loaded with this encoding; use [`new_doc`] and
/// [`load_doc`], never `AutoCommit::new` or `AutoCommit::load`.
pub const TEXT_ENCODING: TextEncoding = TextEncoding::Utf8CodeUnit;

/// A new, empty document.
pub fn new_doc() -> AutoCommit {
    AutoCommit::new_with_encoding(TEXT_ENCODING)
}

/// Saves a document as a snapshot: compressed, and never with changes
/// whose dependencies are missing (Automerge's default keeps them; nothing
/// unverified or incomplete may reach a snapshot).
pub fn save_doc(doc: &mut AutoCommit) -> Vec<u8> {
    doc.save_with_options(automerge::SaveOptions {
        deflate: true,
        retain_orphans: false,
    })
}

/// Loads a saved document (snapshot or concatenated changes).
pub fn load_doc(bytes: &[u8]) -> Result<AutoCommit, automerge::AutomergeError> {
    AutoCommit::load_with_options(bytes, LoadOptions::new().text_encoding(TEXT_ENCODING))
}

/// Hydrates `T`, lets `f` change it, and reconciles the result back.
pub fn update<T: GroupDocument, R>(
    doc: &mut AutoCommit,
    f: impl FnOnce(&mut T) -> R,
) -> Result<R, EditError> {
    let mut value: T = T::from_doc(doc)?;
    let out = f(&mut value);
    autosurgeon::reconcile(doc, &value)?;
    Ok(out)
}

/// The keyed maps that hold per-person entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyedMap {
    /// `roster.members`: member id to [`Member`].
    RosterMembers,
    /// `roster.action_owners`: action id to member id.
    ActionOwners,
    /// `contacts.contacts`: member id to [`Contact`].
    Contacts,
}

impl KeyedMap {
    /// The document field holding this map.
    pub fn field(self) -> &'static str {
        match self {
            KeyedMap::RosterMembers => "members",
            KeyedMap::ActionOwners => "action_owners",
            KeyedMap::Contacts => "contacts",
        }
    }
}

/// The object id of a keyed map. Every group document is founded with its
/// maps, so a missing or non-map value means the document is not ours to
/// repair: creating a map here could hide a concurrent one's entries.
fn map_obj(doc: &mut AutoCommit, map: KeyedMap) -> Result<ObjId, EditError> {
    match doc.get(ROOT, map.field())? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(EditError::Hydrate(autosurgeon::HydrateError::unexpected(
            "a map",
            format!("no map at '{}'", map.field()),
        ))),
    }
}

/// Writes one entry of a keyed map, reconciling against what is there.
pub fn put_entry<V: Reconcile>(
    doc: &mut AutoCommit,
    map: KeyedMap,
    key: &str,
    value: &V,
) -> Result<(), EditError> {
    let obj = map_obj(doc, map)?;
    reconcile_prop(doc, obj, key, value)?;
    Ok(())
}

/// Deletes one entry of a keyed map. Returns whether it was there.
pub fn delete_entry(doc: &mut AutoCommit, map: KeyedMap, key: &str) -> Result<bool, EditError> {
    let obj = map_obj(doc, map)?;
    if doc.get(&obj, key)?.is_none() {
        return Ok(false);
    }
    doc.delete(&obj, key)?;
    Ok(true)
}

/// Reads one entry of a keyed map without hydrating the rest.
pub fn get_entry<V: autosurgeon::Hydrate>(
    doc: &AutoCommit,
    map: KeyedMap,
    key: &str,
) -> Result<Option<V>, EditError> {
    let Some((automerge::Value::Object(ObjType::Map), obj)) = doc.get(ROOT, map.field())? else {
        return Ok(None);
    };
    if doc.get(&obj, key)?.is_none() {
        return Ok(None);
    }
    Ok(Some(autosurgeon::hydrate_prop(doc, &obj, key)?))
}

/// Whether a keyed map has an entry for `key`.
pub fn has_entry(doc: &AutoCommit, map: KeyedMap, key: &str) -> Result<bool, EditError> {
    let Some((automerge::Value::Object(ObjType::Map), obj)) = doc.get(ROOT, map.field())? else {
        return Ok(false);
    };
    Ok(doc.get(&obj, key)?.is_some())
}

/// Adds or replaces a member in the roster.
pub fn put_member(roster: &mut AutoCommit, id: &ShortId, member: &Member) -> Result<(), EditError> {
    put_entry(roster, KeyedMap::RosterMembers, id.as_str(), member)
}

/// Adds or replaces a member's contact details.
pub fn put_contact(
    contacts: &mut AutoCommit,
    id: &ShortId,
    contact: &Contact,
) -> Result<(), EditError> {
    put_entry(contacts, KeyedMap::Contacts, id.as_str(), contact)
}

/// Finds the first entry of a keyed map of packed records (members,
/// contacts) whose stored text passes `prefilter` and whose decoded record
/// passes `matches`. Only entries passing the cheap text test are decoded,
/// so a lookup by email in 10,000 contacts stays well under a millisecond.
pub fn find_packed<V: autosurgeon::Hydrate>(
    doc: &AutoCommit,
    map: KeyedMap,
    prefilter: impl Fn(&str) -> bool,
    matches: impl Fn(&V) -> bool,
) -> Result<Option<(String, V)>, EditError> {
    let Some((automerge::Value::Object(ObjType::Map), obj)) = doc.get(ROOT, map.field())? else {
        return Ok(None);
    };
    for item in doc.map_range(&obj, ..) {
        let automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(text)) = &item.value else {
            continue;
        };
        if !prefilter(text) {
            continue;
        }
        let value: V = V::hydrate_string(text)?;
        if matches(&value) {
            return Ok(Some((item.key.into_owned(), value)));
        }
    }
    Ok(None)
}

/// A three-way merge of plain text the way Automerge merges concurrent text
/// edits: `current` (what the document holds now) and `edited` (what a user
/// made of `base`) are each applied as a diff from `base`, and the two are
/// merged, so a peer's lines added while the user edited are kept. Used
/// when someone saves notes they opened before a peer changed them.
/// Deterministic: the same three texts always give the same result.
pub fn merge_text(base: &str, current: &str, edited: &str) -> String {
    fn run(base: &str, current: &str, edited: &str) -> Result<String, automerge::AutomergeError> {
        use automerge::ActorId;
        let mut doc = new_doc().with_actor(ActorId::from([1u8; 16].as_slice()));
        let text = doc.put_object(ROOT, "text", ObjType::Text)?;
        doc.splice_text(&text, 0, 0, base)?;
        let mut theirs = doc.fork().with_actor(ActorId::from([2u8; 16].as_slice()));
        theirs.update_text(&text, current)?;
        let mut ours = doc.fork().with_actor(ActorId::from([3u8; 16].as_slice()));
        ours.update_text(&text, edited)?;
        theirs.merge(&mut ours)?;
        theirs.text(&text)
    }
    // Nothing here can fail on plain strings; if it ever did, the user's
    // text is what they asked to save.
    run(base, current, edited).unwrap_or_else(|_| edited.to_owned())
}

#[cfg(test)]
mod merge_text_tests {
    use super::merge_text;

    #[test]
    fn keeps_both_sides_changes() {
        let base = "Twelve came.\n";
        let current = "Twelve came.\nFarid: 15 conversations.\n";
        let edited = "Thirteen came.\n";
        assert_eq!(
            merge_text(base, current, edited),
            "Thirteen came.\nFarid: 15 conversations.\n"
        );
        // Unchanged on one side: the other side's text.
        assert_eq!(merge_text(base, base, edited), edited);
        assert_eq!(merge_text(base, current, base), current);
        // A deletion on one side and an addition on the other.
        assert_eq!(merge_text("a\nb\n", "a\n", "a\nb\nc\n"), "a\nc\n");
        // Multi-byte text.
        assert_eq!(merge_text("é\n", "é\n日本\n", "ée\n"), "ée\n日本\n");
    }
}
