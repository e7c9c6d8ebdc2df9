//! The timeline picture of real runs: a lane per node, failed checks highlighted where they
//! look, byte-identical output, and the `--timeline` option of the command line.
//! (Coordinates of fault shades are checked in src/report/timeline/tests.rs, which can see
//! the time scale.)

use nacos_sim::report::timeline::{render_html, render_svg};
use nacos_sim::scenario;
use std::path::PathBuf;
use std::process::Command;

/// Two expectations that cannot hold: nothing deletes the instance, and the watcher does see it.
const FAILING: &str = r#"
name = "timeline-failing"
about = "s1 crashes and restarts; two expectations cannot hold"
seed = 1
duration = "40s"

[cluster]
servers = 2

[[client]]
name = "p1"

[[client]]
name = "watcher"

[[step]]
at = "1s"
client = "p1"
register = { service = "orders", ip = "10.0.0.11", port = 8080 }

[[step]]
at = "2s"
client = "watcher"
subscribe = { service = "orders" }

[[step]]
at = "10s"
crash = "s1"

[[step]]
at = "20s"
restart = "s1"

[[expect]]
event = "instance.deleted"
within = ["25s", "30s"]

[[expect]]
client = "watcher"
service = "orders"
instances = []
always = ["5s", "35s"]
"#;

fn failing_outcome() -> nacos_sim::Outcome {
    let sc = scenario::parse(FAILING, "timeline-failing.toml").expect("the test scenario loads");
    nacos_sim::sim::run(&sc, sc.seed).0
}

/// Every `<rect>` with `class="{class}"` whose title starts with `title`: (x, y, width, height).
fn rects(svg: &str, class: &str, title: &str) -> Vec<[f64; 4]> {
    svg.split("<rect ")
        .skip(1)
        .filter_map(|r| {
            let (head, rest) = r.split_once('>')?;
            let t = rest.strip_prefix("<title>")?;
            (head.contains(&format!("class=\"{class}\"")) && t.starts_with(title)).then(|| {
                ["x", "y", "width", "height"].map(|a| {
                    let key = format!("{a}=\"");
                    let i = format!(" {head}").find(&format!(" {key}")).expect(a) + key.len();
                    head[i..i + head[i..].find('"').unwrap()].parse().unwrap()
                })
            })
        })
        .collect()
}

/// The text of every `<text class="{class}">`, in document order.
fn texts<'a>(svg: &'a str, class: &str) -> Vec<&'a str> {
    let open = format!("class=\"{class}\">");
    svg.split(&open)
        .skip(1)
        .map(|t| &t[..t.find("</text>").unwrap()])
        .collect()
}

#[test]
fn every_node_gets_a_lane_in_scenario_order() {
    let sc = scenario::load("scenarios/owner-crash-stale-lastbeat.toml".as_ref()).unwrap();
    let o = nacos_sim::sim::run(&sc, sc.seed).0;
    let svg = render_svg(&o);
    assert_eq!(texts(&svg, "lname"), vec!["s1", "s2", "s3"]);
    assert_eq!(
        texts(&svg, "cname"),
        vec!["p1", "p2", "p3", "p4", "consumer"]
    );
    // Each server lane has one band row per instance it could hold.
    let rows = texts(&svg, "rlabel")
        .iter()
        .filter(|t| t.starts_with("orders 10.0.0."))
        .count();
    assert_eq!(rows, 3 * 4);
    // The consumer's view of orders is drawn, and it dips to 3 hosts after the deletes.
    assert!(svg.contains("consumer sees orders = [10.0.0.12:8080,10.0.0.13:8080,10.0.0.14:8080]"));
}

