// Drives grounded's web page in headless Chromium, as a user would:
//
//   node test/js/browser.mjs BASEURL OUTDIR [extractive|model|key]
//
// extractive (the default; the server answers from the built-in corpus
// without a model): it asks a question the corpus answers, opens the first
// cited passage and compares it with the quote the API returns, asks one it
// cannot answer and checks the abstention, shows an API error, uploads a
// Markdown file and deletes it again, and checks an answer written
// elsewhere in the "Check an answer" panel (one sentence cited to the wrong
// passage) against what POST /v1/check says. Screenshots: answer.png,
// abstain.png, documents.png, check.png.
//
// model (the server answers with a scripted model that the Go test runs):
// the first answer's sentences stream in and the final answer replaces
// them; the second reply breaks off after a sentence, and the page shows
// the extractive answer that replaces the withdrawn sentence. Screenshots:
// streamed.png, withdrawn.png.
//
// key (the server needs an API key, GROUNDED_TEST_KEY): the page asks for
// one, says so when a wrong one is entered, and with the right one lists
// and answers; the key outlives a reload of the tab. Screenshot: key.png.
//
// Any failure exits 1 with a message; the browser is always closed, and the
// whole run is bounded by a watchdog. CHROMIUM names the browser binary
// (default /usr/bin/chromium).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";

const WAIT_MS = 15_000; // any one wait
const TOTAL_MS = 60_000; // the whole run

const [base, outDir, mode = "extractive"] = process.argv.slice(2);
if (!base || !outDir || !["extractive", "model", "key"].includes(mode)) {
  console.error("usage: node browser.mjs BASEURL OUTDIR [extractive|model|key]");
  process.exit(2);
}

const ANSWERED = "Can a large language model generate images?";
const ABSTAINS = "What is the capital of France?";

let browser;
const watchdog = setTimeout(async () => {
  console.error(`FAIL: the run took longer than ${TOTAL_MS / 1000} s`);
  await browser?.close().catch(() => {});
  process.exit(1);
}, TOTAL_MS);

function check(ok, message) {
  if (!ok) throw new Error(message);
}

// api calls the server from node, as a second opinion on what the page shows.
async function api(method, url, body) {
  const resp = await fetch(new URL(url, base), {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await resp.text();
  check(resp.ok, `${method} ${url}: HTTP ${resp.status}: ${text}`);
  return JSON.parse(text);
}

async function ask(page, question) {
  await page.fill("#question", question);
  await page.click("#ask");
  // Done when the button is enabled again and something was shown.
  await page.waitForFunction(() => {
    const done = !document.getElementById("ask").disabled;
    const shown = ["answer", "abstention", "ask-error"].some((id) => !document.getElementById(id).hidden);
    return done && shown;
  }, null, { timeout: WAIT_MS });
}

async function run() {
  await mkdir(outDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
    timeout: WAIT_MS,
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  // Script errors and CSP violations fail the run.
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The API's own 4xx answers are logged as failed loads; those the
    // page means to show are checked below, the page's files right here.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console error: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (!new URL(r.url()).pathname.startsWith("/v1/") && r.status() >= 400) problems.push(`GET ${r.url()}: HTTP ${r.status()}`);
  });
  page.on("requestfailed", (r) => problems.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));

  const resp = await page.goto(base, { waitUntil: "load" });
  check(resp && resp.ok(), `GET ${base}: HTTP ${resp && resp.status()}`);
  check(/default-src 'self'/.test(resp.headers()["content-security-policy"] || ""), "the page has no Content-Security-Policy");
  if (mode === "key") await withKey(page);
  await page.waitForSelector("#collection option", { state: "attached" });
  check(await page.inputValue("#collection") === "default", "the collection selector does not start at default");
  await page.waitForSelector("#docs-body tr");
  if (mode === "model") await withModel(page);
  else if (mode === "key") await keyKept(page);
  else await extractive(page);
  check(problems.length === 0, problems.join("\n"));
}

