//! Expiry rules of `ClientBeatCheckTask` (spec §8): [`beat_verdict`] decides
//! what one run does to one instance; `server/health.rs` applies it. The
//! caller decides ownership and whether health checks are enabled (step 1),
//! and carries out the consequences (push, event, async DELETE).

use super::instance::{Instance, Millis};

/// spec §3 / §1 defaults.
pub const DEFAULT_HEART_BEAT_TIMEOUT: Millis = 15000;
pub const DEFAULT_IP_DELETE_TIMEOUT: Millis = 30000;

/// spec §8 step 2: an ephemeral, unmarked, healthy instance whose last beat
/// is strictly more than its timeout ago (metadata
/// `preserved.heart.beat.timeout`, else `default_timeout`) becomes unhealthy.
fn should_mark_unhealthy(i: &Instance, now: Millis, default_timeout: Millis) -> bool {
    i.ephemeral
        && !i.marked
        && i.healthy
        && now - i.last_beat > i.heartbeat_timeout(default_timeout)
}

/// spec §8 step 4: an ephemeral, unmarked instance whose last beat is strictly
/// more than its delete timeout ago (metadata `preserved.ip.delete.timeout`,
/// else `default_delete_timeout`) is deleted, healthy or not.
fn should_delete(i: &Instance, now: Millis, default_delete_timeout: Millis) -> bool {
    i.ephemeral && !i.marked && now - i.last_beat > i.ip_delete_timeout(default_delete_timeout)
}

/// What one run of the beat check does to one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeatVerdict {
    /// Nothing to do.
    Fresh,
    /// Set unhealthy, push, publish `InstanceHeartbeatTimeoutEvent`.
    MarkUnhealthy,
    /// Already unhealthy (or never marked): send the delete.
    Delete,
    /// Both in the same run: step 2 marks it, then step 4 deletes it.
    MarkUnhealthyAndDelete,
}

impl BeatVerdict {
    /// Step 2: set unhealthy (and push, and publish the timeout event).
    pub fn marks_unhealthy(self) -> bool {
        matches!(
            self,
            BeatVerdict::MarkUnhealthy | BeatVerdict::MarkUnhealthyAndDelete
        )
    }

    /// Step 4: send the DELETE.
    pub fn deletes(self) -> bool {
        matches!(
            self,
            BeatVerdict::Delete | BeatVerdict::MarkUnhealthyAndDelete
        )
    }
}

/// spec §8 steps 2–4 for one instance. Both predicates see the state at the
/// start of the run (the delete rule does not look at `healthy`). With
/// `expire_instance` false the run stops after step 2.
pub fn beat_verdict(
    i: &Instance,
    now: Millis,
    default_timeout: Millis,
    default_delete_timeout: Millis,
    expire_instance: bool,
) -> BeatVerdict {
    let mark = should_mark_unhealthy(i, now, default_timeout);
    let delete = expire_instance && should_delete(i, now, default_delete_timeout);
    match (mark, delete) {
        (false, false) => BeatVerdict::Fresh,
        (true, false) => BeatVerdict::MarkUnhealthy,
        (false, true) => BeatVerdict::Delete,
        (true, true) => BeatVerdict::MarkUnhealthyAndDelete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::instance::{META_HEART_BEAT_TIMEOUT, META_IP_DELETE_TIMEOUT};

    const NOW: Millis = 1_000_000;

    fn inst(last_beat: Millis) -> Instance {
        Instance::new("1.1.1.1", 80, "DEFAULT", "DEFAULT_GROUP@@demo", last_beat)
    }

    #[test]
    fn huge_timeout_stays_healthy() {
        // spec §15 ClientBeatCheckTaskTest: lastBeat = now, timeout "1000000000"
        let mut i = inst(NOW);
        i.metadata
            .insert(META_HEART_BEAT_TIMEOUT.into(), "1000000000".into());
        assert!(!should_mark_unhealthy(&i, NOW, DEFAULT_HEART_BEAT_TIMEOUT));
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::Fresh
        );
    }

    #[test]
    fn short_timeout_marks_unhealthy() {
        // spec §15: lastBeat = now − 1000, timeout "10" → unhealthy
        let mut i = inst(NOW - 1000);
        i.metadata
            .insert(META_HEART_BEAT_TIMEOUT.into(), "10".into());
        assert!(should_mark_unhealthy(&i, NOW, DEFAULT_HEART_BEAT_TIMEOUT));
        // not deletable yet under the default delete timeout
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::MarkUnhealthy
        );
    }

    #[test]
    fn marked_instances_never_expire() {
        // spec §15: marked instance, delete timeout "10" or "10000" → not deleted
        for timeout in ["10", "10000"] {
            let mut i = inst(NOW - 50_000);
            i.marked = true;
            i.metadata
                .insert(META_IP_DELETE_TIMEOUT.into(), timeout.into());
            assert!(!should_delete(&i, NOW, DEFAULT_IP_DELETE_TIMEOUT));
            assert!(!should_mark_unhealthy(&i, NOW, DEFAULT_HEART_BEAT_TIMEOUT));
            assert_eq!(
                beat_verdict(&i, NOW, 15000, 30000, true),
                BeatVerdict::Fresh
            );
            // the same instance unmarked would be deleted
            i.marked = false;
            assert!(should_delete(&i, NOW, DEFAULT_IP_DELETE_TIMEOUT));
        }
    }

    #[test]
    fn boundaries_are_strict() {
        let i = inst(NOW - 15000);
        assert!(!should_mark_unhealthy(&i, NOW, 15000));
        assert!(should_mark_unhealthy(&i, NOW + 1, 15000));
        let i = inst(NOW - 30000);
        assert!(!should_delete(&i, NOW, 30000));
        assert!(should_delete(&i, NOW + 1, 30000));
    }

    #[test]
    fn only_ephemeral_and_healthy_rules() {
        let mut i = inst(NOW - 40_000);
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::MarkUnhealthyAndDelete
        );
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, false),
            BeatVerdict::MarkUnhealthy
        );
        i.healthy = false;
        assert!(!should_mark_unhealthy(&i, NOW, 15000));
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::Delete
        );
        i.ephemeral = false;
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::Fresh
        );
    }

    #[test]
    fn per_instance_delete_timeout() {
        // spec §8 step 4 with `preserved.ip.delete.timeout` = 10 ms: deleted 1 s after its last
        // beat, long before the default 30 s; already unhealthy, so only the delete is left.
        let mut i = inst(NOW - 1000);
        i.healthy = false;
        i.metadata
            .insert(META_IP_DELETE_TIMEOUT.into(), "10".into());
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, true),
            BeatVerdict::Delete
        );
        assert_eq!(
            beat_verdict(&i, NOW, 15000, 30000, false),
            BeatVerdict::Fresh
        );
    }

    #[test]
    fn what_each_verdict_does() {
        let does = |v: BeatVerdict| (v.marks_unhealthy(), v.deletes());
        assert_eq!(does(BeatVerdict::Fresh), (false, false));
        assert_eq!(does(BeatVerdict::MarkUnhealthy), (true, false));
        assert_eq!(does(BeatVerdict::Delete), (false, true));
        assert_eq!(does(BeatVerdict::MarkUnhealthyAndDelete), (true, true));
    }
}
