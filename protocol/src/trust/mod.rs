//! Every trust rule, as pure functions: the node asks, it does not decide.
//!
//! | rule | where | what it decides |
//! |---|---|---|
//! | change acceptance | [`change`] | whether one signed change from a peer joins a document; equivocation proofs |
//!
//! Each rule has unit tests for each case and property tests over random
//! inputs next to it.

pub mod change;
