//! The Groundwork node.
pub mod store;
