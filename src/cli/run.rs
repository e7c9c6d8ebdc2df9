//! `run`, `trace`, `check-determinism`, `list`, `config` and `bench`.

use super::{bad, build, check_writable, load};
use nacos_sim::config::{fmt_duration, Config};
use nacos_sim::report::timeline;
use nacos_sim::scenario::{self, MAX_DURATION};
use nacos_sim::sim;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(file: &Path, seed: Option<u64>, json: bool, picture: Option<&Path>) -> ExitCode {
    // A bad picture name or an unwritable path is bad input: say so before spending a run on it.
    let picture = match picture.map(|p| timeline::Format::of(p).map(|f| (p, f))) {
        Some(Err(e)) => return bad(e),
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some((path, _)) = picture {
        if let Err(e) = check_writable(path) {
            return bad(format!("--timeline: {e}"));
        }
    }
    let seed = seed.unwrap_or(sc.seed);
    let (outcome, _) = sim::run(&sc, seed);
    if json {
        let mut v = outcome.to_json();
        if let Some(m) = v.as_object_mut() {
            m.insert("build".into(), build().into());
        }
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        print!("{}", outcome.to_text(true));
        println!("build:  {}", build());
    }
    if let Some((path, format)) = picture {
        let body = match format {
            timeline::Format::Svg => timeline::render_svg(&outcome),
            timeline::Format::Html => timeline::render_html(&outcome),
        };
        match std::fs::write(path, body) {
            Ok(()) => eprintln!("timeline written to {}", path.display()),
            Err(e) => return bad(format!("cannot write {}: {e}", path.display())),
        }
    }
    if outcome.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The hidden `trace` command: a run's full event trace, for `check-determinism`.
pub fn trace(file: &Path, seed: Option<u64>) -> ExitCode {
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (o, _) = sim::run(&sc, seed.unwrap_or(sc.seed));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for e in &o.events {
        let _ = writeln!(out, "{} {}", e.t_us, e.describe());
    }
    ExitCode::SUCCESS
}

pub fn list(dir: &Path) -> ExitCode {
    if dir.is_file() {
        return bad(format!(
            "{} is a file, not a folder (`nacos-sim run {}` runs one scenario)",
            dir.display(),
            dir.display()
        ));
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Regular files only: a FIFO named x.toml would block the listing forever.
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return bad(format!("{}: no such folder", dir.display()))
        }
        Err(e) => return bad(format!("cannot read {}: {e}", dir.display())),
    };
    if files.is_empty() {
        return bad(format!("{} holds no *.toml scenario files", dir.display()));
    }
    files.sort();
    let mut invalid = false;
    for f in files {
        match scenario::load(&f) {
            Ok(sc) => println!("{:<44} {}", f.display(), sc.about),
            Err(e) => {
                invalid = true;
                println!("{:<44} INVALID: {e}", f.display());
            }
        }
    }
    if invalid {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn config() -> ExitCode {
    println!(
        "{:<30} {:<10} {:<18} {:<8} description",
        "key", "default", "range", "spec"
    );
    let d = Config::default();
    for (k, _, spec, doc) in Config::KEYS {
        let range = nacos_sim::config::bound(k).map_or_else(String::new, |b| b.0.to_string());
        println!(
            "{:<30} {:<10} {:<18} {:<8} {}",
            k,
            d.get(k).unwrap_or_default(),
            range,
            spec,
            doc
        );
    }
    ExitCode::SUCCESS
}

/// `nacos-sim events`: every event kind with its fields, from the event type itself.
pub fn events() -> ExitCode {
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

pub fn check_determinism(file: &Path, seed: Option<u64>) -> ExitCode {
    let sc = match load(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = seed.unwrap_or(sc.seed);
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return bad(format!("cannot find this program to run it again: {e}")),
    };
    let run = || {
        std::process::Command::new(&exe)
            .args(["trace", "--seed", &seed.to_string(), "--"])
            .arg(file)
            .output()
    };
    let (a, b) = match (run(), run()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return bad(format!("cannot start a run: {e}")),
    };
    if !(a.status.success() && b.status.success()) {
        let err = String::from_utf8_lossy(if a.status.success() { &b } else { &a }.stderr.as_ref())
            .into_owned();
        return bad(format!("a traced run failed: {}", err.trim()));
    }
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
    println!("build: {}", build());
    ExitCode::from(1)
}

/// Limits of `bench`: node addresses run out past 62 500 clients (10.1.x.y, 250 per x), and
/// instance addresses likewise.
pub const BENCH_MAX_NODES: usize = 62_500;

pub fn bench(
    shape: scenario::BenchShape,
    duration: std::time::Duration,
    seed: u64,
    repeat: usize,
) -> ExitCode {
    if shape.clients + shape.subscribers > BENCH_MAX_NODES {
        return bad(format!(
            "--clients {} and --subscribers {} make {} clients: the most is {BENCH_MAX_NODES}",
            shape.clients,
            shape.subscribers,
            shape.clients + shape.subscribers
        ));
    }
    if duration.is_zero() || duration > MAX_DURATION {
        return bad(format!(
            "--duration {}: expected more than 0s and at most {}h",
            fmt_duration(duration),
            MAX_DURATION.as_secs() / 3600
        ));
    }
    let sc = scenario::bench_scenario(shape, duration, seed);
    println!(
        "bench: {} server(s), {} clients holding {} ephemeral instances over {} services, {} subscribers, {} of virtual time, seed {seed}, {repeat} runs",
        shape.servers,
        shape.clients,
        shape.instances,
        shape.services,
        shape.subscribers,
        fmt_duration(duration),
    );
    let mut walls = vec![];
    let mut last = None;
    for _ in 0..repeat {
        let (outcome, stats) = sim::run(&sc, seed);
        if let Some(p) = &outcome.panic {
            eprintln!("the simulation panicked: {p}");
            return ExitCode::from(1);
        }
        walls.push(stats.wall_secs);
        last = Some((outcome, stats));
    }
    let Some((outcome, stats)) = last else {
        return bad("--repeat must be at least 1");
    };
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
    println!("build:                {}", build());
    ExitCode::SUCCESS
}
