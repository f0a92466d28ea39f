// The capture outbox in IndexedDB. A capture leaves it only when the server has it: 200,
// or 409 (already there). Offline, a 5xx, a 408 or a 429 are passing troubles: it is
// retried by itself. Any other answer (a 401 from a revoked key, a 413 over a limit)
// will not change by retrying, so the capture waits with the server's message until the
// person fixes it (signs in again) and retries, or discards it: what was captured is
// never dropped behind their back.
import { instance, key } from "./api.js";

let opened = null;
function database() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open("tzzr", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("outbox", { autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

export async function store(mode, fn) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", mode);
    const result = fn(tx.objectStore("outbox"));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
  });
}

export async function queued() { // [{ id, item }], read in one transaction so keys match values
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readonly"), s = tx.objectStore("outbox");
    const ids = s.getAllKeys(), items = s.getAll();
    tx.oncomplete = () => resolve(ids.result.map((id, i) => ({ id, item: items.result[i] })));
    tx.onerror = () => reject(tx.error);
  });
}

export function upload(capture, onProgress = () => {}) {
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

export function fate(status) {
  if (status === 200 || status === 409) return "sent";
  if (status >= 500 || status === 408 || status === 429 || status === 0) return "later";
  return "held";
}
export function refusal(answer) {
  return { status: answer.status, error: (answer.body.error && answer.body.error.message) || `the server answered ${answer.status}` };
}

// One outbox operation at a time: the interval, the online event and a Retry click must
// not send the same capture twice at once.
let line = Promise.resolve();
export function serially(task) {
  const run = line.then(task);
  line = run.catch(() => {});
  return run;
}

// A capture belongs to the instance it was made for: after signing in with another
// instance's key it waits (never sent there) until that instance's key is back.
function elsewhere(item) {
  return item.instance && item.instance !== instance();
}
const OTHER = "it was captured for another instance: sign in with a key of that instance to send it, or discard it";

// Sends one stored capture and records what became of it; throws when offline.
export async function send(id, item) {
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

// Sends what waits by itself (not what waits for the person); stops at the first
// "offline". `shown` is called afterwards to show what is left.
export const flush = (shown) => serially(async () => {
  for (const { id, item } of await queued()) {
    if (item.error && !(item.error === OTHER && !elsewhere(item))) continue; // waits for the person
    if (item.error) delete item.error; // back on its own instance: it goes now
    try { await send(id, item); } catch { break; } // still offline
  }
  await shown();
});

// Sends one capture again at the person's request; `offline` is called when it cannot
// go now (it goes with the others later).
export const retry = (id, shown, offline) => serially(async () => {
  const item = await store("readonly", (s) => s.get(id));
  if (!item) return;
  const { error, status, ...fresh } = item;
  await store("readwrite", (s) => s.put(fresh, id)); // offline now: it goes with the others later
  try { await send(id, fresh); } catch { offline(); }
  await shown();
});

export const discard = (id, shown) => serially(async () => {
  await store("readwrite", (s) => s.delete(id));
  await shown();
});
