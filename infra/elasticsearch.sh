#!/usr/bin/env bash
# Local Elasticsearch for newsmon, without Docker.
#
#   infra/elasticsearch.sh fetch
#   infra/elasticsearch.sh start    [--port 9200] [--secure] [--name local]
#   infra/elasticsearch.sh stop     [--name local]
#   infra/elasticsearch.sh status
#   infra/elasticsearch.sh password [--name secure]
#   infra/elasticsearch.sh cluster start|stop|status [--nodes 3] [--port 9210] [--name cluster]
#
# Environment: ES_VERSION (9.2.4), NEWSMON_CACHE (~/.cache/newsmon),
# NEWSMON_STATE_DIR (<repo>/var), ES_HEAP (512m), ES_JAVA_HOME (auto).
# See infra/README.md for the why of each step.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ES_VERSION=${ES_VERSION:-9.2.4}
CACHE_DIR=${NEWSMON_CACHE:-$HOME/.cache/newsmon}
STATE_DIR=${NEWSMON_STATE_DIR:-$REPO_DIR/var}
ES_HEAP=${ES_HEAP:-512m}
ES_USER=newsmon-es
START_TIMEOUT=${ES_START_TIMEOUT:-120}
STOP_TIMEOUT=30

# The "integ-test-zip" is the only Elasticsearch server build published to
# Maven Central: small (~100 MB), no bundled JDK, few modules. That is why we
# need Maven and a system JDK instead of the usual tarball download.
COORDS="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ZIP="$CACHE_DIR/elasticsearch-$ES_VERSION.zip"
CACHE_HOME="$CACHE_DIR/elasticsearch-$ES_VERSION"
INSTANCES_DIR="$STATE_DIR/es"

