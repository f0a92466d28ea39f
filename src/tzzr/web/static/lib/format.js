// Values as a person reads them: relative times, amounts, how sure a cell was, and a
// search snippet's highlights. Everything becomes text nodes; a snippet's <mark> is the
// only markup ever read, and it is read by this code, not by an HTML parser.
import { el } from "./dom.js";

const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

// "3 minutes ago", "yesterday", "just now" for an RFC 3339 moment.
export function ago(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

// <time datetime> saying how long ago, the absolute moment in its title; refresh() keeps
// every one on the page current.
export function moment(iso) {
  if (!iso) return el("span", { text: "—" });
  return el("time", { datetime: iso, title: new Date(iso).toLocaleString(), text: ago(iso) });
}
export function refresh(root = document) {
  for (const node of root.querySelectorAll("time[datetime]")) node.textContent = ago(node.getAttribute("datetime"));
}

// 8.7 and "EUR" -> "€8.70"; an unknown currency code is shown as it is.
export function amount(value, currency) {
  if (typeof value !== "number") return "";
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value); } catch { /* not ISO 4217 */ }
  }
  return `${value.toFixed(2)}${currency ? ` ${currency}` : ""}`;
}

// 0.93 (or 93 for Tesseract's words) -> "93%".
export function sure(confidence) {
  if (typeof confidence !== "number") return "";
  return `${Math.round(confidence > 1 ? confidence : confidence * 100)}%`;
}

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
const unescape = (s) => s.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (m) => ENTITIES[m]);

// The search API's snippet (escaped text, matches in <mark>…</mark>) as nodes: text and
// <mark> elements. Anything else that looks like a tag stays text.
export function marked(snippet) {
  const nodes = [];
  for (const [i, part] of (snippet || "").split(/<mark>([\s\S]*?)<\/mark>/).entries()) {
    if (!part) continue;
    nodes.push(i % 2 ? el("mark", { text: unescape(part) }) : document.createTextNode(unescape(part)));
  }
  return nodes;
}
