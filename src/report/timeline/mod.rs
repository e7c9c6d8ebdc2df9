//! The timeline picture (`nacos-sim run FILE --timeline out.html|out.svg`): one lane per node
//! over virtual time with faults shaded, instance health bands, Raft roles, replication and
//! push marks, anomalies and the checks. `model.rs` reads an [`Outcome`] into a [`Model`]
//! (with `findings.rs`); `svg.rs` lays the page out and draws it on a `canvas.rs` surface, with
//! `lanes.rs` for the lanes and `scale.rs` for time to x. All of it is pure: the same outcome
//! gives the same bytes (every map is a `BTreeMap`, every list keeps event order).

use crate::report::Outcome;
use std::collections::BTreeMap;
use std::path::Path;

mod canvas;
mod findings;
mod html;
mod lanes;
mod model;
mod scale;
mod shades;
mod svg;

pub use html::render_html;
pub use svg::render_svg;

/// The two files `--timeline` writes, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Html,
}

impl Format {
    /// `.svg` or `.html`/`.htm`; anything else is an error that says what is accepted.
    pub fn of(path: &Path) -> Result<Format, String> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext.to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "html" | "htm" => Ok(Format::Html),
            _ => Err(format!(
                "--timeline {}: unknown picture format `{ext}`: the file must end in .html or .svg",
                path.display()
            )),
        }
    }
}

/// Renders the outcome in the format of `path` and writes it there.
pub fn write(outcome: &Outcome, path: &Path) -> Result<(), String> {
    let body = match Format::of(path)? {
        Format::Svg => render_svg(outcome),
        Format::Html => render_html(outcome),
    };
    std::fs::write(path, body).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Instance rows shared by every server lane: one per instance, or one per service when there
/// are more than this many instances (a bench-sized run).
pub(crate) const MAX_INSTANCE_ROWS: usize = 12;
/// Services shown in the per-service mode; the rest are counted in a note.
pub(crate) const MAX_SERVICE_ROWS: usize = 16;
/// More clients than this share one lane.
pub(crate) const MAX_CLIENT_LANES: usize = 20;

/// A shaded interval (on a lane or in the network row).
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub t0: u64,
    pub t1: u64,
    pub kind: SpanKind,
    pub label: String,
    /// On a grouped clients lane: the clients it covers.
    pub who: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SpanKind {
    Down,
    Paused,
    /// Cut off by a partition, bridge, one-way cut or isolation; the number picks the side colour.
    Cut(usize),
    Leader,
    Candidate,
    Net,
}

/// Instance state codes on a band (higher = worse, so a dense pixel shows the worst).
pub(crate) const HEALTHY: u8 = 1;
pub(crate) const GONE: u8 = 2;
pub(crate) const UNHEALTHY: u8 = 3;

/// Which strip of a lane a mark sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MarkRow {
    Sync,
    Push,
    Inst(usize),
    Client,
}

/// What a mark is; it fixes colour and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cat {
    Sync,
    SyncAux,
    Publish,
    RaftDelete,
    MemberUp,
    MemberSuspect,
    MemberDown,
    PushSent,
    PushAcked,
    Fail,
    Call,
    PushRecv,
    Rereg,
    Deleted,
    Deregistered,
}

#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub t: u64,
    pub row: MarkRow,
    pub cat: Cat,
    pub text: String,
}

/// A client's view of one subscribed service: (time, host count, hosts text).
pub(crate) type View = (String, Vec<(u64, usize, String)>);

#[derive(Debug, Clone, Default)]
pub(crate) struct Lane {
    pub name: String,
    pub addr: String,
    /// One lane for many clients: shades name their node and are drawn thin.
    pub grouped: bool,
    pub shades: Vec<Span>,
    pub roles: Vec<Span>,
    /// Per instance row: state changes (time, state code, tooltip).
    pub health: Vec<Vec<(u64, u8, String)>>,
    pub views: Vec<View>,
    /// A consumer's calls per service: (calls, failed) per 100 ms (issue 13).
    pub traffic: Vec<(String, Vec<(u32, u32)>)>,
    pub marks: Vec<Mark>,
}

/// A red point: an anomaly finding or a time a failed check names.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub t: u64,
    pub lanes: Vec<usize>,
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckMark {
    /// 1-based position in `outcome.checks`.
    pub n: usize,
    pub passed: bool,
    pub name: String,
    pub detail: String,
    pub window: Option<(u64, u64)>,
    pub points: Vec<u64>,
    /// Lanes the check names (empty: the whole cluster).
    pub lanes: Vec<usize>,
}

pub(crate) struct Model<'a> {
    pub o: &'a Outcome,
    pub end_us: u64,
    pub lanes: Vec<Lane>,
    /// `lanes[..servers]` are the servers.
    pub servers: usize,
    /// Labels of the instance rows.
    pub rows: Vec<String>,
    pub hidden_services: usize,
    pub net: Vec<Span>,
    pub anomalies: Vec<Point>,
    pub checks: Vec<CheckMark>,
    /// Quiet stretches drawn squeezed (start, end).
    pub gaps: Vec<(u64, u64)>,
}

/// A (service, instance) row key.
type Key = (String, String);

/// Reads an outcome's events into a [`Model`]: the lanes, what is open on them, and the
/// network row (`model.rs` reads events and instance bands, `shades.rs` the fault shades).
struct Builder<'a> {
    o: &'a Outcome,
    end_us: u64,
    lanes: Vec<Lane>,
    servers: usize,
    lane_of: BTreeMap<String, usize>,
    by_addr: BTreeMap<String, String>,
    per_instance: bool,
    row_of: BTreeMap<Key, usize>,
    /// Instances each server holds now, with their state.
    cur: Vec<BTreeMap<Key, u8>>,
    /// Open shades per (node, down/paused/cut/blocked), with the node's lane.
    open: BTreeMap<(String, Shade), (usize, Span)>,
    open_role: BTreeMap<usize, Span>,
    /// Open network-row spans by slot (`loss`, `latency`, `port`, `cut0000`, `cut0001`, ...,
    /// `cut delay s1 → s2`, `cut port s3:7848`); a heal ends every `cut…` slot.
    open_net: BTreeMap<String, Span>,
    /// Cuts opened so far (names the next `cut…` slot).
    cuts: usize,
    net: Vec<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shade {
    Down,
    Paused,
    Cut,
    /// A port of the node that a firewall drops connections to (fault `block_port`).
    Blocked,
}

fn span(t0: u64, kind: SpanKind, label: impl Into<String>) -> Span {
    Span {
        t0,
        t1: t0,
        kind,
        label: label.into(),
        who: String::new(),
    }
}

pub(crate) fn short_svc(s: &str) -> &str {
    s.strip_prefix("DEFAULT_GROUP@@").unwrap_or(s)
}

#[cfg(test)]
mod tests;
