// A capture's address in the browser, computed exactly as the server computes it
// (tzzr.canonical.h_entrada): SHA-256 of the RFC 8785 canonical JSON of
// {metadata, files}, files as {name, media_type, sha256, size}. A file's SHA-256 is
// computed a slice at a time, so a 1 GiB video is never in memory at once.
import { sha256 } from "../vendor/noble-hashes/sha2.js";

const SLICE = 4 * 1024 * 1024;
const MAX_EXACT_INTEGER = 2 ** 53 - 1;

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// How the last sha256Blob hashed: "wasm" or "js" (in the worker), "page" (no worker).
export let lastEngine = null;

// sha256Blob(blob, onProgress?) -> hex digest; onProgress(doneBytes, totalBytes). In a
// worker (lib/sha256-worker.js: WebAssembly, and the page stays responsive), else here.
export async function sha256Blob(blob, onProgress = () => {}) {
  let worker;
  try {
    worker = new Worker(new URL("./sha256-worker.js", import.meta.url), { type: "module" });
  } catch {
    return onPage(blob, onProgress);
  }
  const answer = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => {
      if (data.progress) onProgress(...data.progress);
      else resolve(data);
    };
    worker.onerror = (event) => { event.preventDefault(); resolve({ error: "the worker did not start" }); };
    worker.postMessage({ blob });
  }).finally(() => worker.terminate());
  if (answer.error) return onPage(blob, onProgress); // a file unreadable there is unreadable here too: it says why
  if (blob.size === 0) onProgress(0, 0);
  lastEngine = answer.engine;
  return answer.sha256;
}

async function onPage(blob, onProgress) {
  lastEngine = "page";
  const hasher = sha256.create();
  for (let at = 0; at < blob.size; at += SLICE) {
    const end = Math.min(at + SLICE, blob.size);
    hasher.update(new Uint8Array(await blob.slice(at, end).arrayBuffer()));
    onProgress(end, blob.size);
  }
  if (blob.size === 0) onProgress(0, 0);
  return hex(hasher.digest());
}

// RFC 8785 §3.2: literals and strings as ECMAScript's JSON.stringify writes them (its
// escapes are the RFC's), numbers in ECMAScript's shortest form (-0 is "0"), object
// members sorted by their names' UTF-16 code units (what Array.prototype.sort compares).
// What the server refuses (tzzr.canonical.check_ijson) is refused here with its reason.
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") {
    if (/[\0]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
      throw new Error("text may not hold NUL (U+0000) or unpaired surrogates; remove them");
    }
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("NaN and Infinity are not JSON; send a string");
    // JSON.stringify writes these as integer digits, which the server reads as an integer
    // beyond ±2**53 (from 1e21 on it writes an exponent: a float there too)
    if (Number.isInteger(value) && Math.abs(value) > MAX_EXACT_INTEGER && Math.abs(value) < 1e21) {
      throw new Error(`integer ${value} is outside the I-JSON range (±2**53); send it as a string`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const names = Object.keys(value).filter((name) => value[name] !== undefined).sort();
    return `{${names.map((name) => `${canonicalJson(name)}:${canonicalJson(value[name])}`).join(",")}}`;
  }
  throw new Error(`${typeof value} is not a JSON value`);
}

// hEntrada(metadata, files) -> hex address; files: [{name, media_type, sha256, size}],
// with the name and media type the server records (it keeps a name's last path part and
// a media type's essence in lower case, and guesses one from the name for an empty one
// or application/octet-stream: send a concrete type to sign what the server records).
export async function hEntrada(metadata, files) {
  const container = {
    metadata,
    files: files.map(({ name, media_type, sha256: digest, size }) => ({ name, media_type, sha256: digest, size })),
  };
  // not crypto.subtle: it exists only in a secure context (HTTPS or localhost)
  return hex(sha256(new TextEncoder().encode(canonicalJson(container))));
}
