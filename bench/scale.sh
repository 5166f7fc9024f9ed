#!/usr/bin/env bash
# bench/scale.sh: ingest at scale through the CLI, as a user runs it.
#
#   bench/scale.sh          # about 5 minutes on 2 cores
#
# Two corpora: the PostgreSQL 15 manual and the Python 3.11 documentation's
# reST sources together (apt packages postgresql-doc-15 and python3.11-doc,
# installed when missing), and the benchmarks' synthetic corpus written as
# Markdown files (about 100k chunks). For each: ingest MB/s, chunks, data
# folder size on disk, ingest peak RSS, and the time and peak RSS to open
# the index for serving (a cold `grounded search`, which loads every chunk,
# builds BM25 and the chromem-go collection, and answers one query).
# Raw output goes to bench/out/scale/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out/scale
rm -rf "$OUT"
mkdir -p "$OUT"
PG=/usr/share/doc/postgresql-doc-15/html
PY=/usr/share/doc/python3.11/html/_sources
if [[ ! -d $PG || ! -d $PY ]]; then
	SUDO=
	if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql-doc-15 python3.11-doc
fi
[[ -x /usr/bin/time ]] || { echo "scale.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

BIN=$OUT/grounded
go build -o "$BIN" ./cmd/grounded
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
go test ./bench -run '^TestWriteCorpus$' -corpus-out "$WORK/synthetic" >/dev/null

# measure NAME QUERY PATH...: ingest PATHs into a fresh data folder, then
# open it cold with one search; prints one table row.
measure() {
	local name=$1 query=$2
	shift 2
	local data=$WORK/data-$name bytes t0 t1 wall rss chunks docs size owall orss
	bytes=$(find "$@" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/$name-ingest.time" "$BIN" ingest --data "$data" "$@" >"$OUT/$name-ingest.txt" 2>&1
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$OUT/$name-ingest.time")
	docs=$(sed -n 's/^index .*: \([0-9]*\) documents.*/\1/p' "$OUT/$name-ingest.txt")
	chunks=$(sed -n 's/.*documents, \([0-9]*\) chunks.*/\1/p' "$OUT/$name-ingest.txt")
	size=$(du -sk "$data" | awk '{printf "%.0f", $1/1024}')
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/$name-open.time" "$BIN" search --data "$data" -k 3 "$query" >"$OUT/$name-open.txt" 2>&1
	t1=$(date +%s.%N)
	owall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	orss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$OUT/$name-open.time")
	printf '| %s | %s files, %.1f MB | %s s, %.1f MB/s | %s | %s MiB | %s MiB | %s s | %s MiB |\n' \
		"$name" "$docs" "$(awk -v b="$bytes" 'BEGIN {print b/1e6}')" "$wall" "$(awk -v b="$bytes" -v s="$wall" 'BEGIN {print b/1e6/s}')" \
		"$chunks" "$size" "$rss" "$owall" "$orss"
}

{
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3)."
	echo
	echo "| Corpus | Input | Ingest | Chunks | Data folder | Ingest peak RSS | Open for serving | Open peak RSS |"
	echo "|---|---|---|---:|---:|---:|---:|---:|"
	measure postgres+python "streaming replication" "$PG" "$PY"
	measure synthetic-100k "$(head -c 200 "$WORK"/synthetic/doc-000001.md | sed -n 's/^# //p' | head -n1)" "$WORK/synthetic"
} | tee "$OUT/results.md"
