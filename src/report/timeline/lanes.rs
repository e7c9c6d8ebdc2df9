//! The lanes of the picture: per server its Raft role strip, one health band per instance row,
//! replication and push marks; per client its views and calls; fault shades, failed-check
//! overlays, anomaly points, and the legend that names every colour used here.

use super::canvas::{esc, fit, secs, text_w, Canvas};
use super::scale::{GUT, PW, W};
use super::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Marks closer than this on a strip are drawn as one, with a count.
const BUCKET_PX: f64 = 3.0;
/// Height of one instance, view or mark row.
const ROW_H: f64 = 9.0;

pub(super) fn cut_color(side: usize) -> &'static str {
    [
        "#e67e22", "#16a085", "#8e44ad", "#d35400", "#b7950b", "#2471a3",
    ][side % 6]
}

pub(super) fn cat_color(c: Cat) -> &'static str {
    match c {
        Cat::Sync => "#2e86c1",
        Cat::SyncAux => "#85c1e9",
        Cat::Publish => "#b7950b",
        Cat::RaftDelete => "#a04000",
        Cat::MemberUp => "#1e8449",
        Cat::MemberSuspect => "#f39c12",
        Cat::MemberDown => "#922b21",
        Cat::PushSent => "#a9dfbf",
        Cat::PushAcked => "#229954",
        Cat::Fail => "#e74c3c",
        Cat::Call => "#1f618d",
        Cat::PushRecv => "#52be80",
        Cat::Rereg => "#d35400",
        Cat::Deleted => "#c0392b",
        Cat::Deregistered => "#7f8c8d",
    }
}

pub(super) fn cat_name(c: Cat) -> &'static str {
    match c {
        Cat::Sync => "Distro sync",
        Cat::SyncAux => "Distro verify/load/forward",
        Cat::Publish => "Raft publish",
        Cat::RaftDelete => "Raft delete",
        Cat::MemberUp => "member seen UP",
        Cat::MemberSuspect => "member seen SUSPICIOUS",
        Cat::MemberDown => "member seen DOWN",
        Cat::PushSent => "push sent",
        Cat::PushAcked => "push acked",
        Cat::Fail => "failure",
        Cat::Call => "client call",
        Cat::PushRecv => "push received",
        Cat::Rereg => "re-register",
        Cat::Deleted => "instance deleted",
        Cat::Deregistered => "instance deregistered",
    }
}

/// Marks of one category in one bucket: how many, the first and the last.
type Bucket<'a> = (usize, &'a Mark, &'a Mark);

