//! Every file in tests/bad-input/ is a scenario with one mistake. Its first line says what the
//! loader must report: `# error: <substring of the error's Display>`, usually `line:col: message`.

use std::path::{Path, PathBuf};

fn bad_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn bad_inputs_report_the_documented_error() {
    let files = bad_inputs();
    assert!(
        files.len() >= 10,
        "expected at least 10 bad inputs, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable test file");
        let first = text.lines().next().unwrap_or("");
        let Some(want) = first.strip_prefix("# error: ") else {
            failures.push(format!(
                "{}: first line must be `# error: ...`",
                path.display()
            ));
            continue;
        };
        let want = want.trim();
        match nacos_sim::scenario::load(path) {
            Ok(_) => failures.push(format!("{}: loaded without error", path.display())),
            Err(e) => {
                let shown = e.to_string();
                if !shown.contains(want) {
                    failures.push(format!(
                        "{}:\n  want: {want}\n  got:  {shown}",
                        path.display()
                    ));
                }
                // The Display form is exactly `path:line:col: message`.
                assert_eq!(
                    shown,
                    format!("{}:{}:{}: {}", path.display(), e.line, e.col, e.message)
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
