"""Raw-HTTP and UDP conformance checks of nacos-sim live mode for what no installable client
covers (research nacos-clients.md §6 list; spec §8, §10–§12). Standard library only.
SERVER = one server's host:port. The last line is `N passed, N failed`; exit 1 on a failure."""

import json
import os
import socket
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

SERVER = os.environ["SERVER"]
JAVA = "Nacos-Java-Client:v1.4.1"
results = {"passed": 0, "failed": 0}
svc = f"raw.svc.{int(time.time() * 1000)}"


def check(name, fn):
    t0 = time.time()
    try:
        fn()
        results["passed"] += 1
        print(f"ok   {name} ({int((time.time() - t0) * 1000)} ms)")
    except Exception:  # noqa: BLE001
        results["failed"] += 1
        print(f"FAIL {name}: {traceback.format_exc().strip().splitlines()[-1]}")


def req(method, path, params=None, ua="curl/8", body=None, ctype=None):
    url = f"http://{SERVER}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    r = urllib.request.Request(url, method=method, data=body, headers={"User-Agent": ua})
    if ctype:
        r.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def reg(ip, port=80, **kw):
    p = {"serviceName": svc, "ip": ip, "port": port, **kw}
    assert req("POST", "/nacos/v1/ns/instance", p) == (200, "ok")


def lst(ua="curl/8", **kw):
    s, b = req("GET", "/nacos/v1/ns/instance/list", {"serviceName": svc, **kw}, ua=ua)
    assert s == 200, (s, b)
    return json.loads(b)


def beats():
    unknown = {"serviceName": svc, "ip": "10.9.9.9", "port": 1}
    s, b = req("PUT", "/nacos/v1/ns/instance/beat", unknown)
    assert (s, json.loads(b)) == (200, {"clientBeatInterval": 5000, "code": 20404}), b
    # With a beat body an unknown instance is registered from it (§8).
    beat = json.dumps({"ip": "10.9.9.9", "port": 1, "cluster": "", "serviceName": f"DEFAULT_GROUP@@{svc}",
                       "weight": 1, "metadata": {"k": "v"}, "scheduled": True})
    s, b = req("PUT", "/nacos/v1/ns/instance/beat", {**unknown, "beat": beat})
    assert json.loads(b)["code"] == 10200, b
    # A light beat (params only) for a known instance.
    s, b = req("PUT", "/nacos/v1/ns/instance/beat", unknown)
    assert json.loads(b) == {"clientBeatInterval": 5000, "code": 10200, "lightBeatEnabled": True}, b
    hosts = lst()["hosts"]
    assert [(h["ip"], h["metadata"]) for h in hosts] == [("10.9.9.9", {"k": "v"})], hosts


def filters():
    reg("10.9.9.10", clusterName="c2")
    reg("10.9.9.11", enabled="false")
    ips = sorted(h["ip"] for h in lst()["hosts"])
    assert ips == ["10.9.9.10", "10.9.9.9"], ips  # the disabled instance is hidden (§11 step 7)
    c2 = lst(clusters="c2")
    assert [h["ip"] for h in c2["hosts"]] == ["10.9.9.10"] and c2["clusters"] == "c2", c2


def grouping():
    other, java = lst(), lst(ua=JAVA)
    assert other["dom"] == svc and other["hosts"][0]["serviceName"] == svc, other
    assert java["dom"] == f"DEFAULT_GROUP@@{svc}", java
    assert java["hosts"][0]["serviceName"] == f"DEFAULT_GROUP@@{svc}", java
    unknown = json.loads(req("GET", "/nacos/v1/ns/instance/list", {"serviceName": "nope", "clusters": "X"})[1])
    assert unknown == {"name": "DEFAULT_GROUP@@nope", "clusters": "X", "cacheMillis": 3000, "hosts": []}, unknown


def errors():
    s, b = req("POST", "/nacos/v1/ns/instance", {"ip": "1.1.1.1", "port": 1})
    assert (s, b) == (400, "Param 'serviceName' is required."), (s, b)
    s, b = req("POST", "/nacos/v1/ns/instance", {"serviceName": svc, "port": 1})
    assert (s, b) == (400, "Param 'ip' is required."), (s, b)
    s, b = req("POST", "/nacos/v1/ns/instance", {"serviceName": svc, "ip": "1.1.1.1"})
    assert (s, b) == (400, "Param 'port' is required."), (s, b)
    s, b = req("POST", "/nacos/v1/ns/instance", {"serviceName": svc, "ip": "1.1.1.1", "port": 1, "weight": 20000})
    assert s == 400, (s, b)
    s, b = req("GET", "/nacos/v1/ns/nothing")
    assert (s, b) == (501, "no such api:GET:/nacos/v1/ns/nothing"), (s, b)
    s, _ = req("POST", "/nacos/v1/ns/instance", body=b"x" * (1 << 20),
               ctype="application/x-www-form-urlencoded")
    assert s == 413, s
    # Form bodies are read too (nacos_rust_client style).
    form = urllib.parse.urlencode({"serviceName": svc, "ip": "10.9.9.12", "port": 2}).encode()
    assert req("POST", "/nacos/v1/ns/instance", body=form, ctype="application/x-www-form-urlencoded") == (200, "ok")
    assert req("DELETE", "/nacos/v1/ns/instance", body=form, ctype="application/x-www-form-urlencoded") == (200, "ok")