#[test]
fn failed_checks_are_listed_and_outlined_where_they_look() {
    let o = failing_outcome();
    assert!(
        !o.passed,
        "the test scenario must fail:\n{}",
        o.to_text(false)
    );
    let svg = render_svg(&o);
    assert!(svg.contains("FAIL  2 of 3 checks"), "result badge");
    let header = texts(&svg, "bad");
    assert!(
        header[0].starts_with("✗1 instance.deleted within [25s, 30s]  —  never seen"),
        "{header:?}"
    );
    assert!(
        header[1].starts_with("✗2 client watcher sees orders"),
        "{header:?}"
    );
    // Check 1 names no node: its window is outlined over every lane.
    let all = rects(&svg, "failwin", "FAIL 1: instance.deleted");
    assert_eq!(all.len(), 1, "{all:?}");
    // Check 2 is about the watcher: its window is outlined on that lane only, with a
    // mark where it broke.
    let own = rects(&svg, "failwin", "FAIL 2: client watcher");
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(
        own[0][3] < all[0][3] / 3.0,
        "one lane of {}: {own:?}",
        all[0][3]
    );
    assert!(own[0][1] >= all[0][1] && own[0][1] + own[0][3] <= all[0][1] + all[0][3] + 0.1);
    // [5s, 35s] holds [25s, 30s]: the x ranges nest the same way.
    let (a, b) = (all[0], own[0]);
    assert!(b[0] < a[0] && a[0] + a[2] < b[0] + b[2], "{a:?} in {b:?}");
    let broke = rects(&svg, "failpt", "FAIL 2: client watcher");
    assert_eq!(broke.len(), 1);
    // It broke at the first sample of its window (5 s): the mark sits on the window's start.
    assert!((broke[0][0] + 1.0 - b[0]).abs() < 0.2, "{broke:?} vs {b:?}");
    // The passing always-on checks are not outlined.
    assert_eq!(svg.matches("class=\"fail-overlay\"").count(), 2);
    // The crash and the restart of s1 are on the picture too.
    assert_eq!(
        rects(&svg, "down", "s1: crashed from 10.000s to 20.000s").len(),
        1
    );
}

#[test]
fn a_passing_run_has_no_failure_marks() {
    let sc = scenario::load("scenarios/partition-last-arrival-wins.toml".as_ref()).unwrap();
    let o = nacos_sim::sim::run(&sc, sc.seed).0;
    assert!(o.passed);
    let svg = render_svg(&o);
    assert!(svg.contains("PASS  11 checks"));
    assert!(!svg.contains("fail-overlay") && texts(&svg, "bad").is_empty());
    // The isolation of s1 is in the network row and shaded on s1's lane only.
    assert!(svg.contains(">s1 isolated</text>"));
    assert_eq!(rects(&svg, "cut", "s1: isolated").len(), 1);
    assert!(rects(&svg, "cut", "s2:").is_empty());
}

#[test]
fn the_same_outcome_gives_the_same_bytes() {
    let a = failing_outcome();
    let b = failing_outcome();
    assert_eq!(render_svg(&a), render_svg(&a));
    assert_eq!(render_svg(&a), render_svg(&b), "two runs of one seed");
    assert_eq!(render_html(&a), render_html(&b));
}

#[test]
fn the_html_page_embeds_the_picture_the_checks_and_the_repro() {
    let o = failing_outcome();
    let html = render_html(&o);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(html.contains("<h2>Checks</h2>"));
    assert_eq!(html.matches("<tr class=\"fail\">").count(), 2);
    assert!(html.contains("nacos-sim run timeline-failing.toml --seed 1"));
    // Hover titles on marks.
    assert!(html.matches("<title>").count() > 20);
}

fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nacos_sim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nacos-sim"))
        .args(args)
        .output()
        .expect("run nacos-sim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_writes_svg_or_html_and_rejects_other_extensions() {
    let d = out_dir("timeline-cli");
    let png = d.join("out.png");
    let (code, err) = nacos_sim(&[
        "run",
        "scenarios/quickstart.toml",
        "--timeline",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("must end in .html or .svg"), "{err}");
    assert!(!png.exists());

    let svg = d.join("out.svg");
    let (code, err) = nacos_sim(&[
        "run",
        "scenarios/quickstart.toml",
        "--timeline",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("timeline written to {}", svg.display())),
        "{err}"
    );
    let body = std::fs::read_to_string(&svg).unwrap();
    assert!(body.starts_with("<svg ") && body.ends_with("</svg>\n"));

    // A failing run still writes its picture, and exits 1 as before.
    let scen = d.join("failing.toml");
    std::fs::write(&scen, FAILING).unwrap();
    let html = d.join("out.html");
    let (code, err) = nacos_sim(&[
        "run",
        scen.to_str().unwrap(),
        "--format",
        "json",
        "--timeline",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("✗1"));

    // A folder that does not exist is bad input too, with the reason.
    let nowhere = d.join("no/such/dir/out.svg");
    let (code, err) = nacos_sim(&[
        "run",
        "scenarios/quickstart.toml",
        "--timeline",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write"), "{err}");
}
