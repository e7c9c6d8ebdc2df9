//! A check of the io seam's shape, on the source text: the files of `src/io` import each other
//! without a cycle, the simulated wire never imports the node-facing facade (`net`, `mod`),
//! and the shared contract (`api`), `clock` and `disk` import nothing of io.
//!
//! An edge is any `super::NAME` or `crate::io::NAME` path outside comments and outside the
//! file's `#[cfg(test)]` tail (a test module's `super` is its own file), plus a `mod.rs`'s
//! edges to the children it declares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` except test-only ones (`tests.rs`, `tests/`), as paths
/// relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && p.file_name().is_some_and(|n| n == "tests") {
            continue;
        } else if p.is_dir() {
            files(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_stem().is_none_or(|s| s != "tests")
        {
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// The module directory a file's `super::` names, and the directory of its own children.
fn dirs(file: &Path) -> (PathBuf, PathBuf) {
    let parent = file.parent().unwrap().to_path_buf();
    if file.file_name().unwrap() == "mod.rs" {
        (parent.parent().unwrap().to_path_buf(), parent)
    } else {
        let own = parent.join(file.file_stem().unwrap());
        (parent, own)
    }
}

/// The file implementing module `name` in directory `dir`, if it is one of `known`.
fn resolve(dir: &Path, name: &str, known: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| known.contains(p))
}

/// Identifiers following each occurrence of `prefix` in `code`.
fn names_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect()
}

fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = vec![];
    files(&src, &src.join("io"), &mut list);
    let known: BTreeSet<PathBuf> = list.iter().cloned().collect();
    let io = PathBuf::from("io");
    let mut g = BTreeMap::new();
    for f in &list {
        let text = std::fs::read_to_string(src.join(f)).unwrap();
        let body = text.split("#[cfg(test)]").next().unwrap();
        let code: String = body
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let (sup, own) = dirs(f);
        let mut edges = BTreeSet::new();
        for n in names_after(&code, "super::") {
            edges.extend(resolve(&sup, n, &known));
        }
        for n in names_after(&code, "crate::io::") {
            edges.extend(resolve(&io, n, &known));
        }
        for n in names_after(&code, "mod ") {
            edges.extend(resolve(&own, n, &known));
        }
        edges.remove(f);
        g.insert(f.clone(), edges);
    }
    g
}

/// A cycle through `f`, if any (depth-first search; `on` is the current path).
fn cycle(
    g: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    f: &PathBuf,
    on: &mut Vec<PathBuf>,
    done: &mut BTreeSet<PathBuf>,
) -> Option<Vec<PathBuf>> {
    if let Some(i) = on.iter().position(|p| p == f) {
        return Some(on[i..].to_vec());
    }
    if !done.insert(f.clone()) {
        return None;
    }
    on.push(f.clone());
    for t in &g[f] {
        if let Some(c) = cycle(g, t, on, done) {
            return Some(c);
        }
    }
    on.pop();
    None
}

#[test]
fn io_files_import_each_other_without_cycles_and_the_wire_never_imports_the_facade() {
    let g = graph();
    assert!(g.len() >= 14, "expected the io files, found {:?}", g.keys());
    let mut done = BTreeSet::new();
    for f in g.keys() {
        if let Some(c) = cycle(&g, f, &mut vec![], &mut done) {
            panic!("import cycle in src/io: {c:?}");
        }
    }
    let facade = [PathBuf::from("io/mod.rs"), PathBuf::from("io/net.rs")];
    for (f, edges) in &g {
        if f.starts_with("io/simnet") {
            for t in &facade {
                assert!(
                    !edges.contains(t),
                    "{f:?} (the wire) imports {t:?} (the facade)"
                );
            }
        }
        if ["io/api.rs", "io/clock.rs", "io/disk.rs"].contains(&f.to_str().unwrap()) {
            assert!(edges.is_empty(), "{f:?} imports {edges:?}");
        }
    }
    // The graph sees real edges (a check that finds none checks nothing).
    let inbox = &g[&PathBuf::from("io/simnet/inbox.rs")];
    assert!(inbox.contains(&PathBuf::from("io/simnet/exchange.rs")));
    assert!(inbox.contains(&PathBuf::from("io/api.rs")));
    assert!(g[&PathBuf::from("io/net.rs")].contains(&PathBuf::from("io/simnet/mod.rs")));
}
