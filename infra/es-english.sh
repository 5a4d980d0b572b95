#!/usr/bin/env bash
# A local Elasticsearch node with the `english` analyzer, for testing newsmon's full-distribution
# search path (stemmed subfields) on machines that only have the minimal distribution.
#
#   infra/es-english.sh start [--port 9202] [--name english]
#   infra/es-english.sh stop  [--name english]
#   infra/es-english.sh build                     # only build the plugin zip
#
# The minimal distribution (integ-test-zip, the only server build on Maven Central) lacks the
# analysis-common module, and Elastic does not publish that module on Maven Central
# (org.elasticsearch.plugin:analysis-common answers 404 there). The distribution does ship
# lucene-analysis-common and Elasticsearch's stable plugin API, so this script compiles a
# ten-line stable plugin (infra/es-english/EnglishAnalyzerFactory.java) that registers Lucene's
# EnglishAnalyzer as `english` - the analyzer analysis-common's `english` is built from, with the
# same default stop words - installs it into a copy of the distribution, and starts a node from that
# copy with infra/elasticsearch.sh. Needs a JDK 21+ with javac. The shared distribution and the
# other nodes are not touched.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ES_VERSION=${ES_VERSION:-9.2.4}
CACHE_DIR=${NEWSMON_CACHE:-$HOME/.cache/newsmon}
STATE_DIR=${NEWSMON_STATE_DIR:-$REPO_DIR/var}
SRC="$REPO_DIR/infra/es-english/EnglishAnalyzerFactory.java"
# Root runs Elasticsearch as the user newsmon-es, which must be able to read the copy.
if (( EUID == 0 )); then
    ENGLISH_CACHE=/var/lib/newsmon-es/english-cache
else
    ENGLISH_CACHE="$STATE_DIR/es-english-cache"
fi
PLUGIN_ZIP="$ENGLISH_CACHE/newsmon-english-$ES_VERSION.zip"
HOME_COPY="$ENGLISH_CACHE/elasticsearch-$ES_VERSION"

say() { printf '[es-english] %s\n' "$*"; }
die() { printf '[es-english] ERROR: %s\n' "$*" >&2; exit 1; }

pick_javac() {
    local best="" best_major=0 dir v m
    for dir in ${ES_JAVA_HOME:-} /usr/lib/jvm/*/; do
        [[ -n "$dir" && -x "$dir/bin/javac" ]] || continue
        v=$("$dir/bin/javac" -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')
        m=${v:-0}
        if (( m >= 21 && m > best_major )); then best=${dir%/} best_major=$m; fi
    done
    [[ -n "$best" ]] || die "no JDK 21 or newer with javac under /usr/lib/jvm (needed to build the plugin)"
    JDK=$best
}

SRC_SHA=$( { sha1sum "$SRC"; echo "$ES_VERSION"; } | sha1sum | cut -c1-40)

build() {
    if [[ -s "$PLUGIN_ZIP" && "$(cat "$PLUGIN_ZIP.src" 2>/dev/null)" == "$SRC_SHA" && "${1:-}" != force ]]; then
        return 0  # built from this source already
    fi
    bash "$REPO_DIR/infra/elasticsearch.sh" fetch >/dev/null
    local lib="$CACHE_DIR/elasticsearch-$ES_VERSION/lib"
    [[ -d "$lib" ]] || die "no unpacked distribution at $CACHE_DIR/elasticsearch-$ES_VERSION"
    pick_javac
    mkdir -p "$ENGLISH_CACHE"
    local work
    work=$(mktemp -d)
    local cp
    cp=$(printf '%s:' "$lib"/elasticsearch-plugin-api-*.jar "$lib"/elasticsearch-plugin-analysis-api-*.jar \
        "$lib"/lucene-core-*.jar "$lib"/lucene-analysis-common-*.jar)
    mkdir -p "$work/classes" "$work/zip"
    "$JDK/bin/javac" --release 21 -nowarn -d "$work/classes" -cp "$cp" "$SRC"
    "$JDK/bin/jar" cf "$work/zip/newsmon-english.jar" -C "$work/classes" .
    printf 'description=%s\nversion=1.0\nname=newsmon-english\njava.version=21\nelasticsearch.version=%s\n' \
        "The english analyzer (Lucene EnglishAnalyzer) for newsmon's tests" "$ES_VERSION" \
        >"$work/zip/stable-plugin-descriptor.properties"
    printf '{"org.elasticsearch.plugin.analysis.AnalyzerFactory":{"english":"newsmon.analysis.EnglishAnalyzerFactory"}}\n' \
        >"$work/zip/named_components.json"
    rm -f "$PLUGIN_ZIP"
    (cd "$work/zip" && "$JDK/bin/jar" cfM "$PLUGIN_ZIP" .)
    rm -rf "$work"
    printf '%s\n' "$SRC_SHA" >"$PLUGIN_ZIP.src"
    say "built $PLUGIN_ZIP with $JDK"
}

prepare_home() {
    local marker="$HOME_COPY/.newsmon-english"
    local want=$SRC_SHA
    if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
        return 0
    fi
    say "copying the distribution to $HOME_COPY and installing the plugin ..."
    rm -rf "$HOME_COPY"
    cp -al "$CACHE_DIR/elasticsearch-$ES_VERSION" "$HOME_COPY" 2>/dev/null \
        || cp -a "$CACHE_DIR/elasticsearch-$ES_VERSION" "$HOME_COPY"
    ln -sf "$CACHE_DIR/elasticsearch-$ES_VERSION.zip" "$ENGLISH_CACHE/elasticsearch-$ES_VERSION.zip"
    pick_javac
    ES_JAVA_HOME=$JDK "$HOME_COPY/bin/elasticsearch-plugin" install --batch "file://$PLUGIN_ZIP" >/dev/null
    chmod -R a+rX "$ENGLISH_CACHE"
    printf '%s\n' "$want" >"$marker"
}

PORT=9202 NAME=english
cmd=${1:-}
(( $# )) && shift
while (( $# )); do
    case $1 in
        --port) PORT=${2:?}; shift 2 ;;
        --name) NAME=${2:?}; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done
case $cmd in
    build) build force ;;
    start)
        mkdir -p "$ENGLISH_CACHE"
        exec 7>"$ENGLISH_CACHE/.build.lock"
        flock 7
        build
        prepare_home
        flock -u 7
        NEWSMON_CACHE=$ENGLISH_CACHE bash "$REPO_DIR/infra/elasticsearch.sh" start --name "$NAME" --port "$PORT"
        ;;
    stop) bash "$REPO_DIR/infra/elasticsearch.sh" stop --name "$NAME" ;;
    *) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
