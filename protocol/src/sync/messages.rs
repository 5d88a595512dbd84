//! The messages of the sync protocol (ALPN `/groundwork/sync/1`), one per
//! frame, and their binary encoding. The frame kind is the message type.
//!
//! ```text
//! Hello  (1): version u16 | group 32 | digest 32
//! Heads  (2): count u32 | count × (doc 32 | n u16 | n × hash 32)
//! Sync   (3): doc 32 | n u32 | n × (hash 32 | signature 64) | automerge sync message (rest)
//! Bye    (4): reason, UTF-8 (rest)
//! Cards  (5): count u32 | count × (len u32 | signed group card)
//! Prints (6): count u32 | count × fingerprint 8
//! Records (7): count u32 | count × (len u32 | kind 1 | signed record)
//! DocStop (8): doc 32 | reason, UTF-8 (rest)
//! Epoch  (9): doc 32 | len u32 | signed epoch record | genesis change (rest, less 64) | signature 64
//! EpochWant (10): doc 32
//! Inventory (11): count u32 | count × print 8
//! ```
//!
//! All integers are big-endian. New message types are only ever added with
//! new kind numbers.

use automerge::ChangeHash;

use crate::ids::DocId;
use crate::keys::GroupId;
use crate::signed::SIGNATURE_LEN;
use crate::wire::frame::Frame;

/// The protocol version in `Hello`.
///
/// Version 2: the directory goes by [`Message::Inventory`] (a session
/// opens with prints of the cards and records each side holds, and each
/// sends only what the other lacks) instead of in full.
pub const VERSION: u16 = 2;
/// At most this many documents in one `Heads`: a group's six, plus the
/// constitution and plan of every group it knows.
pub const MAX_DOCS: usize = 4096;
/// At most this many cards in one `Cards`.
pub const MAX_CARDS: usize = 2048;
/// At most this many heads per document in `Heads`.
pub const MAX_DOC_HEADS: usize = 1024;
/// At most this many signatures in one `Sync`.
pub const MAX_SIGNATURES: usize = 100_000;
/// At most this many prints in one `Inventory`: every card and record
/// (an affiliation and a summary per group).
pub const MAX_INVENTORY: usize = 3 * MAX_CARDS;
/// The longest `Bye` reason.
pub const MAX_REASON: usize = 1024;

/// The `Bye` reason of a node that is stopping: a clean end, not an error
/// (the peer reconnects later without counting it as a failure).
pub const SHUTTING_DOWN: &str = "node shutting down";

/// `items` in runs of at most [`MAX_CARDS`].
fn in_parts(items: Vec<Vec<u8>>) -> impl Iterator<Item = Vec<Vec<u8>>> {
    let mut items = items.into_iter().peekable();
    std::iter::from_fn(move || {
        items.peek()?;
        Some(items.by_ref().take(MAX_CARDS).collect())
    })
}

/// One message between peers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Opens a session: the sender's view of the documents both share.
    Hello {
        /// Protocol version.
        version: u16,
        /// The group the sender belongs to.
        group: GroupId,
        /// [`crate::wire::digest::heads_digest`] of the shared documents.
        digest: [u8; 32],
    },
    /// Per-document heads, sent when the digests differed.
    Heads(Vec<(DocId, Vec<ChangeHash>)>),
    /// An Automerge sync message for one document, with signatures.
    Sync {
        /// The document.
        doc: DocId,
        /// The message and the signatures of the changes it carries.
        body: super::SignedSyncMessage,
    },
    /// The sender is ending the session, and why.
    Bye(String),
    /// Signed group cards the sender holds ([`crate::card`]), sent when
    /// the digests differed and before `Heads`.
    Cards(Vec<Vec<u8>>),
    /// One 8-byte fingerprint of (document, heads) per shared document
    /// ([`fingerprint`]), sent when the digests differed: a document whose
    /// fingerprint the peer also has is unchanged and costs nothing more.
    Prints(Vec<[u8; 8]>),
    /// Signed network records ([`crate::records`]), each prefixed by its
    /// kind byte ([`crate::records::KIND_AFFILIATION`],
    /// [`crate::records::KIND_SUMMARY`]), sent with `Cards`.
    Records(Vec<Vec<u8>>),
    /// The epoch the sender holds of one document ([`crate::epoch`]): its
    /// signed record, and the genesis change with its signature only when
    /// the peer asked for it ([`Message::EpochWant`]); without them (an
    /// *announce*: `genesis` empty, `signature` all zero) it costs a few
    /// hundred bytes. Announced for every shared document past epoch 0 when
    /// the digests differ, and again when the sender switches: `Sync` for
    /// a document flows only while both sides have said they hold the same
    /// epoch.
    Epoch {
        /// The document.
        doc: DocId,
        /// The signed epoch record, at most
        /// [`crate::epoch::MAX_RECORD_BYTES`].
        record: Vec<u8>,
        /// The genesis change, as it travels (compressed when large).
        genesis: Vec<u8>,
        /// The genesis change's signature.
        signature: [u8; SIGNATURE_LEN],
    },
    /// The sender takes the epoch the peer announced for `doc` and asks
    /// for its genesis (answered once per epoch per session).
    EpochWant {
        /// The document.
        doc: DocId,
    },
    /// The cards and records the sender holds, one [`inventory_print`]
    /// each, sent when the digests differed: the peer answers with the
    /// `Records` and `Cards` whose prints are not in it, so a session with
    /// a peer that holds most of the directory costs 8 bytes per item
    /// rather than the items.
    Inventory(Vec<[u8; 8]>),
    /// The sender stops syncing one document with this peer for this
    /// session, and why (a change in it failed verification, or it is
    /// forked by an equivocating device). The other documents go on.
    DocStop {
        /// The document.
        doc: DocId,
        /// Why, at most [`MAX_REASON`] bytes.
        reason: String,
    },
}

