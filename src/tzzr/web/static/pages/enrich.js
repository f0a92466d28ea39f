// MASON: the form generated from the instance's enrichment schema, the deadline counting
// down, and a refused field named next to it.
import { api, digest, params, start } from "../lib/api.js";
import { $, el, say, short } from "../lib/dom.js";

function field(name, spec, required) {
  const id = `f-${name}`;
  const label = el("label", { for: id, text: `${spec.title || name}${required ? " (required)" : ""}` });
  let input;
  if (spec.enum) {
    input = el("select", { id, name }, el("option", { value: "" }, "—"), ...spec.enum.map((v) => el("option", { value: v }, v)));
  } else if (spec.type === "string" && (spec.maxLength || 0) > 200) {
    input = el("textarea", { id, name, rows: 3, maxlength: spec.maxLength });
  } else {
    input = el("input", { id, name, type: spec.type === "number" || spec.type === "integer" ? "number" : "text", step: spec.type === "number" ? "any" : undefined, maxlength: spec.maxLength, pattern: spec.pattern });
  }
  if (required) input.required = true;
  return el("div", {}, label, input, el("div", { class: "error", id: `${id}-error`, "aria-live": "polite" }));
}

start(async () => {
  const h = digest(params.get("h"), "link's entry id");
  const item = await api(`/enrich/${h}`);
  $("#title").textContent = `Enrich ${short(h)}`;
  say("#reason", item.reason, "muted");
  const schema = item.schema;
  const required = new Set(schema.required || []);
  $("#fields").replaceChildren(...Object.entries(schema.properties || {}).map(([n, s]) => field(n, s, required.has(n))));
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
      say("#saved", `Saved (${done.state}); it goes into the next block.`, "ok");
    } catch (error) {
      const name = (error.field || "").replace(/^fields\./, "");
      const target = document.getElementById(`f-${name}-error`);
      if (target) { target.textContent = error.message; document.getElementById(`f-${name}`).focus(); }
      else say("#saved", error.message, "error");
    }
  });
});
