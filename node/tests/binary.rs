//! The binary's own smoke test. Having an integration test also makes
//! `cargo test --workspace` build the `groundwork` binary, which the
//! end-to-end tests in tests/ then drive.

use std::process::Command;

#[test]
fn help_and_version_succeed_and_an_unknown_command_is_a_usage_error() {
    let bin = env!("CARGO_BIN_EXE_groundwork");
    for args in [&["--help"][..], &["--version"]] {
        let out = Command::new(bin)
            .args(args)
            .output()
            .expect("run groundwork");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("groundwork"));
    }
    let out = Command::new(bin)
        .arg("frobnicate")
        .output()
        .expect("run groundwork");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
