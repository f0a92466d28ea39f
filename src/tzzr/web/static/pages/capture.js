// Capture: a photo, a recording or files, with notes. What cannot be sent now waits in
// the outbox (lib/outbox.js) and is listed here with Retry and Discard.
import { instance, start } from "../lib/api.js";
import { $, el, say } from "../lib/dom.js";
import { discard, fate, flush, queued, refusal, retry, store, upload } from "../lib/outbox.js";

async function showOutbox() {
  const waiting = await queued();
  $("#queued").replaceChildren(...waiting.map(({ id, item }) => {
    const names = item.files.map((f) => f.name).join(", ") || "no files";
    const retryButton = el("button", { type: "button", "aria-label": `Retry ${names}`, text: "Retry" });
    const discardButton = el("button", { type: "button", class: "secondary", "aria-label": `Discard ${names}`, text: "Discard" });
    retryButton.addEventListener("click", () => retry(id, showOutbox, offline));
    discardButton.addEventListener("click", () => discard(id, showOutbox));
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

function offline() { say("#outbox", "You are offline: it is sent when you are back.", "muted"); }
const sendWaiting = () => flush(showOutbox);

function recorder(onRecorded) {
  const button = $("#record");
  if (!window.MediaRecorder || !navigator.mediaDevices) button.hidden = true;
  let running = null;
  button.addEventListener("click", async () => {
    if (running) { running.stop(); return; }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    running = new MediaRecorder(stream);
    running.ondataavailable = (e) => chunks.push(e.data);
    running.onstop = () => {
      const recorded = new File(chunks, `voice-${Date.now()}.webm`, { type: running.mimeType || "audio/webm" });
      stream.getTracks().forEach((t) => t.stop());
      running = null;
      button.textContent = "Record audio";
      say("#recorded", `recorded ${Math.round(recorded.size / 1024)} KiB`, "muted");
      onRecorded(recorded);
    };
    running.start();
    button.textContent = "Stop recording";
  });
}

start(async () => {
  let recorded = null;
  recorder((file) => { recorded = file; });
  $("#capture").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...$("#photo").files, ...$("#files").files];
    if (recorded) files.push(recorded);
    if (!files.length) { say("#result", "Choose a photo, a recording or a file first.", "error"); return; }
    const metadata = { source: "web" };
    if ($("#note").value.trim()) metadata.note = $("#note").value.trim();
    const item = { metadata, files, instance: instance() };
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
  window.addEventListener("online", sendWaiting);
  setInterval(sendWaiting, 30000);
  sendWaiting();
});
