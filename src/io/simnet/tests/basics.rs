//! The wire's established behaviour: what each existing fault does to a call or a datagram.

use super::*;

#[test]
fn a_call_takes_one_round_trip() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let (res, took) = c
            .run(move |net| async move { call(&net, dst).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_at(took, ONE_WAY * 2);
        assert_eq!(s.seen().len(), 1);
        assert_eq!(w.env.delivered(), 2, "the request and the reply");
    });
}

#[test]
fn a_down_process_refuses_the_connection_after_2ms() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        tokio::time::sleep(ms(5)).await;
        w.crash(&s);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let (res, took) = c
            .run(move |net| async move { call(&net, dst).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::Refused));
        assert_at(took, ms(2));
    });
}

#[test]
fn a_cut_link_either_way_makes_the_connect_time_out_after_exactly_the_connect_timeout() {
    for (a, b) in [(2, 1), (1, 2)] {
        run(1, || async {
            let w = World::new();
            let s = w.node(1, Duration::ZERO);
            let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
            w.env.update(|st| {
                st.cut.insert((ip(a), ip(b)));
            });
            let dst = s.addr;
            let c = w.node(2, Duration::ZERO);
            let (res, took) = c
                .run(move |net| async move { call(&net, dst).await })
                .await
                .unwrap();
            assert_eq!(res, Err(NetError::ConnectTimeout), "cut {a} → {b}");
            assert_at(took, CONNECT);
            assert!(s.seen().is_empty());
        });
    }
}

#[test]
fn a_paused_peer_makes_the_read_time_out_and_handles_the_request_when_it_resumes() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        tokio::time::sleep(ms(5)).await;
        w.handle.pause(s.id);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let (res, took) = c
            .run(move |net| async move { call(&net, dst).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ReadTimeout));
        assert_at(took, READ_TIMED_OUT);
        assert!(s.seen().is_empty(), "a paused process handles nothing");
        let resumed = w.now();
        w.handle.resume(s.id);
        tokio::time::sleep(ms(1)).await;
        let seen = s.seen();
        assert_eq!(seen.len(), 1);
        assert_at(seen[0].1, resumed);
    });
}

#[test]
fn a_request_to_a_paused_node_is_answered_only_after_it_resumes() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        tokio::time::sleep(ms(5)).await;
        w.handle.pause(s.id);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let pending = c.run(move |net| async move {
            timed(net.call(dst, req(), CONNECT, Duration::from_secs(10))).await
        });
        tokio::time::sleep(ms(1) + Duration::from_secs(1)).await; // the call starts 1 ms in
        w.handle.resume(s.id);
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Ok(Response::ok()));
        // Handled at the resume, 1 s after the call began; the reply takes one way.
        assert_at(took, Duration::from_secs(1) + ONE_WAY);
    });
}

#[test]
fn datagrams_are_all_lost_at_rate_1_and_none_at_rate_0() {
    for (rate, want) in [(1.0, 0), (0.0, 50)] {
        run(1, || async {
            let w = World::new();
            w.env.update(|s| s.datagram_loss = rate);
            let s = w.node(1, Duration::ZERO);
            let (dst, t0) = (s.addr, w.t0);
            let c = w.node(2, Duration::ZERO);
            let sent = c
                .run(move |net| async move {
                    let sent = t0.elapsed();
                    for _ in 0..50 {
                        net.send_datagram(dst, ack()).await;
                    }
                    sent
                })
                .await
                .unwrap();
            tokio::time::sleep(ms(20)).await;
            let seen = s.seen();
            assert_eq!(seen.len(), want, "loss {rate}");
            for (what, at) in seen {
                assert_eq!(what, "datagram");
                assert_at(at, sent + ONE_WAY);
            }
        });
    }
}

#[test]
fn a_reply_lost_to_a_cut_made_while_the_request_was_in_flight_ends_in_a_read_timeout() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        let c_ip = IpAddr::from([10, 0, 0, 2]);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let pending = c.run(move |net| async move { call(&net, dst).await });
        // The call starts at 1 ms (after the bind); its request lands at 8 ms.
        tokio::time::sleep(ms(4)).await;
        w.env.update(|st| {
            st.cut.insert((dst.ip(), c_ip));
        });
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Err(NetError::ReadTimeout));
        assert_at(took, READ_DEADLINE);
        assert_eq!(
            s.seen().len(),
            1,
            "the request got through and was answered"
        );
    });
}

#[test]
fn a_message_in_flight_when_its_link_is_cut_is_lost() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        let c_ip = IpAddr::from([10, 0, 0, 2]);
        let dst = s.addr;
        let c = w.node(2, Duration::ZERO);
        let pending = c.run(move |net| async move {
            net.send_datagram(dst, ack()).await;
            call(&net, dst).await
        });
        tokio::time::sleep(ms(4)).await;
        w.env.update(|st| {
            st.cut.insert((c_ip, dst.ip()));
        });
        let (res, took) = pending.await.unwrap();
        assert_eq!(res, Err(NetError::ReadTimeout));
        assert_at(took, READ_TIMED_OUT);
        assert!(
            s.seen().is_empty(),
            "neither the datagram nor the request landed"
        );
    });
}