def push():
    # A Java agent with an empty clientIP is pushed to on loopback (§10); an unacked packet is
    # sent again 10 s later with the same lastRefTime, then acked.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(14)
    port = u.getsockname()[1]
    assert lst(ua=JAVA, udpPort=port, clientIP="")["cacheMillis"] == 10000
    reg("10.9.9.13")
    data, src = u.recvfrom(65536)
    first = json.loads(data)
    assert first["type"] == "dom" and isinstance(first["lastRefTime"], int), first
    inner = json.loads(first["data"])
    assert "10.9.9.13" in [h["ip"] for h in inner["hosts"]] and inner["cacheMillis"] == 10000, inner
    t0 = time.time()
    data, src2 = u.recvfrom(65536)
    again = json.loads(data)
    waited = time.time() - t0
    assert again["lastRefTime"] == first["lastRefTime"] and src2 == src, again
    assert 8 < waited < 12, waited
    ack = {"type": "push-ack", "lastRefTime": again["lastRefTime"], "data": ""}
    u.sendto(json.dumps(ack).encode(), src)
    print(f"     push acked lastRefTime={again['lastRefTime']} from {src}")


def protect_threshold(registered_at):
    # Nothing beats these instances: after 15 s they are unhealthy (spec §8), so all of them
    # are unhealthy and the protect threshold (0) returns every one as healthy (§11 step 6).
    time.sleep(max(0, registered_at + 21 - time.time()))
    hosts = lst()["hosts"]
    assert hosts and all(h["healthy"] for h in hosts), hosts
    s, b = req("GET", "/nacos/v1/ns/instance/list", {"serviceName": svc, "healthyOnly": "true"})
    assert json.loads(b)["hosts"], b


def hostile():
    # Bad input on the wire (issue 12 part 5): odd methods, paths, values and bodies get a 4xx or
    # 5xx answer, never a dropped connection, and the server keeps serving.
    import random
    rnd = random.Random(12)
    paths = ["/nacos/v1/ns/instance", "/nacos/v1/ns/instance/list", "/nacos/v1/ns/instance/beat",
             "/nacos/v1/ns/service", "/nacos/v1/ns/service/list", "/nacos/v1/ns/instance/statuses",
             "/nacos/v1/ns/operator/metrics", "/nacos/v1/ns/", "/nacos/v1/auth/login", "/x"]
    values = ["", " ", "0", "-1", "65536", "99999999999999999999", "NaN", "inf", "1e309", "True",
              "{", "{}", '{"a":{"b":1}}', "[]", "null", "a=b,c", "@@", "x@@", "@@y", "g@@s@@t",
              "\u0000", "é✓", "%zz", "10.0.0.1", "::1", "a" * 3000, "1.5", "-0"]
    names = ["serviceName", "ip", "port", "weight", "metadata", "beat", "clusterName", "cluster",
             "groupName", "namespaceId", "healthy", "enabled", "ephemeral", "udpPort", "clientIP",
             "clusters", "healthyOnly", "pageNo", "pageSize", "protectThreshold", "key", "dom",
             "username"]
    routes = [("POST", paths[0]), ("DELETE", paths[0]), ("PUT", paths[0]), ("GET", paths[0]),
              ("GET", paths[1]), ("PUT", paths[2]), ("POST", paths[3]), ("PUT", paths[3]),
              ("DELETE", paths[3]), ("GET", paths[3]), ("GET", paths[4]), ("GET", paths[5])]
    statuses = {}
    for _ in range(400):
        params = {rnd.choice(names): rnd.choice(values) for _ in range(rnd.randint(0, 6))}
        if rnd.random() < 0.5:
            params.setdefault("serviceName", "fuzz." + rnd.choice(["a", "b", "c"]))
        if rnd.random() < 0.8:
            method, path = rnd.choice(routes)
            params.setdefault("ip", "10.7.0." + str(rnd.randint(1, 3)))
            params.setdefault("port", str(rnd.randint(1, 3)))
        else:
            method, path = rnd.choice(["GET", "POST", "PUT", "DELETE", "PATCH"]), rnd.choice(paths)
        s, _ = req(method, path, params, ua=rnd.choice(["curl/8", JAVA]))
        statuses[s] = statuses.get(s, 0) + 1
    assert set(statuses) <= {200, 400, 404, 413, 500, 501, 503}, statuses
    s, b = req("GET", "/nacos/v1/ns/operator/metrics")
    assert s == 200 and json.loads(b)["status"] == "UP", (s, b)
    print(f"     statuses {dict(sorted(statuses.items()))}")


t_start = time.time()
check("beat: 20404 without a body, re-register with one, light beat 10200", beats)
check("list: disabled hidden, clusters filter echoed", filters)
check("list: dom grouped only for a Java agent; unknown service envelope", grouping)
check("400 texts, 501 unknown api, 413 oversized body, form bodies", errors)
check("hostile input: 400 requests of odd methods, paths and values, server still UP", hostile)
check("UDP push to loopback for an empty clientIP, resent once after 10 s, acked", push)
check("protect threshold: all unhealthy -> all returned healthy", lambda: protect_threshold(t_start))
print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