/// The fingerprint of a document's heads: the first 8 bytes of
/// blake3(domain ‖ document id ‖ sorted heads).
pub fn fingerprint(doc: &DocId, heads: &[ChangeHash]) -> [u8; 8] {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut h = blake3::Hasher::new();
    h.update(b"groundwork/heads-fingerprint/v1");
    h.update(doc.as_bytes());
    for head in sorted {
        h.update(&head.0);
    }
    let mut out = [0; 8];
    out.copy_from_slice(&h.finalize().as_bytes()[..8]);
    out
}

/// The print of a card or record in an [`Message::Inventory`]: the first
/// 8 bytes of blake3(domain ‖ tagged bytes), where a record is tagged with
/// its kind byte and a card with 0. Two different items share a print with
/// odds of 2⁻⁶⁴ per pair; the cost of a collision is one item not sent in
/// this session (the next one, or gossip, brings it).
pub fn inventory_print(tag: u8, bytes: &[u8]) -> [u8; 8] {
    let mut h = blake3::Hasher::new();
    h.update(b"groundwork/inventory-print/v1");
    h.update(&[tag]);
    h.update(bytes);
    let mut out = [0; 8];
    out.copy_from_slice(&h.finalize().as_bytes()[..8]);
    out
}

/// Why a frame is not a valid message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// A frame kind this version does not know.
    #[error("unknown message type {0}")]
    UnknownKind(u8),
    /// The payload ends early or has bytes left over.
    #[error("malformed {0} message")]
    Malformed(&'static str),
    /// A count over its cap.
    #[error("{what}: {count} is over the cap of {cap}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The count.
        count: usize,
        /// The cap.
        cap: usize,
    },
    /// A group id that is not a valid key.
    #[error("hello names an invalid group id")]
    BadGroup,
}

use crate::wire::kinds::sync::{
    BYE, CARDS, DOC_STOP, EPOCH, EPOCH_WANT, HEADS, HELLO, INVENTORY, PRINTS, RECORDS, SYNC,
};

impl Message {
    /// `Records` messages carrying `records`, each at most [`MAX_CARDS`]
    /// (the most a peer decodes in one): a network of more than about
    /// 1,000 groups holds more records than one message may carry.
    pub fn records_in_parts(records: Vec<Vec<u8>>) -> Vec<Message> {
        in_parts(records).map(Message::Records).collect()
    }

    /// `Cards` messages carrying `cards`, each at most [`MAX_CARDS`].
    pub fn cards_in_parts(cards: Vec<Vec<u8>>) -> Vec<Message> {
        in_parts(cards).map(Message::Cards).collect()
    }

