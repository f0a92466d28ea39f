// Receipt verification in the browser, independent of the server: the entry's address
// (RFC 8785 JSON, SHA-256), the leaf, the RFC 9162 inclusion proof, and the Ed25519
// signature of the C2SP checkpoint, all with WebCrypto, and the capture device's
// signature that the leaf seals (tzzr.ledger.device). The same checks as `tzzr verify`.
// An ES module: the ledger page imports verifyReceipt.

const enc = new TextEncoder();
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const unb64url = (s) => {
  if (typeof s !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new Error("not base64url");
  const plain = s.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  return unb64(plain + "=".repeat((4 - (plain.length % 4)) % 4));
};
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

// RFC 8785 for what captures hold: sorted keys (UTF-16 order), ECMAScript numbers.
export function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

const hashLeaf = (bytes) => sha256(concat(new Uint8Array([0]), bytes));
const hashChildren = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

export async function rootFromProof(leafHash, index, size, proof) {
  if (!(index >= 0 && index < size)) throw new Error(`index ${index} is outside a tree of ${size}`);
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new Error("the proof is too long");
    if (fn & 1 || fn === sn) {
      r = await hashChildren(p, r);
      while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  if (sn !== 0) throw new Error("the proof is too short");
  return r;
}

async function openNote(note, verifierKeys) {
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) throw new Error("the checkpoint has no signature block");
  const body = note.slice(0, cut + 1);
  const known = new Map();
  for (const vkey of verifierKeys) {
    // name+keyid+base64: names hold no "+", base64 may
    const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    const name = vkey.slice(0, first), kid = vkey.slice(first + 1, second), data = unb64(vkey.slice(second + 1));
    if (data[0] !== 1) continue; // Ed25519 only
    known.set(`${name} ${kid}`, { vkey, raw: data.slice(1) });
  }
  for (const line of note.slice(cut + 2).split("\n")) {
    if (!line) continue;
    const space = line.lastIndexOf(" ");
    const name = line.slice(2, space), blob = unb64(line.slice(space + 1));
    const match = known.get(`${name} ${hex(blob.slice(0, 4))}`);
    if (!match) continue;
    const key = await crypto.subtle.importKey("raw", match.raw, { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(4), enc.encode(body));
    if (!ok) throw new Error(`the signature by ${name} is invalid`);
    const [origin, size, root, ...extensions] = body.slice(0, -1).split("\n");
    return { origin, size: Number(size), root: unb64(root), extensions, signer: match.vkey };
  }
  throw new Error("no signature on the checkpoint is by a known key");
}

// A device key as WebCrypto imports it, and how it verifies (ECDSA: raw r||s, as signed).
const DEVICE_ALGS = {
  Ed25519: { key: { name: "Ed25519" }, verify: { name: "Ed25519" } },
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
};

// The device the leaf binds (device: its key's id, device_sig): the receipt's public key
// hashes to that id and the sealed signature verifies over the capture's address.
async function verifyDevice(receipt, leaf) {
  const { device: bound, device_sig: sealed } = leaf, claimed = receipt.device;
  if (bound === undefined && sealed === undefined) {
    if (claimed !== undefined) throw new Error("the receipt names a device, but the leaf binds none");
    return null;
  }
  if (typeof bound !== "string" || typeof sealed !== "string") throw new Error("the leaf's device binding needs both 'device' and 'device_sig'");
  if (!claimed || typeof claimed !== "object") throw new Error(`the leaf binds device ${bound}, but the receipt has no 'device' to check it with`);
  const algorithm = DEVICE_ALGS[claimed.alg];
  if (!algorithm) throw new Error(`device: alg must be Ed25519 or ES256, got ${claimed.alg}`);
  let spki;
  try { spki = unb64(String(claimed.public_key)); } catch { throw new Error("device: the public key is not base64"); }
  const keyId = hex(await sha256(spki));
  if (keyId !== bound || (claimed.key_id !== undefined && claimed.key_id !== bound)) throw new Error(`the device's public key hashes to ${keyId}, but the leaf binds device ${bound}`);
  if (claimed.signature !== undefined && claimed.signature !== sealed) throw new Error("the receipt's device signature is not the one sealed in the leaf");
  let key;
  try { key = await crypto.subtle.importKey("spki", spki, algorithm.key, false, ["verify"]); } catch { throw new Error(`device: the public key is not an ${claimed.alg} key`); }
  let signature;
  try { signature = unb64url(sealed); } catch { throw new Error("device signature: it is not base64url"); }
  const message = enc.encode(`tzzr-capture/1\n${receipt.entry.h_instancia}\n${receipt.entry.h_entrada}`);
  if (signature.length !== 64 || !(await crypto.subtle.verify(algorithm.verify, key, signature, message))) {
    throw new Error("device signature: the signature does not verify with the device's key");
  }
  return { keyId, name: String(claimed.name || ""), alg: claimed.alg };
}

// Throws with the first failure; resolves to what was proven.
export async function verifyReceipt(receipt, trustedKeys) {
  if (receipt.format !== "tzzr-receipt/1") throw new Error("not a TZZR receipt");
  const { h_entrada, h_instancia, contenedor } = receipt.entry;
  const address = hex(await sha256(enc.encode(canonical({ metadata: contenedor.metadata || {}, files: contenedor.files || [] }))));
  if (address !== h_entrada) throw new Error(`the container hashes to ${address}, not ${h_entrada}`);
  const leaf = JSON.parse(receipt.leaf);
  if (canonical(leaf) !== receipt.leaf) throw new Error("the leaf is not canonical JSON");
  for (const [k, v] of Object.entries({ kind: "entry", ref: h_entrada, hash: h_entrada, instance: h_instancia }))
    if (leaf[k] !== v) throw new Error(`the leaf's ${k} is ${leaf[k]}, expected ${v}`);
  const device = await verifyDevice(receipt, leaf);
  const checkpoint = await openNote(receipt.checkpoint, trustedKeys && trustedKeys.length ? trustedKeys : receipt.verifier_keys);
  if (checkpoint.size !== receipt.tree_size) throw new Error("the checkpoint and the proof disagree on the size");
  const root = await rootFromProof(await hashLeaf(enc.encode(receipt.leaf)), receipt.leaf_index, receipt.tree_size, receipt.inclusion_proof.map(unhex));
  if (hex(root) !== hex(checkpoint.root)) throw new Error(`the proof leads to ${hex(root)}, not the signed root ${hex(checkpoint.root)}`);
  const block = checkpoint.extensions.map((l) => /^tzzr-block (\d+) /.exec(l)).find(Boolean);
  return { h_entrada, leafIndex: receipt.leaf_index, treeSize: receipt.tree_size, origin: checkpoint.origin, block: block ? Number(block[1]) : null, timestamp: leaf.ts, root: hex(root), device };
}

// Any leaf of the log (a vision's creation, a check-in, …): its inclusion proof as the
// server's `inclusion` answer gives it, against the signed checkpoint; resolves to what
// was proven.
export async function verifyLeaf(inclusion, verifierKeys, record = null) {
  const leaf = JSON.parse(inclusion.leaf);
  if (canonical(leaf) !== inclusion.leaf) throw new Error("the leaf is not canonical JSON");
  // a check-in's record (which habit, which day, which value): the leaf's hash seals it
  if (record !== null && hex(await sha256(enc.encode(canonical(record)))) !== leaf.hash) throw new Error("the record does not hash to the leaf's hash: it was changed");
  const checkpoint = await openNote(inclusion.checkpoint, verifierKeys);
  if (checkpoint.size !== inclusion.tree_size) throw new Error("the checkpoint and the proof disagree on the size");
  const root = await rootFromProof(await hashLeaf(enc.encode(inclusion.leaf)), inclusion.leaf_index, inclusion.tree_size, inclusion.proof.map(unhex));
  if (hex(root) !== hex(checkpoint.root)) throw new Error(`the proof leads to ${hex(root)}, not the signed root ${hex(checkpoint.root)}`);
  return { leaf, record, leafIndex: inclusion.leaf_index, treeSize: inclusion.tree_size, origin: checkpoint.origin, timestamp: leaf.ts };
}

window.tzzrVerify = { verifyReceipt, verifyLeaf, canonical, rootFromProof }; // for the browser test
