//! Distro: ownership of services among the servers (§5). In this version every server runs on
//! its own (no replication yet), so each server's healthy list is itself alone and it owns every
//! service; the full membership-driven mapper and the forwarding filter slot in here.

use crate::model::keys::distro_hash;
use std::net::SocketAddr;
use std::sync::Mutex;

/// DistroMapper: which server owns a service.
pub struct DistroMapper {
    local: SocketAddr,
    /// The configured members (kept for the cluster mode).
    pub members: Vec<SocketAddr>,
    /// Sorted UP + SUSPICIOUS servers (§5). Standalone: the local server only.
    healthy: Mutex<Vec<SocketAddr>>,
}

impl DistroMapper {
    pub fn new(local: SocketAddr, members: Vec<SocketAddr>) -> Self {
        DistroMapper {
            local,
            members,
            healthy: Mutex::new(vec![local]),
        }
    }

    /// `responsible(s)` of §5 over the current healthy list.
    pub fn responsible(&self, grouped: &str) -> bool {
        responsible(&self.healthy.lock().unwrap(), self.local, grouped)
    }

    /// `mapSrv(s)` of §5.
    pub fn map_srv(&self, grouped: &str) -> SocketAddr {
        map_srv(&self.healthy.lock().unwrap(), self.local, grouped)
    }
}

/// spec §5: false on an empty list; true when the local address is not in the list; otherwise
/// `distroHash(s) % len == index(local)`.
pub fn responsible(healthy: &[SocketAddr], local: SocketAddr, grouped: &str) -> bool {
    if healthy.is_empty() {
        return false;
    }
    let Some(idx) = healthy.iter().position(|a| *a == local) else {
        return true;
    };
    distro_hash(grouped) as usize % healthy.len() == idx
}

/// spec §5: `list[distroHash(s) % len]`, or the local address when the list is empty.
pub fn map_srv(healthy: &[SocketAddr], local: SocketAddr, grouped: &str) -> SocketAddr {
    if healthy.is_empty() {
        return local;
    }
    healthy[distro_hash(grouped) as usize % healthy.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ownership_follows_the_hash_over_the_sorted_list() {
        // spec §5: distroHash("DEFAULT_GROUP@@demo") = 1251993628; 1251993628 % 3 = 1.
        let list = vec![a("10.0.0.1:8848"), a("10.0.0.2:8848"), a("10.0.0.3:8848")];
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@demo"), list[1]);
        assert!(responsible(&list, list[1], "DEFAULT_GROUP@@demo"));
        assert!(!responsible(&list, list[0], "DEFAULT_GROUP@@demo"));
        // 142749101 % 3 = 2, 142749100 % 3 = 1
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@svc-a"), list[2]);
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@svc-b"), list[1]);
    }

    #[test]
    fn edge_cases_of_responsible() {
        let me = a("10.0.0.9:8848");
        assert!(!responsible(&[], me, "x@@y"));
        assert!(responsible(&[a("10.0.0.1:8848")], me, "x@@y"));
        assert_eq!(map_srv(&[], me, "x@@y"), me);
        let m = DistroMapper::new(me, vec![me]);
        assert!(m.responsible("DEFAULT_GROUP@@anything"));
    }
}
