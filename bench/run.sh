#!/usr/bin/env bash
# bench/run.sh: grounded's measured numbers, reproducible on a fresh Debian
# machine with Go installed. From the repository root or anywhere:
#
#   bench/run.sh            # 3-5 minutes on 2 cores
#   PROFILE=1 bench/run.sh  # also CPU-profile the 100k search benchmarks
#
# It installs the PostgreSQL 15 manual (apt package postgresql-doc-15) when
# it is missing, runs the Go benchmarks in ./bench (ingest of the manual;
# search, ask and bare chromem-go over 10k and 100k synthetic chunks), times
# the CLI end to end on the manual, and prints a markdown table of results.
# Raw output goes to bench/out/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."
MANUAL=/usr/share/doc/postgresql-doc-15/html
OUT=bench/out
mkdir -p "$OUT"
rm -f "$OUT"/*.txt

say() { printf '\n## %s\n' "$*" >&2; }
# show prints a command line, quoted so that it can be pasted back.
show() {
	printf '$' >&2
	printf ' %q' "$@" >&2
	printf '\n' >&2
}
# run shows a command, then runs it with its output also saved to a file.
run() {
	local log=$1
	shift
	show "$@"
	"$@" 2>&1 | tee -a "$OUT/$log"
}

# --- the manual ------------------------------------------------------------
if [[ ! -d $MANUAL ]]; then
	say "installing postgresql-doc-15"
	SUDO=
	if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql-doc-15
fi
command -v go >/dev/null || { echo "run.sh: go is not installed" >&2; exit 1; }
GNUTIME=
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
	GNUTIME=/usr/bin/time
else
	echo "run.sh: /usr/bin/time (GNU, Debian package 'time') not found: no peak RSS" >&2
fi

# --- the machine -------------------------------------------------------------
say "machine"
{
	echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cores:   $(nproc)"
	echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "go:      $(go version)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
} | tee "$OUT/machine.txt"
MANUAL_BYTES=$(find "$MANUAL" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
MANUAL_FILES=$(find "$MANUAL" -type f | wc -l)
echo "manual:  $MANUAL: $MANUAL_FILES files, $MANUAL_BYTES bytes" | tee -a "$OUT/machine.txt"

# --- Go benchmarks -------------------------------------------------------------
say "Go benchmarks"
go test -c -o "$OUT/bench.test" ./bench # compile first, so no timing below waits on it
run bench.txt go test ./bench -run '^$' -bench '^BenchmarkIngestPostgresManual$' -benchtime 2x -benchmem
run bench.txt go test ./bench -run '^$' -bench '^Benchmark(Search|Ask|BareChromem|BareChromemDepth100|SearchVsBare)$/^10k$' -benchtime 500x -benchmem
PROFARGS=()
if [[ ${PROFILE:-} == 1 ]]; then PROFARGS=(-args -profiledir "$PWD/$OUT/prof"); fi
run bench.txt go test ./bench -run '^$' -bench '^Benchmark(Search|Ask|BareChromem|BareChromemDepth100|SearchVsBare)$/^100k$' -benchtime 100x -benchmem -timeout 30m "${PROFARGS[@]}"
run bench.txt go test ./bench -run '^$' -bench '^BenchmarkQueryEmbed$' -benchtime 2000x -benchmem
if [[ ${PROFILE:-} == 1 ]]; then
	for p in "$OUT"/prof/BenchmarkSearch-100k.prof "$OUT"/prof/BenchmarkBareChromem-100k.prof; do
		run profile.txt go tool pprof -top -nodecount=15 "$p"
	done
fi

# --- the CLI, end to end ---------------------------------------------------
say "CLI on the manual"
BIN=$OUT/grounded
go build -o "$BIN" ./cmd/grounded # what `go run ./cmd/grounded` runs
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT

# timed LOG CMD...: runs CMD with stdout to $OUT/LOG, and records its wall
# time (s) and peak RSS (KiB) in the globals WALL and RSS.
timed() {
	local log=$1
	shift
	show "$@"
	local t0 t1
	t0=$(date +%s.%N)
	if [[ -n $GNUTIME ]]; then
		"$GNUTIME" -v -o "$OUT/$log.time" "$@" >"$OUT/$log" 2>"$OUT/$log.err"
		RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$log.time")
	else
		"$@" >"$OUT/$log" 2>"$OUT/$log.err"
		RSS=
	fi
	t1=$(date +%s.%N)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	cat "$OUT/$log" "$OUT/$log.err" >&2
}

ROWS=()
row() {
	local line="|" cell
	for cell in "$@"; do line+=" $cell |"; done
	ROWS+=("$line")
}
rss_mb() { if [[ -n ${1:-} ]]; then awk -v k="$1" 'BEGIN {printf "%.0f MiB", k/1024}'; else echo "n/a"; fi; }

timed ingest.txt "$BIN" ingest --data "$DATA/bin" "$MANUAL"
CHUNKS=$(sed -n 's/.*documents, \([0-9]*\) chunks.*/\1/p' "$OUT/ingest.txt")
DOCS=$(sed -n 's/^index .*: \([0-9]*\) documents.*/\1/p' "$OUT/ingest.txt")
DBSIZE=$(du -sk "$DATA/bin" | awk '{printf "%.1f MiB", $1/1024}')
MBS=$(awk -v b="$MANUAL_BYTES" -v s="$WALL" 'BEGIN {printf "%.2f", b/1e6/s}')
row "grounded ingest (built binary)" "$WALL" "$MBS" "$DOCS docs, $CHUNKS chunks" "$DBSIZE" "$(rss_mb "$RSS")"

