//! The layering checker on small made-up crates: what it counts as a reference, and what not.

use super::*;

fn krate(files: &[(&str, &str)]) -> Crate {
    let src: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    Crate::new(&src)
}

fn circles_of(files: &[(&str, &str)]) -> Vec<String> {
    circle_report(&krate(files))
        .into_iter()
        .map(|c| c.1)
        .collect()
}

#[test]
fn a_use_each_way_is_a_circle_named_with_its_lines() {
    let found = circles_of(&[
        ("lib.rs", "mod d;"),
        ("d/mod.rs", "mod a; mod b;"),
        ("d/a.rs", "use super::b::B;\npub struct A;"),
        ("d/b.rs", "pub struct B;\n\nfn f() { crate::d::a::A; }"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("circle d/a → d/b → d/a"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("d/a.rs:1 `super::b::B`"), "{}", found[0]);
    assert!(
        found[0].contains("d/b.rs:3 `crate::d::a::A`"),
        "{}",
        found[0]
    );
}

#[test]
fn comments_strings_chars_and_lifetimes_are_not_references() {
    let b = "pub struct B<'a>(&'a str);\n\
             // use super::a::A;\n\
             /* super::a::A /* nested */ super::a::A */\n\
             const S: &str = \"super::a::A\";\n\
             const R: &str = r#\"super::a::A \"quoted\"\"#;\n\
             const Q: char = '\"';\n\
             fn f<'x>(_: &'x str) {}";
    let files = [
        ("lib.rs", "mod d;"),
        ("d/mod.rs", "mod a; mod b;"),
        ("d/a.rs", "use super::b::B;\npub struct A;"),
        ("d/b.rs", b),
    ];
    assert!(circles_of(&files).is_empty(), "{:?}", circles_of(&files));
    // ...while the same file with one real reference after them is a circle.
    let b = format!("{b}\nuse super::a::A;");
    let files = [files[0], files[1], files[2], ("d/b.rs", &b)];
    assert_eq!(circles_of(&files).len(), 1);
}

#[test]
fn use_trees_re_exports_and_globs_are_followed() {
    // b reaches a through `use super::{x::{self, y}}`-style trees, a re-export and a glob.
    for b in [
        "use super::{c, a::{self}};",
        "use super::render;",
        "use super::*;\nfn f() { let _ = Helper; }",
    ] {
        let found = circles_of(&[
            ("lib.rs", "mod d;"),
            (
                "d/mod.rs",
                "mod a; mod b; mod c;\npub use a::render;\nuse a::Helper;",
            ),
            (
                "d/a.rs",
                "pub fn render() {}\npub struct Helper;\nuse super::b::B;",
            ),
            ("d/b.rs", &format!("pub struct B;\n{b}")),
            ("d/c.rs", ""),
        ]);
        assert_eq!(found.len(), 1, "{b}: {found:?}");
    }
}

#[test]
fn methods_implemented_on_a_sibling_type_make_a_circle() {
    // findings.rs adds methods to model.rs's Builder, and model.rs calls them.
    let found = circles_of(&[
        ("lib.rs", "mod t;"),
        ("t/mod.rs", "mod findings; mod model;"),
        (
            "t/model.rs",
            "pub struct Builder;\nfn go(b: &mut Builder) { b.findings(); }",
        ),
        (
            "t/findings.rs",
            "use super::*;\nimpl Builder {\n    pub fn findings(&mut self) {}\n}",
        ),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("calls Builder::findings"), "{}", found[0]);
    // Methods on the directory's own type (defined in mod.rs) are each file's own.
    let found = circles_of(&[
        ("lib.rs", "mod s;"),
        ("s/mod.rs", "mod a; mod b;\npub struct Server;"),
        (
            "s/a.rs",
            "use super::Server;\nimpl Server { pub fn reg(&self) {} }",
        ),
        (
            "s/b.rs",
            "use super::Server;\nimpl Server { fn beat(&self) { self.reg() } }",
        ),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_reference_across_directories_counts_between_their_entries() {
    let files = [
        ("lib.rs", "mod s;"),
        ("s/mod.rs", "mod d; mod n;"),
        ("s/n.rs", "fn f() { super::d::sync::go(); }"),
        ("s/d/mod.rs", "pub mod sync;"),
        ("s/d/sync.rs", "use crate::s::n::Cause;\npub fn go() {}"),
    ];
    assert_eq!(
        circle_report(&krate(&files))[0].0,
        "s",
        "the circle's directory"
    );
    let found = circles_of(&files);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("circle s/d → s/n → s/d"),
        "{}",
        found[0]
    );
}

#[test]
fn test_code_and_parent_child_references_are_left_out() {
    let found = circles_of(&[
        ("lib.rs", "mod d;"),
        ("d/mod.rs", "mod a; mod b; #[cfg(test)] mod tests;\nuse a::A;"),
        ("d/a.rs", "use super::b::B;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::b::B;\n}"),
        ("d/b.rs", "pub struct B;\nuse super::A;"),
        ("d/tests.rs", "use super::a::A;\nuse super::b::B;"),
    ]);
    // b → a (through mod.rs's import of A) and a → b: one circle, but the tests add none.
    assert_eq!(found.len(), 1, "{found:?}");
    let found = circles_of(&[
        ("lib.rs", "mod d;"),
        ("d/mod.rs", "mod a; mod b; #[cfg(test)] mod tests;"),
        (
            "d/a.rs",
            "use super::b::B;\npub struct A;\nmod tests {\n    use super::super::a::A;\n}",
        ),
        ("d/b.rs", "pub struct B;\npub(super) fn f() {}"),
        ("d/tests.rs", "use super::a::A;\nuse super::b::B;"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_directions_are_checked_outside_tests() {
    let c = krate(&[
        (
            "lib.rs",
            "mod model; mod check; mod scenario; mod sim; mod server; mod trace;",
        ),
        (
            "model/mod.rs",
            "use crate::trace::Ev;\nuse crate::sim::World;",
        ),
        (
            "check/mod.rs",
            "fn f() { crate::sim::run(); }\nuse crate::scenario::Scenario;",
        ),
        (
            "scenario/mod.rs",
            "use crate::check::Check;\n#[cfg(test)]\nmod tests { use crate::sim::run; }",
        ),
        (
            "server/mod.rs",
            "use crate::trace::emit;\nmod tests { use crate::scenario::Scenario; }",
        ),
        ("sim/mod.rs", "pub fn run() {}\npub struct World;"),
        ("trace/mod.rs", "pub struct Ev;"),
    ]);
    let found = direction_report(&c);
    assert_eq!(
        found,
        vec![
            "check/mod.rs:1 `crate::sim::run`: check must not refer to sim",
            "model/mod.rs:2 `crate::sim::World`: model must not refer to sim",
            "scenario/mod.rs:1 `crate::check::Check`: scenario must not refer to check",
        ]
    );
}

#[test]
fn the_checker_sees_the_references_of_this_crate() {
    // A reader that silently saw nothing would find no circle: check it sees each kind of
    // reference in the real source (if these files are renamed, name others of the same kind).
    let edges = this_crate().graph();
    let has = |a: &str, b: &str| edges.keys().any(|(x, y)| show(x) == a && show(y) == b);
    assert!(edges.len() > 50, "only {} edges", edges.len());
    assert!(has("sim/play", "sim/world"), "a `use`");
    assert!(
        has("sim/play", "sim/faults"),
        "a call of a method faults.rs adds to World"
    );
    assert!(
        has("report/timeline/html", "report/timeline/svg"),
        "a mod.rs re-export"
    );
    assert!(
        has("sim", "server"),
        "a reference between top-level modules"
    );
}