// extractive: answer, passage, abstention, error, upload and delete.
async function extractive(page) {
  // An answer with citations; the first marker reveals the quoted passage.
  await ask(page, ANSWERED);
  check(await page.isVisible("#answer"), `no answer shown; error: ${await page.textContent("#ask-error")}`);
  check(/Confidence \d+%/.test(await page.textContent("#answer-meta")), `the answer does not show its confidence: ${await page.textContent("#answer-meta")}`);
  const markers = page.locator("#answer-text button.cite");
  const count = await markers.count();
  check(count >= 1, `the answer has no [n] marker: ${await page.textContent("#answer-text")}`);
  const first = markers.first();
  const n = Number(await first.getAttribute("data-n"));
  check((await first.textContent()) === `[${n}]`, `marker text ${await first.textContent()}, want [${n}]`);
  await first.click();
  await page.waitForSelector("#passage", { state: "visible" });
  const shown = await page.textContent("#passage-quote");
  check(shown.trim() !== "", "the revealed passage is empty");
  check(await first.getAttribute("aria-expanded") === "true", "the clicked marker is not aria-expanded");
  const want = await api("POST", "/v1/ask", { question: ANSWERED, collection: "default" });
  const cite = want.citations.find((c) => c.n === n);
  check(cite, `the API's answer has no citation [${n}]: ${JSON.stringify(want.citations)}`);
  check(shown === cite.quote, `the page shows passage\n  ${JSON.stringify(shown)}\nthe API quotes\n  ${JSON.stringify(cite.quote)}`);
  const facts = await page.textContent("#passage-facts");
  for (const v of [cite.source, cite.title, cite.version]) {
    check(facts.includes(v), `the passage's details lack ${JSON.stringify(v)}: ${facts}`);
  }
  // The version check against GET /v1/documents/{id}?version= finishes.
  await page.waitForFunction(() => document.getElementById("passage-facts").textContent.includes("(current)"), null, { timeout: WAIT_MS });
  const text = await page.textContent("#answer-text");
  check(text.replace(/\s+/g, " ").trim() === want.answer.replace(/\s+/g, " ").trim(),
    `the page's answer\n  ${text}\ndiffers from the API's\n  ${want.answer}`);
  await page.screenshot({ path: path.join(outDir, "answer.png"), fullPage: true });

  // An abstention, said plainly.
  await ask(page, ABSTAINS);
  check(await page.isVisible("#abstention"), "no abstention message shown");
  check(await page.isHidden("#answer"), "an answer is still shown beside the abstention");
  check(await page.getAttribute("#abstention", "role") === "status", "the abstention message is not role=status");
  const said = await page.textContent("#abstention");
  check(/cannot answer/.test(said), `abstention message: ${said}`);
  check(!/no_evidence|undefined/.test(said), `the abstention shows a code, not words: ${said}`);
  await page.screenshot({ path: path.join(outDir, "abstain.png"), fullPage: true });

  // An API error (a question over the 4096-byte limit), shown plainly.
  await ask(page, "why ".repeat(1100));
  check(await page.isVisible("#ask-error"), "no error shown for an over-long question");
  const err = await page.textContent("#ask-error");
  check(/invalid/.test(err) && /4096/.test(err), `error message: ${err}`);

  // Upload a Markdown file, see it listed, delete it.
  const before = (await api("GET", "/v1/collections")).collections.find((c) => c.name === "default").documents;
  const name = `browser-test-${Date.now()}.md`;
  await page.setInputFiles("#file", {
    name,
    mimeType: "text/markdown",
    buffer: Buffer.from("# Browser test note\n\nThe quokka protocol exchanges three messages before any data flows.\n"),
  });
  await page.click("#upload");
  const row = page.locator("#docs-body tr", { hasText: name });
  await row.waitFor({ state: "visible" });
  const status = await page.textContent("#upload-status");
  check(status.includes(`Added ${name}`), `upload status: ${status}`);
  check((await row.textContent()).includes("Browser test note"), `the listed row lacks the title: ${await row.textContent()}`);
  const listed = await api("GET", "/v1/documents?collection=default&limit=1000");
  check(listed.documents.some((d) => d.source === name), `the API does not list ${name}`);
  await page.waitForFunction((want) => document.getElementById("collection").selectedOptions[0].textContent.includes(want),
    `${before + 1} documents`, { timeout: WAIT_MS });
  await page.screenshot({ path: path.join(outDir, "documents.png"), fullPage: true });

  page.once("dialog", (d) => d.accept());
  await row.locator("button.danger").click();
  await row.waitFor({ state: "detached" });
  const after = await api("GET", "/v1/documents?collection=default&limit=1000");
  check(!after.documents.some((d) => d.source === name), `${name} is still stored after its delete button`);
  await checkPanel(page);
  console.log(`ok: answer with ${count} markers, passage [${n}] from ${cite.source}, abstention, error, upload and delete, a checked answer; screenshots in ${outDir}`);
}

