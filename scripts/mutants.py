#!/usr/bin/env python3
"""Mutation testing of the scenario suite (issue 14 part 1).

Two kinds of mutant, each run against every scenario in scenarios/ and regressions/ with the
scenario's own seed; a mutant is *caught* when at least one scenario fails its checks (exit 1)
or panics, and *survives* when every scenario still passes.

* config mutants: every key of `nacos-sim config`, a duration at 0.7x and 1.3x its default, a
  count at -1 and +1, a share at 0.7x and 1.3x (capped at 1), a switch flipped. The value is
  written into a scratch copy of each scenario's [config] table (a key the scenario sets itself
  is replaced). A value outside the key's range is reported as skipped.
* code mutants: small edits of the source (a comparison, a retry, a checker) applied to a
  scratch copy of the checkout, built there, and run the same way.

Usage: scripts/mutants.sh [--config-only | --code-only] [--keys k1,k2] [--only TEXT] [--jobs N]
Prints one line per mutant and a summary; exits 1 if any mutant survives.
"""

import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, file, pattern, replacement): the pattern must occur exactly once in the file.
CODE_MUTANTS = [
    (
        "expiry: unhealthy at now - lastBeat >= timeout (spec §8 says strictly greater)",
        "src/model/expiry.rs",
        "now - i.last_beat > i.heartbeat_timeout(default_timeout)",
        "now - i.last_beat >= i.heartbeat_timeout(default_timeout)",
    ),
    (
        "expiry: deleted at now - lastBeat >= delete timeout (spec §8 says strictly greater)",
        "src/model/expiry.rs",
        "now - i.last_beat > i.ip_delete_timeout(default_delete_timeout)",
        "now - i.last_beat >= i.ip_delete_timeout(default_delete_timeout)",
    ),
    (
        "distro: a failed sync is never retried (spec §6 retries every 5 s)",
        "src/server/distro/sync.rs",
        "d.tasks.change(&k, target, retry, now);",
        "let _ = (&mut d, &k, target, retry, now);",
    ),
    (
        "distro: verify's removals are never applied (spec §6 step 5)",
        "src/server/distro/verify.rs",
        "st.datums.remove(k);",
        "let _ = (&st, k);",
    ),
    (
        "checker: two leaders in one term never reported",
        "src/check/leaders.rs",
        "    label: &str,\n) -> Vec<Finding> {",
        "    label: &str,\n) -> Vec<Finding> {\n    if true { return vec![]; }",
    ),
    (
        "checker: divergence never reported",
        "src/check/convergence.rs",
        "pub fn divergences(reg: &Registries) -> Vec<String> {",
        "pub fn divergences(reg: &Registries) -> Vec<String> {\n    if true { return vec![]; }",
    ),
    (
        "push: acks ignored, every push resent until it gives up (spec §10)",
        "src/server/push.rs",
        ".remove(&(from, last_ref_time));",
        ".get(&(from, last_ref_time)).cloned();",
    ),
    (
        "legacy raft: a publish succeeds without a majority (spec §9)",
        "src/server/raft/store.rs",
        "let ok = acks >= need;",
        "let ok = acks >= 1 || acks >= need;",
    ),
]


# Config mutants that no run of Nacos 1.4.1's rules can tell from the default, each with its
# proof. They are still run: one that a scenario catches is reported as caught (and should then
# leave this table); one that survives is reported as `equivalent`, not as a survivor.
EQUIVALENT = {
    ("client_fail_cap", "7"): "after a failure the update delay is min(base << failCount, 60 s) with "
    "base = DEFAULT_DELAY = 1 s (spec §13); 1 s << 6 = 64 s already exceeds the 60 s cap, so a "
    "cap of 6 or 7 failures gives the same delays",
}


def scenario_files(root):
    out = []
    for d in ("scenarios", "regressions"):
        p = os.path.join(root, d)
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".toml"))
    return out


def parse_duration_ms(s):
    m = re.fullmatch(r"((?:\d+h)?)((?:\d+m(?!s))?)((?:[\d.]+s)?)((?:\d+ms)?)", s)
    if not m or s == "":
        return None
    total = 0.0
    for part, unit in ((m.group(1), "h"), (m.group(2), "m"), (m.group(3), "s"), (m.group(4), "ms")):
        if part:
            v = float(part[: -len(unit)])
            total += v * {"h": 3600000, "m": 60000, "s": 1000, "ms": 1}[unit]
    return total


def config_keys(binary):
    out = subprocess.run([binary, "config"], capture_output=True, text=True, check=True).stdout
    keys = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:
            keys.append((parts[0], parts[1]))
    return keys


def config_mutants(keys):
    muts = []
    for key, default in keys:
        if default in ("true", "false"):
            muts.append((key, "false" if default == "true" else "true"))
            continue
        if re.fullmatch(r"-?\d+", default):
            n = int(default)
            muts += [(key, str(n - 1)), (key, str(n + 1))]
            continue
        if re.fullmatch(r"\d+\.\d+", default):
            f = float(default)
            muts += [(key, repr(round(f * 0.7, 4))), (key, repr(min(1.0, round(f * 1.3, 4))))]
            continue
        ms = parse_duration_ms(default)
        if ms is None:
            print(f"?? {key}: cannot read default {default!r}", file=sys.stderr)
            continue
        if ms == 0:
            muts.append((key, '"1s"'))
            continue
        for factor in (0.7, 1.3):
            muts.append((key, f'"{max(1, round(ms * factor))}ms"'))
    return muts


