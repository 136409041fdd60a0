// ragmed web page. Plain JavaScript, no external resources. Document text is untrusted: it is only
// ever inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { collection: null, polling: null };

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
  for (const doc of data.documents) {
    const item = el("li", { class: "document", "data-doc": doc.doc_id });
    const link = el("a", { href: fileUrl(doc.doc_id), target: "_blank", rel: "noopener", text: doc.title || doc.file_name });
    const meta = [`${doc.pages} pages`, doc.date ? `dated ${doc.date}` : "", doc.tags && doc.tags.version ? `version ${doc.tags.version}` : ""]
      .filter(Boolean).join(", ");
    item.append(el("span", { class: "name" }, link), el("span", { class: "state", text: `indexed · ${meta}` }));
    if (doc.pages_without_text && doc.pages_without_text.length) {
      item.append(el("span", { class: "state failed", text: `no text on page(s) ${doc.pages_without_text.join(", ")}` }));
    }
    const remove = el("button", { type: "button", text: "Remove", "aria-label": `Remove ${doc.file_name}` });
    remove.addEventListener("click", () => removeDocument(doc));
    item.append(remove);
    list.append(item);
  }
  if (!data.documents.length && !data.jobs.length) {
    list.append(el("li", { text: "No documents yet: add a PDF above." }));
  }
  clearTimeout(state.polling);
  if (busy.length) state.polling = setTimeout(loadDocuments, 1500);
}

async function removeDocument(doc) {
  if (!confirm(`Remove ${doc.file_name} from the index?`)) return;
  try {
    await api(`/v1/collections/${encodeURIComponent(state.collection)}/documents/${encodeURIComponent(doc.doc_id)}`, { method: "DELETE" });
  } catch (e) { $("upload-status").textContent = e.message; }
  loadDocuments();
}

$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  $("upload-status").textContent = `Uploading ${file.name}...`;
  try {
    await api(`/v1/collections/${encodeURIComponent(state.collection)}/documents`, { method: "POST", body: form });
    $("upload-status").textContent = `${file.name} uploaded; indexing it now.`;
    $("file").value = "";
  } catch (e) {
    $("upload-status").textContent = `Not added: ${e.message}`;
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
        class: "cite", href: fileUrl(docOf.get(c.passage_id), c.page), target: "_blank", rel: "noopener",
        title: `${c.title || c.source}, page ${c.page_label}`, "data-n": String(c.n), text: `[${c.n}]`,
      }));
    } else {
      box.append(document.createTextNode(part));
    }
  }
}

const MARKS = { supported: "✓", unsupported: "✗", uncited: "?" };

// The best sentences of the retrieved passages, each cited: shown first, before the model answers.
function renderEvidence(evidence, answer) {
  const list = $("evidence");
  list.replaceChildren();
  for (const e of evidence || []) {
    const item = el("li", {});
    renderAnswer(`${e.text} [${e.n}]`, answer, item);
    list.append(item);
  }
  $("evidence-box").hidden = !(evidence && evidence.length);
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
  const withheld = answer.abstention && answer.abstention.stage === "verification";
  if (withheld) $("evidence-box").hidden = true;  // the answer area holds the evidence sentences then
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
  const notices = $("notices");
  notices.replaceChildren(...(answer.notices || []).map((n) => el("li", { text: n })));
  const sources = $("sources");
  sources.replaceChildren();
  const cited = new Set((answer.citations || []).map((c) => c.passage_id));
  (answer.passages || []).forEach((p) => {
    const tags = [];
    if (p.section_path) tags.push(p.section_path);
    const item = el("li", { value: String(p.n), "data-n": String(p.n) });
    item.append(el("a", { href: fileUrl(p.doc_id, p.page), target: "_blank", rel: "noopener",
      text: `${p.title || p.source.split("/").pop()}, page ${p.page_label}` }));
    const citation = (answer.citations || []).find((c) => c.passage_id === p.id);
    const when = citation ? [citation.date && `dated ${citation.date}`, citation.version && `version ${citation.version}`].filter(Boolean) : [];
    item.append(el("div", { class: "meta", text: [...tags, ...when, cited.has(p.id) ? "cited" : "not cited"].join(" · ") }));
    item.append(el("blockquote", { text: p.text.length > 400 ? p.text.slice(0, 400) + "…" : p.text }));
    sources.append(item);
  });
  const reasoning = answer.reasoning || "";
  $("reasoning-box").hidden = !reasoning;
  $("reasoning").textContent = reasoning;
}

$("ask-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  const button = $("ask-button");
  button.disabled = true;
  $("result").hidden = false;
  delete $("result").dataset.done;
  $("abstained").hidden = true;
  for (const id of ["support", "answer"]) $(id).textContent = "";
  for (const id of ["claims", "sources", "notices", "evidence"]) $(id).replaceChildren();
  $("evidence-box").hidden = true;
  $("answer-title").hidden = true;
  $("status").textContent = "Finding the relevant passages...";
  let text = "";
  let evidenceRefs = null;
  try {
    const resp = await api("/v1/ask", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, collection: state.collection, mode, stream: true,
        ...(window.ragmedThreads ? window.ragmedThreads.request() : {}) }),  // threads.js
    });
    for await (const { event, data } of sseEvents(resp)) {
      if (event === "queued" && data.position > 1) $("status").textContent = `Waiting for the model (${data.position - 1} question(s) ahead)...`;
      else if (event === "reasoning") $("status").textContent = "The model is thinking...";
      else if (event === "evidence") { evidenceRefs = data; renderEvidence(data.evidence, data); $("status").textContent = "The model is answering; each sentence appears once it is checked against its source..."; }
      else if (event === "answer") { text += data.text; $("answer-title").hidden = false; renderAnswer(text, evidenceRefs); }
      else if (event === "flagged") addClaim(data.claim);
      else if (event === "final") {
        renderFinal(data);
        if (window.ragmedThreads) window.ragmedThreads.answered(data);
        const t = data.timings || {};
        $("status").textContent = data.abstained ? "" : `Answered in ${(t.total_s || 0).toFixed(1)} s by ${data.model}.`;
        $("result").dataset.done = "true";
      } else if (event === "error") throw new Error(data.error ? data.error.message : "The answer failed.");
    }
  } catch (e) {
    $("status").textContent = e.message;
    $("status").classList.add("error");
    setTimeout(() => $("status").classList.remove("error"), 4000);
  } finally {
    button.disabled = false;
  }
});

async function start() {
  try {
    await loadCollections();
    $("app").hidden = false;
    await loadDocuments();
  } catch (e) {
    if ($("login").hidden) $("status").textContent = e.message;
  }
}

start();
