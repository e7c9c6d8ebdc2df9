//! The Open API mapping against the requests the real clients send (research
//! nacos-clients.md §3.1, §3.2) and the replies they read (§4.3–§4.5; spec §8, §10–§12).

use super::*;
use crate::model::{HostView, ListView};
use crate::wire::{Body, Datagram, Response, CODE_OK, CODE_RESOURCE_NOT_FOUND};

const JS_UA: &str = "Nacos-Java-Client:v1.0.0";
const PY_UA: &str = "Nacos-Python-Client:v1.0.0";

fn get(method: &str, path_query: &str, ua: &str) -> Routed {
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    route(HttpIn {
        method,
        path,
        query,
        form: "",
        user_agent: ua,
    })
}

fn call(r: Routed) -> (Request, Shape) {
    match r {
        Routed::Call(req, shape) => (*req, shape),
        other => panic!("not a call: {other:?}"),
    }
}

#[test]
fn the_js_register_maps_every_field_with_enable_spelled_its_way() {
    // §3.1: everything in the query, serviceName already grouped, `enable` not `enabled`.
    let q = "/nacos/v1/ns/instance?namespaceId=public&serviceName=DEFAULT_GROUP%40%40svc&groupName=DEFAULT_GROUP&clusterName=DEFAULT&ip=10.0.0.1&port=8080&weight=1&enable=false&healthy=true&ephemeral=true&metadata=%7B%22zone%22%3A%22a%22%7D";
    let (req, _) = call(get("POST", q, JS_UA));
    assert_eq!(req.ua, UserAgent::JavaClient);
    let Api::RegisterInstance(p) = req.api else {
        panic!("{:?}", req.api)
    };
    assert_eq!(p.service_name, "DEFAULT_GROUP@@svc");
    assert_eq!((p.ip.as_str(), p.port, p.weight), ("10.0.0.1", 8080, 1.0));
    assert!(!p.enabled && p.healthy && p.ephemeral);
    assert_eq!(p.metadata.get("zone").map(String::as_str), Some("a"));
}

#[test]
fn python_booleans_ungrouped_names_and_form_bodies_are_read_as_nacos_reads_them() {
    // §3.2: `True`, un-grouped serviceName + groupName, JSON metadata with spaces.
    let q = "/nacos/v1/ns/instance?ip=10.0.0.1&port=8080&serviceName=svc&weight=1.0&enable=True&healthy=True&clusterName=DEFAULT&ephemeral=False&groupName=g1&metadata=%7B%22zone%22%3A+%22a%22%7D&namespaceId=public";
    let (req, _) = call(get("POST", q, PY_UA));
    let Api::RegisterInstance(p) = req.api else {
        panic!()
    };
    assert_eq!(p.service_name, "g1@@svc");
    assert!(p.enabled && !p.ephemeral);
    assert_eq!(p.metadata.get("zone").map(String::as_str), Some("a"));
    // §4.1: params from a form body too; the query wins on a duplicate.
    let r = route(HttpIn {
        method: "DELETE",
        path: "/nacos/v1/ns/instance",
        query: "ip=1.1.1.1",
        form: "ip=2.2.2.2&port=80&serviceName=DEFAULT_GROUP%40%40s&cluster=c1",
        user_agent: "nacos-rust-client 0.3",
    });
    let Api::DeregisterInstance(p) = call(r).0.api else {
        panic!()
    };
    assert_eq!(
        (p.ip.as_str(), p.port, p.cluster_name.as_str()),
        ("1.1.1.1", 80, "c1")
    );
    // A PUT from a non-Java agent re-registers (§8).
    let put = "/nacos/v1/ns/instance?ip=1.1.1.1&port=80&serviceName=s&weight=2";
    assert!(matches!(
        call(get("PUT", put, PY_UA)).0.api,
        Api::RegisterInstance(_)
    ));
    assert!(matches!(
        call(get("PUT", put, JS_UA)).0.api,
        Api::UpdateInstance(_)
    ));
}

