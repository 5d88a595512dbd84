//! The node's network tasks (the dialer and each peer's connection loop,
//! gossip and its receivers, LAN discovery), tracked so that shutdown stops
//! and awaits every one instead of leaving them to the runtime.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The network tasks of one node. Cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Tasks {
    /// Runs `task` as one of the node's network tasks. Once the node stops
    /// them, it ends at its next await.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                biased;
                () = stop.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// How many are running.
    pub fn len(&self) -> usize {
        self.tracker.len()
    }

    /// Whether none is running.
    pub fn is_empty(&self) -> bool {
        self.tracker.is_empty()
    }

    /// Waits up to `grace` for the tasks to end by themselves (with the
    /// actor and the endpoint stopped, their channels and connections
    /// close), then stops the rest and waits for them too. Returns how many
    /// had to be stopped.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
        {
            return 0;
        }
        let left = self.tracker.len();
        self.stop.cancel();
        self.tracker.wait().await;
        left
    }
}
