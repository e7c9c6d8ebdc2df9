//! Every scenario under scenarios/ runs with its own seed: its outcome must pass, must match the
//! reviewed snapshot under snapshots/, and a second run must give the same trace hash.

use nacos_sim::scenario;
use std::path::PathBuf;

pub(crate) fn scenario_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no scenarios found");
    v
}

#[test]
fn every_scenario_passes_and_matches_its_snapshot() {
    let mut failed = vec![];
    for path in scenario_files() {
        let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (outcome, _) = nacos_sim::sim::run(&sc, sc.seed);
        if !outcome.passed {
            failed.push(format!("{}:\n{}", path.display(), outcome.to_text(true)));
        }
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => sc.about.clone(),
        }, {
            insta::assert_snapshot!(sc.name.clone(), outcome.to_snapshot());
        });
    }
    assert!(
        failed.is_empty(),
        "scenarios failed their checks:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_scenario_is_deterministic() {
    for path in scenario_files() {
        let sc = scenario::load(&path).unwrap();
        let (a, _) = nacos_sim::sim::run(&sc, sc.seed);
        let (b, _) = nacos_sim::sim::run(&sc, sc.seed);
        assert_eq!(
            a.trace_hash,
            b.trace_hash,
            "{}: same seed, different traces",
            path.display()
        );
        assert_eq!(a.to_text(true), b.to_text(true), "{}", path.display());
        assert!(
            !a.events.is_empty(),
            "{}: no events recorded",
            path.display()
        );
    }
}

#[test]
fn expectations_do_not_perturb_the_run() {
    // Checks only observe: a scenario with its expectations removed must play out identically.
    for path in scenario_files() {
        let sc = scenario::load(&path).unwrap();
        let mut bare = sc.clone();
        bare.expects.clear();
        let (a, _) = nacos_sim::sim::run(&sc, sc.seed);
        let (b, _) = nacos_sim::sim::run(&bare, sc.seed);
        assert_eq!(
            a.trace_hash,
            b.trace_hash,
            "{}: expectations changed the run",
            path.display()
        );
    }
}

#[test]
fn another_seed_gives_another_trace() {
    // Guards against a hash that ignores the run (e.g. a constant): seeds change latencies.
    let sc = scenario::load(std::path::Path::new("scenarios/quickstart.toml")).unwrap();
    let (a, _) = nacos_sim::sim::run(&sc, 1);
    let (b, _) = nacos_sim::sim::run(&sc, 2);
    assert_ne!(a.trace_hash, b.trace_hash);
}

#[test]
#[allow(clippy::assertions_on_constants)] // the constant is the point: it depends on the build flags
fn built_in_simulation_mode() {
    assert!(
        cfg!(madsim),
        "RUSTFLAGS in the environment replaced .cargo/config.toml's --cfg madsim"
    );
}

/// Every scenario written back as TOML (with its chaos drawn into steps) parses and runs to the
/// same trace: what `shrink` writes and the schedule a chaos outcome prints reproduce alone.
#[test]
fn every_scenario_written_back_reproduces_its_trace() {
    for path in scenario_files() {
        let sc = scenario::load(&path).unwrap();
        let seed = sc.seed + 1;
        let fixed = nacos_sim::sim::materialize(&sc, seed);
        let text = scenario::scenario_toml(&fixed, "written back by a test");
        let back = scenario::parse(&text, "written.toml")
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert!(back.chaos.is_none() && back.seed == seed);
        let (a, _) = nacos_sim::sim::run(&sc, seed);
        let (b, _) = nacos_sim::sim::run(&back, back.seed);
        assert_eq!(a.trace_hash, b.trace_hash, "{}", path.display());
        let names = |o: &nacos_sim::report::Outcome| -> Vec<(String, bool)> {
            o.checks
                .iter()
                .map(|c| (c.name.clone(), c.passed))
                .collect()
        };
        assert_eq!(names(&a), names(&b), "{}", path.display());
    }
}
