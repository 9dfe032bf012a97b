//! The `portal-auth` binary: reads configuration, wires the adapters, and
//! either serves HTTP or runs one admin command.
//!
//! Only this crate knows every other crate. It holds no business logic:
//! start at [`commands::run`] for what each command does, and at
//! [`wiring::wire`] for how the adapters are chosen.

mod cli;
mod commands;
mod serve;
mod settings;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let settings = match settings::Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return commands::report(cli.json, &commands::Failure::usage(error)),
    };
    init_tracing(&settings, matches!(cli.command, cli::Command::Serve));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return commands::report(cli.json, &commands::Failure::fault(error.into())),
    };
    match runtime.block_on(commands::run(cli.command, cli.json, &settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => commands::report(cli.json, &failure),
    }
}

/// Logs go to stderr, so stdout carries only command output. JSON under
/// the production profile or when asked for; `RUST_LOG` wins over
/// `log.filter`.
///
/// Admin commands log warnings and errors only, so their stderr shows what
/// needs attention, not start-up chatter.
fn init_tracing(settings: &settings::Settings, serving: bool) {
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            EnvFilter::try_new(if serving {
                settings.log.filter.as_str()
            } else {
                "warn"
            })
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.log.format.as_str() {
        "json" => true,
        "text" => false,
        _ => settings.profile == settings::Profile::Production,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
