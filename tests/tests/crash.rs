//! Kill -9 at random points while members are being added: every add that
//! reported success must survive, and the store must open cleanly.

use std::time::Instant;

use groundwork_tests::Node;
use rand::{Rng, SeedableRng};

const KILLS: usize = 60;
const SEED: u64 = 0x6772_6f75_6e64;

#[test]
fn kill_9_during_adds_loses_no_acknowledged_member() {
    let n = Node::founded("Cancer Support Salisbury");
    // How long one add takes here, so the kill points spread over its life:
    // the quickest of five (the first runs of a freshly built binary are
    // slow while its pages load, and an average of those put most kill
    // points after the add had finished).
    const WARM_UP: usize = 5;
    let add_time = (0..WARM_UP)
        .map(|i| {
            let t = Instant::now();
            n.add_member(&[
                "--name",
                &format!("warm-up {i}"),
                "--email",
                &format!("w{i}@example.org"),
            ]);
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut acknowledged: Vec<String> = (0..WARM_UP).map(|i| format!("warm-up {i}")).collect();
    let mut killed_mid_add = 0;
    for round in 0..KILLS {
        let name = format!("crash {round}");
        let email = format!("c{round}@example.org");
        let mut child = n
            .std_cmd(&["member", "add", "--name", &name, "--email", &email])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn add");
        // A random kill point within (roughly) the add's lifetime.
        let at = add_time.mul_f64(rng.random_range(0.0..1.3));
        let deadline = Instant::now() + at;
        let mut exited = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("poll child") {
                exited = Some(status);
                break;
            }
            std::thread::yield_now();
        }
        if exited.is_none() {
            child.kill().expect("kill -9");
        }
        let out = child.wait_with_output().expect("reap child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains("added member") {
            acknowledged.push(name.clone());
        } else {
            killed_mid_add += 1;
        }

        // The store opens cleanly and holds every acknowledged add, once.
        let list = n.json(&["member", "list"]);
        let names: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|m| m["name"].as_str().expect("name"))
            .collect();
        for a in &acknowledged {
            assert_eq!(
                names.iter().filter(|x| *x == a).count(),
                1,
                "round {round}: acknowledged '{a}' missing or doubled"
            );
        }
        if names.contains(&name.as_str()) && !acknowledged.contains(&name) {
            // Committed but killed before it could say so: that is allowed; count it as present from now on.
            acknowledged.push(name.clone());
        }
        assert_eq!(
            names.len(),
            acknowledged.len(),
            "round {round}: unexpected members {names:?}"
        );
    }
    eprintln!("{killed_mid_add} of {KILLS} kills interrupted an add (one add takes {add_time:?})");
    // Most rounds must actually have interrupted an add, or the test proves little.
    assert!(
        killed_mid_add >= KILLS / 3,
        "only {killed_mid_add} of {KILLS} kills interrupted an add"
    );
    // The store still takes writes after all that.
    n.add_member(&["--name", "after the storm"]);
}
