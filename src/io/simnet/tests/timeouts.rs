//! Calls without timeouts (spec §3: Nacos's `httpPutLarge`, `httpGetLarge`, `httpPostLarge`).

use super::*;
use crate::io::simnet::state::TCP_GIVE_UP;
use crate::io::OS_CONNECT_TIMEOUT;

#[test]
fn without_timeouts_a_cut_link_fails_the_connect_after_the_os_syn_retries() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        let (si, ci) = (s.ip(), c.ip());
        w.env.update(|st| {
            st.cut.insert((ci, si));
        });
        let dst = s.addr;
        let (res, took) = c
            .run(move |net| async move { call_with(&net, dst, Timeouts::none()).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ConnectTimeout));
        assert_eq!(OS_CONNECT_TIMEOUT, Duration::from_secs(127));
        assert_at(took, OS_CONNECT_TIMEOUT);
    });
}

#[test]
fn without_a_read_timeout_a_call_waits_out_a_long_pause_and_a_crash_resets_it() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        tokio::time::sleep(ms(5)).await; // both bound: calls start at once from now on
        w.handle.pause(s.id);
        let dst = s.addr;
        let pending = c.run(move |net| async move { call_with(&net, dst, Timeouts::none()).await });
        let ten_min = Duration::from_secs(600);
        tokio::time::sleep(ten_min).await;
        w.handle.resume(s.id);
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_at(took, ten_min + ONE_WAY);
        // A crash still ends such a call, at once.
        w.handle.pause(s.id);
        let pending = c.run(move |net| async move { call_with(&net, dst, Timeouts::none()).await });
        tokio::time::sleep(ten_min).await;
        w.crash(&s);
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Err(NetError::Reset));
        assert_at(took, ten_min + ms(1));
    });
}

/// A message of a call without read timeout lost to a cut: TCP retransmits it in vain until it
/// gives up (924.6 s after the loss; spec §3 "about 15 min"), and the call fails then.
#[test]
fn without_a_read_timeout_a_message_lost_to_a_cut_fails_the_call_when_tcp_gives_up() {
    // Cut the request's direction (lost when it lands at 7 ms) or the reply's (lost at 14 ms).
    for (reply, lost_at) in [(false, ONE_WAY), (true, ONE_WAY * 2)] {
        run(1, || async {
            let w = World::new();
            let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
            let dst = s.addr;
            let pending =
                c.run(move |net| async move { call_with(&net, dst, Timeouts::none()).await });
            tokio::time::sleep(ms(1) + ms(3)).await;
            let (si, ci) = (s.ip(), c.ip());
            w.env.update(|st| {
                st.cut.insert(if reply { (si, ci) } else { (ci, si) });
            });
            let (res, took) = pending.await.unwrap();
            assert_eq!(res, Err(NetError::ReadTimeout), "reply lost: {reply}");
            assert_eq!(TCP_GIVE_UP, Duration::from_millis(924_600));
            assert_at(took, lost_at + TCP_GIVE_UP);
            assert_eq!(s.seen().len(), usize::from(reply));
        });
    }
}

#[test]
fn calls_with_timeouts_are_unchanged_by_call_with() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, ms(5000)), w.node(2, Duration::ZERO));
        let dst = s.addr;
        let (res, took) = c
            .run(move |net| async move { call_with(&net, dst, Timeouts::new(CONNECT, READ)).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ReadTimeout));
        assert_at(took, READ_TIMED_OUT);
    });
}

/// spec §3, §6: an unanswered SYN is retransmitted 1, 3, 7, 15, 31 and 63 s after the first;
/// once the link heals, the next retransmission connects and the request leaves then. A connect
/// timeout that comes first ends the call.
#[test]
fn a_syn_retransmission_after_the_link_heals_connects() {
    for (timeouts, heal_at, want) in [
        // No timeouts: healed at 10 s, the 15 s retransmission gets through.
        (
            Timeouts::none(),
            10,
            Ok(Duration::from_secs(15) + ONE_WAY * 2),
        ),
        // 5 s connect: healed at 2 s, the 3 s retransmission gets through...
        (
            Timeouts::new(ms(5000), READ),
            2,
            Ok(Duration::from_secs(3) + ONE_WAY * 2),
        ),
        // ... healed at 4 s, none is left before the timeout.
        (
            Timeouts::new(ms(5000), READ),
            4,
            Err(Duration::from_secs(5)),
        ),
        // No timeouts, never healed: the OS gives up at 127 s.
        (Timeouts::none(), 200, Err(Duration::from_secs(127))),
    ] {
        run(1, || async move {
            let w = World::new();
            let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
            tokio::time::sleep(ms(5)).await; // both bound
            let (si, ci) = (s.ip(), c.ip());
            w.env.update(|st| {
                st.cut.insert((si, ci));
            });
            let dst = s.addr;
            let pending = c.run(move |net| async move { call_with(&net, dst, timeouts).await });
            tokio::time::sleep(Duration::from_secs(heal_at)).await;
            w.env.heal_links();
            let (res, took) = pending.await.unwrap();
            match want {
                Ok(at) => {
                    assert_eq!(res, Ok(Response::ok()), "healed at {heal_at}s");
                    assert_at(took, at);
                    assert_eq!(s.seen().len(), 1);
                }
                Err(at) => {
                    assert_eq!(res, Err(NetError::ConnectTimeout), "healed at {heal_at}s");
                    assert_at(took, at);
                    assert!(s.seen().is_empty());
                }
            }
        });
    }
}

/// A peer that crashed while its link was cut refuses the next retransmission at once.
#[test]
fn a_syn_retransmission_to_a_crashed_peer_is_refused() {
    run(1, || async {
        let w = World::new();
        let (s, c) = (w.node(1, Duration::ZERO), w.node(2, Duration::ZERO));
        tokio::time::sleep(ms(5)).await;
        let (si, ci) = (s.ip(), c.ip());
        w.env.update(|st| {
            st.cut.insert((ci, si));
        });
        let dst = s.addr;
        let pending = c.run(move |net| async move { call_with(&net, dst, Timeouts::none()).await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        w.crash(&s);
        w.env.heal_links();
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Err(NetError::Refused));
        assert_at(took, Duration::from_secs(7) + ms(2));
    });
}
