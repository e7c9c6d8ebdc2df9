//! A property test of the scenario loader (cargo-fuzz needs a nightly toolchain; this runs on
//! stable with proptest). Inputs are mutations of the real files in scenarios/, regressions/,
//! tests/bad-input/ and tests/fuzz-corpus/ (a file with every key): byte flips, truncations,
//! deleted, duplicated or swapped lines, values swapped between keys, inserted bytes, two files
//! spliced; and arbitrary bytes. For every input:
//!
//! - the loader returns a scenario or an error at `file:line:col` (line and column from 1, a
//!   one-line message, a snippet of the line), and never panics;
//! - a loaded scenario written back with `scenario_toml` loads to the same scenario (compared
//!   field by field through `Debug`, source lines and path aside), and writes the same text.
//!
//! The cases are the same on every run (a fixed RNG seed), so CI is not flaky. Run longer or
//! elsewhere with `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=7 cargo test --release fuzz_`.

use nacos_sim::scenario::{parse, parse_bytes, scenario_toml, Scenario};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::path::Path;

/// Cases per `cargo test` run: about a second of a 2-core machine (see the README).
const CASES: u32 = 10_000;

fn corpus() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for dir in [
        "scenarios",
        "regressions",
        "tests/bad-input",
        "tests/fuzz-corpus",
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        files.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    files
}

