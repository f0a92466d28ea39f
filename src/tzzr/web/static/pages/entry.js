// One entry: its container, its flow's executions step by step, links to enrich and verify.
import { api, digest, params, start } from "../lib/api.js";
import { $, el, say, short } from "../lib/dom.js";

start(async () => {
  const h = digest(params.get("h"), "link's entry id");
  const e = await api(`/entries/${h}`);
  $("#title").textContent = `Entry ${short(h)}`;
  $("#details").textContent = JSON.stringify(e.contenedor, null, 2);
  say("#state", e.state, "state");
  const { executions } = await api(`/executions?h_entrada=${h}`);
  $("#results").replaceChildren(...executions.map((x) => el("div", { class: "card" },
    el("h3", { text: `${x.flow}: ${x.status}${x.decision ? ` → ${x.decision.outcome}` : ""}` }),
    ...x.steps.map((s) => el("div", {},
      el("p", { text: `${s.id} (${s.cell}): ${s.status}${s.ms ? `, ${Math.round(s.ms)} ms` : ""}` }),
      el("pre", { text: s.output ? (s.output.text || JSON.stringify(s.output).slice(0, 800)) : (s.error ? s.error.message : "") }))))));
  if (e.state === "enriching") $("#enrich").append(el("a", { href: `/app/enrich?h=${h}` }, "Enrich it"));
  $("#verify").append(el("a", { href: `/app/ledger?h=${h}` }, "Verify in the ledger"));
});
