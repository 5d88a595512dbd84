//! Bounded history: epochs that start without anyone asking.
//!
//! Every change a document gains stays in its history, with its signature,
//! until the document starts a new epoch. **The rule:** once a document of
//! this group holds [`AUTO_EPOCH_CHANGES`] changes or more since its epoch
//! began, the group's *epoch keeper* starts the next epoch of it. The
//! keeper is the active steward device with the lowest device id, so two
//! devices never start one apart by this rule (a tie would cost the losing
//! device its edits the other never saw). It checks when it compacts the
//! document (every 16 changes it stores), so the check costs nothing on
//! most edits.

use std::sync::atomic::Ordering;

use groundwork_protocol::DocKind;
use groundwork_protocol::schema::Devices;

use super::Group;

/// Changes since a document's epoch began at which its keeper starts the
/// next one. High enough that a laptop offline for months rarely misses
/// two epochs of one document (one that has rebases nothing of its own
/// edits: docs/operations.md).
pub const AUTO_EPOCH_CHANGES: usize = 8_192;

impl Group {
    /// Sets the changes at which the rule starts an epoch (tests and
    /// benches; [`AUTO_EPOCH_CHANGES`] otherwise).
    pub fn set_history_limit(&self, changes: usize) {
        self.history_limit.store(changes, Ordering::Relaxed);
    }

    /// Whether this device is the group's epoch keeper: the active steward
    /// with the lowest device id.
    pub fn is_epoch_keeper(&self) -> bool {
        let Ok(devices) = self.read::<Devices>() else {
            return false;
        };
        let keeper = devices
            .devices
            .iter()
            .filter(|(_, e)| e.revoked.is_none() && e.role.may_write(DocKind::Devices))
            .filter_map(|(k, _)| k.parse::<groundwork_protocol::DeviceId>().ok())
            .min();
        keeper == Some(self.device_id())
    }

    /// The bounded-history rule for this group's document `kind`, whose
    /// history now holds `changes` changes: on the epoch keeper, at
    /// [`AUTO_EPOCH_CHANGES`] or more, starts the next epoch and returns
    /// its number. A failure loses nothing (the history just stays long),
    /// so it is logged.
    pub fn auto_epoch(&self, kind: DocKind, changes: usize) -> Option<u64> {
        let limit = self.history_limit.load(Ordering::Relaxed);
        if changes < limit || !self.is_epoch_keeper() {
            return None;
        }
        match self.start_epoch(kind) {
            Ok(n) => {
                tracing::info!("{kind}: its history passed {limit} changes; started epoch {n}");
                Some(n)
            }
            Err(e) => {
                tracing::warn!("{kind}: could not start an epoch to trim its history: {e:#}");
                None
            }
        }
    }
}