#[derive(Debug, Clone)]
enum Input {
    /// A corpus file, mutated.
    Mutated(Index, Vec<Mutation>),
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Truncate(Index),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Swap what follows `=` on two lines (`at = "1s"` and `servers = 3`); with `true`, on two
    /// lines with the same key (`at = "1s"` and `at = "20s"`), which usually still loads.
    SwapValues(Index, Index, bool),
    Insert(Index, Vec<u8>),
    /// Lines of another corpus file, inserted at a line.
    Splice(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ix = any::<Index>;
    prop_oneof![
        2 => (ix(), any::<u8>()).prop_map(|(i, m)| Mutation::Flip(i, m | 1)),
        1 => ix().prop_map(Mutation::Truncate),
        4 => ix().prop_map(Mutation::DeleteLine),
        2 => ix().prop_map(Mutation::DuplicateLine),
        2 => (ix(), ix()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (ix(), ix(), any::<bool>()).prop_map(|(a, b, same)| Mutation::SwapValues(a, b, same)),
        2 => (
            ix(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..8),
                prop::sample::select(vec![
                    b"[".to_vec(),
                    b"]".to_vec(),
                    b"\"".to_vec(),
                    b"\n".to_vec(),
                    b"[[step]]\n".to_vec(),
                    b"= ".to_vec(),
                    b"0".to_vec(),
                    b"-".to_vec(),
                    b"99999999999999999999".to_vec(),
                    "é".as_bytes().to_vec(),
                ]),
            ]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (ix(), ix()).prop_map(|(a, b)| Mutation::Splice(a, b)),
    ]
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(mut b: Vec<u8>, m: &Mutation, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut ls = lines(&b);
    match m {
        Mutation::Flip(i, mask) if !b.is_empty() => {
            let k = i.index(b.len());
            b[k] ^= mask;
            return b;
        }
        Mutation::Truncate(i) => {
            b.truncate(i.index(b.len() + 1));
            return b;
        }
        Mutation::Insert(i, bytes) => {
            let k = i.index(b.len() + 1);
            b.splice(k..k, bytes.iter().copied());
            return b;
        }
        Mutation::DeleteLine(i) if !ls.is_empty() => {
            ls.remove(i.index(ls.len()));
        }
        Mutation::DuplicateLine(i) if !ls.is_empty() => {
            let k = i.index(ls.len());
            ls.insert(k, ls[k].clone());
        }
        Mutation::SwapLines(a, c) if !ls.is_empty() => {
            let (a, c) = (a.index(ls.len()), c.index(ls.len()));
            ls.swap(a, c);
        }
        Mutation::SwapValues(a, c, same) => {
            let key = |l: &[u8]| {
                l.windows(3)
                    .position(|w| w == b" = ")
                    .map(|at| l[..at].to_vec())
            };
            let with_value: Vec<usize> = (0..ls.len()).filter(|&k| key(&ls[k]).is_some()).collect();
            if !with_value.is_empty() {
                let a = with_value[a.index(with_value.len())];
                let peers: Vec<usize> = with_value
                    .iter()
                    .copied()
                    .filter(|&k| !same || key(&ls[k]) == key(&ls[a]))
                    .collect();
                let c = peers[c.index(peers.len())];
                let split = |l: &[u8]| {
                    let at = l.windows(3).position(|w| w == b" = ").unwrap() + 3;
                    let (k, v) = l.split_at(at);
                    (k.to_vec(), v.trim_ascii_end().to_vec())
                };
                let ((ka, va), (kc, vc)) = (split(&ls[a]), split(&ls[c]));
                ls[a] = [ka, vc, b"\n".to_vec()].concat();
                ls[c] = [kc, va, b"\n".to_vec()].concat();
            }
        }
        Mutation::Splice(f, at) => {
            let other = lines(&corpus[f.index(corpus.len())]);
            let k = at.index(ls.len() + 1);
            let n = (other.len() / 4).max(1).min(other.len());
            ls.splice(k..k, other.into_iter().take(n));
        }
        _ => {}
    }
    ls.concat()
}

/// A scenario with what writing cannot keep (its path, source lines) blanked out.
fn normalized(sc: &Scenario) -> String {
    let mut sc = sc.clone();
    sc.path = String::new();
    let text = format!("{sc:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("line: ") {
        out.push_str(&rest[..i + 6]);
        rest = rest[i + 6..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('_');
    }
    out.push_str(rest);
    out
}

/// The property: a scenario that writes back faithfully, or a positioned one-line error.
fn check(bytes: &[u8]) -> Result<bool, TestCaseError> {
    match parse_bytes(bytes, "fuzz.toml") {
        Err(e) => {
            prop_assert!(e.line >= 1 && e.col >= 1, "no position: {e}");
            prop_assert_eq!(
                e.to_string(),
                format!("fuzz.toml:{}:{}: {}", e.line, e.col, e.message)
            );
            prop_assert!(
                !e.message.trim().is_empty() && !e.message.contains('\n'),
                "message: {:?}",
                e.message
            );
            if let Ok(text) = std::str::from_utf8(bytes) {
                prop_assert!(
                    e.snippet(text).is_some(),
                    "{e}: line {} is not in the file",
                    e.line
                );
            }
            Ok(false)
        }
        Ok(sc) => {
            let text = scenario_toml(&sc, "written back by the loader's property test");
            let back = parse(&text, "back.toml").map_err(|e| {
                TestCaseError::fail(format!("the written form does not load: {e}\n{text}"))
            })?;
            prop_assert_eq!(normalized(&sc), normalized(&back), "{}", text);
            prop_assert_eq!(
                scenario_toml(&back, "written back by the loader's property test"),
                text
            );
            Ok(true)
        }
    }
}

fn config() -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED; without them, CASES cases
    // from a fixed seed.
    let env = Config::default();
    let set = |v: &str| std::env::var_os(v).is_some();
    Config {
        cases: if set("PROPTEST_CASES") {
            env.cases
        } else {
            CASES
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            env.rng_seed
        } else {
            RngSeed::Fixed(14)
        },
        failure_persistence: None,
        ..env
    }
}

#[test]
fn fuzz_the_loader_never_panics_and_round_trips_what_it_loads() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "corpus of {} files", corpus.len());
    let input = prop_oneof![
        8 => (any::<Index>(), prop::collection::vec(mutation(), 1..3))
            .prop_map(|(file, muts)| Input::Mutated(file, muts)),
        1 => prop::collection::vec(any::<u8>(), 0..600).prop_map(Input::Bytes),
    ];
    let config = config();
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let loaded = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let result = runner.run(&input, |input| {
        let bytes = match input {
            Input::Bytes(b) => b,
            Input::Mutated(file, muts) => muts
                .iter()
                .fold(corpus[file.index(corpus.len())].clone(), |b, m| {
                    apply(b, m, &corpus)
                }),
        };
        if check(&bytes)? {
            loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    });
    let loaded = loaded.into_inner();
    println!(
        "fuzz_loader: {cases} cases in {:.2}s, {loaded} loaded and round-tripped",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // Mutations must reach past the TOML syntax into validation and the writer.
    assert!(
        loaded * 20 >= cases as usize,
        "only {loaded} of {cases} inputs loaded"
    );
}

#[test]
fn the_corpus_loads_and_round_trips_and_bad_inputs_fail_at_a_position() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, loads) in [
        ("scenarios", true),
        ("regressions", true),
        ("tests/fuzz-corpus", true),
        ("tests/bad-input", false),
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let loaded = check(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(loaded, loads, "{}", path.display());
        }
    }
}
