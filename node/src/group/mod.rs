//! A group as this device holds it: the store, the device key and the
//! group's profile, with the edit machinery every command uses.
//!
//! An edit names the documents it touches. [`Group::edit`] checks this
//! device may write each of them, loads them, lets the caller change them
//! through typed edits, then commits one Automerge change per document,
//! signs each with the device key and stores them all in one durable
//! transaction. Only then does it return: an edit reported done is on disk.

use groundwork_protocol::control::ErrorCode;
use std::collections::BTreeMap;

use automerge::AutoCommit;
use groundwork_protocol::schema::{DeviceEntry, Devices, GroupDocument, Role};
use groundwork_protocol::signed::{actor_id, sign_change};
use groundwork_protocol::{Date, DeviceId, DocId, DocKind, GroupId, SecretKey, ShortId};

use crate::datadir::{DataDir, KeyFileError, KeyKind};
use crate::store::{Store, StoreError, StoredChange};

mod devices;
mod documents;
mod email_index;
mod epochs;
mod error;
mod history;
mod links;
mod members;
mod plan_edits;
mod redact;
mod summary;

pub use epochs::{Forgotten, HeldEpoch};
pub use error::GroupError;
pub use groundwork_protocol::control::{
    ConstitutionUpdate, ImportOutcome, MeetupInput, MemberInput, MemberView, PlanView,
};
pub use history::AUTO_EPOCH_CHANGES;
pub use links::{REQUEST_TTL_SECS, WaitingRequest};
pub use members::{MemberInputExt, impossible_date, validate_email, validate_phone};
pub use summary::{SummaryInputs, exact_figures, summary_of};

pub use groundwork_protocol::card::GroupKind;

/// What the group is called and where it is. Stored in the store's meta table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupProfile {
    /// The group id (its public key).
    pub id: GroupId,
    /// The group's name.
    pub name: String,
    /// The area it organises in.
    pub area: Option<String>,
    /// Local organising group or social action hub.
    #[serde(default)]
    pub kind: GroupKind,
    /// When it was founded on this device.
    pub founded: Date,
}

pub(crate) const PROFILE_KEY: &str = "group";

/// A group opened on this device.
#[derive(Debug)]
pub struct Group {
    dir: DataDir,
    store: Store,
    device: SecretKey,
    profile: GroupProfile,
    /// Changes committed by edits, for a running node to send to peers.
    committed: std::sync::Mutex<Vec<StoredChange>>,
    /// In a running node: every document it holds, kept loaded. Edits and
    /// reads use these instead of loading from the store each time (a
    /// 10,000-member roster takes milliseconds to load). `None` when a
    /// command opens the store for itself.
    cache: Option<std::sync::Mutex<Docs>>,
    /// In a running node: the contacts' emails, for adds ([`email_index`]).
    emails: std::sync::Mutex<Option<email_index::EmailIndex>>,
    /// The epoch of each document past epoch 0 ([`epochs`]).
    epochs: std::sync::Mutex<BTreeMap<DocId, HeldEpoch>>,
    /// Documents switched to a new epoch since the last call of
    /// [`Group::take_switched`], for a running node to tell its sessions.
    switched: std::sync::Mutex<Vec<DocId>>,
    /// The bounded-history rule's threshold ([`AUTO_EPOCH_CHANGES`]).
    history_limit: std::sync::atomic::AtomicUsize,
    /// The clock every time-dependent decision reads.
    clock: crate::clock::Clock,
}

/// Loaded documents by id.
pub type Docs = BTreeMap<DocId, AutoCommit>;

/// Refuses user text not fit for `field` (too long, or holding a control
/// or bidirectional character): one error naming the field.
pub(crate) fn checked(
    field: groundwork_protocol::text::Field,
    value: &str,
) -> Result<(), GroupError> {
    Ok(groundwork_protocol::text::check(field, value)?)
}

