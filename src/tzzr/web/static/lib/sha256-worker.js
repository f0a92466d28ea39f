// A file's SHA-256 off the page's thread (lib/address.js starts it): hash-wasm's
// WebAssembly SHA-256 (3–5x the speed of pure JavaScript), else @noble/hashes. Reads the
// Blob a slice at a time; posts {progress: [done, total]} and then {sha256, engine}.
import "../vendor/hash-wasm/sha256.umd.min.js"; // sets globalThis.hashwasm
import { sha256 } from "../vendor/noble-hashes/sha2.js";

const SLICE = 4 * 1024 * 1024;

async function hasher() {
  try {
    const wasm = await globalThis.hashwasm.createSHA256();
    wasm.init();
    return { engine: "wasm", update: (bytes) => wasm.update(bytes), hex: () => wasm.digest("hex") };
  } catch { // WebAssembly refused or missing here
    const js = sha256.create();
    const hex = () => Array.from(js.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
    return { engine: "js", update: (bytes) => js.update(bytes), hex };
  }
}

self.onmessage = async ({ data: { blob } }) => {
  try {
    const hash = await hasher();
    for (let at = 0; at < blob.size; at += SLICE) {
      const end = Math.min(at + SLICE, blob.size);
      hash.update(new Uint8Array(await blob.slice(at, end).arrayBuffer()));
      self.postMessage({ progress: [end, blob.size] });
    }
    self.postMessage({ sha256: hash.hex(), engine: hash.engine });
  } catch (error) {
    self.postMessage({ error: String(error && error.message || error) });
  }
};
