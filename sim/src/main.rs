//! `groundwork-sim`: runs the simulation at each size the environment
//! names and prints Markdown (see [`groundwork_sim::cli`] for the knobs).

fn main() -> std::process::ExitCode {
    groundwork_sim::cli::run_from_env()
}
