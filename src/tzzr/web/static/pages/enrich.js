// MASON: the form generated from the instance's enrichment schema and filled with what the
// cells read (each field says which step read it and how sure it was), the deadline
// counting down, a refused field named next to it, and the history with what each
// enrichment corrected of the suggestion.
import { api, digest, params, start } from "../lib/api.js";
import { $, el, say, short, when } from "../lib/dom.js";

function field(name, spec, required, suggestion) {
  const id = `f-${name}`;
  const label = el("label", { for: id, text: `${spec.title || name}${required ? " (required)" : ""}` });
  let input;
  if (spec.enum) {
    input = el("select", { id, name }, el("option", { value: "" }, "—"), ...spec.enum.map((v) => el("option", { value: v }, v)));
  } else if (spec.type === "string" && (spec.maxLength || 0) > 200) {
    input = el("textarea", { id, name, rows: 3, maxlength: spec.maxLength });
  } else {
    const type = spec.type === "number" || spec.type === "integer" ? "number" : spec.format === "date" ? "date" : "text";
    input = el("input", { id, name, type, step: spec.type === "number" ? "any" : undefined, maxlength: spec.maxLength, pattern: type === "text" ? spec.pattern : undefined });
  }
  if (required) input.required = true;
  const hint = el("div", { class: "muted", id: `${id}-hint` });
  if (suggestion) {
    input.value = String(suggestion.value);
    const sure = typeof suggestion.confidence === "number" ? `, ${Math.round(suggestion.confidence * 100)}% sure` : "";
    hint.textContent = `Read by ${suggestion.step} (${suggestion.cell})${sure}: confirm or correct.`;
    input.setAttribute("aria-describedby", hint.id);
  }
  return el("div", {}, label, input, hint, el("div", { class: "error", id: `${id}-error`, "aria-live": "polite" }));
}

function shown(value) { return value === null || value === undefined ? "—" : String(value); }

function history(versions) {
  $("#history").replaceChildren(...versions.map((v) => {
    const changed = Object.entries(v.corrections || {}).map(([name, c]) =>
      c.value === null ? `${name} removed (was ${shown(c.suggested)})` : `${name} ${shown(c.suggested)} → ${shown(c.value)}`);
    const what = !v.suggested ? "nothing was suggested"
      : changed.length ? `corrected: ${changed.join("; ")}` : "confirmed what was read";
    return el("li", { text: `${when(v.at)} · key ${v.keyId}: ${what}` });
  }));
  if (!versions.length) $("#history").replaceChildren(el("li", { class: "muted", text: "not enriched yet" }));
}

start(async () => {
  const h = digest(params.get("h"), "link's entry id");
  const item = await api(`/enrich/${h}`);
  $("#title").textContent = `Enrich ${short(h)}`;
  say("#reason", item.reason, "muted");
  const schema = item.schema;
  const suggested = item.suggested || {};
  const required = new Set(schema.required || []);
  $("#fields").replaceChildren(...Object.entries(schema.properties || {}).map(([n, s]) => field(n, s, required.has(n), suggested[n])));
  if (Object.keys(suggested).length) say("#suggested-note", "The form is filled with what the cells read: check each field, correct what is wrong, then save.", "muted");
  history(item.history || []);
  $("#results").textContent = Object.entries(item.results || {})
    .map(([step, out]) => `${step}: ${out && typeof out.text === "string" ? out.text : JSON.stringify(out).slice(0, 600)}`)
    .join("\n\n") || "nothing";
  let left = item.secondsLeft;
  const tick = () => {
    if (item.state !== "pending") { say("#deadline", `This item is ${item.state}.`, "muted"); return; }
    const hh = Math.floor(left / 3600), mm = Math.floor((left % 3600) / 60), ss = left % 60;
    say("#deadline", `${hh}h ${String(mm).padStart(2, "0")}m ${String(ss).padStart(2, "0")}s left before it is sealed as it is`, "");
    left = Math.max(0, left - 1);
  };
  tick(); setInterval(tick, 1000);
  $("#enrich-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    document.querySelectorAll(".error").forEach((n) => { n.textContent = ""; });
    const fields = {};
    for (const [name, spec] of Object.entries(schema.properties || {})) {
      const value = event.target.elements[name].value;
      if (value === "") continue;
      fields[name] = spec.type === "number" || spec.type === "integer" ? Number(value) : value;
    }
    try {
      const done = await api(`/enrich/${h}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ fields }) });
      item.state = done.state;
      const fixed = Object.keys(done.corrections || {});
      say("#saved", `Saved (${done.state}${fixed.length ? `; corrected ${fixed.join(", ")}` : ""}); it goes into the next block.`, "ok");
      history((await api(`/enrich/${h}`)).history || []);
    } catch (error) {
      const name = (error.field || "").replace(/^fields\./, "");
      const target = document.getElementById(`f-${name}-error`);
      if (target) { target.textContent = error.message; document.getElementById(`f-${name}`).focus(); }
      else say("#saved", error.message, "error");
    }
  });
});
