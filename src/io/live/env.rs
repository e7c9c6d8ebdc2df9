//! The live faults of one `serve` cluster (issue 12 part 3): which servers are paused and which
//! directed server-to-server links are cut. Every server's [`super::net::Net`] reads it; the
//! control interface writes it. A crash is not here: it ends the server's runtime, which closes
//! its sockets (`src/live/`).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
struct Faults {
    /// Directed links (from, to) between member addresses that drop traffic.
    cuts: BTreeSet<(SocketAddr, SocketAddr)>,
    paused: BTreeSet<SocketAddr>,
}

pub struct LiveEnv {
    members: Vec<SocketAddr>,
    faults: Mutex<Faults>,
    /// Bumped on every change, so paused sockets and timers wake to look again.
    changed: watch::Sender<u64>,
}

impl LiveEnv {
    pub fn new(members: Vec<SocketAddr>) -> LiveEnv {
        LiveEnv {
            members,
            faults: Mutex::default(),
            changed: watch::channel(0).0,
        }
    }

    pub fn members(&self) -> &[SocketAddr] {
        &self.members
    }

    /// The member an address belongs to: its HTTP port, or its JRaft port (`port - 1000`,
    /// jraft spec §J4.2).
    pub fn member_of(&self, a: SocketAddr) -> Option<SocketAddr> {
        self.members
            .iter()
            .find(|m| {
                m.ip() == a.ip()
                    && (m.port() == a.port() || m.port().checked_sub(1000) == Some(a.port()))
            })
            .copied()
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// Cuts every link between `a` and the other members, both ways (`isolate`).
    pub fn isolate(&self, a: SocketAddr) {
        let mut f = self.faults.lock().unwrap();
        for &m in &self.members {
            if m != a {
                f.cuts.insert((a, m));
                f.cuts.insert((m, a));
            }
        }
        drop(f);
        self.bump();
    }

    /// Cuts the directed link `from → to` (a partition is both directions of each cross pair).
    pub fn cut(&self, from: SocketAddr, to: SocketAddr) {
        self.faults.lock().unwrap().cuts.insert((from, to));
        self.bump();
    }

    /// Restores `a`'s links (`heal s2`), or every link (`heal`).
    pub fn heal(&self, a: Option<SocketAddr>) {
        let mut f = self.faults.lock().unwrap();
        match a {
            Some(a) => f.cuts.retain(|(x, y)| *x != a && *y != a),
            None => f.cuts.clear(),
        }
        drop(f);
        self.bump();
    }

    /// Whether traffic from `from` to `to` (either may be a JRaft port) is dropped.
    pub fn is_cut(&self, from: SocketAddr, to: SocketAddr) -> bool {
        let (Some(a), Some(b)) = (self.member_of(from), self.member_of(to)) else {
            return false;
        };
        self.faults.lock().unwrap().cuts.contains(&(a, b))
    }

    pub fn cut_links(&self) -> Vec<(SocketAddr, SocketAddr)> {
        self.faults.lock().unwrap().cuts.iter().copied().collect()
    }

    pub fn set_paused(&self, a: SocketAddr, paused: bool) {
        let mut f = self.faults.lock().unwrap();
        if paused {
            f.paused.insert(a);
        } else {
            f.paused.remove(&a);
        }
        drop(f);
        self.bump();
    }

    pub fn is_paused(&self, a: SocketAddr) -> bool {
        self.faults.lock().unwrap().paused.contains(&a)
    }

    /// Returns once `a` is not paused (at once if it is not): a paused server's sockets hold
    /// what arrives, and its calls and timers wait, as a stopped process's would.
    pub async fn running(&self, a: SocketAddr) {
        let mut rx = self.changed.subscribe();
        while self.is_paused(a) {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}
