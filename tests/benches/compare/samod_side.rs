//! samod and plain-Automerge half of the Groundwork side-by-side benchmark.
//!
//! Every network workload runs two peers, A (holds the data, accepts) and B
//! (dials), as tasks in the *current* tokio runtime (multi-thread), over one
//! loopback TCP connection (127.0.0.1, port 0), `TCP_NODELAY` on both ends for
//! both stacks. B's socket is wrapped in [`Metered`], which counts bytes and
//! `u32`-big-endian-length-prefixed frames each way. Both stacks use that
//! framing: samod's `Transport::from_tokio_io` (one frame per samod message)
//! and the plain floor here (one frame per batch of per-document messages).
//!
//! `turns` is the number of runs of same-direction frames as B's socket sees
//! them, `round_trips() = ceil(turns / 2)`. Exact for the lock-step plain
//! floor; samod is full duplex, so frames crossing in flight can inflate it.
//!
//! samod storage is `samod::storage::TokioFilesystemStorage` in a fresh temp
//! directory per repo (samod's *default* is `InMemoryStorage`); it never fsyncs
//! (a plain `tokio::fs::write`). The plain floor has no storage.
//!
//! Inputs are documents as `Automerge::save()` bytes.

use std::fmt::Display;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use automerge::sync::{Message, State, SyncDoc};
use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ChangeHash, ROOT};
use futures::StreamExt;
use samod::storage::TokioFilesystemStorage;
use samod::{AcceptorEvent, BackoffConfig, DialError, Dialer, DocHandle, DocumentId};
use samod::{Repo, Transport, Url};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for any single wait (convergence, handshake, disconnect).
const TIMEOUT: Duration = Duration::from_secs(120);
/// No frame for this long = the link is quiet (only waited for after timing).
const QUIET: Duration = Duration::from_millis(300);
const STOPPED: &str = "samod repo stopped";

type R<T> = Result<T, String>;

fn ctx<E: Display>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}
async fn within<T>(what: &str, f: impl Future<Output = T>) -> R<T> {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .map_err(|_| format!("timed out: {what}"))
}

/// Traffic over the TCP socket, as seen at B's end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub a_to_b_bytes: u64,
    pub b_to_a_bytes: u64,
    pub a_to_b_frames: u64,
    pub b_to_a_frames: u64,
    /// Runs of same-direction frames (one-way message batches).
    pub turns: u64,
}
impl Traffic {
    pub fn round_trips(&self) -> u64 {
        self.turns.div_ceil(2)
    }
}

/// Result of a first sync or of a reconnect.
#[derive(Clone, Copy, Debug)]
pub struct FirstSync {
    /// From "connect" until B holds A's heads for every document.
    pub elapsed: Duration,
    /// Traffic at that moment.
    pub at_converge: Traffic,
    /// Traffic once the link went quiet (trailing acknowledgements included).
    pub settled: Traffic,
}
/// Same shape: time and traffic from the reconnect until every doc agrees.
pub type Reconnect = FirstSync;

/// A cold `member list --json`.
#[derive(Clone, Debug)]
pub struct ColdList {
    /// Start to JSON in hand.
    pub elapsed: Duration,
    /// Start to the roster loaded and readable (before the walk).
    pub loaded: Duration,
    pub members: usize,
    pub json: String,
}

// ------------------------------------------------------------------ metering

/// Counters for one connection: traffic, last frame direction (`true` =
/// B→A), and an activity count used to detect quiet.
#[derive(Debug, Default)]
pub struct Meter {
    inner: Mutex<(Traffic, Option<bool>)>,
    events: AtomicU64,
}
impl Meter {
    fn record(&self, b_to_a: bool, bytes: usize, frames: u64) {
        if let Ok(mut g) = self.inner.lock() {
            let (t, last) = &mut *g;
            let (b, f) = match b_to_a {
                false => (&mut t.a_to_b_bytes, &mut t.a_to_b_frames),
                true => (&mut t.b_to_a_bytes, &mut t.b_to_a_frames),
            };
            *b += bytes as u64;
            *f += frames;
            if frames > 0 && *last != Some(b_to_a) {
                t.turns += 1;
                *last = Some(b_to_a);
            }
        }
        self.events.fetch_add(1, Ordering::Relaxed);
    }
    /// Traffic so far.
    pub fn snapshot(&self) -> Traffic {
        self.inner.lock().map(|g| g.0).unwrap_or_default()
    }
    /// Sleep until nothing moved for [`QUIET`]; never used inside a timed section.
    async fn settled(&self) -> Traffic {
        let start = Instant::now();
        let (mut last, mut since) = (self.events.load(Ordering::Relaxed), Instant::now());
        while since.elapsed() < QUIET && start.elapsed() < TIMEOUT {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = self.events.load(Ordering::Relaxed);
            if now != last {
                (last, since) = (now, Instant::now());
            }
        }
        self.snapshot()
    }
}

