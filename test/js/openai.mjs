// Drives grounded's OpenAI-compatible API with the official openai SDK:
//
//	node test/js/openai.mjs http://127.0.0.1:PORT
//
// cmd/grounded/openai_e2e_test.go runs it against `grounded serve` over the
// built-in corpus. It prints each check, and exits 1 after printing every
// check that failed.
import OpenAI from "openai";

const base = process.argv[2];
if (!base) {
  console.error("usage: node openai.mjs BASEURL");
  process.exit(2);
}
const client = new OpenAI({ baseURL: base.replace(/\/$/, "") + "/v1", apiKey: "unused", maxRetries: 0 });

const failures = [];
function check(ok, what, detail) {
  if (ok) {
    console.log("ok   " + what);
  } else {
    failures.push(what);
    console.log("FAIL " + what + (detail === undefined ? "" : ": " + JSON.stringify(detail)));
  }
}

// step runs one group of checks; an exception fails the group.
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(false, name + " threw", String(e && e.stack ? e.stack : e));
  }
}

const question = "Can a large language model generate images?";

await step("models", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  check(ids.includes("grounded"), "models.list has grounded", ids);
  const m = await client.models.retrieve("grounded");
  check(m.id === "grounded" && m.object === "model" && m.owned_by === "grounded", "models.retrieve grounded", m);
});

let answer = "";
await step("non-streaming", async () => {
  const r = await client.chat.completions.create({
    model: "grounded",
    messages: [
      { role: "system", content: "You answer from the documents." },
      { role: "user", content: question },
    ],
    temperature: 0,
    max_tokens: 300,
    user: "openai.mjs",
  });
  const c = r.choices[0];
  answer = c.message.content;
  check(r.object === "chat.completion" && r.id.startsWith("chatcmpl-") && r.model === "grounded", "completion header", { id: r.id, object: r.object, model: r.model });
  check(c.message.role === "assistant" && c.finish_reason === "stop", "assistant message, finish_reason stop", c);
  check(/\[1\]/.test(answer), "content has [1] markers", answer);
  check(r.usage && r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens && r.usage.completion_tokens > 0, "usage adds up", r.usage);
  const g = r.grounding;
  check(g && g.abstained === false && g.citations.length > 0, "grounding: answered with citations", g);
  for (const cit of g ? g.citations : []) {
    // The quote is exactly the cited document's text at [start, end).
    const doc = await (await fetch(`${base}/v1/documents/${cit.doc_id}?version=${cit.version}`)).json();
    const exact = typeof doc.text === "string" &&
      Buffer.from(doc.text, "utf8").subarray(cit.start, cit.end).toString("utf8") === cit.quote;
    check(exact && doc.current === true, `citation [${cit.n}] quotes ${cit.source} exactly`, { quote: cit.quote, start: cit.start, end: cit.end, current: doc.current });
    check(answer.includes(`[${cit.n}]`), `citation [${cit.n}] is marked in the content`, answer);
  }
});

await step("streaming", async () => {
  const stream = await client.chat.completions.create({
    model: "grounded",
    messages: [{ role: "user", content: question }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = "";
  let role = "";
  let last = null;
  let usage = null;
  let n = 0;
  for await (const chunk of stream) {
    n++;
    check(chunk.object === "chat.completion.chunk", `chunk ${n} is a chat.completion.chunk`, chunk);
    if (chunk.usage) usage = chunk.usage;
    const ch = chunk.choices[0];
    if (!ch) continue;
    if (ch.delta.role) role = ch.delta.role;
    if (ch.delta.content) content += ch.delta.content;
    if (ch.finish_reason) last = chunk;
  }
  check(role === "assistant", "the stream opens with the assistant role", role);
  check(content.length > 0 && content === answer, "the deltas make the non-streamed answer", { streamed: content, answer });
  check(last && last.choices[0].finish_reason === "stop" && last.grounding && last.grounding.citations.length > 0 && last.grounding.abstained === false,
    "the last chunk has finish_reason stop and the grounding", last);
  check(usage && usage.total_tokens > 0, "a usage chunk", usage);
});

await step("abstention", async () => {
  const r = await client.chat.completions.create({
    model: "grounded",
    messages: [{ role: "user", content: "What is the capital of France?" }],
  });
  check(r.grounding && r.grounding.abstained === true && r.grounding.reason, "grounding.abstained", r.grounding);
  check(r.choices[0].message.content.startsWith("grounded cannot answer this from its documents"), "the content says grounded cannot answer", r.choices[0].message.content);
});

await step("follow-up", async () => {
  const r = await client.chat.completions.create({
    model: "grounded",
    messages: [
      { role: "user", content: "What is LoRA?" },
      { role: "assistant", content: "An adapter method." },
      { role: "user", content: [{ type: "text", text: "How much memory does it save?" }] },
    ],
  });
  check(r.grounding.query === "What is LoRA? How much memory does it save?", "a follow-up's query has the turn before", r.grounding.query);
});

await step("bad model", async () => {
  try {
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: question }] });
    check(false, "a bad model name raises", "no error");
  } catch (e) {
    check(e instanceof OpenAI.APIError && e.status === 404, "a bad model name raises APIError 404", { name: e && e.constructor && e.constructor.name, status: e && e.status });
    check(e instanceof OpenAI.NotFoundError && e.code === "not_found" && /gpt-4o/.test(e.message), "the error carries grounded's code and message", { code: e.code, message: e.message });
  }
});

await step("n=2", async () => {
  try {
    await client.chat.completions.create({ model: "grounded", n: 2, messages: [{ role: "user", content: question }] });
    check(false, "n=2 raises", "no error");
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError && e.status === 400, "n=2 raises BadRequestError 400", { status: e && e.status, message: e && e.message });
  }
});

if (failures.length > 0) {
  console.log(`\n${failures.length} check(s) failed:\n  ` + failures.join("\n  "));
  process.exit(1);
}
console.log("\nall checks passed");