#[test]
fn missing_or_malformed_parameters_get_nacos_400_texts_and_unknown_apis_501() {
    let bad = |m, q| match get(m, q, JS_UA) {
        Routed::Reply(r) => (r.status, r.body),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bad("POST", "/nacos/v1/ns/instance?ip=1.1.1.1&port=80"),
        (400, "Param 'serviceName' is required.".into())
    );
    assert_eq!(
        bad("POST", "/nacos/v1/ns/instance?serviceName=s&port=80&ip=+"),
        (400, "Param 'ip' is required.".into())
    );
    assert_eq!(
        bad(
            "POST",
            "/nacos/v1/ns/instance?serviceName=s&ip=1.1.1.1&port=x"
        ),
        (400, "For input string: \"x\"".into())
    );
    assert_eq!(bad("GET", "/nacos/v1/ns/instance/list").0, 400);
    assert_eq!(
        bad(
            "POST",
            "/nacos/v1/ns/instance?serviceName=s&ip=1.1.1.1&port=1&metadata=%7Bx"
        ),
        (400, "metadata format incorrect:{x".into())
    );
    assert_eq!(
        bad("PATCH", "/nacos/v1/ns/nothing"),
        (501, "no such api:PATCH:/nacos/v1/ns/nothing".into())
    );
    assert_eq!(bad("GET", "/elsewhere").0, 404);
}

#[test]
fn a_js_beat_takes_ip_port_and_cluster_from_its_json_and_ignores_unknown_fields() {
    // §3.1 / §8: `beat` in the query, with `scheduled`; no separate ip/port/clusterName.
    let beat = r#"{"serviceName":"DEFAULT_GROUP@@svc","ip":"10.0.0.1","port":8080,"cluster":"","weight":1,"metadata":{"zone":"a"},"scheduled":true}"#;
    let q = format!(
        "/nacos/v1/ns/instance/beat?beat={}&namespaceId=public&serviceName=DEFAULT_GROUP%40%40svc&clusterName=c2",
        beat.replace('{', "%7B").replace('}', "%7D").replace('"', "%22")
    );
    let Api::Beat(b) = call(get("PUT", &q, JS_UA)).0.api else {
        panic!()
    };
    assert_eq!(
        (b.ip.as_str(), b.port, b.cluster_name.as_str()),
        ("10.0.0.1", 8080, "c2")
    );
    let info = b.beat.expect("a full beat");
    assert_eq!(info.cluster, "c2", "a blank beat cluster takes clusterName");
    assert_eq!(info.metadata.get("zone").map(String::as_str), Some("a"));
    // A light beat: params only.
    let light = "/nacos/v1/ns/instance/beat?serviceName=s&ip=1.1.1.1&port=80";
    let Api::Beat(b) = call(get("PUT", light, JS_UA)).0.api else {
        panic!()
    };
    assert!(b.beat.is_none());
    assert_eq!(
        (b.service_name.as_str(), b.cluster_name.as_str()),
        ("DEFAULT_GROUP@@s", "DEFAULT")
    );
}

#[test]
fn only_a_java_agent_registers_for_push_and_an_empty_client_ip_is_loopback() {
    let q = "/nacos/v1/ns/instance/list?namespaceId=public&serviceName=DEFAULT_GROUP%40%40svc&clusters=DEFAULT&udpPort=4000&clientIP=&healthyOnly=false";
    let (req, shape) = call(get("GET", q, JS_UA));
    let Api::ListInstances(l) = req.api else {
        panic!()
    };
    assert_eq!((l.udp_port, l.client_ip.as_str()), (4000, "127.0.0.1"));
    assert_eq!(shape.clusters, "DEFAULT");
    let Api::ListInstances(l) = call(get("GET", q, PY_UA)).0.api else {
        panic!()
    };
    assert_eq!(l.udp_port, 0);
    let q = "/nacos/v1/ns/instance/list?serviceName=s&healthyOnly=TRUE";
    let Api::ListInstances(l) = call(get("GET", q, PY_UA)).0.api else {
        panic!()
    };
    assert!(l.healthy_only);
}

fn view(found: bool) -> ListView {
    ListView {
        name: "DEFAULT_GROUP@@svc".into(),
        clusters: "DEFAULT".into(),
        cache_millis: 10000,
        hosts: if found {
            vec![HostView {
                ip: "10.0.0.1".into(),
                port: 8080,
                valid: true,
                healthy: true,
                marked: false,
                instance_id: "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@svc".into(),
                metadata: [("zone".to_string(), "a".to_string())].into(),
                enabled: true,
                weight: 1.0,
                cluster_name: "DEFAULT".into(),
                service_name: "DEFAULT_GROUP@@svc".into(),
                ephemeral: true,
            }]
        } else {
            vec![]
        },
        last_ref_time: found.then_some(1_700_000_000_000),
        checksum: if found { "abc".into() } else { String::new() },
        found,
    }
}

