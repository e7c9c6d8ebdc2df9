//! `shrink` (and `--pin`), and the shrunk files `sweep --save-failures` writes.

use super::{bad, build, check_writable, load};
use nacos_sim::report::shell_word;
use nacos_sim::scenario::{scenario_toml, Scenario};
use nacos_sim::shrink::{failed_detail, replay, size, Shrunk};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// A shrunk scenario written as a file, and what its own run showed.
pub struct Made {
    pub text: String,
    /// The target check's detail in the shrunk run (`None` if it passed there: a bug).
    pub detail: Option<String>,
    /// Pinned failures (with `--pin`).
    pub pins: Vec<String>,
    /// The written file, parsed back and run alone, fails the target check (or, pinned,
    /// passes every check); else why not.
    pub verified: Result<(), String>,
}

/// `about` without an earlier "(shrunk from ...)" or "(pinned from ...)" note.
fn base_about(about: &str) -> &str {
    ["(shrunk from seed ", "(pinned from seed "]
        .iter()
        .filter_map(|m| about.find(m))
        .min()
        .map_or(about, |i| about[..i].trim_end())
}

/// The name a shrunk file gets: `NAME-seed-N` (once).
fn shrunk_name(name: &str, seed: u64) -> String {
    let tag = format!("-seed-{seed}");
    if name.ends_with(&tag) {
        name.to_owned()
    } else {
        format!("{name}{tag}")
    }
}

/// Compares the shrunk run's detail of the target check with the original run's.
pub fn detail_note(original: &str, shrunk: Option<&str>) -> String {
    match shrunk {
        Some(d) if d == original => format!("the same as the original run's: {d}"),
        Some(d) => format!(
            "DIFFERS from the original run's: the same check fails for another instance or term\n  \
             original: {original}\n  shrunk:   {d}"
        ),
        None => "the shrunk run does not fail the check (a bug of the shrinker)".to_owned(),
    }
}

/// Turns a shrink into a file: renames the scenario, runs it once for the target's detail,
/// pins its failures if asked (an error when one cannot be pinned), writes the text with a
/// header saying where it came from, and replays the text alone to verify it.
pub fn make_file(
    original: &Scenario,
    seed: u64,
    shrunk: &Shrunk,
    pin: bool,
    shown: &str,
) -> Result<Made, String> {
    let mut small = shrunk.scenario.clone();
    small.name = shrunk_name(&original.name, seed);
    let (o, _) = nacos_sim::sim::run(&small, seed);
    let detail = failed_detail(&o, &shrunk.target);
    let mut pins = Vec::new();
    if pin {
        let p = nacos_sim::pin::pin(&small, &o)?;
        small = p.scenario;
        pins = p.pins;
    }
    small.about = format!(
        "{} ({} from seed {seed}: {})",
        base_about(&original.about),
        if pin { "pinned" } else { "shrunk" },
        if pin {
            format!("asserts the failure of `{}`", shrunk.target)
        } else {
            format!("fails `{}`", shrunk.target)
        }
    );
    let mut header = format!(
        "Shrunk by `nacos-sim shrink {} --seed {seed}{}` in {} simulations.\n\
         Build: {}\n\
         It fails the check: {}\n  original detail: {}\n",
        shell_word(&original.path),
        if pin { " --pin" } else { "" },
        shrunk.runs,
        build(),
        shrunk.target,
        shrunk.original_detail,
    );
    if let Some(d) = detail.as_deref().filter(|d| *d != shrunk.original_detail) {
        let _ = writeln!(
            header,
            "  shrunk detail:   {d} (differs: another instance or term)"
        );
    }
    let _ = write!(
        header,
        "from: {}\nto:   {}",
        size(original),
        size(&shrunk.scenario)
    );
    if pin {
        header.push_str("\nPinned, so that the file passes while the behaviour lasts:");
        for p in &pins {
            let _ = write!(header, "\n  - {p}");
        }
    } else {
        let _ = write!(
            header,
            "\nTo keep it as a regression that passes while the flaw lasts:\n  \
             nacos-sim shrink THIS_FILE --pin --out regressions/{}.toml",
            small.name
        );
    }
    let text = scenario_toml(&small, &header);
    let verified = match replay(&text, shown) {
        Err(e) => Err(format!(
            "the written scenario does not load back (a bug): {e}"
        )),
        Ok(back) if pin => {
            let failing: Vec<String> = back
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.name, c.detail(nacos_sim::check::Precision::Ms)))
                .collect();
            if failing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the pinned scenario still fails: {}",
                    failing.join("; ")
                ))
            }
        }
        Ok(back) => match failed_detail(&back, &shrunk.target) {
            Some(_) => Ok(()),
            None => Err("the written scenario, run alone, no longer fails the check".into()),
        },
    };
    Ok(Made {
        text,
        detail,
        pins,
        verified,
    })
}

pub struct Args<'a> {
    pub file: &'a Path,
    pub seed: Option<u64>,
    pub check: Option<&'a str>,
    pub out: Option<&'a Path>,
    pub max_runs: usize,
    pub pin: bool,
}

pub fn shrink(a: Args) -> ExitCode {
    let sc = match load(a.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(out) = a.out {
        if let Err(e) = check_writable(out) {
            return bad(format!("--out: {e}"));
        }
    }
    let seed = a.seed.unwrap_or(sc.seed);
    let bar = indicatif::ProgressBar::new_spinner();
    let mut progress = |n: usize, verdict: &str| {
        bar.set_message(format!("run {n}: {verdict}"));
        bar.tick();
    };
    let found = nacos_sim::shrink::shrink(&sc, seed, a.check, a.max_runs, &mut progress);
    bar.finish_and_clear();
    let shrunk = match found {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let shown = a
        .out
        .map_or("(shrunk)".to_string(), |p| p.display().to_string());
    let made = match make_file(&sc, seed, &shrunk, a.pin, &shown) {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    println!("target:  {}", shrunk.target);
    println!("from:    {}", size(&sc));
    println!("to:      {}", size(&shrunk.scenario));
    println!("runs:    {}", shrunk.runs);
    for l in &shrunk.log {
        println!("  - {l}");
    }
    println!(
        "detail:  {}",
        detail_note(&shrunk.original_detail, made.detail.as_deref())
    );
    for p in &made.pins {
        println!("pinned:  {p}");
    }
    match a.out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &made.text) {
                return bad(format!("cannot write {}: {e}", p.display()));
            }
            println!("wrote:   {}", p.display());
        }
        None => print!("\n{}", made.text),
    }
    let run = match a.out {
        Some(_) => format!("`nacos-sim run {}`", shell_word(&shown)),
        None => "the scenario above".to_owned(),
    };
    match made.verified {
        Ok(()) if a.pin => {
            println!("verified: {run} passes on its own, asserting the failure");
            ExitCode::SUCCESS
        }
        Ok(()) => {
            println!("verified: {run} fails the same check on its own");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("warning: {e}");
            ExitCode::from(1)
        }
    }
}