def with_config(text, key, value):
    """The scenario text with `key = value` in its [config] table."""
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip() == "[config]"), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n[config]\n{key} = {value}\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    for i in range(start + 1, end):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def run_one(binary, path, text, scratch):
    """0 pass, 1 fail, 2 bad input (out of range), other: crash."""
    name = os.path.basename(path)
    tmp = os.path.join(scratch, name)
    with open(tmp, "w") as f:
        f.write(text)
    r = subprocess.run([binary, "run", tmp], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def judge(binary, files, mutate, scratch):
    """The first scenario the mutant makes fail, 'SKIP <why>' or None when it survives."""
    for path in files:
        with open(path) as f:
            text = mutate(f.read())
        code, out = run_one(binary, path, text, scratch)
        if code == 2:
            why = out.strip().splitlines()[-1] if out.strip() else "bad input"
            return f"SKIP {why}"
        if code != 0:
            return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
    return None


def report(name, verdict, proof=None):
    if verdict is None and proof:
        print(f"equivalent {name}: {proof}", flush=True)
    elif verdict is None:
        print(f"SURVIVED  {name}", flush=True)
    elif verdict.startswith("SKIP"):
        print(f"skipped   {name}: {verdict[5:]}", flush=True)
    else:
        print(f"caught    {name}  by {verdict}", flush=True)


def run_config(binary, files, only, jobs):
    muts = config_mutants(config_keys(binary))
    if only:
        muts = [m for m in muts if m[0] in only]
    scratch_root = tempfile.mkdtemp(prefix="nacos-mut-cfg-")
    results = {}

    def work(i_m):
        i, (key, value) = i_m
        scratch = os.path.join(scratch_root, str(i))
        os.makedirs(scratch)
        return judge(binary, files, lambda t: with_config(t, key, value), scratch)

    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        for (i, m), verdict in zip(enumerate(muts), ex.map(work, enumerate(muts))):
            proof = EQUIVALENT.get(m)
            results[m] = "equivalent" if verdict is None and proof else verdict
            report(f"{m[0]} = {m[1]}", verdict, proof)
    shutil.rmtree(scratch_root, ignore_errors=True)
    return results


def run_code(files_rel, jobs, only=None):
    work = tempfile.mkdtemp(prefix="nacos-mut-code-")
    target = os.environ.get("MUTANTS_TARGET_DIR", os.path.join(ROOT, "target", "mutants"))
    subprocess.run(
        ["git", "-C", ROOT, "worktree", "add", "--detach", "-f", work, "HEAD"],
        check=True,
        capture_output=True,
    )
    # The working tree's uncommitted changes are mutated too.
    diff = subprocess.run(["git", "-C", ROOT, "diff", "HEAD"], capture_output=True).stdout
    if diff:
        subprocess.run(["git", "-C", work, "apply"], input=diff, check=True)
    results = {}
    try:
        for name, rel, pat, rep in CODE_MUTANTS:
            if only and only not in name:
                continue
            path = os.path.join(work, rel)
            with open(path) as f:
                orig = f.read()
            if orig.count(pat) != 1:
                print(f"stale     {name}: pattern found {orig.count(pat)} times in {rel}")
                results[name] = "stale"
                continue
            with open(path, "w") as f:
                f.write(orig.replace(pat, rep))
            b = subprocess.run(
                ["cargo", "build", "--release", "--quiet", "--bin", "nacos-sim"],
                cwd=work,
                env={**os.environ, "CARGO_TARGET_DIR": target},
                capture_output=True,
                text=True,
            )
            with open(path, "w") as f:
                f.write(orig)
            if b.returncode != 0:
                print(f"unbuilt   {name}:\n{b.stderr[-2000:]}")
                results[name] = "unbuilt"
                continue
            binary = os.path.join(target, "release", "nacos-sim")
            scratch = tempfile.mkdtemp(prefix="nacos-mut-run-")
            files = [os.path.join(work, f) for f in files_rel]
            verdict = judge(binary, files, lambda t: t, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            results[name] = verdict
            report(name, verdict)
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", work], capture_output=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config-only", action="store_true")
    ap.add_argument("--code-only", action="store_true")
    ap.add_argument("--keys", help="only these config keys (comma-separated)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only", help="only the code mutants whose name contains this text")
    a = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "nacos-sim")
    files = scenario_files(ROOT)
    survived = 0
    equivalent = 0
    total = 0
    if not a.code_only:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "nacos-sim"], cwd=ROOT, check=True)
        only = set(a.keys.split(",")) if a.keys else None
        r = run_config(binary, files, only, a.jobs)
        survived += sum(v is None for v in r.values())
        equivalent = sum(v == "equivalent" for v in r.values())
        total += len(r)
    if not a.config_only:
        r = run_code([os.path.relpath(f, ROOT) for f in files], a.jobs, a.only)
        survived += sum(v is None or v in ("stale", "unbuilt") for v in r.values())
        total += len(r)
    print(
        f"\n{total} mutants, {survived} survived or could not be judged"
        + (f", {equivalent} proved equivalent (see EQUIVALENT in {os.path.relpath(__file__, ROOT)})" if equivalent else "")
    )
    sys.exit(1 if survived else 0)


if __name__ == "__main__":
    main()
