//! Commands on a data directory with a passphrase: the passphrase file,
//! the cheapest key derivation groundwork accepts, and checks that a
//! refusal is one line and changes no file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::Node;

/// The cheapest Argon2id groundwork accepts, so the suite stays quick.
pub const KDF: &str = "m=8192,t=1,p=1";

pub fn passphrase_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

pub fn run(n: &Node, file: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut c = n.std_cmd(args);
    c.env("GROUNDWORK_KDF", KDF)
        .env_remove("GROUNDWORK_PASSPHRASE_FILE");
    if let Some(f) = file {
        c.arg("--passphrase-file").arg(f);
    }
    c.output().expect("spawn")
}

pub fn ok(n: &Node, file: Option<&Path>, args: &[&str]) -> String {
    let o = run(n, file, args);
    assert!(
        o.status.success(),
        "`{}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One error line, a failing status, no panic.
pub fn refused(n: &Node, file: Option<&Path>, args: &[&str]) -> String {
    let o = run(n, file, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "`{}` succeeded", args.join(" "));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Every file of the data directory, to show nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| (e.path(), std::fs::read(e.path()).expect("read")))
        .collect();
    out.sort();
    out
}