/// The meta entry holding the ticket of the last `up`.
pub const TICKET_KEY: &str = "ticket";

/// Today's date (UTC) by the system clock, for callers that hold no
/// group yet (founding one, the command line, tests). A group's own
/// decisions read [`Group::clock`].
pub fn today() -> Date {
    crate::clock::Clock::system().today()
}

impl Group {
    /// The clock this group's decisions read (the system's unless a test
    /// set another).
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// Reads the time from `clock` from now on.
    pub fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.clock = clock;
    }

    /// Founds a new group in `dir`: keys, store and the six documents.
    pub fn found(
        dir: &DataDir,
        name: &str,
        area: Option<&str>,
        kind: GroupKind,
        today: Date,
    ) -> Result<Group, GroupError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(GroupError::Invalid {
                code: ErrorCode::Usage,
                field: "name",
                why: "a group needs a name".into(),
            });
        }
        checked(groundwork_protocol::text::Field::GroupName, name)?;
        if let Some(a) = area {
            checked(groundwork_protocol::text::Field::Area, a.trim())?;
        }
        let store_path = dir.store_path();
        if store_path.exists() {
            // A store exists. If it holds a group, refuse; if a previous init
            // was cut off before writing the group, carry on with it.
            let store =
                Store::open_sealed(&store_path, dir.store_key().map_err(KeyFileError::from)?)?;
            if let Some(p) = store.get_meta::<GroupProfile>(PROFILE_KEY)? {
                return Err(GroupError::AlreadyFounded {
                    name: p.name,
                    dir: dir.root().to_owned(),
                });
            }
        }
        dir.create().map_err(|e| GroupError::Io {
            path: dir.root().to_owned(),
            source: e,
        })?;
        let device = dir.read_or_create_key(KeyKind::Device)?;
        let group_key = dir.read_or_create_key(KeyKind::Group)?;
        let key = dir.store_key().map_err(KeyFileError::from)?;
        let store = if store_path.exists() {
            Store::open_sealed(&store_path, key)?
        } else {
            Store::create_sealed(&store_path, key)?
        };
        let profile = GroupProfile {
            id: group_key.public(),
            name: name.to_owned(),
            area: area
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            kind,
            founded: today,
        };
        let group = Group {
            dir: dir.clone(),
            store,
            device,
            profile,
            committed: Default::default(),
            cache: None,
            emails: std::sync::Mutex::default(),
            epochs: Default::default(),
            switched: Default::default(),
            history_limit: AUTO_EPOCH_CHANGES.into(),
            clock: crate::clock::Clock::system(),
        };
        group.write_founding_documents(today)?;
        Ok(group)
    }

    fn write_founding_documents(&self, today: Date) -> Result<(), GroupError> {
        use groundwork_protocol::schema::{Constitution, Contacts, Meetups, Plan, Roster};
        let me = self.device_id();
        let mut devices = Devices::default();
        devices.devices.insert(
            me.to_string(),
            DeviceEntry {
                role: Role::Steward,
                label: "founding device".into(),
                added_by: me,
                added: today,
                revoked: None,
                cut: Default::default(),
            },
        );
        let constitution = Constitution {
            body: autosurgeon::Text::with_value(Constitution::template(
                &self.profile.name,
                self.profile.kind,
            )),
            version: 1,
            ..Constitution::default()
        };
        let changes = vec![
            self.initial_change(&devices)?,
            self.initial_change(&constitution)?,
            self.initial_change(&Plan::default())?,
            self.initial_change(&Meetups::default())?,
            self.initial_change(&Roster::default())?,
            self.initial_change(&Contacts::default())?,
        ];
        let profile =
            serde_json::to_value(&self.profile).map_err(|e| GroupError::Internal(e.to_string()))?;
        self.store.commit(&changes, &[(PROFILE_KEY, profile)])?;
        Ok(())
    }

    fn initial_change<T: GroupDocument>(&self, value: &T) -> Result<StoredChange, GroupError> {
        let mut doc = groundwork_protocol::edit::new_doc().with_actor(actor_id(&self.device_id()));
        autosurgeon::reconcile(&mut doc, value)
            .map_err(groundwork_protocol::edit::EditError::from)?;
        self.signed_changes(T::KIND, &mut doc, &[])?
            .pop()
            .ok_or_else(|| GroupError::Internal("founding change was empty".into()))
    }

    /// Opens the group held in `dir`.
    pub fn open(dir: &DataDir) -> Result<Group, GroupError> {
        Group::open_unless(dir, &|| false)
    }

    /// [`Group::open`], giving up the wait for a store another process
    /// holds as soon as `give_up` says so ([`Store::open_sealed_unless`]).
    pub fn open_unless(dir: &DataDir, give_up: &dyn Fn() -> bool) -> Result<Group, GroupError> {
        let store_path = dir.store_path();
        if !store_path.exists() {
            return Err(GroupError::NotFounded(dir.root().to_owned()));
        }
        // The key first: a wrong passphrase or a damaged key file stops
        // here, before the store is opened (opening may tidy it).
        let key = dir.store_key().map_err(KeyFileError::from)?;
        let device = dir.read_key(KeyKind::Device)?;
        let store = Store::open_sealed_unless(&store_path, key, give_up)?;
        let profile = store
            .get_meta::<GroupProfile>(PROFILE_KEY)?
            .ok_or_else(|| GroupError::NotFounded(dir.root().to_owned()))?;
        let held = epochs::load(&store)?;
        let writable = !store.is_read_only();
        let g = Group {
            dir: dir.clone(),
            store,
            device,
            profile,
            committed: Default::default(),
            cache: None,
            emails: std::sync::Mutex::default(),
            epochs: std::sync::Mutex::new(held),
            switched: Default::default(),
            history_limit: AUTO_EPOCH_CHANGES.into(),
            clock: crate::clock::Clock::system(),
        };
        // A forget cut short here is finished before anything else reads
        // the member's history. If it cannot be (this device may no longer
        // edit the roster), the next open tries again.
        if writable {
            match g.finish_forgets() {
                Ok(0) => {}
                Ok(n) => tracing::info!("finished {n} member forget(s) cut short earlier"),
                Err(e) => tracing::warn!("a member forget cut short could not be finished: {e}"),
            }
        }
        Ok(g)
    }

    /// Sets up a group this device has just joined (from the inviting
    /// device's reply): the group key if it came (steward devices only),
    /// then a store holding the profile. The documents arrive by sync.
    pub fn joined(
        dir: &DataDir,
        device: SecretKey,
        profile: GroupProfile,
        group_key: Option<&SecretKey>,
    ) -> Result<Group, GroupError> {
        if let Some(k) = group_key {
            if k.public() != profile.id {
                return Err(GroupError::Internal(
                    "the group key sent does not match the group id".into(),
                ));
            }
            dir.write_key(KeyKind::Group, k)?;
        }
        let key = dir.store_key().map_err(KeyFileError::from)?;
        let store = Store::create_sealed(&dir.store_path(), key)?;
        let value =
            serde_json::to_value(&profile).map_err(|e| GroupError::Internal(e.to_string()))?;
        store.commit(&[], &[(PROFILE_KEY, value)])?;
        Ok(Group {
            dir: dir.clone(),
            store,
            device,
            profile,
            committed: Default::default(),
            cache: None,
            emails: std::sync::Mutex::default(),
            epochs: Default::default(),
            switched: Default::default(),
            history_limit: AUTO_EPOCH_CHANGES.into(),
            clock: crate::clock::Clock::system(),
        })
    }

    /// The group secret key, on a steward device that holds it.
    pub fn group_key(&self) -> Result<Option<SecretKey>, GroupError> {
        if !self.dir.key_path(KeyKind::Group).exists() {
            return Ok(None);
        }
        Ok(Some(self.dir.read_key(KeyKind::Group)?))
    }

    /// Keeps documents loaded from now on (a running node): see [`Group::docs`].
    pub fn keep_loaded(&mut self) {
        if self.cache.is_none() {
            self.cache = Some(std::sync::Mutex::new(Docs::new()));
        }
    }

    /// The loaded documents (empty unless [`Group::keep_loaded`] was
    /// called). Edits lock them too: do not hold the guard across an edit.
    pub fn docs(&self) -> std::sync::MutexGuard<'_, Docs> {
        static EMPTY: std::sync::OnceLock<std::sync::Mutex<Docs>> = std::sync::OnceLock::new();
        let m = self
            .cache
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(Default::default));
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on a document: the loaded one in a running node, else one
    /// loaded from the store.
    pub(crate) fn with_doc<R>(
        &self,
        kind: DocKind,
        f: impl FnOnce(&AutoCommit) -> Result<R, GroupError>,
    ) -> Result<R, GroupError> {
        if self.cache.is_some() {
            let docs = self.docs();
            let doc = docs
                .get(&self.doc_id(kind))
                .ok_or(GroupError::MissingDocument(kind))?;
            if doc.is_empty() {
                return Err(GroupError::MissingDocument(kind));
            }
            return f(doc);
        }
        f(&self.load(kind)?)
    }

    /// Takes the changes edits have committed since the last call.
    pub fn take_committed(&self) -> Vec<StoredChange> {
        match self.committed.lock() {
            Ok(mut c) => std::mem::take(&mut *c),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    /// The group's profile.
    pub fn profile(&self) -> &GroupProfile {
        &self.profile
    }

    /// This device's secret key, for the network endpoint (the endpoint id
    /// is the device id). Never printed.
    pub fn device_key(&self) -> &SecretKey {
        &self.device
    }

    /// Records a meta entry durably.
    pub fn set_meta(&self, key: &str, value: serde_json::Value) -> Result<(), GroupError> {
        Ok(self.store.commit(&[], &[(key, value)])?)
    }

    /// Reads a meta entry.
    pub fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, GroupError> {
        Ok(self.store.get_meta(key)?)
    }

    /// This device's id.
    pub fn device_id(&self) -> DeviceId {
        self.device.public()
    }

    /// The data directory.
    pub fn dir(&self) -> &DataDir {
        &self.dir
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The id of one of this group's documents.
    pub fn doc_id(&self, kind: DocKind) -> DocId {
        DocId::derive(&self.profile.id, kind)
    }

    /// Loads a document with this device as its actor.
    pub fn load(&self, kind: DocKind) -> Result<AutoCommit, GroupError> {
        let doc = self
            .store
            .load(&self.doc_id(kind))?
            .ok_or(GroupError::MissingDocument(kind))?;
        Ok(doc.with_actor(actor_id(&self.device_id())))
    }

    /// Loads several documents at once, each on its own thread: loading is
    /// CPU-bound (about 9 ms for a 10,000-entry roster), and an edit of the
    /// roster and contacts needs both.
    fn load_many(&self, kinds: &[DocKind]) -> Vec<Result<AutoCommit, GroupError>> {
        if kinds.len() < 2 {
            return kinds.iter().map(|k| self.load(*k)).collect();
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = kinds
                .iter()
                .map(|k| s.spawn(move || self.load(*k)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(GroupError::Internal("a document loader panicked".into()))
                    })
                })
                .collect()
        })
    }

    /// Reads a whole document as its typed value.
    pub fn read<T: GroupDocument>(&self) -> Result<T, GroupError> {
        self.with_doc(T::KIND, |d| T::from_doc_checked(d))
    }

    /// This device's role, from the devices document.
    pub fn role(&self) -> Result<Role, GroupError> {
        let devices: Devices = self.read()?;
        devices
            .active_role(&self.device_id())
            .ok_or(GroupError::NotAGroupDevice)
    }

    /// Refuses unless this device may read `kind`.
    pub fn require_read(&self, kind: DocKind) -> Result<Role, GroupError> {
        let role = self.role()?;
        if role.may_read(kind) {
            Ok(role)
        } else {
            Err(GroupError::Forbidden {
                role,
                kind,
                verb: "read",
            })
        }
    }

    /// Loads `kinds`, runs `f` on them, and durably stores a signed change
    /// for each document `f` changed. Nothing is stored if `f` fails.
    pub fn edit<R>(
        &self,
        kinds: &[DocKind],
        f: impl FnOnce(&mut Editing) -> Result<R, GroupError>,
    ) -> Result<R, GroupError> {
        self.edit_as(self.role()?, kinds, f)
    }

    /// [`Group::edit`] with `role` given rather than read from the devices
    /// document: a recovery ([`Group::recover`]) writes as the steward the
    /// group key makes this device.
    fn edit_as<R>(
        &self,
        role: Role,
        kinds: &[DocKind],
        f: impl FnOnce(&mut Editing) -> Result<R, GroupError>,
    ) -> Result<R, GroupError> {
        if let Some(kind) = kinds.iter().find(|k| !role.may_write(**k)) {
            return Err(GroupError::Forbidden {
                role,
                kind: *kind,
                verb: "edit",
            });
        }
        let mut editing = Editing {
            docs: BTreeMap::new(),
        };
        let mut loaded_at = BTreeMap::new();
        if self.cache.is_some() {
            // A running node edits its loaded documents in place; if the
            // edit fails they are reloaded from the store (below), so a
            // half-made change never outlives the edit.
            let mut docs = self.docs();
            for kind in kinds {
                let id = self.doc_id(*kind);
                let Some(doc) = docs.remove(&id).filter(|d| !d.is_empty()) else {
                    drop(docs);
                    self.restore_cached(editing.docs.into_keys());
                    return Err(GroupError::MissingDocument(*kind));
                };
                let mut doc = doc;
                doc.set_actor(actor_id(&self.device_id()));
                loaded_at.insert(*kind, doc.get_heads());
                editing.docs.insert(*kind, doc);
            }
        } else {
            for (kind, doc) in kinds.iter().zip(self.load_many(kinds)) {
                let mut doc = doc?;
                loaded_at.insert(*kind, doc.get_heads());
                editing.docs.insert(*kind, doc);
            }
        }
        let result = self.finish_edit(&mut editing, &loaded_at, f);
        if self.cache.is_some() {
            match &result {
                Ok(_) => {
                    let mut docs = self.docs();
                    for (kind, doc) in std::mem::take(&mut editing.docs) {
                        docs.insert(self.doc_id(kind), doc);
                    }
                }
                Err(_) => self.restore_cached(editing.docs.into_keys()),
            }
        }
        result
    }

    /// Puts documents back into the cache as the store holds them.
    fn restore_cached(&self, kinds: impl IntoIterator<Item = DocKind>) {
        for kind in kinds {
            let id = self.doc_id(kind);
            let doc = match self.store.load(&id) {
                Ok(Some(d)) => d,
                Ok(None) => groundwork_protocol::edit::new_doc(),
                Err(e) => {
                    tracing::error!(doc = %kind, "could not reload a document: {e}");
                    continue;
                }
            };
            self.docs().insert(id, doc);
        }
    }

    fn finish_edit<R>(
        &self,
        editing: &mut Editing,
        loaded_at: &BTreeMap<DocKind, Vec<automerge::ChangeHash>>,
        f: impl FnOnce(&mut Editing) -> Result<R, GroupError>,
    ) -> Result<R, GroupError> {
        let out = f(editing)?;
        let mut changes = Vec::new();
        for (kind, doc) in &mut editing.docs {
            let since = loaded_at.get(kind).map_or(&[][..], Vec::as_slice);
            changes.extend(self.signed_changes(*kind, doc, since)?);
        }
        if !changes.is_empty() {
            self.store.commit(&changes, &[])?;
            match self.committed.lock() {
                Ok(mut c) => c.extend(changes),
                Err(poisoned) => poisoned.into_inner().extend(changes),
            }
        }
        // The edit is durable. Fold long change runs into a snapshot now;
        // a failure here loses nothing, so it is only logged. (A running
        // node does this when idle, off the edit's path.)
        if self.cache.is_some() {
            return Ok(out);
        }
        let mut long = Vec::new();
        for (kind, doc) in &mut editing.docs {
            let id = self.doc_id(*kind);
            match self.store.wants_compaction(&id) {
                Ok(true) => {
                    if let Err(e) = self.store.compact(&id, doc) {
                        tracing::warn!(doc = %kind, "compaction failed: {e:#}");
                    }
                    long.push((*kind, doc.get_changes_meta(&[]).len()));
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(doc = %kind, "compaction check failed: {e:#}"),
            }
        }
        // Bounded history (`history.rs`): the edit is durable and compacted.
        for (kind, changes) in long {
            self.auto_epoch(kind, changes);
        }
        Ok(out)
    }

    /// Commits `doc` and signs every change made since `since` (normally
    /// one, but an implicit commit inside an edit would make more).
    fn signed_changes(
        &self,
        kind: DocKind,
        doc: &mut AutoCommit,
        since: &[automerge::ChangeHash],
    ) -> Result<Vec<StoredChange>, GroupError> {
        doc.commit();
        let id = self.doc_id(kind);
        // Signed for the epoch the document is in (`DocId::in_epoch`).
        let signed_as = id.in_epoch(self.epoch(&id));
        doc.get_changes(since)
            .into_iter()
            .map(|change| {
                let signature = sign_change(&self.device, &signed_as, &change)
                    .map_err(|e| GroupError::Internal(e.to_string()))?;
                Ok(StoredChange {
                    doc: id,
                    bytes: change.raw_bytes().to_vec(),
                    hash: change.hash().0,
                    signature,
                })
            })
            .collect()
    }

    /// Housekeeping after a command: shrink the store file if compaction
    /// left it mostly empty. Failure loses nothing, so it is only logged.
    pub fn maintain(&mut self) {
        if !self.take_switched().is_empty() {
            // A document switched epochs: no page may keep the old one.
            self.vacuum();
            return;
        }
        match self.store.shrink_if_sparse() {
            Ok(true) => tracing::debug!("store file shrunk"),
            Ok(false) => {}
            Err(e) => tracing::warn!("could not shrink the store file: {e:#}"),
        }
    }

    /// A fresh short id not in `taken`.
    pub fn new_short_id(taken: impl Fn(&ShortId) -> bool) -> ShortId {
        loop {
            let id = ShortId::from_entropy(rand::random::<u32>());
            if !taken(&id) {
                return id;
            }
        }
    }
}

/// The documents loaded for one edit.
#[derive(Debug)]
pub struct Editing {
    docs: BTreeMap<DocKind, AutoCommit>,
}

impl Editing {
    /// A document named in the edit.
    pub fn doc(&mut self, kind: DocKind) -> Result<&mut AutoCommit, GroupError> {
        self.docs
            .get_mut(&kind)
            .ok_or_else(|| GroupError::Internal(format!("edit did not load the {kind} document")))
    }
}

impl From<StoreError> for GroupError {
    fn from(e: StoreError) -> Self {
        GroupError::Store(e)
    }
}

/// Hydrating with the error naming the document.
pub(crate) trait FromDocChecked: GroupDocument {
    fn from_doc_checked(doc: &AutoCommit) -> Result<Self, GroupError> {
        Self::from_doc(doc).map_err(|e| GroupError::Schema {
            kind: Self::KIND,
            why: e.to_string(),
        })
    }
}
impl<T: GroupDocument> FromDocChecked for T {}

#[cfg(test)]
mod tests;
