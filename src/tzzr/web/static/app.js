// The TZZR web app: light JavaScript over the JSON API. The key stays in this browser
// (localStorage) and is sent as a bearer token; nothing is loaded from elsewhere.
"use strict";

const KEY = "tzzr.key";
const INSTANCE = "tzzr.instance"; // the signed-in key's h_instancia: captures are bound to it
const $ = (sel) => document.querySelector(sel);
const page = document.body.dataset.page;
const params = new URLSearchParams(location.search);

function key() { return localStorage.getItem(KEY); }

// A value from the address bar goes into fetch paths only as a digest: a link with
// "../api/admin…" or "x?y" in it must not steer this page's requests (with the key).
const DIGEST = /^[0-9a-f]{64}$/;
function digest(value, what = "entry id") {
  if (typeof value === "string" && DIGEST.test(value)) return value;
  throw new Error(`This ${what} is not valid: it must be 64 hexadecimal digits (0-9, a-f), as the inbox links give it.`);
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${key()}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { location.href = "/app?expired"; throw new Error("signed out"); }
  const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || `${response.status}`);
    error.field = body.error && body.error.field;
    error.status = response.status;
    throw error;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
function short(h) { return `${h.slice(0, 12)}…`; }
function say(target, text, cls = "") { const n = $(target); n.textContent = text; n.className = cls; }

// -- sign in ---------------------------------------------------------------------------
async function signin() {
  if (params.has("signout")) { localStorage.removeItem(KEY); localStorage.removeItem(INSTANCE); }
  if (params.has("expired")) say("#message", "Your key was refused: sign in again.", "error");
  $("#signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const given = $("#key").value.trim();
    const response = await fetch("/whoami", { headers: { Authorization: `Bearer ${given}` } });
    if (!response.ok) { say("#message", "That key was not accepted.", "error"); return; }
    const me = await response.json();
    localStorage.setItem(KEY, given);
    localStorage.setItem(INSTANCE, me.h_instancia);
    // captures that waited for a valid key are one Retry away
    const waiting = await queued().catch(() => []); // no IndexedDB here: nothing waits
    location.href = waiting.length ? "/app/capture" : "/app/inbox";
  });
}

// -- capture, with an outbox in IndexedDB --------------------------------------------------
// A capture leaves the outbox only when the server has it: 200, or 409 (already there).
// Offline, a 5xx, a 408 or a 429 are passing troubles: it is retried by itself. Any other
// answer (a 401 from a revoked key, a 413 over a limit) will not change by retrying, so
// the capture waits with the server's message until the person fixes it (signs in again)
// and retries, or discards it: what was captured is never dropped behind their back.
let opened = null;
function outbox() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open("tzzr", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("outbox", { autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}
async function store(mode, fn) {
  const db = await outbox();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", mode);
    const result = fn(tx.objectStore("outbox"));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
  });
}
async function queued() { // [{ id, item }], read in one transaction so keys match values
  const db = await outbox();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readonly"), s = tx.objectStore("outbox");
    const ids = s.getAllKeys(), items = s.getAll();
    tx.oncomplete = () => resolve(ids.result.map((id, i) => ({ id, item: items.result[i] })));
    tx.onerror = () => reject(tx.error);
  });
}

