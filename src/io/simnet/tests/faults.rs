//! The wire-level network faults: one-way connect failures, resets by a crash, link delays.

use super::*;
use crate::io::NoConnect;

#[test]
fn no_connect_fails_connects_from_one_side_and_its_datagrams_only() {
    for (mode, err, after) in [
        (NoConnect::Timeout, NetError::ConnectTimeout, CONNECT),
        (NoConnect::Refused, NetError::Refused, ms(2)),
    ] {
        run(1, || async {
            let w = World::new();
            let (a, b) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
            w.env.no_connect(a.ip(), b.ip(), mode);
            let (a_addr, b_addr) = (a.addr, b.addr);
            // b's connections toward a work, a request and its reply.
            let (res, took) = b
                .run(move |net| async move {
                    net.send_datagram(a_addr, ack()).await;
                    call(&net, a_addr).await
                })
                .await
                .unwrap();
            assert_eq!(res, Ok(Response::ok()), "{mode:?}: b → a");
            assert_at(took, ONE_WAY * 2);
            assert_eq!(a.seen().len(), 2, "b's datagram and request reached a");
            // a's connections toward b fail, and a's datagrams to b are dropped.
            let from_a = move |net: Arc<Net>| async move {
                net.send_datagram(b_addr, ack()).await;
                call(&net, b_addr).await
            };
            let (res, took) = a.run(from_a).await.unwrap();
            assert_eq!(res, Err(err), "{mode:?}: a → b");
            assert_at(took, after);
            // (The datagram is judged when it lands, 7 ms after it left.)
            tokio::time::sleep(ms(10)).await;
            assert!(b.seen().is_empty(), "{mode:?}: nothing from a reached b");
            // A heal removes it.
            w.env.heal_links();
            assert!(!w.env.state().has_link_faults());
            let (res, _) = a.run(from_a).await.unwrap();
            assert_eq!(res, Ok(Response::ok()), "{mode:?}: healed");
            assert_eq!(b.seen().len(), 2);
        });
    }
}

#[test]
fn clearing_one_no_connect_leaves_the_others() {
    run(1, || async {
        let w = World::new();
        let (a, b) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        w.env.no_connect(a.ip(), b.ip(), NoConnect::Refused);
        w.env.no_connect(b.ip(), a.ip(), NoConnect::Refused);
        w.env.clear_no_connect(a.ip(), b.ip());
        let b_addr = b.addr;
        let res = a.run(move |net| async move { call(&net, b_addr).await });
        assert_eq!(res.await.unwrap().0, Ok(Response::ok()));
        let a_addr = a.addr;
        let res = b.run(move |net| async move { call(&net, a_addr).await });
        assert_eq!(res.await.unwrap().0, Err(NetError::Refused));
    });
}

/// A crash resets every call the process had accepted: its caller fails one way (1 ms) after
/// the crash, whether the request was still in flight or its handler was running.
#[test]
fn a_crash_resets_the_calls_in_flight_to_it_one_way_later() {
    // (crash this long after the call starts, the handler's delay)
    for (crash_after, delay) in [(ms(3), Duration::ZERO), (ms(1000), ms(5000))] {
        run(1, || async {
            let w = World::new();
            let (s, c) = (w.node(1, delay), w.node(2, Duration::ZERO));
            let dst = s.addr;
            let pending = c.run(move |net| async move {
                timed(net.call(dst, req(), CONNECT, Duration::from_secs(10))).await
            });
            tokio::time::sleep(ms(1) + crash_after).await; // the call starts 1 ms in
            w.crash(&s);
            let (res, took) = pending.await.unwrap();
            assert_eq!(res, Err(NetError::Reset), "crash after {crash_after:?}");
            assert_eq!(NetError::Reset.to_string(), "connection reset");
            assert_at(took, crash_after + ms(1));
        });
    }
}

#[test]
fn a_reply_already_on_its_way_beats_the_reset() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        let dst = s.addr;
        let pending = c.run(move |net| async move { call(&net, dst).await });
        // The request lands (and is answered) at 7 ms into the call; the reply lands at 14 ms.
        tokio::time::sleep(ms(1) + ms(10)).await;
        w.crash(&s);
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_at(took, ONE_WAY * 2);
    });
}

