//! The directory in a session: prints of the cards and records a node
//! holds ([`Message::Inventory`]), and the ones a peer's prints lack.

use std::collections::BTreeSet;

use super::super::messages::{MAX_INVENTORY, Message, inventory_print};
use super::SessionStore;

/// The tag of a card in an inventory print (a record's is its kind byte).
const CARD_TAG: u8 = 0;

fn record_print(tagged: &[u8]) -> Option<[u8; 8]> {
    tagged.split_first().map(|(k, b)| inventory_print(*k, b))
}

/// This node's inventory. Past [`MAX_INVENTORY`] items the rest are left
/// out: the peer is then sent them whether it holds them or not.
pub(super) fn inventory(store: &impl SessionStore) -> Message {
    Message::Inventory(prints(store))
}

fn prints(store: &impl SessionStore) -> Vec<[u8; 8]> {
    let mut prints: Vec<[u8; 8]> = store
        .records()
        .iter()
        .filter_map(|r| record_print(r))
        .chain(store.cards().iter().map(|c| inventory_print(CARD_TAG, c)))
        .collect();
    prints.sort_unstable();
    prints.dedup();
    prints.truncate(MAX_INVENTORY);
    prints
}

/// The records, then the cards, this node holds whose prints are not in
/// the peer's inventory (records first: affiliations decide which cards
/// the peer keeps, `trust::records`), in as many messages as the cap on
/// one message's items asks.
pub(super) fn missing(store: &impl SessionStore, theirs: Vec<[u8; 8]>) -> Vec<Message> {
    let theirs: BTreeSet<[u8; 8]> = theirs.into_iter().collect();
    let mut out = Vec::new();
    let records: Vec<Vec<u8>> = store
        .records()
        .into_iter()
        .filter(|r| record_print(r).is_some_and(|p| !theirs.contains(&p)))
        .collect();
    out.extend(Message::records_in_parts(records));
    let cards: Vec<Vec<u8>> = store
        .cards()
        .into_iter()
        .filter(|c| !theirs.contains(&inventory_print(CARD_TAG, c)))
        .collect();
    out.extend(Message::cards_in_parts(cards));
    out
}
