//! Scale: the national node and 200 sample groups in this one process,
//! each a real node on loopback with relays off. Every other group is
//! affiliated (so linked with the national node); each of the rest links
//! only with its neighbouring group, and is in no network. Every
//! affiliated group's summary reaches the national node, and every node
//! ends up holding the whole directory (the national node and the groups
//! it affiliated): the groups outside the network learn it through their
//! neighbour, and nobody outside it hears of them but that neighbour.
//! (`scripts/bench-network.sh` times the same network in a release build.)

use std::time::Duration;

use groundwork_node::demo::network::{DemoNetwork, Layout};
use groundwork_protocol::control::{Request, Response};

mod common;

#[test]
fn two_hundred_groups_reach_the_national_node_through_sparse_links() {
    let root = tempfile::tempdir().expect("tempdir");
    let national = groundwork_node::demo::found_national(root.path()).expect("national");
    let groups = groundwork_node::demo::build(root.path(), 200, |_| {}).expect("sample groups");
    let dirs: Vec<_> = groups
        .iter()
        .map(|g| groundwork_node::datadir::DataDir::new(&g.data_dir))
        .collect();
    common::rt().block_on(async {
        let mut net = DemoNetwork::start(&national, &dirs).await.expect("start");
        let (affiliations, links) = net.connect(Layout::Sparse).await.expect("connect");
        assert_eq!((affiliations, links), (100, 100));
        // Generous: a debug build on two cores, shared with other tests.
        let p = net
            .wait_converged(Duration::from_secs(600), |_| {})
            .await
            .expect("converged");
        assert_eq!((p.summaries, p.groups, p.affiliations), (100, 200, 100));
        // The report adds up exactly what the groups publish: each
        // group's count rounded to 5 on its own devices.
        let report = match groundwork_node::control::ControlHandler::request(
            &net.national.control(),
            Request::Report,
        )
        .await
        {
            Response::Report(r) => r,
            other => panic!("{other:?}"),
        };
        let network: Vec<_> = groups
            .iter()
            .enumerate()
            .filter(|(i, _)| Layout::Sparse.affiliates(*i))
            .map(|(_, g)| g)
            .collect();
        let rounded = |g: &groundwork_node::demo::DemoGroup, field: &str, n: usize| {
            let key = groundwork_node::datadir::DataDir::new(g.data_dir.clone())
                .read_key(groundwork_node::datadir::KeyKind::Group)
                .expect("the group key");
            groundwork_protocol::disclosure::Offsets::of_group(&key)
                .round(field, n as u64)
                .get()
        };
        let members: u64 = network
            .iter()
            .map(|g| rounded(g, "people", g.members))
            .sum();
        let trained: u64 = network
            .iter()
            .map(|g| rounded(g, "people", g.trained))
            .sum();
        assert_eq!(report.groups, 100);
        assert_eq!(report.reporting, 100);
        assert_eq!(report.affiliated, 100);
        assert_eq!(report.totals.members, members);
        assert_eq!(report.totals.trained, trained);
        assert_eq!(
            report.established,
            network.iter().filter(|g| g.established).count() as u64
        );
        net.shutdown().await.expect("shutdown");
    });
}
