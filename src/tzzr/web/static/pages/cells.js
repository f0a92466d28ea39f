// Cells and recent runs.
import { api, start } from "../lib/api.js";
import { $, el } from "../lib/dom.js";

start(async () => {
  const [{ cells: list }, { runs }] = await Promise.all([api("/api/cells"), api("/api/runs?limit=50")]);
  $("#cells").replaceChildren(...list.map((c) => el("tr", {}, el("td", { text: c.id }), el("td", { text: c.version }), el("td", { text: c.module }), el("td", { text: c.description || "" }))));
  $("#runs").replaceChildren(...runs.map((r) => el("tr", {}, el("td", { text: r.runId.slice(0, 14) }), el("td", { text: r.cellId }), el("td", {}, el("span", { class: "state", text: r.status })), el("td", { text: r.metrics && r.metrics.latencyMs != null ? `${Math.round(r.metrics.latencyMs)} ms` : "—" }))));
});
