// The inbox: entries found by GET /search (newest first with no query), each with its
// picture, title, first line read, the snippet that matched, its total, decision and
// state. The query and filters live in the address bar (shareable, back and forward
// work); pages come by the cursor, by "More" or by scrolling to it. Keys: / searches,
// j/k or the arrows move, Enter opens.
import { api, params, start } from "../lib/api.js";
import { $, el, say, short } from "../lib/dom.js";
import { amount, marked, moment, refresh } from "../lib/format.js";
import { kind, thumbnail } from "../lib/previews.js";

const FIELDS = ["q", "state", "media_type", "decision", "since", "until", "min_total", "max_total"];
const PAGE = 20;
let shown = { cursor: null, loading: null, generation: 0 };

// What the form says, as the address bar keeps it (dates as dates, empty ones left out).
function wanted() {
  const form = $("#search").elements, out = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form[name].value.trim();
    if (value) out.set(name, value);
  }
  return out;
}

function fill(from) {
  const form = $("#search").elements;
  for (const name of FIELDS) form[name].value = from.get(name) || "";
  if (FIELDS.slice(1).some((name) => from.get(name))) $("#filters").open = true;
}

// The address bar's search as the API's: a day "until" includes that day.
function request(from, cursor) {
  const out = new URLSearchParams({ limit: String(PAGE) });
  for (const [name, value] of from) {
    if (name === "since") out.set(name, new Date(`${value}T00:00:00`).toISOString());
    else if (name === "until") {
      const day = new Date(`${value}T00:00:00`);
      day.setDate(day.getDate() + 1);
      out.set(name, day.toISOString());
    } else out.set(name, value);
  }
  if (cursor) out.set("cursor", cursor);
  return `/search?${out}`;
}

function badge(text, cls) { return el("span", { class: `badge ${cls}`, text }); }

// The picture is fetched when its row comes into view (it needs the key: an object URL).
const pictures = new IntersectionObserver((seen) => {
  for (const { isIntersecting, target } of seen) {
    if (!isIntersecting) continue;
    pictures.unobserve(target);
    thumbnail(target.dataset.h).then((found) => {
      if (!found) { target.replaceChildren(el("span", { class: "thumb-none", text: "empty" })); return; }
      if (found.url) target.replaceChildren(el("img", { src: found.url, alt: "", class: "thumb-img" }));
      else target.replaceChildren(el("span", { class: "thumb-none", text: kind(found.file.media_type) || "file" }));
    }).catch(() => target.replaceChildren(el("span", { class: "thumb-none", text: "?" })));
  }
}, { rootMargin: "200px" });

function row(r, query) {
  const picture = el("td", { class: "thumb", "data-h": r.h_entrada }, el("span", { class: "thumb-none", text: "…" }));
  pictures.observe(picture);
  const title = r.title || `Entry ${short(r.h_entrada)}`;
  const about = el("td", { class: "about" },
    el("a", { href: `/app/entry?h=${r.h_entrada}`, class: "open", text: title }));
  if (r.line && r.line !== r.title) about.append(el("div", { class: "line", text: r.line }));
  if (query && r.snippet) about.append(el("div", { class: "snippet" }, ...marked(r.snippet)));
  const status = el("td", { class: "status" });
  if (r.decision) status.append(badge(r.decision, r.decision === "ok" ? "ok" : "bad"), " ");
  status.append(badge(r.state, "state"), " ", moment(r.created_at));
  return el("tr", { class: "result", "data-h": r.h_entrada }, picture, about,
    el("td", { class: "total", text: amount(r.total, r.currency) }), status);
}

function empty(from) {
  const q = from.get("q");
  const filtered = FIELDS.slice(1).some((name) => from.get(name));
  if (q) return `No entries match '${q}'${filtered ? " with these filters" : ""}.`;
  if (filtered) return "No entries match these filters.";
  return "Nothing captured yet: capture a photo, a voice note or a file and it shows here.";
}

