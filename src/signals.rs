//! The one way the binary stops and logs: [`shutdown_signal`] (SIGINT or SIGTERM),
//! [`shutdown_token`] (a [`CancellationToken`] that signal cancels, for the libraries) and
//! [`init_tracing`] (one subscriber, `RUST_LOG` or `info`, colour only on a terminal:
//! [`stdout_colour`]). Every subcommand uses these;
//! libraries only ever see the token (STYLE.md habit 10).

use tokio_util::sync::CancellationToken;

/// Resolves on the first SIGINT (ctrl-c) or SIGTERM. Where SIGTERM cannot be watched, on
/// ctrl-c alone.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A token cancelled by [`shutdown_signal`]. Call inside a tokio runtime: the signal is
/// watched by a task on it.
pub fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        cancel.cancel();
    });
    token
}

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTo {
    /// A terminal's standard output (the CLI commands).
    Stdout,
    /// Standard error in plain text, no colours: a Mesos sandbox keeps it in the file
    /// `stderr`.
    PlainStderr,
}

/// Whether log lines on stdout may carry ANSI colour: only on a terminal, never with
/// `--no-color` (`no_color_flag`), nor when `NO_COLOR` is set to a non-empty value
/// (no-color.org: "when present and not an empty string").
pub fn stdout_colour(no_color_flag: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color_flag && !no_color_env && std::io::IsTerminal::is_terminal(&std::io::stdout())
}

/// Installs the process's tracing subscriber: the `RUST_LOG` filter (default `info`), no
/// module targets, colour on stdout as [`stdout_colour`] allows. A second call does nothing.
pub fn init_tracing(to: LogTo) {
    init_tracing_coloured(to, stdout_colour(false));
}

/// As [`init_tracing`], with the colour decision of a command that has `--no-color`
/// (`colour` is ignored for [`LogTo::PlainStderr`], which is never coloured).
pub fn init_tracing_coloured(to: LogTo, colour: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match to {
        // No colour codes where nobody reads them as colour (a file, a pipe, NO_COLOR).
        LogTo::Stdout => builder.with_ansi(colour).try_init(),
        LogTo::PlainStderr => builder
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init(),
    };
}
