//! The join and link exchanges: one request, one answer, on a fresh
//! connection (docs/protocol.md, "Joining" and "Linking"). Each exchange
//! takes one of [`super::MAX_EXCHANGES`] slots and has
//! [`super::EXCHANGE_TIMEOUT`] in all.

use std::net::SocketAddr;

use groundwork_protocol::DeviceId;
use groundwork_protocol::join::{JoinReply, JoinRequest};
use groundwork_protocol::link::LinkMessage;
use groundwork_protocol::wire::frame::Frame;
use iroh::Endpoint;
use iroh::endpoint::{Connection, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::oneshot;

use super::{
    BUSY, EXCHANGE_TIMEOUT, FrameReader, JOIN_ALPN, LINK_ALPN, NetError, NetResult, NodeHandle,
    SMALL_FRAME, connect, parse_ticket, remote_addrs, remote_device, write_frame,
};
use crate::runtime::Cmd;

/// An exchange being answered: who asked, from where, the stream, and
/// the request (its first frame).
struct Asked {
    node: NodeHandle,
    device: DeviceId,
    addrs: Vec<SocketAddr>,
    send: SendStream,
    reader: FrameReader,
    request: Frame,
}

/// Answers one exchange on `conn`: takes a slot (else closes it as busy),
/// reads the request, lets `answer` reply (it hands the stream back),
/// finishes the stream and waits for the asker to close, all within
/// [`EXCHANGE_TIMEOUT`]. Failures are logged under `what`.
async fn answer_exchange<F, Fut>(node: &NodeHandle, conn: Connection, what: &str, answer: F)
where
    F: FnOnce(Asked) -> Fut,
    Fut: std::future::Future<Output = NetResult<SendStream>>,
{
    let Some(_slot) = node.exchange_slot() else {
        conn.close(3u32.into(), BUSY.as_bytes());
        return;
    };
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let device = remote_device(&conn)?;
        let addrs = remote_addrs(&conn);
        let (send, recv) = conn
            .accept_bi()
            .await
            .map_err(|e| NetError::stream("accepting a stream", e))?;
        let mut reader = FrameReader::new(recv, SMALL_FRAME);
        let request = reader
            .next()
            .await?
            .ok_or(NetError::NoAnswer("the asker"))?;
        let mut send = answer(Asked {
            node: node.clone(),
            device,
            addrs,
            send,
            reader,
            request,
        })
        .await?;
        send.finish()
            .map_err(|e| NetError::stream("finishing the answer", e))?;
        // Wait for the asker to read the answer and close.
        conn.closed().await;
        NetResult::Ok(())
    })
    .await;
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::info!("{what} failed: {}", crate::control::error_line(&e)),
        Err(_) => tracing::info!("{what} timed out"),
    }
}

/// The join protocol's handler: redeems an invite.
#[derive(Debug, Clone)]
pub struct JoinHandler {
    pub(super) node: NodeHandle,
}

impl ProtocolHandler for JoinHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        answer_exchange(&self.node, conn, "join", |mut a| async move {
            let reply = if a.request.kind == groundwork_protocol::join::RECOVER {
                match groundwork_protocol::join::decode_recover(&a.request) {
                    Ok(card) => {
                        let (tx, rx) = oneshot::channel();
                        a.node
                            .send(Cmd::Recover {
                                device: a.device,
                                card,
                                reply: tx,
                            })
                            .await?;
                        rx.await.map_err(|_| NetError::Stopping)?
                    }
                    Err(e) => JoinReply::Refused(e.to_string()),
                }
            } else {
                match JoinRequest::decode(&a.request) {
                    Ok(req) => {
                        let (tx, rx) = oneshot::channel();
                        a.node
                            .send(Cmd::Join {
                                device: a.device,
                                req,
                                addrs: a.addrs,
                                reply: tx,
                            })
                            .await?;
                        rx.await.map_err(|_| NetError::Stopping)?
                    }
                    Err(e) => JoinReply::Refused(e.to_string()),
                }
            };
            write_frame(&mut a.send, &reply.encode()).await?;
            Ok(a.send)
        })
        .await;
        Ok(())
    }
}

