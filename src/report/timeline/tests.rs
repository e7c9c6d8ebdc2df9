//! Unit tests of the timeline: the text readers, the scale, and pictures of real runs checked
//! against the coordinates the scale gives (which integration tests cannot see).

use super::scale::{Scale, GUT, PW};
use super::*;

/// The repro of issue 11: a failed check with its own `name` keeps its window and its mark.
#[test]
fn a_named_failed_check_keeps_its_window_and_is_not_squeezed() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/heartbeat-expiry.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let last = text.rfind("[[expect]]").unwrap();
    let edited = format!(
        "{}[[expect]]\nname = \"server keeps nothing\"\n{}",
        &text[..last],
        text[last + "[[expect]]".len()..]
            .trim_start()
            .replace("instances = []", "instances = [\"10.0.0.10:8080\"]")
    );
    let sc = crate::scenario::parse(&edited, "named.toml").unwrap();
    let o = crate::sim::run(&sc, sc.seed).0;
    let c = o
        .checks
        .iter()
        .position(|c| c.name == "server keeps nothing")
        .unwrap();
    assert!(!o.checks[c].passed);
    let m = Model::new(&o);
    let mark = &m.checks[c];
    assert_eq!(mark.window, Some((55_000_000, 90_000_000)));
    assert!(
        !mark.points.is_empty(),
        "the sample that broke it is marked"
    );
    let s1 = m.lanes.iter().position(|l| l.name == "s1").unwrap();
    assert_eq!(mark.lanes, vec![s1]);
    for (a, b) in &m.gaps {
        assert!(
            *b <= 55_000_000 || *a >= 90_000_000,
            "gap {a}..{b} squeezes the window"
        );
    }
}

#[test]
fn the_format_follows_the_extension() {
    assert_eq!(Format::of(Path::new("a/b.svg")), Ok(Format::Svg));
    assert_eq!(Format::of(Path::new("b.HTML")), Ok(Format::Html));
    let e = Format::of(Path::new("b.png")).unwrap_err();
    assert!(e.contains(".html or .svg"), "{e}");
    assert!(Format::of(Path::new("noext")).is_err());
}

/// The attributes of every `<rect>` whose `<title>` starts with `title`: (x, width).
fn rects_titled(svg: &str, title: &str) -> Vec<(f64, f64)> {
    let attr = |tag: &str, name: &str| -> f64 {
        let tag = format!(" {tag}");
        let key = format!(" {name}=\"");
        let i = tag.find(&key).expect("attribute") + key.len();
        tag[i..i + tag[i..].find('"').unwrap()].parse().unwrap()
    };
    svg.split("<rect ")
        .skip(1)
        .filter(|r| {
            r.split_once("<title>")
                .is_some_and(|(head, t)| !head.contains("/>") && t.starts_with(title))
        })
        .map(|r| (attr(r, "x"), attr(r, "width")))
        .collect()
}

fn run(path: &str) -> Outcome {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let sc = crate::scenario::load(&path).expect("scenario loads");
    crate::sim::run(&sc, sc.seed).0
}

#[test]
fn the_scale_squeezes_quiet_stretches_and_keeps_order() {
    let s = Scale::new(100, &[(20, 80)]);
    assert_eq!(s.x(0), GUT);
    assert!((s.x(100) - (GUT + PW)).abs() < 1e-9);
    // 40 time units share the width less one squeezed stretch.
    assert!(((s.x(80) - s.x(20)) - super::scale::GAP_PX).abs() < 1e-9);
    let mut last = f64::MIN;
    for t in 0..=100 {
        assert!(s.x(t) >= last, "x goes backwards at {t}");
        last = s.x(t);
        assert!(s.t(s.x(t)).abs_diff(t) <= 1, "t(x({t})) = {}", s.t(s.x(t)));
    }
    let plain = Scale::new(1000, &[]);
    assert!((plain.x(500) - (GUT + PW / 2.0)).abs() < 1e-9);
}

