use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, PoisonError};

use groundwork_protocol::DocKind;
use groundwork_protocol::control::{ErrorCode, MemberInput};
use tokio::sync::broadcast;

use super::*;
use crate::group::{Group, GroupKind, today};

/// A handler whose every request is a bug.
struct PanickingHandler;

impl ControlHandler for PanickingHandler {
    fn request(
        &self,
        _req: Request,
    ) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async { panic!("a deliberate bug") })
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        broadcast::channel(1).1
    }
}

/// A founded group in a temporary data directory, and a runtime to serve it.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: DataDir,
    rt: tokio::runtime::Runtime,
    handler: Arc<GroupHandler>,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = DataDir::new(tmp.path().join("data"));
        let group = Group::found(
            &dir,
            "Moorlands Climate Action",
            None,
            GroupKind::LocalOrganisingGroup,
            today(),
        )
        .expect("found a group");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handler = Arc::new(GroupHandler::new(group));
        Fixture {
            _tmp: tmp,
            dir,
            rt,
            handler,
        }
    }

    fn serve(&self) -> Result<ControlServer, super::ControlError> {
        self.rt.block_on(serve(&self.dir, self.handler.clone()))
    }

    fn client(&self) -> Client {
        connect(&self.dir)
            .expect("connect")
            .expect("a node is running")
    }
}

fn add(name: &str) -> Request {
    Request::MemberAdd {
        input: MemberInput {
            name: Some(name.into()),
            ..MemberInput::default()
        },
    }
}

fn list() -> Request {
    Request::MemberList {
        kind: None,
        with_contacts: false,
    }
}

