//! The network simulation as a bench (`scripts/bench-sim.sh`): the same
//! runs as the `groundwork-sim` binary, built with the bench profile.

fn main() -> std::process::ExitCode {
    groundwork_sim::cli::run_from_env()
}
