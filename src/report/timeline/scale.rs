//! Virtual time to x: linear, except the quiet stretches the model found, which are squeezed;
//! and the page's horizontal layout that the mapping fills.

/// Page width.
pub(super) const W: f64 = 1560.0;
/// The left gutter (lane names, row labels): the plot starts here.
pub(super) const GUT: f64 = 200.0;
/// Plot width: the run's whole time span, from `GUT` to a small right margin.
pub(super) const PW: f64 = W - GUT - 14.0;

/// Width a squeezed quiet stretch gets.
pub(super) const GAP_PX: f64 = 26.0;

/// Virtual time to x: linear, except quiet stretches, which get `GAP_PX` each.
pub(super) struct Scale {
    /// (t0, t1, x0, x1) pieces covering [0, end].
    pieces: Vec<(u64, u64, f64, f64)>,
}

impl Scale {
    pub(super) fn new(end: u64, gaps: &[(u64, u64)]) -> Scale {
        let squeezed: u64 = gaps.iter().map(|g| g.1 - g.0).sum();
        let open = (end - squeezed).max(1) as f64;
        let per_us = (PW - GAP_PX * gaps.len() as f64) / open;
        let mut pieces = vec![];
        let (mut t, mut x) = (0u64, GUT);
        for &(a, b) in gaps {
            let xa = x + (a - t) as f64 * per_us;
            pieces.push((t, a, x, xa));
            pieces.push((a, b, xa, xa + GAP_PX));
            (t, x) = (b, xa + GAP_PX);
        }
        pieces.push((t, end, x, GUT + PW));
        Scale { pieces }
    }

    pub(super) fn x(&self, t: u64) -> f64 {
        let i = self
            .pieces
            .partition_point(|p| p.1 < t)
            .min(self.pieces.len() - 1);
        let (t0, t1, x0, x1) = self.pieces[i];
        if t1 <= t0 {
            return x0;
        }
        x0 + (t.clamp(t0, t1) - t0) as f64 / (t1 - t0) as f64 * (x1 - x0)
    }

    pub(super) fn t(&self, x: f64) -> u64 {
        let i = self
            .pieces
            .partition_point(|p| p.3 < x)
            .min(self.pieces.len() - 1);
        let (t0, t1, x0, x1) = self.pieces[i];
        if x1 <= x0 {
            return t0;
        }
        t0 + ((x.clamp(x0, x1) - x0) / (x1 - x0) * (t1 - t0) as f64) as u64
    }
}
