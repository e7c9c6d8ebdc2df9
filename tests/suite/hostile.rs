//! Hostile command lines: every one ends promptly with a clear one-line error and exit code 2
//! (or runs correctly), and none crashes, hangs or passes vacuously.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs nacos-sim; fails the test if it takes longer than `secs` (a hang).
fn within(secs: u64, args: &[&str]) -> (i32, String, String) {
    within_in(secs, Path::new("."), args)
}

/// The same, in folder `dir`.
fn within_in(secs: u64, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nacos-sim");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            panic!("nacos-sim {args:?} still running after {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn nacos_sim(args: &[&str]) -> (i32, String, String) {
    within(60, args)
}

/// Exit 2, nothing on stdout (no run happened), and stderr's first line is `error: ...`
/// containing `want`.
fn refused(args: &[&str], want: &str) -> String {
    let (code, stdout, stderr) = nacos_sim(args);
    assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
    assert!(stdout.is_empty(), "{args:?} ran: {stdout}");
    let first = stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("error: ") && first.contains(want),
        "{args:?}: want {want:?} in the first line of:\n{stderr}"
    );
    stderr
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const QUICK: &str = "scenarios/quickstart.toml";
const FAILING: &str =
    "name = \"never\"\nabout = \"t\"\nduration = \"5s\"\n[cluster]\nservers = 1\n\
     [[expect]]\nevent = \"instance.registered\"\nwithin = [\"0s\", \"5s\"]\n";

#[test]
fn unreadable_scenario_files_say_why_without_a_position() {
    let e = refused(
        &["run", "no/such/file.toml"],
        "no/such/file.toml: no such file",
    );
    assert_eq!(e, "error: no/such/file.toml: no such file\n");
    refused(
        &["run", "scenarios"],
        "scenarios: is a folder, not a scenario file",
    );
    for cmd in ["sweep", "shrink", "check-determinism"] {
        let e = refused(&[cmd, "nope.toml"], "nope.toml: no such file");
        assert!(!e.contains(":0:0:"), "{e}");
    }
}

#[test]
fn endless_or_huge_files_are_refused_at_once() {
    // /dev/zero never ends; it used to be read forever.
    refused(
        &["run", "/dev/zero"],
        "larger than 1 MiB, the limit for a scenario file",
    );
    let d = scratch("hostile-size");
    let fits = d.join("fits.toml");
    let big = d.join("big.toml");
    let text = std::fs::read_to_string(QUICK).unwrap();
    let limit = nacos_sim::scenario::MAX_FILE_BYTES as usize;
    let pad = |n: usize| format!("{text}#{}\n", "x".repeat(n - text.len() - 2));
    std::fs::write(&fits, pad(limit)).unwrap();
    std::fs::write(&big, pad(limit + 1)).unwrap();
    assert_eq!(std::fs::metadata(&fits).unwrap().len() as usize, limit);
    let (code, out, err) = nacos_sim(&["run", fits.to_str().unwrap()]);
    assert_eq!(code, 0, "exactly 1 MiB loads: {out}{err}");
    refused(&["run", big.to_str().unwrap()], "larger than 1 MiB");
}

#[test]
fn a_broken_toml_file_shows_the_offending_lines() {
    let e = refused(
        &["run", "tests/bad-input/malformed-toml.toml"],
        "malformed-toml.toml:9:1: invalid TOML",
    );
    let snippet: Vec<&str> = e.lines().skip(1).collect();
    assert_eq!(
        snippet,
        [
            "  |",
            "7 | servers = [\"s1\", \"s2\"",
            "8 | ",
            "9 | [[client]]",
            "  | ^"
        ],
        "{e}"
    );
    // A mistake in a value points under it.
    let e = refused(
        &["run", "tests/bad-input/unknown-node.toml"],
        "unknown-node.toml:17:9: unknown node `provder`",
    );
    assert!(
        e.ends_with("17 | crash = \"provder\"\n   |         ^\n"),
        "{e}"
    );
}

#[test]
fn seeds_up_to_the_largest_run_and_empty_ranges_are_errors() {
    let (code, out, err) = nacos_sim(&[
        "sweep",
        QUICK,
        "--seeds",
        "18446744073709551615",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let seeds: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seeds, [u64::MAX]);
    let (code, out, _) = nacos_sim(&[
        "sweep",
        QUICK,
        "--seeds",
        "18446744073709551614..=18446744073709551615",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains(": 2 seeds (shard 1/1), 2 passed, 0 failed"),
        "{out}"
    );
    refused(
        &["sweep", QUICK, "--seeds", "5..5"],
        "--seeds: `5..5` is empty",
    );
    refused(&["sweep", QUICK, "--seeds", "9..=3"], "is empty");
    refused(
        &["sweep", QUICK, "--seeds", "18446744073709551616"],
        "not a seed range",
    );
    refused(&["sweep", QUICK, "--seeds=-1..4"], "not a seed range");
    refused(
        &["sweep", QUICK, "--seeds", "0..1", "--shard", "2/2"],
        "shard 2/2 of seeds 0 holds no seed",
    );
    refused(
        &["sweep", QUICK, "--shard", "3/2"],
        "--shard: `3/2` is not a shard",
    );
    refused(&["run", QUICK, "--seed", "-1"], "unexpected argument '-1'");
}

#[test]
fn a_huge_seed_range_starts_at_once_and_max_failures_stops_it() {
    let d = scratch("hostile-lazy");
    let f = d.join("never.toml");
    std::fs::write(&f, FAILING).unwrap();
    // Listing 10^14 seeds up front would need 800 TB; lazily, the first failure stops it.
    let (code, out, err) = within(
        60,
        &[
            "sweep",
            f.to_str().unwrap(),
            "--seeds",
            "0..100000000000000",
            "--max-failures",
            "2",
            "--jobs",
            "2",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(": 2 seeds of 100000000000000 (shard 1/1), 0 passed, 2 failed"),
        "{out}"
    );
    assert!(
        out.contains("stopped early: --max-failures 2 reached at seed 1; 99999999999998 of 100000000000000 seeds not run"),
        "{out}"
    );
}

#[test]
fn sizes_out_of_range_are_refused_before_anything_runs() {
    for (args, want) in [
        (
            &["sweep", QUICK, "--jobs", "0"][..],
            "invalid value '0' for '--jobs <JOBS>': 0 is not in 1..=1024",
        ),
        (
            &["sweep", QUICK, "--jobs", "100000"],
            "100000 is not in 1..=1024",
        ),
        (&["sweep", QUICK, "--max-failures", "0"], "0 is not in 1.."),
        (
            &["sweep", QUICK, "--shrink-runs", "0"],
            "0 is not in 1..=100000",
        ),
        (
            &["shrink", QUICK, "--max-runs", "0"],
            "0 is not in 1..=100000",
        ),
        (&["bench", "--servers", "0"], "0 is not in 1..=100"),
        (&["bench", "--servers", "101"], "101 is not in 1..=100"),
        (&["bench", "--repeat", "0"], "0 is not in 1..=1000"),
        (&["bench", "--clients", "0"], "0 is not in 1..=62500"),
        (&["bench", "--services", "0"], "0 is not in 1..=10000"),
        (
            &["bench", "--instances", "62501"],
            "62501 is not in 0..=62500",
        ),
        (
            &["bench", "--subscribers", "-1"],
            "unexpected argument '-1'",
        ),
        (
            &["bench", "--duration", "0s"],
            "--duration 0ms: expected more than 0s and at most 24h",
        ),
        (&["bench", "--duration", "25h"], "at most 24h"),
        (
            &["bench", "--duration", "soon"],
            "invalid value 'soon' for '--duration",
        ),
        (
            &["bench", "--clients", "62500", "--subscribers", "1"],
            "make 62501 clients: the most is 62500",
        ),
    ] {
        refused(args, want);
    }
}

#[test]
fn output_paths_are_checked_before_the_run() {
    let d = scratch("hostile-out");
    // A path inside a file can never be written, not even by root.
    let inside_a_file = "Cargo.toml/out.svg";
    refused(
        &["run", QUICK, "--timeline", inside_a_file],
        "--timeline: cannot write Cargo.toml/out.svg",
    );
    refused(
        &[
            "run",
            QUICK,
            "--timeline",
            d.join("no/dir/x.html").to_str().unwrap(),
        ],
        "no such folder",
    );
    refused(
        &["run", QUICK, "--timeline", d.to_str().unwrap()],
        "unknown picture format",
    );
    refused(
        &[
            "shrink",
            "scenarios/chaos-distro.toml",
            "--seed",
            "9",
            "--out",
            "Cargo.toml/x.toml",
        ],
        "--out: cannot write Cargo.toml/x.toml",
    );
    refused(
        &["shrink", QUICK, "--out", d.to_str().unwrap()],
        "it is a folder",
    );
    refused(
        &["sweep", QUICK, "--save-failures", "Cargo.toml"],
        "--save-failures: cannot write in Cargo.toml: it is a file, not a folder",
    );
    // An existing file is checked without being changed.
    let keep = d.join("keep.toml");
    std::fs::write(&keep, "precious").unwrap();
    let (code, _, err) = nacos_sim(&["shrink", QUICK, "--out", keep.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("passes every check"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
}

#[test]
fn a_seed_above_i64_max_shrinks_to_a_file_that_loads_back() {
    let d = scratch("hostile-seed");
    let f = d.join("never.toml");
    std::fs::write(&f, FAILING).unwrap();
    let out = d.join("small.toml");
    let (code, stdout, stderr) = nacos_sim(&[
        "shrink",
        f.to_str().unwrap(),
        "--seed",
        "18446744073709551615",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\nseed = \"18446744073709551615\"\n"),
        "{text}"
    );
    let sc = nacos_sim::scenario::load(&out).unwrap();
    assert_eq!(sc.seed, u64::MAX);
    let (code, run, _) = nacos_sim(&["run", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(run.contains("--seed 18446744073709551615\n"), "{run}");
}

#[test]
fn list_refuses_what_is_not_a_folder_of_scenarios() {
    let d = scratch("hostile-list");
    refused(
        &["list", d.to_str().unwrap()],
        "holds no *.toml scenario files",
    );
    refused(&["list", QUICK], "is a file, not a folder");
    refused(&["list", "no-such-dir"], "no-such-dir: no such folder");
    let (code, out, _) = nacos_sim(&["list", "tests/bad-input"]);
    assert_eq!(code, 2);
    assert_eq!(
        out.matches("INVALID: ").count(),
        out.lines().count(),
        "{out}"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_not_a_panic() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(["run", QUICK])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "error: cannot write the output: No space left on device (os error 28)\n"
    );
}

#[test]
fn a_fifo_in_a_listed_folder_does_not_block_the_listing() {
    let d = scratch("hostile-fifo");
    std::fs::copy(QUICK, d.join("quickstart.toml")).unwrap();
    let fifo = d.join("blocks.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, out, err) = within(20, &["list", d.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn a_file_named_like_an_option_gets_a_repro_that_works() {
    let d = scratch("hostile-dash");
    std::fs::write(d.join("-never.toml"), FAILING).unwrap();
    let (code, out, err) = within_in(60, &d, &["run", "--seed", "2", "--", "-never.toml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("\nrepro:  nacos-sim run ./-never.toml --seed 2\n"),
        "{out}"
    );
    let (code, out, err) = within_in(60, &d, &["check-determinism", "--", "-never.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("deterministic: never seed 1: two processes gave the same"),
        "{out}"
    );
}

#[test]
fn shrinking_an_unknown_check_names_the_failing_ones_on_one_line() {
    let d = scratch("hostile-check");
    let f = d.join("never.toml");
    std::fs::write(&f, FAILING).unwrap();
    let e = refused(
        &["shrink", f.to_str().unwrap(), "--check", "nope"],
        "--check \"nope\" is not a failing check of seed 1; the failing checks are `instance.registered within [0s, 5s]`",
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}