/// Only a crash resets: an isolated or paused peer (and a crashed one whose RST cannot cross a
/// cut link back) leaves the caller to its read timeout.
#[test]
fn isolation_pause_and_a_reset_lost_to_a_cut_keep_the_read_timeout() {
    for fault in ["isolate", "pause", "crash behind a cut"] {
        run(1, || async {
            let w = World::new();
            let (s, c) = (w.node(1, ms(5000)), w.node(2, Duration::ZERO));
            let dst = s.addr;
            let pending = c.run(move |net| async move { call(&net, dst).await });
            tokio::time::sleep(ms(1) + ms(1000)).await;
            let (si, ci) = (s.ip(), c.ip());
            match fault {
                "isolate" => w.env.update(|st| {
                    st.cut.extend([(si, ci), (ci, si)]);
                }),
                "pause" => w.handle.pause(s.id),
                _ => {
                    w.env.update(|st| {
                        st.cut.insert((si, ci));
                    });
                    w.crash(&s);
                }
            }
            let (res, took) = pending.await.unwrap();
            assert_eq!(res, Err(NetError::ReadTimeout), "{fault}");
            assert_at(took, READ_TIMED_OUT);
        });
    }
}

#[test]
fn a_link_delay_adds_to_every_message_on_that_direction_until_cleared() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        let dst = s.addr;
        w.env.set_link_delay(c.ip(), s.ip(), ms(100));
        let go = |c: &Node| c.run(move |net| async move { call(&net, dst).await });
        assert_at(go(&c).await.unwrap().1, ONE_WAY * 2 + ms(100));
        w.env.set_link_delay(s.ip(), c.ip(), ms(50));
        assert_at(go(&c).await.unwrap().1, ONE_WAY * 2 + ms(150));
        // A datagram c → s pays the c → s delay.
        let sent = c
            .run(move |net| async move {
                net.send_datagram(dst, ack()).await;
            })
            .await;
        let at = w.now();
        drop(sent);
        tokio::time::sleep(ms(200)).await;
        let seen = s.seen();
        assert_eq!(seen.last().unwrap().0, "datagram");
        assert_at(seen.last().unwrap().1, at + ONE_WAY + ms(100));
        // A refusal crosses both ways.
        let s_addr = s.addr;
        w.crash(&s);
        let (res, took) = c
            .run(move |net| async move { call(&net, s_addr).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::Refused));
        assert_at(took, ms(2 + 150));
        // Cleared one link at a time (extra = 0), or all at once by a heal.
        w.env.set_link_delay(c.ip(), s.ip(), Duration::ZERO);
        assert_eq!(w.env.state().link_delay.len(), 1);
        w.env.heal_links();
        assert!(w.env.state().link_delay.is_empty());
    });
}

/// A second port of a process (a server's JRaft port) answers on its own; a blocked port drops
/// connects to it alone, the process's own calls out still work, and a crash closes every port.
#[test]
fn a_blocked_port_drops_connects_to_it_alone_and_a_crash_closes_every_port() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        let log = s.log.clone();
        let t0 = w.t0;
        // The inbox holds its handler weakly, as a server's ports hold the server: keep it.
        let _handler = s
            .run(move |net| async move {
                let echo = Arc::new(Echo {
                    log,
                    delay: Duration::ZERO,
                    t0,
                });
                net.serve_port(7848, echo.clone());
                echo
            })
            .await
            .unwrap();
        let raft = SocketAddr::new(s.ip(), 7848);
        let (http, c_addr) = (s.addr, c.addr);
        let (res, took) = c
            .run(move |net| async move { call(&net, raft).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_at(took, ONE_WAY * 2);
        w.env.block_port(raft, true);
        let (res, took) = c
            .run(move |net| async move { call(&net, raft).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ConnectTimeout));
        assert_at(took, CONNECT);
        let (res, _) = c
            .run(move |net| async move { call(&net, http).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()), "the HTTP port still answers");
        let (res, _) = s
            .run(move |net| async move { call(&net, c_addr).await })
            .await
            .unwrap();
        assert_eq!(
            res,
            Ok(Response::ok()),
            "the blocked host's own calls out work"
        );
        assert!(w.env.state().has_link_faults());
        w.env.heal_links();
        let (res, _) = c
            .run(move |net| async move { call(&net, raft).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()), "a heal unblocks it");
        w.crash(&s);
        for dst in [raft, http] {
            let (res, _) = c
                .run(move |net| async move { call(&net, dst).await })
                .await
                .unwrap();
            assert_eq!(res, Err(NetError::Refused), "{dst} after the crash");
        }
    });
}
