//! Backups: one encrypted archive of the group's documents and group key,
//! never this device's identity (`groundwork backup FILE`, `groundwork
//! restore FILE --data-dir D`).
//!
//! ```text
//! groundwork backup v1
//! groundwork store key v1        ┐ a lock block (`secrets::StoreLock`):
//! kdf argon2id m=65536,t=3,p=1   │ the archive's own random key, wrapped
//! salt <16 bytes, hex>           │ by the passphrase
//! key <hex>                      ┘
//! <an empty line>
//! frames: u32 length (big-endian) | the frame sealed under the archive key
//! ```
//!
//! Frame 0 is the [`Manifest`] (JSON), frame 1 the group key's seed (empty
//! on a device without it), frames 2 on the store copy in pieces of at
//! most [`FRAME_BYTES`]; the last frame is marked final. A frame's
//! associated data is the header text, its index and the final mark, so a
//! frame dropped, moved, taken from another archive or cut off at the end
//! fails to open.
//!
//! The store copy is made by the vacuum path ([`Store::copy_for_backup`]),
//! its document data sealed under the archive key, so no copy in the clear
//! is written; the archive then shows nothing but its size. Left out, as
//! this device's own: the device key, the sync states with peers, the
//! ticket, the listen port, pending invites and link codes, the role a
//! join was told.
//!
//! A restore gets a **new device key**: the group's devices, linked groups
//! and the national node refuse it at the handshake until it is admitted
//! (`join INVITE` on the restored directory), and the device the backup
//! was made on can be revoked.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use groundwork_protocol::schema::{Devices, Role};
use groundwork_protocol::{DeviceId, GroupId, SecretKey};
use zeroize::Zeroizing;

use crate::datadir::{DataDir, KeyFileError, KeyKind, STORE_FILE};
use crate::group::{Group, GroupError, GroupProfile};
use crate::secrets::{
    KdfParams, Key, MAX_LOCK_BYTES, Passphrase, SEAL_OVERHEAD, SecretsError, StoreLock,
};
use crate::store::{Store, StoreError};

/// The archive's first line.
pub const HEADER: &str = "groundwork backup v1";
/// The most plain bytes in one frame.
pub const FRAME_BYTES: usize = 1 << 20;
/// The largest store a restore writes (a group's store is megabytes).
pub const MAX_STORE_BYTES: u64 = 4 << 30;
/// The most bytes of a manifest.
const MAX_MANIFEST_BYTES: usize = 4096;

/// What an archive holds, besides the store.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The group.
    pub group: GroupId,
    /// Its name (public: it is on the group's card).
    pub name: String,
    /// The device the backup was made on.
    pub device: DeviceId,
    /// That device's role when the backup was made, if it had one.
    pub role: Option<Role>,
    /// When, in Unix seconds.
    pub made: u64,
}

/// Why a backup or a restore failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A passphrase or key failed.
    #[error(transparent)]
    Secret(#[from] SecretsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file failed.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The group failed.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a backup, or is damaged.
    #[error("{path} is not a usable groundwork backup: {why}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A restore into a directory already in use.
    #[error(
        "{dir} is not empty; restore the backup of {name} into a new data directory (--data-dir)"
    )]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
        /// The backed-up group's name.
        name: String,
    },
    /// No passphrase to protect a backup with.
    #[error(
        "a backup is always encrypted: give it a passphrase with --backup-passphrase-file FILE, \
         or set this directory's with `groundwork passphrase set`"
    )]
    NoPassphrase,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// Its manifest.
    pub manifest: Manifest,
    /// Whether it holds the group key.
    pub group_key: bool,
    /// The archive's size in bytes.
    pub bytes: u64,
}

/// Meta entries that are this device's own, left out of a backup.
fn device_own(name: &str) -> bool {
    const OWN: [&str; 3] = [
        crate::group::TICKET_KEY,
        crate::daemon::PORT_KEY,
        crate::runtime::JOINED_ROLE_KEY,
    ];
    OWN.contains(&name) || name.starts_with("invite:") || name.starts_with("link-code:")
}