/// Sends raw bytes on a fresh connection and returns every line the server
/// writes before it closes the connection.
fn raw_exchange(f: &Fixture, bytes: Vec<u8>) -> Vec<String> {
    let mut stream = UnixStream::connect(socket_path(&f.dir)).expect("connect");
    let mut writer = stream.try_clone().expect("clone");
    // Write from another thread: the server may answer (and close) before
    // reading everything, and a blocked write must not stop us reading.
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    });
    let mut lines = Vec::new();
    for line in BufReader::new(&mut stream).lines() {
        match line {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    let _ = sender.join();
    lines
}

/// The message of an error answer to a bad request line (whose code is
/// always usage: the client's request is at fault).
fn error_message(line: &str) -> String {
    match serde_json::from_str::<Response>(line) {
        Ok(Response::Error {
            code: ErrorCode::Usage,
            message,
        }) => message,
        other => panic!("expected an error response, got {other:?} from {line}"),
    }
}

#[test]
fn member_add_and_list_round_trip_through_the_socket() {
    let f = Fixture::new();
    let _server = f.serve().expect("serve");
    let mut client = f.client();
    let Response::MemberAdded { id, member } = client.request(add("Ada Obi")).expect("add") else {
        panic!("add was not answered with MemberAdded");
    };
    assert_eq!(member.name, "Ada Obi");
    // Several requests on one connection.
    match client.request(list()).expect("list") {
        Response::Members(ms) => {
            assert_eq!(ms.len(), 1);
            assert_eq!(ms[0].id, id);
            assert_eq!(ms[0].member.name, "Ada Obi");
        }
        other => panic!("list answered {other:?}"),
    }
    // A refused request is an error answer with the command line's text.
    let missing: groundwork_protocol::ShortId = "zzzzzz".parse().expect("id");
    assert_eq!(
        client
            .request(Request::MemberShow { id: missing })
            .expect("show"),
        Response::error(ErrorCode::NotFound, "no member with id 'zzzzzz'")
    );
}

#[test]
fn the_socket_is_0600_from_the_start_and_removed_on_shutdown() {
    let f = Fixture::new();
    let server = f.serve().expect("serve");
    let path = socket_path(&f.dir);
    assert_eq!(server.path(), path);
    let meta = std::fs::symlink_metadata(&path).expect("socket file");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Nothing but the socket is left in the data directory (no private
    // directory from the bind).
    let leftovers: Vec<_> = std::fs::read_dir(f.dir.root())
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".control-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    f.rt.block_on(server.shutdown());
    assert!(!path.exists(), "shutdown removes the socket file");
    assert!(connect(&f.dir).expect("connect").is_none());

    // Dropping a server removes its file too.
    let server = f.serve().expect("serve again");
    drop(server);
    assert!(!path.exists(), "drop removes the socket file");
}

#[test]
fn a_bad_line_gets_one_error_and_the_server_answers_the_next_client() {
    let f = Fixture::new();
    let _server = f.serve().expect("serve");

    let lines = raw_exchange(&f, b"this is not json\n{\"member_list\":{}}\n".to_vec());
    assert_eq!(lines.len(), 1, "one answer, then the connection closes");
    assert!(
        error_message(&lines[0]).starts_with("malformed request: "),
        "{lines:?}"
    );

    let lines = raw_exchange(&f, b"{\"member_list\":{}}\n\xff\xfe\n".to_vec());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(matches!(
        serde_json::from_str::<Response>(&lines[0]),
        Ok(Response::Members(_))
    ));
    assert!(error_message(&lines[1]).contains("not UTF-8"), "{lines:?}");

    let lines = raw_exchange(
        &f,
        br#"{"member_add":{"input":{"name":"Ada","nickname":"A"}}}
"#
        .to_vec(),
    );
    assert!(
        error_message(&lines[0]).contains("unknown field `nickname`"),
        "{lines:?}"
    );

    let mut client = f.client();
    assert!(matches!(
        client.request(list()).expect("list"),
        Response::Members(_)
    ));
}

#[test]
fn an_over_long_line_gets_one_error_and_the_server_answers_the_next_client() {
    let f = Fixture::new();
    let _server = f.serve().expect("serve");
    let lines = raw_exchange(&f, vec![b'x'; MAX_LINE_LEN + 1]);
    assert_eq!(lines.len(), 1, "one answer, then the connection closes");
    assert_eq!(
        error_message(&lines[0]),
        "request line is longer than 64 MiB"
    );
    let mut client = f.client();
    assert!(matches!(
        client.request(add("Ada")).expect("add"),
        Response::MemberAdded { .. }
    ));
}

#[test]
fn a_panicking_handler_is_an_error_answer_not_a_dead_server() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = DataDir::new(tmp.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let _server = rt
        .block_on(serve(&dir, Arc::new(PanickingHandler)))
        .expect("serve");
    for _ in 0..2 {
        let mut client = connect(&dir).expect("connect").expect("running");
        let Response::Error {
            code: ErrorCode::Internal,
            message,
        } = client.request(list()).expect("answer")
        else {
            panic!("a panic must be an internal error answer");
        };
        assert!(message.contains("a bug in groundwork"), "{message}");
    }
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let f = Fixture::new();
    let path = socket_path(&f.dir);
    // What a node killed with -9 leaves: a socket file nothing listens on.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    assert!(path.exists());
    assert!(
        connect(&f.dir).expect("connect").is_none(),
        "a stale socket means no node"
    );

    let _server = f.serve().expect("serve over a stale socket");
    let mut client = f.client();
    assert!(matches!(
        client.request(list()).expect("list"),
        Response::Members(_)
    ));
}

#[test]
fn a_second_server_on_the_same_directory_is_refused() {
    let f = Fixture::new();
    let _first = f.serve().expect("serve");
    let e = f.serve().expect_err("a second server");
    assert_eq!(
        e.to_string(),
        format!("a node is already running on {}", f.dir.root().display())
    );
    // The refusal left the first server's socket alone.
    let mut client = f.client();
    assert!(matches!(
        client.request(list()).expect("list"),
        Response::Members(_)
    ));
}

#[test]
fn a_file_in_the_way_that_is_not_a_socket_is_refused_and_kept() {
    let f = Fixture::new();
    let path = socket_path(&f.dir);
    std::fs::write(&path, "mine").expect("write");
    let e = f.serve().expect_err("not a socket");
    assert!(e.to_string().contains("is not a socket"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "mine");
}

#[test]
fn subscribers_receive_events_until_the_server_stops() {
    let f = Fixture::new();
    let server = f.serve().expect("serve");
    // `events` returns once the node has accepted the subscription.
    let mut events = f.client().events();
    let group = f
        .handler
        .group()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .profile()
        .id;

    let sent = Event::RecordReceived {
        group,
        what: "group card".into(),
    };
    f.handler.events().send(sent.clone()).expect("a subscriber");
    assert_eq!(events.next().expect("an event").expect("event"), sent);

    // An edit by another client is reported.
    let mut other = f.client();
    assert!(matches!(
        other.request(add("Ada")).expect("add"),
        Response::MemberAdded { .. }
    ));
    for kind in [DocKind::Roster, DocKind::Contacts] {
        assert_eq!(
            events.next().expect("an event").expect("event"),
            Event::DocChanged { group, kind }
        );
    }

    f.rt.block_on(server.shutdown());
    assert!(events.next().is_none(), "the stream ends with the server");
}

#[test]
fn status_and_events_need_a_running_node() {
    let f = Fixture::new();
    let g = f
        .handler
        .group()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for req in [Request::Status, Request::Subscribe] {
        let Response::Error {
            code: ErrorCode::Unavailable,
            message,
        } = execute(&g, req)
        else {
            panic!("answered without a node, or not as unavailable");
        };
        assert!(message.contains("a running node"), "{message}");
        assert!(message.contains("groundwork up"), "{message}");
    }
}

#[test]
fn no_socket_means_no_node() {
    let tmp = tempfile::tempdir().expect("temp dir");
    assert!(
        connect(&DataDir::new(tmp.path()))
            .expect("connect")
            .is_none()
    );
}

#[test]
fn each_refusal_carries_the_code_a_client_decides_on() {
    let f = Fixture::new();
    let g = f
        .handler
        .group()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let with_email = |name: &str| Request::MemberAdd {
        input: MemberInput {
            name: Some(name.into()),
            email: Some("ada@example.org".into()),
            ..MemberInput::default()
        },
    };
    let code = |r: Response| match r {
        Response::Error { code, .. } => Some(code),
        _ => None,
    };
    // Positive control: the first add is no error at all.
    assert_eq!(code(execute(&g, with_email("Ada"))), None);
    let cases = [
        (with_email("Bob"), ErrorCode::Conflict),
        (add(&"x".repeat(300)), ErrorCode::Usage),
        (add(""), ErrorCode::Usage),
        (
            Request::MemberShow {
                id: "zzzzzz".parse().expect("id"),
            },
            ErrorCode::NotFound,
        ),
        (
            Request::DeviceRevoke {
                id: g.device_id().to_string(),
            },
            ErrorCode::Forbidden,
        ),
        (
            Request::DeviceRevoke { id: "zzzz".into() },
            ErrorCode::NotFound,
        ),
        (Request::Status, ErrorCode::Unavailable),
    ];
    for (req, want) in cases {
        let shown = format!("{req:?}");
        assert_eq!(code(execute(&g, req)), Some(want), "{shown}");
    }
    // Nothing refused was kept.
    let Response::Members(ms) = execute(&g, list()) else {
        panic!("list")
    };
    assert_eq!(ms.len(), 1);
}

#[test]
fn the_group_reads_the_clock_it_is_given() {
    use std::time::{Duration, UNIX_EPOCH};
    let f = Fixture::new();
    let mut g = f
        .handler
        .group()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let day = groundwork_protocol::Date::from_unix_days(19_000);
    let clock = crate::clock::ManualTime::at(UNIX_EPOCH + Duration::from_secs(19_000 * 86_400));
    g.set_clock(crate::clock::Clock::new(Arc::new(clock)));
    let Response::MemberAdded { member, .. } = execute(&g, add("Ada Obi")) else {
        panic!("add")
    };
    assert_eq!(member.joined, day);
    // Positive control: the system clock would have said today.
    g.set_clock(crate::clock::Clock::system());
    let Response::MemberAdded { member, .. } = execute(&g, add("Bob Ode")) else {
        panic!("add")
    };
    assert_eq!(member.joined, today());
}