    /// The frame for this message.
    pub fn encode(&self) -> Frame {
        let mut p = Vec::new();
        let kind = match self {
            Message::Hello {
                version,
                group,
                digest,
            } => {
                p.extend_from_slice(&version.to_be_bytes());
                p.extend_from_slice(group.as_bytes());
                p.extend_from_slice(digest);
                HELLO
            }
            Message::Heads(docs) => {
                p.extend_from_slice(&(docs.len() as u32).to_be_bytes());
                for (doc, heads) in docs {
                    p.extend_from_slice(doc.as_bytes());
                    p.extend_from_slice(&(heads.len() as u16).to_be_bytes());
                    for h in heads {
                        p.extend_from_slice(&h.0);
                    }
                }
                HEADS
            }
            Message::Sync { doc, body } => {
                p.extend_from_slice(doc.as_bytes());
                p.extend_from_slice(&(body.signatures.len() as u32).to_be_bytes());
                for (h, s) in &body.signatures {
                    p.extend_from_slice(&h.0);
                    p.extend_from_slice(s);
                }
                p.extend_from_slice(&body.message);
                SYNC
            }
            Message::Bye(reason) => {
                p.extend_from_slice(capped(reason));
                BYE
            }
            Message::DocStop { doc, reason } => {
                p.extend_from_slice(doc.as_bytes());
                p.extend_from_slice(capped(reason));
                DOC_STOP
            }
            Message::Epoch {
                doc,
                record,
                genesis,
                signature,
            } => {
                p.extend_from_slice(doc.as_bytes());
                p.extend_from_slice(&(record.len() as u32).to_be_bytes());
                p.extend_from_slice(record);
                if !genesis.is_empty() {
                    p.extend_from_slice(genesis);
                    p.extend_from_slice(signature);
                }
                EPOCH
            }
            Message::EpochWant { doc } => {
                p.extend_from_slice(doc.as_bytes());
                EPOCH_WANT
            }
            Message::Cards(cards) => {
                p.extend_from_slice(&(cards.len() as u32).to_be_bytes());
                for c in cards {
                    p.extend_from_slice(&(c.len() as u32).to_be_bytes());
                    p.extend_from_slice(c);
                }
                CARDS
            }
            Message::Prints(prints) => {
                put_prints(&mut p, prints);
                PRINTS
            }
            Message::Inventory(prints) => {
                put_prints(&mut p, prints);
                INVENTORY
            }

            Message::Records(records) => {
                p.extend_from_slice(&(records.len() as u32).to_be_bytes());
                for r in records {
                    p.extend_from_slice(&(r.len() as u32).to_be_bytes());
                    p.extend_from_slice(r);
                }
                RECORDS
            }
        };
        Frame { kind, payload: p }
    }

    /// Decodes a frame, checking every count against its cap first.
    pub fn decode(frame: &Frame) -> Result<Message, MessageError> {
        let mut r = Reader(&frame.payload);
        match frame.kind {
            HELLO => {
                let m = "hello";
                let version = u16::from_be_bytes(r.array(m)?);
                let group =
                    GroupId::from_bytes(&r.array(m)?).map_err(|_| MessageError::BadGroup)?;
                let digest = r.array(m)?;
                r.end(m)?;
                Ok(Message::Hello {
                    version,
                    group,
                    digest,
                })
            }
            HEADS => {
                let m = "heads";
                let count = u32::from_be_bytes(r.array(m)?) as usize;
                cap("documents", count, MAX_DOCS)?;
                let mut docs = Vec::with_capacity(count);
                for _ in 0..count {
                    let doc = DocId::from_bytes(r.array(m)?);
                    let n = u16::from_be_bytes(r.array(m)?) as usize;
                    cap("heads", n, MAX_DOC_HEADS)?;
                    let mut heads = Vec::with_capacity(n);
                    for _ in 0..n {
                        heads.push(ChangeHash(r.array(m)?));
                    }
                    docs.push((doc, heads));
                }
                r.end(m)?;
                Ok(Message::Heads(docs))
            }
            SYNC => {
                let m = "sync";
                let doc = DocId::from_bytes(r.array(m)?);
                let n = u32::from_be_bytes(r.array(m)?) as usize;
                cap("signatures", n, MAX_SIGNATURES)?;
                if r.0.len() < n * (32 + SIGNATURE_LEN) {
                    return Err(MessageError::Malformed(m));
                }
                let mut signatures = Vec::with_capacity(n);
                for _ in 0..n {
                    signatures.push((ChangeHash(r.array(m)?), r.array(m)?));
                }
                let message = r.0.to_vec();
                Ok(Message::Sync {
                    doc,
                    body: super::SignedSyncMessage {
                        message,
                        signatures,
                    },
                })
            }
            BYE => {
                cap("reason bytes", frame.payload.len(), MAX_REASON)?;
                Ok(Message::Bye(reason(&frame.payload)))
            }
            CARDS => {
                let m = "cards";
                let count = u32::from_be_bytes(r.array(m)?) as usize;
                cap("cards", count, MAX_CARDS)?;
                let mut cards = Vec::with_capacity(count.min(64));
                for _ in 0..count {
                    let len = u32::from_be_bytes(r.array(m)?) as usize;
                    cap("card bytes", len, crate::card::MAX_CARD_BYTES)?;
                    let (card, rest) =
                        r.0.split_at_checked(len)
                            .ok_or(MessageError::Malformed(m))?;
                    cards.push(card.to_vec());
                    r.0 = rest;
                }
                r.end(m)?;
                Ok(Message::Cards(cards))
            }
            PRINTS => Ok(Message::Prints(r.prints(
                "prints",
                "documents",
                MAX_DOCS,
            )?)),
            INVENTORY => Ok(Message::Inventory(r.prints(
                "inventory",
                "inventory prints",
                MAX_INVENTORY,
            )?)),
            RECORDS => {
                let m = "records";
                let count = u32::from_be_bytes(r.array(m)?) as usize;
                cap("records", count, MAX_CARDS)?;
                let mut records = Vec::with_capacity(count.min(64));
                for _ in 0..count {
                    let len = u32::from_be_bytes(r.array(m)?) as usize;
                    cap("record bytes", len, crate::records::MAX_RECORD_BYTES + 1)?;
                    let (rec, rest) =
                        r.0.split_at_checked(len)
                            .ok_or(MessageError::Malformed(m))?;
                    records.push(rec.to_vec());
                    r.0 = rest;
                }
                r.end(m)?;
                Ok(Message::Records(records))
            }
            DOC_STOP => {
                let doc = DocId::from_bytes(r.array("doc stop")?);
                cap("reason bytes", r.0.len(), MAX_REASON)?;
                Ok(Message::DocStop {
                    doc,
                    reason: reason(r.0),
                })
            }
            EPOCH => {
                let m = "epoch";
                let doc = DocId::from_bytes(r.array(m)?);
                let len = u32::from_be_bytes(r.array(m)?) as usize;
                cap("epoch record bytes", len, crate::epoch::MAX_RECORD_BYTES)?;
                let (record, rest) =
                    r.0.split_at_checked(len)
                        .ok_or(MessageError::Malformed(m))?;
                if rest.is_empty() {
                    // An announce: the record alone.
                    return Ok(Message::Epoch {
                        doc,
                        record: record.to_vec(),
                        genesis: Vec::new(),
                        signature: [0; SIGNATURE_LEN],
                    });
                }
                let genesis_len = rest
                    .len()
                    .checked_sub(SIGNATURE_LEN)
                    .filter(|n| *n > 0)
                    .ok_or(MessageError::Malformed(m))?;
                let (genesis, signature) = rest.split_at(genesis_len);
                Ok(Message::Epoch {
                    doc,
                    record: record.to_vec(),
                    genesis: genesis.to_vec(),
                    signature: signature
                        .try_into()
                        .map_err(|_| MessageError::Malformed(m))?,
                })
            }
            EPOCH_WANT => {
                let doc = DocId::from_bytes(r.array("epoch want")?);
                r.end("epoch want")?;
                Ok(Message::EpochWant { doc })
            }
            other => Err(MessageError::UnknownKind(other)),
        }
    }

