//! Every frame kind of every Groundwork protocol, in one registry. Each
//! protocol has its own range (sync 1–15, join 16–31, link 32–47), a new
//! message takes a new number here, and no number means two things: a
//! frame sent on the wrong stream is refused by kind, never misread.
//! docs/protocol.md lists the same table.

/// The sync protocol (`/groundwork/sync/1`, `sync::messages`).
pub mod sync {
    /// `Hello`: version, group, digest.
    pub const HELLO: u8 = 1;
    /// `Heads`: each shared document's heads.
    pub const HEADS: u8 = 2;
    /// `Sync`: one document's Automerge sync message and its signatures.
    pub const SYNC: u8 = 3;
    /// `Bye`: the session ends, and why.
    pub const BYE: u8 = 4;
    /// `Cards`: signed group cards.
    pub const CARDS: u8 = 5;
    /// `Prints`: fingerprints of cards and records held.
    pub const PRINTS: u8 = 6;
    /// `Records`: signed network records.
    pub const RECORDS: u8 = 7;
    /// `DocStop`: one document stops syncing with this peer, and why.
    pub const DOC_STOP: u8 = 8;
    /// `Epoch`: an epoch record and its genesis.
    pub const EPOCH: u8 = 9;
    /// `EpochWant`: asks for the epoch the peer holds.
    pub const EPOCH_WANT: u8 = 10;
    /// `Inventory`: a print of every card and record held.
    pub const INVENTORY: u8 = 11;
}

/// The join protocol (`/groundwork/join/1`, `join`).
pub mod join {
    /// A request to join, with the invite's token.
    pub const REQUEST: u8 = 16;
    /// The inviting device's answer.
    pub const REPLY: u8 = 17;
    /// A group card presented by a device holding the group key
    /// (`trust::recovery`); answered with a reply.
    pub const RECOVER: u8 = 18;
}

/// The link protocol (`/groundwork/link/1`, `link`).
pub mod link {
    /// A request to link: the asker's card, and a link code if any.
    pub const REQUEST: u8 = 32;
    /// A refusal, and why.
    pub const REFUSED: u8 = 33;
    /// A signed affiliation, from the national node.
    pub const AFFILIATION: u8 = 34;
    /// The affiliation was kept.
    pub const KEPT: u8 = 35;
    /// Linked: the responder's card.
    pub const ACCEPTED: u8 = 36;
    /// Left for the responder's steward: its card.
    pub const PENDING: u8 = 37;
}

/// Every kind: its number, protocol and message, in order.
pub const ALL: &[(u8, &str, &str)] = &[
    (sync::HELLO, "sync", "hello"),
    (sync::HEADS, "sync", "heads"),
    (sync::SYNC, "sync", "sync"),
    (sync::BYE, "sync", "bye"),
    (sync::CARDS, "sync", "cards"),
    (sync::PRINTS, "sync", "prints"),
    (sync::RECORDS, "sync", "records"),
    (sync::DOC_STOP, "sync", "doc stop"),
    (sync::EPOCH, "sync", "epoch"),
    (sync::EPOCH_WANT, "sync", "epoch want"),
    (sync::INVENTORY, "sync", "inventory"),
    (join::REQUEST, "join", "request"),
    (join::REPLY, "join", "reply"),
    (join::RECOVER, "join", "recover"),
    (link::REQUEST, "link", "request"),
    (link::REFUSED, "link", "refused"),
    (link::AFFILIATION, "link", "affiliation"),
    (link::KEPT, "link", "kept"),
    (link::ACCEPTED, "link", "accepted"),
    (link::PENDING, "link", "pending"),
];

/// The protocol and message of frame kind `kind`, for a log line naming a
/// frame that arrived where it does not belong.
pub fn name(kind: u8) -> Option<(&'static str, &'static str)> {
    ALL.iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, p, m)| (*p, *m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_unique_and_in_its_protocols_range() {
        let range = |protocol: &str| match protocol {
            "sync" => 1..=15,
            "join" => 16..=31,
            "link" => 32..=47,
            other => panic!("unknown protocol {other}"),
        };
        for pair in ALL.windows(2) {
            assert!(pair[0].0 < pair[1].0, "not in order, or twice: {pair:?}");
        }
        for (kind, protocol, _) in ALL {
            assert!(range(protocol).contains(kind), "{kind} outside {protocol}");
        }
        assert_eq!(name(sync::INVENTORY), Some(("sync", "inventory")));
        assert_eq!(name(link::KEPT), Some(("link", "kept")));
        // Positive control: a number nobody uses has no name.
        assert_eq!(name(0), None);
        assert_eq!(name(200), None);
    }

    #[test]
    fn the_messages_encode_with_the_registrys_kinds() {
        use crate::join::{JoinReply, JoinRequest};
        use crate::link::LinkMessage;
        use crate::sync::messages::Message;
        let sync = [
            (Message::Bye("x".into()).encode().kind, sync::BYE),
            (Message::Inventory(vec![]).encode().kind, sync::INVENTORY),
            (Message::Heads(vec![]).encode().kind, sync::HEADS),
        ];
        let join = [
            (
                JoinRequest {
                    token: [0; 16],
                    label: "l".into(),
                }
                .encode()
                .kind,
                join::REQUEST,
            ),
            (JoinReply::Refused("no".into()).encode().kind, join::REPLY),
        ];
        let link = [
            (LinkMessage::Kept.encode().kind, link::KEPT),
            (
                LinkMessage::Refused("no".into()).encode().kind,
                link::REFUSED,
            ),
            (LinkMessage::Pending(vec![1]).encode().kind, link::PENDING),
        ];
        for (got, want) in sync.into_iter().chain(join).chain(link) {
            assert_eq!(got, want);
        }
    }
}