/// Incremental parser of `u32 BE length | payload` frames.
#[derive(Debug, Default)]
struct FrameCounter {
    hdr: [u8; 4],
    hdr_len: usize,
    remaining: u64,
}
impl FrameCounter {
    /// Consume bytes; return the number of frames completed.
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut done = 0;
        while let Some((&first, rest)) = data.split_first() {
            if self.remaining > 0 {
                let take = (self.remaining as usize).min(data.len());
                self.remaining -= take as u64;
                data = &data[take..];
                done += u64::from(self.remaining == 0);
            } else {
                self.hdr[self.hdr_len] = first;
                self.hdr_len += 1;
                data = rest;
                if self.hdr_len == 4 {
                    self.hdr_len = 0;
                    self.remaining = u64::from(u32::from_be_bytes(self.hdr));
                    done += u64::from(self.remaining == 0);
                }
            }
        }
        done
    }
}

/// `AsyncRead + AsyncWrite` wrapper counting bytes and frames into a [`Meter`].
#[derive(Debug)]
pub struct Metered<S> {
    io: S,
    meter: Arc<Meter>,
    rx: FrameCounter,
    tx: FrameCounter,
}
impl<S> Metered<S> {
    pub fn new(io: S, meter: Arc<Meter>) -> Self {
        let (rx, tx) = (FrameCounter::default(), FrameCounter::default());
        Metered { io, meter, rx, tx }
    }
}
impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if res.is_ready() && !new.is_empty() {
            let frames = this.rx.feed(new);
            this.meter.record(false, new.len(), frames);
        }
        res
    }
}
impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &res {
            let frames = this.tx.feed(&buf[..*n]);
            this.meter.record(true, *n, frames);
        }
        res
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

// ------------------------------------------------------------ samod plumbing

/// Fresh, unique directory under the system temp dir.
fn temp_dir(tag: &str) -> R<PathBuf> {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("gw-samod-{tag}-{}-{t}-{n}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).map_err(ctx("create temp dir"))?;
    Ok(dir)
}

/// A samod repo on filesystem storage in `dir`.
async fn fs_repo(dir: &Path) -> Repo {
    let storage = TokioFilesystemStorage::new(dir);
    Repo::build_tokio().with_storage(storage).load().await
}

/// B's dialer: connects to A's listener and meters the stream.
struct MeteredDialer {
    addr: std::net::SocketAddr,
    url: Url,
    meter: Arc<Meter>,
}
impl Dialer for MeteredDialer {
    type Error = std::convert::Infallible;
    fn url(&self) -> Url {
        self.url.clone()
    }
    fn connect(
        &self,
    ) -> futures::future::BoxFuture<'static, Result<Transport, DialError<Self::Error>>> {
        let (addr, meter) = (self.addr, self.meter.clone());
        Box::pin(async move {
            let io = TcpStream::connect(addr)
                .await
                .map_err(DialError::transient)?;
            io.set_nodelay(true).map_err(DialError::transient)?;
            Ok(Transport::from_tokio_io(Metered::new(io, meter)))
        })
    }
}

/// A's loopback listener: accepts connections into A's repo until dropped.
struct Server {
    addr: std::net::SocketAddr,
    acceptor: samod::AcceptorHandle,
    task: tokio::task::JoinHandle<()>,
}
impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
async fn serve(repo: &Repo) -> R<Server> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(ctx("bind"))?;
    let addr = listener.local_addr().map_err(ctx("local_addr"))?;
    let url = Url::parse(&format!("tcp://{addr}")).map_err(ctx("url"))?;
    let acceptor = repo.make_acceptor(url).map_err(|_| STOPPED)?;
    let acc = acceptor.clone();
    let task = tokio::spawn(async move {
        while let Ok((io, _)) = listener.accept().await {
            let _ = io.set_nodelay(true);
            if acc.accept(Transport::from_tokio_io(io)).is_err() {
                break;
            }
        }
    });
    Ok(Server {
        addr,
        acceptor,
        task,
    })
}

