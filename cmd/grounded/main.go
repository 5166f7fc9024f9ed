// Command grounded answers questions from trusted documents, with citations,
// or abstains. All wiring lives here: flags and environment are read in this
// package and nowhere else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `grounded: answers from trusted documents, with proof, or not at all.

Usage:
  grounded ingest [--data DIR] [--sync] [--text-column NAME | --template T] PATH...
                                                ingest files and folders (recursively)
  grounded search [--data DIR] [-k N] [--json] QUERY
  grounded ask    [--data DIR] [-k N] [--json] [--stream] [LLM FLAGS] QUESTION
  grounded serve  [--data DIR] [--addr 127.0.0.1:8080] [--api-keys FILE | --allow-no-keys]
                  [SERVER FLAGS] [--watch DIR] [LLM FLAGS]
                                                the HTTP API, the OpenAI-compatible chat API
                                                and the web page (http://127.0.0.1:8080/)
  grounded extract --schema FILE (--doc ID | --source PATH) [--json] [LLM FLAGS]
                                                typed fields of one document, each with
                                                its exact evidence, or null with a reason
  grounded summarize (--doc ID | --source PATH[*] | --query TEXT) [--length N] [--json] [LLM FLAGS]
                                                a cited summary of documents (PATH* matches a
                                                prefix; flags repeatable) or of a topic
  grounded check  (--answer TEXT | --sentence S...) (--passage FILE... | --doc ID... |
                  --chunk ID... | --question Q [-k N] [--where K=V]) [--json]
                                                check an answer written elsewhere: per sentence
                                                its verdict (supported, unsupported,
                                                contradicted), score, reason and the evidence
                                                quoted exactly; sentences end with [n] markers
                                                citing passage n (--passage, --doc or --chunk
                                                in order, or the n-th retrieved); --answer -
                                                reads stdin. Limits: 200 sentences, 100
                                                passages, 512 KiB of passage text
  grounded eval retrieval --beir DIR [--json] [--limit N]
  grounded eval qa --squad FILE [--json] [--limit N] [--half tune|confirm]
  grounded eval support [--claims FILE [--corpus FILE]] [--contrastive --squad FILE] [--json] [--threshold X] [--features FILE]
  grounded batch  --in FILE.jsonl --out FILE.jsonl [--concurrency N] [--retry-errors]
                  [--collection C] [LLM FLAGS]
                                                run a file of jobs, one JSON object a line:
                                                {"id":"q1","op":"ask","question":"..."}; ops
                                                ask, search, summarize, extract, check; one result
                                                line per id, appended and synced; run it
                                                again to resume (ids in --out are skipped)

Flags may come before or after the words of a query or question.

  --data DIR   index folder; default $GROUNDED_DATA, else ./grounded-data.
               When it holds no index, ask, search and serve first ingest the
               default corpus built into the binary and say so on stderr.
  --collection NAME   the collection (a separate index in the data folder)
               to work on; default "default"; ingest creates it  $GROUNDED_COLLECTION
  -k N         passages to retrieve (search: results to show); default 5, at most 100
  --json       print one JSON object
  --where K=V  search, ask: only passages whose field K is V (repeatable):
               source, title, section, location, doc_id, type (markdown,
               text, html, pdf, docx, csv, jsonl) or a CSV/JSONL column;
               V ending in * matches a prefix
  --addr ADDR  where serve listens; default 127.0.0.1:8080
  --stream     ask: print each sentence as soon as it passed its support check
  --min-confidence X   ask: abstain when the answer's confidence (the estimated
               probability that it is right, 0 to 1) is below X; default 0.2
  --watch DIR  serve: keep the index in sync with DIR (polled every
               --watch-interval, default 2s)

