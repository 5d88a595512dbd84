//! The documents a session call is lent: a node keeps only documents
//! with content ([`Node::docs`]); a call is handed those it reads, and
//! empty ones for the shared documents the node holds nothing of.

use std::collections::BTreeSet;

use groundwork_protocol::DocId;
use groundwork_protocol::sync::session::Docs;

use crate::node::Node;

/// The most empty documents kept to lend (a session call reads at most
/// the 4,002 documents of a 2,000-group network at once).
pub const MAX_EMPTIES: usize = 4200;

impl Node {
    /// The documents a session call needs, taken out of [`Node::docs`]:
    /// `extra` (the one a message is about), and with `all` (a call that
    /// reads every shared document's heads: the opening, `Hello`,
    /// `Prints`, `Heads`) every document of `shared`, empty where this
    /// node holds nothing of it. The other messages (the directory's)
    /// read no document.
    ///
    /// The real node keeps an empty Automerge document loaded for every
    /// group it holds a card for (some 10.9 KB each, measured: 44 MB per
    /// node at 2,000 groups, 87 GB for a simulated network of 2,000). The
    /// simulation keeps only documents with content and makes the empty
    /// ones when a call reads them, lending the same few thousand empty
    /// documents again and again (a new one costs 26 µs to make); a
    /// session cannot tell the difference.
    pub fn take_docs(
        &mut self,
        shared: &BTreeSet<DocId>,
        all: bool,
        extra: &[DocId],
        empties: &mut Vec<automerge::AutoCommit>,
    ) -> Docs {
        let mut empty = || {
            empties
                .pop()
                .unwrap_or_else(groundwork_protocol::edit::new_doc)
        };
        let mut tmp = Docs::new();
        for d in extra {
            let doc = self.docs.remove(d).map_or_else(&mut empty, |b| *b);
            tmp.insert(*d, doc);
        }
        if !all {
            return tmp;
        }
        let held: Vec<DocId> = if shared.len() < self.docs.len() {
            shared
                .iter()
                .filter(|d| self.docs.contains_key(d))
                .copied()
                .collect()
        } else {
            self.docs
                .keys()
                .filter(|d| shared.contains(d))
                .copied()
                .collect()
        };
        for d in held {
            if let Some(doc) = self.docs.remove(&d) {
                tmp.insert(d, *doc);
            }
        }
        for d in shared {
            if !tmp.contains_key(d) {
                tmp.insert(*d, empty());
            }
        }
        tmp
    }

    /// The documents back after a call; the empty ones go back to be lent
    /// again (a document with no change is any other empty document).
    pub fn put_docs(&mut self, docs: Docs, empties: &mut Vec<automerge::AutoCommit>) {
        for (d, mut doc) in docs {
            if doc.get_heads().is_empty() {
                if empties.len() < MAX_EMPTIES {
                    empties.push(doc);
                }
            } else {
                self.docs.insert(d, Box::new(doc));
            }
        }
    }
}
