//! Names the build in repro lines: the git commit the binary was built from, when there is one.
//!
//! Sets `NACOS_SIM_COMMIT` for the crate: `a0f9b39` (short hash of HEAD), `a0f9b39-modified`
//! when tracked files differ from HEAD, or empty without git (a source tarball, no `git` on
//! PATH). Never fails the build. Packagers without a checkout can set `NACOS_SIM_COMMIT`
//! themselves. The script reruns only when HEAD moves or a file under src/ or Cargo.toml
//! changes, so a build of one commit is the same on every machine and an unchanged checkout
//! never rebuilds. (`-modified` reflects the tracked files when the script last ran.)

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NACOS_SIM_COMMIT");
    if let Ok(given) = std::env::var("NACOS_SIM_COMMIT") {
        println!("cargo:rustc-env=NACOS_SIM_COMMIT={given}");
        return;
    }
    // Only this crate's own checkout counts, not a repository it happens to be copied into.
    let here = std::env::var("CARGO_MANIFEST_DIR")
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    let top = git(&["rev-parse", "--show-toplevel"]).and_then(|t| std::fs::canonicalize(t).ok());
    let hash = git(&["rev-parse", "--short=7", "HEAD"]).filter(|_| top.is_some() && top == here);
    let Some(hash) = hash else {
        println!("cargo:rustc-env=NACOS_SIM_COMMIT=");
        return;
    };
    // Rerun when HEAD moves (a commit, a checkout) and when a source file changes (modified);
    // each rerun rebuilds the crate, so nothing that changes on its own (the index) is watched.
    let mut watch = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git(&["rev-parse", "--git-path", &r]));
    }
    watch.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for p in watch.into_iter().flatten() {
        // A path that does not exist would make cargo rerun the script on every build.
        if std::path::Path::new(&p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    for p in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={p}");
    }
    // --no-optional-locks: `git status` must not refresh the index (that would touch .git and
    // could make cargo think the checkout moved).
    let modified = git(&[
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
    ])
    .is_some();
    let suffix = if modified { "-modified" } else { "" };
    println!("cargo:rustc-env=NACOS_SIM_COMMIT={hash}{suffix}");
}
