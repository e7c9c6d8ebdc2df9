//! regressions/: shrunk failures pinned with `nacos-sim shrink --pin`. Each must pass with its
//! own seed, play the same run twice, and pin something real: without its pins it fails. No
//! snapshots (a regression's claim is its expectations); the workflow that makes them is
//! tested through the command line.

use nacos_sim::scenario::{self, Expect, Scenario};
use std::path::{Path, PathBuf};
use std::process::Command;

fn regression_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("regressions/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no regressions found");
    v
}

fn nacos_sim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(args)
        .output()
        .expect("run nacos-sim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_regression_passes_deterministically_and_pins_a_real_failure() {
    for path in regression_files() {
        let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (a, _) = nacos_sim::sim::run(&sc, sc.seed);
        let (b, _) = nacos_sim::sim::run(&sc, sc.seed);
        assert!(a.passed, "{}:\n{}", path.display(), a.to_text(true));
        assert_eq!(a.trace_hash, b.trace_hash, "{}", path.display());
        assert_eq!(a.to_text(true), b.to_text(true), "{}", path.display());
        // Without its anomaly pins the always-on checkers fail it: the flaw is really there.
        let mut bare = sc.clone();
        bare.expects
            .retain(|e| !matches!(e, Expect::Anomaly { .. }));
        assert!(
            bare.expects.len() < sc.expects.len(),
            "{}: a regression pins an anomaly",
            path.display()
        );
        let (c, _) = nacos_sim::sim::run(&bare, sc.seed);
        assert!(!c.passed, "{}: passes without its pins", path.display());
    }
}

/// A scenario whose one expectation cannot hold (nothing registers): its event expectation
/// fails on every seed with the detail `never seen`.
const NEVER: &str = "name = \"never\"\nabout = \"t\"\nduration = \"5s\"\n[cluster]\nservers = 1\n\
     [[client]]\nname = \"c\"\n[[step]]\nat = \"1s\"\nclient = \"c\"\nsubscribe = { service = \"a\" }\n\
     [[expect]]\nevent = \"instance.registered\"\nwithin = [\"0s\", \"5s\"]\n";

