//! Groundwork's pure core: identities, typed group documents and signed
//! changes. Nothing here does I/O: no tokio, no sockets, no filesystem, no
//! clock. The node crate drives it.
//!
//! # Layout
//!
//! - [`control`]: the local control API's requests, responses and events
//!   (serde types; the node serves them on a Unix socket).
//! - [`keys`]: device and group keys; the public ids derived from them.
//! - [`epoch`]: a document started again from its current state (epoch
//!   records, the genesis, rebasing a device's own uncovered changes).
//! - [`ids`]: document ids (derived from group id and kind) and the short ids
//!   people type for members, meet-ups and actions.
//! - [`card`]: group cards, the signed public record of who may write a group's public documents.
//! - [`date`]: calendar dates as groups write them.
//! - [`invite`]: one-time, expiring device invites.
//! - [`join`]: redeeming an invite with the inviting device.
//! - [`link`]: linking two groups by consent: link tickets, one-time link
//!   codes and the link protocol's messages.
//! - [`records`]: signed network records (affiliations, membership summaries).
//! - [`report`]: network-wide figures from summaries, with small counts suppressed.
//! - [`schema`]: one typed schema per group document (autosurgeon).
//! - [`signed`]: signing changes and verifying them before they are applied.
//! - [`sync`]: syncing a document with a peer, verifying every change.
//! - [`text`]: every text field's limit, and text made safe for a terminal.
//! - [`trust`]: every trust rule (who may connect, read, write, link; which
//!   changes and records are accepted), as pure functions.
//! - [`wire`]: frames and the checks on peer-supplied sync messages.
//!
//! # Data flow
//!
//! An edit hydrates a [`schema`] type from its Automerge document, changes it,
//! reconciles it back as one Automerge change whose actor is the device key,
//! and signs that change with [`signed::sign_change`]. The node stores change
//! and signature together. Anything arriving from elsewhere goes through
//! [`signed::verify_change`] before it touches a document.

pub mod card;
pub mod control;
pub mod date;
pub mod disclosure;
pub mod edit;
pub mod epoch;
pub mod ids;
pub mod invite;
pub mod join;
pub mod keys;
pub mod link;
pub mod records;
pub mod report;
pub mod schema;
pub mod signed;
pub mod sync;
pub mod text;
pub mod trust;
pub mod wire;

pub use date::Date;
pub use ids::{DocId, DocKind, ShortId};
pub use keys::{DeviceId, GroupId, PublicKey, SecretKey};
