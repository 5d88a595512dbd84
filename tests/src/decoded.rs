//! Looking for personal data the way an auditor would: by decoding every
//! Automerge chunk in a file, not by grepping it.
//!
//! Automerge compresses a document's columns over 256 bytes, and a change
//! travels deflated, so a name in a snapshot or on the wire is usually not
//! in the bytes as text. [`Decoded::scan`] looks for the chunk magic at every
//! offset of a store file, a wire dump or a backup (it reads the file, not
//! the database, so freed pages are searched too), parses each chunk it
//! finds (a document, a change, a compressed change, or a bundle), and keeps
//! every string the decoded operations hold: values, map keys, and the text
//! inserted character by character, joined into runs. A store keeps each
//! snapshot in self-describing pieces; every snapshot whose pieces are all
//! in the file is put back together and decoded too. [`Decoded::contains`]
//! searches those and the raw bytes.

use std::io::Read as _;
use std::path::Path;

use automerge::legacy::OpType;
use automerge::{Automerge, Change, LoadOptions, OnPartialLoad, ScalarValue, VerificationMode};
use groundwork_protocol::wire::chunks::{MAGIC, TYPE_CHANGE, TYPE_COMPRESSED, encode_chunk};

/// The most a compressed change may inflate to here.
const MAX_INFLATE: u64 = 256 * 1024 * 1024;

/// What some bytes hold, decoded.
#[derive(Debug, Default)]
pub struct Decoded {
    raw: Vec<u8>,
    /// Every distinct decoded string, each followed by a NUL.
    text: Vec<u8>,
    strings: std::collections::BTreeSet<String>,
    /// How many chunks decoded.
    pub chunks: usize,
}

impl Decoded {
    /// Decodes every chunk found in `bytes`.
    pub fn scan(bytes: &[u8]) -> Decoded {
        let mut out = Decoded {
            raw: bytes.to_vec(),
            ..Decoded::default()
        };
        out.chunks_in(bytes);
        // A store keeps each snapshot in pieces: put every snapshot whose
        // pieces are all here (in use or freed) back together, and decode it.
        for whole in snapshots_in(bytes) {
            out.chunks_in(&whole);
        }
        out.join();
        out
    }

    /// Decodes every chunk whose magic is in `bytes`.
    fn chunks_in(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while let Some(at) = find(&bytes[i..], &MAGIC) {
            let start = i + at;
            if let Some(strings) = chunk_at(&bytes[start..]) {
                self.chunks += 1;
                self.strings.extend(strings);
            }
            i = start + 1;
        }
    }

    fn join(&mut self) {
        self.text.clear();
        for s in &self.strings {
            self.text.extend_from_slice(s.as_bytes());
            self.text.push(0);
        }
    }

    /// Decodes every file under `dir` (recursively), as one.
    pub fn dir(dir: &Path) -> Decoded {
        let mut all = Decoded::default();
        for path in files(dir) {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let one = Decoded::scan(&bytes);
            all.raw.extend(one.raw);
            all.strings.extend(one.strings);
            all.chunks += one.chunks;
        }
        all.join();
        all
    }

    /// Adds what `other` holds.
    pub fn with(mut self, other: Decoded) -> Decoded {
        self.raw.extend(other.raw);
        self.strings.extend(other.strings);
        self.chunks += other.chunks;
        self.join();
        self
    }

    /// Whether `needle` is in the bytes or in any decoded string.
    pub fn contains(&self, needle: &str) -> bool {
        self.contains_decoded(needle)
            || memchr::memmem::find(&self.raw, needle.as_bytes()).is_some()
    }

    /// Whether `needle` occurs as a whole token (not inside a longer run of
    /// letters and digits) in the bytes or in a decoded string: a
    /// six-character member id could otherwise turn up by chance inside a
    /// hex string or a key.
    pub fn contains_token(&self, needle: &str) -> bool {
        contains_token(&self.raw, needle.as_bytes())
            || contains_token(&self.text, needle.as_bytes())
    }

    /// Whether `needle` is in a decoded string (what a grep would miss).
    pub fn contains_decoded(&self, needle: &str) -> bool {
        !needle.contains('\0') && memchr::memmem::find(&self.text, needle.as_bytes()).is_some()
    }
}

/// Whether `needle` occurs in `hay` with no letter or digit either side.
pub fn contains_token(hay: &[u8], needle: &[u8]) -> bool {
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !needle.is_empty()
        && memchr::memmem::find_iter(hay, needle).any(|i| {
            !alnum(i.checked_sub(1).and_then(|j| hay.get(j))) && !alnum(hay.get(i + needle.len()))
        })
}

/// A snapshot piece as docs/architecture.md gives it (read here from the
/// documented format, not the node's code): `"GWSP" | snapshot id 8 |
/// piece u16 | count u16 | len u16 | len bytes`.
const PIECE_MAGIC: [u8; 4] = *b"GWSP";

fn snapshot_piece(v: &[u8]) -> Option<([u8; 8], u16, u16, &[u8])> {
    let (head, rest) = v.split_at_checked(18)?;
    if head[..4] != PIECE_MAGIC {
        return None;
    }
    let id: [u8; 8] = head[4..12].try_into().ok()?;
    let n = u16::from_be_bytes([head[12], head[13]]);
    let count = u16::from_be_bytes([head[14], head[15]]);
    let len = usize::from(u16::from_be_bytes([head[16], head[17]]));
    (n < count).then_some((id, n, count, rest.get(..len)?))
}

