//! What a live node's sockets share: its address, the cluster's live faults, its UDP push
//! socket and the answers to the Open API's non-call requests. The facade (`net.rs`) and the
//! two HTTP sides (`http_in.rs`, `http_out.rs`) all read it; it reads neither.

use super::env::LiveEnv;
use crate::io::openapi::{Extra, Rendered};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::UdpSocket;

/// Answers the Open API requests that are not [`crate::wire::Api`] calls (metrics, service
/// detail…), from the server's state; set by whoever boots the server.
pub type ExtraFn = Arc<dyn Fn(Extra) -> Rendered + Send + Sync>;

pub(super) struct Inner {
    pub me: SocketAddr,
    pub env: Arc<LiveEnv>,
    pub udp: Arc<UdpSocket>,
    pub extra: OnceLock<ExtraFn>,
}
