//! `groundwork`: parse the command line, start logging, run, map errors to
//! exit codes (2 for usage, 1 for failures), each as one line.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use groundwork_node::cli::{self, Cli};

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // Not eprintln!: it panics if stderr has gone (a closed terminal),
        // which would abort here.
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error (a bug in groundwork){at}: {msg}"
        );
    }));
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let filter = match groundwork_node::logging::filter(|name| std::env::var(name).ok()) {
        Ok(filter) => filter,
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "error: {why}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(groundwork_node::logging::LogWriter)
        .with_env_filter(filter)
        .with_ansi(groundwork_node::logging::ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR"),
        ))
        .without_time()
        .init();
    // A panic has already printed its one line (the hook above); exit 1.
    let Ok(result) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::run(cli)))
    else {
        return ExitCode::from(1);
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // An error can quote a peer (a refusal's reason): made safe.
            let line = one_line(&e);
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                groundwork_protocol::text::safe_line(&line)
            );
            ExitCode::from(cli::exit_code(&e))
        }
    }
}

/// The error and its causes on one line, "a: b: c", leaving out a cause
/// its wrapper already ends with ("/x.csv: No such file or directory (os
/// error 2)" says the OS error once, not twice).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.is_empty() {
            line = text;
        } else if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Help and version go to stdout with success; anything else is one line.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            let rendered = e.render().to_string();
            let mut paragraphs = rendered.split("\n\n");
            let mut line: Vec<&str> = paragraphs
                .next()
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            // Keep clap's "did you mean" tips on the one line; drop the
            // usage and "for more information" paragraphs.
            line.extend(
                paragraphs
                    .flat_map(str::lines)
                    .map(str::trim)
                    .filter(|l| l.starts_with("tip:")),
            );
            eprintln!("{}", line.join(" "));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
