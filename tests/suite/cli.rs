//! The seed tooling from the command line: sweep (with shards and JSON lines) and the
//! cross-process determinism check.

use std::process::Command;

fn nacos_sim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(args)
        .output()
        .expect("run nacos-sim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn sweep_prints_one_json_line_per_seed_and_shards_split_the_range() {
    let (code, out) = nacos_sim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--seeds",
        "0..6",
        "--jobs",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let seeds: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut sorted = seeds.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
    let (_, a) = nacos_sim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--seeds",
        "0..6",
        "--shard",
        "1/2",
        "--format",
        "json",
    ]);
    let (_, b) = nacos_sim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--seeds",
        "0..6",
        "--shard",
        "2/2",
        "--format",
        "json",
    ]);
    assert_eq!(a.lines().count() + b.lines().count(), 6);
}

#[test]
fn a_failing_sweep_names_the_check_and_the_repro() {
    // An expectation no seed can meet: nothing is ever registered.
    let path = std::env::temp_dir().join(format!("nacos-sim-never-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "name = \"never\"\nabout = \"t\"\nduration = \"5s\"\n[cluster]\nservers = 1\n\
         [[expect]]\nevent = \"instance.registered\"\nwithin = [\"0s\", \"5s\"]\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let (code, out) = nacos_sim(&["sweep", file, "--seeds", "7..=8", "--jobs", "1"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("0 passed, 2 failed"), "{out}");
    assert!(
        out.contains("FAIL instance.registered within [0ms, 5s]: never seen"),
        "{out}"
    );
    assert!(
        out.contains(&format!("repro: nacos-sim run {file} --seed 8")),
        "{out}"
    );
}

#[test]
fn check_determinism_compares_two_processes() {
    for (file, seed) in [
        ("scenarios/raft-minority-leader.toml", "3"),
        ("scenarios/partition-last-arrival-wins.toml", "1"),
        ("scenarios/chaos-distro.toml", "11"),
    ] {
        let (code, out) = nacos_sim(&["check-determinism", file, "--seed", seed]);
        assert_eq!(code, 0, "{file}: {out}");
        assert!(out.starts_with("deterministic"), "{file}: {out}");
    }
}

#[test]
fn a_chaos_sweep_reports_coverage_and_names_what_it_never_reached() {
    let (_, out) = nacos_sim(&[
        "sweep",
        "scenarios/chaos-distro.toml",
        "--seeds",
        "0..6",
        "--jobs",
        "2",
    ]);
    assert!(out.contains("coverage (seeds that reached it"), "{out}");
    // Chaos crashes and cuts servers: every seed sees a peer marked DOWN.
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("6 ") && l.contains("member.down")),
        "{out}"
    );
    // The scenario has no persistent instances, so no Raft publish can fail.
    let never = out.lines().find(|l| l.contains("never reached:")).unwrap();
    assert!(never.contains("raft.publish_failed"), "{out}");
    let (_, json) = nacos_sim(&[
        "sweep",
        "scenarios/chaos-distro.toml",
        "--seeds",
        "3",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert!(
        v["coverage"]["client.failover"].as_u64().unwrap() > 0,
        "{json}"
    );
}

#[test]
fn a_panic_in_a_simulated_node_fails_that_seed_and_the_sweep_goes_on() {
    let path = std::env::temp_dir().join(format!("nacos-sim-panic-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "name = \"panics\"\nabout = \"t\"\nduration = \"20s\"\n[cluster]\nservers = 2\n\
         [[step]]\nat = \"5s\"\npanic = \"s2\"\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let (code, out) = nacos_sim(&["sweep", file, "--seeds", "0..3", "--jobs", "2"]);
    let (run_code, run_out) = nacos_sim(&["run", file, "--seed", "2"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("3 seeds (shard 1/1), 0 passed, 3 failed"),
        "{out}"
    );
    for seed in 0..3 {
        assert!(
            out.contains(&format!(
                "seed {seed}: FAIL the simulation runs without panicking: injected panic on s2"
            )),
            "{out}"
        );
        assert!(out.contains(&format!("repro: nacos-sim run {file} --seed {seed}")));
    }
    assert_eq!(run_code, 1, "{run_out}");
    assert!(run_out.contains("PANIC in the simulation: injected panic on s2"));
    assert!(run_out.contains(&format!("repro:  nacos-sim run {file} --seed 2")));
}