/// Writes a backup of `g` to `file` (mode 0600, replacing it whole or not
/// at all). `passphrase` protects it; without one it is protected by the
/// data directory's passphrase.
pub fn write(
    g: &Group,
    file: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<Written, BackupError> {
    let archive = Key::random();
    let lock = match passphrase {
        Some(p) => StoreLock::wrap(&archive, p, KdfParams::for_new()?)?.0,
        None => {
            let u = g.dir().unlocked()?.ok_or(BackupError::NoPassphrase)?;
            let (params, salt) = u.lock.kdf();
            StoreLock::wrap_with(&archive, &u.passphrase_key, params, salt)
        }
    };
    let header = format!("{HEADER}\n{}", lock.encode());
    let devices: Option<Devices> = g.read().ok();
    let me = g.device_id();
    let manifest = Manifest {
        group: g.profile().id,
        name: g.profile().name.clone(),
        device: me,
        role: devices.and_then(|d| {
            d.devices
                .get(&me.to_string())
                .filter(|e| e.revoked.is_none())
                .map(|e| e.role)
        }),
        made: g.clock().secs(),
    };
    let group_key = g.group_key()?;
    let copy = g.dir().root().join(format!("{STORE_FILE}.backup"));
    let result = (|| -> Result<u64, BackupError> {
        g.store().copy_for_backup(&copy, &archive, device_own)?;
        let partial = partial_path(file);
        let bytes = write_archive(
            &partial,
            &header,
            &archive,
            &manifest,
            group_key.as_ref(),
            &copy,
        )?;
        fs::rename(&partial, file).map_err(io(file))?;
        sync_parent(file)?;
        Ok(bytes)
    })();
    let _ = fs::remove_file(&copy);
    let bytes = result?;
    Ok(Written {
        manifest,
        group_key: group_key.is_some(),
        bytes,
    })
}

fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    file.with_file_name(name)
}

fn sync_parent(file: &Path) -> Result<(), BackupError> {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io(parent))
}