/// B dials `addr` metering into `meter`, and waits for the handshake.
async fn dial(
    repo: &Repo,
    addr: std::net::SocketAddr,
    meter: Arc<Meter>,
) -> R<samod::DialerHandle> {
    let backoff = BackoffConfig {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(1),
        max_retries: Some(20),
    };
    let url = Url::parse(&format!("tcp://{addr}")).map_err(ctx("url"))?;
    let dialer = Arc::new(MeteredDialer { addr, url, meter });
    let dh = repo.dial(backoff, dialer).map_err(|_| STOPPED)?;
    within("samod handshake", dh.established())
        .await?
        .map_err(ctx("dial"))?;
    Ok(dh)
}

fn heads_of(h: &DocHandle) -> Vec<ChangeHash> {
    h.with_document(|d| d.get_heads())
}

/// Wait until `h` has exactly `target` heads, woken by `DocHandle::changes()`
/// (subscribed *before* the first check, so no change can slip past).
async fn wait_heads(h: &DocHandle, target: &[ChangeHash]) -> R<()> {
    let mut changes = h.changes();
    if heads_of(h) == target {
        return Ok(());
    }
    let wait = async {
        while let Some(ev) = changes.next().await {
            if ev.new_heads == target || heads_of(h) == target {
                return Ok(());
            }
        }
        Err(format!("change stream of {} ended", h.document_id()))
    };
    within("convergence", wait).await?
}

/// B `find`s every id and waits until each has its target heads.
async fn find_all(
    repo: &Repo,
    ids: &[DocumentId],
    targets: &[Vec<ChangeHash>],
) -> R<Vec<DocHandle>> {
    let jobs = ids.iter().zip(targets).map(|(id, target)| {
        let find = repo.find(id.clone());
        async move {
            let found = within("find", find).await?.map_err(|_| STOPPED)?;
            let h = found.ok_or_else(|| format!("B could not find {id}"))?;
            wait_heads(&h, target).await?;
            Ok::<_, String>(h)
        }
    });
    futures::future::try_join_all(jobs).await
}

/// Import `Automerge::save()` bytes: `Repo::create(Automerge::load(bytes))`.
async fn import(repo: &Repo, docs: &[Vec<u8>]) -> R<Vec<DocHandle>> {
    let mut out = Vec::with_capacity(docs.len());
    for bytes in docs {
        let doc = Automerge::load(bytes).map_err(ctx("load doc"))?;
        out.push(repo.create(doc).await.map_err(|_| STOPPED)?);
    }
    Ok(out)
}

