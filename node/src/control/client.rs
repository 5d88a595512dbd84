//! The blocking client the command line uses: connect if a node runs,
//! send a request line, read the response line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result, anyhow, bail};
use groundwork_protocol::control::{Event, MAX_LINE_LEN, Request, Response};

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
pub fn connect(dir: &DataDir) -> Result<Option<Client>> {
    let path = socket_path(dir);
    match UnixStream::connect(&path) {
        Ok(stream) => {
            let writer = stream
                .try_clone()
                .context("cloning the control connection")?;
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
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot reach the node running on {} through {}",
                dir.root().display(),
                path.display()
            )
        }),
    }
}

impl Client {
    /// Sends one request and waits for its response. A refused request is
    /// `Ok(Response::Error)`; `Err` is a broken connection or a response
    /// that is not one.
    pub fn request(&mut self, req: Request) -> Result<Response> {
        if self.subscribed {
            bail!("this connection carries events now; open another for requests");
        }
        let subscribe = req == Request::Subscribe;
        let mut line = serde_json::to_vec(&req).context("encoding the request")?;
        line.push(b'\n');
        self.writer
            .write_all(&line)
            .and_then(|()| self.writer.flush())
            .context("sending the request to the node")?;
        let line = read_line(&mut self.reader)?
            .ok_or_else(|| anyhow!("the node closed the connection without answering"))?;
        let response: Response =
            serde_json::from_str(&line).context("the node's answer is not a response")?;
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
                Ok(Response::Error { message, .. }) => Some(anyhow!(message)),
                Ok(other) => Some(anyhow!(
                    "the node answered Subscribe with {}",
                    variant_name(&other)
                )),
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
    failed: Option<anyhow::Error>,
    done: bool,
}

impl Iterator for Events {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Some(Err(e));
        }
        let item = match read_line(&mut self.client.reader) {
            Ok(None) => None,
            Ok(Some(line)) => Some(
                serde_json::from_str::<Event>(&line)
                    .context("the node sent something that is not an event"),
            ),
            Err(e) => Some(Err(e)),
        };
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Reads one line from the node, without its newline. `None` at end of
/// stream.
fn read_line(reader: &mut BufReader<UnixStream>) -> Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader
        .take(MAX_LINE_LEN as u64 + 1)
        .read_until(b'\n', &mut buf)
        .context("reading the node's answer")?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE_LEN {
        bail!(
            "the node's answer is longer than {} MiB",
            MAX_LINE_LEN / (1024 * 1024)
        );
    } else {
        bail!("the node closed the connection in the middle of an answer");
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| anyhow!("the node's answer is not UTF-8 text"))
}

/// The name of a response's variant as it is on the wire, for messages.
pub(crate) fn variant_name(r: &Response) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        _ => "an unknown answer".to_owned(),
    }
}
