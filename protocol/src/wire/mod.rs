//! The wire: frames and the checks every peer-supplied byte passes before
//! anything else sees it. Pure code: the node feeds it bytes from iroh
//! streams.
//!
//! - [`chunks`]: decoding a peer's change chunks under byte and operation
//!   caps before Automerge parses them (it inflates and expands without limit).
//! - [`digest`]: one digest of the heads of every shared document.
//! - [`frame`]: length-prefixed, capped frames, decoded incrementally.
//! - [`sync_message`]: validating an Automerge sync message before Automerge
//!   touches it (its decoder accepts messages that later panic or allocate
//!   without bound).

pub mod chunks;
pub mod digest;
pub mod frame;
pub mod kinds;
pub mod sync_message;
