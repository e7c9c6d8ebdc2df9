// Acceptance test of nacos-sim live mode with the real npm client nacos-naming@2.6.3
// (research nacos-clients.md §3.1, §6). Usage: node accept.js basic|failover
//   SERVERS   the serverList, e.g. 127.0.0.1:8848,127.0.0.1:8858,127.0.0.1:8868
//   CONTROL   (failover) the control URL of `nacos-sim serve --control-port`
// Every wait is bounded; the last line is `N passed, N failed`; exit 1 on any failure.
'use strict';

// Keep UDP push on loopback (research §6 "Network hygiene"): the client reports this address.
require('address').ip = () => '127.0.0.1';
const assert = require('assert');
const http = require('http');
const { NacosNamingClient } = require('nacos-naming');

const SERVERS = process.env.SERVERS;
const CONTROL = process.env.CONTROL;
const warnings = [];
const logger = {
  debug() {}, info() {}, log() {},
  warn(...a) { warnings.push(a.map(String).join(' ')); },
  error(...a) { warnings.push(a.map(String).join(' ')); },
};
let passed = 0;
let failed = 0;
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

async function waitFor(what, cond, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

function httpGet(url, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, res => {
      let body = '';
      res.on('data', d => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const ips = hosts => hosts.map(h => `${h.ip}:${h.port}`).sort();

async function basic() {
  const client = new NacosNamingClient({ logger, serverList: SERVERS, namespace: 'public' });
  await client.ready();
  const svc = 'accept.svc.' + Date.now();
  const events = [];
  client.subscribe(svc, hosts => events.push(ips(hosts)));
  await check('register two instances', async () => {
    await client.registerInstance(svc, { ip: '10.0.0.1', port: 8080, metadata: { zone: 'a' } });
    await client.registerInstance(svc, { ip: '10.0.0.2', port: 8080, weight: 2 });
  });
  await check('list: every field a client reads, instanceId ip#port#cluster#group@@service', async () => {
    // The owner applies at once; another server gets it by Distro sync, so poll briefly.
    let hosts = [];
    await waitFor('both instances in a pull', async () => {
      hosts = await client.getAllInstances(svc, 'DEFAULT_GROUP', 'DEFAULT', false);
      return hosts.length === 2;
    }, 10000);
    const h1 = hosts.find(h => h.ip === '10.0.0.1');
    assert.deepStrictEqual(ips(hosts), ['10.0.0.1:8080', '10.0.0.2:8080']);
    assert.strictEqual(h1.instanceId, `10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@${svc}`);
    assert.ok(h1.healthy && h1.enabled && h1.valid && !h1.marked && h1.ephemeral);
    assert.strictEqual(h1.weight, 1);
    assert.strictEqual(h1.clusterName, 'DEFAULT');
    assert.strictEqual(h1.serviceName, `DEFAULT_GROUP@@${svc}`);
    assert.deepStrictEqual(h1.metadata, { zone: 'a' });
    assert.strictEqual(hosts.find(h => h.ip === '10.0.0.2').weight, 2);
    const healthy = await client.selectInstances(svc, 'DEFAULT_GROUP', 'DEFAULT', true, false);
    assert.strictEqual(healthy.length, 2);
  });
  await check('subscriber sees both instances', () =>
    waitFor('a 2-host event', () => events.some(e => e.length === 2), 15000));
  await check('beats keep both instances healthy past the 15 s timeout', async () => {
    // The first beat round fires ~10 s after the client is built (research §3.1); an instance
    // with no beat turns unhealthy after 15 s (spec §8).
    await sleep(17000);
    const hosts = await client.getAllInstances(svc, 'DEFAULT_GROUP', 'DEFAULT', false);
    assert.strictEqual(hosts.length, 2);
    assert.ok(hosts.every(h => h.healthy), JSON.stringify(hosts));
  });
  await check('deregister: the subscriber sees 2 -> 1 (by UDP push or poll)', async () => {
    await client.deregisterInstance(svc, { ip: '10.0.0.2', port: 8080 });
    await waitFor('a 1-host event', () => {
      const last = events[events.length - 1];
      return last && last.length === 1 && last[0] === '10.0.0.1:8080';
    }, 15000);
    await waitFor('the pull to agree', async () => {
      const hosts = await client.getAllInstances(svc, 'DEFAULT_GROUP', 'DEFAULT', false);
      return JSON.stringify(ips(hosts)) === JSON.stringify(['10.0.0.1:8080']);
    }, 10000);
  });
  await check('getServerStatus is UP', async () => {
    assert.strictEqual(await client.getServerStatus(), 'UP');
  });
  await check('final deregister empties the service on every server', async () => {
    await client.deregisterInstance(svc, { ip: '10.0.0.1', port: 8080 });
    for (const s of SERVERS.split(',')) {
      await waitFor(`no hosts on ${s}`, async () => {
        const r = await httpGet(`http://${s}/nacos/v1/ns/instance/list?serviceName=${svc}`);
        return r.status === 200 && JSON.parse(r.body).hosts.length === 0;
      }, 10000);
    }
  });
  console.log(`service ${svc}`);
  await client.close();
}

async function failover() {
  const servers = SERVERS.split(',');
  assert.ok(servers.length >= 2 && CONTROL, 'failover needs SERVERS with 2+ servers and CONTROL');
  const client = new NacosNamingClient({ logger, serverList: SERVERS, namespace: 'public' });
  await client.ready();
  const svc = 'failover.svc.' + Date.now();
  await check('register before the crash', async () => {
    await client.registerInstance(svc, { ip: '10.0.1.1', port: 9090 });
  });
  await check('crash s1 through the control port', async () => {
    const r = await httpGet(`${CONTROL}/crash/s1`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
    const down = await httpGet(`http://${servers[0]}/nacos/v1/ns/operator/metrics`).then(() => false, () => true);
    assert.ok(down, 's1 still answers');
  });
  await check('the client fails over: register, list and status succeed without s1', async () => {
    // Calls that reach s1 first fail and move on (proxy.js _reqAPI); until the others mark s1
    // DOWN (spec §4) a write owned by s1 is refused by their DistroFilter forward, so retry.
    const before = warnings.length;
    await waitFor('a register to succeed', async () => {
      try {
        await client.registerInstance(svc, { ip: '10.0.1.2', port: 9090 });
        return true;
      } catch (e) { return false; }
    }, 20000);
    let hosts = [];
    await waitFor('both instances listed', async () => {
      try {
        hosts = await client.getAllInstances(svc, 'DEFAULT_GROUP', 'DEFAULT', false);
      } catch (e) { return false; }
      return hosts.length === 2;
    }, 20000);
    // Each call starts at a random server: 24 calls leave s1 untried with odds (2/3)^24 < 1e-4.
    for (let i = 0; i < 24; i++) assert.strictEqual(await client.getServerStatus(), 'UP');
    const tried = warnings.slice(before).some(w => w.includes(servers[0]));
    assert.ok(tried, 'no call tried the crashed server (random start index); failover unobserved');
  });
  await check('restart s1: it serves the registry again', async () => {
    const r = await httpGet(`${CONTROL}/restart/s1`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
    await waitFor('s1 to list both instances', async () => {
      const x = await httpGet(`http://${servers[0]}/nacos/v1/ns/instance/list?serviceName=${svc}`).catch(() => null);
      return x && x.status === 200 && JSON.parse(x.body).hosts.length === 2;
    }, 20000);
  });
  await check('pause s2: a call that reaches it times out and moves on; resume', async () => {
    let r = await httpGet(`${CONTROL}/pause/s2`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
    const before = warnings.length;
    const hitS2 = () => warnings.slice(before).some(w => w.includes(servers[1]));
    // Reads are local (spec §5), so they succeed on the others; ~1 in 3 calls starts at s2
    // and waits for urllib's 5 s timeout first.
    for (let i = 0; i < 8 && !hitS2(); i++) {
      assert.strictEqual(await client.getServerStatus(), 'UP');
    }
    assert.ok(hitS2(), 'no call reached the paused s2');
    r = await httpGet(`${CONTROL}/resume/s2`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
    const m = await httpGet(`http://${servers[1]}/nacos/v1/ns/operator/metrics`);
    assert.strictEqual(m.status, 200);
  });
  await check('isolate s3 then heal: the servers see it go and come back (event log)', async () => {
    let r = await httpGet(`${CONTROL}/isolate/s3`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
    const st = await httpGet(`${CONTROL}/status`);
    assert.ok(st.body.includes('cut-to='), st.body);
    // Member reports go every 2 s with a 5 s connect timeout across the cut (spec §4): the
    // peers mark s3 SUSPICIOUS after about 5-8 s.
    await sleep(10000);
    r = await httpGet(`${CONTROL}/heal`, 'POST');
    assert.strictEqual(r.status, 200, r.body);
  });
  await client.deregisterInstance(svc, { ip: '10.0.1.1', port: 9090 }).catch(() => {});
  await client.deregisterInstance(svc, { ip: '10.0.1.2', port: 9090 }).catch(() => {});
  await client.close();
}

(async () => {
  const part = process.argv[2] || 'basic';
  try {
    await (part === 'failover' ? failover() : basic());
  } catch (e) {
    failed++;
    console.log(`FAIL ${part}: ${e && e.stack || e}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
