// One entry as a person looks at it: its photo (zoomable, the words OCR read drawn over it
// with how sure it was), its voice note with the transcript (a segment plays from there),
// the receipt's fields, the enrichment history, whether the ledger sealed it (and a link
// to verify its proof), what each step of its flow did, and the container behind a toggle.
import { api, digest, params, start } from "../lib/api.js";
import { $, el, say, short, when } from "../lib/dom.js";
import { amount, moment, sure } from "../lib/format.js";
import { kind, objectURL, views } from "../lib/previews.js";

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const ZOOM = { min: 1, max: 8, step: 1.25 };

// A photo in a frame that scrolls when zoomed (buttons, + and - keys, the wheel, a click),
// with the OCR words over it: an SVG whose viewBox is the original's pixels, the space
// the boxes are given in, so it lines up at any zoom.
function picture(view, words) {
  const name = view.file.name || short(view.file.sha256);
  const img = el("img", { alt: `Photo: ${name}`, class: "photo", draggable: "false" });
  const overlay = svg("svg", { class: "words", "aria-hidden": "true", preserveAspectRatio: "none" });
  const stage = el("div", { class: "stage" }, img, overlay);
  const frame = el("div", { class: "frame", tabindex: "0", role: "group", "aria-label": `${name}: + and - zoom, arrows scroll` }, stage);
  const readout = el("figcaption", { class: "muted", "aria-live": "polite" });
  const level = el("output", { "aria-live": "polite", text: "100%" });
  const toggle = el("button", { type: "button", class: "secondary", "aria-pressed": "false", text: `Show words (${words.length})` });
  let zoom = 1;

  // the point (x, y) of the frame stays where it is while the picture grows around it
  function zoomTo(next, x = frame.clientWidth / 2, y = frame.clientHeight / 2) {
    next = Math.min(ZOOM.max, Math.max(ZOOM.min, next));
    const ratio = next / zoom;
    const left = (frame.scrollLeft + x) * ratio - x, top = (frame.scrollTop + y) * ratio - y;
    zoom = next;
    stage.style.width = `${zoom * 100}%`;
    frame.scrollLeft = left; frame.scrollTop = top;
    level.textContent = `${Math.round(zoom * 100)}%`;
  }
  const button = (label, text, action) => {
    const b = el("button", { type: "button", class: "secondary", "aria-label": label, text });
    b.addEventListener("click", action);
    return b;
  };
  const bar = el("div", { class: "zoombar", role: "toolbar", "aria-label": `Zoom ${name}` },
    button("Zoom out", "−", () => zoomTo(zoom / ZOOM.step)),
    button("Zoom in", "+", () => zoomTo(zoom * ZOOM.step)),
    button("Fit the photo", "Fit", () => zoomTo(1)), level);
  if (words.length) bar.append(toggle);
  toggle.addEventListener("click", () => {
    const on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", String(on));
    stage.classList.toggle("show-words", on);
  });
  frame.addEventListener("wheel", (event) => {
    event.preventDefault();
    const r = frame.getBoundingClientRect();
    zoomTo(zoom * Math.exp(-event.deltaY * 0.002), event.clientX - r.left, event.clientY - r.top);
  }, { passive: false });
  frame.addEventListener("click", (event) => {
    const r = frame.getBoundingClientRect();
    zoomTo(zoom > 1 ? 1 : 2.5, event.clientX - r.left, event.clientY - r.top);
  });
  frame.addEventListener("keydown", (event) => {
    if (event.key === "+" || event.key === "=") zoomTo(zoom * ZOOM.step);
    else if (event.key === "-") zoomTo(zoom / ZOOM.step);
    else if (event.key === "0") zoomTo(1);
    else return;
    event.preventDefault();
  });

  const hint = words.length ? "Point at the photo to see the words OCR read; point at one for how sure it was." : "";
  readout.textContent = hint;
  overlay.addEventListener("pointerover", (event) => {
    const word = words[event.target.dataset?.i];
    if (word) readout.textContent = `“${word.text}”: ${sure(word.conf)} sure`;
  });
  overlay.addEventListener("pointerleave", () => { readout.textContent = hint; });

  const large = view.large && view.width && view.height; // a preview says the original's size
  const path = large ? view.large : view.original;
  img.addEventListener("load", () => {
    const width = large ? view.width : img.naturalWidth, height = large ? view.height : img.naturalHeight;
    overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    overlay.replaceChildren(...words.map((w, i) => svg("rect", {
      x: w.box[0], y: w.box[1], width: w.box[2], height: w.box[3], "data-i": i,
      class: `word${w.conf < 60 ? " unsure" : ""}`,
    }, svg("title", {}, `${w.text} (${sure(w.conf)})`))));
  }, { once: true });
  objectURL(path).then((url) => { img.src = url; })
    .catch((error) => readout.replaceChildren(el("span", { class: "error", text: `The photo could not be loaded: ${error.message}` })));
  return el("figure", { class: "card picture" }, bar, frame, readout);
}