fn frame_aad(header: &str, index: u64, last: bool) -> Vec<u8> {
    let mut aad = header.as_bytes().to_vec();
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

fn write_archive(
    path: &Path,
    header: &str,
    key: &Key,
    manifest: &Manifest,
    group_key: Option<&SecretKey>,
    copy: &Path,
) -> Result<u64, BackupError> {
    let _ = fs::remove_file(path);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    let mut out = BufWriter::new(file);
    let mut index = 0u64;
    let mut frame = |out: &mut BufWriter<File>, plain: &[u8], last: bool| {
        let sealed = key.seal(&frame_aad(header, index, last), plain);
        index += 1;
        let len = u32::try_from(sealed.len()).map_err(|_| BackupError::Malformed {
            path: path.to_owned(),
            why: "a frame is too long".into(),
        })?;
        out.write_all(&len.to_be_bytes()).map_err(io(path))?;
        out.write_all(&sealed).map_err(io(path))
    };
    out.write_all(header.as_bytes()).map_err(io(path))?;
    out.write_all(b"\n").map_err(io(path))?;
    let json = serde_json::to_vec(manifest).map_err(|e| BackupError::Malformed {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    frame(&mut out, &json, false)?;
    let seed = group_key.map(SecretKey::to_seed);
    frame(&mut out, seed.as_ref().map_or(&[][..], |s| &s[..]), false)?;
    let mut src = BufReader::new(File::open(copy).map_err(io(copy))?);
    let mut buf = vec![0u8; FRAME_BYTES];
    let mut pending: Option<Vec<u8>> = None;
    loop {
        let n = read_full(&mut src, &mut buf).map_err(io(copy))?;
        if let Some(p) = pending.take() {
            frame(&mut out, &p, n == 0)?;
        }
        if n == 0 {
            break;
        }
        pending = Some(buf[..n].to_vec());
    }
    let file = out.into_inner().map_err(|e| BackupError::Io {
        path: path.to_owned(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(path))?;
    Ok(file.metadata().map_err(io(path))?.len())
}

/// Reads until `buf` is full or the end; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A frame's plain bytes.
type Frame = Zeroizing<Vec<u8>>;

/// An archive opened with its passphrase, its frames not yet read.
struct Reader {
    path: PathBuf,
    src: BufReader<File>,
    header: String,
    key: Key,
    index: u64,
    done: bool,
}

impl Reader {
    fn bad(&self, why: &str) -> BackupError {
        BackupError::Malformed {
            path: self.path.clone(),
            why: why.to_owned(),
        }
    }

    /// The next frame, and whether it is the last; `None` after the last.
    fn next(&mut self) -> Result<Option<(Frame, bool)>, BackupError> {
        if self.done {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        if read_full(&mut self.src, &mut len).map_err(io(&self.path))? != 4 {
            return Err(self.bad("it ends early (cut off?)"));
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > FRAME_BYTES + SEAL_OVERHEAD {
            return Err(self.bad("a frame is longer than any backup writes"));
        }
        let mut sealed = vec![0u8; len];
        if read_full(&mut self.src, &mut sealed).map_err(io(&self.path))? != len {
            return Err(self.bad("it ends early (cut off?)"));
        }
        for last in [false, true] {
            if let Some(plain) = self
                .key
                .open(&frame_aad(&self.header, self.index, last), &sealed)
            {
                self.index += 1;
                self.done = last;
                return Ok(Some((plain, last)));
            }
        }
        Err(self.bad(&format!(
            "frame {} does not open: the file is damaged or was altered",
            self.index
        )))
    }

    /// The next frame, which must not be the last.
    fn next_inner(&mut self) -> Result<Frame, BackupError> {
        match self.next()? {
            Some((plain, false)) => Ok(plain),
            _ => Err(self.bad("it ends early (cut off?)")),
        }
    }
}

/// Reads an archive's header and opens it with the passphrase `dir`'s
/// source gives (asked as "the backup FILE").
fn open(file: &Path, dir: &DataDir) -> Result<(Reader, Passphrase), BackupError> {
    let f = File::open(file).map_err(io(file))?;
    let mut src = BufReader::new(f);
    let bad = |why: &str| BackupError::Malformed {
        path: file.to_owned(),
        why: why.to_owned(),
    };
    // The header: text up to an empty line, at most a lock block's size.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\n\n") {
        if head.len() > HEADER.len() + 1 + MAX_LOCK_BYTES {
            return Err(bad("it does not start with a backup header"));
        }
        if src.read(&mut byte).map_err(io(file))? == 0 {
            return Err(bad("it does not start with a backup header"));
        }
        head.push(byte[0]);
    }
    let text = std::str::from_utf8(&head).map_err(|_| bad("its header is not text"))?;
    let lock_text = text
        .strip_prefix(HEADER)
        .and_then(|t| t.strip_prefix('\n'))
        .ok_or_else(|| bad(&format!("the first line is not '{HEADER}'")))?;
    let lock = StoreLock::decode(lock_text.trim_end_matches('\n'), file)?;
    let passphrase = dir
        .passphrase_source()
        .get(&format!("the backup {}", file.display()))?;
    let (key, _) = lock.unlock(&passphrase)?;
    let header = text[..text.len() - 1].to_owned();
    Ok((
        Reader {
            path: file.to_owned(),
            src,
            header,
            key,
            index: 0,
            done: false,
        },
        passphrase,
    ))
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct Restored {
    /// The archive's manifest.
    pub manifest: Manifest,
    /// Whether it held the group key.
    pub group_key: bool,
    /// The new device's id.
    pub device: DeviceId,
}

/// Restores `file` into `dir`, which must be empty or absent. The
/// directory gets a new device key and the backup's passphrase (under a
/// new store key). On any error what was written is removed.
pub fn restore(file: &Path, dir: &DataDir) -> Result<Restored, BackupError> {
    let (mut r, passphrase) = open(file, dir)?;
    let manifest: Manifest = serde_json::from_slice(&{
        let m = r.next_inner()?;
        if m.len() > MAX_MANIFEST_BYTES {
            return Err(r.bad("its manifest is too long"));
        }
        m
    })
    .map_err(|e| r.bad(&format!("its manifest does not parse: {e}")))?;
    groundwork_protocol::text::check(groundwork_protocol::text::Field::GroupName, &manifest.name)
        .map_err(|e| r.bad(&format!("its group name: {e}")))?;
    let root = dir.root().to_owned();
    let existed = root.exists();
    if existed {
        let mut entries = fs::read_dir(&root).map_err(io(&root))?;
        if entries.next().is_some() {
            return Err(BackupError::NotEmpty {
                dir: root,
                name: manifest.name,
            });
        }
    }
    let seed = r.next_inner()?;
    let group_key = match seed.len() {
        0 => None,
        32 => {
            let mut s = Zeroizing::new([0u8; 32]);
            s.copy_from_slice(&seed);
            Some(SecretKey::from_seed(&s))
        }
        _ => return Err(r.bad("its group key is not 32 bytes")),
    };
    if group_key
        .as_ref()
        .is_some_and(|k| k.public() != manifest.group)
    {
        return Err(r.bad("its group key is not the group's"));
    }
    dir.create().map_err(io(&root))?;
    let result = restore_into(&mut r, dir, &manifest, group_key.as_ref(), &passphrase);
    if result.is_err() {
        for name in [
            format!("{STORE_FILE}.restoring"),
            format!("{STORE_FILE}.vacuum"),
            crate::secrets::LOCK_FILE.to_owned(),
            "device.key".to_owned(),
            "group.key".to_owned(),
        ] {
            let _ = fs::remove_file(root.join(name));
        }
        if !existed {
            let _ = fs::remove_dir(&root);
        }
    }
    let device = result?;
    Ok(Restored {
        manifest,
        group_key: group_key.is_some(),
        device,
    })
}

fn restore_into(
    r: &mut Reader,
    dir: &DataDir,
    manifest: &Manifest,
    group_key: Option<&SecretKey>,
    passphrase: &Passphrase,
) -> Result<DeviceId, BackupError> {
    let tmp = dir.root().join(format!("{STORE_FILE}.restoring"));
    {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        let mut out = BufWriter::new(file);
        let mut total = 0u64;
        while let Some((plain, _)) = r.next()? {
            total += plain.len() as u64;
            if total > MAX_STORE_BYTES {
                return Err(r.bad("its store is larger than any restore writes"));
            }
            out.write_all(&plain).map_err(io(&tmp))?;
        }
        let mut rest = [0u8; 1];
        if r.src.read(&mut rest).map_err(io(&r.path))? != 0 {
            return Err(r.bad("it has bytes after its last frame"));
        }
        let file = out.into_inner().map_err(|e| BackupError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io(&tmp))?;
    }
    let mut store = Store::open_sealed(&tmp, Some(r.key.clone())).map_err(|e| match e {
        StoreError::Protected(_) | StoreError::WrongKey(_) | StoreError::Unreadable { .. } => {
            r.bad("its store does not open")
        }
        other => other.into(),
    })?;
    let profile: GroupProfile = store
        .get_meta(crate::group::PROFILE_KEY)?
        .ok_or_else(|| r.bad("its store holds no group"))?;
    if profile.id != manifest.group {
        return Err(r.bad("its store is of another group than its manifest says"));
    }
    let unlocked = dir.protect(passphrase)?;
    store.reseal(Some(unlocked.store_key.clone()))?;
    drop(store);
    let device = dir.read_or_create_key(KeyKind::Device)?;
    if let Some(k) = group_key {
        dir.write_key(KeyKind::Group, k)?;
    }
    let path = dir.store_path();
    fs::rename(&tmp, &path).map_err(io(&path))?;
    File::open(dir.root())
        .and_then(|d| d.sync_all())
        .map_err(io(dir.root()))?;
    Ok(device.public())
}
