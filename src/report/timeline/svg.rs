//! Draws the timeline [`Model`] as hand-written SVG. Layout, top to bottom: header (result,
//! failed checks), time axis, check windows, network faults, anomalies, the lanes (`lanes.rs`)
//! and a legend. Quiet stretches of the run are squeezed (`scale.rs`) so the width goes to the
//! seconds where things happen.

use super::canvas::{esc, fit, secs, text_w, tick_label, Canvas};
use super::scale::{Scale, GAP_PX, GUT, PW, W};
use super::*;
use crate::report::Outcome;
use std::fmt::Write as _;

impl Canvas<'_> {
    pub(super) fn header(&mut self, y: &mut f64) {
        let o = self.m.o;
        let failed: Vec<&CheckMark> = self.m.checks.iter().filter(|c| !c.passed).collect();
        self.text(8.0, 24.0, "h1", &o.scenario);
        let sub = format!(
            "seed {}  ·  {} of virtual time  ·  {} events  ·  {} messages",
            o.seed,
            tick_label(o.duration_ms * 1000),
            o.events.len(),
            o.messages
        );
        let x = 16.0 + text_w(&o.scenario, 18.0);
        self.text(x, 24.0, "sub", &sub);
        let skipped = o.checks.iter().filter(|c| c.skipped()).count();
        let judged = o.checks.len() - skipped;
        let (mut badge, color) = if o.passed {
            (format!("PASS  {judged} checks"), "#1e8449")
        } else {
            (
                format!("FAIL  {} of {judged} checks", failed.len()),
                "#c0392b",
            )
        };
        if skipped > 0 {
            badge.push_str(&format!(", {skipped} not judged"));
        }
        let bw = text_w(&badge, 14.0) + 20.0;
        self.rect(
            W - bw - 8.0,
            8.0,
            bw,
            22.0,
            &format!("rx=\"4\" fill=\"{color}\""),
            "",
        );
        self.text(W - bw + 2.0, 24.0, "badge", &badge);
        *y = 42.0;
        let _ = write!(self.s, "<g><title>{}</title>", esc(&o.about));
        self.text(8.0, *y, "about", &fit(&o.about, W - 16.0, 11.0));
        self.s.push_str("</g>");
        *y += 16.0;
        if let Some(p) = &o.panic {
            self.text(
                8.0,
                *y,
                "bad",
                &fit(&format!("PANIC in the simulation: {p}"), W - 16.0, 11.0),
            );
            *y += 15.0;
        }
        for c in failed {
            let line = format!("✗{} {}  —  {}", c.n, c.name, c.detail);
            let _ = write!(
                self.s,
                "<g class=\"failed-check\"><title>{}</title>",
                esc(&line)
            );
            self.text(8.0, *y, "bad", &fit(&line, W - 16.0, 11.0));
            self.s.push_str("</g>");
            *y += 15.0;
        }
        *y += 4.0;
    }

    pub(super) fn axis(&mut self, y: f64, bottom: f64) {
        let m = self.m;
        let squeezed: u64 = m.gaps.iter().map(|g| g.1 - g.0).sum();
        let open = (m.end_us - squeezed).max(1) as f64;
        let px_per_us = (PW - GAP_PX * m.gaps.len() as f64) / open;
        let steps: [u64; 19] = [
            100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
            600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000,
        ];
        let step = steps
            .iter()
            .map(|ms| ms * 1000)
            .find(|s| *s as f64 * px_per_us >= 70.0)
            .unwrap_or(86_400_000_000);
        self.s.push_str("<g class=\"axis\">");
        let mut last_end = f64::MIN;
        for t in (0..=m.end_us).step_by(step as usize) {
            if m.gaps.iter().any(|g| t > g.0 && t < g.1) {
                continue;
            }
            let x = self.x(t);
            let label = tick_label(t);
            let lx = if t == 0 {
                x
            } else {
                x - text_w(&label, 11.0) / 2.0
            };
            if lx < last_end + 6.0 {
                continue;
            }
            last_end = lx + text_w(&label, 11.0);
            let _ = write!(
                self.s,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" class=\"grid\"/>",
                y + 4.0
            );
            self.text(lx, y, "tick", &label);
        }
        self.s.push_str("</g>");
    }

    /// Squeezed quiet stretches: a pale band over everything, saying how long it was.
    pub(super) fn gaps(&mut self, axis: f64, top: f64, bottom: f64) {
        for &(a, b) in &self.m.gaps {
            let (x0, x1) = (self.x(a), self.x(b));
            for x in [x0, x1] {
                let _ = write!(
                    self.s,
                    "<line x1=\"{x:.1}\" y1=\"{axis:.1}\" x2=\"{x:.1}\" y2=\"{top:.1}\" class=\"gapline\"/>"
                );
            }
            let title = format!(
                "{} to {}: nothing logged, squeezed to {GAP_PX} px",
                secs(a),
                secs(b)
            );
            self.rect(x0, top, x1 - x0, bottom - top, "class=\"gap\"", &title);
            let (cx, cy) = ((x0 + x1) / 2.0 - 3.0, top + 6.0);
            let _ = write!(
                self.s,
                "<text x=\"{cx:.1}\" y=\"{cy:.1}\" class=\"gaplabel\" transform=\"rotate(90 {cx:.1} {cy:.1})\">{} quiet</text>",
                esc(&tick_label((b - a) / 1_000_000 * 1_000_000))
            );
        }
    }

    /// Greedy packing of [x0, x1] extents into rows; returns each item's row.
    pub(super) fn pack(extents: &[(f64, f64)]) -> Vec<usize> {
        let mut ends: Vec<f64> = vec![];
        extents
            .iter()
            .map(|(a, b)| match ends.iter().position(|e| *e + 4.0 < *a) {
                Some(r) => {
                    ends[r] = *b;
                    r
                }
                None => {
                    ends.push(*b);
                    ends.len() - 1
                }
            })
            .collect()
    }

    pub(super) fn gutter(&mut self, y: f64, label: &str) {
        self.text(8.0, y, "glabel", label);
    }

    /// One line per check that names a time: its window and the times its detail names.
    pub(super) fn checks_row(&mut self, y: &mut f64) {
        let items: Vec<&CheckMark> = self
            .m
            .checks
            .iter()
            .filter(|c| c.window.is_some() || !c.points.is_empty())
            .collect();
        if items.is_empty() {
            return;
        }
        // Each item: its extent for packing and where its label starts (right of the bar, or
        // left of it when it would run off the picture).
        let placed: Vec<((f64, f64), f64)> = items
            .iter()
            .map(|c| {
                let (a, b) = c.window.unwrap_or_else(|| (c.points[0], c.points[0]));
                let lo = c.points.iter().copied().chain([a]).min().unwrap_or(a);
                let hi = c.points.iter().copied().chain([b]).max().unwrap_or(b);
                let (x0, x1) = (self.x(lo) - 4.0, self.x(hi) + 4.0);
                let lw = text_w(&Self::check_label(c), 9.0);
                if x1 + lw + 2.0 < W - 4.0 {
                    ((x0, x1 + lw + 2.0), x1 + 1.0)
                } else {
                    ((x0 - lw - 2.0, x1), x0 - lw - 1.0)
                }
            })
            .collect();
        let ext: Vec<(f64, f64)> = placed.iter().map(|p| p.0).collect();
        let rows = Self::pack(&ext);
        self.gutter(*y + 9.0, "checks");
        for (i, c) in items.iter().enumerate() {
            let cy = *y + rows[i] as f64 * 13.0 + 3.0;
            let color = if c.passed { "#27ae60" } else { "#e74c3c" };
            let title = format!(
                "{} {}: {} — {}",
                if c.passed { "PASS" } else { "FAIL" },
                c.n,
                c.name,
                c.detail
            );
            let _ = write!(
                self.s,
                "<g class=\"check {}\">",
                if c.passed { "pass" } else { "fail" }
            );
            if let Some((a, b)) = c.window {
                let (x0, x1) = (self.x(a), self.x(b));
                self.rect(
                    x0,
                    cy + 1.0,
                    (x1 - x0).max(2.0),
                    6.0,
                    &format!("fill=\"{color}\" fill-opacity=\".35\" stroke=\"{color}\""),
                    &title,
                );
            }
            for &p in &c.points {
                let px = self.x(p);
                self.diamond(px, cy + 4.0, 4.0, color, &title);
            }
            let lx = placed[i].1;
            let class = if c.passed { "ckpass" } else { "ckfail" };
            self.text(lx, cy + 8.0, class, &Self::check_label(c));
            self.s.push_str("</g>");
        }
        *y += (rows.iter().max().unwrap_or(&0) + 1) as f64 * 13.0 + 4.0;
    }

    pub(super) fn check_label(c: &CheckMark) -> String {
        format!(
            "{}{} {}",
            if c.passed { "✓" } else { "✗" },
            c.n,
            fit(&c.name, 260.0, 9.0)
        )
    }

    pub(super) fn net_row(&mut self, y: &mut f64) {
        if self.m.net.is_empty() {
            return;
        }
        let ext: Vec<(f64, f64)> = self
            .m
            .net
            .iter()
            .map(|s| {
                (
                    self.x(s.t0),
                    self.x(s.t1)
                        .max(self.x(s.t0) + text_w(&s.label, 9.0) + 6.0)
                        .min(W),
                )
            })
            .collect();
        let rows = Self::pack(&ext);
        self.gutter(*y + 10.0, "network");
        for (i, s) in self.m.net.iter().enumerate() {
            let ry = *y + rows[i] as f64 * 14.0 + 2.0;
            let (x0, x1) = (self.x(s.t0), self.x(s.t1));
            let title = format!("{} from {} to {}", s.label, secs(s.t0), secs(s.t1));
            self.rect(x0, ry, x1 - x0, 12.0, "class=\"net\"", &title);
            // The label starts at the fault; one that would run past the right edge is cut
            // with an ellipsis, and the whole of it stays in the tooltip.
            let lx = self.label_x(s.t0).min(W - 40.0);
            let shown = fit(&s.label, W - 4.0 - lx, 9.0);
            if shown == s.label {
                self.text(lx, ry + 9.0, "netlabel", &s.label);
            } else {
                let _ = write!(self.s, "<g><title>{}</title>", esc(&title));
                self.text(lx, ry + 9.0, "netlabel", &shown);
                self.s.push_str("</g>");
            }
        }
        *y += (rows.iter().max().unwrap_or(&0) + 1) as f64 * 14.0 + 4.0;
    }

    pub(super) fn anomaly_row(&mut self, y: &mut f64) {
        let pts: Vec<&Point> = self
            .m
            .anomalies
            .iter()
            .filter(|p| p.lanes.is_empty())
            .collect();
        if pts.is_empty() {
            return;
        }
        self.gutter(*y + 10.0, "anomalies");
        let ext: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| {
                let x = self.x(p.t);
                let w = text_w(&p.label, 9.0) + 10.0;
                if x + w > W {
                    (x - w, x + 4.0)
                } else {
                    (x - 4.0, x + w)
                }
            })
            .collect();
        let rows = Self::pack(&ext);
        for (i, p) in pts.iter().enumerate() {
            let ry = *y + rows[i] as f64 * 13.0 + 7.0;
            let x = self.x(p.t);
            self.diamond(x, ry, 4.5, "#c0392b", &p.text);
            let lx = if ext[i].0 < x - 5.0 {
                ext[i].0
            } else {
                x + 6.0
            };
            self.text(lx, ry + 3.0, "anom", &p.label);
        }
        *y += (rows.iter().max().unwrap_or(&0) + 1) as f64 * 13.0 + 4.0;
    }
}