#[test]
fn the_list_reply_has_nacos_field_order_and_groups_names_only_for_java() {
    let shape = |kind| Shape {
        kind,
        clusters: "DEFAULT".into(),
    };
    let r = Response::with(Body::List(Box::new(view(true))));
    let java = render(&r, &shape(ClientKind::Java));
    assert!(java.json);
    assert_eq!(
        java.body,
        r#"{"hosts":[{"ip":"10.0.0.1","port":8080,"valid":true,"healthy":true,"marked":false,"instanceId":"10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@svc","metadata":{"zone":"a"},"enabled":true,"weight":1.0,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@svc","ephemeral":true}],"dom":"DEFAULT_GROUP@@svc","name":"DEFAULT_GROUP@@svc","cacheMillis":10000,"lastRefTime":1700000000000,"checksum":"abc","useSpecifiedURL":false,"clusters":"DEFAULT","env":"","metadata":{}}"#
    );
    let other = render(&r, &shape(ClientKind::Other)).body;
    assert!(
        other.contains(r#""serviceName":"svc""#)
            && other.contains(r#""dom":"svc","name":"DEFAULT_GROUP@@svc""#)
    );
    let unknown = Response::with(Body::List(Box::new(view(false))));
    assert_eq!(
        render(&unknown, &shape(ClientKind::Java)).body,
        r#"{"name":"DEFAULT_GROUP@@svc","clusters":"DEFAULT","cacheMillis":10000,"hosts":[]}"#
    );
}

#[test]
fn beat_replies_carry_light_beat_only_when_found() {
    let shape = Shape {
        kind: ClientKind::Java,
        clusters: String::new(),
    };
    let beat = |code| {
        let r = Response::with(Body::Beat {
            client_beat_interval: 5000,
            code,
            light_beat_enabled: true,
        });
        render(&r, &shape).body
    };
    assert_eq!(
        beat(CODE_OK),
        r#"{"clientBeatInterval":5000,"code":10200,"lightBeatEnabled":true}"#
    );
    assert_eq!(
        beat(CODE_RESOURCE_NOT_FOUND),
        r#"{"clientBeatInterval":5000,"code":20404}"#
    );
    let ok = render(&Response::ok(), &shape);
    assert_eq!((ok.status, ok.json, ok.body.as_str()), (200, false, "ok"));
}

#[test]
fn the_push_packet_carries_the_list_as_a_string_and_both_ack_spellings_parse() {
    let d = Datagram::Push {
        data: Box::new(view(true)),
        last_ref_time: 123456789,
    };
    let bytes = push_packet(&d).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["type"], "dom");
    assert_eq!(v["lastRefTime"], 123456789);
    let inner: serde_json::Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
    assert_eq!(inner["name"], "DEFAULT_GROUP@@svc");
    assert_eq!(
        inner["hosts"][0]["instanceId"],
        "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@svc"
    );
    let js = br#"{"type":"push-ack","lastRefTime":123456789,"data":""}"#;
    let java = br#"{"type": "push-ack", "lastRefTime":"123456789", "data":""}"#;
    for ack in [&js[..], &java[..]] {
        assert_eq!(
            parse_ack(ack),
            Some(Datagram::PushAck {
                last_ref_time: 123456789
            })
        );
    }
    assert_eq!(parse_ack(br#"{"type":"dump-ack","lastRefTime":1}"#), None);
    assert_eq!(parse_ack(b"\x1f\x8bgarbage"), None);
}

#[test]
fn url_decoding_and_boolean_words() {
    assert_eq!(url_decode("a%40%40b+c%zz%4"), "a@@b c%zz%4");
    for t in ["true", "TRUE", "on", "Yes", "y", "t"] {
        assert!(to_boolean(t), "{t}");
    }
    for f in ["false", "0", "no", "", "None"] {
        assert!(!to_boolean(f), "{f}");
    }
    assert_eq!(parse_metadata(Some("k1=v1,k2=v2")).unwrap().len(), 2);
    assert_eq!(
        parse_metadata(Some(r#"{"n":1,"b":true}"#)).unwrap()["n"],
        "1"
    );
    assert!(parse_metadata(Some("nokey")).is_err());
}