#[test]
fn a_crash_is_shaded_from_the_crash_to_the_restart_on_its_own_lane() {
    let o = run("scenarios/server-restart-load.toml");
    let at = |kind: &str| {
        o.events
            .iter()
            .find(|e| e.kind() == kind && e.node == "s3")
            .unwrap_or_else(|| panic!("no {kind} of s3"))
            .t_us
    };
    let (crash, restart) = (at("fault.crash"), at("fault.restart"));
    let m = Model::new(&o);
    let scale = Scale::new(m.end_us, &m.gaps);
    let svg = render_svg(&o);
    let shades = rects_titled(&svg, "s3: crashed");
    assert_eq!(shades.len(), 1, "one crash shade for s3");
    let (x, w) = shades[0];
    assert!(
        (x - scale.x(crash)).abs() < 0.11,
        "starts at {x}, crash at {}",
        scale.x(crash)
    );
    let end = scale.x(restart);
    assert!(
        (x + w - end).abs() < 0.11,
        "ends at {}, restart at {end}",
        x + w
    );
    assert!(w > 20.0, "a 10 s crash is visible, not a sliver: {w} px");
    // Only s3 crashed.
    for n in ["s1", "s2"] {
        assert!(
            rects_titled(&svg, &format!("{n}: crashed")).is_empty(),
            "{n} shaded"
        );
    }
}

#[test]
fn a_crash_without_restart_is_shaded_to_the_end() {
    let o = run("scenarios/owner-crash-stale-lastbeat.toml");
    let m = Model::new(&o);
    let scale = Scale::new(m.end_us, &m.gaps);
    let crash = o
        .events
        .iter()
        .find(|e| e.kind() == "fault.crash")
        .unwrap()
        .t_us;
    let svg = render_svg(&o);
    let shades = rects_titled(&svg, "s1: crashed");
    assert_eq!(shades.len(), 1);
    let (x, w) = shades[0];
    assert!((x - scale.x(crash)).abs() < 0.11);
    assert!(
        (x + w - (GUT + PW)).abs() < 0.11,
        "down until the end of the run"
    );
    // The minute before the crash is quiet and squeezed, so the crash gets the width.
    assert!(!m.gaps.is_empty(), "no quiet stretch found");
    assert!(x + w - scale.x(crash) > PW / 3.0);
}

#[test]
fn raft_leaders_are_marked_with_their_term_and_anomalies_where_they_happened() {
    let o = run("scenarios/raft-minority-leader.toml");
    let svg = render_svg(&o);
    // At the scenario's seed s3 leads term 1 and, cut off, s2 leads term 2.
    assert!(!rects_titled(&svg, "s3: leader (elected in term 1)").is_empty());
    assert!(!rects_titled(&svg, "s2: leader (elected in term 2)").is_empty());
    // A dirty write rests on the failed publish on s3: a point there, not at the run's end.
    let publish = o
        .findings
        .iter()
        .find(|f| f.anomaly == crate::trace::Anomaly::DirtyWrite)
        .expect("the scenario's dirty write")
        .points[0]
        .clone();
    assert_eq!(publish.node, "s3");
    let m = Model::new(&o);
    let s3 = m.lanes.iter().position(|l| l.name == "s3").unwrap();
    assert!(m
        .anomalies
        .iter()
        .any(|p| p.label == "dirty_write" && p.t == publish.t_us && p.lanes == vec![s3]));
    let at = format!("{:.3}", publish.t_us as f64 / 1e6);
    assert!(
        svg.contains(&format!("anomaly dirty_write at {at}s")),
        "{at}"
    );
}

#[test]
fn a_big_run_groups_clients_draws_services_and_stays_small() {
    let shape = crate::scenario::BenchShape {
        servers: 3,
        clients: 40,
        instances: 40,
        subscribers: 5,
        services: 4,
        traffic: 0.0,
    };
    let sc = crate::scenario::bench_scenario(shape, std::time::Duration::from_secs(600), 1);
    let o = crate::sim::run(&sc, 1).0;
    let m = Model::new(&o);
    assert_eq!(m.servers, 3);
    assert_eq!(m.lanes.len(), 4, "one lane for all 45 clients");
    assert_eq!(m.lanes[3].name, "45 clients");
    assert_eq!(
        m.rows.len(),
        4,
        "one band per service, not per instance: {:?}",
        m.rows
    );
    let svg = render_svg(&o);
    let marks = svg.matches("<rect ").count();
    assert!(
        svg.len() < 600_000 && marks < 5_000,
        "{} events gave {} bytes and {marks} rects",
        o.events.len(),
        svg.len()
    );
}

