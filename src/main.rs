//! The `nacos-sim` command line: the arguments (clap) and the dispatch. The commands are in
//! src/cli/. The live build (issue 12, `cargo live-build`) has one command, `serve`
//! (src/cli/serve.rs); the simulation's commands are not in it.
#![cfg_attr(not(madsim), allow(dead_code, unused_imports))]

mod cli;

use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand, ValueEnum};
use nacos_sim::config::parse_duration;
use nacos_sim::scenario;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nacos-sim", version = cli::VERSION.as_str(), about = "Deterministic simulation testbed of the Nacos 1.4.1 naming subsystem", long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// A count argument from `lo` to `hi`: clap refuses anything else with exit code 2.
fn count(lo: u64, hi: u64) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(lo..=hi)
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario file; exit 0 if every check passed, 1 if one failed, 2 on bad input.
    Run {
        /// The scenario file (scenarios/*.toml), at most 1 MiB.
        file: PathBuf,
        /// Seed of the run, 0 to 18446744073709551615 (default: the scenario's `seed`, else 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also draw the run as a picture: PATH.html (page with legend and checks) or PATH.svg.
        /// The path is checked before the run.
        #[arg(long, value_name = "PATH")]
        timeline: Option<PathBuf>,
    },
    /// Run many seeds of a scenario in parallel and summarize the failures by check, with repro commands.
    Sweep {
        /// The scenario file.
        file: PathBuf,
        /// Seeds to run: 0..1000 (end excluded), 5..=9 (end included), or one seed. Seeds go up to
        /// 18446744073709551615; a long range costs nothing until its seeds run.
        #[arg(long, default_value = "0..100")]
        seeds: String,
        /// Worker threads, 1 to 1024 (default: the number of CPUs).
        #[arg(long, value_parser = count(1, 1024))]
        jobs: Option<usize>,
        /// Run only shard i of n of the seeds (1-based), e.g. 2/4, to split a sweep across CI jobs.
        /// A shard with no seed is an error.
        #[arg(long)]
        shard: Option<String>,
        /// text: progress and a summary; json: one JSON line per seed, in seed order.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Stop after N failing seeds (counted in seed order); the summary says where it stopped.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_failures: Option<u64>,
        /// Shrink each failing seed and write it to DIR as NAME-seed-N.toml (DIR is created).
        #[arg(long, value_name = "DIR")]
        save_failures: Option<PathBuf>,
        /// With --save-failures: at most this many simulations to shrink each failing seed.
        #[arg(long, default_value_t = 200, value_parser = count(1, 100_000))]
        shrink_runs: usize,
    },
    /// Run a scenario as written (A) and with config keys set otherwise (B) on the same seed(s):
    /// side by side, the checks and anomalies that differ, the availability figures and the
    /// first event where the runs part; over --seeds, pass counts and availability distributions.
    Compare {
        /// The scenario file.
        file: PathBuf,
        /// A config key for variant B, e.g. --set client_push_empty_protection=true (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// The seed (default: the scenario's `seed`).
        #[arg(long, conflicts_with = "seeds")]
        seed: Option<u64>,
        /// Seeds to run both variants on: 0..100 (end excluded), 5..=9, or one seed.
        #[arg(long)]
        seeds: Option<String>,
        /// Worker threads for --seeds, 1 to 1024 (default: the number of CPUs).
        #[arg(long, value_parser = count(1, 1024))]
        jobs: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Search for a smaller scenario that fails the same check with the same seed, and write it.
    Shrink {
        /// The scenario file.
        file: PathBuf,
        /// The failing seed (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// The check to keep failing (default: the first failing check).
        #[arg(long)]
        check: Option<String>,
        /// Where to write the shrunk scenario (default: print it). Checked before the search.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Give up after this many simulations (the first run counts), 1 to 100000.
        #[arg(long, default_value_t = 400, value_parser = count(1, 100_000))]
        max_runs: usize,
        /// Turn the failure into an expectation, so the shrunk file passes while the behaviour
        /// lasts (a regression: e.g. `anomaly = "two_leaders"` for a known Nacos flaw).
        #[arg(long)]
        pin: bool,
    },
    /// Run one seed in two separate processes and compare their full event traces.
    CheckDeterminism {
        /// The scenario file.
        file: PathBuf,
        /// Seed of the run (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Print a run's full event trace, one event per line (used by check-determinism).
    #[command(hide = true)]
    Trace {
        file: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// List the scenarios in a folder with their one-line `about`.
    List {
        /// Folder to list.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Print every Nacos constant a scenario's [config] can override, with its default and spec section.
    Config,
    /// Print every event kind with the fields it can carry (what `[[expect]] event` and `fields` accept).
    Events,
    /// Measure simulation speed: S servers, N provider clients holding I ephemeral instances, M subscribers.
    Bench {
        /// Servers, 1 to 100 (one Distro cluster when more than one).
        #[arg(long, default_value_t = 1, value_parser = count(1, scenario::MAX_SERVERS))]
        servers: usize,
        /// Provider clients, 1 to 62500 (with the subscribers).
        #[arg(long, default_value_t = 100, value_parser = count(1, 62_500))]
        clients: usize,
        /// Ephemeral instances in all, 0 to 62500, spread over the provider clients (default: one each).
        #[arg(long, value_parser = count(0, 62_500))]
        instances: Option<usize>,
        /// Services the instances are spread over, 1 to 10000.
        #[arg(long, default_value_t = 10, value_parser = count(1, 10_000))]
        services: usize,
        /// Subscriber clients, 0 to 62500 (with the providers).
        #[arg(long, default_value_t = 10, value_parser = count(0, 62_500))]
        subscribers: usize,
        /// Virtual time to simulate, more than 0s and at most 24h.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        duration: std::time::Duration,
        /// Seed of the runs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runs to time, 1 to 1000 (the median is reported; the outcome is identical every time).
        #[arg(long, default_value_t = 5, value_parser = count(1, 1000))]
        repeat: usize,
        /// Consumer traffic: calls per second each subscriber makes to its service, 0 (none)
        /// to 1000.
        #[arg(long, default_value_t = 0.0, value_parser = traffic_rate)]
        traffic: f64,
    },
}

/// A bench traffic rate: calls per second from 0 to 1000.
fn traffic_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1000.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{s} is out of range: 0 to 1000 calls per second"))
    }
}

/// `nacos-sim run ... | head` closes stdout early: end quietly, as other command-line tools
/// do, instead of panicking on the broken pipe. Any other failure to print (`> /dev/full`) is
/// one error line and exit code 2, not a panic.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(why) = msg.strip_prefix("failed printing to stdout: ") {
            if why.contains("Broken pipe") {
                std::process::exit(0);
            }
            eprintln!("error: cannot write the output: {why}");
            std::process::exit(2);
        }
        default(info)
    }));
}