Server (serve):
  --api-keys FILE          JSON {"keys": [{"name", "key", "collections"?}]}; every
                           /v1 route then needs Authorization: Bearer KEY
                                                $GROUNDED_API_KEYS_FILE
  --allow-no-keys          serve without keys on a non-loopback address
                                                $GROUNDED_ALLOW_NO_KEYS
  --rate-limit N           requests/s per key (per client address without
                           keys); 0 turns it off; default 20  $GROUNDED_RATE_LIMIT
  --rate-burst M           default twice --rate-limit         $GROUNDED_RATE_BURST
  --max-concurrent N       answers (ask, chat) at once; 0: no cap; default
                           max(4, 2 x cores)                  $GROUNDED_MAX_CONCURRENT
  --max-queue M            answer requests waiting for a slot, then 503;
                           default 4 x --max-concurrent       $GROUNDED_MAX_QUEUE
  --max-upload-mb N        default 32                         $GROUNDED_MAX_UPLOAD_MB
  --max-question-bytes N   default 4096                       $GROUNDED_MAX_QUESTION_BYTES
  --request-timeout D      default 30s; with a model 3 x --llm-timeout + 10s
                                                $GROUNDED_REQUEST_TIMEOUT
  --log-format text|json   default text         $GROUNDED_LOG_FORMAT
  --log-level debug|info|warn|error             $GROUNDED_LOG_LEVEL

Answer generator (ask, serve), default: the offline extractive answerer.
  --llm extractive|openai|ollama|anthropic      $GROUNDED_LLM
  --llm-url URL      server; openai: any OpenAI-compatible /v1 URL (vLLM,
                     llama.cpp server, LocalAI); defaults per provider
                                                $GROUNDED_LLM_URL
  --llm-model NAME   required with a model      $GROUNDED_LLM_MODEL
  --llm-key KEY      default $OPENAI_API_KEY or $ANTHROPIC_API_KEY
                                                $GROUNDED_LLM_KEY
  --llm-legacy-max-tokens   send max_tokens (older vLLM, llama.cpp)
  --llm-timeout D    per attempt, default 60s   $GROUNDED_LLM_TIMEOUT
  --unsupported drop|flag   sentences that fail the support check
                                                $GROUNDED_UNSUPPORTED

Embedder (every command; an index refuses vectors from another embedder):
  --embedder hash|glove|openai|ollama           $GROUNDED_EMBEDDER
               (glove: offline word vectors, SIF averages)
  --embedder-url URL, --embedder-model NAME, --embedder-key KEY

Files ingested: Markdown (.md, .markdown), plain text (.txt), HTML (.html, .htm),
PDF (.pdf, text layer, by page), DOCX (.docx), CSV (.csv) and JSONL (.jsonl,
.ndjson; one section per row: --text-column picks the text, --template builds
it from columns, the rest is metadata). --sync makes the index match one
folder: files that are gone are removed.
Other files are skipped and counted; unreadable, empty or non-UTF-8 files are
reported one by one and the run goes on. Re-ingesting unchanged files changes
nothing; a changed file replaces its old chunks.

Exit status: 0 on success (an abstention is a success), 1 on error, 2 on bad usage.
`

// errUsage marks errors that are the caller's command line.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "grounded: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "grounded: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "ingest":
		return cmdIngest(ctx, args, stdout, stderr)
	case "search":
		return cmdSearch(ctx, args, stdout, stderr)
	case "ask":
		return cmdAsk(ctx, args, stdout, stderr)
	case "serve":
		return cmdServe(ctx, args, stdout, stderr)
	case "eval":
		return cmdEval(ctx, args, stdout, stderr)
	case "summarize":
		return cmdSummarize(ctx, args, stdout, stderr)
	case "extract":
		return cmdExtract(ctx, args, stdout, stderr)
	case "check":
		return cmdCheck(ctx, args, stdout, stderr)
	case "batch":
		return cmdBatch(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// commonFlags are the flags every command shares: the data folder and the
// embedder that builds (and must keep building) its vectors.
type commonFlags struct {
	data       string
	collection string
	emb        embedderFlags
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", envOr("GROUNDED_DATA", "grounded-data"), "index folder")
	fs.StringVar(&c.collection, "collection", envOr("GROUNDED_COLLECTION", "default"), "collection (a separate index inside the data folder)")
	c.emb.register(fs)
}

// envOr returns the environment variable's value, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parse parses flags that may be mixed with positional arguments and returns
// the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func joinArgs(what string, pos []string) (string, error) {
	s := strings.TrimSpace(strings.Join(pos, " "))
	if s == "" {
		return "", fmt.Errorf("%w: no %s given", errUsage, what)
	}
	return s, nil
}
