//! BeatReactor: one beat task per registered ephemeral instance (spec §13).

use super::NamingClient;
use crate::model::Millis;
use crate::wire::{Api, BeatInfo, BeatParams, Body, InstanceParams, CODE_RESOURCE_NOT_FOUND};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct BeatState {
    /// `groupedService#ip#port` → generation of the live task; a task whose generation is no
    /// longer here stops (re-adding a beat stops the old one).
    tasks: BTreeMap<String, u64>,
    next_gen: u64,
    /// One client-wide flag following the last reply; false until a reply says otherwise, so the
    /// first beat is always full.
    light_beat_enabled: bool,
}

pub fn beat_key(grouped: &str, ip: &str, port: u16) -> String {
    format!("{grouped}#{ip}#{port}")
}

/// The next beat delay: the server's interval when positive, else the beat's period (§13 step 3).
pub fn next_beat_delay(server_interval: Millis, period: Millis) -> Millis {
    if server_interval > 0 {
        server_interval
    } else {
        period
    }
}

impl NamingClient {
    /// `addBeatInfo`: schedules the beat task; its first beat goes out one period later.
    pub(crate) fn add_beat(self: &Arc<Self>, info: BeatInfo) {
        let key = beat_key(&info.service_name, &info.ip, info.port);
        let gen = {
            let mut st = self.beats.lock().unwrap();
            st.next_gen += 1;
            let gen = st.next_gen;
            st.tasks.insert(key.clone(), gen);
            gen
        };
        let client = self.clone();
        tokio::spawn(async move {
            let mut next = info.period;
            loop {
                client
                    .ctx
                    .net
                    .sleep(Duration::from_millis(next.max(1) as u64))
                    .await;
                if client.beats.lock().unwrap().tasks.get(&key) != Some(&gen) {
                    return; // removed or replaced
                }
                next = client.send_beat(&info).await;
            }
        });
    }

    /// `removeBeatInfo`: the task stops before its next beat.
    pub(crate) fn remove_beat(&self, grouped: &str, ip: &str, port: u16) {
        self.beats
            .lock()
            .unwrap()
            .tasks
            .remove(&beat_key(grouped, ip, port));
    }

    /// One BeatTask run; returns the delay before the next one.
    async fn send_beat(self: &Arc<Self>, info: &BeatInfo) -> Millis {
        let light = self.beats.lock().unwrap().light_beat_enabled;
        let params = BeatParams {
            namespace_id: self.namespace.clone(),
            service_name: info.service_name.clone(),
            cluster_name: info.cluster.clone(),
            ip: info.ip.clone(),
            port: info.port,
            beat: if light { None } else { Some(info.clone()) },
        };
        let resp = match self.req_api(Api::Beat(params)).await {
            Ok(r) => r,
            // A NacosException is logged and the beat rescheduled.
            Err(_) => return info.period,
        };
        let Body::Beat {
            client_beat_interval,
            code,
            light_beat_enabled,
        } = resp.body
        else {
            return info.period;
        };
        self.beats.lock().unwrap().light_beat_enabled = light_beat_enabled;
        if code == CODE_RESOURCE_NOT_FOUND {
            // spec §13 step 4: 20404 → re-register from the beat's data.
            let ev = crate::trace::Ev::ClientReregister {
                service: info.service_name.clone(),
                instance: format!("{}:{}", info.ip, info.port),
            };
            crate::trace::emit(&*self.ctx.name, ev);
            let p = InstanceParams {
                namespace_id: self.namespace.clone(),
                service_name: info.service_name.clone(),
                ip: info.ip.clone(),
                port: info.port,
                cluster_name: info.cluster.clone(),
                weight: info.weight,
                enabled: true,
                healthy: true,
                ephemeral: true,
                metadata: info.metadata.clone(),
            };
            let _ = self.req_api(Api::RegisterInstance(p)).await;
        }
        next_beat_delay(client_beat_interval, info.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_interval_wins_when_positive() {
        assert_eq!(next_beat_delay(1000, 5000), 1000);
        assert_eq!(next_beat_delay(0, 5000), 5000);
        assert_eq!(next_beat_delay(-1, 5000), 5000);
        assert_eq!(
            beat_key("DEFAULT_GROUP@@a", "1.1.1.1", 80),
            "DEFAULT_GROUP@@a#1.1.1.1#80"
        );
    }
}
