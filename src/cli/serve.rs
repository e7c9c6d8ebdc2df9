//! `nacos-sim serve` (live build only, issue 12): starts N servers on 127.0.0.1 behind Nacos's
//! HTTP Open API v1 and UDP push, prints their events as they happen, and takes fault commands
//! on stdin or a control port (src/live/control.rs).

use clap::{Args, Parser, Subcommand};
use nacos_sim::live::{self, control, events, Cluster};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nacos-sim", version = super::VERSION.as_str(), about = "nacos-sim live mode: the simulated Nacos 1.4.1 naming servers on real loopback sockets")]
struct LiveCli {
    #[command(subcommand)]
    cmd: LiveCmd,
}

#[derive(Subcommand)]
enum LiveCmd {
    Serve(ServeArgs),
}

/// Start a live cluster on 127.0.0.1 that real Nacos 1.x clients can use.
///
/// Server i (from 1) listens on PORT + 10·(i-1) (8848, 8858, 8868…) for the Open API
/// (/nacos/v1/ns/…) and its peers, and on that port - 1000 for JRaft. Clients: serverList
/// 127.0.0.1:8848,127.0.0.1:8858,… Events print as `HH:MM:SS.mmm kind node k=v…` (UTC).
///
/// Fault commands, on stdin or `curl -XPOST 127.0.0.1:CONTROL/<command>/<server>`:
///   crash S | restart S | pause S | resume S | isolate S | heal [S] | status | help
/// S is s1, 1, 8848 or 127.0.0.1:8848 (with --scenario, its server names). crash ends S's process (its ports close); pause holds
/// its traffic and timers; isolate cuts S from the other servers both ways (clients still reach it).
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct ServeArgs {
    /// Servers in the cluster, 1 to 9.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=9))]
    servers: u16,
    /// First server's port (the others +10 each); 0 picks free ports and prints them.
    #[arg(long, default_value_t = 8848)]
    port: u16,
    /// Directory of the servers' disks (DIR/s1, DIR/s2…; kept across runs). Default: a fresh
    /// temporary directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also write every event as one JSON object per line to FILE.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Serve the fault commands over HTTP on 127.0.0.1:PORT (0: a free port, printed).
    #[arg(long, value_name = "PORT")]
    control_port: Option<u16>,
    /// Do not print events (the --events file still gets them).
    #[arg(long)]
    quiet: bool,
    /// Take the cluster from a scenario file (its servers' names and count, its [config]) and
    /// play its fault steps on the wall clock: crash, restart, pause, resume, isolate,
    /// partition, one_way, heal. Client steps and expectations are skipped (use real clients).
    #[arg(long, value_name = "FILE", conflicts_with = "servers")]
    scenario: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let LiveCmd::Serve(a) = LiveCli::parse().cmd;
    let data_dir = a.data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("nacos-sim-live-{}", std::process::id()))
    });
    let file = match &a.events {
        None => None,
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => return super::bad(format!("cannot write {}: {e}", p.display())),
        },
    };
    let sc = match &a.scenario {
        None => None,
        Some(p) => match super::load(p) {
            Ok(sc) => Some(sc),
            Err(code) => return code,
        },
    };
    let (names, cfg) = match &sc {
        Some(sc) if sc.servers.len() > 9 => return super::bad("live mode runs at most 9 servers"),
        Some(sc) => (sc.servers.clone(), sc.config.clone()),
        None => (
            (1..=a.servers).map(|i| format!("s{i}")).collect(),
            nacos_sim::config::Config::default(),
        ),
    };
    let log = events::record();
    let ports = match live::pick_ports(names.len(), a.port) {
        Ok(p) => p,
        Err(e) => return super::bad(e),
    };
    let cluster = match Cluster::start(&ports, &names, cfg, &data_dir) {
        Ok(c) => c,
        Err(e) => return super::bad(format!("cannot start the servers: {e}")),
    };
    for (name, addr) in cluster.names() {
        println!("listening {name} {addr} jraft={}", addr.port() - 1000);
    }
    let list: Vec<String> = cluster.names().iter().map(|(_, a)| a.to_string()).collect();
    println!("serverList {}", list.join(","));
    println!("data-dir {}", data_dir.display());
    let jobs = control::spawn_worker(cluster.clone());
    if let Some(p) = a.control_port {
        match control::spawn_http(jobs.clone(), p) {
            Ok(addr) => println!("control http://{addr}/<command>/<server>"),
            Err(e) => return super::bad(format!("cannot open the control port: {e}")),
        }
    }
    println!("{}", control::HELP);
    events::spawn_printer(log, file, a.quiet);
    if let Some(sc) = &sc {
        println!(
            "scenario {}: {} steps on the wall clock",
            sc.name,
            sc.steps.len()
        );
        live::scenario::play(cluster.clone(), sc);
    }
    control::stdin_loop(&jobs);
    // stdin ended (a script's </dev/null): keep serving until the process is killed.
    loop {
        std::thread::park();
    }
}
