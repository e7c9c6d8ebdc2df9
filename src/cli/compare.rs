//! `compare`: a scenario as written (A) and with `--set` overrides (B), on one seed side by
//! side, or over a range of seeds as pass counts and availability distributions.

use super::{bad, build, load};
use nacos_sim::compare::{apply_sets, diff, distribution, distribution_text, parse_set};
use nacos_sim::sweep::{parse_seeds, run_seeds, SeedList, Summary};
use std::path::Path;
use std::process::ExitCode;

pub struct Args<'a> {
    pub file: &'a Path,
    pub sets: &'a [String],
    pub seed: Option<u64>,
    pub seeds: Option<&'a str>,
    pub json: bool,
    pub jobs: Option<usize>,
}

pub fn compare(a: Args) -> ExitCode {
    let base = match load(a.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if a.sets.is_empty() {
        return bad("compare needs at least one --set KEY=VALUE (the variant to compare with)");
    }
    let sets = match a
        .sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return bad(format!("--set: {e}")),
    };
    let variant = match apply_sets(&base, &sets) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let Some(range) = a.seeds else {
        let seed = a.seed.unwrap_or(base.seed);
        let (oa, _) = nacos_sim::sim::run(&base, seed);
        let (ob, _) = nacos_sim::sim::run(&variant, seed);
        let d = diff(&oa, &ob, &sets);
        if a.json {
            let mut v = serde_json::to_value(&d).unwrap_or_default();
            v["scenario"] = serde_json::json!(base.name);
            println!("{v}");
        } else {
            print!("{}", d.to_text(&base.name));
            println!("build: {}", build());
        }
        return ExitCode::SUCCESS;
    };
    let range = match parse_seeds(range) {
        Ok(r) => r,
        Err(e) => return bad(format!("--seeds: {e}")),
    };
    let list = match SeedList::new(range, (1, 1)) {
        Ok(l) => l,
        Err(e) => return bad(e),
    };
    let jobs = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // Verdicts per seed, to name the seeds where the variant changes the verdict.
    let (mut va, mut vb) = (Vec::new(), Vec::new());
    let sa = run_seeds(&base, &list, jobs, None, |r| va.push((r.seed, r.passed)));
    let sb = run_seeds(&variant, &list, jobs, None, |r| vb.push((r.seed, r.passed)));
    let flipped: Vec<(u64, bool, bool)> = va
        .iter()
        .zip(&vb)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| (x.0, x.1, y.1))
        .collect();
    let label = sets
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    if a.json {
        let side = |s: &Summary, name: &str| {
            let avail: Vec<serde_json::Value> = s
                .availability
                .iter()
                .map(|((c, svc), figs)| {
                    serde_json::json!({"client": c, "service": svc, "figures": distribution(figs)})
                })
                .collect();
            serde_json::json!({"variant": name, "seeds": s.run, "passed": s.passed, "availability": avail})
        };
        let flips: Vec<serde_json::Value> = flipped
            .iter()
            .map(|(s, a, b)| serde_json::json!({"seed": s, "a_passed": a, "b_passed": b}))
            .collect();
        let v = serde_json::json!({
            "scenario": base.name,
            "seeds": list.len().to_string(),
            "a": side(&sa, "as written"),
            "b": side(&sb, &label),
            "verdict_changed": flips,
        });
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    println!("compare {} over {} seeds", base.name, list.len());
    for (tag, name, s) in [("A", "as written", &sa), ("B", label.as_str(), &sb)] {
        println!("  {tag}: {name}: {} of {} seeds passed", s.passed, s.run);
        for ((client, service), figs) in &s.availability {
            println!("    {client} -> {service}:");
            for l in distribution_text(&distribution(figs)).lines() {
                println!("  {l}");
            }
        }
    }
    println!("seeds whose verdict differs: {}", flipped.len());
    for (seed, a, b) in flipped.iter().take(5) {
        let w = |p: &bool| if *p { "PASS" } else { "FAIL" };
        println!(
            "  seed {seed}: A {} B {}  (nacos-sim compare {} --seed {seed} {})",
            w(a),
            w(b),
            nacos_sim::report::shell_word(&base.path),
            sets.iter()
                .map(|(k, v)| format!("--set {k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if flipped.len() > 5 {
        println!(
            "  ... and {} more (--format json lists every one)",
            flipped.len() - 5
        );
    }
    println!("build: {}", build());
    ExitCode::SUCCESS
}