// checkPanel checks an answer whose first sentence cites the wrong passage:
// each sentence is shown with the API's verdict and evidence quote, and the
// re-attribution is said.
async function checkPanel(page) {
  const answer = "Refunds are paid within 14 days [1]. Shipping is free on orders over 50 euros [1].";
  const passages = ["Shipping is free on orders over 50 euros.", "Refunds are paid within 14 days of the return."];
  await page.fill("#check-answer", answer);
  await page.fill("#check-passage-1", passages[0]);
  await page.fill("#check-passage-2", passages[1]);
  await page.click("#check-add");
  check(await page.isVisible("#check-passage-3"), "Add a passage did not add a third field");
  await page.click("#check");
  await page.waitForSelector("#check-result", { state: "visible" });
  const want = await api("POST", "/v1/check", { answer, passages: passages.map((text) => ({ text })) });
  const items = page.locator("#check-sentences li");
  check(await items.count() === want.sentences.length, `${await items.count()} sentences shown, the API checked ${want.sentences.length}`);
  for (let i = 0; i < want.sentences.length; i++) {
    const st = want.sentences[i];
    const li = items.nth(i);
    check(await li.getAttribute("data-verdict") === st.verdict, `sentence ${i + 1}: verdict ${await li.getAttribute("data-verdict")}, the API says ${st.verdict}`);
    check((await li.locator(".verdict").textContent()).toLowerCase() === st.verdict, `sentence ${i + 1}: the verdict is not shown in words`);
    check(await li.locator("blockquote.evidence").textContent() === st.evidence.quote,
      `sentence ${i + 1}: the page quotes ${JSON.stringify(await li.locator("blockquote.evidence").textContent())}, the API ${JSON.stringify(st.evidence.quote)}`);
    check(st.evidence.quote === passages[st.evidence.passage - 1].slice(st.evidence.start, st.evidence.end), `sentence ${i + 1}: the API's quote is not its passage's text`);
  }
  check(want.sentences[0].citations[0] === 2 && want.reattributed_citations === 1, `the API did not re-attribute: ${JSON.stringify(want)}`);
  const reason = await items.nth(0).locator(".reason").textContent();
  check(/re-attributed/.test(reason), `the re-attribution is not said: ${reason}`);
  check((await items.nth(0).locator(".text").textContent()).endsWith("[2]"), "the re-attributed sentence does not show its new citation");
  const summary = await page.textContent("#check-summary");
  check(/2 of 2 sentences supported/.test(summary) && /1 re-attributed/.test(summary), `check summary: ${summary}`);
  await page.screenshot({ path: path.join(outDir, "check.png"), fullPage: true });
}

