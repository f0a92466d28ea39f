// Sign in: the key is checked against the API (/whoami) before this browser keeps it.
import { forget, params, remember, start } from "../lib/api.js";
import { ensureDevice } from "../lib/device.js";
import { $, say } from "../lib/dom.js";
import { queued } from "../lib/outbox.js";

start(async () => {
  if (params.has("signout")) forget();
  if (params.has("expired")) say("#message", "Your key was refused: sign in again.", "error");
  $("#signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const given = $("#key").value.trim();
    const response = await fetch("/whoami", { headers: { Authorization: `Bearer ${given}` } });
    if (!response.ok) { say("#message", "That key was not accepted.", "error"); return; }
    const me = await response.json();
    remember(given, me.h_instancia);
    // this browser's signing key, made and registered once per instance; a capture made
    // before it is registered (offline) is signed anyway and registers it when sent
    await ensureDevice().catch(() => null);
    // captures that waited for a valid key are one Retry away
    const waiting = await queued().catch(() => []); // no IndexedDB here: nothing waits
    location.href = waiting.length ? "/app/capture" : "/app/inbox";
  });
}, { signedIn: false });
