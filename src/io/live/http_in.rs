//! The server side of live HTTP: one connection's requests, keep-alive (the clients reuse
//! connections, research nacos-clients.md §3.1). A peer's wire call (`WIRE_PATH`) goes to the
//! handler as it is; anything else is Nacos's Open API, mapped by `io::openapi` (spec §12).

use super::endpoint::Inner;
use super::{FROM_HEADER, MAX_CLIENT_BODY, MAX_WIRE_BODY, WIRE_PATH};
use crate::io::api::Handler;
use crate::io::openapi::{self, HttpIn, Refusal, Rendered, Routed};
use crate::wire::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

type Reply = hyper::Response<Full<Bytes>>;

fn reply(status: u16, json: bool, body: impl Into<Bytes>) -> Reply {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    let ct = if json {
        "application/json;charset=UTF-8"
    } else {
        "text/html;charset=UTF-8"
    };
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

pub(super) fn serve_connection(
    inner: Arc<Inner>,
    handler: Arc<dyn Handler>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    tokio::spawn(async move {
        let svc = service_fn(move |req| {
            let (inner, handler) = (inner.clone(), handler.clone());
            async move { Ok::<_, Infallible>(one(inner, handler, peer, req).await) }
        });
        let _ = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), svc)
            .await;
    });
}

async fn one(
    inner: Arc<Inner>,
    handler: Arc<dyn Handler>,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Reply {
    // A paused server holds what arrives until it resumes.
    inner.env.running(inner.me).await;
    let (parts, body) = req.into_parts();
    let wire = parts.uri.path() == WIRE_PATH;
    let limit = if wire { MAX_WIRE_BODY } else { MAX_CLIENT_BODY };
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(413, false, "Request Entity Too Large"),
    };
    if wire {
        return wire_call(&inner, handler, peer, &parts.headers, &bytes).await;
    }
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
    };
    // §4.1: the User-Agent, falling back to Client-Version, names the client.
    let ua = match header(USER_AGENT.as_str()) {
        "" => header("client-version"),
        ua => ua,
    };
    let form = if header(CONTENT_TYPE.as_str()).starts_with("application/x-www-form-urlencoded") {
        std::str::from_utf8(&bytes).unwrap_or("")
    } else {
        ""
    };
    let input = HttpIn {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        form,
        user_agent: ua,
    };
    match openapi::route(input) {
        Routed::Reply(Refusal { status, body }) => reply(status, false, body),
        Routed::Extra(x) => match inner.extra.get() {
            Some(f) => {
                let Rendered { status, json, body } = f(x);
                reply(status, json, body)
            }
            None => reply(
                503,
                false,
                "server is STARTING now, please try again later!",
            ),
        },
        Routed::Call(req, shape) => {
            let resp = handler.handle(peer, *req).await;
            let Rendered { status, json, body } = openapi::render(&resp, &shape);
            reply(status, json, body)
        }
    }
}

/// A peer's call: its JSON request, from the member address it names.
async fn wire_call(
    inner: &Inner,
    handler: Arc<dyn Handler>,
    peer: SocketAddr,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Reply {
    let from = headers
        .get(FROM_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(peer);
    if inner.env.is_cut(from, inner.me) {
        // A cut link drops what crosses it: the caller waits for its read timeout.
        std::future::pending::<()>().await;
    }
    let req: Request = match rmp_serde::from_slice(body) {
        Ok(r) => r,
        Err(e) => return reply(400, false, format!("bad wire request: {e}")),
    };
    let resp: Response = handler.handle(from, req).await;
    let status = resp.status;
    match rmp_serde::to_vec_named(&resp) {
        Ok(b) => reply(status, true, b),
        Err(e) => reply(500, false, format!("cannot encode the reply: {e}")),
    }
}
