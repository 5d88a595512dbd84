//! Serving the control socket: bind it safely, accept clients, one task per
//! connection, request lines in and response lines out, events after
//! `Subscribe`. A failure on one connection ends that connection only.

use std::fs::{self, Permissions};
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use groundwork_protocol::control::{ErrorCode, Event, MAX_LINE_LEN, Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, oneshot};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

use super::{ControlError, SOCKET_FILE, socket_path};
use crate::datadir::DataDir;

/// How long to pause after a failed `accept` (out of file descriptors,
/// say) before trying again, instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What a running node does with control requests. The server calls it
/// from one task per connection, so it is shared and thread-safe.
pub trait ControlHandler: Send + Sync + 'static {
    /// Answers one request. For group operations this is
    /// [`execute`](super::execute) on the node's group, run where blocking
    /// is allowed.
    fn request(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;

    /// A new receiver of the node's events, for a connection that sent
    /// `Subscribe`.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// A control socket being served. Dropping it (or [`shutdown`]) stops
/// accepting, ends every connection and removes the socket file.
///
/// [`shutdown`]: ControlServer::shutdown
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    /// Device and inode of the socket file this server made, so it only
    /// ever removes its own.
    file: (u64, u64),
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Serves the control API on `control.sock` in `dir`, handing requests to
/// `handler`.
///
/// Refuses with "a node is already running on DIR" when something answers
/// on the socket. A socket file nothing answers on (left by a node that was
/// killed) is removed and replaced. A file of that name that is not a
/// socket is left alone and refused.
pub async fn serve(
    dir: &DataDir,
    handler: Arc<dyn ControlHandler>,
) -> Result<ControlServer, ControlError> {
    let path = socket_path(dir);
    clear_stale(dir, &path).await?;
    let listener = bind_private(dir, &path)?;
    let meta = fs::symlink_metadata(&path)
        .map_err(|e| ControlError::io(format!("reading {} after binding it", path.display()), e))?;
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, handler, stopped));
    Ok(ControlServer {
        path,
        file: (meta.dev(), meta.ino()),
        stop: Some(stop),
        task: Some(task),
    })
}

impl ControlServer {
    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, removes the socket file, and waits until every
    /// connection has ended.
    pub async fn shutdown(mut self) {
        self.remove_file();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Removes the socket file if it is still the one this server made.
    fn remove_file(&self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| (m.dev(), m.ino()) == self.file && m.file_type().is_socket());
        if ours && let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!("could not remove {}: {e}", self.path.display());
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            // Dropping the accept loop drops the listener and its JoinSet,
            // which aborts every connection.
            task.abort();
        }
        self.remove_file();
    }
}

/// Makes way for a new socket: refuses if a node answers on `path`,
/// removes a socket file nothing answers on.
async fn clear_stale(dir: &DataDir, path: &Path) -> Result<(), ControlError> {
    let checking = |e| ControlError::io(format!("checking {}", path.display()), e);
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(checking(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket(path.to_owned()));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ControlError::AlreadyRunning(dir.root().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!("removing the stale control socket {}", path.display());
            match fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(ControlError::io(
                    format!("removing the stale socket {}", path.display()),
                    e,
                )),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(checking(e)),
    }
}

/// Binds the socket at `path` so that it never exists with a mode other
/// than 0600.
///
/// Method: bind inside a fresh directory of mode 0700 in the data
/// directory, where no other user can reach the socket whatever mode
/// `bind` gave it; set 0600 there; then hard-link it to its real name and
/// let the private directory go. Chmod after binding at the real name would
/// leave a window with the umask's mode, and changing the umask would
/// change it for every thread of the process. The hard link also fails if
/// the name exists, so two nodes starting at once cannot replace each
/// other's socket.
fn bind_private(dir: &DataDir, path: &Path) -> Result<UnixListener, ControlError> {
    let private = tempfile::Builder::new()
        .prefix(".control-")
        .rand_bytes(6)
        .permissions(Permissions::from_mode(0o700))
        .tempdir_in(dir.root())
        .map_err(|e| {
            ControlError::io(
                format!("creating a private directory in {}", dir.root().display()),
                e,
            )
        })?;
    let inner = private.path().join(SOCKET_FILE);
    let listener = UnixListener::bind(&inner).map_err(|e| {
        ControlError::io(format!("binding the control socket {}", path.display()), e)
    })?;
    fs::set_permissions(&inner, Permissions::from_mode(0o600))
        .map_err(|e| ControlError::io(format!("setting the mode of {}", inner.display()), e))?;
    match fs::hard_link(&inner, path) {
        Ok(()) => Ok(listener),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(ControlError::AlreadyRunning(dir.root().to_owned()))
        }
        Err(e) => Err(ControlError::io(format!("creating {}", path.display()), e)),
    }
    // `private` is removed here, with its name for the socket; the socket
    // stays bound and reachable at `path`.
}