// withModel: streamed sentences, then a reply that breaks off. The Go test
// scripts the model: a well-cited two-sentence reply, then the same reply
// cut off halfway.
async function withModel(page) {
  await ask(page, ANSWERED);
  check(await page.isVisible("#answer"), `no answer shown; error: ${await page.textContent("#ask-error")}`);
  const streamed = Number(await page.getAttribute("#answer", "data-streamed"));
  check(streamed === 2, `${streamed} sentences streamed, want 2`);
  check(await page.locator("#answer-text .streaming").count() === 0, "streamed sentences are left beside the final answer");
  const meta = await page.textContent("#answer-meta");
  check(/openai m/.test(meta), `the answer does not name the model: ${meta}`);
  check(await page.isHidden("#withdrawn"), "a withdrawal note on an answer that withdrew nothing");
  const markers = page.locator("#answer-text button.cite");
  check(await markers.count() === 2, `${await markers.count()} markers, want 2: ${await page.textContent("#answer-text")}`);
  await markers.first().click();
  const quote = await page.textContent("#passage-quote");
  check(/cannot generate images/.test(quote), `passage: ${quote}`);
  await page.screenshot({ path: path.join(outDir, "streamed.png"), fullPage: true });

  await ask(page, ANSWERED);
  check(await page.isVisible("#answer"), `no answer shown; error: ${await page.textContent("#ask-error")}`);
  const broken = await page.getAttribute("#answer", "data-streamed");
  check(broken === "1", `the broken reply streamed ${broken} sentences, want its first one; answer: ${await page.textContent("#answer")}`);
  const note = await page.textContent("#withdrawn");
  check(await page.isVisible("#withdrawn") && /1 sentence .* withdrawn/.test(note), `withdrawal note: ${JSON.stringify(note)}`);
  check(await page.locator("#answer-text .streaming").count() === 0, "the withdrawn sentence is still shown");
  check(/extractive/.test(await page.textContent("#answer-meta")), "the fallback answer does not say it is extractive");
  const want = await api("POST", "/v1/ask", { question: ANSWERED, collection: "default" }); // the model breaks again
  check(want.generator === "extractive" && want.fallback_reason, `API: generator ${want.generator}, fallback ${want.fallback_reason}`);
  const text = await page.textContent("#answer-text");
  check(text.replace(/\s+/g, " ").trim() === want.answer.replace(/\s+/g, " ").trim(),
    `the page's answer\n  ${text}\ndiffers from the fallback\n  ${want.answer}`);
  await page.screenshot({ path: path.join(outDir, "withdrawn.png"), fullPage: true });
  console.log(`ok: ${streamed} sentences streamed then replaced; a broken reply withdrew 1 for the extractive answer; screenshots in ${outDir}`);
}

// withKey: the page asks for a key, refuses a wrong one, takes the right one.
async function withKey(page) {
  const key = process.env.GROUNDED_TEST_KEY;
  check(key, "GROUNDED_TEST_KEY is not set");
  await page.waitForSelector("#key-panel", { state: "visible" });
  check(await page.isHidden("#ask-error"), "a 401 shows an error beside the key field");
  await page.fill("#key", "not-the-key-0123456789");
  await page.click("#key-form button");
  await page.waitForFunction(() => /did not accept/.test(document.getElementById("key-message").textContent), null, { timeout: WAIT_MS });
  check(await page.isVisible("#key-panel"), "the key panel went away after a wrong key");
  await page.screenshot({ path: path.join(outDir, "key.png"), fullPage: true });
  await page.fill("#key", key);
  await page.click("#key-form button");
  await page.waitForSelector("#key-panel", { state: "hidden" });
}

// keyKept: with the key, the page answers, and keeps the key over a reload.
async function keyKept(page) {
  await ask(page, ANSWERED);
  check(await page.locator("#answer-text button.cite").count() >= 1, `no cited answer with the key; error: ${await page.textContent("#ask-error")}`);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("#docs-body tr");
  check(await page.isHidden("#key-panel"), "the key was forgotten on reload");
  console.log(`ok: the page asked for a key, refused a wrong one, answered with the right one; screenshot in ${outDir}`);
}

let code = 0;
try {
  await run();
} catch (e) {
  console.error("FAIL:", e.message);
  code = 1;
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(code);
