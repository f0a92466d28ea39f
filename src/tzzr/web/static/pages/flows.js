// Flows and recent executions.
import { api, start } from "../lib/api.js";
import { $, el } from "../lib/dom.js";

start(async () => {
  const [{ flows: list }, { executions }] = await Promise.all([api("/flows"), api("/executions?limit=50")]);
  $("#flows").replaceChildren(...list.map((f) => el("tr", {}, el("td", { text: f.id }), el("td", { text: f.version }), el("td", { text: f.spec.steps.map((s) => s.cell).join(" → ") || "—" }), el("td", {}, el("code", { text: f.spec.decision })))));
  $("#executions").replaceChildren(...executions.map((x) => el("tr", {}, el("td", { text: x.executionId.slice(0, 12) }), el("td", { text: x.flow }), el("td", {}, el("span", { class: "state", text: x.status })), el("td", { text: x.outcome || "—" }))));
});
