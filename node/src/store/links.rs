//! Requests to link waiting for this group's steward.

use redb::TableDefinition;

use super::{Entry, Store, StoreError};

/// Requesting group id to the request (JSON: device, addresses, card, when).
pub(super) const LINK_REQUESTS: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("link_requests");

impl Store {
    /// Every waiting request: (group id, JSON).
    pub fn link_requests(&self) -> Result<Vec<Entry>, StoreError> {
        self.all(LINK_REQUESTS)
    }

    /// Durably keeps a request.
    pub fn put_link_request(&self, group: &[u8; 32], request: &[u8]) -> Result<(), StoreError> {
        self.put(LINK_REQUESTS, group, request)
    }

    /// Durably forgets a request.
    pub fn remove_link_request(&self, group: &[u8; 32]) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.open_table(LINK_REQUESTS)?.remove(&group[..])?;
        tx.commit()?;
        Ok(())
    }
}
