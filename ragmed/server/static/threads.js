// ragmed web page: conversation threads (issue 21). Loaded after app.js and uses its helpers ($, el,
// api, fileUrl, state). Each question is asked in the current thread ("new" starts one); the server
// resolves a follow-up against the thread's earlier turns and keeps the thread (GET/DELETE
// /v1/threads). Text from answers and documents is inserted with textContent only.
"use strict";

const threads = { current: null, enabled: true };

function threadPanel() {
  const panel = el("div", { id: "threads", class: "threads" });
  const bar = el("div", { class: "row thread-bar" });
  bar.append(el("label", { for: "thread-list", text: "Conversation" }),
    el("select", { id: "thread-list", "aria-label": "Conversation thread" }),
    el("button", { id: "new-thread", type: "button", text: "New thread" }),
    el("button", { id: "delete-thread", type: "button", class: "secondary", text: "Delete thread" }));
  panel.append(bar, el("ol", { id: "thread-turns", class: "thread-turns", "aria-label": "Earlier questions in this thread" }),
    el("p", { id: "searched-for", class: "searched-for", hidden: "" }));
  $("ask-form").before(panel);
  $("new-thread").addEventListener("click", () => { selectThread(null); $("result").hidden = true; $("question").focus(); });
  $("delete-thread").addEventListener("click", deleteThread);
  $("thread-list").addEventListener("change", (ev) => selectThread(ev.target.value || null));
  $("thread-list").addEventListener("focus", () => loadThreads().catch(() => {}));
}

// One earlier turn: the question, the answer shown, and its citations linked to the cited pages.
function turnItem(t) {
  const item = el("li", { class: "turn" });
  item.append(el("div", { class: "turn-q", text: t.question }));
  if (t.query && t.query !== t.question) item.append(el("div", { class: "meta", text: `Searched for: ${t.query}` }));
  if ((t.notes || []).length)  // who the guidance is for, editions: before the answer, as when it was given
    item.append(el("ul", { class: "turn-notes" }, ...t.notes.map((n) => el("li", { text: n, class: "currency" }))));
  item.append(el("div", { class: "turn-a", text: t.answer || "" }));
  const cites = el("ul", { class: "turn-cites" });
  for (const c of t.citations || []) {
    const label = `[${c.n}] ${c.title || (c.source || "").split("/").pop()}, page ${c.page_label}`;
    cites.append(el("li", {}, c.doc_id ? el("a", { href: fileUrl(c.doc_id, c.page), target: "_blank", rel: "noopener", text: label })
      : document.createTextNode(label)));
  }
  if (cites.childElementCount) item.append(cites);
  return item;
}

async function loadThreads() {
  const data = await (await api("/v1/threads")).json();
  threads.enabled = data.enabled;
  $("threads").hidden = !data.enabled;
  const list = $("thread-list");
  list.replaceChildren(el("option", { value: "", text: "New thread" }));
  for (const t of data.threads) list.append(el("option", { value: t.id, text: `${t.title} (${t.turns})` }));
  list.value = threads.current || "";
  $("delete-thread").disabled = !threads.current;
}

async function selectThread(id) {
  threads.current = id;
  $("thread-list").value = id || "";  // at once: the list is reloaded below
  $("thread-turns").replaceChildren();
  $("searched-for").hidden = true;
  if (id) {
    const t = await (await api(`/v1/threads/${encodeURIComponent(id)}`)).json();
    $("thread-turns").append(...t.turns.map(turnItem));
  }
  await loadThreads();
}

async function deleteThread() {
  if (!threads.current) return;
  await api(`/v1/threads/${encodeURIComponent(threads.current)}`, { method: "DELETE" });
  threads.current = null;
  $("thread-turns").replaceChildren();
  $("result").hidden = true;
  await loadThreads();
}

window.ragmedThreads = {
  // extra fields of the /v1/ask body
  request() { return threads.enabled ? { thread: threads.current || "new" } : {}; },
  // the final answer of a question asked in the current thread
  answered(answer) {
    const sf = $("searched-for");
    sf.hidden = !(answer.search_query && answer.search_query !== answer.question);
    sf.textContent = sf.hidden ? "" : `Searched for: ${answer.search_query}`;
    if (!answer.thread) return;
    threads.current = answer.thread.id;
    const docOf = new Map((answer.passages || []).map((p) => [p.id, p.doc_id]));
    const citations = (answer.citations || []).map((c) => ({ ...c, doc_id: docOf.get(c.passage_id) }));
    const notes = (answer.notices || []).filter((n) => CLINICIAN_NOTE.test(n));
    $("thread-turns").append(turnItem({ question: answer.question, answer: answer.answer, query: answer.search_query, citations, notes }));
    loadThreads().catch(() => {});
  },
};

threadPanel();
loadThreads().catch(() => {});
