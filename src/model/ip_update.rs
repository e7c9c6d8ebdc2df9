//! The instance-list merge of `ServiceManager.updateIpAddresses` (spec §8 "Register and
//! deregister", steps 1–3): the list a register or deregister puts to Distro or Raft. The
//! server takes the per-service lock, calls [`update_ip_addresses`] and puts the result (§6
//! "put"); applying it to the service is `Service::update_ips`.

use super::instance::Instance;
use std::collections::BTreeMap;

/// What a register or deregister does to the list (`UPDATE_INSTANCE_ACTION_ADD`/`_REMOVE`).
#[derive(Debug, Clone, PartialEq)]
pub enum IpAction {
    Add(Instance),
    Remove(Instance),
}

/// spec §8 `updateIpAddresses`, for one kind (ephemeral or persistent) of one service:
/// 1. start from the current datum (`None`: the store has no such key, start empty), **not**
///    from memory: an instance only in memory is not carried over;
/// 2. copy `healthy` and `lastBeat` into it from `memory` (the service's instances of that
///    kind), matched on ip:port;
/// 3. upsert the action's instance by datumKey, keeping an existing `instanceId`, or remove
///    the instance with its datumKey.
///
/// The result is in datumKey order. (Step 4, a 400 for an add that ends empty, cannot happen:
/// an add always leaves its instance in the list.)
pub fn update_ip_addresses(
    datum: Option<Vec<Instance>>,
    memory: &[Instance],
    action: IpAction,
) -> Vec<Instance> {
    // ip:port → the in-memory instance (the last one when two clusters hold the same address).
    let current: BTreeMap<String, &Instance> = memory.iter().map(|i| (i.ip_port(), i)).collect();
    let mut list: BTreeMap<String, Instance> = BTreeMap::new();
    for mut i in datum.unwrap_or_default() {
        if let Some(mem) = current.get(&i.ip_port()) {
            i.healthy = mem.healthy;
            i.last_beat = mem.last_beat;
        }
        list.insert(i.datum_key(), i);
    }
    match action {
        IpAction::Remove(i) => {
            list.remove(&i.datum_key());
        }
        IpAction::Add(mut i) => {
            if let Some(old) = list.get(&i.datum_key()) {
                i.instance_id = old.instance_id.clone();
            }
            list.insert(i.datum_key(), i);
        }
    }
    list.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: &str = "DEFAULT_GROUP@@demo";

    fn inst(ip: &str, port: u16, cluster: &str, last_beat: i64) -> Instance {
        Instance::new(ip, port, cluster, SVC, last_beat)
    }

    fn addrs(list: &[Instance]) -> Vec<String> {
        list.iter().map(|i| i.datum_key()).collect()
    }

    #[test]
    fn the_list_starts_from_the_datum_not_from_memory() {
        // spec §8 step 1: an instance only in memory (its key dropped by a verify's toRemove,
        // §6) is not put back by the next register.
        let memory = [inst("10.0.0.1", 80, "DEFAULT", 5)];
        let b = inst("10.0.0.2", 80, "DEFAULT", 6);
        let out = update_ip_addresses(None, &memory, IpAction::Add(b.clone()));
        assert_eq!(out, vec![b.clone()]);
        let out = update_ip_addresses(Some(vec![]), &memory, IpAction::Add(b.clone()));
        assert_eq!(out, vec![b]);
    }

    #[test]
    fn health_and_last_beat_come_from_memory_by_ip_and_port() {
        // spec §8 step 2: the datum's copy may be stale; memory has the beat check's verdict.
        let datum = vec![inst("10.0.0.1", 80, "DEFAULT", 1)];
        let mut mem = inst("10.0.0.1", 80, "DEFAULT", 9);
        mem.healthy = false;
        let other = inst("10.0.0.2", 80, "DEFAULT", 7);
        let out = update_ip_addresses(Some(datum), &[mem.clone()], IpAction::Add(other.clone()));
        assert_eq!(addrs(&out), addrs(&[mem.clone(), other]));
        assert!(!out[0].healthy, "unhealthy in memory stays unhealthy");
        assert_eq!(out[0].last_beat, 9);
        // Matched on ip:port only: memory's copy in another cluster counts too.
        let mut elsewhere = inst("10.0.0.1", 80, "c2", 11);
        elsewhere.healthy = false;
        let datum = vec![inst("10.0.0.1", 80, "DEFAULT", 1)];
        let b = inst("10.0.0.3", 80, "DEFAULT", 1);
        let out = update_ip_addresses(Some(datum), &[elsewhere], IpAction::Add(b));
        assert_eq!((out[0].healthy, out[0].last_beat), (false, 11));
    }

    #[test]
    fn an_add_upserts_by_datum_key_and_keeps_the_instance_id() {
        // spec §8 step 3: the request's instance replaces the datum's copy whole (weight,
        // metadata, health as sent; §6 then keeps the replica's health), but the id stays.
        let mut old = inst("10.0.0.1", 80, "DEFAULT", 1);
        old.instance_id = "kept-id".into();
        let mut new = inst("10.0.0.1", 80, "DEFAULT", 2);
        new.weight = 3.0;
        new.metadata.insert("v".into(), "2".into());
        let out = update_ip_addresses(Some(vec![old]), &[], IpAction::Add(new.clone()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].instance_id, "kept-id");
        assert_eq!((out[0].weight, out[0].last_beat), (3.0, 2));
        assert_eq!(out[0].metadata, new.metadata);
        // The same address in another cluster is another datumKey: both stay.
        let c2 = inst("10.0.0.1", 80, "c2", 2);
        let out = update_ip_addresses(Some(out), &[], IpAction::Add(c2));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_remove_drops_the_datum_key_and_nothing_else() {
        let datum = vec![
            inst("10.0.0.2", 80, "DEFAULT", 1),
            inst("10.0.0.1", 80, "DEFAULT", 1),
            inst("10.0.0.1", 80, "c2", 1),
        ];
        // Only the datumKey matters (ip, port, cluster): not weight or metadata.
        let mut gone = inst("10.0.0.1", 80, "DEFAULT", 99);
        gone.weight = 5.0;
        let out = update_ip_addresses(Some(datum.clone()), &[], IpAction::Remove(gone));
        assert_eq!(addrs(&out), addrs(&[datum[2].clone(), datum[0].clone()]));
        // Removing what is not there changes nothing; a deregister may empty the list (§6).
        let absent = inst("10.0.0.9", 80, "DEFAULT", 1);
        let out2 = update_ip_addresses(Some(out.clone()), &[], IpAction::Remove(absent));
        assert_eq!(out2, out);
        let one = vec![inst("10.0.0.1", 80, "DEFAULT", 1)];
        let last = one[0].clone();
        assert!(update_ip_addresses(Some(one), &[], IpAction::Remove(last)).is_empty());
    }

    #[test]
    fn the_result_is_in_datum_key_order() {
        let datum = vec![
            inst("10.0.0.3", 80, "DEFAULT", 1),
            inst("10.0.0.1", 80, "DEFAULT", 1),
        ];
        let add = inst("10.0.0.2", 80, "DEFAULT", 1);
        let out = update_ip_addresses(Some(datum), &[], IpAction::Add(add));
        let ips: Vec<&str> = out.iter().map(|i| i.ip.as_str()).collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    }
}
