// ragmed web page. Plain JavaScript, no external resources. Document text is untrusted: it is only
// ever inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { collection: null, polling: null, role: "admin", docs: new Map(), abort: null, trashDays: 30 };
const MAX_QUESTION = 4000;  // the server's limit (api.MAX_QUESTION_CHARS)

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(path, options = {}) {
  const resp = await fetch(path, { credentials: "same-origin", ...options });
  if (resp.status === 401) { showLogin(); throw new Error("Sign in first."); }
  if (!resp.ok) {
    let message = resp.statusText;
    try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
    if (resp.status === 503) {
      const wait = resp.headers.get("Retry-After");
      message = "The model is busy with other questions" + (wait ? `; try again in about ${wait} s.` : ".");
    }
    throw new Error(message);
  }
  return resp;
}

// -- sign-in --------------------------------------------------------------------------------
function showLogin() { $("app").hidden = true; $("login").hidden = false; $("token").focus(); }

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  const resp = await fetch("/v1/session", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: $("token").value }),
  });
  if (resp.ok) { $("token").value = ""; $("login").hidden = true; start(); }
  else $("login-error").textContent = "That token is not right.";
});

// -- collections and documents ----------------------------------------------------------------
async function loadCollections() {
  const data = await (await api("/v1/collections")).json();
  const select = $("collection");
  select.replaceChildren();
  const names = data.collections.map((c) => c.name);
  if (!names.includes(data.default)) names.unshift(data.default);
  for (const name of names) select.append(el("option", { value: name, text: name }));
  state.collection = state.collection && names.includes(state.collection) ? state.collection : data.default;
  select.value = state.collection;
}

$("collection").addEventListener("change", () => { state.collection = $("collection").value; loadDocuments(); });

function fileUrl(docId, page) {
  const base = `/v1/collections/${encodeURIComponent(state.collection)}/documents/${encodeURIComponent(docId)}/file`;
  return page ? `${base}#page=${page}` : base;
}

// The cited page in ragmed's viewer (pdf.js, served locally) with the quote highlighted; the
// browser's own PDF viewer at that page when pdf.js is not installed (`make web`).
function pageUrl(docId, page, quote, title, source) {
  if (source && !/\.pdf$/i.test(source)) return fileUrl(docId);  // Word, web pages, text, images: the file itself
  if (!state.viewer) return fileUrl(docId, page);
  const file = fileUrl(docId);
  const args = new URLSearchParams({ file, page: String(page || 1) });
  // without the marks ragmed's text adds (table cells " | ", footnotes "[1]", powers "10^9"): the
  // PDF's own text layer has none of them
  if (quote) args.set("q", quote.replace(/[|[\]^]/g, " ").replace(/\s+/g, " ").trim());
  if (title) args.set("title", title);
  return `/static/viewer.html#${args}`;
}