const STYLE: &str = "text{font-family:Helvetica,Arial,sans-serif}\
.h1{font-size:18px;font-weight:bold;fill:#17202a}.sub{font-size:12px;fill:#566573}\
.badge{font-size:14px;font-weight:bold;fill:#fff}.about{font-size:11px;fill:#566573}\
.bad{font-size:11px;fill:#c0392b;font-weight:bold}.tick{font-size:11px;fill:#566573}\
.grid{stroke:#d5d8dc;stroke-width:.6}.sep{stroke:#d5d8dc;stroke-width:.8}\
.glabel{font-size:11px;fill:#566573;font-style:italic}.lname{font-size:13px;font-weight:bold;fill:#17202a}\
.cname{font-size:11px;font-weight:bold;fill:#34495e}.addr{font-size:9px;fill:#808b96}\
.rlabel{font-size:9px;fill:#808b96;text-anchor:end}.note{font-size:10px;fill:#808b96}.rowline{stroke:#e5e8e8;stroke-width:1}\
.healthy{fill:#27ae60}.unhealthy{fill:#e67e22}.view{fill:#aed6f1}.calls{fill:#d5f5e3}.failing{fill:#c0392b}.empty{fill:#fadbd8;stroke:#e74c3c;stroke-width:.5}\
.count{font-size:7px;fill:#1b4f72}.leader{fill:#f4d03f;stroke:#b7950b;stroke-width:.6}\
.candidate{fill:#f0b27a}.rolelabel{font-size:8px;font-weight:bold;fill:#7d6608}\
.down{fill-opacity:.9}.shlabel{font-size:10px;font-weight:bold;paint-order:stroke;stroke:#fff;stroke-width:3px}\
.net{fill:#d7bde2;stroke:#8e44ad;stroke-width:.5}.netlabel{font-size:9px;fill:#4a235a}\
.ckpass{font-size:9px;fill:#1e8449}.ckfail{font-size:9px;fill:#c0392b;font-weight:bold;paint-order:stroke;stroke:#fff;stroke-width:3px}\
.failwin{fill:#e74c3c;fill-opacity:.10;stroke:#e74c3c;stroke-dasharray:4 2;stroke-width:1}\
.failpt{fill:#e74c3c;fill-opacity:.7}.anom{font-size:9px;font-weight:bold;fill:#c0392b;paint-order:stroke;stroke:#fff;stroke-width:3px}\
.leg{font-size:10px;fill:#34495e}\
.gap{fill:#fff;fill-opacity:.8;stroke:#abb2b9;stroke-dasharray:3 3}.gapline{stroke:#abb2b9;stroke-dasharray:3 3}.gaplabel{font-size:10px;fill:#808b96;font-style:italic}";