/// The link protocol's handler: answers a request to link (the trust rule
/// in the actor decides), then, from the national node, takes an
/// affiliation.
#[derive(Debug, Clone)]
pub struct LinkHandler {
    pub(super) node: NodeHandle,
}

impl ProtocolHandler for LinkHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        answer_exchange(&self.node, conn, "link", |mut a| async move {
            let request =
                LinkMessage::decode(&a.request).map_err(|why| NetError::BadLinkAnswer {
                    who: "the asking node",
                    why,
                })?;
            let LinkMessage::Request { card, code } = request else {
                return Err(NetError::Unexpected {
                    who: "the asking node",
                });
            };
            let (tx, rx) = oneshot::channel();
            a.node
                .send(Cmd::LinkRequest {
                    device: a.device,
                    card,
                    code,
                    addrs: a.addrs,
                    reply: tx,
                })
                .await?;
            let answer = rx.await.map_err(|_| NetError::Stopping)?;
            let accepted = matches!(answer, LinkMessage::Accepted(_));
            write_frame(&mut a.send, &answer.encode()).await?;
            // The national node may follow with an affiliation.
            if accepted && let Some(f) = a.reader.next().await? {
                let message = LinkMessage::decode(&f).map_err(|why| NetError::BadLinkAnswer {
                    who: "the national node",
                    why,
                })?;
                let LinkMessage::Affiliation(record) = message else {
                    return Err(NetError::Unexpected {
                        who: "the national node",
                    });
                };
                let (tx, rx) = oneshot::channel();
                a.node.send(Cmd::Affiliated { record, reply: tx }).await?;
                let answer = match rx.await.map_err(|_| NetError::Stopping)? {
                    Ok(()) => LinkMessage::Kept,
                    Err(why) => LinkMessage::Refused(why.to_string()),
                };
                write_frame(&mut a.send, &answer.encode()).await?;
            }
            Ok(a.send)
        })
        .await;
        Ok(())
    }
}

/// One small request/response exchange on a fresh connection.
async fn exchange(
    ep: &Endpoint,
    device: &DeviceId,
    addrs: &[SocketAddr],
    alpn: &[u8],
    request: &Frame,
) -> NetResult<Frame> {
    let conn = connect(ep, device, addrs, alpn).await?;
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let (mut send, recv) = open(&conn).await?;
        write_frame(&mut send, request).await?;
        finish(&mut send)?;
        let mut reader = FrameReader::new(recv, SMALL_FRAME);
        reader
            .next()
            .await?
            .ok_or(NetError::NoAnswer("the other node"))
    })
    .await
    .map_err(|_| NetError::AnswerTimedOut(device.fmt_short()))?;
    conn.close(0u32.into(), b"done");
    r
}

/// From the national node: asks a group's node to link (with a link code
/// if the ticket carried one). If it accepts, sends it the affiliation
/// `make` signs for the group on the card it answered with. Returns the
/// group's answer (accepted or pending, with its card).
pub async fn request_affiliate<F, Fut>(
    ep: &Endpoint,
    device: &DeviceId,
    addrs: &[SocketAddr],
    request: LinkMessage,
    make: F,
) -> NetResult<LinkMessage>
where
    F: FnOnce(groundwork_protocol::card::SignedCard) -> Fut,
    Fut: std::future::Future<Output = NetResult<Vec<u8>>>,
{
    let conn = connect(ep, device, addrs, LINK_ALPN).await?;
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let (mut send, recv) = open(&conn).await?;
        write_frame(&mut send, &request.encode()).await?;
        let mut reader = FrameReader::new(recv, SMALL_FRAME);
        let answer = read_link_answer(&mut reader, "the group's node").await?;
        let LinkMessage::Accepted(card) = &answer else {
            return Ok(answer); // pending
        };
        let theirs =
            groundwork_protocol::card::SignedCard::from_bytes(card).map_err(NetError::BadCard)?;
        if theirs.card().kind.is_national() {
            return Err(NetError::NotAGroup);
        }
        let affiliation = make(theirs).await?;
        write_frame(&mut send, &LinkMessage::Affiliation(affiliation).encode()).await?;
        finish(&mut send)?;
        let who = "the group's node";
        let f = reader.next().await?.ok_or(NetError::NoAnswer(who))?;
        match LinkMessage::decode(&f) {
            Ok(LinkMessage::Kept) => Ok(answer),
            Ok(LinkMessage::Refused(why)) => Err(NetError::Refused {
                who,
                what: "the affiliation",
                why,
            }),
            _ => Err(NetError::Unexpected { who }),
        }
    })
    .await
    .map_err(|_| NetError::AnswerTimedOut(device.fmt_short()))?;
    conn.close(0u32.into(), b"done");
    r
}

