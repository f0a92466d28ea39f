// The capture outbox in IndexedDB. A capture is written here first, before anything is
// sent, and leaves only when the server has it: POST /ingest answered 200, or 409
// (already there). Until then it survives a lost connection, a closed tab and a reboot:
// each file's SHA-256 and its tus upload's URL are kept with it, so a file half sent
// goes on from the server's offset (HEAD), never from zero.
//
// How a capture goes: each file is sent to /uploads by tus-js-client in chunks
// (vendor/tus) while it is hashed (lib/address.js, a slice at a time); then the capture's
// h_entrada is computed here as the server computes it, signed by this device's key
// (lib/device.js: registered for the instance, in WebCrypto; a capture the server will
// not take signed goes unsigned rather than never), and POST /ingest names the uploads
// by their SHA-256. A capture of at most `settings.inlineBytes` in all goes in that one
// request instead (its files in base64): three round trips per file buy nothing for a
// voice note or a small photo.
//
// Offline, a 5xx, a 408 or a 429 are passing troubles: the capture is retried by itself.
// Any other answer (a 401 from a revoked key, a 413 over a limit) will not change by
// retrying, so the capture waits with the server's message until the person fixes it
// (signs in again) and retries, or discards it: what was captured is never dropped
// behind their back.
import "../vendor/tus/tus.min.js"; // a UMD bundle: defines window.tus
import { hEntrada, sha256Blob } from "./address.js";
import { instance, key } from "./api.js";
import { deviceSignature, ensureDevice, forgetDevice } from "./device.js";
import { requestSync } from "./pwa.js";

const tus = window.tus;
const MiB = 1024 * 1024;
// chunkSize: the bytes of one PATCH (what a lost connection costs at most; S3 parts are
// at least 5 MiB). Tests make both smaller.
export const settings = { chunkSize: 8 * MiB, inlineBytes: 1 * MiB, retryDelays: [0, 1000, 3000, 5000, 10000] };

// "progress" {id, file, name, phase: "hashing" | "uploading", done, total} and
// "sent" {id, item, status, body} (200 or 409: safe on the server).
export const events = new EventTarget();
const tell = (type, detail) => events.dispatchEvent(new CustomEvent(type, { detail }));

let opened = null;
function database() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open("tzzr", 1); // as in sw.js, which adds what is shared
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

// A new capture: kept first, then the browser is asked to wake the app when the network
// is back (Background Sync, where it has it). Resolves to its id.
export async function enqueue(item) {
  const id = await store("readwrite", (s) => s.add(item));
  requestSync();
  return id;
}

export function fate(status) {
  if (status === 200 || status === 409) return "sent";
  if (status >= 500 || status === 408 || status === 429 || status === 0) return "later";
  return "held";
}
export function refusal(answer) {
  return { status: answer.status, error: (answer.body.error && answer.body.error.message) || `the server answered ${answer.status}` };
}

// What the server records as a file's media type: the essence, in lower case.
export function mediaType(file) {
  return (file.type || "application/octet-stream").split(";")[0].trim().toLowerCase();
}

class Offline extends Error {}

// One file to /uploads, from the offset the server has when the capture kept its URL;
// resolves to null when the server has the whole file, or to an answer that refuses it.
// An upload the server no longer has (expired: 404, 410) starts again once, from zero; a
// conflict on the offset (409) or a lock (423) is tried again later, from the server's.
function sendFile(file, part, save, progress, again = true) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint: "/uploads",
      uploadUrl: part.url || null,
      chunkSize: settings.chunkSize,
      retryDelays: settings.retryDelays,
      storeFingerprintForResuming: false, // the URL is kept with the capture, in IndexedDB
      headers: { Authorization: `Bearer ${key()}` },
      // sha256 declared when it is known (a resumed upload, a file hashed before): the
      // server then refuses other bytes at once, not only at POST /ingest
      metadata: { filename: file.name, filetype: mediaType(file), ...(part.sha256 ? { sha256: part.sha256 } : {}) },
      onUploadUrlAvailable: () => {
        if (part.url !== upload.url) { part.url = upload.url; save(); }
      },
      onProgress: (done, total) => progress(done, total),
      onChunkComplete: (_, accepted) => { part.offset = accepted; save(); }, // shown while it waits
      onSuccess: () => resolve(null),
      onError: (error) => {
        const response = error.originalResponse;
        const status = response ? response.getStatus() : 0;
        if ((status === 404 || status === 410) && part.url && again) {
          part.url = null;
          save().then(() => sendFile(file, part, save, progress, false)).then(resolve, reject);
        } else if (fate(status) === "held" && status !== 409 && status !== 423) {
          resolve({ status, body: parse(response.getBody()) });
        } else reject(new Offline(error.message));
      },
    });
    upload.start();
  });
}

function parse(text) {
  try { return JSON.parse(text || "{}"); } catch { return {}; } // a proxy's HTML page
}

function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// This device's signature of h_entrada, or null (no WebCrypto, no IndexedDB). The key is
// registered first if it is not yet (a capture made offline, before sign-in registered it).
async function signature(h) {
  await ensureDevice().catch(() => null);
  return deviceSignature(h).catch(() => null);
}

function missingUpload(answer) { // the file's index, when POST /ingest found no such upload
  const field = answer.status === 422 && answer.body.error && answer.body.error.field;
  const found = typeof field === "string" && /^files\[(\d+)\]\.sha256$/.exec(field);
  return found ? Number(found[1]) : null;
}

function refusesDevice(answer) {
  const field = answer.status === 422 && answer.body.error && answer.body.error.field;
  return typeof field === "string" && field.startsWith("device") ? field : null;
}