impl Canvas<'_> {
    pub(super) fn spans(&mut self, y0: f64, h: f64, lane: &Lane) {
        // A grouped clients lane shows its members' faults as a strip at the bottom.
        let (y0, h) = if lane.grouped {
            (y0 + h - 6.0, 6.0)
        } else {
            (y0, h)
        };
        for s in &lane.shades {
            let (x0, x1) = (self.x(s.t0), self.x(s.t1));
            let title = span_title(lane, s);
            let attrs = match s.kind {
                SpanKind::Down => "fill=\"url(#hatch-down)\" class=\"down\"".to_string(),
                SpanKind::Paused => "fill=\"url(#hatch-pause)\" class=\"paused\"".to_string(),
                SpanKind::Cut(side) => format!(
                    "fill=\"{}\" fill-opacity=\".16\" class=\"cut\"",
                    cut_color(side)
                ),
                _ => String::new(),
            };
            self.rect(x0, y0, x1 - x0, h, &attrs, &title);
            if let SpanKind::Cut(side) = s.kind {
                self.rect(
                    x0,
                    y0,
                    x1 - x0,
                    2.0,
                    &format!("fill=\"{}\"", cut_color(side)),
                    "",
                );
            }
        }
    }

    pub(super) fn span_labels(&mut self, y: f64, lane: &Lane) {
        for s in &lane.shades {
            let (x0, x1) = (self.x(s.t0), self.x(s.t1));
            let (class, color) = match s.kind {
                SpanKind::Down => ("shlabel", "#222"),
                SpanKind::Paused => ("shlabel", "#6c3483"),
                SpanKind::Cut(side) => ("shlabel", cut_color(side)),
                _ => continue,
            };
            let label = fit(&s.label, (x1 - x0 - 6.0).max(60.0), 10.0);
            let _ = write!(
                self.s,
                "<text x=\"{:.1}\" y=\"{y:.1}\" class=\"{class}\" fill=\"{color}\">{}</text>",
                self.label_x(s.t0),
                esc(&label)
            );
        }
    }

    pub(super) fn roles(&mut self, y: f64, lane: &Lane) {
        for s in &lane.roles {
            let (x0, x1) = (self.x(s.t0), self.x(s.t1));
            let title = span_title(lane, s);
            let (attrs, h) = match s.kind {
                SpanKind::Leader => ("class=\"leader\"", 10.0),
                _ => ("class=\"candidate\"", 4.0),
            };
            self.rect(x0, y + (10.0 - h) / 2.0, x1 - x0, h, attrs, &title);
            if s.kind == SpanKind::Leader && x1 - x0 > 30.0 {
                let lx = self.label_x(s.t0);
                self.text(lx, y + 8.0, "rolelabel", &fit(&s.label, x1 - lx - 1.0, 8.0));
            }
        }
    }

    /// One health band: segments from state changes (per pixel, worst state wins, when dense).
    pub(super) fn band(&mut self, y: f64, changes: &[(u64, u8, String)]) {
        let end = self.m.end_us;
        let mut segs: Vec<(u64, u64, u8, &str)> = vec![];
        for (i, (t, st, tip)) in changes.iter().enumerate() {
            let t1 = changes.get(i + 1).map_or(end, |c| c.0);
            if *st != GONE && t1 > *t {
                segs.push((*t, t1, *st, tip));
            }
        }
        if segs.len() as f64 > PW / 2.0 {
            // Too many changes to draw one by one: one rect per run of equal pixels.
            let cols = PW as usize;
            let mut px = vec![0u8; cols];
            for (a, b, st, _) in &segs {
                let c0 = ((self.x(*a) - GUT).floor() as usize).min(cols - 1);
                let c1 = ((self.x(*b) - GUT).ceil() as usize).clamp(c0 + 1, cols);
                for p in &mut px[c0..c1] {
                    *p = (*p).max(*st);
                }
            }
            segs.clear();
            let t_of = |c: usize| self.scale.t(GUT + c as f64);
            let mut c = 0;
            while c < cols {
                let st = px[c];
                let mut d = c + 1;
                while d < cols && px[d] == st {
                    d += 1;
                }
                if st != 0 {
                    segs.push((t_of(c), t_of(d), st, "many changes"));
                }
                c = d;
            }
        }
        for (a, b, st, tip) in segs {
            let class = if st == UNHEALTHY {
                "unhealthy"
            } else {
                "healthy"
            };
            let title = format!("{tip} from {} to {}", secs(a), secs(b));
            let (x0, x1) = (self.x(a), self.x(b));
            self.rect(x0, y, x1 - x0, 7.0, &format!("class=\"{class}\""), &title);
        }
    }

    /// Marks counted into buckets; failures drawn last so they stay on top.
    pub(super) fn marks(&mut self, lane: &Lane, row_y: &dyn Fn(MarkRow) -> Option<(f64, f64)>) {
        // (failure?, row, category, bucket) → (count, first, last): failures sort last, on top.
        let mut b: BTreeMap<(bool, MarkRow, Cat, i64), Bucket> = BTreeMap::new();
        for m in &lane.marks {
            let k = ((self.x(m.t) - GUT) / BUCKET_PX).floor() as i64;
            b.entry((m.cat == Cat::Fail, m.row, m.cat, k))
                .and_modify(|e| {
                    e.0 += 1;
                    e.2 = m;
                })
                .or_insert((1, m, m));
        }
        for ((_, row, cat, k), (n, first, last)) in b {
            let Some((y, h)) = row_y(row) else { continue };
            let x = GUT + k as f64 * BUCKET_PX + 0.5;
            let title = if n == 1 {
                format!("{} {}", secs(first.t), first.text)
            } else {
                format!(
                    "{n}× {} from {} to {}; first: {}",
                    cat_name(cat),
                    secs(first.t),
                    secs(last.t),
                    first.text
                )
            };
            self.mark_shape(cat, x, y, h, n, &title);
        }
    }

    /// One mark (or bucket of `n` marks) of a category, in its shape, at (x, y) in a row `h` high.
    fn mark_shape(&mut self, cat: Cat, x: f64, y: f64, h: f64, n: usize, title: &str) {
        let color = cat_color(cat);
        let tip = if title.is_empty() {
            String::new()
        } else {
            format!("<title>{}</title>", esc(title))
        };
        let (cx, cy) = (x + 1.0, y + h / 2.0);
        match cat {
            Cat::MemberUp | Cat::MemberSuspect | Cat::MemberDown => {
                // A triangle pointing the way the peer went: up for UP, down otherwise.
                let r = 3.5;
                let d = if cat == Cat::MemberUp {
                    format!("M{cx:.1} {:.1}l{r} 7h-7z", cy - r)
                } else {
                    format!("M{cx:.1} {:.1}l{r} -7h-7z", cy + r)
                };
                let _ = write!(self.s, "<path d=\"{d}\" fill=\"{color}\">{tip}</path>");
            }
            Cat::Rereg => self.diamond(cx, cy, 3.5, color, title),
            Cat::Call => {
                let _ = write!(
                    self.s,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" fill=\"{color}\">{tip}</circle>"
                );
            }
            Cat::Deleted | Cat::Deregistered => self.rect(
                x,
                y - 2.0,
                2.0,
                h + 4.0,
                &format!("fill=\"{color}\""),
                title,
            ),
            _ => {
                let f = (0.5 + 0.17 * (n as f64).ln()).min(1.0);
                let fill = format!("fill=\"{color}\"");
                self.rect(x, y + h * (1.0 - f), 2.0, h * f, &fill, title)
            }
        }
    }

    pub(super) fn server_lane(&mut self, y: &mut f64, li: usize) -> (f64, f64) {
        let lane = &self.m.lanes[li];
        let rows = self.m.rows.len();
        let h = 16.0 + rows as f64 * ROW_H + 22.0;
        let y0 = *y;
        self.lane_bg(y0, h, li);
        self.spans(y0, h, lane);
        self.text(8.0, y0 + 13.0, "lname", &lane.name);
        self.text(8.0, y0 + 25.0, "addr", &lane.addr);
        self.roles(y0 + 3.0, lane);
        let ry = y0 + 16.0;
        for (r, label) in self.m.rows.iter().enumerate() {
            let by = ry + r as f64 * ROW_H;
            let _ = write!(
                self.s,
                "<line x1=\"{GUT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"rowline\"/>",
                by + 3.5,
                GUT + PW,
                by + 3.5
            );
            self.text(GUT - 6.0, by + 7.5, "rlabel", &fit(label, GUT - 80.0, 9.0));
            self.band(by, &lane.health[r]);
        }
        let my = ry + rows as f64 * ROW_H + 2.0;
        self.text(GUT - 6.0, my + 7.5, "rlabel", "sync");
        self.text(GUT - 6.0, my + 17.5, "rlabel", "push");
        let row_y = move |r: MarkRow| match r {
            MarkRow::Sync => Some((my, 8.0)),
            MarkRow::Push => Some((my + 10.0, 8.0)),
            MarkRow::Inst(i) => Some((ry + i as f64 * ROW_H, 7.0)),
            MarkRow::Client => None,
        };
        self.marks(lane, &row_y);
        self.span_labels(y0 + h - 3.0, lane);
        *y += h;
        (y0, h)
    }

    pub(super) fn client_lane(&mut self, y: &mut f64, li: usize) -> (f64, f64) {
        let lane = &self.m.lanes[li];
        let views = lane.views.len() + lane.traffic.len();
        let h = 6.0 + views as f64 * ROW_H + 14.0;
        let y0 = *y;
        self.lane_bg(y0, h, li);
        self.spans(y0, h, lane);
        self.text(8.0, y0 + 13.0, "cname", &lane.name);
        for (v, (svc, changes)) in lane.views.iter().enumerate() {
            let vy = y0 + 4.0 + v as f64 * ROW_H;
            let label = format!("{} hosts", fit(svc, 80.0, 9.0));
            self.text(GUT - 6.0, vy + 7.5, "rlabel", &label);
            for (i, (t, n, tip)) in changes.iter().enumerate() {
                let t1 = changes.get(i + 1).map_or(self.m.end_us, |c| c.0);
                let (x0, x1) = (self.x(*t), self.x(t1));
                let class = if *n == 0 { "empty" } else { "view" };
                let title = format!("{tip} from {} to {}", secs(*t), secs(t1));
                self.rect(x0, vy, x1 - x0, 7.0, &format!("class=\"{class}\""), &title);
                if x1 - x0 > 14.0 {
                    self.text(x0 + 2.0, vy + 6.5, "count", &n.to_string());
                }
            }
        }
        for (v, (svc, buckets)) in lane.traffic.iter().enumerate() {
            let vy = y0 + 4.0 + (lane.views.len() + v) as f64 * ROW_H;
            let label = format!("{} calls", fit(short_svc(svc), 80.0, 9.0));
            self.text(GUT - 6.0, vy + 7.5, "rlabel", &label);
            self.traffic_band(vy, buckets);
        }
        let my = y0 + 6.0 + views as f64 * ROW_H;
        let row_y = move |r: MarkRow| (r == MarkRow::Client).then_some((my, 8.0));
        self.marks(lane, &row_y);
        self.span_labels(y0 + h - 2.0, lane);
        *y += h;
        (y0, h)
    }

    /// A consumer's calls, one segment per second (issue 13): pale while calls succeed, red
    /// with the share of failed calls as its opacity; equal neighbours are merged.
    fn traffic_band(&mut self, y: f64, buckets: &[(u32, u32)]) {
        const PER: usize = 10; // 100 ms buckets per segment
        let mut segs: Vec<(u64, u64, u32, u32)> = vec![];
        for (i, chunk) in buckets.chunks(PER).enumerate() {
            let (calls, failed) = chunk.iter().fold((0, 0), |(c, f), (a, b)| (c + a, f + b));
            let (t0, t1) = (i as u64 * 1_000_000, (i as u64 + 1) * 1_000_000);
            let tenth = |c: u32, f: u32| if c == 0 { 0 } else { (f * 10).div_ceil(c) };
            match segs.last_mut() {
                Some(s) if s.1 == t0 && tenth(s.2, s.3) == tenth(calls, failed) && calls > 0 => {
                    s.1 = t1;
                    s.2 += calls;
                    s.3 += failed;
                }
                _ if calls > 0 => segs.push((t0, t1, calls, failed)),
                _ => {}
            }
        }
        for (a, b, calls, failed) in segs {
            let b = b.min(self.m.end_us);
            let (x0, x1) = (self.x(a), self.x(b));
            let title = format!(
                "{failed} of {calls} calls failed from {} to {}",
                secs(a),
                secs(b)
            );
            let attrs = if failed == 0 {
                "class=\"calls\"".to_owned()
            } else {
                let share = failed as f64 / calls as f64;
                format!(
                    "class=\"failing\" fill-opacity=\"{:.2}\"",
                    0.2 + 0.8 * share
                )
            };
            self.rect(x0, y, (x1 - x0).max(0.5), 7.0, &attrs, &title);
        }
    }

    pub(super) fn lane_bg(&mut self, y0: f64, h: f64, li: usize) {
        let fill = if li.is_multiple_of(2) {
            "#f6f8fa"
        } else {
            "#ffffff"
        };
        let _ = write!(
            self.s,
            "<rect x=\"0\" y=\"{y0:.1}\" width=\"{W}\" height=\"{h:.1}\" fill=\"{fill}\"/><line x1=\"0\" y1=\"{y0:.1}\" x2=\"{W}\" y2=\"{y0:.1}\" class=\"sep\"/>"
        );
    }

    /// Failed checks over the lanes they name (or all): their window and their times, in red.
    pub(super) fn overlays(&mut self, lanes: &[(f64, f64)], top: f64, bottom: f64) {
        for c in self.m.checks.iter().filter(|c| !c.passed) {
            let ranges: Vec<(f64, f64)> = if c.lanes.is_empty() {
                vec![(top, bottom - top)]
            } else {
                c.lanes.iter().map(|&l| lanes[l]).collect()
            };
            let title = format!("FAIL {}: {} — {}", c.n, c.name, c.detail);
            let _ = write!(self.s, "<g class=\"fail-overlay\">");
            let label_y = ranges.first().map_or(top, |r| r.0) + 11.0;
            for (y0, h) in ranges {
                if let Some((a, b)) = c.window {
                    let (x0, x1) = (self.x(a), self.x(b));
                    self.rect(x0, y0, (x1 - x0).max(2.0), h, "class=\"failwin\"", &title);
                }
                for &p in &c.points {
                    let x = self.x(p);
                    self.rect(x - 1.0, y0, 2.0, h, "class=\"failpt\"", &title);
                }
            }
            let lx = c.window.map(|w| w.0).or(c.points.first().copied());
            if let Some(t) = lx {
                let x = self.x(t);
                self.text(x + 3.0, label_y, "ckfail", &format!("✗{}", c.n));
            }
            self.s.push_str("</g>");
        }
        // Anomaly findings on their lanes; a run of close points of one kind gets one label,
        // after its last point, so no label hides a point.
        let mut runs: BTreeMap<(usize, &str), Vec<f64>> = BTreeMap::new();
        for p in self.m.anomalies.iter().filter(|p| !p.lanes.is_empty()) {
            for &l in &p.lanes {
                let x = self.x(p.t);
                let title = format!("anomaly {} at {}: {}", p.label, secs(p.t), p.text);
                self.diamond(x, lanes[l].0 + 8.0, 5.0, "#c0392b", &title);
                runs.entry((l, p.label.as_str())).or_default().push(x);
            }
        }
        for ((l, label), mut xs) in runs {
            xs.sort_by(f64::total_cmp);
            let w = text_w(label, 9.0);
            for (i, &x) in xs.iter().enumerate() {
                let last = xs.get(i + 1).is_none_or(|next| next - x > w + 16.0);
                if last {
                    let lx = if x + 7.0 + w > W {
                        x - 7.0 - w
                    } else {
                        x + 7.0
                    };
                    self.text(lx, lanes[l].0 + 11.0, "anom", label);
                }
            }
        }
    }

    pub(super) fn legend(&mut self, y: f64) -> f64 {
        let items: Vec<(&str, String)> = vec![
            ("healthy instance", "class=\"healthy\"".into()),
            ("unhealthy instance", "class=\"unhealthy\"".into()),
            ("crashed", "fill=\"url(#hatch-down)\"".into()),
            ("paused", "fill=\"url(#hatch-pause)\"".into()),
            (
                "partition side A",
                format!("fill=\"{}\" fill-opacity=\".4\"", cut_color(0)),
            ),
            (
                "side B",
                format!("fill=\"{}\" fill-opacity=\".4\"", cut_color(1)),
            ),
            ("Raft leader", "class=\"leader\"".into()),
            ("candidate", "class=\"candidate\"".into()),
            ("client's view (hosts)", "class=\"view\"".into()),
            ("failed check window", "class=\"failwin\"".into()),
        ];
        let cats = [
            Cat::Sync,
            Cat::SyncAux,
            Cat::Publish,
            Cat::RaftDelete,
            Cat::MemberDown,
            Cat::MemberUp,
            Cat::MemberSuspect,
            Cat::PushSent,
            Cat::PushAcked,
            Cat::Call,
            Cat::Rereg,
            Cat::Deleted,
            Cat::Fail,
        ];
        let mut x = 8.0;
        let mut ly = y + 14.0;
        let next = |w: f64, x: &mut f64, ly: &mut f64| {
            if *x + w > W - 8.0 {
                *x = 8.0;
                *ly += 16.0;
            }
            let at = (*x, *ly);
            *x += w;
            at
        };
        self.s.push_str("<g class=\"legend\">");
        for (label, attrs) in items {
            let (lx, yy) = next(24.0 + text_w(label, 10.0) + 14.0, &mut x, &mut ly);
            self.rect(lx, yy - 9.0, 18.0, 10.0, &attrs, "");
            self.text(lx + 22.0, yy, "leg", label);
        }
        for c in cats {
            let label = cat_name(c);
            let (lx, yy) = next(12.0 + text_w(label, 10.0) + 14.0, &mut x, &mut ly);
            self.mark_shape(c, lx + 2.0, yy - 9.0, 9.0, 8, "");
            self.text(lx + 12.0, yy, "leg", label);
        }
        let (lx, yy) = next(200.0, &mut x, &mut ly);
        self.diamond(lx + 6.0, yy - 4.0, 5.0, "#c0392b", "");
        self.text(lx + 14.0, yy, "leg", "anomaly (checker finding)");
        self.s.push_str("</g>");
        ly + 10.0
    }
}

/// The tooltip of a shade or role span on a lane.
fn span_title(lane: &Lane, s: &Span) -> String {
    format!(
        "{}: {} from {} to {}",
        lane.name,
        s.label,
        secs(s.t0),
        secs(s.t1)
    )
}
