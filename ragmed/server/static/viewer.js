// ragmed's cited-page viewer: draws one page of a served PDF with pdf.js (installed locally by
// `make web`, served at /vendor/pdfjs-dist/) and marks the quoted sentence in the page's text layer.
// Address: /static/viewer.html#file=<the PDF's /v1/... URL>&page=<PDF page, 1-based>&q=<quote>;
// the fragment never reaches the server. Document text is only ever inserted as text.
import * as pdfjs from "/vendor/pdfjs-dist/build/pdf.min.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs-dist/build/pdf.worker.min.mjs";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const file = params.get("file") || "";
const quote = params.get("q") || "";
let pageNo = Math.max(1, parseInt(params.get("page") || "1", 10));
let pdf = null;

// The quote is found in the page text with all whitespace ignored (text items carry their own).
const squash = (s) => s.replace(/\s+/g, "");

function markQuote(container) {
  const spans = [...container.querySelectorAll("span")].filter((s) => s.childElementCount === 0 && s.textContent);
  const target = squash(quote);
  if (!target) return "";
  // the page's characters without spaces; a hyphen that ends a line ("treat-" / "ment") is left out
  // in the first reading (ragmed's text joins such words) and kept in the second ("second-" / "line")
  const read = (joinHyphens) => {
    let text = "";
    const owner = [];  // for each character of `text`: [span, offset in span]
    for (const span of spans) {
      const t = span.textContent;
      for (let i = 0; i < t.length; i++) {
        if (/\s/.test(t[i])) continue;
        if (joinHyphens && t[i] === "-" && !t.slice(i + 1).trim()) continue;
        text += t[i];
        owner.push([span, i]);
      }
    }
    return [text, owner];
  };
  let at = -1, owner = [];
  for (const join of [true, false]) {
    const [text, own] = read(join);
    at = text.indexOf(target);
    if (at < 0) at = text.toLowerCase().indexOf(target.toLowerCase());
    if (at >= 0) { owner = own; break; }
  }
  if (at < 0) return "";
  const first = owner[at];
  const inside = new Map();  // span -> [start, end) of its marked characters
  for (let k = at; k < at + target.length; k++) {
    const [span, i] = owner[k];
    const r = inside.get(span) || [i, i + 1];
    inside.set(span, [Math.min(r[0], i), Math.max(r[1], i + 1)]);
  }
  let marked = "";
  for (const [span, [a, b]] of inside) {
    const t = span.textContent;
    const mark = document.createElement("mark");
    mark.className = "quote";
    mark.textContent = t.slice(a, b);
    span.replaceChildren(document.createTextNode(t.slice(0, a)), mark, document.createTextNode(t.slice(b)));
    marked += mark.textContent;
  }
  first[0].querySelector("mark").scrollIntoView({ block: "center" });
  return marked;
}

async function show(n) {
  pageNo = Math.min(Math.max(1, n), pdf.numPages);
  const page = await pdf.getPage(pageNo);
  const width = Math.min(document.documentElement.clientWidth - 32, 900);
  const base = page.getViewport({ scale: 1 });
  const viewport = page.getViewport({ scale: width / base.width });
  const canvas = $("canvas"), box = $("page"), layer = $("text");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${viewport.width}px`;
  canvas.style.height = `${viewport.height}px`;
  box.style.width = `${viewport.width}px`;
  box.style.height = `${viewport.height}px`;
  box.style.setProperty("--total-scale-factor", String(viewport.scale));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  await page.render({ canvasContext: ctx, viewport }).promise;
  layer.replaceChildren();
  await new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: layer, viewport }).render();
  const label = (await pdf.getPageLabels() || [])[pageNo - 1];
  const title = params.get("title");
  const where = label && label !== String(pageNo) ? `page ${label} (PDF page ${pageNo} of ${pdf.numPages})`
    : `page ${pageNo} of ${pdf.numPages}`;
  $("where").textContent = title ? `${title}, ${where}` : where[0].toUpperCase() + where.slice(1);
  $("prev").disabled = pageNo <= 1;
  $("next").disabled = pageNo >= pdf.numPages;
  const marked = n === Number(params.get("page")) ? markQuote(layer) : "";
  box.dataset.highlight = marked;
  $("quote-note").textContent = !quote ? "" : marked ? "The quoted sentence is highlighted."
    : n === Number(params.get("page")) ? "The quoted sentence could not be located on this page; it is shown in ragmed's answer." : "";
  document.body.dataset.ready = "true";
}

async function open() {
  if (!file.startsWith("/v1/collections/")) { $("where").textContent = "No document given."; return; }
  $("download").href = `${file}#page=${pageNo}`;
  try {
    pdf = await pdfjs.getDocument({ url: file, isEvalSupported: false, withCredentials: true,
      standardFontDataUrl: "/vendor/pdfjs-dist/standard_fonts/" }).promise;
    await show(pageNo);
  } catch (e) {
    $("where").textContent = `The PDF could not be shown here (${e.message}); open the whole PDF instead.`;
    $("where").classList.add("error");
  }
}

$("prev").addEventListener("click", () => show(pageNo - 1));
$("next").addEventListener("click", () => show(pageNo + 1));
open();
