// DOM helpers shared by the pages. Text goes in with textContent, never innerHTML: a
// value from the server or the address bar is shown, never parsed as markup.

export const $ = (selector) => document.querySelector(selector);

// An element with attributes ({ text } sets its textContent) and children (nodes or text).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
export function short(h) { return `${h.slice(0, 12)}…`; }
export function say(target, text, cls = "") { const n = $(target); n.textContent = text; n.className = cls; }
