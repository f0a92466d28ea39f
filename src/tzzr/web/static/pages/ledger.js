// The ledger: its blocks, and an entry's receipt verified here (../verify.js), not by
// the server.
import { api, digest, DIGEST, params, start } from "../lib/api.js";
import { $, el, say, when } from "../lib/dom.js";
import { verifyReceipt } from "../verify.js";

start(async () => {
  const given = params.has("h") ? digest(params.get("h"), "link's entry id") : null;
  const blocks = (await api("/bloques")).blocks || [];
  $("#blocks").replaceChildren(...blocks.map((b) => el("tr", {},
    el("td", { text: b.number }), el("td", { text: `${b.first_index}–${b.last_index}` }),
    el("td", { text: b.tree_size }), el("td", {}, el("code", { text: `${b.tree_root.slice(0, 16)}…` })),
    el("td", { text: when(b.created_at) }))));
  if (given) $("#h").value = given;
  $("#verify-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const typed = $("#h").value.trim();
    if (!DIGEST.test(typed)) { say("#verdict", "An entry id is 64 hexadecimal digits (0-9, a-f).", "error"); return; }
    say("#verdict", "checking…", "muted");
    try {
      const receipt = await api(`/receipt/${typed}`);
      const keys = (await api("/ledger/key")).keys.map((k) => k.verifier_key);
      window.tzzrLastReceipt = receipt; // for the browser test, which tampers with a copy
      const proven = await verifyReceipt(receipt, keys);
      const device = proven.device
        ? ` Captured on device “${proven.device.name}” (${proven.device.alg}, key ${proven.device.keyId.slice(0, 16)}…): its signature is sealed and valid.`
        : "";
      say("#verdict", `VALID: leaf ${proven.leafIndex} of ${proven.treeSize} in ${proven.origin}` +
        `${proven.block ? `, block ${proven.block}` : ""}, recorded ${proven.timestamp}.${device} Checked in this browser.`, "ok");
    } catch (error) {
      say("#verdict", `INVALID or not sealed: ${error.message}`, "bad");
    }
  });
  if (given) $("#verify-form").requestSubmit();
});
