#!/usr/bin/env bash
# bench/load.sh: a load test of grounded's HTTP server over a 10k-chunk index.
# From the repository root or anywhere:
#
#   bench/load.sh            # about 1 minute once the data folder is built
#   bench/load.sh --quick    # a smoke test: a few seconds per endpoint
#
# It builds grounded and the load program (bench/load), ingests the
# PostgreSQL 15 manual and the Python 3.11 tutorial and HOWTOs (reST sources)
# into bench/out/load/data (kept between runs: an unchanged re-ingest takes a
# fraction of a second) and checks that the index holds at least 10,000
# chunks, starts `grounded serve` on a free loopback port, and runs the load:
# POST /v1/search, then POST /v1/ask (extractive), each for DURATION at CONNS
# concurrent keep-alive connections over 200 questions made from the manual's
# section titles (see bench/load/main.go). It prints a Markdown table
# (requests/s, p50, p99, max, errors) and the server's RSS before and after,
# and exits non-zero when any request failed.
#
# Environment: DURATION (default 20s; --quick: 2s), WARMUP (2s; --quick:
# 0.5s), CONNS (8), DATA (the data folder), SERVE_ARGS (more flags for
# grounded serve), GROUNDED_LOAD_KEY (an API key to send, if the server wants
# one). It installs postgresql-doc-15 and
# python3.11-doc with apt-get when they are missing. Output goes to
# bench/out/load/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."
QUICK=0
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "load.sh: unknown argument $arg (--quick)" >&2
		exit 2
		;;
	esac
done
if [[ $QUICK == 1 ]]; then
	DURATION=${DURATION:-2s}
	WARMUP=${WARMUP:-0.5s}
else
	DURATION=${DURATION:-20s}
	WARMUP=${WARMUP:-2s}
fi
CONNS=${CONNS:-8}
OUT=bench/out/load
DATA=${DATA:-$OUT/data}
MANUAL=/usr/share/doc/postgresql-doc-15/html
PYDOCS=/usr/share/doc/python3.11/html/_sources
MIN_CHUNKS=10000
mkdir -p "$OUT"

# --- sources -------------------------------------------------------------------
missing=()
[[ -d $MANUAL ]] || missing+=(postgresql-doc-15)
[[ -d $PYDOCS ]] || missing+=(python3.11-doc)
if ((${#missing[@]})); then
	echo "load.sh: installing ${missing[*]}" >&2
	SUDO=
	if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
command -v go >/dev/null || { echo "load.sh: go is not installed" >&2; exit 1; }

# --- binaries and data ------------------------------------------------------------
BIN=$OUT/grounded
go build -o "$BIN" ./cmd/grounded
go build -o "$OUT/load" ./bench/load
# Ingest is idempotent: a built folder is checked and reused in well under a second.
"$BIN" ingest --data "$DATA" "$MANUAL" "$PYDOCS/tutorial" "$PYDOCS/howto" >"$OUT/ingest.txt" 2>&1 ||
	{ cat "$OUT/ingest.txt" >&2; exit 1; }
CHUNKS=$(sed -n 's/^index .*: [0-9]* documents, \([0-9]*\) chunks.*/\1/p' "$OUT/ingest.txt")
DOCS=$(sed -n 's/^index .*: \([0-9]*\) documents.*/\1/p' "$OUT/ingest.txt")
if [[ -z $CHUNKS ]] || ((CHUNKS < MIN_CHUNKS)); then
	cat "$OUT/ingest.txt" >&2
	echo "load.sh: the index in $DATA has ${CHUNKS:-no} chunks; want at least $MIN_CHUNKS" >&2
	exit 1
fi

# --- the server ---------------------------------------------------------------------
SERVE_FLAGS=(--data "$DATA" --addr 127.0.0.1:0)
# A per-client rate limit would answer the load with 429s: turn it off where
# serve has one.
# (serve -h exits 2, so its text is captured first: under pipefail a pipe
# into grep would read as a failure.)
SERVE_HELP=$("$BIN" serve -h 2>&1 || true)
if [[ $SERVE_HELP == *--rate-limit* ]]; then
	SERVE_FLAGS+=(--rate-limit 0)
fi
# SERVE_ARGS adds flags of your own (split on spaces).
if [[ -n ${SERVE_ARGS:-} ]]; then
	read -r -a extra <<<"$SERVE_ARGS"
	SERVE_FLAGS+=("${extra[@]}")
fi
LOG=$OUT/serve.log
"$BIN" serve "${SERVE_FLAGS[@]}" >"$LOG" 2>&1 &
PID=$!
stop_server() {
	if kill -0 "$PID" 2>/dev/null; then
		kill -INT "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
}
trap stop_server EXIT
# serve logs the address it bound ("msg=serving addr=127.0.0.1:PORT ...").
ADDR=
for _ in $(seq 600); do
	ADDR=$(sed -n 's/.*msg=serving addr=\([^ ]*\).*/\1/p' "$LOG" | head -n1)
	[[ -n $ADDR ]] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if [[ -z $ADDR ]]; then
	cat "$LOG" >&2
	echo "load.sh: grounded serve did not start within 60 s" >&2
	exit 1
fi

# --- the load ---------------------------------------------------------------------
printf '$ %s serve' "$BIN" >&2
printf ' %q' "${SERVE_FLAGS[@]}" >&2
printf '\n' >&2
LOAD=("$OUT/load" -url "http://$ADDR" -manual "$MANUAL" -pid "$PID" -c "$CONNS"
	-duration "$DURATION" -warmup "$WARMUP" -save-questions "$OUT/questions.txt")
printf '$' >&2
printf ' %q' "${LOAD[@]}" >&2
printf '\n\n' >&2
status=0
{
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3); load average $(cut -d' ' -f1-3 /proc/loadavg) before the run."
	echo "Index: $DATA, $DOCS documents, $CHUNKS chunks (PostgreSQL 15 manual + Python 3.11 tutorial and HOWTOs)."
	echo "Client and server share the machine's cores."
	echo
	"${LOAD[@]}"
} | tee "$OUT/results.md" || status=$? # pipefail: the load's status
stop_server
if ((status != 0)); then
	echo "load.sh: the load failed (exit $status); server log: $LOG" >&2
fi
exit "$status"