function upload(capture, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("metadata", JSON.stringify(capture.metadata));
    for (const file of capture.files) form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/ingest");
    xhr.setRequestHeader("Authorization", `Bearer ${key()}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch { /* a proxy's HTML page */ }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error("offline"));
    xhr.send(form);
  });
}

function fate(status) {
  if (status === 200 || status === 409) return "sent";
  if (status >= 500 || status === 408 || status === 429 || status === 0) return "later";
  return "held";
}
function refusal(answer) {
  return { status: answer.status, error: (answer.body.error && answer.body.error.message) || `the server answered ${answer.status}` };
}

// One outbox operation at a time: the interval, the online event and a Retry click must
// not send the same capture twice at once.
let line = Promise.resolve();
function serially(task) {
  const run = line.then(task);
  line = run.catch(() => {});
  return run;
}

// A capture belongs to the instance it was made for: after signing in with another
// instance's key it waits (never sent there) until that instance's key is back.
function elsewhere(item) {
  return item.instance && item.instance !== localStorage.getItem(INSTANCE);
}
const OTHER = "it was captured for another instance: sign in with a key of that instance to send it, or discard it";

// Sends one stored capture and records what became of it; throws when offline.
async function send(id, item) {
  if (elsewhere(item)) {
    await store("readwrite", (s) => s.put({ ...item, status: 0, error: OTHER }, id));
    return "held";
  }
  const answer = await upload(item);
  const outcome = fate(answer.status);
  if (outcome === "sent") await store("readwrite", (s) => s.delete(id));
  else if (outcome === "held") await store("readwrite", (s) => s.put({ ...item, ...refusal(answer) }, id));
  return outcome;
}

const flush = () => serially(async () => {
  for (const { id, item } of await queued()) {
    if (item.error && !(item.error === OTHER && !elsewhere(item))) continue; // waits for the person
    if (item.error) delete item.error; // back on its own instance: it goes now
    try { await send(id, item); } catch { break; } // still offline
  }
  await showOutbox();
});

const retry = (id) => serially(async () => {
  const item = await store("readonly", (s) => s.get(id));
  if (!item) return;
  const { error, status, ...fresh } = item;
  await store("readwrite", (s) => s.put(fresh, id)); // offline now: it goes with the others later
  try { await send(id, fresh); } catch { say("#outbox", "You are offline: it is sent when you are back.", "muted"); }
  await showOutbox();
});

const discard = (id) => serially(async () => {
  await store("readwrite", (s) => s.delete(id));
  await showOutbox();
});

async function showOutbox() {
  const waiting = await queued();
  $("#queued").replaceChildren(...waiting.map(({ id, item }) => {
    const names = item.files.map((f) => f.name).join(", ") || "no files";
    const retryButton = el("button", { type: "button", "aria-label": `Retry ${names}`, text: "Retry" });
    const discardButton = el("button", { type: "button", class: "secondary", "aria-label": `Discard ${names}`, text: "Discard" });
    retryButton.addEventListener("click", () => retry(id));
    discardButton.addEventListener("click", () => discard(id));
    const why = item.error
      ? el("p", { class: "error", text: `Not sent: ${item.error}` })
      : el("p", { class: "muted", text: "Waiting to be sent; retried when you are back online." });
    const fix = item.status === 401 || item.status === 403
      ? el("a", { href: "/app?expired" }, "Sign in again, then Retry") : "";
    return el("li", { class: "card", "data-id": String(id) },
      el("strong", { text: names }), item.metadata.note ? el("span", { class: "muted", text: ` — ${item.metadata.note}` }) : "",
      why, fix, el("div", {}, retryButton, " ", discardButton));
  }));
  say("#outbox", waiting.length ? `${waiting.length} capture(s) waiting to be sent.` : "", "muted");
}

async function capture() {
  let recorded = null;
  const recordButton = $("#record");
  if (!window.MediaRecorder || !navigator.mediaDevices) recordButton.hidden = true;
  let recorder = null;
  recordButton.addEventListener("click", async () => {
    if (recorder) { recorder.stop(); return; }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = () => {
      recorded = new File(chunks, `voice-${Date.now()}.webm`, { type: recorder.mimeType || "audio/webm" });
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      recordButton.textContent = "Record audio";
      say("#recorded", `recorded ${Math.round(recorded.size / 1024)} KiB`, "muted");
    };
    recorder.start();
    recordButton.textContent = "Stop recording";
  });
  $("#capture").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...$("#photo").files, ...$("#files").files];
    if (recorded) files.push(recorded);
    if (!files.length) { say("#result", "Choose a photo, a recording or a file first.", "error"); return; }
    const metadata = { source: "web" };
    if ($("#note").value.trim()) metadata.note = $("#note").value.trim();
    const item = { metadata, files, instance: localStorage.getItem(INSTANCE) };
    $("#progress").hidden = false;
    try {
      const answer = await upload(item, (f) => { $("#progress").value = f; });
      const outcome = fate(answer.status);
      if (answer.status === 200) {
        say("#result", `Captured: ${answer.body.h_entrada} (${answer.body.state})`, "ok");
        $("#result").dataset.h = answer.body.h_entrada;
      } else if (answer.status === 409) {
        say("#result", `Already captured as ${answer.body.h_entrada}`, "muted");
      } else if (outcome === "held") {
        const refused = refusal(answer);
        await store("readwrite", (s) => s.add({ ...item, ...refused }));
        say("#result", `Not sent: ${refused.error} — it is kept below: fix it and Retry, or Discard it.`, "error");
      } else {
        await store("readwrite", (s) => s.add(item));
        say("#result", `The server could not take it now (${answer.status}): it is kept here and sent later.`, "muted");
      }
    } catch {
      await store("readwrite", (s) => s.add(item));
      say("#result", "You are offline: the capture is kept here and sent when you are back.", "muted");
    }
    await showOutbox();
  });
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();
}

// -- inbox and entry --------------------------------------------------------------------
async function inbox() {
  const { entries } = await api("/entries?limit=100");
  const rows = $("#entries");
  rows.replaceChildren(...entries.map((e) => el("tr", {},
    el("td", {}, el("a", { href: `/app/entry?h=${e.h_entrada}` }, short(e.h_entrada))),
    el("td", {}, el("span", { class: "state", text: e.state })),
    el("td", { text: (e.contenedor.files || []).map((f) => f.name).join(", ") || "—" }),
    el("td", { text: when(e.created_at) }),
  )));
  say("#count", `${entries.length} entries`, "muted");
}

async function entry() {
  const h = digest(params.get("h"), "link's entry id");
  const e = await api(`/entries/${h}`);
  $("#title").textContent = `Entry ${short(h)}`;
  $("#details").textContent = JSON.stringify(e.contenedor, null, 2);
  say("#state", e.state, "state");
  const { executions } = await api(`/executions?h_entrada=${h}`);
  const box = $("#results");
  box.replaceChildren(...executions.map((x) => el("div", { class: "card" },
    el("h3", { text: `${x.flow}: ${x.status}${x.decision ? ` → ${x.decision.outcome}` : ""}` }),
    ...x.steps.map((s) => el("div", {},
      el("p", { text: `${s.id} (${s.cell}): ${s.status}${s.ms ? `, ${Math.round(s.ms)} ms` : ""}` }),
      el("pre", { text: s.output ? (s.output.text || JSON.stringify(s.output).slice(0, 800)) : (s.error ? s.error.message : "") }))))));
  if (e.state === "enriching") $("#enrich").append(el("a", { href: `/app/enrich?h=${h}` }, "Enrich it"));
  $("#verify").append(el("a", { href: `/app/ledger?h=${h}` }, "Verify in the ledger"));
}

// -- MASON ------------------------------------------------------------------------------
function field(name, spec, required) {
  const id = `f-${name}`;
  const label = el("label", { for: id, text: `${spec.title || name}${required ? " (required)" : ""}` });
  let input;
  if (spec.enum) {
    input = el("select", { id, name }, el("option", { value: "" }, "—"), ...spec.enum.map((v) => el("option", { value: v }, v)));
  } else if (spec.type === "string" && (spec.maxLength || 0) > 200) {
    input = el("textarea", { id, name, rows: 3, maxlength: spec.maxLength });
  } else {
    input = el("input", { id, name, type: spec.type === "number" || spec.type === "integer" ? "number" : "text", step: spec.type === "number" ? "any" : undefined, maxlength: spec.maxLength, pattern: spec.pattern });
  }
  if (required) input.required = true;
  return el("div", {}, label, input, el("div", { class: "error", id: `${id}-error`, "aria-live": "polite" }));
}

async function enrich() {
  const h = digest(params.get("h"), "link's entry id");
  const item = await api(`/enrich/${h}`);
  $("#title").textContent = `Enrich ${short(h)}`;
  say("#reason", item.reason, "muted");
  const schema = item.schema;
  const required = new Set(schema.required || []);
  $("#fields").replaceChildren(...Object.entries(schema.properties || {}).map(([n, s]) => field(n, s, required.has(n))));
  $("#results").textContent = Object.entries(item.results || {})
    .map(([step, out]) => `${step}: ${out && typeof out.text === "string" ? out.text : JSON.stringify(out).slice(0, 600)}`)
    .join("\n\n") || "nothing";
  let left = item.secondsLeft;
  const tick = () => {
    if (item.state !== "pending") { say("#deadline", `This item is ${item.state}.`, "muted"); return; }
    const hh = Math.floor(left / 3600), mm = Math.floor((left % 3600) / 60), ss = left % 60;
    say("#deadline", `${hh}h ${String(mm).padStart(2, "0")}m ${String(ss).padStart(2, "0")}s left before it is sealed as it is`, "");
    left = Math.max(0, left - 1);
  };
  tick(); setInterval(tick, 1000);
  $("#enrich-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    document.querySelectorAll(".error").forEach((n) => { n.textContent = ""; });
    const fields = {};
    for (const [name, spec] of Object.entries(schema.properties || {})) {
      const value = event.target.elements[name].value;
      if (value === "") continue;
      fields[name] = spec.type === "number" || spec.type === "integer" ? Number(value) : value;
    }
    try {
      const done = await api(`/enrich/${h}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ fields }) });
      item.state = done.state;
      say("#saved", `Saved (${done.state}); it goes into the next block.`, "ok");
    } catch (error) {
      const name = (error.field || "").replace(/^fields\./, "");
      const target = document.getElementById(`f-${name}-error`);
      if (target) { target.textContent = error.message; document.getElementById(`f-${name}`).focus(); }
      else say("#saved", error.message, "error");
    }
  });
}

