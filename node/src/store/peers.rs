//! What the store keeps about peers and the network: sync states per
//! (peer, document), peer records and other groups' cards.

use super::*;

impl Store {
    /// The sync states saved for a peer, by document.
    pub fn peer_states(&self, peer: &[u8; 32]) -> Result<Vec<Entry>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = match tx.open_table(PEER_STATES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        let lo = [0u8; 32];
        let hi = [0xffu8; 32];
        for entry in table.range((&peer[..], &lo[..])..=(&peer[..], &hi[..]))? {
            let (k, v) = entry?;
            if let Ok(doc) = <[u8; 32]>::try_from(k.value().1) {
                out.push((doc, v.value().to_vec()));
            }
        }
        Ok(out)
    }

    /// Durably replaces the sync states saved for a peer.
    pub fn save_peer_states(
        &self,
        peer: &[u8; 32],
        states: &[([u8; 32], Vec<u8>)],
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        {
            let mut table = tx.open_table(PEER_STATES)?;
            for (doc, state) in states {
                table.insert((&peer[..], &doc[..]), &state[..])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Everything remembered about peers: (device id, JSON record).
    pub fn peers(&self) -> Result<Vec<Entry>, StoreError> {
        self.all(PEERS)
    }

    /// Durably remembers a peer.
    pub fn put_peer(&self, device: &[u8; 32], record: &[u8]) -> Result<(), StoreError> {
        self.put(PEERS, device, record)
    }

    /// Every group card held: (group id, encoded signed card).
    pub fn cards(&self) -> Result<Vec<Entry>, StoreError> {
        self.all(CARDS)
    }

    /// Durably keeps a group card (the caller has verified it is newer).
    pub fn put_card(&self, group: &[u8; 32], card: &[u8]) -> Result<(), StoreError> {
        self.put(CARDS, group, card)
    }

    /// Makes every commit so far durable (an empty commit with an fsync).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.write()?.commit()?;
        Ok(())
    }

    /// Keeps group cards, in one transaction; `durable` as for
    /// [`Store::put_records`].
    pub fn put_cards(&self, rows: &[([u8; 32], &[u8])], durable: bool) -> Result<(), StoreError> {
        let tx = self.write_with(durable)?;
        {
            let mut table = tx.open_table(CARDS)?;
            for (group, card) in rows {
                table.insert(&group[..], *card)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn all(&self, def: TableDefinition<&[u8], &[u8]>) -> Result<Vec<Entry>, StoreError> {
        self.scan(def, |k, v| {
            <[u8; 32]>::try_from(k).ok().map(|key| (key, v.to_vec()))
        })
    }
}
