"""Acceptance test of nacos-sim live mode with the real PyPI client nacos-sdk-python==1.0.0
(research nacos-clients.md §3.2, §6): a non-Java agent (no push, un-grouped names, `True`
booleans, polling by instanceId, the detail endpoint, login). SERVERS = the serverList.
Every wait is bounded; the last line is `N passed, N failed`; exit 1 on any failure."""

import os
import shutil
import sys
import tempfile
import time
import traceback

import nacos
from nacos.listener import SubscribeListener

SERVERS = os.environ["SERVERS"]
results = {"passed": 0, "failed": 0}


def check(name, fn):
    t0 = time.time()
    try:
        fn()
        results["passed"] += 1
        print(f"ok   {name} ({int((time.time() - t0) * 1000)} ms)")
    except Exception:  # noqa: BLE001 - every failure is reported the same way
        results["failed"] += 1
        print(f"FAIL {name}: {traceback.format_exc().strip().splitlines()[-1]}")


def wait_for(what, cond, secs):
    end = time.time() + secs
    while not cond():
        if time.time() > end:
            raise AssertionError(f"timed out after {secs} s waiting for {what}")
        time.sleep(0.2)


logdir = tempfile.mkdtemp(prefix="nacos-py-")
c = nacos.NacosClient(SERVERS, namespace="public", logDir=logdir)
svc = f"py.svc.{int(time.time() * 1000)}"
events = []


def register():
    assert c.add_naming_instance(svc, "10.0.0.1", 8080, cluster_name="DEFAULT", metadata={"zone": "a"})
    assert c.add_naming_instance(svc, "10.0.0.2", 8080, cluster_name="DEFAULT", weight=2)


def listed():
    # Reads are answered locally (spec §5): a server that does not own the service has the
    # write once Distro syncs it (about 1 s), as with a real Nacos cluster.
    wait_for("both instances", lambda: len(c.list_naming_instance(svc)["hosts"]) == 2, 10)
    res = c.list_naming_instance(svc, healthy_only=False)
    hosts = sorted(res["hosts"], key=lambda h: h["ip"])
    assert [h["ip"] for h in hosts] == ["10.0.0.1", "10.0.0.2"], res
    h = hosts[0]
    assert h["metadata"] == {"zone": "a"} and h["healthy"] and h["enabled"], h
    assert h["instanceId"] == f"10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@{svc}", h
    # A non-Java agent gets un-grouped `dom` and host serviceName (spec §11 step 8).
    assert res["dom"] == svc and h["serviceName"] == svc, res
    assert res["name"] == f"DEFAULT_GROUP@@{svc}" and res["cacheMillis"] == 3000, res
    assert hosts[1]["weight"] == 2.0


def beat():
    r = c.send_heartbeat(svc, "10.0.0.1", 8080, cluster_name="DEFAULT")
    assert r["clientBeatInterval"] == 5000 and r["code"] == 10200 and r["lightBeatEnabled"], r


def detail():
    d = c.get_naming_instance(svc, "10.0.0.1", 8080, cluster_name="DEFAULT")
    assert d["port"] == 8080 and d["ip"] == "10.0.0.1" and d["metadata"] == {"zone": "a"}, d


def modify():
    # PUT from a non-Java agent re-registers (spec §8); the change shows in the list.
    assert c.modify_naming_instance(svc, "10.0.0.2", 8080, cluster_name="DEFAULT", weight=3)
    wait_for("weight 3", lambda: any(
        h["weight"] == 3.0 for h in c.list_naming_instance(svc)["hosts"]), 10)


def subscribe_sees_delete():
    c.subscribe([SubscribeListener(fn=lambda ev, slc: events.append((ev, slc.instance["ip"])),
                                   listener_name="l1")], 1, svc, healthy_only=False)
    time.sleep(2.5)
    assert c.remove_naming_instance(svc, "10.0.0.2", 8080, cluster_name="DEFAULT")
    wait_for("DELETED 10.0.0.2", lambda: ("DELETED", "10.0.0.2") in events, 10)


def cluster_none_quirk():
    # research §3.2: without cluster_name the client sends clusterName=None, and a faithful
    # server files the instance under cluster `None`.
    assert c.add_naming_instance(svc, "10.0.0.3", 8080)
    wait_for("10.0.0.3", lambda: any(
        h["ip"] == "10.0.0.3" for h in c.list_naming_instance(svc)["hosts"]), 10)
    d = c.get_naming_instance(svc, "10.0.0.3", 8080, cluster_name="None")
    assert d["clusterName"] == "None", d
    # And a remove without cluster_name sends no clusterName (DEFAULT): it must name `None`.
    assert c.remove_naming_instance(svc, "10.0.0.3", 8080, cluster_name="None")


def login():
    lc = nacos.NacosClient(SERVERS, namespace="public", logDir=logdir, username="nacos", password="nacos")
    assert lc.list_naming_instance(svc)["name"] == f"DEFAULT_GROUP@@{svc}"


def deregister():
    assert c.remove_naming_instance(svc, "10.0.0.1", 8080, cluster_name="DEFAULT")
    last = {}

    def empty():
        last["hosts"] = c.list_naming_instance(svc)["hosts"]
        return last["hosts"] == []
    try:
        wait_for("no hosts", empty, 10)
    except AssertionError as e:
        raise AssertionError(f"{e}: {last}") from None


check("register two instances (True/False booleans, JSON metadata)", register)
check("list: un-grouped dom, instanceId, metadata, cacheMillis 3000", listed)
check("beat reply is JSON with clientBeatInterval, code 10200", beat)
check("instance detail", detail)
check("modify (PUT) re-registers for a non-Java agent", modify)
check("subscribe (polling) sees the deregistration", subscribe_sees_delete)
check("clusterName=None files under cluster None", cluster_none_quirk)
check("login with username/password, then calls with accessToken", login)
check("final deregister empties the service", deregister)
c.stop_subscribe()
shutil.rmtree(logdir, ignore_errors=True)
print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