// -- the ledger, verified here ------------------------------------------------------------
async function ledger() {
  const given = params.has("h") ? digest(params.get("h"), "link's entry id") : null;
  const blocks = (await api("/bloques")).blocks || [];
  $("#blocks").replaceChildren(...blocks.map((b) => el("tr", {},
    el("td", { text: b.number }), el("td", { text: `${b.first_index}–${b.last_index}` }),
    el("td", { text: b.tree_size }), el("td", {}, el("code", { text: `${b.tree_root.slice(0, 16)}…` })),
    el("td", { text: when(b.created_at) }))));
  if (given) $("#h").value = given;
  $("#verify-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const typed = $("#h").value.trim();
    if (!DIGEST.test(typed)) { say("#verdict", "An entry id is 64 hexadecimal digits (0-9, a-f).", "error"); return; }
    say("#verdict", "checking…", "muted");
    try {
      const receipt = await api(`/receipt/${typed}`);
      const keys = (await api("/ledger/key")).keys.map((k) => k.verifier_key);
      window.tzzrLastReceipt = receipt;
      const proven = await window.tzzrVerify.verifyReceipt(receipt, keys);
      say("#verdict", `VALID: leaf ${proven.leafIndex} of ${proven.treeSize} in ${proven.origin}` +
        `${proven.block ? `, block ${proven.block}` : ""}, recorded ${proven.timestamp}. Checked in this browser.`, "ok");
    } catch (error) {
      say("#verdict", `INVALID or not sealed: ${error.message}`, "bad");
    }
  });
  if (given) $("#verify-form").requestSubmit();
}