async function loadDocuments() {
  const data = await (await api(`/v1/collections/${encodeURIComponent(state.collection)}/documents`)).json();
  const list = $("documents");
  list.replaceChildren();
  const busy = data.jobs.filter((j) => j.status === "queued" || j.status === "ingesting");
  for (const job of data.jobs.filter((j) => j.status !== "indexed" && j.status !== "unchanged")) {
    const cls = job.status === "failed" ? "state failed" : "state";
    list.append(el("li", { class: "job", "data-status": job.status },
      el("span", { class: "name", text: job.file_name }),
      el("span", { class: cls, text: job.status === "failed" ? `failed: ${job.error}` : `${job.status}...` })));
  }
  state.docs = new Map(data.documents.map((d) => [d.doc_id, d]));
  for (const doc of data.documents) {
    const item = el("li", { class: "document", "data-doc": doc.doc_id });
    const link = el("a", { href: fileUrl(doc.doc_id), target: "_blank", rel: "noopener", text: doc.title || doc.file_name });
    const meta = [`${doc.pages} pages`, doc.date ? `dated ${doc.date}` : "", doc.tags && doc.tags.version ? `version ${doc.tags.version}` : ""]
      .filter(Boolean).join(", ");
    item.append(el("span", { class: "name" }, link), el("span", { class: "state", text: `indexed · ${meta}` }));
    if (doc.superseded_by) {  // store/versions.py: still searchable, marked in every answer
      const by = doc.superseded_by.split("/").pop();
      item.append(el("span", { class: "state superseded", text: `SUPERSEDED by ${by}${doc.superseded_by_date ? ` (dated ${doc.superseded_by_date})` : ""}` }));
    }
    if (doc.pages_without_text && doc.pages_without_text.length) {
      const n = doc.pages_without_text.length;
      item.append(el("span", { class: "state note", text: `${n === 1 ? "Page" : "Pages"} ${doc.pages_without_text.join(", ")} ` +
        `${n === 1 ? "is an image" : "are images"} without text, so ragmed cannot search or quote ${n === 1 ? "it" : "them"}; ` +
        "the rest of the document is indexed." }));
    }
    if (state.role === "admin") {
      const remove = el("button", { type: "button", class: "secondary", text: "Remove", "aria-label": `Remove ${doc.file_name}` });
      remove.addEventListener("click", () => removeDocument(doc));
      item.append(remove);
    }
    list.append(item);
  }
  const older = $("supersedes");
  older.replaceChildren(el("option", { value: "", text: "a new document" }),
    ...data.documents.map((d) => el("option", { value: d.path, text: `new edition of ${d.title || d.file_name}` })));
  if (!data.documents.length && !data.jobs.length) {
    list.append(el("li", { text: "No documents yet: add one above." }));
  }
  clearTimeout(state.polling);
  if (busy.length) state.polling = setTimeout(loadDocuments, 1500);
  if (state.role === "admin" && typeof loadTrash === "function") loadTrash();  // trash.js
}

function setStatus(id, text, isError = false) {
  $(id).textContent = text;
  $(id).classList.toggle("error", isError);
}

async function removeDocument(doc) {
  if (!confirm(`Remove ${doc.file_name}? It stays under "Recently removed" for ${state.trashDays} days and can be restored.`)) return;
  try {
    await api(`/v1/collections/${encodeURIComponent(state.collection)}/documents/${encodeURIComponent(doc.doc_id)}`, { method: "DELETE" });
    setStatus("upload-status", `${doc.file_name} removed; restore it under "Recently removed" within ${state.trashDays} days.`);
  } catch (e) { setStatus("upload-status", `Not removed: ${e.message}`, true); }
  loadDocuments();
}

// An upload's job, polled until it is indexed (or failed): the status line says which.
async function waitForJob(job, name) {
  for (;;) {
    if (job.status === "indexed" || job.status === "unchanged") {
      return setStatus("upload-status", job.status === "indexed" ? `${name} indexed: it can be searched and quoted now.`
        : `${name} was already indexed (unchanged).`);
    }
    if (job.status === "failed") return setStatus("upload-status", `Not added: ${job.error}`, true);
    setStatus("upload-status", `${name} uploaded; indexing it now...`);
    await new Promise((r) => setTimeout(r, 1000));
    job = await (await api(`/v1/jobs/${encodeURIComponent(job.id)}`)).json();
  }
}

$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  if ($("supersedes").value) form.append("tags", `supersedes=${$("supersedes").value}`);
  setStatus("upload-status", `Uploading ${file.name}...`);
  try {
    const job = await (await api(`/v1/collections/${encodeURIComponent(state.collection)}/documents`, { method: "POST", body: form })).json();
    $("file").value = "";
    loadDocuments();
    await waitForJob(job, file.name);
  } catch (e) {
    setStatus("upload-status", `Not added: ${e.message}`, true);
  }
  await loadCollections();
  loadDocuments();
});

// -- asking -------------------------------------------------------------------------------------
async function* sseEvents(resp) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      yield { event, data: data ? JSON.parse(data) : {} };
    }
  }
}

