#!/usr/bin/env bash
# Live-mode acceptance (issue 12): real third-party Nacos 1.x clients against `nacos-sim serve`.
#   npm  nacos-naming@2.6.3        tests/real-clients/node (package.json + lock, `npm ci`)
#   PyPI nacos-sdk-python==1.0.0   tests/real-clients/.venv (requirements.txt)
#   raw HTTP/UDP conformance       tests/real-clients/raw.py (standard library only)
# It builds the live binary (`cargo live-build`), installs the clients when missing, starts a
# one-server and a three-server cluster on free loopback ports, runs every script under a
# timeout, checks the servers' own event log (beats, acked pushes), kills the servers by PID,
# prints `N passed, N failed` and exits non-zero on any failure. Everything stays on 127.0.0.1.
# Needs: cargo, node + npm, python3 (with venv). SKIP_BUILD=1 uses the existing binary.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
RC=$ROOT/tests/real-clients
BIN=$ROOT/target/live/release/nacos-sim
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nacos-live-accept.XXXXXX")
PIDS=()
passed=0
failed=0
t0=$(date +%s)

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
count() { # count LOGFILE: adds the script's closing `N passed, N failed` line to the totals
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $(basename "$1" .log): no result line (crashed or timed out)"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}
server_check() { # server_check NAME CONDITION: one check on the servers' side
    if eval "$2"; then
        echo "ok   server: $1"; passed=$((passed + 1))
    else
        echo "FAIL server: $1"; failed=$((failed + 1))
    fi
}

if [ "${SKIP_BUILD:-}" != 1 ]; then
    step "build the live binary (cargo live-build)"
    b0=$(date +%s)
    cargo live-build || exit 1
    echo "build: $(( $(date +%s) - b0 )) s"
fi

step "install the clients"
if [ ! -d "$RC/node/node_modules/nacos-naming" ]; then
    npm ci --prefix "$RC/node" --no-audit --no-fund || exit 1
fi
if [ ! -x "$RC/.venv/bin/python" ] || ! "$RC/.venv/bin/python" -c 'import nacos' 2>/dev/null; then
    python3 -m venv "$RC/.venv" && "$RC/.venv/bin/pip" install -q -r "$RC/requirements.txt" || exit 1
fi

# start NAME SERVERS: starts a cluster on free ports; sets SERVERS_<NAME> and CONTROL_<NAME>.
start() {
    local log=$WORK/$1.log
    "$BIN" serve --servers "$2" --port 0 --data-dir "$WORK/$1-data" --control-port 0 \
        --events "$WORK/$1.events.jsonl" </dev/null >"$log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        grep -q '^control ' "$log" && break
        sleep 0.1
    done
    local servers control
    servers=$(awk '/^serverList /{print $2}' "$log")
    control=$(sed -n 's#^control \(http://[^/]*\)/.*#\1#p' "$log")
    if [ -z "$servers" ] || [ -z "$control" ]; then
        echo "error: the $1 cluster did not start:"; cat "$log"; exit 1
    fi
    printf -v "SERVERS_$1" '%s' "$servers"
    printf -v "CONTROL_$1" '%s' "$control"
    echo "$1: servers $servers, control $control"
}

step "start a one-server and a three-server cluster"
start one 1
start three 3

step "run the clients (raw checks on the one-server cluster meanwhile)"
SERVER=$SERVERS_one timeout 60 python3 "$RC/raw.py" >"$WORK/raw.log" 2>&1 &
RAW=$!
(cd "$RC/node" && SERVERS=$SERVERS_three timeout 90 node accept.js basic) 2>&1 | tee "$WORK/node-basic.log"
SERVERS=$SERVERS_three timeout 60 "$RC/.venv/bin/python" "$RC/python/accept.py" 2>&1 | tee "$WORK/python.log"
(cd "$RC/node" && SERVERS=$SERVERS_three CONTROL=$CONTROL_three timeout 90 node accept.js failover) 2>&1 \
    | tee "$WORK/node-failover.log"
wait "$RAW"
cat "$WORK/raw.log"
for f in node-basic python node-failover raw; do count "$WORK/$f.log"; done

step "the servers' view (their event logs)"
ev=$WORK/three.events.jsonl
svc=$(awk '/^service /{print $2}' "$WORK/node-basic.log")
server_check "the Node client's pushes were acked (push.acked for $svc)" \
    "grep -q '\"kind\":\"push.acked\".*$svc' '$ev'"
server_check "no instance of $svc turned unhealthy (its beats arrived)" \
    "! grep -q '\"kind\":\"instance.unhealthy\".*$svc' '$ev'"
server_check "the crash and restart were applied" \
    "grep -q '\"kind\":\"fault.crash\"' '$ev' && grep -q '\"kind\":\"fault.restart\"' '$ev'"
s3=$(awk '/^listening s3 /{print $3}' "$WORK/three.log")
server_check "an isolated server was seen SUSPICIOUS or DOWN by its peers ($s3)" \
    "sed -n '/fault.isolate/,\$p' '$ev' | grep '\"kind\":\"member.state\"' | grep -q '$s3'"
server_check "no server panicked (hostile input included)" \
    "! grep -q panicked '$WORK/one.log' '$WORK/three.log'"
server_check "the raw check's resent push was acked" \
    "grep -q '\"kind\":\"push.acked\"' '$WORK/one.events.jsonl'"
if [ -n "$svc" ]; then
    body=$(curl -s "http://${SERVERS_three%%,*}/nacos/v1/ns/instance/list?serviceName=$svc" || true)
    server_check "after the final deregister the service's hosts are [] ($body)" \
        "echo '$body' | grep -q '\"hosts\":\[\]'"
fi

echo
echo "acceptance wall time: $(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