    /// The message's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::Heads(_) => "heads",
            Message::Sync { .. } => "sync",
            Message::Bye(_) => "bye",
            Message::Cards(_) => "cards",
            Message::Prints(_) => "prints",
            Message::Inventory(_) => "inventory",

            Message::Records(_) => "records",
            Message::DocStop { .. } => "doc stop",
            Message::EpochWant { .. } => "epoch want",
            Message::Epoch { .. } => "epoch",
        }
    }
}

/// A peer's reason, as text safe to log and show (it reaches logs, errors
/// and `status`).
fn reason(bytes: &[u8]) -> String {
    crate::text::safe_line(&String::from_utf8_lossy(bytes)).into_owned()
}

/// A reason cut to [`MAX_REASON`] bytes at a character boundary.
fn capped(reason: &str) -> &[u8] {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason.as_bytes()[..end]
}

fn cap(what: &'static str, count: usize, cap: usize) -> Result<(), MessageError> {
    if count > cap {
        Err(MessageError::TooMany { what, count, cap })
    } else {
        Ok(())
    }
}

fn put_prints(p: &mut Vec<u8>, prints: &[[u8; 8]]) {
    p.extend_from_slice(&(prints.len() as u32).to_be_bytes());
    for f in prints {
        p.extend_from_slice(f);
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], MessageError> {
        let (head, rest) = self
            .0
            .split_at_checked(N)
            .ok_or(MessageError::Malformed(what))?;
        self.0 = rest;
        head.try_into().map_err(|_| MessageError::Malformed(what))
    }

    /// A count (capped) and that many 8-byte prints, filling the rest.
    fn prints(
        &mut self,
        m: &'static str,
        what: &'static str,
        max: usize,
    ) -> Result<Vec<[u8; 8]>, MessageError> {
        let count = u32::from_be_bytes(self.array(m)?) as usize;
        cap(what, count, max)?;
        if self.0.len() != count * 8 {
            return Err(MessageError::Malformed(m));
        }
        let mut prints = Vec::with_capacity(count);
        for _ in 0..count {
            prints.push(self.array(m)?);
        }
        Ok(prints)
    }

    fn end(&self, what: &'static str) -> Result<(), MessageError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(MessageError::Malformed(what))
        }
    }
}

#[cfg(test)]
mod tests;
