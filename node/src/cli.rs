//! CLI
pub fn run() {}