const DEFS: &str = "<defs>\
<pattern id=\"hatch-down\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
<rect width=\"6\" height=\"6\" fill=\"#cacfd2\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#566573\" stroke-width=\"2.5\"/></pattern>\
<pattern id=\"hatch-pause\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">\
<rect width=\"6\" height=\"6\" fill=\"#ebdef0\" fill-opacity=\".6\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#8e44ad\" stroke-width=\"1.5\"/></pattern>\
</defs>";

/// The timeline as a standalone SVG document.
pub fn render_svg(outcome: &Outcome) -> String {
    let m = Model::new(outcome);
    let mut g = Canvas {
        scale: Scale::new(m.end_us, &m.gaps),
        m: &m,
        s: String::new(),
    };
    let mut y = 0.0;
    g.header(&mut y);
    let axis_y = y + 10.0;
    y = axis_y + 8.0;
    let grid_at = g.s.len();
    g.checks_row(&mut y);
    g.net_row(&mut y);
    g.anomaly_row(&mut y);
    let top = y;
    let mut lanes = vec![];
    for li in 0..m.lanes.len() {
        let r = if li < m.servers {
            g.server_lane(&mut y, li)
        } else {
            g.client_lane(&mut y, li)
        };
        lanes.push(r);
    }
    if m.hidden_services > 0 {
        y += 12.0;
        g.text(
            GUT,
            y,
            "note",
            &format!("(and {} more services not drawn)", m.hidden_services),
        );
    }
    let bottom = y;
    // The grid goes under everything but the header: draw it, then move it before the rows.
    let body = g.s.split_off(grid_at);
    g.axis(axis_y, bottom);
    g.s.push_str(&body);
    g.gaps(axis_y + 4.0, top, bottom);
    g.overlays(&lanes, top, bottom);
    let h = g.legend(bottom + 6.0);
    let mut out = String::with_capacity(g.s.len() + 4096);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h:.0}\" viewBox=\"0 0 {W} {h:.0}\">\
<title>{}</title><style>{STYLE}</style>{DEFS}<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>",
        esc(&format!("nacos-sim timeline: {} seed {}", outcome.scenario, outcome.seed))
    );
    out.push_str(&g.s);
    out.push_str("</svg>\n");
    out
}
