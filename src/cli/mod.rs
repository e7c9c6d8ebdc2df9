//! The commands of the `nacos-sim` binary (the argument definitions are in main.rs), and what
//! they share: loading a scenario with a readable error, checking output paths before a run,
//! and naming the build.

#![cfg_attr(not(madsim), allow(dead_code))]

#[cfg(madsim)]
pub mod compare;
#[cfg(madsim)]
pub mod run;
/// `serve`: live mode (issue 12), only in the live build.
#[cfg(not(madsim))]
pub mod serve;
#[cfg(madsim)]
pub mod shrink;
#[cfg(madsim)]
pub mod sweep;

use nacos_sim::scenario::{self, Scenario};
use std::path::Path;
use std::process::ExitCode;
use std::sync::LazyLock;

/// The commit this binary was built from (build.rs): `a0f9b39`, `a0f9b39-modified`, or empty.
const COMMIT: &str = env!("NACOS_SIM_COMMIT");

/// `0.1.0 (commit a0f9b39)`, or `0.1.0` when the build had no git checkout: `--version`.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let v = env!("CARGO_PKG_VERSION");
    if COMMIT.is_empty() {
        v.to_owned()
    } else {
        format!("{v} (commit {COMMIT})")
    }
});

/// `nacos-sim 0.1.0 (commit a0f9b39)`: the build that printed a repro line. Another build may
/// play the same seed differently.
pub fn build() -> String {
    format!("nacos-sim {}", *VERSION)
}

/// Prints `error: MSG` and gives exit code 2 (bad input).
pub fn bad(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Loads a scenario file; on an error prints it (with the offending source line when it has a
/// position) and gives exit code 2.
pub fn load(file: &Path) -> Result<Scenario, ExitCode> {
    let src = scenario::read_source(file).map_err(bad)?;
    scenario::parse(&src, &file.display().to_string()).map_err(|e| {
        let code = bad(&e);
        if let Some(snippet) = e.snippet(&src) {
            eprintln!("{snippet}");
        }
        code
    })
}

fn io_reason(path: &Path, e: &std::io::Error) -> String {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    match e.kind() {
        std::io::ErrorKind::NotFound if parent.is_some_and(|p| !p.exists()) => {
            format!("no such folder {}", parent.unwrap_or(path).display())
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// Whether a file can be written at `path`, checked before a long run rather than after it.
/// An existing file is left as it is; a new one is created and removed again.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let cannot = |why: String| format!("cannot write {}: {why}", path.display());
    if path.is_dir() {
        return Err(cannot("it is a folder".into()));
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| cannot(io_reason(path, &e)))
    } else {
        std::fs::File::create_new(path).map_err(|e| cannot(io_reason(path, &e)))?;
        std::fs::remove_file(path).map_err(|e| cannot(e.to_string()))
    }
}

/// Creates folder `dir` if needed and checks that files can be written in it.
pub fn check_writable_dir(dir: &Path) -> Result<(), String> {
    let cannot = |why: String| format!("cannot write in {}: {why}", dir.display());
    if dir.exists() && !dir.is_dir() {
        return Err(cannot("it is a file, not a folder".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| cannot(e.to_string()))?;
    check_writable(&dir.join(format!(".nacos-sim-probe-{}", std::process::id())))
        .map_err(|_| cannot("permission denied".into()))
}
