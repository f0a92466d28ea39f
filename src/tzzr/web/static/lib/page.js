// How a page starts: a page that shows data needs a key (or goes to sign in); what fails
// while it loads is said in the layout's #message.
import { key } from "./api.js";
import { say } from "./dom.js";

export function start(main, { signedIn = true } = {}) {
  if (signedIn && !key()) { location.href = "/app"; return; }
  Promise.resolve().then(main).catch((error) => say("#message", error.message, "error"));
}