# As root, Elasticsearch runs as $ES_USER, which must be able to enter every parent of its
# data. A clone inside a private folder (mktemp -d, a 0700 home) is not enterable, so such
# a checkout keeps its nodes under /var/lib instead, in a folder named after the checkout.
world_searchable() {
    local dir=$1
    while [[ -n "$dir" && "$dir" != "/" ]]; do
        if [[ -e "$dir" ]] && (( (8#$(stat -c %a "$dir")) % 2 == 0 )); then  # no o+x bit
            return 1
        fi
        dir=$(dirname "$dir")
    done
}
if (( EUID == 0 )) && ! world_searchable "$STATE_DIR"; then
    INSTANCES_DIR="/var/lib/$ES_USER/$(printf '%s' "$REPO_DIR" | sha1sum | cut -c1-12)"
fi

say() { printf '[es] %s\n' "$*"; }
die() { printf '[es] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

# ------------------------------------------------------------------ fetch

fetch() {
    mkdir -p "$CACHE_DIR"
    # Two callers (CI + a developer shell) may fetch at once; serialise them.
    exec 8>"$CACHE_DIR/.fetch.lock"
    flock 8

    if [[ ! -s "$ZIP" ]]; then
        command -v mvn >/dev/null || die "Maven (mvn) is not installed; it is needed to download $COORDS (apt-get install maven)"
        local update=()
        local m2_file="$HOME/.m2/repository/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"
        # Maven remembers a failed download and will not retry it for a day;
        # -U forces a retry, but only when the file is not already local.
        [[ -s "$m2_file" ]] || update=(-U)
        say "downloading $COORDS with Maven (once) ..."
        local log="$CACHE_DIR/mvn-fetch.log"
        if ! mvn -B -q -Dstyle.color=never "${update[@]}" dependency:copy \
                -Dartifact="$COORDS" -DoutputDirectory="$CACHE_DIR" \
                -Dmdep.overWriteReleases=true >"$log" 2>&1; then
            grep -m 3 -E 'Could not|Failed|not found|resolve' "$log" >&2 || tail -n 20 "$log" >&2 || true
            die "Maven could not download $COORDS (full log: $log). Is ES_VERSION=$ES_VERSION published on Maven Central?"
        fi
        [[ -s "$ZIP" ]] || die "Maven finished but $ZIP is missing (coordinates: $COORDS)"
        say "downloaded $(du -h "$ZIP" | cut -f1) to $ZIP"
    fi

    unpack_to "$CACHE_DIR"
    flock -u 8
}

# Unpack the cached zip under $1 (idempotent; a marker file proves the
# unzip finished, so an interrupted unzip is redone rather than trusted).
unpack_to() {
    local parent=$1 home="$1/elasticsearch-$ES_VERSION"
    if [[ -f "$home/.newsmon-unpacked" ]]; then
        return 0
    fi
    command -v unzip >/dev/null || die "unzip is not installed (apt-get install unzip)"
    say "unpacking $ZIP into $parent ..."
    local tmp
    tmp=$(mktemp -d "$parent/.unpack.XXXXXX")
    unzip -q "$ZIP" -d "$tmp" || { rm -rf "$tmp"; die "could not unzip $ZIP (delete it and run fetch again)"; }
    [[ -x "$tmp/elasticsearch-$ES_VERSION/bin/elasticsearch" ]] || { rm -rf "$tmp"; die "$ZIP does not contain elasticsearch-$ES_VERSION/bin/elasticsearch"; }
    rm -rf "$home"
    mv "$tmp/elasticsearch-$ES_VERSION" "$home"
    rmdir "$tmp"
    touch "$home/.newsmon-unpacked"
}

# ------------------------------------------------------------------ JDK

# Major version of the JDK at $1, or empty.
jdk_major() {
    local dir=$1 v=""
    [[ -x "$dir/bin/java" ]] || return 0
    if [[ -f "$dir/release" ]]; then
        v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$dir/release")
    fi
    if [[ -z "$v" ]]; then
        v=$("$dir/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
    fi
    v=${v#1.}            # "1.8.0" -> "8.0"
    printf '%s' "${v%%[.+-]*}"
}

# Elasticsearch 9 needs Java 21+. It reads ES_JAVA_HOME, not JAVA_HOME: with
# only JAVA_HOME it looks for a bundled JDK that this distribution lacks.
pick_jdk() {
    if [[ -n "${ES_JAVA_HOME:-}" ]]; then
        local m
        m=$(jdk_major "$ES_JAVA_HOME")
        [[ -n "$m" && "$m" -ge 21 ]] || die "ES_JAVA_HOME=$ES_JAVA_HOME is not a JDK 21 or newer (found: ${m:-none})"
        JDK_HOME=$ES_JAVA_HOME
        return
    fi
    local best="" best_major=0 dir m
    for dir in /usr/lib/jvm/*/; do
        dir=$(readlink -f "$dir")
        m=$(jdk_major "$dir")
        [[ -n "$m" ]] || continue
        if (( m >= 21 && m > best_major )); then
            best=$dir best_major=$m
        fi
    done
    [[ -n "$best" ]] || die "no JDK 21 or newer found under /usr/lib/jvm (Elasticsearch $ES_VERSION needs one); install e.g. openjdk-21-jdk-headless or set ES_JAVA_HOME"
    JDK_HOME=$best
}

# ------------------------------------------------------------------ helpers

parse_opts() {
    PORT=9200 SECURE=0 NAME=local
    while (( $# )); do
        case $1 in
            --port)    PORT=${2:?--port needs a value}; shift 2 ;;
            --port=*)  PORT=${1#*=}; shift ;;
            --name)    NAME=${2:?--name needs a value}; shift 2 ;;
            --name=*)  NAME=${1#*=}; shift ;;
            --secure)  SECURE=1; shift ;;
            -h|--help) usage 0 ;;
            *) die "unknown option: $1 (try --help)" ;;
        esac
    done
    if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1024 || PORT > 65435 )); then
        die "--port must be a number between 1024 and 65435 (the transport port is port+100)"
    fi
    [[ "$NAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "--name may only use letters, digits, '-' and '_'"
    INST="$INSTANCES_DIR/$NAME"
    PIDFILE="$INST/run/elasticsearch.pid"
    PWFILE="$INST/elastic-password"
}

pid_of() {  # pid from $1 if that process is alive, else nothing
    local f=$1 pid
    [[ -s "$f" ]] || return 0
    pid=$(tr -dc '0-9' <"$f")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
    return 0
}

port_busy() {  # is anything listening on 127.0.0.1:$1 ?
    if command -v ss >/dev/null; then
        [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

instance_on_port() {  # name of a running instance of ours that uses port $1
    local env name
    for env in "$INSTANCES_DIR"/*/instance.env; do
        [[ -f "$env" ]] || continue
        name=$(basename "$(dirname "$env")")
        if [[ "$(sed -n 's/^PORT=//p' "$env")" == "$1" && -n "$(pid_of "$(dirname "$env")/run/elasticsearch.pid")" ]]; then
            printf '%s' "$name"
            return 0
        fi
    done
}

port_owner() {
    command -v ss >/dev/null || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
}

# Cluster health; prints the status (green/yellow/red) or nothing, never fails.
health() {
    local port=$1 pwfile=${2:-} cfg=""
    if [[ -n "$pwfile" && -r "$pwfile" ]]; then
        # Credentials go through a curl config on stdin, so they never show up in `ps`.
        cfg="user = \"elastic:$(head -n1 "$pwfile")\""
    fi
    { printf '%s\n' "$cfg" | curl -s --max-time 5 -K - \
        "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null || true; } \
        | sed -n -e '/security_exception/{s/.*/unauthorized/p;q;}' -e 's/.*"status":"\([a-z]*\)".*/\1/p'
}

# Run a command as the ES user with the instance's environment. ES refuses
# to run as root, and CI runs as root, so root hands over to $ES_USER.
run_es() {
    local envs=(-u JAVA_HOME ES_JAVA_HOME="$JDK_HOME" ES_PATH_CONF="$INST/config"
                ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_EXTRA_JAVA_OPTS:-}")
    if (( EUID == 0 )); then
        runuser -u "$ES_USER" -- env "${envs[@]}" "$@"
    else
        env "${envs[@]}" "$@"
    fi
}

ensure_es_user() {
    (( EUID == 0 )) || return 0
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
        say "running as root: creating system user $ES_USER (Elasticsearch refuses to run as root)"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" \
            || die "could not create user $ES_USER"
    fi
}

# Where the server runs from. As root the cache usually sits under /root,
# which $ES_USER cannot enter, so root runs a copy unpacked under the state dir.
choose_es_home() {
    ES_HOME=$CACHE_HOME
    (( EUID == 0 )) || return 0
    if ! runuser -u "$ES_USER" -- test -r "$ES_HOME/lib" 2>/dev/null; then
        mkdir -p "$INSTANCES_DIR/dist"
        unpack_to "$INSTANCES_DIR/dist"
        ES_HOME="$INSTANCES_DIR/dist/elasticsearch-$ES_VERSION"
    fi
    chmod -R a+rX "$ES_HOME"
    runuser -u "$ES_USER" -- test -x "$ES_HOME/bin/elasticsearch" \
        || die "user $ES_USER cannot read $ES_HOME (a parent directory is not world-searchable); set NEWSMON_STATE_DIR to a path it can reach ($INSTANCES_DIR)"
}

write_config() {
    local tport=$(( PORT + 100 ))
    # Each instance gets its own copy of config/ (ES_PATH_CONF) so that
    # instances never share a keystore, users file or elasticsearch.yml.
    if [[ ! -f "$INST/config/jvm.options" ]]; then
        mkdir -p "$INST/config"
        cp -R "$ES_HOME/config/." "$INST/config/"
    fi
    mkdir -p "$INST/data" "$INST/logs" "$INST/run"
    {
        echo "# Written by infra/elasticsearch.sh on every start; edits are lost."
        echo "cluster.name: newsmon-${CLUSTER_NAME:-$NAME}"
        echo "node.name: $NAME"
        echo "network.host: 127.0.0.1"
        echo "http.port: $PORT"
        echo "transport.port: $tport"
        if [[ -n "${CLUSTER_SEEDS:-}" ]]; then
            # cluster mode: every node master-eligible and data, found through loopback transport ports
            echo "discovery.seed_hosts: [$CLUSTER_SEEDS]"
            # Only when the cluster forms for the first time; a node with data already knows its cluster.
            [[ -n "$(ls -A "$INST/data" 2>/dev/null)" ]] || echo "cluster.initial_master_nodes: [$CLUSTER_MASTERS]"
        else
            echo "discovery.type: single-node"
        fi
        echo "path.data: $INST/data"
        echo "path.logs: $INST/logs"
        # A developer disk above 90% would otherwise turn indices read-only.
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        # Tests clean up with wildcards (DELETE newsmon-test-*).
        echo "action.destructive_requires_name: false"
        if (( SECURE )); then
            echo "xpack.security.enabled: true"
            # Local only: plain HTTP with a password is enough, and a single
            # node has no transport peers to encrypt for.
            echo "xpack.security.http.ssl.enabled: false"
            echo "xpack.security.transport.ssl.enabled: false"
        else
            echo "xpack.security.enabled: false"
        fi
    } >"$INST/config/elasticsearch.yml"
    printf 'PORT=%s\nSECURE=%s\nVERSION=%s\n' "$PORT" "$SECURE" "$ES_VERSION" >"$INST/instance.env"
    if (( EUID == 0 )); then
        chown "$ES_USER:" "$INST"
        chown -R "$ES_USER:" "$INST/config" "$INST/data" "$INST/logs" "$INST/run"
    fi
}

# First secure start: invent the elastic password and hand it to ES through
# the keystore (bootstrap.password), which ES uses until it is changed.
setup_password() {
    local ks="$INST/config/elasticsearch.keystore"
    if [[ ! -s "$PWFILE" ]]; then
        local pw
        pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
        ( umask 077; printf '%s\n' "$pw" >"$PWFILE" )
        chmod 600 "$PWFILE"
        say "generated a password for user 'elastic' -> $PWFILE"
        rm -f "$ks"   # a keystore from an earlier run would carry an old password
    fi
    if [[ ! -f "$ks" ]]; then
        say "creating the keystore with bootstrap.password ..."
        run_es "$ES_HOME/bin/elasticsearch-keystore" create >/dev/null \
            || die "elasticsearch-keystore create failed"
        head -n1 "$PWFILE" | run_es "$ES_HOME/bin/elasticsearch-keystore" add -f -x bootstrap.password >/dev/null \
            || die "elasticsearch-keystore add bootstrap.password failed"
    fi
}

wait_healthy() {  # $1 = pid
    local pid=$1 t0=$SECONDS status="" pwf=""
    (( SECURE )) && pwf=$PWFILE
    printf '[es] waiting for cluster health yellow/green on port %s ' "$PORT"
    while (( SECONDS - t0 < START_TIMEOUT )); do
        status=$(health "$PORT" "$pwf")
        if [[ "$status" == green || "$status" == yellow ]]; then
            printf ' %s (%ss)\n' "$status" "$(( SECONDS - t0 ))"
            return 0
        fi
        if [[ "$status" == unauthorized ]]; then
            printf ' 401\n'
            die "Elasticsearch on port $PORT rejects the password in $PWFILE (was the instance set up with another one? delete $INST to start over)"
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            printf ' died\n'
            tail -n 30 "$INST/logs/newsmon-$NAME.log" >&2 2>/dev/null || true
            die "Elasticsearch exited during startup; see $INST/logs/"
        fi
        printf '.'
        sleep 1
    done
    printf ' timeout\n'
    die "no healthy answer from http://127.0.0.1:$PORT after ${START_TIMEOUT}s (pid $pid still running); see $INST/logs/newsmon-$NAME.log"
}

print_ready() {
    say "ready: http://127.0.0.1:$PORT (name $NAME, pid $1)"
    if (( SECURE )); then
        say "user elastic, password in $PWFILE (or: $0 password --name $NAME)"
        say "export NEWSMON_ES_URL=http://127.0.0.1:$PORT NEWSMON_ES_USER=elastic NEWSMON_ES_PASSWORD=\$($0 password --name $NAME)"
    else
        say "export NEWSMON_ES_URL=http://127.0.0.1:$PORT"
    fi
}

# ------------------------------------------------------------------ commands

start() {
    parse_opts "$@"
    mkdir -p "$INSTANCES_DIR"
    # One start/stop per instance at a time.
    exec 9>"$INSTANCES_DIR/.$NAME.lock"
    flock 9

    local pid
    pid=$(pid_of "$PIDFILE")
    if [[ -n "$pid" ]]; then
        local old_port="" old_secure=""
        old_port=$(sed -n 's/^PORT=//p' "$INST/instance.env" 2>/dev/null)
        old_secure=$(sed -n 's/^SECURE=//p' "$INST/instance.env" 2>/dev/null)
        [[ "$old_port" == "$PORT" && "$old_secure" == "$SECURE" ]] \
            || die "instance '$NAME' is already running (pid $pid, port $old_port, secure=$old_secure); stop it first to change its port or mode"
        local pwf=""; (( SECURE )) && pwf=$PWFILE
        if [[ "$(health "$PORT" "$pwf")" =~ ^(green|yellow)$ ]]; then
            say "instance '$NAME' is already running and healthy"
            print_ready "$pid"
            return 0
        fi
        say "instance '$NAME' is running (pid $pid) but not healthy yet"
        wait_healthy "$pid"
        print_ready "$pid"
        return 0
    fi
    rm -f "$PIDFILE"

    local tport=$(( PORT + 100 ))
    if port_busy "$PORT"; then
        local other
        other=$(instance_on_port "$PORT")
        [[ -z "$other" ]] || die "port $PORT is already used by the newsmon instance '$other'; choose another --port or --name $other"
        die "port $PORT is already in use by another program ($(port_owner "$PORT")); choose another with --port"
    fi
    if port_busy "$tport"; then
        die "transport port $tport (= --port + 100) is already in use ($(port_owner "$tport")); choose another --port"
    fi

    pick_jdk
    mkdir -p "$INST"
    fetch
    ensure_es_user
    choose_es_home
    say "Elasticsearch $ES_VERSION from $ES_HOME, JDK $JDK_HOME (Java $(jdk_major "$JDK_HOME")), heap $ES_HEAP"
    write_config
    (( SECURE )) && setup_password

    say "starting '$NAME' on 127.0.0.1:$PORT (transport $tport, security $( (( SECURE )) && echo on || echo off )), data in $INST"
    local t0=$SECONDS
    # cwd = logs dir: jvm.options writes gc.log / hs_err files relative to it.
    if ! ( cd "$INST/logs" && run_es "$ES_HOME/bin/elasticsearch" -d -p "$PIDFILE" ) >"$INST/logs/startup.out" 2>&1; then
        tail -n 30 "$INST/logs/startup.out" >&2 || true
        die "Elasticsearch failed to start; see $INST/logs/startup.out and $INST/logs/newsmon-$NAME.log"
    fi
    pid=$(pid_of "$PIDFILE")
    [[ -n "$pid" ]] || { tail -n 30 "$INST/logs/startup.out" >&2 || true; die "no running process behind $PIDFILE"; }
    wait_healthy "$pid"
    say "started in $(( SECONDS - t0 ))s"
    print_ready "$pid"
}

stop() {
    parse_opts "$@"
    [[ -d "$INST" ]] || { say "no instance '$NAME' (nothing to stop)"; return 0; }
    exec 9>"$INSTANCES_DIR/.$NAME.lock"
    flock 9
    local pid
    pid=$(pid_of "$PIDFILE")
    if [[ -z "$pid" ]]; then
        rm -f "$PIDFILE"
        say "instance '$NAME' is not running"
        return 0
    fi
    say "stopping '$NAME' (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    local t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        if (( SECONDS - t0 >= STOP_TIMEOUT )); then
            say "still running after ${STOP_TIMEOUT}s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 0.5
    done
    rm -f "$PIDFILE"
    say "stopped '$NAME' in $(( SECONDS - t0 ))s"
}

status() {
    local found=0 dir
    printf '%-12s %-6s %-7s %-8s %s\n' NAME PORT SECURE PID HEALTH
    for dir in "$INSTANCES_DIR"/*/; do
        [[ -f "$dir/instance.env" ]] || continue
        found=1
        local name port secure pid h pwf=""
        name=$(basename "$dir")
        port=$(sed -n 's/^PORT=//p' "$dir/instance.env")
        secure=$(sed -n 's/^SECURE=//p' "$dir/instance.env")
        pid=$(pid_of "$dir/run/elasticsearch.pid")
        (( secure )) && pwf="$dir/elastic-password"
        if [[ -n "$pid" ]]; then
            h=$(health "$port" "$pwf"); h=${h:-no answer}
        else
            pid=- h=stopped
        fi
        printf '%-12s %-6s %-7s %-8s %s\n' "$name" "$port" "$( (( secure )) && echo yes || echo no)" "$pid" "$h"
    done
    (( found )) || say "no instances under $INSTANCES_DIR"
}

password() {
    parse_opts "$@"
    [[ -s "$PWFILE" ]] || die "no password stored for instance '$NAME' ($PWFILE); start it with --secure first"
    head -n1 "$PWFILE"
}

# ------------------------------------------------------------------ cluster mode

# Nodes <name>-1..N: HTTP ports port..port+N-1, transport ports +100, each its own
# instance folder (config, data, logs) like a single node. Security stays off: a
# multi-node cluster with security needs transport TLS certificates (see infra/README.md).
parse_cluster_opts() {
    NODES=3 CPORT=9210 CNAME=cluster
    while (( $# )); do
        case $1 in
            --nodes)   NODES=${2:?--nodes needs a value}; shift 2 ;;
            --port)    CPORT=${2:?--port needs a value}; shift 2 ;;
            --name)    CNAME=${2:?--name needs a value}; shift 2 ;;
            -h|--help) usage 0 ;;
            *) die "unknown cluster option: $1 (try --help)" ;;
        esac
    done
    [[ "$NODES" =~ ^[1-9]$ ]] || die "--nodes must be 1-9"
    [[ "$CPORT" =~ ^[0-9]+$ ]] && (( CPORT >= 1024 && CPORT + NODES <= 65435 )) || die "--port must leave room for $NODES ports (and +100 transport)"
    [[ "$CNAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "--name may only use letters, digits, '-' and '_'"
}

node_opts() {  # sets NAME, PORT, INST, PIDFILE for node $1 of the cluster
    NAME="$CNAME-$1" PORT=$(( CPORT + $1 - 1 )) SECURE=0
    INST="$INSTANCES_DIR/$NAME" PIDFILE="$INSTANCES_DIR/$NAME/run/elasticsearch.pid" PWFILE=""
}

cluster_health() {  # status once all $NODES nodes have joined, else nothing
    local i out
    for (( i = 1; i <= NODES; i++ )); do
        out=$(curl -s --max-time 5 "http://127.0.0.1:$(( CPORT + i - 1 ))/_cluster/health?wait_for_nodes=$NODES&timeout=1s" 2>/dev/null) || continue
        if [[ "$out" == *'"timed_out":false'* ]]; then
            sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' <<<"$out"
            return 0
        fi
    done
}

cluster_start() {
    parse_cluster_opts "$@"
    mkdir -p "$INSTANCES_DIR"
    exec 9>"$INSTANCES_DIR/.$CNAME.cluster.lock"
    flock 9
    local i seeds="" masters="" started=() t0=$SECONDS
    for (( i = 1; i <= NODES; i++ )); do
        seeds+="${seeds:+, }\"127.0.0.1:$(( CPORT + i - 1 + 100 ))\""
        masters+="${masters:+, }\"$CNAME-$i\""
    done
    CLUSTER_SEEDS=$seeds CLUSTER_MASTERS=$masters CLUSTER_NAME=$CNAME
    pick_jdk
    fetch
    ensure_es_user
    choose_es_home
    for (( i = 1; i <= NODES; i++ )); do
        node_opts "$i"
        if [[ -n "$(pid_of "$PIDFILE")" ]]; then
            say "node $NAME is already running"
            continue
        fi
        port_busy "$PORT" && die "port $PORT (node $NAME) is already in use ($(port_owner "$PORT")); choose another --port"
        port_busy $(( PORT + 100 )) && die "transport port $(( PORT + 100 )) (node $NAME) is already in use ($(port_owner $(( PORT + 100 ))))"
        mkdir -p "$INST"
        write_config
        say "starting node $NAME on 127.0.0.1:$PORT (transport $(( PORT + 100 ))), data in $INST/data"
        # All nodes start at once: a master needs a quorum of the others to be elected.
        ( cd "$INST/logs" && run_es "$ES_HOME/bin/elasticsearch" -d -p "$PIDFILE" ) >"$INST/logs/startup.out" 2>&1 \
            || { tail -n 30 "$INST/logs/startup.out" >&2 || true; die "node $NAME failed to start; see $INST/logs/"; }
        started+=("$NAME")
    done
    printf '[es] waiting for %s nodes to form cluster newsmon-%s ' "$NODES" "$CNAME"
    local status=""
    while (( SECONDS - t0 < START_TIMEOUT * 2 )); do
        status=$(cluster_health)
        if [[ "$status" == green || "$status" == yellow ]]; then
            printf ' %s (%ss)\n' "$status" "$(( SECONDS - t0 ))"
            say "ready: http://127.0.0.1:$CPORT .. :$(( CPORT + NODES - 1 )) ($NODES nodes; started: ${started[*]:-none})"
            say "export NEWSMON_ES_URL=$(cluster_urls)"
            return 0
        fi
        for (( i = 1; i <= NODES; i++ )); do
            node_opts "$i"
            if [[ -z "$(pid_of "$PIDFILE")" ]]; then
                printf ' died\n'
                tail -n 30 "$INST/logs/newsmon-$CNAME.log" >&2 2>/dev/null || true
                die "node $NAME exited during startup; see $INST/logs/"
            fi
        done
        printf '.'
        sleep 1
    done
    printf ' timeout\n'
    die "the $NODES nodes did not form a cluster within $(( START_TIMEOUT * 2 ))s; see $INSTANCES_DIR/$CNAME-*/logs/"
}

cluster_urls() {  # comma-separated node URLs: the Python client accepts several and fails over
    local i out=""
    for (( i = 1; i <= NODES; i++ )); do out+="${out:+,}http://127.0.0.1:$(( CPORT + i - 1 ))"; done
    printf '%s' "$out"
}

cluster_stop() {
    parse_cluster_opts "$@"
    local i
    for (( i = 1; i <= NODES; i++ )); do
        stop --name "$CNAME-$i" &
    done
    wait
}

cluster_status() {
    parse_cluster_opts "$@"
    local i pid
    printf '%-12s %-6s %-8s\n' NODE PORT PID
    for (( i = 1; i <= NODES; i++ )); do
        node_opts "$i"
        pid=$(pid_of "$PIDFILE")
        printf '%-12s %-6s %-8s\n' "$NAME" "$PORT" "${pid:--}"
    done
    say "cluster health: $(cluster_health || true)"
}

cluster() {
    local sub=${1:-}
    (( $# )) && shift
    case $sub in
        start)  cluster_start "$@" ;;
        stop)   cluster_stop "$@" ;;
        status) cluster_status "$@" ;;
        urls)   parse_cluster_opts "$@"; cluster_urls; echo ;;
        *) die "usage: $0 cluster start|stop|status|urls [--nodes 3] [--port 9210] [--name cluster]" ;;
    esac
}

cmd=${1:-}
(( $# )) && shift
case $cmd in
    fetch)    fetch; say "Elasticsearch $ES_VERSION is in $CACHE_HOME" ;;
    start)    start "$@" ;;
    stop)     stop "$@" ;;
    status)   status ;;
    password) password "$@" ;;
    cluster)  cluster "$@" ;;
    -h|--help|help) usage 0 ;;
    *) usage 2 ;;
esac