/// The pieces found of one snapshot: their count, and each by number.
type Pieces = (u16, std::collections::BTreeMap<u16, Vec<u8>>);

/// Every snapshot whose pieces are all in `bytes`, put back together.
fn snapshots_in(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut found: std::collections::BTreeMap<[u8; 8], Pieces> = Default::default();
    for at in memchr::memmem::find_iter(bytes, &PIECE_MAGIC) {
        if let Some((id, n, count, part)) = snapshot_piece(&bytes[at..]) {
            let entry = found
                .entry(id)
                .or_insert_with(|| (count, Default::default()));
            if entry.0 == count {
                entry.1.insert(n, part.to_vec());
            }
        }
    }
    found
        .into_values()
        .filter(|(count, parts)| parts.len() == usize::from(*count))
        .map(|(_, parts)| parts.into_values().flatten().collect())
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

fn uleb(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// The strings of the chunk at the start of `bytes`, if one decodes there.
fn chunk_at(bytes: &[u8]) -> Option<Vec<String>> {
    let kind = *bytes.get(8)?;
    let (len, n) = uleb(bytes.get(9..)?)?;
    let header = 9 + n;
    let end = header.checked_add(len)?;
    let chunk = bytes.get(..end)?;
    // Automerge's decoders are not built for arbitrary bytes: a panic is a
    // chunk that does not decode.
    std::panic::catch_unwind(|| match kind {
        TYPE_CHANGE => Change::try_from(chunk).ok().map(|c| change_strings(&c)),
        TYPE_COMPRESSED => {
            let mut data = Vec::new();
            flate2::read::DeflateDecoder::new(&chunk[header..])
                .take(MAX_INFLATE)
                .read_to_end(&mut data)
                .ok()?;
            let checksum: [u8; 4] = chunk[4..8].try_into().ok()?;
            let plain = encode_chunk(TYPE_CHANGE, checksum, &data);
            Change::try_from(plain.as_slice())
                .ok()
                .map(|c| change_strings(&c))
        }
        _ => {
            let doc = Automerge::load_with_options(
                chunk,
                LoadOptions::new()
                    .on_partial_load(OnPartialLoad::Ignore)
                    .verification_mode(VerificationMode::DontCheck),
            )
            .ok()?;
            let strings: Vec<String> = doc
                .get_changes(&[])
                .iter()
                .flat_map(change_strings)
                .collect();
            Some(strings)
        }
    })
    .ok()
    .flatten()
}

/// Every string a change's operations hold: values, map keys, and each
/// run of characters inserted one by one (how text is written).
fn change_strings(change: &Change) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for op in change.decode().operations {
        if let automerge::legacy::Key::Map(k) = &op.key {
            out.push(k.to_string());
        }
        match &op.action {
            OpType::Put(ScalarValue::Str(s)) => {
                if op.insert {
                    run.push_str(s);
                } else {
                    if !run.is_empty() {
                        out.push(std::mem::take(&mut run));
                    }
                    out.push(s.to_string());
                }
            }
            _ => {
                if !run.is_empty() {
                    out.push(std::mem::take(&mut run));
                }
            }
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::*;

    #[test]
    fn finds_a_name_a_grep_misses_in_a_compressed_snapshot_and_in_freed_bytes() {
        let mut doc = AutoCommit::new();
        let notes = doc.put_object(ROOT, "notes", ObjType::Text).expect("text");
        let filler: String = (0..400).map(|i| format!("member {i}; ")).collect();
        doc.splice_text(&notes, 0, 0, &filler).expect("splice");
        doc.put(ROOT, "name", "Wendy Hidden").expect("put");
        doc.splice_text(&notes, 0, 0, "Met Bob Quiet today. ")
            .expect("splice");
        doc.commit();
        doc.delete(ROOT, "name").expect("delete");
        doc.commit();
        let saved = doc.save();
        let grep = |s: &str| saved.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(
            !grep("Wendy Hidden") && !grep("Met Bob Quiet"),
            "compressed"
        );
        let mut file = b"page header ".to_vec();
        file.extend_from_slice(&saved);
        file.extend_from_slice(b" trailing page");
        let found = Decoded::scan(&file);
        assert!(found.chunks >= 1);
        assert!(
            found.contains("Wendy Hidden"),
            "a deleted value in the history"
        );
        assert!(found.contains("Met Bob Quiet"), "text typed in one splice");
        assert!(!found.contains("Nobody Else"));
        assert!(found.contains_token("Wendy Hidden"));
        assert!(
            !found.contains_token("Wendy Hidde"),
            "part of a word is not a token"
        );
        // A compressed change, as it travels.
        let change = doc.get_changes(&[])[0].clone();
        let wire = groundwork_protocol::wire::chunks::compress_change(change.raw_bytes());
        assert_eq!(wire[8], TYPE_COMPRESSED);
        assert!(Decoded::scan(&wire).contains_decoded("Wendy Hidden"));
        // Garbage with the magic in it decodes to nothing and does not panic.
        let mut junk = MAGIC.to_vec();
        junk.extend_from_slice(&[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);
        assert_eq!(Decoded::scan(&junk).chunks, 0);
    }
}
