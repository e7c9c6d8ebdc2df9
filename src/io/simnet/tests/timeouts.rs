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
