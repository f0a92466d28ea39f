// Capture: a photo from the camera, a voice note, files, with notes. A capture goes into
// the outbox first (lib/outbox.js) and is sent from there, a file at a time with its
// progress; it is listed as safe on the server only once POST /ingest has answered. What
// cannot go now waits, listed with Retry and Discard, and goes when the page opens, when
// the browser is back online, every 30 s, and when the service worker's Background Sync
// asks (lib/pwa.js). What the phone's share sheet sent arrives here the same way.
import { instance, params, start } from "../lib/api.js";
import { $, el, say, short } from "../lib/dom.js";
import { discard, enqueue, events, flush, queued, retry, store } from "../lib/outbox.js";
import { onFlushRequest, persistence } from "../lib/pwa.js";

const MiB = 1024 * 1024;
function size(bytes) {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

let latest = null; // the capture sent from this form last: its outcome is said under the form

function fileRow(file, i, part = {}) {
  const bar = el("progress", { max: String(file.size || 1), value: String(part.offset || 0), "aria-label": `${file.name} sent` });
  const label = el("span", { class: "muted", text: part.offset
    ? `${size(part.offset)} of ${size(file.size)} on the server · ${Math.floor((100 * part.offset) / (file.size || 1))}%`
    : "waiting" });
  return el("div", { class: "file", "data-file": String(i) }, el("span", { class: "name", text: `${file.name} (${size(file.size)})` }), bar, label);
}

async function showOutbox() {
  const waiting = await queued();
  $("#queued").replaceChildren(...waiting.map(({ id, item }) => {
    const names = item.files.map((f) => f.name).join(", ") || "a note";
    const retryButton = el("button", { type: "button", "aria-label": `Retry ${names}`, text: "Retry" });
    const discardButton = el("button", { type: "button", class: "secondary", "aria-label": `Discard ${names}`, text: "Discard" });
    retryButton.addEventListener("click", () => retry(id, showOutbox, offline).catch(failed));
    discardButton.addEventListener("click", () => discard(id, showOutbox).catch(failed));
    const why = item.error
      ? el("p", { class: "error", text: `Not sent: ${item.error}` })
      : el("p", { class: "muted", text: "Waiting to be sent; retried when you are back online." });
    const fix = item.status === 401 || item.status === 403
      ? el("a", { href: "/app?expired" }, "Sign in again, then Retry") : "";
    const files = el("div", { class: "files", role: "group", "aria-label": `Files of ${names}` },
      ...item.files.map((file, i) => fileRow(file, i, item.parts && item.parts[i] ? item.parts[i] : {})));
    return el("li", { class: "card", "data-id": String(id) },
      el("strong", { text: names }), item.metadata.note ? el("span", { class: "muted", text: ` — ${item.metadata.note}` }) : "",
      item.shared ? el("span", { class: "badge", text: "shared" }) : "",
      files, why, fix, el("div", {}, retryButton, " ", discardButton));
  }));
  say("#outbox", waiting.length ? `${waiting.length} capture(s) waiting to be sent.` : "", "muted");
}

// bytes and percentage of each file of the capture being sent, in place (a file is
// hashed while it is sent: the hashing's own percentage is said until it is done)
events.addEventListener("progress", ({ detail }) => {
  const row = document.querySelector(`#queued li[data-id="${detail.id}"] [data-file="${detail.file}"]`);
  if (!row) return;
  const bar = row.querySelector("progress"), label = row.querySelector("span.muted");
  const percent = (done, total) => (total ? Math.floor((100 * done) / total) : 100);
  if (detail.phase === "hashing") row.dataset.hashed = String(percent(detail.done, detail.total));
  else {
    row.dataset.sent = String(detail.done);
    bar.max = detail.total || 1;
    bar.value = detail.done;
  }
  const sent = Number(row.dataset.sent || bar.value || 0), total = Number(bar.max);
  const hashing = row.dataset.hashed && row.dataset.hashed !== "100" ? ` · checking ${row.dataset.hashed}%` : "";
  label.textContent = `${size(sent)} of ${size(total)} · ${percent(sent, total)}%${hashing}`;
});

events.addEventListener("sent", ({ detail }) => {
  const h = detail.body.h_entrada;
  const names = detail.item.files.map((f) => f.name).join(", ") || "a note";
  const safe = detail.status === 200 ? "Safe on the server" : "Already on the server";
  $("#safe").prepend(el("li", { class: "card", "data-h": h || "" },
    el("strong", { class: "ok", text: `${safe}: ` }), el("span", { text: names }), " ",
    h ? el("a", { href: `/app/entry?h=${h}` }, short(h)) : ""));
  if (detail.id !== latest) return;
  if (detail.status === 200) {
    say("#result", `Captured: ${h} (${detail.body.state}) — safe on the server.`, "ok");
    $("#result").dataset.h = h;
  } else {
    say("#result", `Already captured as ${h}`, "muted");
  }
});

function offline() { say("#outbox", "You are offline: it is sent when you are back.", "muted"); }
function failed(error) { say("#message", error.message, "error"); }
const sendWaiting = () => flush(showOutbox).catch(failed);

function recorder(onRecorded) {
  const button = $("#record");
  if (!window.MediaRecorder || !navigator.mediaDevices) { button.hidden = true; return; }
  let running = null, started = 0, ticking = null;
  button.addEventListener("click", async () => {
    if (running) { running.stop(); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); } catch (error) {
      say("#recorded", `The microphone is not available: ${error.message}`, "error");
      return;
    }
    const chunks = [];
    running = new MediaRecorder(stream);
    running.ondataavailable = (e) => chunks.push(e.data);
    running.onstop = () => {
      const type = (running.mimeType || "audio/webm").split(";")[0];
      const extension = type.includes("mp4") ? "m4a" : type.includes("ogg") ? "ogg" : "webm";
      const recorded = new File(chunks, `voice-${Date.now()}.${extension}`, { type });
      stream.getTracks().forEach((t) => t.stop());
      clearInterval(ticking);
      running = null;
      button.textContent = "Record audio";
      button.classList.remove("recording");
      say("#recorded", `recorded ${size(recorded.size)}`, "muted");
      onRecorded(recorded);
    };
    running.start(1000);
    started = Date.now();
    button.textContent = "Stop recording";
    button.classList.add("recording");
    ticking = setInterval(() => say("#recorded", `recording… ${Math.round((Date.now() - started) / 1000)} s`, "bad"), 1000);
  });
}