#[test]
fn pinning_an_event_expectation_inverts_it_and_the_file_passes() {
    let d = scratch("pin-event");
    let src = d.join("never.toml");
    std::fs::write(&src, NEVER).unwrap();
    let out = d.join("pinned.toml");
    let (code, stdout, stderr) = nacos_sim(&[
        "shrink",
        src.to_str().unwrap(),
        "--seed",
        "3",
        "--pin",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("pinned:  `instance.registered within [0s, 5s]` failed (never seen): inverted to never = true"),
        "{stdout}"
    );
    assert!(stdout.contains("passes on its own"), "{stdout}");
    let pinned = scenario::load(&out).unwrap();
    assert!(matches!(
        pinned.expects.as_slice(),
        [Expect::Event { never: true, .. }]
    ));
    let (o, _) = nacos_sim::sim::run(&pinned, pinned.seed);
    assert!(o.passed, "{}", o.to_text(false));
    // The original claim still fails on that seed: the pin is its exact complement.
    let original = scenario::parse(NEVER, "never.toml").unwrap();
    assert!(!nacos_sim::sim::run(&original, 3).0.passed);
}

/// The regression without its pin, written to a scratch file.
fn unpinned(path: &Path, dir: &Path) -> (Scenario, PathBuf) {
    let mut sc = scenario::load(path).unwrap();
    sc.expects.retain(|e| !matches!(e, Expect::Anomaly { .. }));
    let file = dir.join("unpinned.toml");
    std::fs::write(&file, scenario::scenario_toml(&sc, "unpinned")).unwrap();
    (sc, file)
}

#[test]
fn pinning_a_failed_always_on_checker_adds_its_anomaly() {
    let d = scratch("pin-anomaly");
    let regression = &regression_files()[0];
    let (_, file) = unpinned(regression, &d);
    let out = d.join("repinned.toml");
    let (code, stdout, stderr) = nacos_sim(&[
        "shrink",
        file.to_str().unwrap(),
        "--pin",
        "--max-runs",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("pinned as anomaly = \""), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("\n[[expect]]\nanomaly = \""), "{text}");
    assert!(text.contains("# Pinned, so that the file passes"), "{text}");
    let (code, run, _) = nacos_sim(&["run", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{run}");
}

#[test]
fn what_cannot_be_pinned_is_refused_with_the_reason() {
    let d = scratch("pin-refused");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let head = "name = \"x\"\nabout = \"t\"\nduration = \"10s\"\n[cluster]\nservers = 2\n";
    let view = write(
        "view.toml",
        &format!("{head}[[client]]\nname = \"c\"\n[[step]]\nat = \"1s\"\nclient = \"c\"\nsubscribe = {{ service = \"a\" }}\n[[expect]]\nat = \"5s\"\nserver = \"s1\"\nservice = \"a\"\ninstances = [\"1.1.1.1:1\"]\n"),
    );
    let panic = write(
        "panic.toml",
        &format!("{head}[[step]]\nat = \"2s\"\npanic = \"s2\"\n"),
    );
    let gone = write(
        "gone.toml",
        &format!("{head}[[expect]]\nanomaly = \"two_leaders\"\n"),
    );
    for (file, why) in [
        (&view, "a view expectation states exact instance sets"),
        (&panic, "cannot pin a panic"),
        (
            &gone,
            "the expected anomaly `two_leaders` was not reported on this seed",
        ),
    ] {
        let out = d.join("out.toml");
        let (code, stdout, stderr) = nacos_sim(&[
            "shrink",
            file.to_str().unwrap(),
            "--pin",
            "--max-runs",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{}: {stdout}{stderr}", file.display());
        // One error line (a panicking run also has the panic's own report above it).
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert!(errors.len() == 1 && errors[0].contains(why), "{stderr}");
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn the_shrink_output_says_when_the_failure_detail_changed() {
    // The expectation fails as "seen only outside the window, at 1.0xs, 3.0xs"; dropping the
    // registrations keeps it failing, as "never seen": the same check, another detail.
    let d = scratch("pin-detail");
    let src = d.join("outside.toml");
    std::fs::write(
        &src,
        "name = \"outside\"\nabout = \"t\"\nduration = \"15s\"\n[cluster]\nservers = 1\n\
         [[client]]\nname = \"c\"\n\
         [[step]]\nat = \"1s\"\nclient = \"c\"\nregister = { service = \"a\", ip = \"1.1.1.1\", port = 1 }\n\
         [[step]]\nat = \"3s\"\nclient = \"c\"\nregister = { service = \"a\", ip = \"1.1.1.2\", port = 1 }\n\
         [[expect]]\nevent = \"instance.registered\"\nwithin = [\"10s\", \"12s\"]\n",
    )
    .unwrap();
    let out = d.join("small.toml");
    let (code, stdout, stderr) = nacos_sim(&[
        "shrink",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("detail:  DIFFERS from the original run's"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  original: seen only outside the window, at 1.0"),
        "{stdout}"
    );
    assert!(stdout.contains("  shrunk:   never seen"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("#   shrunk detail:   never seen (differs"),
        "{text}"
    );
    // And when nothing changed, it says so.
    let same = d.join("never.toml");
    std::fs::write(&same, NEVER).unwrap();
    let (_, stdout, _) = nacos_sim(&["shrink", same.to_str().unwrap()]);
    assert!(
        stdout.contains("detail:  the same as the original run's: never seen"),
        "{stdout}"
    );
}

#[test]
fn sweep_save_failures_writes_each_failing_seed_as_a_shrunk_file_that_fails_alone() {
    let d = scratch("save-failures");
    let src = d.join("never.toml");
    // A name that is not a file name: it must not escape the folder.
    std::fs::write(&src, NEVER.replace("\"never\"", "\"../evil name\"")).unwrap();
    let dir = d.join("failures");
    let (code, stdout, stderr) = nacos_sim(&[
        "sweep",
        src.to_str().unwrap(),
        "--seeds",
        "0..3",
        "--save-failures",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("saving 3 failing seeds to"), "{stdout}");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "evil-name-seed-0.toml",
            "evil-name-seed-1.toml",
            "evil-name-seed-2.toml"
        ]
    );
    for (seed, f) in files.iter().enumerate() {
        let path = dir.join(f);
        assert!(
            stdout.contains(&format!("  seed {seed}: {}", path.display())),
            "{stdout}"
        );
        let sc = scenario::load(&path).unwrap();
        assert_eq!(sc.seed, seed as u64);
        assert!(sc.steps.is_empty() && sc.clients.is_empty(), "shrunk: {f}");
        let (code, run, _) = nacos_sim(&["run", path.to_str().unwrap()]);
        assert_eq!(code, 1, "{run}");
        assert!(
            run.contains("FAIL  instance.registered within [0s, 5s]"),
            "{run}"
        );
    }
    assert!(!d.join("evil name-seed-0.toml").exists());
}