// Loads the first page of the address bar's search (fresh) or the next one.
async function load(fresh) {
  const from = new URLSearchParams(location.search);
  const generation = fresh ? ++shown.generation : shown.generation;
  if (!fresh && (!shown.cursor || shown.loading)) return;
  const cursor = fresh ? null : shown.cursor;
  say("#message", "");
  document.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  shown.loading = api(request(from, cursor));
  let page;
  try {
    page = await shown.loading;
  } catch (error) {
    if (generation !== shown.generation) return;
    const field = error.field && document.getElementById(error.field);
    if (field) field.setAttribute("aria-invalid", "true");
    say("#message", `${field ? `${field.labels[0].textContent}: ` : ""}${error.message}`, "error");
    $("#more").hidden = true;
    return;
  } finally {
    if (generation === shown.generation) shown.loading = null;
  }
  if (generation !== shown.generation) return; // a newer search is on its way
  const rows = page.results.map((r) => row(r, from.get("q")));
  if (fresh) $("#entries").replaceChildren(...rows); else $("#entries").append(...rows);
  shown.cursor = page.next_cursor;
  const count = $("#entries").children.length;
  $("#empty").hidden = count > 0;
  $("#empty").textContent = count ? "" : empty(from);
  $("#more").hidden = !shown.cursor;
  $("#count").textContent = count ? `${count}${shown.cursor ? "+" : ""} ${count === 1 ? "entry" : "entries"}` : "";
  // a screen taller than the page: "More" is still in view, so the next page comes too
  if (shown.cursor && $("#more").getBoundingClientRect().top < innerHeight) load(false);
}

// The form's search into the address bar: typing replaces the history entry, Enter and
// a filter push a new one (so back returns to the previous search).
function go(push) {
  const next = wanted().toString();
  if (next === new URLSearchParams(location.search).toString()) return;
  history[push ? "pushState" : "replaceState"](null, "", next ? `?${next}` : location.pathname);
  load(true);
}

// j/k and the arrows move the selection (the focused row's link), Enter follows it.
function move(step) {
  const links = [...document.querySelectorAll("#entries a.open")];
  if (!links.length) return;
  const at = links.indexOf(document.activeElement);
  const next = links[at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step))];
  next.focus();
  next.scrollIntoView({ block: "nearest" });
  if (next === links[links.length - 1] && shown.cursor) load(false);
}

function typing(target) { return target.closest("input, select, textarea, [contenteditable]"); }

start(async () => {
  fill(params);
  const form = $("#search");
  let timer = null;
  $("#q").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => go(false), 300); });
  form.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(timer); go(true); });
  form.addEventListener("change", (event) => { if (event.target.id !== "q") go(true); });
  $("#clear").addEventListener("click", () => {
    for (const name of FIELDS.slice(1)) form.elements[name].value = "";
    go(true);
  });
  $("#more").addEventListener("click", () => load(false));
  new IntersectionObserver((seen) => { if (seen.some((s) => s.isIntersecting)) load(false); }).observe($("#more"));
  window.addEventListener("popstate", () => { fill(new URLSearchParams(location.search)); load(true); });
  $("#entries").addEventListener("focusin", (event) => {
    for (const r of document.querySelectorAll("#entries tr.selected")) r.classList.remove("selected");
    event.target.closest("tr")?.classList.add("selected");
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      if (event.key === "ArrowDown" && event.target.id === "q") { event.preventDefault(); move(1); }
      return;
    }
    if (event.key === "/") { event.preventDefault(); $("#q").focus(); $("#q").select(); }
    const inList = event.target.closest && event.target.closest("#entries"); // arrows elsewhere scroll
    if (event.key === "j" || (inList && event.key === "ArrowDown")) { event.preventDefault(); move(1); }
    else if (event.key === "k" || (inList && event.key === "ArrowUp")) { event.preventDefault(); move(-1); }
  });
  setInterval(() => refresh($("#entries")), 30000);
  await load(true);
});