timed reingest.txt "$BIN" ingest --data "$DATA/bin" "$MANUAL"
row "grounded ingest again (all unchanged)" "$WALL" "" "$(head -n1 "$OUT/reingest.txt" | cut -d';' -f1)" "" "$(rss_mb "$RSS")"

# The same ingest through go run, as a user would type it (build cache warm:
# the time includes go's up-to-date check and link). RSS would be the
# linker's, so it is not reported.
show go run ./cmd/grounded ingest --data "$DATA/gorun" "$MANUAL"
t0=$(date +%s.%N)
go run ./cmd/grounded ingest --data "$DATA/gorun" "$MANUAL" | tee "$OUT/gorun.txt" >&2
WALL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
MBS=$(awk -v b="$MANUAL_BYTES" -v s="$WALL" 'BEGIN {printf "%.2f", b/1e6/s}')
row "go run ./cmd/grounded ingest" "$WALL" "$MBS" "$(sed -n 's/^index .*: //p' "$OUT/gorun.txt")" "$(du -sk "$DATA/gorun" | awk '{printf "%.1f MiB", $1/1024}')" "n/a"

QUESTIONS=(
	"How do I create an index without locking writes to the table?"
	"What does VACUUM FULL do?"
	"How do I configure streaming replication?"
	"What is the default value of max_connections?"
	"How do I bake sourdough bread?"
)
i=0
for q in "${QUESTIONS[@]}"; do
	i=$((i + 1))
	timed "ask$i.txt" "$BIN" ask --data "$DATA/bin" "$q"
	first=$(head -n1 "$OUT/ask$i.txt" | cut -c1-70 | sed 's/|/\\|/g')
	row "ask \"$q\"" "$WALL" "" "$first..." "" "$(rss_mb "$RSS")"
done
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) after the run" | tee -a "$OUT/machine.txt"

# --- the tables -------------------------------------------------------------
say "results"
{
	echo
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3)."
	echo "Load average before/after: $(sed -n 's/^load: *//p' "$OUT/machine.txt" | cut -d' ' -f1-3 | paste -sd/ -)."
	echo
	echo "| Benchmark | ops | ns/op | p50 ms | p99 ms | MB/s | other | B/op | allocs/op |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
	awk '/^Benchmark/ && NF > 3 {
		delete m
		for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
		other = ""
		if ("chunks" in m) other = other m["chunks"] " chunks, " m["docs"] " docs"
		if ("answered-frac" in m) other = other "answered " m["answered-frac"]
		if ("ratio-p50" in m) other = other "paired p50: search " m["search-p50-ms"] " ms, bare " m["bare-p50-ms"] " ms, search/bare " m["ratio-p50"]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, m["ns/op"], m["p50-ms"], m["p99-ms"], m["MB/s"], other, m["B/op"], m["allocs/op"]
	}' "$OUT/bench.txt"
	echo
	echo "PostgreSQL 15 manual: $MANUAL_FILES files, $(awk -v b="$MANUAL_BYTES" 'BEGIN {printf "%.1f MB", b/1e6}'); MB/s = manual bytes / wall time."
	echo
	echo "| CLI run | wall s | MB/s | result | DB on disk | peak RSS |"
	echo "|---|---:|---:|---|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/results.md"