/// Two filesystem repos; A holds the docs and serves on loopback.
struct Pair {
    a: Repo,
    b: Repo,
    dirs: [PathBuf; 2],
    server: Option<Server>,
    a_docs: Vec<DocHandle>,
}
impl Pair {
    async fn new(docs: &[Vec<u8>]) -> R<Pair> {
        let dirs = [temp_dir("a")?, temp_dir("b")?];
        let (a, b) = (fs_repo(&dirs[0]).await, fs_repo(&dirs[1]).await);
        let mut pair = Pair {
            a,
            b,
            dirs,
            server: None,
            a_docs: Vec::new(),
        };
        let setup = async {
            pair.a_docs = import(&pair.a, docs).await?;
            pair.server = Some(serve(&pair.a).await?);
            Ok::<_, String>(())
        };
        match setup.await {
            Ok(()) => Ok(pair),
            Err(e) => {
                pair.close().await;
                Err(e)
            }
        }
    }
    fn addr(&self) -> R<std::net::SocketAddr> {
        self.server
            .as_ref()
            .map(|s| s.addr)
            .ok_or_else(|| "no server".into())
    }
    fn ids(&self) -> Vec<DocumentId> {
        self.a_docs
            .iter()
            .map(|h| h.document_id().clone())
            .collect()
    }
    fn targets(&self) -> Vec<Vec<ChangeHash>> {
        self.a_docs.iter().map(heads_of).collect()
    }
    /// Connect B, find and fully sync every doc (untimed); B's handles.
    async fn connect_synced(&self) -> R<(samod::DialerHandle, Vec<DocHandle>)> {
        let dh = dial(&self.b, self.addr()?, Arc::default()).await?;
        Ok((dh, find_all(&self.b, &self.ids(), &self.targets()).await?))
    }
    async fn close(mut self) {
        self.server.take();
        self.b.stop().await;
        self.a.stop().await;
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

// ----------------------------------------------------------- samod workloads

/// samod first sync: A holds `docs`; B (empty) dials over one TCP connection,
/// `find`s every id and waits for A's heads on each. Both on filesystem
/// storage. Timed from just before the dial to the last doc matching.
pub async fn samod_first_sync(docs: &[Vec<u8>]) -> R<FirstSync> {
    let pair = Pair::new(docs).await?;
    let (ids, targets, meter) = (pair.ids(), pair.targets(), Arc::new(Meter::default()));
    let t0 = Instant::now();
    let run = async {
        let dh = dial(&pair.b, pair.addr()?, meter.clone()).await?;
        find_all(&pair.b, &ids, &targets).await?;
        Ok::<_, String>(dh)
    };
    let res = run.await;
    let (elapsed, at_converge) = (t0.elapsed(), meter.snapshot());
    let settled = meter.settled().await;
    if let Ok(dh) = &res {
        dh.close();
    }
    pair.close().await;
    res.map(|_| FirstSync {
        elapsed,
        at_converge,
        settled,
    })
}

/// samod edit latency: A and B on filesystem storage, connected over TCP, B
/// synced. Per sample: `edit(tx, i)` and commit on A through
/// `DocHandle::with_document`, then await B's `DocHandle::changes()` stream
/// until it reports A's new heads. No polling, no sleeping.
pub async fn samod_edit_latency(
    doc: &[u8],
    edit: impl Fn(&mut Transaction<'_>, usize) + Send + Sync + 'static,
    warmup: usize,
    samples: usize,
) -> R<Vec<Duration>> {
    let pair = Pair::new(&[doc.to_vec()]).await?;
    let run = async {
        let (dh, found) = pair.connect_synced().await?;
        let (a, b) = (pair.a_docs.first(), found.first());
        let (a, b) = a.zip(b).ok_or("no document")?;
        let mut b_changes = b.changes();
        let mut out = Vec::with_capacity(samples);
        for i in 0..warmup + samples {
            let t0 = Instant::now();
            let target = a.with_document(|d| {
                let mut tx = d.transaction();
                edit(&mut tx, i);
                tx.commit();
                d.get_heads()
            });
            let wait = async {
                while let Some(ev) = b_changes.next().await {
                    if ev.new_heads == target {
                        return Ok(());
                    }
                }
                Err("B's change stream ended".to_string())
            };
            within("edit to reach B", wait).await??;
            if i >= warmup {
                out.push(t0.elapsed());
            }
        }
        dh.close();
        Ok(out)
    };
    let res = run.await;
    pair.close().await;
    res
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// `n_docs` small documents `{title, owner, n}`, deterministic from `seed`.
pub fn small_docs(n_docs: usize, seed: u64) -> R<Vec<Vec<u8>>> {
    let mut x = seed | 1;
    let mut docs = Vec::with_capacity(n_docs);
    for i in 0..n_docs {
        let mut d = Automerge::new();
        let mut tx = d.transaction();
        tx.put(ROOT, "title", format!("doc {i} {:x}", xorshift(&mut x)))
            .and_then(|_| tx.put(ROOT, "owner", format!("{:016x}", xorshift(&mut x))))
            .and_then(|_| tx.put(ROOT, "n", (xorshift(&mut x) % 1000) as i64))
            .map_err(ctx("small doc"))?;
        tx.commit();
        docs.push(d.save());
    }
    Ok(docs)
}

/// Docs to change on reconnect: the first `changed` of a seeded shuffle.
fn changed_set(n_docs: usize, changed: usize, seed: u64) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v: Vec<usize> = (0..n_docs).collect();
    for i in (1..n_docs).rev() {
        v.swap(i, (xorshift(&mut x) % (i as u64 + 1)) as usize);
    }
    v.truncate(changed);
    v.sort_unstable();
    v
}
fn apply_change(d: &mut Automerge, i: usize) -> R<()> {
    let mut tx = d.transaction();
    tx.put(ROOT, "edited", i as i64).map_err(ctx("edit"))?;
    tx.commit();
    Ok(())
}

/// samod reconnect: `n_docs` small docs fully synced A→B; B closes its
/// dialer and A sees the disconnect; A changes `changed` docs; B dials
/// again. Timed and metered from the new dial until every doc agrees.
pub async fn samod_reconnect(n_docs: usize, changed: usize, seed: u64) -> R<Reconnect> {
    let pair = Pair::new(&small_docs(n_docs, seed)?).await?;
    let run = async {
        let (dh, b_docs) = pair.connect_synced().await?;
        let server = pair.server.as_ref().ok_or("no server")?;
        let mut events = server.acceptor.events();
        dh.close();
        let gone = async {
            while let Some(ev) = events.next().await {
                if matches!(ev, AcceptorEvent::ClientDisconnected { .. }) {
                    return;
                }
            }
        };
        within("A to see B disconnect", gone).await?;
        for i in changed_set(n_docs, changed, seed) {
            pair.a_docs[i].with_document(|d| apply_change(d, i))?;
        }
        let (targets, meter) = (pair.targets(), Arc::new(Meter::default()));
        let t0 = Instant::now();
        let dh = dial(&pair.b, server.addr, meter.clone()).await?;
        let waits = b_docs.iter().zip(&targets).map(|(h, t)| wait_heads(h, t));
        futures::future::try_join_all(waits).await?;
        let (elapsed, at_converge) = (t0.elapsed(), meter.snapshot());
        let settled = meter.settled().await;
        dh.close();
        Ok(Reconnect {
            elapsed,
            at_converge,
            settled,
        })
    };
    let res = run.await;
    pair.close().await;
    res
}

// ----------------------------------------------------- plain Automerge floor

/// One side of the plain protocol: documents and one sync `State` each.
struct Peer {
    docs: Vec<Automerge>,
    states: Vec<State>,
}
impl Peer {
    fn new(docs: Vec<Automerge>) -> Peer {
        let states = docs.iter().map(|_| State::new()).collect();
        Peer { docs, states }
    }
    fn empty(n: usize) -> Peer {
        Peer::new((0..n).map(|_| Automerge::new()).collect())
    }
    fn heads(&self) -> Vec<Vec<ChangeHash>> {
        self.docs.iter().map(|d| d.get_heads()).collect()
    }
    /// Batch = `u32 count`, then per message `u32 doc index | u32 len | bytes`.
    fn generate(&mut self) -> (Vec<u8>, u32) {
        let (mut buf, mut n) = (vec![0u8; 4], 0u32);
        for (i, (d, s)) in self.docs.iter().zip(&mut self.states).enumerate() {
            if let Some(m) = d.generate_sync_message(s) {
                let m = m.encode();
                buf.extend_from_slice(&(i as u32).to_be_bytes());
                buf.extend_from_slice(&(m.len() as u32).to_be_bytes());
                buf.extend_from_slice(&m);
                n += 1;
            }
        }
        buf[..4].copy_from_slice(&n.to_be_bytes());
        (buf, n)
    }
    /// Apply a batch; returns how many messages it held.
    fn apply(&mut self, batch: &[u8]) -> R<u32> {
        let word = |at: usize| -> R<usize> {
            let s = batch.get(at..at + 4).ok_or("short batch")?;
            Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
        };
        let (n, mut at) = (word(0)?, 4);
        for _ in 0..n {
            let (i, len) = (word(at)?, word(at + 4)?);
            let body = batch.get(at + 8..at + 8 + len).ok_or("short message")?;
            at += 8 + len;
            let msg = Message::decode(body).map_err(ctx("decode sync message"))?;
            let d = self.docs.get_mut(i).ok_or("bad doc index")?;
            let s = self.states.get_mut(i).ok_or("bad doc index")?;
            d.receive_sync_message(s, msg)
                .map_err(ctx("receive sync message"))?;
        }
        Ok(n as u32)
    }
}

async fn send_frame<S: AsyncWrite + Unpin>(io: &mut S, body: &[u8]) -> R<()> {
    let len = (body.len() as u32).to_be_bytes();
    io.write_all(&len).await.map_err(ctx("send"))?;
    io.write_all(body).await.map_err(ctx("send"))?;
    io.flush().await.map_err(ctx("flush"))
}
async fn recv_frame<S: AsyncRead + Unpin>(io: &mut S) -> R<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await.map_err(ctx("recv"))?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    io.read_exact(&mut body).await.map_err(ctx("recv"))?;
    Ok(body)
}

/// Lock-step sync of all documents until both sides have nothing to say (an
/// empty batch each way). `initiator` sends first; `progress` runs after
/// every batch applied.
async fn lockstep<S: AsyncRead + AsyncWrite + Unpin>(
    peer: &mut Peer,
    io: &mut S,
    initiator: bool,
    mut progress: impl FnMut(&Peer),
) -> R<()> {
    let mut sent_empty = false;
    if initiator {
        let (b, n) = peer.generate();
        send_frame(io, &b).await?;
        sent_empty = n == 0;
    }
    loop {
        let recv_empty = peer.apply(&recv_frame(io).await?)? == 0;
        progress(peer);
        if recv_empty && sent_empty {
            return Ok(());
        }
        let (b, n) = peer.generate();
        send_frame(io, &b).await?;
        sent_empty = n == 0;
        if recv_empty && sent_empty {
            return Ok(());
        }
    }
}

/// Loopback TCP pair: (A's end, B's metered end).
async fn tcp_pair(meter: Arc<Meter>) -> R<(TcpStream, Metered<TcpStream>)> {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(ctx("bind"))?;
    let addr = l.local_addr().map_err(ctx("local_addr"))?;
    let (a, b) = tokio::join!(l.accept(), TcpStream::connect(addr));
    let (a, b) = (a.map_err(ctx("accept"))?.0, b.map_err(ctx("connect"))?);
    a.set_nodelay(true).map_err(ctx("nodelay"))?;
    b.set_nodelay(true).map_err(ctx("nodelay"))?;
    Ok((a, Metered::new(b, meter)))
}

fn load_all(docs: &[Vec<u8>]) -> R<Vec<Automerge>> {
    docs.iter()
        .map(|b| Automerge::load(b).map_err(ctx("load doc")))
        .collect()
}

/// Sync `a` into `b` over a fresh TCP connection, B initiating, both sides as
/// futures on the current task. Timed from the connect to B holding A's heads.
async fn plain_session(a: &mut Peer, b: &mut Peer) -> R<FirstSync> {
    let (targets, meter) = (a.heads(), Arc::new(Meter::default()));
    let t0 = Instant::now();
    let (mut a_io, mut b_io) = tcp_pair(meter.clone()).await?;
    let mut hit = None;
    let check = |p: &Peer| {
        if hit.is_none() && p.heads() == targets {
            hit = Some((t0.elapsed(), meter.snapshot()));
        }
    };
    let (ra, rb) = tokio::join!(
        lockstep(a, &mut a_io, false, |_| {}),
        lockstep(b, &mut b_io, true, check)
    );
    ra.and(rb)?;
    let (elapsed, at_converge) = hit.ok_or("plain sync went quiet before converging")?;
    Ok(FirstSync {
        elapsed,
        at_converge,
        settled: meter.snapshot(),
    })
}

/// Plain floor for the first sync: Automerge's sync protocol, all documents
/// multiplexed in lock-step batches over one TCP connection, no storage.
pub async fn plain_first_sync(docs: &[Vec<u8>]) -> R<FirstSync> {
    let mut a = Peer::new(load_all(docs)?);
    plain_session(&mut a, &mut Peer::empty(docs.len())).await
}

/// Plain floor for edit latency: after a full sync, per sample A edits,
/// generates its sync message and sends it; B (a spawned task) receives,
/// applies and reports its heads in-process; the sample ends when B reports
/// A's heads. B's reply is applied on A after the timed section.
pub async fn plain_edit_latency(
    doc: &[u8],
    edit: impl Fn(&mut Transaction<'_>, usize) + Send + Sync + 'static,
    warmup: usize,
    samples: usize,
) -> R<Vec<Duration>> {
    let (mut a, mut b) = (Peer::new(load_all(&[doc.to_vec()])?), Peer::empty(1));
    let (mut a_io, mut b_io) = tcp_pair(Arc::default()).await?;
    let (ra, rb) = tokio::join!(
        lockstep(&mut a, &mut a_io, false, |_| {}),
        lockstep(&mut b, &mut b_io, true, |_| {})
    );
    ra.and(rb)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let b_task = tokio::spawn(async move {
        // Ends when A hangs up.
        while let Ok(frame) = recv_frame(&mut b_io).await {
            b.apply(&frame)?;
            let _ = tx.send(b.heads());
            send_frame(&mut b_io, &b.generate().0).await?;
        }
        Ok::<(), String>(())
    });
    let mut out = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let t0 = Instant::now();
        let doc = a.docs.first_mut().ok_or("no document")?;
        let mut t = doc.transaction();
        edit(&mut t, i);
        t.commit();
        let target = vec![doc.get_heads()];
        send_frame(&mut a_io, &a.generate().0).await?;
        while within("edit to reach B", rx.recv())
            .await?
            .ok_or("B task ended")?
            != target
        {}
        if i >= warmup {
            out.push(t0.elapsed());
        }
        a.apply(&recv_frame(&mut a_io).await?)?;
    }
    drop(a_io);
    b_task.await.map_err(ctx("B task"))??;
    Ok(out)
}

/// Plain floor for reconnect: docs fully synced over a first connection;
/// both sides persist every `sync::State` (`State::encode`); the connection
/// is dropped; A changes `changed` docs; a second connection restarts from
/// `State::decode` and syncs **all documents at once** (one batch per turn,
/// not one document at a time), B initiating. Timed from the reconnect.
pub async fn plain_reconnect(n_docs: usize, changed: usize, seed: u64) -> R<Reconnect> {
    let mut a = Peer::new(load_all(&small_docs(n_docs, seed)?)?);
    let mut b = Peer::empty(n_docs);
    plain_session(&mut a, &mut b).await?;
    let persist = |p: &Peer| p.states.iter().map(State::encode).collect::<Vec<_>>();
    let (sa, sb) = (persist(&a), persist(&b));
    for i in changed_set(n_docs, changed, seed) {
        apply_change(&mut a.docs[i], i)?;
    }
    let restore = |v: Vec<Vec<u8>>| -> R<Vec<State>> {
        v.iter()
            .map(|s| State::decode(s).map_err(ctx("decode state")))
            .collect()
    };
    (a.states, b.states) = (restore(sa)?, restore(sb)?);
    plain_session(&mut a, &mut b).await
}

// -------------------------------------------------------- cold list, idle RSS

/// The roster as `groundwork member list --json` prints it: Groundwork's
/// typed roster read out of the document (the same schema code the node
/// uses), sorted by name ignoring case, then id, as JSON.
pub fn roster_json(doc: &Automerge) -> R<(String, usize)> {
    use groundwork_protocol::schema::{GroupDocument, Roster};
    let roster = Roster::from_doc(doc).map_err(ctx("roster"))?;
    let mut rows: Vec<groundwork_protocol::control::MemberView> = roster
        .iter()
        .map(|(id, m)| groundwork_protocol::control::MemberView {
            id,
            member: m.clone(),
            contact: None,
        })
        .collect();
    rows.sort_by_cached_key(|v| (v.member.name.to_lowercase(), v.id.clone()));
    let json = serde_json::to_string(&rows).map_err(ctx("json"))?;
    Ok((json, rows.len()))
}

/// Create a samod filesystem store in `dir` holding `docs`; returns their ids
/// (`DocumentId`'s `Display`, bs58). Stops the repo (flushes) before returning.
pub async fn samod_prepare_store(dir: &Path, docs: &[Vec<u8>]) -> R<Vec<String>> {
    let repo = fs_repo(dir).await;
    let res = import(&repo, docs).await;
    repo.stop().await;
    Ok(res?.iter().map(|h| h.document_id().to_string()).collect())
}

/// Cold listing in the *current* runtime: a fresh `Repo` on the store `dir`,
/// `find` the roster (loads it from disk), walk it to JSON. Timed until the
/// JSON exists; the repo is stopped afterwards, untimed.
pub async fn samod_cold_list_async(dir: &Path, doc_id: &str) -> R<ColdList> {
    let t0 = Instant::now();
    let id: DocumentId = doc_id.parse().map_err(ctx("doc id"))?;
    let repo = fs_repo(dir).await;
    let res = async {
        let found = repo.find(id).await.map_err(|_| STOPPED)?;
        let h = found.ok_or("roster not in store")?;
        let loaded = t0.elapsed();
        let (json, members) = h.with_document(|d| roster_json(d))?;
        Ok(ColdList {
            elapsed: t0.elapsed(),
            loaded,
            members,
            json,
        })
    }
    .await;
    repo.stop().await;
    res
}

/// Cold listing as a process start would do it: on a new OS thread, build a
/// new multi-thread tokio runtime (its start-up is included in the times),
/// then [`samod_cold_list_async`]. Safe to call from inside a runtime.
pub fn samod_cold_list(dir: &Path, doc_id: &str) -> R<ColdList> {
    let (dir, doc_id) = (dir.to_path_buf(), doc_id.to_string());
    let thread = std::thread::spawn(move || {
        let t0 = Instant::now();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build();
        let rt = rt.map_err(ctx("runtime"))?;
        let start = t0.elapsed();
        let mut r = rt.block_on(samod_cold_list_async(&dir, &doc_id))?;
        (r.elapsed, r.loaded) = (r.elapsed + start, r.loaded + start);
        Ok(r)
    });
    thread
        .join()
        .map_err(|_| "cold-list thread panicked".to_string())?
}

/// The plain floor: `Automerge::load` + walk + JSON.
pub fn plain_cold_list(bytes: &[u8]) -> R<ColdList> {
    let t0 = Instant::now();
    let doc = Automerge::load(bytes).map_err(ctx("load"))?;
    let loaded = t0.elapsed();
    let (json, members) = roster_json(&doc)?;
    Ok(ColdList {
        elapsed: t0.elapsed(),
        loaded,
        members,
        json,
    })
}

/// Idle-RSS child entry point: open the samod store `dir` in a new runtime,
/// `find` `doc_id` (loaded into memory), print `READY` on stdout, then idle
/// until stdin reaches EOF. Pair with [`measure_child_rss`].
pub fn samod_idle_serve(dir: &Path, doc_id: &str) -> R<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let id: DocumentId = doc_id.parse().map_err(ctx("doc id"))?;
    rt.map_err(ctx("runtime"))?.block_on(async {
        let repo = fs_repo(dir).await;
        let found = repo.find(id).await.map_err(|_| STOPPED)?;
        let h = found.ok_or("doc not in store")?;
        let _ = heads_of(&h);
        let mut out = std::io::stdout();
        writeln!(out, "READY")
            .and_then(|_| out.flush())
            .map_err(ctx("stdout"))?;
        let _ = std::io::stdin().read_to_end(&mut Vec::new()); // returns at EOF
        repo.stop().await;
        Ok(())
    })
}

/// Spawn `cmd` (a process running [`samod_idle_serve`], or anything else that
/// prints `READY` and idles until stdin closes), wait for `READY` and then
/// `settle`, read `VmRSS` (KiB) from `/proc/PID/status`, close its stdin, reap it.
pub fn measure_child_rss(mut cmd: std::process::Command, settle: Duration) -> R<u64> {
    use std::process::Stdio;
    let child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut child = child.map_err(ctx("spawn"))?;
    let res = read_rss_when_ready(&mut child, settle);
    drop(child.stdin.take());
    let _ = child.wait();
    res
}
fn read_rss_when_ready(child: &mut std::process::Child, settle: Duration) -> R<u64> {
    let out = child.stdout.take().ok_or("no child stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(out)
        .read_line(&mut line)
        .map_err(ctx("child stdout"))?;
    if line.trim() != "READY" {
        return Err(format!("child did not become ready (said {line:?})"));
    }
    std::thread::sleep(settle);
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()));
    let status = status.map_err(ctx("read /proc status"))?;
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"));
    let kib = kib.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
    kib.ok_or_else(|| "no VmRSS line".into())
}
