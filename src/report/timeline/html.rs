//! The HTML page around the SVG: every check with its detail, the repro command and how to read
//! the picture.

use super::canvas::esc;
use super::render_svg;
use crate::report::Outcome;
use std::fmt::Write as _;

/// An HTML page: the SVG, every check with its detail, how to read the picture and the repro.
pub fn render_html(outcome: &Outcome) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font-family:Helvetica,Arial,sans-serif;margin:8px;color:#17202a}}\
table{{border-collapse:collapse;font-size:13px;margin:4px 0 12px}}td,th{{padding:3px 8px;border-bottom:1px solid #e5e8e8;text-align:left;vertical-align:top}}\
tr.fail td{{color:#c0392b;font-weight:bold}}td.n{{white-space:nowrap}}h2{{font-size:15px;margin:14px 0 4px}}p,li{{font-size:13px;max-width:1500px}}code{{background:#f2f3f4;padding:1px 4px}}\
</style></head><body>\n",
        esc(&format!("{} seed {}: {}", outcome.scenario, outcome.seed, if outcome.passed { "PASS" } else { "FAIL" }))
    );
    s.push_str(&render_svg(outcome));
    s.push_str(
        "<h2>Checks</h2>\n<table><tr><th></th><th>result</th><th>check</th><th>detail</th></tr>\n",
    );
    for (i, c) in outcome.checks.iter().enumerate() {
        let _ = writeln!(
            s,
            "<tr class=\"{}\"><td class=\"n\">{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if c.passed { "pass" } else { "fail" },
            if c.passed { "✓" } else { "✗" },
            i + 1,
            if c.passed { "PASS" } else { "FAIL" },
            esc(&c.name),
            esc(&c.detail(crate::check::Precision::Ms))
        );
    }
    s.push_str("</table>\n");
    let _ = write!(
        s,
        "<p>Replay this run: <code>{}</code></p>\n<h2>Reading the picture</h2><ul>\
<li>Time runs left to right (virtual time). Each server has a lane: its Raft role on top (yellow = leader, with the term), \
then one band per instance it holds (green healthy, orange unhealthy, none = not held; a red tick where the beat check deleted it), \
then its replication marks (<i>sync</i>: Distro syncs, verifies, forwards, Raft publishes and deletes, triangles where it sees a peer go UP ▲ or SUSPICIOUS/DOWN ▼) and its pushes.</li>\
<li>Each client has a thin lane: its view of each subscribed service (the number is the host count) and its calls; red marks are failed requests.</li>\
<li>Hatched grey = crashed, hatched purple = paused, a coloured tint with a line on top = cut off by a partition (nodes with the same colour are on the same side).</li>\
<li>Check windows are on the <i>checks</i> line; a failed check is red there, listed at the top, and outlined in red over the lanes it names. \
Anomalies found by the always-on checkers are red diamonds where the finding happened.</li>\
<li>Dense marks are counted into 3-pixel buckets (taller = more); hover any mark or band for the events behind it.</li></ul>\n</body></html>\n",
        esc(&outcome.repro())
    );
    s
}