/// `no_connect` shades both ends and spans the network row until the heal; a link delay spans
/// the row until `extra = "0s"`; a blocked port shades its server until `unblock_port`; a cut
/// opened after one of them closed keeps its own span.
#[test]
fn link_faults_span_the_network_row_and_shade_their_nodes_until_undone() {
    let src = "name = \"t\"\nabout = \"t\"\nduration = \"40s\"\n[cluster]\nservers = 3\n\
        [[step]]\nat = \"5s\"\nno_connect = { from = \"s1\", to = \"s2\", mode = \"refused\" }\n\
        [[step]]\nat = \"6s\"\ndelay = { from = \"s2\", to = \"s3\", extra = \"1.5s\" }\n\
        [[step]]\nat = \"7s\"\nblock_port = { node = \"s3\", port = 7848 }\n\
        [[step]]\nat = \"10s\"\ndelay = { from = \"s2\", to = \"s3\", extra = \"0s\" }\n\
        [[step]]\nat = \"11s\"\none_way = { from = \"s3\", to = \"s1\" }\n\
        [[step]]\nat = \"12s\"\nunblock_port = { node = \"s3\", port = 7848 }\n\
        [[step]]\nat = \"20s\"\nheal = true\n";
    let sc = crate::scenario::parse(src, "t.toml").unwrap();
    let o = crate::sim::run(&sc, 1).0;
    let m = Model::new(&o);
    let net = |label: &str| -> (u64, u64) {
        let s = m.net.iter().find(|s| s.label == label);
        let s = s.unwrap_or_else(|| panic!("no {label:?} in {:?}", m.net));
        (s.t0 / 1_000_000, s.t1 / 1_000_000)
    };
    assert_eq!(net("no_connect s1 → s2 (refused)"), (5, 20));
    assert_eq!(net("s2 → s3 delayed +1.5s"), (6, 10));
    assert_eq!(net("s3 port 7848 blocked"), (7, 12));
    assert_eq!(net("one-way cut s3 → s1"), (11, 20));
    let shade = |lane: &str, label: &str| -> (u64, u64) {
        let l = m.lanes.iter().find(|l| l.name == lane).unwrap();
        let s = l.shades.iter().find(|s| s.label == label);
        let s = s.unwrap_or_else(|| panic!("no {label:?} on {lane}: {:?}", l.shades));
        (s.t0 / 1_000_000, s.t1 / 1_000_000)
    };
    assert_eq!(shade("s1", "cannot connect to s2 (refused)"), (5, 11));
    assert_eq!(shade("s2", "s1 cannot connect here (refused)"), (5, 20));
    assert_eq!(shade("s3", "port 7848 blocked"), (7, 12));
    assert!(render_svg(&o).contains("s3: port 7848 blocked from 7."));
}

/// Issue 11 part 3: no label of any shipped scenario's picture runs past the right edge; a
/// network-row label that would is cut with an ellipsis and keeps its whole text in a tooltip.
#[test]
fn no_label_runs_past_the_right_edge() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut over = vec![];
    for path in files {
        let o = run(path.to_str().unwrap());
        let svg = render_svg(&o);
        for piece in svg.split("<text ").skip(1) {
            let class = piece
                .split("class=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("");
            if !["netlabel", "ckpass", "ckfail", "anom"].contains(&class) {
                continue;
            }
            let x: f64 = piece["x=\"".len()..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let body = piece
                .split('>')
                .nth(1)
                .unwrap()
                .split("</text")
                .next()
                .unwrap();
            // Every escape `canvas::esc` makes, so that the width is the text's.
            let body = body
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            let end = x + super::canvas::text_w(&body, 9.0);
            if end > super::scale::W + 0.5 {
                over.push(format!("{}: `{body}` ends at {end:.0}", path.display()));
            }
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// A partition that starts a second before the end: its label cannot fit, so it is cut at the
/// right edge and the whole text stays in the tooltip.
#[test]
fn a_network_label_at_the_right_edge_is_elided_with_its_text_in_a_tooltip() {
    let path = std::env::temp_dir().join(format!("edge-label-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        r#"name = "edge"
about = "A partition at the very end"
duration = "60s"
[cluster]
servers = ["alpha-server", "beta-server", "gamma-server"]
[[step]]
at = "59s"
partition = [["alpha-server"], ["beta-server", "gamma-server"]]
"#,
    )
    .unwrap();
    let sc = crate::scenario::load(&path).expect("scenario loads");
    std::fs::remove_file(&path).ok();
    let o = crate::sim::run(&sc, 1).0;
    let svg = render_svg(&o);
    let label = svg
        .split("class=\"netlabel\">")
        .nth(1)
        .and_then(|r| r.split("</text>").next())
        .expect("a network label");
    assert!(label.ends_with('…'), "{label}");
    assert!(
        svg.contains("<g><title>partition [alpha-server] | [beta-server,gamma-server]"),
        "{}",
        &svg[svg.find("netlabel").unwrap() - 300..svg.find("netlabel").unwrap()]
    );
}
