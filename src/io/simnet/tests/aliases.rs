//! Aliases (`[cluster] aliases`, spec §4 step 1, §16 item 8): another address that reaches a
//! process, judged as the process's own address.

use super::*;

/// 127.0.0.1:8848, the alias of node 1 in these tests.
fn alias() -> SocketAddr {
    SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 8848)
}

#[test]
fn a_call_and_a_datagram_to_an_alias_reach_the_process_it_names() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        w.env.alias(alias(), s.addr);
        let c = w.node(2, Duration::ZERO);
        let (res, took) = c
            .run(|net| async move {
                net.send_datagram(alias(), ack()).await;
                call(&net, alias()).await
            })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_at(took, ONE_WAY * 2);
        let seen: Vec<&str> = s.seen().iter().map(|(what, _)| *what).collect();
        assert_eq!(seen, vec!["datagram", "request"]);
    });
}

#[test]
fn an_address_that_is_no_alias_reaches_nobody() {
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        w.env.alias(alias(), s.addr);
        let c = w.node(2, Duration::ZERO);
        // Another port of the alias's host is not the alias.
        let other = SocketAddr::new(alias().ip(), 8849);
        let (res, _) = c
            .run(move |net| async move { call(&net, other).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ReadTimeout), "nobody listens there");
        assert!(s.seen().is_empty());
    });
}

#[test]
fn faults_of_the_process_s_own_address_apply_to_its_alias() {
    // A cut between the caller and the process's own IP cuts the alias too (the connect times
    // out); a crash of the process refuses connects to the alias; `heal` keeps the alias.
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        w.env.alias(alias(), s.addr);
        let c = w.node(2, Duration::ZERO);
        let (s_ip, c_ip) = (s.ip(), c.ip());
        w.env.update(|st| {
            st.cut.insert((c_ip, s_ip));
        });
        let (res, took) = c
            .run(|net| async move { call(&net, alias()).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::ConnectTimeout));
        assert_at(took, CONNECT);
        w.env.heal_links();
        let (res, _) = c
            .run(|net| async move { call(&net, alias()).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()), "heal keeps the alias");
        w.crash(&s);
        let (res, took) = c
            .run(|net| async move { call(&net, alias()).await })
            .await
            .unwrap();
        assert_eq!(res, Err(NetError::Refused));
        assert_at(took, ms(2));
    });
}

#[test]
fn a_process_calling_its_own_alias_reaches_itself() {
    // spec §16 item 8: a server whose cluster.conf names itself by an alias reports to itself.
    run(1, || async {
        let w = World::new();
        let s = w.node(1, Duration::ZERO);
        w.env.alias(alias(), s.addr);
        let (res, _) = s
            .run(|net| async move { call(&net, alias()).await })
            .await
            .unwrap();
        assert_eq!(res, Ok(Response::ok()));
        assert_eq!(s.seen().len(), 1);
    });
}
