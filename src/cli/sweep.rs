//! `sweep`: many seeds, results in seed order, failures grouped by check, an early stop, and
//! the failing seeds saved as shrunk scenarios.

use super::{bad, build, check_writable_dir, load};
use nacos_sim::compare::{distribution, distribution_text};
use nacos_sim::scenario::Scenario;
use nacos_sim::sweep::{parse_seeds, parse_shard, run_seeds, SeedList, SeedResult, Summary};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct Args<'a> {
    pub file: &'a Path,
    pub seeds: &'a str,
    pub jobs: Option<usize>,
    pub shard: Option<&'a str>,
    pub json: bool,
    pub max_failures: Option<u64>,
    pub save_failures: Option<&'a Path>,
    pub shrink_runs: usize,
}

fn json_line(r: &SeedResult) -> String {
    serde_json::json!({
        "seed": r.seed,
        "passed": r.passed,
        "trace_hash": r.trace_hash,
        "first_failure": r.first_failure.as_ref().map(|(n, d)| serde_json::json!({"name": n, "detail": d})),
        "repro": r.repro,
        "coverage": r.coverage,
        "availability": r.availability,
    })
    .to_string()
}

pub fn sweep(a: Args) -> ExitCode {
    let sc = match load(a.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let range = match parse_seeds(a.seeds) {
        Ok(r) => r,
        Err(e) => return bad(format!("--seeds: {e}")),
    };
    let shard = match a.shard.map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((1, 1)),
        Err(e) => return bad(format!("--shard: {e}")),
    };
    let list = match SeedList::new(range, shard) {
        Ok(l) => l,
        Err(e) => return bad(e),
    };
    if let Some(dir) = a.save_failures {
        if let Err(e) = check_writable_dir(dir) {
            return bad(format!("--save-failures: {e}"));
        }
    }
    let jobs = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = std::time::Instant::now();
    // indicatif draws only when stderr is a terminal; JSON output gets no bar.
    let bar = if a.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(u64::try_from(list.len()).unwrap_or(u64::MAX))
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} seeds  {msg}  {elapsed} elapsed, ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("##-"),
    );
    bar.set_message("0 failed");
    let mut failing = Vec::new();
    let mut failed = 0u64;
    let summary = run_seeds(&sc, &list, jobs, a.max_failures, |r| {
        if a.json {
            println!("{}", json_line(r));
        }
        if !r.passed {
            failed += 1;
            bar.set_message(format!("{failed} failed"));
            if a.save_failures.is_some() {
                failing.push(r.seed);
            }
        }
        bar.inc(1);
    });
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let head = header(&sc, &list, shard, &summary, wall, jobs);
    if a.json {
        if summary.stopped_early {
            eprintln!("{}", stop_line(&summary, &list, a.max_failures));
        }
    } else {
        print_summary(&head, &summary, &list, a.max_failures);
    }
    if let Some(dir) = a.save_failures {
        save_failures(&sc, &failing, dir, jobs, a.shrink_runs, a.json);
    }
    if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn header(
    sc: &Scenario,
    list: &SeedList,
    shard: (u64, u64),
    s: &Summary,
    wall: f64,
    jobs: usize,
) -> String {
    let of = if s.stopped_early {
        format!(" of {}", list.len())
    } else {
        String::new()
    };
    format!(
        "sweep {}: {} seeds{of} (shard {}/{}), {} passed, {} failed, {:.1}s wall ({:.0} seeds/hour, {} jobs)",
        sc.name,
        s.run,
        shard.0,
        shard.1,
        s.passed,
        s.failed,
        wall,
        s.run as f64 / wall.max(1e-9) * 3600.0,
        jobs
    )
}

fn stop_line(s: &Summary, list: &SeedList, max: Option<u64>) -> String {
    format!(
        "stopped early: --max-failures {} reached at seed {}; {} of {} seeds not run",
        max.unwrap_or_default(),
        s.last_seed.unwrap_or_default(),
        list.len() - u128::from(s.run),
        list.len()
    )
}