async function ingest(body) {
  let response;
  try {
    response = await fetch("/ingest", {
      method: "POST",
      headers: { Authorization: `Bearer ${key()}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) { throw new Offline(error.message); }
  return { status: response.status, body: parse(await response.text()) };
}

// A capture belongs to the instance it was made for: after signing in with another
// instance's key it waits (never sent there) until that instance's key is back. One that
// came from the share sheet belongs to none yet: it is bound to the signed-in one.
function elsewhere(item) {
  return item.instance && item.instance !== instance();
}
const OTHER = "it was captured for another instance: sign in with a key of that instance to send it, or discard it";

// Sends one stored capture and records what became of it; throws when offline.
// `again`: this is the second try of a capture whose upload the server no longer had.
export async function send(id, item, again = false) {
  if (elsewhere(item)) {
    await store("readwrite", (s) => s.put({ ...item, status: 0, error: OTHER }, id));
    return "held";
  }
  item.instance = item.instance || instance();
  item.parts = item.parts || item.files.map(() => ({}));
  const save = () => store("readwrite", (s) => s.put(item, id));
  const hash = async (i) => {
    const file = item.files[i], part = item.parts[i];
    if (part.sha256) return;
    part.sha256 = await sha256Blob(file, (done, total) =>
      tell("progress", { id, file: i, name: file.name, phase: "hashing", done, total }));
    await save();
  };
  const inline = item.files.reduce((sum, f) => sum + f.size, 0) <= settings.inlineBytes;
  let answer = null;
  if (inline) {
    for (const i of item.files.keys()) await hash(i);
  } else {
    // a file is hashed while it is sent (the hash is the CPU's, the upload the network's):
    // the server names the upload by the bytes it received, and the capture names it by
    // the bytes hashed here, so a file changed on the way is never ingested
    for (const [i, file] of item.files.entries()) {
      const [hashed, sent] = await Promise.allSettled([hash(i), sendFile(file, item.parts[i], save, (done, total) =>
        tell("progress", { id, file: i, name: file.name, phase: "uploading", done, total }))]);
      if (hashed.status === "rejected") throw hashed.reason;
      if (sent.status === "rejected") throw sent.reason;
      answer = sent.value;
      if (answer) break;
    }
  }
  const described = item.files.map((file, i) => ({ name: file.name, media_type: mediaType(file), sha256: item.parts[i].sha256, size: file.size }));
  if (!answer) {
    const files = inline
      ? await Promise.all(described.map(async ({ size, ...named }, i) => ({ ...named, content: await base64(item.files[i]) })))
      : described.map(({ size, ...named }) => named);
    const body = { metadata: item.metadata, files };
    const h = await hEntrada(item.metadata, described);
    const signed = await signature(h);
    if (signed) body.device = signed;
    answer = await ingest(body);
    if (signed && refusesDevice(answer) === "device.id") {
      // revoked or unknown here (a server reset, another browser profile): a new key,
      // registered now, signs it instead
      await forgetDevice();
      const again = await signature(h);
      if (again) answer = await ingest({ ...body, device: again });
    }
    if (signed && refusesDevice(answer)) {
      // still refused, or a signature over another address (the server named the media
      // type differently): the capture goes unsigned rather than never
      const { device, ...unsigned } = body;
      answer = await ingest(unsigned);
      answer.unsigned = true;
    }
  }
  const gone = inline || again ? null : missingUpload(answer);
  if (gone !== null) {
    // the upload expired (or was terminated) between its last byte and this request:
    // that file goes again, from zero, as a new upload
    item.parts[gone].url = null;
    item.parts[gone].offset = 0;
    await save();
    return send(id, item, true);
  }
  const outcome = fate(answer.status);
  if (outcome === "sent") {
    await store("readwrite", (s) => s.delete(id));
    tell("sent", { id, item, status: answer.status, body: answer.body, unsigned: Boolean(answer.unsigned) });
  } else if (outcome === "held") {
    await store("readwrite", (s) => s.put({ ...item, ...refusal(answer) }, id));
  } else {
    throw new Offline(`the server answered ${answer.status}`);
  }
  return outcome;
}

// One outbox operation at a time: the interval, the online event, the service worker's
// request and a Retry click must not send the same capture twice at once.
let line = Promise.resolve();
export function serially(task) {
  const run = line.then(task);
  line = run.catch(() => {});
  return run;
}

// Sends what waits by itself (not what waits for the person); stops at the first
// "offline". `shown` is called before and after, to show what is left. A flush asked
// for while one waits to start is that one: the service worker asks every few seconds.
let pending = null;
export function flush(shown) {
  pending = pending || serially(async () => {
    pending = null;
    await shown();
    let reached = true;
    for (const { id, item } of await queued()) {
      if (item.error && !(item.error === OTHER && !elsewhere(item))) continue; // waits for the person
      if (item.error) delete item.error; // back on its own instance: it goes now
      try { await send(id, item); } catch (error) {
        if (!(error instanceof Offline)) throw error;
        reached = false;
        break; // still offline
      }
    }
    await shown();
    return reached;
  });
  return pending;
}

// Sends one capture again at the person's request; `offline` is called when it cannot
// go now (it goes with the others later).
export const retry = (id, shown, offline) => serially(async () => {
  const item = await store("readonly", (s) => s.get(id));
  if (!item) return;
  const { error, status, ...fresh } = item;
  await store("readwrite", (s) => s.put(fresh, id)); // offline now: it goes with the others later
  try { await send(id, fresh); } catch (e) {
    if (!(e instanceof Offline)) throw e;
    offline();
  }
  await shown();
});

export const discard = (id, shown) => serially(async () => {
  await store("readwrite", (s) => s.delete(id));
  await shown();
});
