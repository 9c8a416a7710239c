# Shared settings of the devnet scripts. Sourced, not run.
set -euo pipefail

DEVNET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$DEVNET_DIR/.." && pwd)"
WORK="${CONSORT_DEVNET_WORK:-$DEVNET_DIR/work}"
NODES=4

# The consort binary: $CONSORT_BIN, or the debug build of this checkout.
consort_bin() {
    if [ -n "${CONSORT_BIN:-}" ]; then
        echo "$CONSORT_BIN"
    else
        echo "$REPO_DIR/.build/debug/consort"
    fi
}

consort() { "$(consort_bin)" "$@"; }

# True if something listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first free port at or above $1 that is not in the list $2.
free_port() {
    local port="$1" taken="$2"
    while port_in_use "$port" || [[ " $taken " == *" $port "* ]]; do port=$((port + 1)); done
    echo "$port"
}

api_url() { cat "$WORK/node$1/api-url"; }

node_running() {
    local pidfile="$WORK/node$1/pid"
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start_node() {
    local index="$1"
    if node_running "$index"; then return 0; fi
    nohup "$(consort_bin)" node start --config "$WORK/node$index/config.json" >>"$WORK/node$index/node.log" 2>&1 &
    echo $! >"$WORK/node$index/pid"
}

# Waits until node $1 answers on its API, for at most $2 seconds.
wait_healthy() {
    local index="$1" seconds="${2:-60}" waited=0
    until consort status --node "$(api_url "$index")" >/dev/null 2>&1; do
        if ! node_running "$index"; then
            echo "node$index exited; its log ends with:" >&2
            tail -n 20 "$WORK/node$index/node.log" >&2
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
        if [ "$waited" -ge $((seconds * 2)) ]; then
            echo "node$index did not become healthy within ${seconds}s; see $WORK/node$index/node.log" >&2
            return 1
        fi
    done
}