fn print_summary(head: &str, s: &Summary, list: &SeedList, max: Option<u64>) {
    println!("{head}");
    println!("build: {}", build());
    if s.stopped_early {
        println!("{}", stop_line(s, list, max));
    }
    if !s.groups.is_empty() {
        println!(
            "failures by check ({} seed{}, {} check{}):",
            s.failed,
            if s.failed == 1 { "" } else { "s" },
            s.groups.len(),
            if s.groups.len() == 1 { "" } else { "s" }
        );
    }
    for g in &s.groups {
        println!(
            "  {} seed{}  {}",
            g.seeds,
            if g.seeds == 1 { "" } else { "s" },
            g.check
        );
        for (seed, detail, repro) in &g.first {
            println!(
                "    seed {seed}: FAIL {}: {detail}\n      repro: {repro}",
                g.check
            );
        }
        let more = g.seeds - g.first.len() as u64;
        if more > 0 {
            println!("    ... and {more} more");
        }
    }
    println!("coverage (seeds that reached it / times in all):");
    for (name, about, seeds, times) in s.coverage_table() {
        if seeds > 0 {
            println!("  {seeds:>6} {times:>8}  {name:<26} {about}");
        }
    }
    let never = s.never_reached();
    if !never.is_empty() {
        println!("  never reached: {}", never.join(", "));
    }
    print_availability(s);
}

/// Each consumer's figures over the seeds (issue 13): min, p50, p99 and max.
pub fn print_availability(s: &Summary) {
    if s.availability.is_empty() {
        return;
    }
    println!("availability over the seeds:");
    for ((client, service), figs) in &s.availability {
        println!("  {client} -> {service}:");
        print!("{}", distribution_text(&distribution(figs)));
    }
}

/// A file name made of the scenario's name: only `[A-Za-z0-9_.-]`, never a path, hidden, or
/// starting with `-`.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    // Not hidden, and not read as an option when typed after a command.
    let s = s.trim_start_matches(['.', '-']);
    if s.is_empty() {
        "scenario".to_owned()
    } else {
        s.chars().take(100).collect()
    }
}

/// Shrinks each failing seed (on `jobs` threads) and writes it to `dir` as
/// `NAME-seed-N.toml`, reporting in seed order (to stderr under `--format json`).
fn save_failures(sc: &Scenario, seeds: &[u64], dir: &Path, jobs: usize, runs: usize, json: bool) {
    let say = |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    if seeds.is_empty() {
        say(format!(
            "saved no failures to {}: every seed passed",
            dir.display()
        ));
        return;
    }
    say(format!(
        "saving {} failing seed{} to {} (each shrunk in at most {runs} simulations):",
        seeds.len(),
        if seeds.len() == 1 { "" } else { "s" },
        dir.display()
    ));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(vec![String::new(); seeds.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, seeds.len()) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&seed) = seeds.get(k) else { break };
                let line = save_one(sc, seed, dir, runs);
                done.lock().unwrap()[k] = line;
            });
        }
    });
    for line in done.into_inner().unwrap() {
        say(line);
    }
}

fn save_one(sc: &Scenario, seed: u64, dir: &Path, runs: usize) -> String {
    let path: PathBuf = dir.join(format!("{}-seed-{seed}.toml", file_stem(&sc.name)));
    let shown = path.display().to_string();
    let shrunk = match nacos_sim::shrink::shrink(sc, seed, None, runs, &mut |_, _| {}) {
        Ok(s) => s,
        Err(e) => return format!("  seed {seed}: not saved: {e}"),
    };
    let made = match super::shrink::make_file(sc, seed, &shrunk, false, &shown) {
        Ok(m) => m,
        Err(e) => return format!("  seed {seed}: not saved: {e}"),
    };
    if let Err(e) = std::fs::write(&path, &made.text) {
        return format!("  seed {seed}: not saved: cannot write {shown}: {e}");
    }
    let mut line = format!(
        "  seed {seed}: {shown} ({}; fails `{}`",
        nacos_sim::shrink::size(&shrunk.scenario),
        shrunk.target
    );
    if made.detail.as_deref() != Some(shrunk.original_detail.as_str()) {
        line.push_str(", with another detail than the original run");
    }
    line.push(')');
    if let Err(e) = made.verified {
        line.push_str(&format!("\n    warning: {e}"));
    }
    line
}
