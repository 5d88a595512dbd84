//! The daemon's own tests: shutdown leaves no network task behind.

use groundwork_protocol::control::{Request, Response};

use super::*;
use crate::demo::network::loopback_config;
use crate::group::{GroupKind, today};

#[test]
fn shutdown_awaits_every_network_task() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = loopback_config();
        let mut nodes = Vec::new();
        for name in ["Moorlands Climate Action", "Leek Tenants"] {
            let dir = DataDir::new(tmp.path().join(name));
            Group::found(&dir, name, None, GroupKind::LocalOrganisingGroup, today())
                .expect("found");
            nodes.push(Daemon::start(&dir, &config).await.expect("start"));
        }
        let Response::LinkCode { text, .. } = nodes[1]
            .request(Request::LinkCode { ttl_secs: 600 })
            .await
            .expect("link code")
        else {
            panic!("no link code")
        };
        let linked = nodes[0]
            .request(Request::PeerAdd { ticket: text })
            .await
            .expect("peer add");
        assert!(matches!(linked, Response::Peers(_)), "{linked:?}");
        let peer = nodes[1].endpoint().id();
        let peer = DeviceId::from_bytes(peer.as_bytes()).expect("device");
        nodes[0]
            .wait_synced(peer, Duration::from_secs(30))
            .await
            .expect("synced");
        let tasks: Vec<net::Tasks> = nodes.iter().map(Daemon::tasks).collect();
        // Positive control: the dialer and its connection loop run.
        assert!(tasks[0].len() >= 2, "{} tasks", tasks[0].len());
        for node in nodes {
            node.shutdown().await.expect("shutdown");
        }
        for t in &tasks {
            assert!(t.is_empty(), "{} tasks left after shutdown", t.len());
        }
    });
}
