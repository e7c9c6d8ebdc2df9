//! The seed tooling from the command line: sweep (with shards and JSON lines), the
//! cross-process determinism check, and repro lines that work as printed.

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
    // In seed order, whichever worker finished first.
    assert_eq!(seeds, vec![0, 1, 2, 3, 4, 5]);
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
        out.contains("FAIL instance.registered within [0s, 5s]: never seen"),
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

#[test]
fn sweep_json_lines_come_in_seed_order_and_are_the_same_on_every_run() {
    // Chaos seeds take very different times, so workers finish out of order.
    let args = [
        "sweep",
        "scenarios/chaos-distro.toml",
        "--seeds",
        "20..32",
        "--format",
        "json",
    ];
    let (code, one) = nacos_sim(&[&args[..], &["--jobs", "2"]].concat());
    let (_, other) = nacos_sim(&[&args[..], &["--jobs", "3"]].concat());
    assert!(code <= 1, "{one}");
    assert_eq!(one, other, "two sweeps, different job counts");
    let seeds: Vec<u64> = one
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seeds, (20..32).collect::<Vec<_>>());
}

#[test]
fn the_summary_groups_failures_by_check_with_the_first_three_seeds() {
    let path = std::env::temp_dir().join(format!("nacos-sim-groups-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "name = \"never\"\nabout = \"t\"\nduration = \"5s\"\n[cluster]\nservers = 1\n\
         [[expect]]\nevent = \"instance.registered\"\nwithin = [\"0s\", \"5s\"]\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let (code, out) = nacos_sim(&["sweep", file, "--seeds", "10..15", "--jobs", "2"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("failures by check (5 seeds, 1 check):\n"),
        "{out}"
    );
    assert!(
        out.contains("\n  5 seeds  instance.registered within [0s, 5s]\n    seed 10: FAIL"),
        "{out}"
    );
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("    seed ")).collect();
    assert_eq!(listed.len(), 3, "{out}");
    assert!(listed[2].starts_with("    seed 12: "), "{out}");
    assert!(out.contains("    ... and 2 more\n"), "{out}");
}

#[test]
fn a_repro_line_names_the_build_and_runs_as_printed() {
    let (code, version) = nacos_sim(&["--version"]);
    assert_eq!(code, 0);
    let build = format!("nacos-sim {}", env!("CARGO_PKG_VERSION"));
    // `nacos-sim 0.1.0`, with ` (commit 1a2b3c4)` when it was built from a git checkout.
    let rest = version.trim().strip_prefix(&build).expect(&version);
    assert!(
        rest.is_empty() || (rest.starts_with(" (commit ") && rest.ends_with(')')),
        "{version}"
    );
    // A folder with a space: the printed command must quote it.
    let dir = std::env::temp_dir().join(format!("nacos sim repro {}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("never.toml");
    std::fs::write(
        &path,
        "name = \"never\"\nabout = \"t\"\nduration = \"5s\"\n[cluster]\nservers = 1\n\
         [[expect]]\nevent = \"instance.registered\"\nwithin = [\"0s\", \"5s\"]\n",
    )
    .unwrap();
    let (code, out) = nacos_sim(&["run", path.to_str().unwrap(), "--seed", "4"]);
    assert_eq!(code, 1, "{out}");
    let repro = out
        .lines()
        .find_map(|l| l.strip_prefix("repro:  "))
        .expect(&out);
    assert!(repro.contains("'"), "quoted: {repro}");
    assert!(
        out.contains(&format!("build:  {}", version.trim())),
        "{out}"
    );
    // Run the line through a shell, with this build as `nacos-sim` on PATH.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .parent()
        .unwrap();
    let path_var = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let again = Command::new("sh")
        .arg("-c")
        .arg(repro)
        .env("PATH", path_var)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&again.stdout), out);
}
