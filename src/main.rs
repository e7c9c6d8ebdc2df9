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
        /// Also draw the run as a picture: PATH.html (page with legend and checks) or PATH.svg.
        #[arg(long, value_name = "PATH")]
        timeline: Option<PathBuf>,
    },
    /// Run many seeds of a scenario in parallel and summarize the failures with their repro commands.
    Sweep {
        /// The scenario file.
        file: PathBuf,
        /// Seeds to run: 0..1000 (end exclusive), 5..=9, or one seed.
        #[arg(long, default_value = "0..100")]
        seeds: String,
        /// Worker threads (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard i of n of the seeds (1-based), e.g. 2/4, to split a sweep across CI jobs.
        #[arg(long)]
        shard: Option<String>,
        /// text: progress and a summary; json: one JSON line per seed.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Search for a smaller scenario that fails the same check with the same seed, and write it.
    Shrink {
        /// The scenario file.
        file: PathBuf,
        /// The failing seed.
        #[arg(long)]
        seed: Option<u64>,
        /// The check to keep failing (default: the first failing check).
        #[arg(long)]
        check: Option<String>,
        /// Where to write the shrunk scenario (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Give up after this many simulations.
        #[arg(long, default_value_t = 400)]
        max_runs: usize,
    },
    /// Run one seed in two separate processes and compare their full event traces.
    CheckDeterminism {
        /// The scenario file.
        file: PathBuf,
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

/// `nacos-sim run ... | head` closes stdout early: end quietly, as other command-line tools
/// do, instead of panicking on the broken pipe.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            file,
            seed,
            format,
            timeline,
        } => run(&file, seed, format, timeline.as_deref()),
        Cmd::List { dir } => list(&dir),
        Cmd::Sweep {
            file,
            seeds,
            jobs,
            shard,
            format,
        } => sweep(&file, &seeds, jobs, shard.as_deref(), format),
        Cmd::CheckDeterminism { file, seed } => check_determinism(&file, seed),
        Cmd::Shrink {
            file,
            seed,
            check,
            out,
            max_runs,
        } => shrink(&file, seed, check.as_deref(), out.as_deref(), max_runs),
        Cmd::Trace { file, seed } => match load(&file) {
            Ok(sc) => {
                let (o, _) = sim::run(&sc, seed.unwrap_or(sc.seed));
                for e in &o.events {
                    println!("{} {}", e.t_us, e.describe());
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
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
        Cmd::Events => {
            println!("{:<24} {:<44} when", "kind", "fields");
            for k in nacos_sim::trace::KINDS {
                println!(
                    "{:<24} {:<44} {}",
                    k.kind,
                    k.fields.join(", "),
                    k.doc.trim()
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

fn run(file: &Path, seed: Option<u64>, format: Format, timeline: Option<&Path>) -> ExitCode {
    // A bad picture name is bad input: say so before spending a run on it.
    if let Some(Err(e)) = timeline.map(nacos_sim::report::timeline::Format::of) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
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
    if let Some(path) = timeline {
        match nacos_sim::report::timeline::write(&outcome, path) {
            Ok(()) => eprintln!("timeline written to {}", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
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

fn sweep(
    file: &Path,
    seeds: &str,
    jobs: Option<usize>,
    shard: Option<&str>,
    format: Format,
) -> ExitCode {
    use nacos_sim::sweep::{parse_seeds, parse_shard, run_seeds, shard_seeds};
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let range = match parse_seeds(seeds) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --seeds: {e}");
            return ExitCode::from(2);
        }
    };
    let shard = match shard.map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((1, 1)),
        Err(e) => {
            eprintln!("error: --shard: {e}");
            return ExitCode::from(2);
        }
    };
    let list = shard_seeds(range, shard);
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = std::time::Instant::now();
    let failed = std::sync::atomic::AtomicUsize::new(0);
    // indicatif draws only when stderr is a terminal; JSON output gets no bar.
    let bar = if matches!(format, Format::Text) {
        indicatif::ProgressBar::new(list.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} seeds  {msg}  {elapsed} elapsed, ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("##-"),
    );
    bar.set_message("0 failed");
    let progress = |r: &nacos_sim::sweep::SeedResult| {
        if !r.passed {
            let f = failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(format!("{f} failed"));
        }
        if matches!(format, Format::Json) {
            let line = serde_json::json!({
                "seed": r.seed,
                "passed": r.passed,
                "trace_hash": r.trace_hash,
                "first_failure": r.first_failure.as_ref().map(|(n, d)| serde_json::json!({"name": n, "detail": d})),
                "repro": r.repro,
                "coverage": r.coverage,
            });
            println!("{line}");
        }
        bar.inc(1);
    };
    let results = run_seeds(&sc, &list, jobs, progress);
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let fails: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    if matches!(format, Format::Text) {
        println!(
            "sweep {}: {} seeds (shard {}/{}), {} passed, {} failed, {:.1}s wall ({:.0} seeds/hour, {} jobs)",
            sc.name,
            results.len(),
            shard.0,
            shard.1,
            results.len() - fails.len(),
            fails.len(),
            wall,
            results.len() as f64 / wall.max(1e-9) * 3600.0,
            jobs
        );
        for r in &fails {
            let (name, detail) = r.first_failure.clone().unwrap_or_default();
            println!(
                "  seed {}: FAIL {name}: {detail}\n    repro: {}",
                r.seed, r.repro
            );
        }
        println!("coverage (seeds that reached it / times in all):");
        for (name, about, seeds, times) in nacos_sim::sweep::coverage_table(&results) {
            if seeds > 0 {
                println!("  {seeds:>6} {times:>8}  {name:<26} {about}");
            }
        }
        let never = nacos_sim::sweep::never_reached(&results);
        if !never.is_empty() {
            println!("  never reached: {}", never.join(", "));
        }
    }
    if fails.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn shrink(
    file: &Path,
    seed: Option<u64>,
    check: Option<&str>,
    out: Option<&Path>,
    max_runs: usize,
) -> ExitCode {
    use nacos_sim::shrink::size;
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = seed.unwrap_or(sc.seed);
    let bar = indicatif::ProgressBar::new_spinner();
    let mut progress = |n: usize, verdict: &str| {
        bar.set_message(format!("run {n}: {verdict}"));
        bar.tick();
    };
    let shrunk = match nacos_sim::shrink::shrink(&sc, seed, check, max_runs, &mut progress) {
        Ok(s) => s,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let header = format!(
        "Shrunk by `nacos-sim shrink {} --seed {seed}` ({} simulations).\n\
         It fails the check: {}\n\
         from: {}\n\
         to:   {}",
        file.display(),
        shrunk.runs,
        shrunk.target,
        size(&sc),
        size(&shrunk.scenario)
    );
    let mut small = shrunk.scenario.clone();
    small.name = format!("{}-shrunk", sc.name);
    small.about = format!(
        "{} (shrunk from seed {seed}: fails `{}`)",
        sc.about, shrunk.target
    );
    let text = nacos_sim::scenario::scenario_toml(&small, &header);
    println!("target:  {}", shrunk.target);
    println!("from:    {}", size(&sc));
    println!("to:      {}", size(&small));
    println!("runs:    {}", shrunk.runs);
    for l in &shrunk.log {
        println!("  - {l}");
    }
    // The file must reproduce alone: parse what was written and run it.
    let shown = out.map_or("(shrunk)".to_string(), |p| p.display().to_string());
    let back = match nacos_sim::scenario::parse(&text, &shown) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: the shrunk scenario does not parse back (a bug): {e}\n{text}");
            return ExitCode::from(2);
        }
    };
    let (o, _) = sim::run(&back, back.seed);
    let reproduces = o
        .checks
        .iter()
        .any(|c| !c.passed && c.name == shrunk.target);
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(2);
            }
            println!("wrote:   {}", p.display());
        }
        None => print!("\n{text}"),
    }
    if reproduces {
        println!("verified: `nacos-sim run {shown}` fails the same check on its own");
        ExitCode::SUCCESS
    } else {
        eprintln!("warning: the shrunk scenario, run from its file, no longer fails the check");
        ExitCode::from(1)
    }
}

fn check_determinism(file: &Path, seed: Option<u64>) -> ExitCode {
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = seed.unwrap_or(sc.seed);
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find this program to run it again: {e}");
            return ExitCode::from(2);
        }
    };
    let run = || {
        std::process::Command::new(&exe)
            .arg("trace")
            .arg(file)
            .arg("--seed")
            .arg(seed.to_string())
            .output()
    };
    let (a, b) = match (run(), run()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: cannot start a run: {e}");
            return ExitCode::from(2);
        }
    };
    let (ta, tb) = (
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout),
    );
    if ta == tb {
        println!(
            "deterministic: {} seed {seed}: two processes gave the same {} events",
            sc.name,
            ta.lines().count()
        );
        return ExitCode::SUCCESS;
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    let i = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y)
        .unwrap_or(la.len().min(lb.len()));
    println!(
        "NOT deterministic: {} seed {seed}: the traces differ at event {}",
        sc.name,
        i + 1
    );
    println!("  first run:  {}", la.get(i).unwrap_or(&"(end of trace)"));
    println!("  second run: {}", lb.get(i).unwrap_or(&"(end of trace)"));
    ExitCode::from(1)
}