// Answer text with each [n] turned into a link to the cited PDF page.
function renderAnswer(text, answer, box = $("answer")) {
  box.replaceChildren();
  const byN = new Map((answer ? answer.citations : []).map((c) => [c.n, c]));
  const docOf = new Map((answer ? answer.passages : []).map((p) => [p.id, p.doc_id]));
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    const c = m && byN.get(Number(m[1]));
    if (c && docOf.get(c.passage_id)) {
      box.append(el("a", {
        class: "cite", href: pageUrl(docOf.get(c.passage_id), c.page, c.quote, c.title, c.source), target: "_blank", rel: "noopener",
        title: `${c.title || c.source}, ${pageText(c.page_label, c.page)}`, "data-n": String(c.n), text: `[${c.n}]`,
      }));
    } else {
      box.append(document.createTextNode(part));
    }
  }
}

// The printed page label and, when it differs, the PDF's own page number (what a PDF viewer shows).
function pageText(label, page) {
  return String(label) === String(page) ? `page ${page}` : `page ${label} (PDF page ${page})`;
}

const MARKS = { supported: "✓", unsupported: "✗", uncited: "?" };

// The best sentences of the retrieved passages, each cited: shown first, before the model answers.
function renderEvidence(evidence, answer) {
  const list = $("evidence");
  list.replaceChildren();
  for (const e of evidence || []) {
    const item = el("li", {});
    renderAnswer(`${e.text} [${e.n}]`, answer, item);
    if (e.superseded) item.append(el("span", { class: "superseded", text: ` SUPERSEDED: ${e.superseded}` }));
    list.append(item);
  }
  $("evidence-box").hidden = !(evidence && evidence.length);
}

// Notices; superseded sources and disagreeing sources (ground/currency.py) and who the guidance is
// for (ground/population.py) stand out, above the evidence sentences: read before any dose.
// the notices ground/release.for_clinician keeps with the answer (also read by threads.js)
const CLINICIAN_NOTE = /^(Superseded:|Sources disagree:|Changed between editions:|Your question is about )/;
function renderNotices(notes) {
  const lead = (notes || []).filter((n) => CLINICIAN_NOTE.test(n));
  $("lead-notices").replaceChildren(...lead.map((n) => el("li", { text: n, class: "currency" })));
  $("notices").replaceChildren(...(notes || []).filter((n) => !CLINICIAN_NOTE.test(n)).map((n) => el("li", { text: n })));
}

// Why a checked sentence was left out, in words (its text is not shown as an answer).
function claimReason(c) {
  if (c.status === "uncited") return "a sentence without a citation was left out" + (c.suggested ? ` (passage [${c.suggested}] does support it)` : "");
  const why = c.reason || (c.missing_numbers && c.missing_numbers.length ? `numbers not in the source: ${c.missing_numbers.join(", ")}` : "not supported by its citation");
  return `a sentence was left out: ${why}` + (c.suggested ? ` (passage [${c.suggested}] does support it)` : "");
}

function addClaim(c) {
  $("claims").append(el("li", { class: c.status }, el("span", { class: "mark", text: MARKS[c.status] || "" }),
    document.createTextNode(claimReason(c))));
}

