#!/usr/bin/env bash
# bench/batch.sh: throughput of `grounded batch` (jobs/s) over the PostgreSQL
# 15 manual. From the repository root or anywhere:
#
#   bench/batch.sh            # about a minute once the data folder is built
#   bench/batch.sh --quick    # 50 jobs of each kind
#
# It builds grounded, ingests the manual's HTML (postgresql-doc-15, installed
# with apt-get when missing) into bench/out/batch/data once (kept between
# runs; an unchanged re-ingest takes a fraction of a second), writes four job
# files and runs each with a fresh output file:
#
#   ask        500 questions made from page titles: "What does CREATE INDEX
#              do?" for the SQL command and program pages, "What is said
#              about index types?" for the others
#   search     the same 500 texts as search queries (k 5)
#   summarize  100 pages (sql-*.html, by source), 3 sentences each
#   extract    the same 100 pages, schema: command (string), since_version
#              (number), deprecated (bool)
#
# and then the ask file again over its finished output (a resume that skips
# everything). jobs/s is the batch's own figure (jobs finished / time from
# the input read to the last line synced); "wall" adds starting the binary
# and loading the index. It prints a Markdown table to stdout and
# bench/out/batch/results.md.
#
# Environment: CONCURRENCY (default: the number of cores), BATCH_ARGS (more
# flags for grounded batch, e.g. --llm openai --llm-model M).
set -euo pipefail

cd "$(dirname "$0")/.."
N_ASK=500
N_PAGES=100
for arg in "$@"; do
	case $arg in
	--quick) N_ASK=50 N_PAGES=50 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "batch.sh: unknown argument $arg (--quick)" >&2
		exit 2
		;;
	esac
done
OUT=bench/out/batch
DATA=$OUT/data
MANUAL=/usr/share/doc/postgresql-doc-15/html
CONCURRENCY=${CONCURRENCY:-$(nproc)}
mkdir -p "$OUT"

if [[ ! -d $MANUAL ]]; then
	echo "batch.sh: installing postgresql-doc-15" >&2
	SUDO=
	if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql-doc-15
fi
for tool in go jq; do
	command -v $tool >/dev/null || { echo "batch.sh: $tool is not installed" >&2; exit 1; }
done

BIN=$OUT/grounded
go build -o "$BIN" ./cmd/grounded
"$BIN" ingest --data "$DATA" "$MANUAL" >"$OUT/ingest.txt" 2>&1 || { cat "$OUT/ingest.txt" >&2; exit 1; }
INDEX=$(grep '^index ' "$OUT/ingest.txt")

# --- job files ----------------------------------------------------------------------
# Page titles, numbering and entities removed: "11.2. Index Types" -> "Index Types".
grep -o -m1 '<title>[^<]*</title>' "$MANUAL"/*.html |
	sed -E 's|^.*/([^/:]+):<title>([^<]*)</title>$|\1\t\2|; s/\t([A-Z0-9]+\.)+ /\t/' |
	sed -E 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g' |
	grep -v -e 'Release' -e 'renamed to' | sort -u -t$'\t' -k2,2 | sort >"$OUT/titles.tsv"
# Commands and programs first, then the other pages; N_ASK of them.
{
	grep -E '^(sql|app)-' "$OUT/titles.tsv" | awk -F'\t' '{printf "What does %s do?\n", $2}'
	grep -v -E '^(sql|app)-' "$OUT/titles.tsv" | awk -F'\t' '{printf "What is said about %s?\n", tolower($2)}'
} >"$OUT/questions.all"
sed -n "1,${N_ASK}p" "$OUT/questions.all" >"$OUT/questions.txt"
jq -cR '{id: "ask-\(input_line_number)", op: "ask", question: .}' <"$OUT/questions.txt" >"$OUT/ask.jsonl"
jq -cR '{id: "search-\(input_line_number)", op: "search", query: ., k: 5}' <"$OUT/questions.txt" >"$OUT/search.jsonl"
printf '%s\n' "$MANUAL"/sql-*.html | sed -n "1,${N_PAGES}p" >"$OUT/pages.txt"
jq -cR '{id: "summarize-\(input_line_number)", op: "summarize", source: ., length: 3}' <"$OUT/pages.txt" >"$OUT/summarize.jsonl"
cat >"$OUT/schema.json" <<'EOF'
{"fields": [
  {"name": "command", "type": "string", "description": "What SQL command does this page describe?"},
  {"name": "since_version", "type": "number", "description": "Since which PostgreSQL version is this command available?"},
  {"name": "deprecated", "type": "bool", "description": "Is this command deprecated?"}
]}
EOF
jq -cR '{id: "extract-\(input_line_number)", op: "extract", source: ., schema_file: "schema.json"}' <"$OUT/pages.txt" >"$OUT/extract.jsonl"

# --- runs ---------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
EXTRA=()
if [[ -n ${BATCH_ARGS:-} ]]; then
	read -r -a EXTRA <<<"$BATCH_ARGS"
fi
ROWS=()
# run NAME JOBFILE OUTFILE: one batch run; adds a table row.
run() {
	local name=$1 jobs=$2 out=$3
	local cmd=("$BIN" batch --data "$DATA" --in "$jobs" --out "$out" --concurrency "$CONCURRENCY" "${EXTRA[@]}")
	printf '$' >&2
	printf ' %q' "${cmd[@]}" >&2
	printf '\n' >&2
	local t0 t1
	t0=$(date +%s.%N)
	"${cmd[@]}" >"$OUT/$name.summary" 2>"$OUT/$name.progress" || {
		cat "$OUT/$name.summary" "$OUT/$name.progress" >&2
		exit 1
	}
	t1=$(date +%s.%N)
	local line
	line=$(grep -m1 '^batch: ' "$OUT/$name.summary")
	echo "  $line" >&2
	# "batch: 500 jobs: 480 ok (120 abstained), 20 errors, 0 skipped (...); 4.2s, 119.0 jobs/s"
	local re='^batch: ([0-9]+) jobs: ([0-9]+) ok \(([0-9]+) abstained\), ([0-9]+) errors, ([0-9]+) skipped.*; ([0-9.]+)s, ([0-9.]+) jobs/s'
	[[ $line =~ $re ]] || { echo "batch.sh: cannot read the summary: $line" >&2; exit 1; }
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
	ROWS+=("| $name | ${BASH_REMATCH[1]} | ${BASH_REMATCH[2]} | ${BASH_REMATCH[3]} | ${BASH_REMATCH[4]} | ${BASH_REMATCH[5]} | ${BASH_REMATCH[6]} | $wall | ${BASH_REMATCH[7]} |")
}
for op in ask search summarize extract; do
	rm -f "$OUT/$op.out.jsonl"
	run "$op" "$OUT/$op.jsonl" "$OUT/$op.out.jsonl"
done
run "ask (resumed, all done)" "$OUT/ask.jsonl" "$OUT/ask.out.jsonl"

{
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3); --concurrency $CONCURRENCY${BATCH_ARGS:+, $BATCH_ARGS}; load average $LOAD_BEFORE before the runs."
	echo "Index: ${INDEX#index }, the PostgreSQL 15 manual (HTML)."
	echo
	echo "| jobs | in | ok | abstained | errors | skipped | batch s | wall s | jobs/s |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/results.md"
