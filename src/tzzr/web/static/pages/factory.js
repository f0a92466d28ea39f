// THE FACTORY: a vision refined in rounds (propose, critique, revise), the rounds side by
// side with their critique and diff, and accept / reject for each item of the last round
// (an accepted item becomes a milestone or an action of the vision).
import { api, params, start } from "../lib/api.js";
import { $, el, say, when } from "../lib/dom.js";
import { verifyLeaf } from "../verify.js";

const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const DETERMINISTIC = "deterministic planner";
let shown = null; // the job on the page

function label(model) {
  return model === DETERMINISTIC ? "deterministic planner (no language model configured)" : `model ${model}`;
}

function dated(item) {
  const when = item.kind === "milestone" ? item.targetDate : item.due;
  return when ? ` (${item.kind === "milestone" ? "by" : "due"} ${when})` : "";
}

function itemLine(item, changed) {
  const mark = changed ? " *" : "";
  return el("li", { class: `item ${item.kind}`, "data-item": item.id },
    el("span", { class: "item-id muted", text: `${item.id} ` }),
    el("span", { text: `${item.title}${dated(item)}${mark}` }));
}

function roundColumn(job, round) {
  const changed = new Set(round.diff.changed.map((c) => c.id));
  const added = new Set(round.diff.added);
  const notes = round.critique.length
    ? el("ul", { class: "critique" }, ...round.critique.map((n) => el("li", { text: `${n.item}: ${n.issue}` })))
    : el("p", { class: "muted", text: round.number === 1 ? "first proposal" : "nothing to fix" });
  const summary = `+${round.diff.added.length} −${round.diff.removed.length} ~${round.diff.changed.length}`;
  return el("article", { class: "card round", "data-round": String(round.number) },
    el("h3", { text: `Round ${round.number}` }),
    el("p", { class: "muted", text: label(round.model) }),
    el("h4", { text: "Critique" }), notes,
    el("h4", { text: `Draft (${summary})` }),
    el("ul", { class: "draft" }, ...round.draft.items.map((i) => itemLine(i, changed.has(i.id) || (round.number > 1 && added.has(i.id))))),
    el("p", { class: "muted", text: `attested: ledger leaf ${round.leafIndex}, output ${round.outputHash.slice(0, 12)}…` }),
    receiptButton(job, round));
}

// The round's attestation: its inclusion proof fetched and verified here, against the
// instance's signed checkpoint.
function receiptButton(job, round) {
  const shown = el("span", { class: "receipt", role: "status" });
  const button = el("button", { type: "button", class: "receipt-button", text: "Receipt", "aria-label": `Receipt of round ${round.number}` });
  button.addEventListener("click", async () => {
    try {
      const found = await api(`/factory/jobs/${job.jobId}/rounds/${round.number}/receipt`);
      if (!found.sealed) { shown.textContent = ` leaf ${found.leafIndex}: not sealed yet (the next block seals it)`; return; }
      const proven = await verifyLeaf(found.inclusion, found.verifier_keys);
      shown.textContent = ` verified here: leaf ${proven.leafIndex} of ${proven.treeSize} in ${proven.origin}, sealed ${when(proven.timestamp)}`;
    } catch (error) { shown.textContent = ` NOT VERIFIED: ${error.message}`; }
  });
  return el("span", {}, button, shown);
}

function decide(job, item, verb) {
  return async () => {
    try {
      await api(`/factory/jobs/${job.jobId}/items/${item.id}/${verb}`, { method: "POST" });
      say("#message", `${item.id} ${verb === "accept" ? "accepted" : "rejected"}`, "ok");
      await show(job.jobId);
    } catch (error) { say("#message", error.message, "error"); }
  };
}

function decision(job, item) {
  if (item.decision) {
    const text = item.decision === "accepted" ? `accepted as ${item.kind} ${item.objectId}` : "rejected";
    return el("span", { class: `decision ${item.decision}`, text });
  }
  const accept = el("button", { type: "button", class: "accept", text: "Accept", "aria-label": `Accept ${item.id}` });
  const reject = el("button", { type: "button", class: "reject", text: "Reject", "aria-label": `Reject ${item.id}` });
  accept.addEventListener("click", decide(job, item, "accept"));
  reject.addEventListener("click", decide(job, item, "reject"));
  return el("span", {}, accept, " ", reject);
}

function decisions(job) {
  const rows = job.items.map((item) => el("li", { class: `decide ${item.kind}`, "data-item": item.id },
    el("span", { text: `${item.kind === "action" ? "  ↳ " : ""}${item.title}${dated(item)} ` }), decision(job, item)));
  const vision = job.request.target.vision;
  return el("section", { class: "card" },
    el("h3", { text: "Accept or reject" }),
    el("p", { class: "muted" }, "Accepted items go into ", el("a", { href: "/app/visions", text: `vision ${vision}` }), "; accept a milestone before its actions."),
    el("ul", { class: "decisions" }, ...rows));
}

function render(job) {
  const status = job.status === "failed"
    ? el("p", { class: "error", role: "alert", text: `failed: ${job.error.message}` })
    : el("p", { class: "muted", role: "status", text: `${job.status}: ${job.progress.step}` });
  const planner = el("p", { class: "planner", text: `Proposed by: ${label(job.planner || "")}` });
  const asked = job.request.rounds;
  const stopped = job.status === "done" && job.rounds.length < asked
    ? el("p", { class: "muted", text: `Stopped after ${job.rounds.length} of ${asked} round(s): the checks found nothing left to fix.` })
    : "";
  const parts = [el("h2", { text: `Refinement of “${job.request.goal}”` }), planner, status, stopped,
    el("div", { class: "rounds" }, ...job.rounds.map((round) => roundColumn(job, round)))];
  if (job.status === "done" && job.kind === "refine") parts.push(decisions(job));
  $("#refinement").replaceChildren(...parts);
}

async function show(jobId) {
  shown = jobId;
  for (let tries = 0; tries < 600 && shown === jobId; tries += 1) {
    const job = await api(`/factory/jobs/${jobId}`);
    render(job);
    if (job.status === "done" || job.status === "failed") return job;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

async function list() {
  const { items } = await api("/factory/jobs");
  $("#refinements").replaceChildren(...items.map((j) => {
    const link = el("a", { href: `/app/factory?job=${encodeURIComponent(j.jobId)}`, text: j.goal || j.jobId });
    link.addEventListener("click", (event) => { event.preventDefault(); history.replaceState(null, "", link.href); show(j.jobId); });
    return el("li", {}, link, el("span", { class: "muted", text: ` ${j.kind}, ${j.status}, ${when(j.createdAt)}` }));
  }));
}

start(async () => {
  const form = $("#refine");
  const { visions } = await api("/visions");
  const select = form.elements.vision;
  select.replaceChildren(...visions.map((v) => el("option", { value: String(v.id), text: v.title })));
  if (!visions.length) say("#planner", "No visions yet: create one on the Visions page first.");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { target: { vision: Number(data.get("vision")) }, goal: data.get("goal") || "", constraints: {}, rounds: Number(data.get("rounds") || 3) };
    if (data.get("deadline")) body.constraints.deadline = data.get("deadline");
    try {
      const started = await api("/factory/refine", json(body));
      say("#planner", `Running with the ${label(started.planner)}…`);
      history.replaceState(null, "", `/app/factory?job=${started.jobId}`);
      await show(started.jobId);
      await list();
    } catch (error) { say("#message", error.message, "error"); }
  });
  await list();
  if (params.get("job")) await show(params.get("job"));
});