function renderFinal(answer) {
  renderAnswer(answer.answer, answer);
  $("answer-title").hidden = !(answer.grounded && answer.model && !answer.abstained && answer.answer);
  // withheld, or the model found nothing: the answer area holds the evidence sentences then
  const instead = answer.abstention && (answer.abstention.stage === "verification" ||
    (answer.abstention.stage === "model" && answer.evidence && answer.evidence.length));
  if (instead) $("evidence-box").hidden = true;
  else if (answer.evidence && answer.evidence.length) renderEvidence(answer.evidence, answer);
  const abst = $("abstained");
  abst.hidden = !answer.abstained;
  if (answer.abstained) {
    const why = answer.abstention ? answer.abstention.reason : "";
    abst.textContent = answer.abstention && answer.abstention.stage === "gate"
      ? `${why.replace(/\.?$/, ".")} The nearest sources are listed below.`
      : `No answer is shown: ${why}. Read the sources below.`;
  }
  const s = answer.support;
  $("support").textContent = s && s.claims
    ? `Checked: ${s.supported} of ${s.claims} statement(s) supported by their cited sources.` : "";
  const claims = $("claims");
  claims.replaceChildren();
  for (const c of answer.claims || []) {
    if (c.status !== "supported") addClaim(c);
  }
  renderNotices(answer.notices);
  const sources = $("sources");
  sources.replaceChildren();
  const cited = new Set((answer.citations || []).map((c) => c.passage_id));
  (answer.passages || []).forEach((p) => {
    const tags = [];
    if (p.section_path) tags.push(p.section_path);
    const item = el("li", { value: String(p.n), "data-n": String(p.n) });
    const citation = (answer.citations || []).find((c) => c.passage_id === p.id);
    // the label tells same-named files apart ("2024/protocol.pdf"); it is set only when names collide
    const name = p.label && p.label.includes("/") ? p.label : (p.title || p.source.split("/").pop());
    item.append(el("a", { href: pageUrl(p.doc_id, p.page, citation && citation.quote, p.title, p.source), target: "_blank", rel: "noopener",
      text: `${name}, ${pageText(p.page_label, p.page)}` }));
    const doc = state.docs.get(p.doc_id) || {};
    const date = (citation && citation.date) || doc.date;
    const version = (citation && citation.version) || (doc.tags && doc.tags.version);
    const when = [date && `dated ${date}`, version && `version ${version}`, citation && citation.ocr,
      citation && citation.superseded && `SUPERSEDED: ${citation.superseded}`].filter(Boolean);
    item.append(el("div", { class: "meta", text: [...tags, ...when, cited.has(p.id) ? "cited" : "not cited"].join(" · ") }));
    item.append(el("blockquote", { text: p.text.length > 400 ? p.text.slice(0, 400) + "…" : p.text }));
    sources.append(item);
  });
  const reasoning = answer.reasoning || "";
  $("reasoning-box").hidden = !reasoning;
  $("reasoning").textContent = reasoning;
}

// The stage an answer is at, with the time since the question was asked (updated twice a second).
const STAGES = {
  sending: "Sending the question", waiting: "Waiting for the model", searching: "Searching your documents",
  loading: "Loading the model (first question since the server started)", reading: "The model is reading the passages",
  thinking: "The model is thinking", writing: "Writing; each sentence is checked against its source before it is shown",
};
const progress = { stage: null, extra: "", t0: 0, timer: null };

function showStage(stage, extra = "") {
  progress.stage = stage;
  progress.extra = extra;
  $("status").dataset.stage = stage;
  tick();
}

function tick() {
  if (!progress.stage) return;
  const s = ((performance.now() - progress.t0) / 1000).toFixed(0);
  setStatus("status", `${STAGES[progress.stage]}${progress.extra}... ${s} s`);
}

function stopProgress(text, isError = false) {
  clearInterval(progress.timer);
  progress.stage = null;
  delete $("status").dataset.stage;
  setStatus("status", text, isError);
}

function questionLength() {
  const n = $("question").value.length;
  const over = n > MAX_QUESTION;
  $("count").textContent = `${n} / ${MAX_QUESTION} characters`;
  $("count").classList.toggle("error", over);
  $("too-long").hidden = !over;
  $("too-long").textContent = over ? `The question is ${n - MAX_QUESTION} characters too long: shorten it to ` +
    `${MAX_QUESTION} (nothing is cut without telling you).` : "";
  $("ask-button").disabled = over || Boolean(state.abort);
  return n;
}

