// The app's service worker (served at /app/sw.js by tzzr.api.pwa, which writes VERSION
// and SHELL above this line). It does three things and no more:
// - keeps the app shell (every page's HTML, the CSS, the modules, the icons) in a cache
//   and answers from it when the network is gone: network first, so an online app is
//   always the server's current one; API answers (entries, blobs, uploads) are never
//   touched or cached, since they carry data and need the key;
// - takes what the phone's share sheet sends (the manifest's share_target, a POST to
//   /app/share) into the outbox in IndexedDB and opens the capture page, which sends it;
// - on a Background Sync event (the network is back) asks the open pages to send the
//   outbox and waits for it to empty; with no page open it fails, so the browser tries
//   again later, and the outbox goes when the app is next opened. The uploads themselves
//   are the page's: they need the key, and tus-js-client needs XMLHttpRequest.
// A classic worker, not a module one (Firefox and older Safari run only classic ones);
// the outbox's database is named here as in lib/outbox.js.
const CACHE = `tzzr-shell-${VERSION}`;
const DATABASE = "tzzr";
const DATABASE_VERSION = 1;
const OUTBOX = "outbox";
const SYNC_TAG = "tzzr-outbox";
const PATIENCE_MS = 5000; // a page waits this long for a slow network before the cache answers
const SYNC_WAIT_MS = 120000; // a sync event waits this long for the pages to send the outbox

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("tzzr-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (event.request.method === "POST" && url.pathname === "/app/share") {
    event.respondWith(share(event.request));
  } else if (event.request.method === "GET" && SHELL.includes(url.pathname)) {
    event.respondWith(networkFirst(event.request, url.pathname));
  } // anything else (the API) goes to the network as if there were no worker
});

async function networkFirst(request, path) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path); // one copy per path: /app/entry?h=… is /app/entry
  const network = fetch(request).then((response) => {
    if (response.ok && response.type === "basic") cache.put(path, response.clone());
    return response;
  });
  if (!cached) return network;
  const slow = new Promise((resolve) => setTimeout(() => resolve(cached), PATIENCE_MS));
  return Promise.race([network.catch(() => cached), slow]);
}

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, DATABASE_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(OUTBOX, { autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transaction(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(OUTBOX, mode);
    const request = fn(tx.objectStore(OUTBOX));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

// A share becomes one capture: its files, and its title, text and link as the note. It is
// bound to no instance yet: the capture page binds it to the signed-in one.
async function share(request) {
  let form;
  try { form = await request.formData(); } catch { return Response.redirect("/app/capture?share=unreadable", 303); }
  const files = form.getAll("files").filter((value) => typeof value !== "string");
  const words = ["title", "text", "url"].map((name) => (form.get(name) || "").trim()).filter(Boolean);
  if (!files.length && !words.length) return Response.redirect("/app/capture?share=empty", 303);
  const metadata = { source: "share" };
  if (words.length) metadata.note = [...new Set(words)].join("\n");
  const db = await database();
  try {
    await transaction(db, "readwrite", (store) => store.add({ metadata, files, instance: null, shared: Date.now() }));
  } finally { db.close(); }
  await self.registration.sync?.register(SYNC_TAG).catch(() => {});
  return Response.redirect(`/app/capture?shared=${files.length}`, 303);
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(flushThroughPages());
});

async function waiting() { // captures that go by themselves (not those that wait for the person)
  const db = await database();
  try {
    const items = await transaction(db, "readonly", (store) => store.getAll());
    return items.filter((item) => !item.error).length;
  } finally { db.close(); }
}

async function flushThroughPages() {
  const deadline = Date.now() + SYNC_WAIT_MS;
  while ((await waiting()) > 0) {
    // every TZZR page, also one opened before this worker took control of it
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    if (!pages.length) throw new Error("no TZZR page is open to send the outbox; it goes when the app is opened");
    if (Date.now() > deadline) throw new Error("the outbox is not empty yet; the browser syncs again later");
    for (const page of pages) page.postMessage({ type: "tzzr.flush" });
    await new Promise((resolve) => setTimeout(resolve, 10000));
  }
}