#[cfg(not(madsim))]
fn main() -> ExitCode {
    quiet_on_broken_pipe();
    cli::serve::main()
}

#[cfg(madsim)]
fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            file,
            seed,
            format,
            timeline,
        } => cli::run::run(
            &file,
            seed,
            matches!(format, Format::Json),
            timeline.as_deref(),
        ),
        Cmd::List { dir } => cli::run::list(&dir),
        Cmd::Sweep {
            file,
            seeds,
            jobs,
            shard,
            format,
            max_failures,
            save_failures,
            shrink_runs,
        } => cli::sweep::sweep(cli::sweep::Args {
            file: &file,
            seeds: &seeds,
            jobs,
            shard: shard.as_deref(),
            json: matches!(format, Format::Json),
            max_failures,
            save_failures: save_failures.as_deref(),
            shrink_runs,
        }),
        Cmd::Compare {
            file,
            sets,
            seed,
            seeds,
            jobs,
            format,
        } => cli::compare::compare(cli::compare::Args {
            file: &file,
            sets: &sets,
            seed,
            seeds: seeds.as_deref(),
            json: matches!(format, Format::Json),
            jobs,
        }),
        Cmd::CheckDeterminism { file, seed } => cli::run::check_determinism(&file, seed),
        Cmd::Shrink {
            file,
            seed,
            check,
            out,
            max_runs,
            pin,
        } => cli::shrink::shrink(cli::shrink::Args {
            file: &file,
            seed,
            check: check.as_deref(),
            out: out.as_deref(),
            max_runs,
            pin,
        }),
        Cmd::Trace { file, seed } => cli::run::trace(&file, seed),
        Cmd::Config => cli::run::config(),
        Cmd::Events => cli::run::events(),
        Cmd::Bench {
            servers,
            clients,
            instances,
            services,
            subscribers,
            duration,
            seed,
            repeat,
            traffic,
        } => {
            let shape = scenario::BenchShape {
                servers,
                clients,
                instances: instances.unwrap_or(clients),
                subscribers,
                services,
                traffic,
            };
            cli::run::bench(shape, duration, seed, repeat)
        }
    }
}
