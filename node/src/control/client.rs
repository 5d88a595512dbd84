//! The blocking client the command line uses: connect if a node runs,
//! send a request line, read the response line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use groundwork_protocol::control::{Event, MAX_LINE_LEN, Request, Response};

use super::ControlError;

use super::socket_path;
use crate::datadir::DataDir;

/// A connection to the node running on a data directory.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Whether the node has accepted `Subscribe`: only events follow.
    subscribed: bool,
}

/// Connects to the node running on `dir`. `None` when none runs: there is
/// no socket file, or nothing answers on it (a node that was killed), or
/// its path is too long for a socket (so no node can have bound it).
pub fn connect(dir: &DataDir) -> Result<Option<Client>, ControlError> {
    let path = socket_path(dir);
    match UnixStream::connect(&path) {
        Ok(stream) => {
            let writer = stream
                .try_clone()
                .map_err(|e| ControlError::io("cloning the control connection", e))?;
            Ok(Some(Client {
                reader: BufReader::new(stream),
                writer,
                subscribed: false,
            }))
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::InvalidInput
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(ControlError::io(
            format!(
                "cannot reach the node running on {} through {}",
                dir.root().display(),
                path.display()
            ),
            e,
        )),
    }
}

impl Client {
    /// Sends one request and waits for its response. A refused request is
    /// `Ok(Response::Error)`; `Err` is a broken connection or a response
    /// that is not one.
    pub fn request(&mut self, req: Request) -> Result<Response, ControlError> {
        if self.subscribed {
            return Err(ControlError::Subscribed);
        }
        let subscribe = req == Request::Subscribe;
        let mut line = serde_json::to_vec(&req).map_err(|source| ControlError::Json {
            what: "encoding the request",
            source,
        })?;
        line.push(b'\n');
        self.writer
            .write_all(&line)
            .and_then(|()| self.writer.flush())
            .map_err(|e| ControlError::io("sending the request to the node", e))?;
        let line = read_line(&mut self.reader)?.ok_or(ControlError::NoAnswer)?;
        let response: Response =
            serde_json::from_str(&line).map_err(|source| ControlError::Json {
                what: "the node's answer is not a response",
                source,
            })?;
        if subscribe && response == Response::Subscribed {
            self.subscribed = true;
        }
        Ok(response)
    }

    /// The node's events. Sends `Subscribe` (unless [`request`] already
    /// did) and waits for the node to accept it, so no event sent after this
    /// returns is missed. The iterator ends when the node closes the
    /// connection, and after its first error.
    ///
    /// [`request`]: Client::request
    pub fn events(mut self) -> Events {
        let failed = if self.subscribed {
            None
        } else {
            match self.request(Request::Subscribe) {
                Ok(Response::Subscribed) => None,
                Ok(Response::Error { code, message }) => {
                    Some(ControlError::Refused { code, message })
                }
                Ok(other) => Some(ControlError::Unexpected(variant_name(&other))),
                Err(e) => Some(e),
            }
        };
        Events {
            client: self,
            failed,
            done: false,
        }
    }
}

/// The events of a subscribed [`Client`], one per line from the node.
#[derive(Debug)]
pub struct Events {
    client: Client,
    failed: Option<ControlError>,
    done: bool,
}

impl Iterator for Events {
    type Item = Result<Event, ControlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Some(Err(e));
        }
        let item =
            match read_line(&mut self.client.reader) {
                Ok(None) => None,
                Ok(Some(line)) => Some(serde_json::from_str::<Event>(&line).map_err(|source| {
                    ControlError::Json {
                        what: "the node sent something that is not an event",
                        source,
                    }
                })),
                Err(e) => Some(Err(e)),
            };
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Reads one line from the node, without its newline. `None` at end of
/// stream.
fn read_line(reader: &mut BufReader<UnixStream>) -> Result<Option<String>, ControlError> {
    let mut buf = Vec::new();
    let n = reader
        .take(MAX_LINE_LEN as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| ControlError::io("reading the node's answer", e))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE_LEN {
        return Err(ControlError::TooLong(MAX_LINE_LEN / (1024 * 1024)));
    } else {
        return Err(ControlError::Cut);
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| ControlError::NotUtf8)
}

/// The name of a response's variant as it is on the wire, for messages.
pub(crate) fn variant_name(r: &Response) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        _ => "an unknown answer".to_owned(),
    }
}
