//! The live fault controls (issue 12 part 3): one command language, typed on `serve`'s stdin or
//! sent to its control port (`serve --control-port P`: `curl -XPOST 127.0.0.1:P/crash/s2`).
//!
//! ```text
//! crash S      end server S's process: its ports close (clients get connection refused)
//! restart S    boot S again from its data directory
//! pause S      S stops answering, calling and timing (requests wait; clients time out)
//! resume S     S carries on; what it held is handled
//! isolate S    cut every link between S and the other servers, both ways (clients still reach it)
//! heal [S]     restore S's links, or every link
//! status       one line per server: up/down/paused, cut links
//! help
//! ```
//! S is a name (`s2`), an index (`2`), a port (`8858`) or an address (`127.0.0.1:8858`).

use super::Cluster;
use std::sync::mpsc;
use std::sync::Arc;

pub const HELP: &str = "commands: crash S | restart S | pause S | resume S | isolate S | heal [S] | status | help   (S: s1, 1, 8848 or 127.0.0.1:8848)";

/// Runs one command line and returns what to print.
pub fn apply(c: &Arc<Cluster>, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (cmd, target) = match words.as_slice() {
        [] => return Ok(String::new()),
        [cmd] => (*cmd, None),
        [cmd, t] => (*cmd, Some(*t)),
        _ => return Err(format!("one command and at most one server: {HELP}")),
    };
    let idx = match target {
        None => None,
        Some(t) => Some(c.index(t).ok_or_else(|| format!("no server {t}"))?),
    };
    let need = || idx.ok_or_else(|| format!("{cmd} needs a server: {HELP}"));
    let done = |changed: bool, what: &str| {
        Ok(if changed {
            format!("{what} {}", target.unwrap_or(""))
        } else {
            format!("nothing to do: {} is already {what}", target.unwrap_or(""))
        })
    };
    match cmd {
        "crash" | "kill" => done(c.crash(need()?), "crashed"),
        "restart" | "start" => {
            let changed = c
                .restart(need()?)
                .map_err(|e| format!("restart failed: {e}"))?;
            done(changed, "restarted")
        }
        "pause" => done(c.pause(need()?, true), "paused"),
        "resume" => done(c.pause(need()?, false), "resumed"),
        "isolate" => {
            c.isolate(need()?);
            done(true, "isolated")
        }
        "heal" => {
            c.heal(idx);
            Ok(format!("healed {}", target.unwrap_or("all links")))
        }
        "status" => Ok(c.status().trim_end().to_string()),
        "help" => Ok(HELP.to_string()),
        _ => Err(format!("unknown command {cmd:?}: {HELP}")),
    }
}

pub type Job = (String, mpsc::Sender<Result<String, String>>);

/// The thread that applies commands, one at a time, outside every runtime (a restart builds a
/// runtime, which cannot happen inside another).
pub fn spawn_worker(c: Arc<Cluster>) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for (line, reply) in rx {
                let _ = reply.send(apply(&c, &line));
            }
        })
        .expect("spawn the control thread");
    tx
}

/// Sends one command to the worker and waits for its answer.
pub fn run(jobs: &mpsc::Sender<Job>, line: &str) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    jobs.send((line.to_string(), tx))
        .map_err(|_| "the control thread is gone".to_string())?;
    rx.recv()
        .map_err(|_| "the control thread is gone".to_string())?
}

/// Reads commands from stdin until it ends.
pub fn stdin_loop(jobs: &mpsc::Sender<Job>) {
    let mut line = String::new();
    loop {
        line.clear();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => match run(jobs, line.trim()) {
                Ok(s) if s.is_empty() => {}
                Ok(s) => println!("control: {s}"),
                Err(e) => println!("control: error: {e}"),
            },
        }
    }
}

/// The control port: `POST /crash/s2`, `/heal`, `GET /status`… (path segments are the words of
/// a command). 200 with the answer, 400 with the error. Runs on its own small runtime.
pub fn spawn_http(jobs: mpsc::Sender<Job>, port: u16) -> std::io::Result<std::net::SocketAddr> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let l = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))?;
    l.set_nonblocking(true)?;
    let addr = l.local_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("control-http".into())
        .spawn(move || {
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(l).expect("control listener");
                loop {
                    let Ok((stream, _)) = l.accept().await else {
                        continue;
                    };
                    let jobs = jobs.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req: hyper::Request<_>| {
                            let line = req.uri().path().replace('/', " ");
                            let jobs = jobs.clone();
                            async move {
                                let r = tokio::task::spawn_blocking(move || run(&jobs, &line))
                                    .await
                                    .unwrap_or_else(|e| Err(e.to_string()));
                                let (status, body) = match r {
                                    Ok(s) => (200, s + "\n"),
                                    Err(e) => (400, e + "\n"),
                                };
                                let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                                *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                Ok::<_, std::convert::Infallible>(resp)
                            }
                        });
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, svc)
                            .await;
                    });
                }
            })
        })?;
    Ok(addr)
}
