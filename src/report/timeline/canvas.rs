//! The drawing surface of the timeline: the SVG text being written, the model and scale it
//! draws, and the primitives every part of the picture uses (text, rectangles, diamonds, time
//! to x, escaping and fitting text).

use super::scale::Scale;
use super::Model;
use std::fmt::Write as _;

/// Escapes text for SVG/HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Cuts text to about `px` pixels at font size `size`, with an ellipsis.
pub(super) fn fit(s: &str, px: f64, size: f64) -> String {
    let max = (px / (size * 0.56)).floor().max(0.0) as usize;
    if s.chars().count() <= max {
        s.to_string()
    } else if max < 2 {
        String::new()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

pub(super) fn text_w(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.56
}

pub(super) fn secs(us: u64) -> String {
    format!("{:.3}s", us as f64 / 1e6)
}

/// A tick label, in seconds as the text outcome writes its times: `0.5s`, `15s`, `90s`, `600s`.
pub(super) fn tick_label(us: u64) -> String {
    let ms = us / 1000;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

/// The picture being drawn: the model, its time scale, and the SVG text so far.
pub(super) struct Canvas<'m> {
    pub(super) m: &'m Model<'m>,
    pub(super) scale: Scale,
    pub(super) s: String,
}

impl Canvas<'_> {
    pub(super) fn x(&self, t: u64) -> f64 {
        self.scale.x(t)
    }

    /// Where a label for something starting at `t` goes: just after it, or after the squeezed
    /// quiet stretch it starts in.
    pub(super) fn label_x(&self, t: u64) -> f64 {
        let t = self
            .m
            .gaps
            .iter()
            .find(|g| t >= g.0 && t < g.1)
            .map_or(t, |g| g.1);
        self.x(t) + 3.0
    }

    pub(super) fn text(&mut self, x: f64, y: f64, class: &str, body: &str) {
        let _ = write!(
            self.s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" class=\"{class}\">{}</text>",
            esc(body)
        );
    }

    /// A rectangle with a tooltip (`title` empty: none).
    pub(super) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str, title: &str) {
        let _ = write!(
            self.s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" {attrs}",
            w.max(0.8)
        );
        if title.is_empty() {
            self.s.push_str("/>");
        } else {
            let _ = write!(self.s, "><title>{}</title></rect>", esc(title));
        }
    }

    /// A diamond centred on (x, y) with half-diagonal r.
    pub(super) fn diamond(&mut self, x: f64, y: f64, r: f64, fill: &str, title: &str) {
        let _ = write!(
            self.s,
            "<path d=\"M{x:.1} {:.1}l{r} {r}l-{r} {r}l-{r} -{r}z\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\".6\">",
            y - r
        );
        if !title.is_empty() {
            let _ = write!(self.s, "<title>{}</title>", esc(title));
        }
        self.s.push_str("</path>");
    }
}
