// This browser as a capture device: a key pair made here with WebCrypto (Ed25519 where
// the browser has it, else ECDSA P-256), whose private key cannot be exported — it stays
// in this browser's IndexedDB — and whose public key is registered with the server for
// the signed-in instance (POST /devices). Each capture's address is signed with it; the
// server checks the signature at ingest and seals it into the entry's ledger leaf.
//
// The signed message (tzzr.ledger.device.message): "tzzr-capture/1\n<h_instancia>\n<h_entrada>".
//
// How the outbox uses it: at capture, h = await hEntrada(metadata, files) (lib/address.js,
// with the names and media types it will send) and device = await deviceSignature(h),
// kept with the capture; before sending, await ensureDevice() (a key made offline is
// registered then); send `device` beside metadata (JSON) or as a `device` form field. On
// a 422 naming device.id (revoked, or unknown to the server): forgetDevice(), then
// ensureDevice() and deviceSignature(h) again, and resend.
import { api, instance } from "./api.js";

const DATABASE = "tzzr-device"; // its own database: the outbox's may change its version
const STORE = "keys"; // one record per instance: { alg, privateKey, publicKey (base64 SPKI), id, registered }
export const DOMAIN = "tzzr-capture/1";

let opened = null;
function database() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function kept(mode, fn) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

const ALGORITHMS = [
  { alg: "Ed25519", generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  {
    alg: "ES256",
    generate: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" }, // WebCrypto gives raw r||s (64 bytes)
  },
];

function base64(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}
function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}
export function base64url(bytes) {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function newKey() {
  for (const algorithm of ALGORITHMS) {
    try {
      // extractable: false applies to the private key; a public key is always exportable
      const pair = await crypto.subtle.generateKey(algorithm.generate, false, ["sign", "verify"]);
      const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
      // the device's id is its key_id, the SHA-256 of the SPKI: known before it is registered
      const id = hex(await crypto.subtle.digest("SHA-256", spki));
      return { alg: algorithm.alg, privateKey: pair.privateKey, publicKey: base64(spki), id, registered: false };
    } catch { /* this browser lacks it: the next one */ }
  }
  throw new Error("this browser cannot make a signing key (WebCrypto needs HTTPS)");
}

function deviceName() {
  const data = navigator.userAgentData;
  const brand = data && data.brands && data.brands.find((b) => !/not.?a.?brand/i.test(b.brand));
  const platform = (data && data.platform) || navigator.platform || "";
  const browser = brand ? brand.brand : (navigator.userAgent.match(/(Firefox|Edg|Chrome|Safari)\/[\d.]+/) || ["browser"])[0];
  return `${browser}${platform ? ` on ${platform}` : ""}`.slice(0, 200);
}

async function register(h_instancia, record) {
  try {
    const device = await api("/devices", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: deviceName(), alg: record.alg, public_key: record.publicKey }),
    });
    if (device.id !== record.id) throw new Error("the server registered another key than this browser's");
    const registered = { ...record, registered: true };
    await kept("readwrite", (s) => s.put(registered, h_instancia));
    return registered;
  } catch (error) {
    if (error.status === 409) { // this key was revoked: a new one next time
      await forgetDevice();
    }
    throw error;
  }
}

// ensureDevice() -> { id, alg } | null: makes this browser's key for the signed-in instance
// once and registers it once; safe to call on every page (concurrent calls share one run).
// null when there is no instance, no IndexedDB or no WebCrypto here; throws what the
// server answered when registering fails (offline: it is tried again on the next call).
let ensuring = null;
export function ensureDevice() {
  ensuring = ensuring || ensure().finally(() => { ensuring = null; });
  return ensuring;
}
async function ensure() {
  const h_instancia = instance();
  if (!h_instancia || !globalThis.indexedDB || !(globalThis.crypto && crypto.subtle)) return null;
  let record = await kept("readonly", (s) => s.get(h_instancia));
  if (!record) {
    record = await newKey();
    await kept("readwrite", (s) => s.put(record, h_instancia));
  }
  if (!record.registered) record = await register(h_instancia, record);
  return { id: record.id, alg: record.alg };
}

// Drops this browser's key for the signed-in instance (after the server said the device
// is revoked or unknown: 422 naming device.id); the next ensureDevice() makes a new one.
export async function forgetDevice() {
  const h_instancia = instance();
  if (h_instancia && globalThis.indexedDB) await kept("readwrite", (s) => s.delete(h_instancia));
}

export function message(h_instancia, hEntrada) {
  return new TextEncoder().encode(`${DOMAIN}\n${h_instancia}\n${hEntrada}`);
}

// deviceSignature(hEntrada) -> { id, signature (base64url) } | null (no key here: no
// WebCrypto, or ensureDevice() never ran). A key made offline signs before it is
// registered: call ensureDevice() before sending a signed capture (the server refuses an
// unknown device with 422 naming device.id).
export async function deviceSignature(hEntrada) {
  const h_instancia = instance();
  if (!h_instancia || !globalThis.indexedDB || !(globalThis.crypto && crypto.subtle)) return null;
  const record = await kept("readonly", (s) => s.get(h_instancia)).catch(() => null);
  if (!record) return null;
  const algorithm = ALGORITHMS.find((a) => a.alg === record.alg);
  const signature = await crypto.subtle.sign(algorithm.sign, record.privateKey, message(h_instancia, hEntrada));
  return { id: record.id, signature: base64url(signature) };
}