// -- cells, flows, SENTINEL ----------------------------------------------------------------
async function cells() {
  const [{ cells: list }, { runs }] = await Promise.all([api("/api/cells"), api("/api/runs?limit=50")]);
  $("#cells").replaceChildren(...list.map((c) => el("tr", {}, el("td", { text: c.id }), el("td", { text: c.version }), el("td", { text: c.module }), el("td", { text: c.description || "" }))));
  $("#runs").replaceChildren(...runs.map((r) => el("tr", {}, el("td", { text: r.runId.slice(0, 14) }), el("td", { text: r.cellId }), el("td", {}, el("span", { class: "state", text: r.status })), el("td", { text: r.metrics && r.metrics.latencyMs != null ? `${Math.round(r.metrics.latencyMs)} ms` : "—" }))));
}

async function flows() {
  const [{ flows: list }, { executions }] = await Promise.all([api("/flows"), api("/executions?limit=50")]);
  $("#flows").replaceChildren(...list.map((f) => el("tr", {}, el("td", { text: f.id }), el("td", { text: f.version }), el("td", { text: f.spec.steps.map((s) => s.cell).join(" → ") || "—" }), el("td", {}, el("code", { text: f.spec.decision })))));
  $("#executions").replaceChildren(...executions.map((x) => el("tr", {}, el("td", { text: x.executionId.slice(0, 12) }), el("td", { text: x.flow }), el("td", {}, el("span", { class: "state", text: x.status })), el("td", { text: x.outcome || "—" }))));
}

