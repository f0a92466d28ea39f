// The installable app's page side: the service worker (/app/sw.js) is registered by every
// page, Background Sync is asked for when a capture is queued (where the browser has
// it), and the worker's request to send the outbox reaches the page that can (it holds
// the key). Where any of this is missing, the app works as a plain page: the capture
// page sends the outbox when it opens and when the browser says it is back online.
export const SYNC_TAG = "tzzr-outbox"; // as in sw.js

export function registerWorker() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => null);
}

// true when the browser will wake the worker once the network is back
export async function requestSync() {
  if (!("serviceWorker" in navigator)) return false;
  const registration = await navigator.serviceWorker.getRegistration("/app/");
  if (!registration || !registration.sync) return false;
  try { await registration.sync.register(SYNC_TAG); return true; } catch { return false; }
}

export function onFlushRequest(flush) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "tzzr.flush") flush();
  });
}

// Asked once per browser (the answer is the browser's to keep); afterwards only read.
const ASKED = "tzzr.persist-asked";
export async function persistence() {
  if (!navigator.storage || !navigator.storage.persisted) return "unknown";
  if (await navigator.storage.persisted()) return "granted";
  if (localStorage.getItem(ASKED)) return "denied";
  localStorage.setItem(ASKED, "1");
  return (await navigator.storage.persist()) ? "granted" : "denied";
}