/// Accepts clients until told to stop, one task each.
async fn accept_loop(
    listener: UnixListener,
    handler: Arc<dyn ControlHandler>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut clients = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    clients.spawn(serve_client(stream, handler.clone()));
                }
                Err(e) => {
                    tracing::warn!("control socket: accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(done) = clients.join_next(), if !clients.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::warn!("a control connection failed: {e}");
                }
            }
        }
    }
}

/// Answers one connection's requests until it closes, breaks the protocol,
/// or subscribes (then streams events until it goes away).
async fn serve_client(stream: UnixStream, handler: Arc<dyn ControlHandler>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        let req = match read_request(&mut reader, &mut line).await {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(refusal) => {
                tracing::debug!("control client refused: {refusal:?}");
                let _ = write.write_all(&encode(&refusal)).await;
                return;
            }
        };
        if req == Request::Subscribe {
            let events = handler.subscribe();
            if write
                .write_all(&encode(&Response::Subscribed))
                .await
                .is_ok()
            {
                stream_events(reader, write, events).await;
            }
            return;
        }
        let response = answer(&handler, req).await;
        if write.write_all(&encode(&response)).await.is_err() {
            return;
        }
    }
}

/// The handler's answer, run as its own task so a panic in it (a bug)
/// becomes an error answer instead of a dropped connection.
async fn answer(handler: &Arc<dyn ControlHandler>, req: Request) -> Response {
    /// Aborts the request's task if the connection is dropped first.
    struct AbortOnDrop(AbortHandle);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let handler = handler.clone();
    let task = tokio::spawn(async move { handler.request(req).await });
    let _guard = AbortOnDrop(task.abort_handle());
    match task.await {
        Ok(response) => response,
        Err(e) => Response::error(
            ErrorCode::Internal,
            format!("internal error (a bug in groundwork): {e}"),
        ),
    }
}

/// Reads one request line. `Ok(None)`: the client closed the connection (or
/// it failed, and nothing can be sent back). `Err`: the error answer to
/// send back before closing (a usage error: the client's request is bad).
async fn read_request(
    reader: &mut BufReader<OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> Result<Option<Request>, Response> {
    let usage = |message: String| Response::error(ErrorCode::Usage, message);
    line.clear();
    let limit = MAX_LINE_LEN as u64 + 1;
    let n = match reader.take(limit).read_until(b'\n', line).await {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!("control client: read failed: {e}");
            return Ok(None);
        }
    };
    if n == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > MAX_LINE_LEN {
        return Err(usage(format!(
            "request line is longer than {} MiB",
            MAX_LINE_LEN / (1024 * 1024)
        )));
    }
    // Else the client ended its last request with end of file instead of
    // a newline; it is served all the same.
    let text = std::str::from_utf8(line).map_err(|e| {
        usage(format!(
            "request is not UTF-8 text (bad byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| usage(format!("malformed request: {e}")))
}

/// Writes the handler's events, one line each, until the client goes away
/// or the node stops. A subscriber that falls behind gets `Lagged`.
async fn stream_events(
    mut reader: BufReader<OwnedReadHalf>,
    mut write: OwnedWriteHalf,
    mut events: broadcast::Receiver<Event>,
) {
    let mut scratch = [0u8; 4096];
    loop {
        tokio::select! {
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(missed)) => Event::Lagged { missed },
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if write.write_all(&encode(&event)).await.is_err() {
                    return;
                }
            }
            read = reader.read(&mut scratch) => match read {
                // Nothing is expected after Subscribe; anything sent is ignored.
                Ok(n) if n > 0 => {}
                _ => return,
            },
        }
    }
}

/// One JSON line. An answer that cannot be encoded, or would be longer
/// than a client accepts, becomes an error line instead.
fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = match serde_json::to_vec(value) {
        Ok(b) if b.len() <= MAX_LINE_LEN => b,
        Ok(b) => error_line(
            ErrorCode::Internal,
            &format!(
                "the answer is {} MiB, more than the {} MiB a line may hold",
                b.len() / (1024 * 1024),
                MAX_LINE_LEN / (1024 * 1024)
            ),
        ),
        Err(e) => error_line(
            ErrorCode::Internal,
            &format!("internal error (a bug in groundwork): cannot encode the answer: {e}"),
        ),
    };
    bytes.push(b'\n');
    bytes
}

fn error_line(code: ErrorCode, message: &str) -> Vec<u8> {
    serde_json::to_vec(&Response::error(code, message)).unwrap_or_else(|_| {
        br#"{"error":{"code":"internal","message":"internal error (a bug in groundwork): cannot encode an error"}}"#
            .to_vec()
    })
}