/// The answer to a request to link: accepted or pending (with the other
/// group's card); a refusal is an error naming the reason.
async fn read_link_answer(reader: &mut FrameReader, who: &'static str) -> NetResult<LinkMessage> {
    let f = reader.next().await?.ok_or(NetError::NoAnswer(who))?;
    match LinkMessage::decode(&f).map_err(|why| NetError::BadLinkAnswer { who, why })? {
        LinkMessage::Refused(why) => Err(NetError::Refused {
            who,
            what: "to link",
            why,
        }),
        m @ (LinkMessage::Accepted(_) | LinkMessage::Pending(_) | LinkMessage::Kept) => Ok(m),
        _ => Err(NetError::Unexpected { who }),
    }
}

/// Opens the exchange's stream.
async fn open(conn: &Connection) -> NetResult<(SendStream, iroh::endpoint::RecvStream)> {
    conn.open_bi()
        .await
        .map_err(|e| NetError::stream("opening a stream", e))
}

/// Ends this side of the exchange's stream.
fn finish(send: &mut SendStream) -> NetResult<()> {
    send.finish()
        .map_err(|e| NetError::stream("finishing the request", e))
}

/// Redeems an invite with the inviting device.
pub async fn request_join(
    ep: &Endpoint,
    inviter: &DeviceId,
    addrs: &[SocketAddr],
    req: &JoinRequest,
) -> NetResult<JoinReply> {
    let f = exchange(ep, inviter, addrs, JOIN_ALPN, &req.encode()).await?;
    JoinReply::decode(&f).map_err(|why| NetError::BadJoinMessage {
        who: "the inviting device",
        why,
    })
}

/// Presents the group's card naming this device a steward to a device of
/// the group (`trust::recovery`), and returns its answer.
pub async fn request_recover(
    ep: &Endpoint,
    device: &DeviceId,
    addrs: &[SocketAddr],
    card: &groundwork_protocol::card::SignedCard,
) -> NetResult<JoinReply> {
    let f = exchange(
        ep,
        device,
        addrs,
        JOIN_ALPN,
        &groundwork_protocol::join::recover_frame(card),
    )
    .await?;
    JoinReply::decode(&f).map_err(|why| NetError::BadJoinMessage {
        who: "the group's device",
        why,
    })
}

/// Asks a node to link (with a link code if the ticket carried one) and
/// returns its answer: accepted or pending, with its card.
pub async fn request_link(
    ep: &Endpoint,
    device: &DeviceId,
    addrs: &[SocketAddr],
    request: LinkMessage,
) -> NetResult<LinkMessage> {
    let conn = connect(ep, device, addrs, LINK_ALPN).await?;
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let (mut send, recv) = open(&conn).await?;
        write_frame(&mut send, &request.encode()).await?;
        finish(&mut send)?;
        let mut reader = FrameReader::new(recv, SMALL_FRAME);
        read_link_answer(&mut reader, "the other node").await
    })
    .await
    .map_err(|_| NetError::AnswerTimedOut(device.fmt_short()));
    conn.close(0u32.into(), b"done");
    r?
}

/// Reads a ticket `peer add` or `affiliate` was given: a link ticket
/// (`gwlink…`, carrying a one-time link code) or a node's ticket (asking
/// only). Returns the device to reach, its addresses, and the code.
pub fn parse_link_target(text: &str) -> NetResult<(DeviceId, Vec<SocketAddr>, Option<[u8; 16]>)> {
    use groundwork_protocol::link::LinkTicket;
    if LinkTicket::is_link_ticket(text) {
        let t = LinkTicket::from_text(text).map_err(NetError::BadLinkTicket)?;
        return Ok((t.device, t.addrs, Some(t.code)));
    }
    let (device, addrs) = parse_ticket(text)?;
    Ok((device, addrs, None))
}
