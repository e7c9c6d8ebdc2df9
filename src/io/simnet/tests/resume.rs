//! Which runs first after a stop-the-world pause: overdue timers or queued mail.

use super::*;
use crate::io::simnet::TIMERS_FIRST_HOLD;
use crate::io::ResumeOrder;
use std::collections::BTreeSet;

const PAUSED: Duration = Duration::from_millis(50);
const RESUMED: Duration = Duration::from_millis(500);

/// A node with three timers due at 100 ms (two through [`Net::sleep_until`], one a plain
/// `tokio::time::sleep_until`), paused from 50 ms to 500 ms while a request and a datagram
/// land in its inbox, then resumed with `order`. Returns what it did after the resume, in
/// order, with times.
fn paused_node(seed: u64, order: ResumeOrder) -> Vec<(&'static str, Duration)> {
    run(seed, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        let due = w.t0 + ms(100);
        for gated in [true, true, false] {
            let (log, t0) = (s.log.clone(), w.t0);
            s.spawn(move |net| async move {
                if gated {
                    net.sleep_until(due).await;
                } else {
                    tokio::time::sleep_until(due).await;
                }
                let what = if gated { "timer" } else { "tokio timer" };
                log.lock().unwrap().push((what, t0.elapsed()));
            });
        }
        tokio::time::sleep(PAUSED).await;
        w.handle.pause(s.id);
        let dst = s.addr;
        c.spawn(move |net| async move {
            net.send_datagram(dst, ack()).await;
            net.call(dst, req(), CONNECT, Duration::from_secs(10)).await
        });
        tokio::time::sleep_until(w.t0 + RESUMED).await;
        assert!(s.seen().is_empty());
        w.env.resume_with_order(s.id, s.addr, order);
        tokio::time::sleep(ms(10)).await;
        s.seen()
    })
}

fn kinds(seen: &[(&'static str, Duration)]) -> Vec<&'static str> {
    seen.iter().map(|(k, _)| *k).collect()
}

#[test]
fn timers_first_runs_every_overdue_timer_before_any_queued_letter() {
    for seed in 1..=8 {
        let seen = paused_node(seed, ResumeOrder::TimersFirst);
        let k = kinds(&seen);
        assert_eq!(k.len(), 5, "seed {seed}: {k:?}");
        let first_letter = k.iter().position(|k| *k == "request" || *k == "datagram");
        assert_eq!(first_letter, Some(3), "seed {seed}: timers first: {k:?}");
        for (what, at) in seen {
            let want = match what {
                "request" | "datagram" => RESUMED + TIMERS_FIRST_HOLD,
                _ => RESUMED,
            };
            assert_at(at, want);
        }
    }
}

#[test]
fn requests_first_handles_every_queued_letter_before_the_gated_timers() {
    for seed in 1..=8 {
        let seen = paused_node(seed, ResumeOrder::RequestsFirst);
        let k = kinds(&seen);
        assert_eq!(k.len(), 5, "seed {seed}: {k:?}");
        let last_letter = k.iter().rposition(|k| *k == "request" || *k == "datagram");
        let first_timer = k.iter().position(|k| *k == "timer");
        assert!(
            last_letter < first_timer,
            "seed {seed}: requests first: {k:?}"
        );
        // Nothing waits for long: all of it happens at the resume.
        for (_, at) in seen {
            assert_at(at, RESUMED);
        }
    }
}

/// Without an order, madsim's seeded queue decides: some seeds run a timer first, some the mail.
#[test]
fn by_default_the_seed_decides() {
    let firsts: BTreeSet<&str> = (1..=16)
        .map(|seed| {
            let seen = paused_node(seed, ResumeOrder::Seeded);
            assert_eq!(seen.len(), 5);
            match seen[0].0 {
                "request" | "datagram" => "letter",
                _ => "timer",
            }
        })
        .collect();
    assert_eq!(firsts, BTreeSet::from(["letter", "timer"]));
}

/// `Net::sleep` ends exactly when `tokio::time::sleep` would (madsim's 1 ms minimum included),
/// so node code can move its timers onto it without changing a trace while the gate is open.
#[test]
fn net_sleep_ends_when_tokio_sleep_does() {
    run(1, || async {
        let w = World::new();
        let n = w.node(1, Duration::ZERO);
        let took = n
            .run(|net| async move {
                let mut out = vec![];
                for d in [Duration::ZERO, Duration::from_micros(500), ms(10), ms(5000)] {
                    out.push((
                        timed(net.sleep(d)).await.1,
                        timed(tokio::time::sleep(d)).await.1,
                    ));
                }
                out
            })
            .await
            .unwrap();
        for (ours, tokio) in took {
            assert_eq!(ours, tokio);
        }
    });
}