const OFFLINE = "You are offline: the capture is kept here and sent when you are back.";
const SHARED = {
  unready: "That share reached the server before the app could take it. Open TZZR once (so it is installed in this browser), then share again.",
  empty: "The share held nothing to capture.",
  unreadable: "The share could not be read; share it again.",
};

start(async () => {
  let recorded = null;
  const playback = $("#playback");
  const chosen = () => [...$("#photo").files, ...$("#files").files, ...(recorded ? [recorded] : [])];
  const showChosen = () => $("#chosen").replaceChildren(
    ...chosen().map((f) => el("li", { class: "muted", text: `${f.name} · ${size(f.size)}` })));
  recorder((file) => {
    recorded = file;
    if (playback.src) URL.revokeObjectURL(playback.src);
    playback.src = URL.createObjectURL(file);
    playback.hidden = false;
    showChosen();
  });
  $("#photo").addEventListener("change", showChosen);
  $("#files").addEventListener("change", showChosen);
  if (params.has("shared")) say("#result", `${params.get("shared")} shared file(s) are in the outbox below; they are sent now.`, "ok");
  if (SHARED[params.get("share")]) say("#result", SHARED[params.get("share")], "error");

  $("#capture").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = chosen();
    if (!files.length) { say("#result", "Choose a photo, a recording or a file first.", "error"); return; }
    const metadata = { source: "web" };
    if ($("#note").value.trim()) metadata.note = $("#note").value.trim();
    latest = await enqueue({ metadata, files, instance: instance() });
    $("#capture").reset();
    recorded = null;
    playback.hidden = true;
    showChosen();
    say("#result", navigator.onLine ? "Kept in this browser; sending…" : OFFLINE, "muted");
    const reached = await flush(showOutbox).catch((error) => { failed(error); return true; });
    const left = await store("readonly", (s) => s.get(latest));
    if (left && left.error) {
      say("#result", `Not sent: ${left.error} — it is kept below: fix it and Retry, or Discard it.`, "error");
    } else if (left && !reached) {
      say("#result", OFFLINE, "muted");
    }
  });
  window.addEventListener("online", sendWaiting);
  onFlushRequest(sendWaiting);
  setInterval(sendWaiting, 30000);
  persistence().then((granted) => say("#storage", {
    granted: "Storage: persistent — this browser keeps the outbox even when space runs short.",
    denied: "Storage: not persistent — the browser may clear what waits here when space runs short; installing the app makes it likelier to be kept.",
    unknown: "",
  }[granted], "muted"));
  sendWaiting();
});
