//! Records stored as one Automerge string: compact JSON.
//!
//! Unknown fields (from a newer version) are ignored and missing optional
//! fields default, so the encoding can grow.

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail: no maps with non-string
    // keys, no custom serialisers that error.
    serde_json::to_string(value).expect("plain record serialises")
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
) -> Result<T, autosurgeon::HydrateError> {
    serde_json::from_str(s).map_err(|e| autosurgeon::HydrateError::unexpected(what, format!("{e}")))
}
