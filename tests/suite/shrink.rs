//! `nacos-sim shrink`: a failing chaos seed shrinks to a smaller scenario that fails the same
//! check on its own.

use nacos_sim::scenario;
use std::process::Command;

#[test]
fn a_failing_chaos_seed_shrinks_to_a_file_that_fails_alone() {
    let path = std::path::Path::new("scenarios/chaos-legacy-raft.toml");
    let sc = scenario::load(path).unwrap();
    // The first seed that fails (legacy Raft's flaws show on about one seed in five).
    let seed = (0..100)
        .find(|s| !nacos_sim::sim::run(&sc, *s).0.passed)
        .expect("a failing seed in 0..100");
    let drawn = nacos_sim::sim::materialize(&sc, seed).steps.len();
    let out = std::env::temp_dir().join(format!("nacos-sim-shrunk-{}.toml", std::process::id()));
    let res = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(["shrink", "scenarios/chaos-legacy-raft.toml", "--seed"])
        .arg(seed.to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert_eq!(res.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("verified:"), "{stdout}");
    let target = stdout
        .lines()
        .find_map(|l| l.strip_prefix("target:  "))
        .unwrap()
        .to_string();
    let small = scenario::load(&out).unwrap();
    std::fs::remove_file(&out).ok();
    assert!(small.chaos.is_none());
    assert!(
        small.steps.len() < drawn / 2,
        "{} of {drawn} steps left",
        small.steps.len()
    );
    assert!(small.duration < sc.duration);
    let (o, _) = nacos_sim::sim::run(&small, small.seed);
    assert!(
        o.checks.iter().any(|c| !c.passed && c.name == target),
        "{}",
        o.to_text(false)
    );
}

#[test]
fn shrinking_a_passing_seed_is_refused_with_a_reason() {
    let sc = scenario::load(std::path::Path::new("scenarios/quickstart.toml")).unwrap();
    let err = nacos_sim::shrink::shrink(&sc, 1, None, 10, &mut |_, _| {})
        .err()
        .expect("quickstart passes");
    assert!(err.contains("passes every check"), "{err}");
}
