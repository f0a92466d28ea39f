// VISION BUILDER: visions as a tree (milestones, actions, habits, key results) with their
// progress computed by the server; create a vision, add milestones and actions, mark done.
import { api, start } from "../lib/api.js";
import { $, el, say, when } from "../lib/dom.js";
import { thumbnail } from "../lib/previews.js";
import { verifyLeaf } from "../verify.js";

const json = (body, method = "POST") => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const pct = (p) => `${Math.round(p * 100)}%`;

function bar(progress, label) {
  return el("span", { class: "progress-line" },
    el("progress", { max: "1", value: String(progress), "aria-label": `${label}: ${pct(progress)}` }),
    el("span", { class: "pct", text: pct(progress) }));
}

// "I did this on that day": the leaf's proof fetched and verified here, against the
// instance's signed checkpoint.
function receiptButton(path, what) {
  const shown = el("span", { class: "receipt", role: "status" });
  const button = el("button", { type: "button", class: "receipt-button", text: "Receipt", "aria-label": `Receipt of ${what}` });
  button.addEventListener("click", async () => {
    try {
      const found = await api(path);
      if (!found.sealed) { shown.textContent = ` leaf ${found.leafIndex}: not sealed yet (the next block seals it)`; return; }
      const proven = await verifyLeaf(found.inclusion, found.verifier_keys, found.record || null);
      shown.textContent = ` verified here: leaf ${proven.leafIndex} of ${proven.treeSize} in ${proven.origin}, sealed ${when(proven.timestamp)}`;
    } catch (error) { shown.textContent = ` NOT VERIFIED: ${error.message}`; }
  });
  return el("span", {}, button, shown);
}

// An entry shown as evidence: its thumbnail (fetched with the key) and a link to it.
function evidence(h) {
  const link = el("a", { href: `/app/entry?h=${h}`, class: "evidence", text: h.slice(0, 12) });
  thumbnail(h).then((found) => {
    if (found && found.url) link.replaceChildren(el("img", { src: found.url, alt: found.file.name || "evidence", class: "evidence-thumb" }));
  }).catch(() => {});
  return link;
}

function inlineForm(name, placeholder, extra, onSubmit) {
  const input = el("input", { name, required: "", maxlength: "200", placeholder, "aria-label": placeholder, autocomplete: "off" });
  const label = placeholder.replace(/^New /, "Add ");
  const form = el("form", { class: "inline" }, input, ...extra, el("button", { type: "submit", text: label }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await onSubmit(new FormData(form)); await load(); } catch (error) { say("#message", error.message, "error"); }
  });
  return form;
}

function action(a) {
  const done = el("button", { type: "button", class: "mark-done", text: a.done ? "Undo" : "Mark done" });
  done.addEventListener("click", async () => {
    try { await api(`/actions/${a.id}`, json({ done: !a.done }, "PATCH")); await load(); } catch (error) { say("#message", error.message, "error"); }
  });
  return el("li", { class: a.done ? "action done" : "action", "data-action": String(a.id) },
    el("span", { text: `${a.done ? "✓ " : ""}${a.title}` }),
    el("span", { class: "muted", text: a.due ? ` due ${a.due}` : "" }), " ", done,
    a.done ? receiptButton(`/actions/${a.id}/receipt`, a.title) : "",
    ...a.evidence.map(evidence));
}

function keyResult(k) {
  const value = el("input", { name: "value", type: "number", step: "any", required: "", placeholder: "Value", "aria-label": `New value of ${k.title}` });
  const form = el("form", { class: "inline" }, value, el("button", { type: "submit", text: "Check in" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api(`/key-results/${k.id}/checkins`, json({ value: Number(value.value) })); await load(); } catch (error) { say("#message", error.message, "error"); }
  });
  return el("li", { class: "key-result", "data-key-result": String(k.id) },
    el("span", { text: `${k.title}: ${k.currentValue} of ${k.targetValue}${k.unit ? ` ${k.unit}` : ""} (${pct(k.progress)})` }), form);
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function milestone(m) {
  const children = el("ul", {},
    ...m.actions.map(action),
    ...m.habits.map((h) => el("li", { class: "habit", text: `habit ${h.name}: streak ${h.currentStreak}, strength ${pct(h.strength)}` })),
    ...m.keyResults.map(keyResult));
  const due = el("input", { name: "due", type: "date", "aria-label": "Due date" });
  const add = inlineForm("title", "New action", [due], (data) =>
    api("/actions", json({ title: data.get("title"), due: data.get("due") || null, milestoneIds: [m.id] })));
  const habit = inlineForm("name", "New habit", [], (data) =>
    api("/habits", json({ name: data.get("name"), tz: zone, milestoneIds: [m.id] })));
  const target = el("input", { name: "target", type: "number", step: "any", required: "", placeholder: "Target", "aria-label": "Target value" });
  const result = inlineForm("title", "New key result", [target], (data) =>
    api("/key-results", json({ title: data.get("title"), startValue: 0, targetValue: Number(data.get("target")), milestoneIds: [m.id] })));
  return el("li", { class: "milestone", "data-milestone": String(m.id) },
    el("h3", { text: `${m.title}${m.achieved ? " ✓" : ""}` }),
    m.targetDate ? el("span", { class: "muted", text: `by ${m.targetDate}` }) : "",
    bar(m.progress, m.title), children, add, habit, result);
}

function vision(v) {
  const add = inlineForm("title", "New milestone", [], (data) =>
    api("/milestones", json({ title: data.get("title"), visionIds: [v.id] })));
  const receipt = v.leafIndex === null ? "" : receiptButton(`/visions/${v.id}/receipt`, v.title);
  return el("section", { class: "card vision", "data-vision": String(v.id) },
    el("h2", { text: v.title }), el("p", { text: v.description }),
    bar(v.progress, v.title), el("p", { class: "muted" }, `created ${when(v.createdAt)}`, receipt),
    el("ol", { class: "milestones" }, ...v.milestones.map(milestone)), add);
}

async function load() {
  const { visions } = await api("/visions");
  const trees = await Promise.all(visions.map((v) => api(`/visions/${v.id}`)));
  $("#visions").replaceChildren(...(trees.length ? trees.map(vision) : [el("p", { text: "No visions yet: write one above." })]));
}

start(async () => {
  const form = $("#new-vision");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api("/visions", json({ title: data.get("title"), description: data.get("description") || "" }));
      form.reset(); await load();
    } catch (error) { say("#message", error.message, "error"); }
  });
  await load();
});
