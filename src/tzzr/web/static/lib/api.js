// The JSON API with the signed-in key: it stays in this browser (localStorage) and is sent
// as a bearer token; nothing is fetched from anywhere but this server. And how a page
// starts: one that shows data needs the key (or goes to sign in); what fails while it
// loads is said in the layout's #message.
import { say } from "./dom.js";
import { registerWorker } from "./pwa.js";

export const KEY = "tzzr.key";
export const INSTANCE = "tzzr.instance"; // the signed-in key's h_instancia: captures are bound to it
export const params = new URLSearchParams(location.search);

export function key() { return localStorage.getItem(KEY); }
export function instance() { return localStorage.getItem(INSTANCE); }
export function remember(given, h_instancia) {
  localStorage.setItem(KEY, given);
  localStorage.setItem(INSTANCE, h_instancia);
}
export function forget() { localStorage.removeItem(KEY); localStorage.removeItem(INSTANCE); }

// A value from the address bar goes into fetch paths only as a digest: a link with
// "../api/admin…" or "x?y" in it must not steer this page's requests (with the key).
export const DIGEST = /^[0-9a-f]{64}$/;
export function digest(value, what = "entry id") {
  if (typeof value === "string" && DIGEST.test(value)) return value;
  throw new Error(`This ${what} is not valid: it must be 64 hexadecimal digits (0-9, a-f), as the inbox links give it.`);
}

export async function api(path, options = {}) {
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

export function start(main, { signedIn = true } = {}) {
  registerWorker(); // every page: the app shell is cached whichever page is opened first
  if (signedIn && !key()) { location.href = "/app"; return; }
  Promise.resolve().then(main).catch((error) => say("#message", error.message, "error"));
}