$("question").addEventListener("input", questionLength);
$("question").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("ask-form").requestSubmit();
  }
});
$("stop-button").addEventListener("click", () => { if (state.abort) state.abort.abort(); });
$("copy-button").addEventListener("click", async () => {
  const text = $("answer").innerText.trim();
  try {
    await navigator.clipboard.writeText(text);
    setStatus("status", "Answer copied.");
  } catch (e) {
    const range = document.createRange();  // no clipboard permission: select it for Ctrl+C
    range.selectNodeContents($("answer"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    setStatus("status", "Answer selected: press Ctrl+C to copy it.");
  }
});

$("ask-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const question = $("question").value.trim();
  if (!question || state.abort || questionLength() > MAX_QUESTION) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  const button = $("ask-button");
  state.abort = new AbortController();
  button.disabled = true;
  $("stop-button").hidden = mode === "evidence";
  $("copy-button").hidden = true;
  $("result").hidden = false;
  delete $("result").dataset.done;
  $("abstained").hidden = true;
  for (const id of ["support", "answer"]) $(id).textContent = "";
  for (const id of ["claims", "sources", "notices", "lead-notices", "evidence"]) $(id).replaceChildren();
  $("evidence-box").hidden = true;
  $("answer-title").hidden = true;
  progress.t0 = performance.now();
  clearInterval(progress.timer);
  progress.timer = setInterval(tick, 500);
  showStage(mode === "evidence" ? "searching" : "sending");
  let text = "";
  let evidenceRefs = null;
  try {
    const resp = await api("/v1/ask", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, collection: state.collection, mode, stream: true,
        ...(window.ragmedThreads ? window.ragmedThreads.request() : {}) }),  // threads.js
      signal: state.abort.signal,
    });
    for await (const { event, data } of sseEvents(resp)) {
      if (event === "queued") {
        if (data.position > 1) showStage("waiting", ` (${data.position - 1} question(s) ahead)`);
        else showStage("searching");
      } else if (event === "stage" && STAGES[data.stage]) showStage(data.stage);
      else if (event === "reasoning") { if (progress.stage !== "thinking") showStage("thinking"); }
      else if (event === "evidence") {
        evidenceRefs = data;
        renderEvidence(data.evidence, data);
        renderNotices(data.notices);
        if (progress.stage !== "loading") showStage("reading");
      } else if (event === "answer") {
        text += data.text;
        $("answer-title").hidden = false;
        renderAnswer(text, evidenceRefs);
        if (progress.stage !== "writing") showStage("writing");
      } else if (event === "flagged") { addClaim(data.claim); if (progress.stage !== "writing") showStage("writing"); }
      else if (event === "final") {
        renderFinal(data);
        if (window.ragmedThreads) window.ragmedThreads.answered(data);
        const t = data.timings || {};
        const secs = ((performance.now() - progress.t0) / 1000).toFixed(1);
        stopProgress(data.abstained ? `Done in ${secs} s.` : `Answered in ${secs} s by ${data.model}` +
          (t.total_s ? ` (${t.total_s.toFixed(1)} s on the server).` : "."));
        $("copy-button").hidden = !(data.answer && !data.abstained);
        $("result").dataset.done = "true";
      } else if (event === "error") throw new Error(data.error ? data.error.message : "The answer failed.");
    }
  } catch (e) {
    if (e.name === "AbortError") stopProgress("Stopped. The model was stopped; nothing more will be written.");
    else stopProgress(`The question could not be answered: ${e.message}`, true);
  } finally {
    clearInterval(progress.timer);
    state.abort = null;
    $("stop-button").hidden = true;
    button.disabled = false;
    questionLength();
  }
});

async function start() {
  try {
    const who = await (await api("/v1/session")).json();
    if (who.auth && !who.role) { showLogin(); return; }
    state.role = who.role || "admin";
    document.body.dataset.role = state.role;
    const health = await (await api("/v1/health")).json();
    $("demo-banner").hidden = !health.demo_model;
    state.viewer = Boolean(health.viewer);
    state.trashDays = health.trash_days || 30;
    await loadCollections();
    $("app").hidden = false;
    await loadDocuments();
  } catch (e) {
    if ($("login").hidden) $("status").textContent = e.message;
  }
}

start();