const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

// A voice note: the player of the original and the transcript, each segment a button
// that plays from its start; the segment playing is marked.
function recording(view, asr) {
  const name = view.file.name || short(view.file.sha256);
  const audio = el("audio", { controls: "", preload: "metadata", "aria-label": `Play ${name}` });
  const figure = el("figure", { class: "card recording" }, el("figcaption", { text: name }));
  if (view.waveform) {
    const wave = el("img", { alt: `Waveform of ${name}`, class: "waveform" });
    objectURL(view.waveform).then((url) => { wave.src = url; }).catch(() => wave.remove());
    figure.append(wave);
  }
  figure.append(audio);
  objectURL(view.original).then((url) => { audio.src = url; })
    .catch((error) => figure.append(el("p", { class: "error", text: `The recording could not be loaded: ${error.message}` })));
  const segments = (asr && asr.segments) || [];
  if (segments.length) {
    const items = segments.map((s) => {
      const play = el("button", { type: "button", class: "segment", "data-start": s.start },
        el("span", { class: "at", text: clock(s.start) }), " ", s.text.trim());
      play.addEventListener("click", () => { audio.currentTime = s.start; audio.play().catch(() => {}); });
      return el("li", {}, play);
    });
    audio.addEventListener("timeupdate", () => {
      segments.forEach((s, i) => {
        const now = audio.currentTime >= s.start && audio.currentTime < s.end;
        if (now) items[i].setAttribute("aria-current", "true"); else items[i].removeAttribute("aria-current");
      });
    });
    figure.append(el("ol", { class: "transcript", "aria-label": `Transcript of ${name}` }, ...items));
  } else if (asr && asr.text) {
    figure.append(el("p", { class: "transcript", text: asr.text }));
  } else {
    figure.append(el("p", { class: "muted", text: "No transcript yet." }));
  }
  return figure;
}

function download(view) {
  const name = view.file.name || short(view.file.sha256);
  const link = el("a", { href: "#", download: name, text: `Download ${name}` });
  link.addEventListener("click", async (event) => {
    if (link.getAttribute("href") !== "#") return; // already fetched: the browser saves it
    event.preventDefault();
    link.href = await objectURL(view.original);
    link.click();
  });
  const size = typeof view.file.size === "number" ? `, ${(view.file.size / 1024).toFixed(1)} KiB` : "";
  return el("div", { class: "card" }, el("p", {}, link, el("span", { class: "muted", text: ` ${view.file.media_type}${size}` })));
}

const FIELDS = [["total", "Total"], ["currency", "Currency"], ["date", "Date"], ["merchant", "Merchant"], ["taxId", "Tax id"]];

function receipt(fields) {
  const currency = fields.currency && fields.currency.value;
  $("#fields").replaceChildren(...FIELDS.flatMap(([name, label]) => {
    const f = fields[name];
    const value = !f || f.value === null || f.value === undefined ? null
      : name === "total" ? amount(f.value, currency) : String(f.value);
    return [el("dt", { text: label }), el("dd", { id: `field-${name}` },
      value === null ? el("span", { class: "muted", text: "not found" }) : value,
      value !== null && typeof f.confidence === "number" ? el("span", { class: "muted", text: ` · ${sure(f.confidence)} sure` }) : "")];
  }));
  const lines = fields.lines || [];
  $("#lines").hidden = !lines.length;
  $("#lines tbody").replaceChildren(...lines.map((l) => el("tr", {},
    el("td", { text: `${l.quantity && l.quantity !== 1 ? `${l.quantity} × ` : ""}${l.description || ""}` }),
    el("td", { text: amount(l.amount, currency) }), el("td", { text: sure(l.confidence) }))));
  $("#receipt").hidden = false;
}

function shown(value) { return value === null || value === undefined ? "—" : String(value); }

