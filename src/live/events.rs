//! The event log of a live cluster, printed as it grows: the simulation's event lines
//! (`kind node k=v …`, the same typed events) stamped with wall-clock time, and optionally one
//! JSON object per line in a file (`serve --events FILE`).

use crate::trace::{Event, Log, Recorder};
use std::io::Write;
use std::time::Duration;

/// Installs the recorder as the process's `tracing` dispatcher (every server runtime's thread
/// emits into it) and returns its log.
pub fn record() -> Log {
    let log = Log::default();
    let d = tracing::Dispatch::new(Recorder::new(log.clone()));
    let _ = tracing::dispatcher::set_global_default(d);
    log
}

/// `HH:MM:SS.mmm` (UTC) of an event's epoch microseconds.
pub fn clock_time(t_us: u64) -> String {
    let ms = t_us / 1000;
    let (s, ms) = (ms / 1000, ms % 1000);
    let (h, m, s) = ((s / 3600) % 24, (s / 60) % 60, s % 60);
    format!("{h:02}:{m:02}:{s:02}.{ms:03}")
}

pub fn line(e: &Event) -> String {
    format!("{} {}", clock_time(e.t_us), e.describe())
}

/// `{"t_ms":…,"time":"…","node":…,"kind":…,"fields":{…}}`.
pub fn json(e: &Event) -> String {
    let mut fields = serde_json::Map::new();
    for (k, v) in e.fields() {
        fields.insert(k.to_string(), serde_json::Value::String(v));
    }
    serde_json::json!({
        "t_ms": e.t_us / 1000,
        "time": clock_time(e.t_us),
        "node": e.node,
        "kind": e.kind(),
        "fields": fields,
    })
    .to_string()
}

/// Prints (and writes to `file`) every new event every 50 ms, on its own thread.
pub fn spawn_printer(log: Log, mut file: Option<std::fs::File>, quiet: bool) {
    std::thread::Builder::new()
        .name("events".into())
        .spawn(move || loop {
            let batch = log.take();
            if !batch.is_empty() {
                let mut out = std::io::stdout().lock();
                for e in &batch {
                    if !quiet {
                        let _ = writeln!(out, "{}", line(e));
                    }
                    if let Some(f) = file.as_mut() {
                        let _ = writeln!(f, "{}", json(e));
                    }
                }
                let _ = out.flush();
                if let Some(f) = file.as_mut() {
                    let _ = f.flush();
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        })
        .expect("spawn the event printer");
}
