// SENTINEL: alerts, events, events per minute over the last hour, and run latency.
import { api, start } from "../lib/api.js";
import { $, el, say, when } from "../lib/dom.js";

function throughput(events) {
  const canvas = $("#chart"), ctx = canvas.getContext("2d");
  const now = Date.now(), buckets = new Array(60).fill(0);
  for (const e of events) { const m = Math.floor((now - Date.parse(e.ts)) / 60000); if (m >= 0 && m < 60) buckets[59 - m]++; }
  const max = Math.max(1, ...buckets);
  ctx.fillStyle = "#0b0d13"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#4fc3f7";
  buckets.forEach((n, i) => { const h = (n / max) * (canvas.height - 10); ctx.fillRect(i * (canvas.width / 60), canvas.height - h, canvas.width / 60 - 1, h); });
}

// how many runs took up to 10, 30, 100, … ms, and p50 / p95
function latency(runs) {
  const latencies = runs.filter((r) => r.status === "done" && r.metrics && r.metrics.latencyMs != null && !r.metrics.reused).map((r) => r.metrics.latencyMs).sort((a, b) => a - b);
  const edges = [10, 30, 100, 300, 1000, 3000, 10000, Infinity];
  const counts = edges.map(() => 0);
  for (const ms of latencies) counts[edges.findIndex((edge) => ms <= edge)]++;
  const lat = $("#latency-chart"), lctx = lat.getContext("2d");
  lctx.fillStyle = "#0b0d13"; lctx.fillRect(0, 0, lat.width, lat.height);
  const top = Math.max(1, ...counts), w = lat.width / edges.length;
  lctx.font = "11px system-ui"; lctx.textAlign = "center";
  counts.forEach((n, i) => {
    const h = (n / top) * (lat.height - 28);
    lctx.fillStyle = "#5fd38d"; lctx.fillRect(i * w + 4, lat.height - 16 - h, w - 8, h);
    lctx.fillStyle = "#9aa3b5"; lctx.fillText(edges[i] === Infinity ? "more" : `≤${edges[i]}ms`, i * w + w / 2, lat.height - 3);
  });
  say("#latency", latencies.length ? `run latency p50 ${Math.round(latencies[Math.floor(latencies.length / 2)])} ms, p95 ${Math.round(latencies[Math.floor(latencies.length * 0.95)])} ms (${latencies.length} runs)` : "no runs yet", "muted");
}

start(async () => {
  const [{ events }, { alerts }, { runs }] = await Promise.all([api("/sentinel/events?limit=500"), api("/sentinel/alerts"), api("/api/runs?limit=500")]);
  $("#alerts").replaceChildren(...alerts.map((a) => el("tr", {}, el("td", { text: a.rule }), el("td", { text: a.severity }), el("td", { text: a.state }), el("td", { text: a.message }))));
  $("#events").replaceChildren(...events.slice(0, 50).map((e) => el("tr", {}, el("td", { text: when(e.ts) }), el("td", { text: e.kind }), el("td", { text: e.severity }), el("td", { text: e.subject || "" }))));
  throughput(events);
  latency(runs);
});
