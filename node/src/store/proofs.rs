//! Proofs of equivocation: two changes one device signed with one
//! sequence number, kept so a steward can see them and act.

use redb::{ReadableTable, TableDefinition};

use super::{Store, StoreError};

/// (document id, device id, sequence number).
type ProofKey<'a> = (&'a [u8], &'a [u8], u64);

/// A proof's key to the encoded proof (`EquivocationProof::encode`).
pub(super) const EQUIVOCATIONS: TableDefinition<ProofKey, &[u8]> =
    TableDefinition::new("equivocations");

impl Store {
    /// Durably keeps a proof (the first one found for its key stays).
    pub fn put_equivocation(
        &self,
        doc: &[u8; 32],
        device: &[u8; 32],
        seq: u64,
        proof: &[u8],
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        {
            let mut table = tx.open_table(EQUIVOCATIONS)?;
            if table.get((&doc[..], &device[..], seq))?.is_none() {
                let aad = super::seal::proof_aad(doc, device, seq);
                let value = super::seal::seal(self.key(), &aad, proof);
                table.insert((&doc[..], &device[..], seq), &*value)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every proof held.
    pub fn equivocations(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = self.scan(EQUIVOCATIONS, |(doc, device, seq), v| {
            Some((super::seal::proof_aad(doc, device, seq), v.to_vec()))
        })?;
        rows.into_iter()
            .map(|(aad, v)| {
                super::seal::open(self.key(), &self.path, super::seal::PROOFS_T, &aad, &v)
                    .map(std::borrow::Cow::into_owned)
            })
            .collect()
    }
}
