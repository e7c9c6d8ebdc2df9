//! The `nacos-sim` command line.

use clap::{Parser, Subcommand, ValueEnum};
use nacos_sim::config::{fmt_duration, parse_duration, Config};
use nacos_sim::scenario::{self, Scenario};
use nacos_sim::sim;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nacos-sim", version, about = "Deterministic simulation testbed of the Nacos 1.4.1 naming subsystem", long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario file; exit 0 if every check passed, 1 if one failed, 2 on bad input.
    Run {
        /// The scenario file (scenarios/*.toml).
        file: PathBuf,
        /// Seed of the run (default: the scenario's `seed`, else 1). Same seed, same outcome.
        #[arg(long)]
        seed: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// List the scenarios in a folder with their one-line `about`.
    List {
        /// Folder to list.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Print every Nacos constant a scenario's [config] can override, with its default and spec section.
    Config,
    /// Measure simulation speed: S servers, N provider clients holding I ephemeral instances, M subscribers.
    Bench {
        /// Servers (one Distro cluster when more than one).
        #[arg(long, default_value_t = 1)]
        servers: usize,
        /// Provider clients.
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Ephemeral instances in all, spread over the provider clients (default: one each).
        #[arg(long)]
        instances: Option<usize>,
        /// Services the instances are spread over.
        #[arg(long, default_value_t = 10)]
        services: usize,
        /// Subscriber clients.
        #[arg(long, default_value_t = 10)]
        subscribers: usize,
        /// Virtual time to simulate.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        duration: std::time::Duration,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runs to time (the median is reported; the outcome is identical every time).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { file, seed, format } => run(&file, seed, format),
        Cmd::List { dir } => list(&dir),
        Cmd::Config => {
            println!("{:<30} {:<10} {:<8} description", "key", "default", "spec");
            let d = Config::default();
            for (k, _, spec, doc) in Config::KEYS {
                println!(
                    "{:<30} {:<10} {:<8} {}",
                    k,
                    d.get(k).unwrap_or_default(),
                    spec,
                    doc
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Bench {
            servers,
            clients,
            instances,
            services,
            subscribers,
            duration,
            seed,
            repeat,
        } => {
            let shape = scenario::BenchShape {
                servers,
                clients,
                instances: instances.unwrap_or(clients),
                subscribers,
                services,
            };
            bench(shape, duration, seed, repeat)
        }
    }
}

fn load(file: &Path) -> Result<Scenario, ExitCode> {
    scenario::load(file).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn run(file: &Path, seed: Option<u64>, format: Format) -> ExitCode {
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = seed.unwrap_or(sc.seed);
    let (outcome, _) = sim::run(&sc, seed);
    match format {
        Format::Text => print!("{}", outcome.to_text(true)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&outcome.to_json()).expect("json")
        ),
    }
    if outcome.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn list(dir: &Path) -> ExitCode {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    files.sort();
    let mut bad = false;
    for f in files {
        match scenario::load(&f) {
            Ok(sc) => println!("{:<44} {}", f.display(), sc.about),
            Err(e) => {
                bad = true;
                println!("{:<44} INVALID: {e}", f.display());
            }
        }
    }
    if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn bench(
    shape: scenario::BenchShape,
    duration: std::time::Duration,
    seed: u64,
    repeat: usize,
) -> ExitCode {
    let sc = scenario::bench_scenario(shape, duration, seed);
    println!(
        "bench: {} server(s), {} clients holding {} ephemeral instances over {} services, {} subscribers, {} of virtual time, seed {seed}, {} runs",
        shape.servers,
        shape.clients,
        shape.instances,
        shape.services,
        shape.subscribers,
        fmt_duration(duration),
        repeat.max(1)
    );
    let mut walls = vec![];
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let (outcome, stats) = sim::run(&sc, seed);
        if let Some(p) = &outcome.panic {
            eprintln!("the simulation panicked: {p}");
            return ExitCode::from(1);
        }
        walls.push(stats.wall_secs);
        last = Some((outcome, stats));
    }
    let (outcome, stats) = last.expect("at least one run");
    walls.sort_by(f64::total_cmp);
    let wall = walls[walls.len() / 2];
    let virt = duration.as_secs_f64();
    println!(
        "wall time (median):   {:.3} s   (min {:.3}, max {:.3})",
        wall,
        walls[0],
        walls[walls.len() - 1]
    );
    println!("virtual/wall:         {:.0}x real time", virt / wall);
    println!("messages delivered:   {}", stats.messages);
    println!("messages/wall-second: {:.0}", stats.messages as f64 / wall);
    println!("events recorded:      {}", outcome.events.len());
    println!("trace hash:           {}", outcome.trace_hash);
    ExitCode::SUCCESS
}