async function enrichment(h) {
  let item;
  try {
    item = await api(`/enrich/${h}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    say("#mason", "This entry never waited for a person: its flow decided by itself.", "muted");
    return;
  }
  const left = item.state === "pending" ? `, ${Math.ceil(item.secondsLeft / 60)} min left to enrich it` : "";
  say("#mason", `${item.reason || "Waited for a person"} (${item.state}${left}).`, "muted");
  $("#history").replaceChildren(...(item.history || []).map((v) => {
    const changed = Object.entries(v.corrections || {}).map(([name, c]) =>
      c.value === null ? `${name} removed (was ${shown(c.suggested)})` : `${name} ${shown(c.suggested)} → ${shown(c.value)}`);
    const what = changed.length ? `corrected ${changed.join("; ")}` : v.suggested ? "confirmed what was read" : "entered by hand";
    return el("li", {}, moment(v.at), ` · key ${v.keyId}: ${what}`);
  }));
  if (!(item.history || []).length) $("#history").replaceChildren(el("li", { class: "muted", text: "not enriched yet" }));
}

// The registered device whose signature the leaf seals (the ledger page verifies it).
async function captureDevice(leaf) {
  if (typeof leaf.device !== "string") { $("#device").replaceChildren(); return; }
  const device = await api(`/devices/${digest(leaf.device, "device id")}`).catch(() => null);
  const named = device ? `“${device.name}” (${device.alg})` : "an unknown device";
  $("#device").replaceChildren(`Captured on ${named}, key ${short(leaf.device)}: its signature over this entry's address is sealed in the leaf.`,
    device && device.revoked_at ? el("span", { class: "muted", text: ` The device was revoked ${when(device.revoked_at)}; what it signed before stays valid.` }) : "");
}

async function ledger(h) {
  $("#verify").replaceChildren(el("a", { href: `/app/ledger?h=${h}` }, "Verify in the ledger"));
  try {
    const proof = await api(`/proof/${h}`);
    say("#ledger", `Sealed: leaf ${proof.leaf_index} of a tree of ${proof.tree_size}. Its inclusion proof can be checked in this browser.`, "ok");
    await captureDevice(JSON.parse(proof.leaf));
  } catch (error) {
    if (error.status !== 404) throw error;
    say("#ledger", `Waiting: ${error.message}${/[.)]$/.test(error.message) ? "" : "."}`, "muted");
  }
}

function processing(executions) {
  $("#results").replaceChildren(...executions.map((x) => el("div", { class: "card" },
    el("h3", { text: `${x.flow}: ${x.status}${x.outcome ? ` → ${x.outcome}` : ""}` }),
    ...x.steps.map((s) => el("div", {},
      el("p", { text: `${s.id} (${s.cell}): ${s.status}${s.ms ? `, ${Math.round(s.ms)} ms` : ""}` }),
      el("pre", { text: s.output ? (typeof s.output.text === "string" ? s.output.text : JSON.stringify(s.output).slice(0, 800)) : (s.error ? s.error.message : "") }))))));
  if (!executions.length) $("#results").replaceChildren(el("p", { class: "muted", text: "No flow ran on this entry." }));
}

start(async () => {
  const h = digest(params.get("h"), "link's entry id");
  const e = await api(`/entries/${h}`);
  const metadata = e.contenedor.metadata || {}, files = e.contenedor.files || [];
  const title = [metadata.title, metadata.note, files[0] && files[0].name].find((v) => typeof v === "string" && v.trim()) || `Entry ${short(h)}`;
  $("#title").textContent = title;
  document.title = `TZZR · ${title}`;
  $("#details").textContent = JSON.stringify(e.contenedor, null, 2);
  $("#state").replaceChildren(el("span", { class: "badge state", text: e.state }));
  $("#captured").replaceChildren("captured ", moment(e.created_at), el("span", { class: "muted", text: ` · ${short(h)}` }));
  if (e.state === "enriching") $("#enrich").append(el("a", { href: `/app/enrich?h=${h}` }, "Enrich it"));
  const ledgerShown = ledger(h), enrichShown = enrichment(h);

  const { executions } = await api(`/executions?h_entrada=${h}`);
  processing(executions);
  const latest = executions[0];
  if (latest && latest.outcome) $("#decision").replaceChildren(el("span", { class: `badge ${latest.outcome === "ok" ? "ok" : "bad"}`, text: latest.outcome }));
  const outputs = latest ? latest.steps.filter((s) => s.status === "done" && s.output).map((s) => s.output) : [];
  const ocr = outputs.find((o) => Array.isArray(o.words));
  const asr = outputs.find((o) => Array.isArray(o.segments));
  const fields = outputs.find((o) => "total" in o && "merchant" in o);
  if (fields) receipt(fields);

  let wordsGiven = false; // the OCR words go on the first photo (the one the flow read)
  $("#media").replaceChildren(...(await views(h, e.contenedor)).flatMap((view) => {
    const type = kind(view.file.media_type);
    if (view.large && type === "image") {
      const words = !wordsGiven && ocr ? ocr.words.filter((w) => Array.isArray(w.box)) : [];
      wordsGiven = true;
      return [picture(view, words)];
    }
    if (view.large) return [picture(view, []), download(view)]; // a PDF's first page
    if (type === "audio") return [recording(view, asr)];
    return [download(view)];
  }));
  await Promise.all([ledgerShown, enrichShown]);
});
