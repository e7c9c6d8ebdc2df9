//! ServiceManager's EmptyServiceAutoClean (naming spec §6 "Empty-service auto-clean",
//! corrected): on every node, from 50 s after start and every 30 s, each service this node owns
//! that has no instance in any cluster counts one more empty pass; on the pass after its count
//! exceeds 3 (the 5th in a row, 120–150 s after it emptied) the node removes it through the
//! active persistence protocol (a delete of its service-meta key), so without a leader the
//! removal fails, is only logged, and is tried again next pass. A non-empty pass resets the
//! count.

use super::Server;
use crate::model::keys::meta_key;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What one pass does to one service: (count after the pass, remove it now).
pub fn finalize(count: u64, empty: bool, limit: u64) -> (u64, bool) {
    if !empty {
        return (0, false);
    }
    // `if (finalizeCount > limit) remove; finalizeCount += 1` (ServiceManager 1034-1084).
    (count + 1, count > limit)
}

impl Server {
    pub(crate) fn start_empty_service_clean(self: &Arc<Self>) {
        let cfg = self.ctx.cfg.clone();
        if !cfg.empty_service_clean {
            return;
        }
        let server = self.clone();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + cfg.empty_service_clean_initial;
            let mut next = start;
            loop {
                // scheduleAtFixedRate: a fixed grid from the first run.
                server.ctx.net.sleep_until(next).await;
                server.clean_empty_services();
                next += cfg.empty_service_clean_period;
            }
        });
    }

    fn clean_empty_services(self: &Arc<Self>) {
        let limit = self.ctx.cfg.empty_service_finalize_count;
        let owned: Vec<((String, String), bool)> = {
            let st = self.state.lock().unwrap();
            st.services
                .iter()
                .filter(|((_, g), _)| self.mapper.responsible(g))
                .map(|(k, svc)| (k.clone(), svc.all_instances().is_empty()))
                .collect()
        };
        let mut remove = vec![];
        {
            let mut counts = self.empty_counts.lock().unwrap();
            let mut next: BTreeMap<(String, String), u64> = BTreeMap::new();
            for (key, empty) in owned {
                let (count, now) = finalize(counts.get(&key).copied().unwrap_or(0), empty, limit);
                if now {
                    remove.push(key.clone());
                }
                next.insert(key, count);
            }
            *counts = next;
        }
        for (ns, grouped) in remove {
            let server = self.clone();
            tokio::spawn(async move {
                // easyRemoveService: an exception is only logged.
                let _ = server.persistent_remove(&meta_key(&ns, &grouped)).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::finalize;

    #[test]
    fn a_service_is_removed_on_its_fifth_empty_pass_in_a_row() {
        // naming spec §6 (corrected): the count starts at 0 and removal needs count > 3.
        let mut count = 0;
        let mut removed_at = None;
        for pass in 1..=6 {
            let (c, now) = finalize(count, true, 3);
            count = c;
            if now && removed_at.is_none() {
                removed_at = Some(pass);
            }
        }
        assert_eq!(removed_at, Some(5));
        assert_eq!(
            finalize(7, false, 3),
            (0, false),
            "an instance resets the count"
        );
    }
}
