// ragmed web page: "Recently removed" (admin only). Uses app.js's helpers ($, el, api, state,
// setStatus, loadDocuments). Removed documents stay restorable for the server's --trash-days.
"use strict";

async function loadTrash() {
  const box = $("trash-box");
  if (state.role !== "admin") { box.hidden = true; return; }
  let data;
  try {
    data = await (await api(`/v1/collections/${encodeURIComponent(state.collection)}/trash`)).json();
  } catch (e) { box.hidden = true; return; }
  const list = $("trash");
  list.replaceChildren();
  for (const entry of data.entries) {
    const when = new Date(entry.removed_at * 1000).toLocaleString();
    const days = Math.ceil(entry.days_left);
    const item = el("li", { class: "trashed", "data-entry": entry.id },
      el("span", { class: "name", text: entry.title || entry.file_name }),
      el("span", { class: "state", text: `removed ${when}; deleted for good in ${days} day${days === 1 ? "" : "s"}` }));
    const restore = el("button", { type: "button", class: "secondary", text: "Restore", "aria-label": `Restore ${entry.file_name}` });
    restore.addEventListener("click", () => restoreEntry(entry, restore));
    item.append(restore);
    list.append(item);
  }
  $("trash-hint").textContent = `Removed documents can be restored for ${data.days} days.`;
  box.hidden = !data.entries.length;
}

async function restoreEntry(entry, button) {
  button.disabled = true;
  setStatus("upload-status", `Restoring ${entry.file_name}...`);
  try {
    const report = await (await api(`/v1/collections/${encodeURIComponent(state.collection)}/trash/${encodeURIComponent(entry.id)}/restore`,
      { method: "POST" })).json();
    const failed = (report.documents || []).find((d) => d.status === "failed");
    if (failed) setStatus("upload-status", `Not restored: ${failed.error}`, true);
    else setStatus("upload-status", `${entry.file_name} restored and indexed.`);
  } catch (e) {
    setStatus("upload-status", `Not restored: ${e.message}`, true);
  }
  loadDocuments();
}