async function sentinel() {
  const [{ events }, { alerts }, { runs }] = await Promise.all([api("/sentinel/events?limit=500"), api("/sentinel/alerts"), api("/api/runs?limit=500")]);
  $("#alerts").replaceChildren(...alerts.map((a) => el("tr", {}, el("td", { text: a.rule }), el("td", { text: a.severity }), el("td", { text: a.state }), el("td", { text: a.message }))));
  $("#events").replaceChildren(...events.slice(0, 50).map((e) => el("tr", {}, el("td", { text: when(e.ts) }), el("td", { text: e.kind }), el("td", { text: e.severity }), el("td", { text: e.subject || "" }))));
  // throughput: events per minute over the last hour, and run latencies
  const canvas = $("#chart"), ctx = canvas.getContext("2d");
  const now = Date.now(), buckets = new Array(60).fill(0);
  for (const e of events) { const m = Math.floor((now - Date.parse(e.ts)) / 60000); if (m >= 0 && m < 60) buckets[59 - m]++; }
  const max = Math.max(1, ...buckets);
  ctx.fillStyle = "#0b0d13"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#4fc3f7";
  buckets.forEach((n, i) => { const h = (n / max) * (canvas.height - 10); ctx.fillRect(i * (canvas.width / 60), canvas.height - h, canvas.width / 60 - 1, h); });
  const latencies = runs.filter((r) => r.status === "done" && r.metrics && r.metrics.latencyMs != null && !r.metrics.reused).map((r) => r.metrics.latencyMs).sort((a, b) => a - b);
  // latency: how many runs took up to 10, 30, 100, … ms
  const edges = [10, 30, 100, 300, 1000, 3000, 10000, Infinity];
  const counts = edges.map(() => 0);
  for (const ms of latencies) counts[edges.findIndex((edge) => ms <= edge)]++;
  const lat = $("#latency-chart"), lctx = lat.getContext("2d");
  lctx.fillStyle = "#0b0d13"; lctx.fillRect(0, 0, lat.width, lat.height);
  const top = Math.max(1, ...counts), w = lat.width / edges.length;
  lctx.font = "11px system-ui"; lctx.textAlign = "center";
  counts.forEach((n, i) => {
    const h = (n / top) * (lat.height - 28);
    lctx.fillStyle = "#5fd38d"; lctx.fillRect(i * w + 4, lat.height - 16 - h, w - 8, h);
    lctx.fillStyle = "#9aa3b5"; lctx.fillText(edges[i] === Infinity ? "more" : `≤${edges[i]}ms`, i * w + w / 2, lat.height - 3);
  });
  say("#latency", latencies.length ? `run latency p50 ${Math.round(latencies[Math.floor(latencies.length / 2)])} ms, p95 ${Math.round(latencies[Math.floor(latencies.length * 0.95)])} ms (${latencies.length} runs)` : "no runs yet", "muted");
}

const PAGES = { signin, capture, inbox, entry, enrich, ledger, cells, flows, sentinel };
if (page !== "signin" && !key()) location.href = "/app";
else PAGES[page]().catch((error) => say("#message", error.message, "error"));
