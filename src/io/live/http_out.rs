//! The client side of live HTTP between servers: one connection per call, with the call's own
//! connect and read timeouts (spec §3), and the failure kinds the simulation knows: refused,
//! connect timeout, read timeout, reset.

use super::endpoint::Inner;
use super::{FROM_HEADER, WIRE_PATH};
use crate::io::api::{NetError, Timeouts};
use crate::wire::{Request, Response, UserAgent};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

fn user_agent(ua: UserAgent) -> &'static str {
    match ua {
        UserAgent::Server => "Nacos-Server:1.4.1",
        UserAgent::JavaClient => "Nacos-Java-Client:v1.4.1",
    }
}

pub(super) async fn call(
    inner: Arc<Inner>,
    dst: SocketAddr,
    req: Request,
    t: Timeouts,
) -> Result<Response, NetError> {
    inner.env.running(inner.me).await;
    if inner.env.is_cut(inner.me, dst) {
        // A cut link drops the SYN: the connect times out.
        tokio::time::sleep(t.connect).await;
        return Err(NetError::ConnectTimeout);
    }
    let stream = match tokio::time::timeout(t.connect, TcpStream::connect(dst)).await {
        Err(_) => return Err(NetError::ConnectTimeout),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            return Err(NetError::Reset)
        }
        Ok(Err(_)) => return Err(NetError::Refused),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let exchange = async {
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| NetError::Reset)?;
        tokio::spawn(conn);
        let body = rmp_serde::to_vec_named(&req).map_err(|_| NetError::Reset)?;
        let http = hyper::Request::post(WIRE_PATH)
            .header(hyper::header::HOST, dst.to_string())
            .header(hyper::header::USER_AGENT, user_agent(req.ua))
            .header(hyper::header::CONTENT_TYPE, "application/msgpack")
            .header(FROM_HEADER, inner.me.to_string())
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| NetError::Reset)?;
        let resp = send.send_request(http).await.map_err(|_| NetError::Reset)?;
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|_| NetError::Reset)?
            .to_bytes();
        rmp_serde::from_slice::<Response>(&bytes).map_err(|_| NetError::Reset)
    };
    match t.read {
        Some(read) => tokio::time::timeout(read, exchange)
            .await
            .unwrap_or(Err(NetError::ReadTimeout)),
        None => exchange.await,
    }
}
