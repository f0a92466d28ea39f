// The live viewer: the render cells' geometry drawn on a canvas, with a slider per
// rotation plane. Everything is computed here; the server only serves the files and
// lists the registry's render cells (each option carries its cell's defaults). No key
// needed: it holds no data.
import { start } from "../lib/api.js";
import * as G from "../geometry.js";

const canvas = document.getElementById("stage");
const ctx = canvas.getContext("2d");
const form = document.getElementById("controls");
let frame = 0, playing = true;

function mix(bg, fg, amount) {
  const parse = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  const [a, b] = [parse(bg), parse(fg)];
  return `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * amount)).join(",")})`;
}

function params() {
  const cell = form.cell.value;
  const dims = G.DEFAULTS[cell].dims;
  const angles = {}, speeds = {};
  for (const plane of G.PLANES[dims]) {
    angles[plane] = Number(form[`angle-${plane}`].value);
    speeds[plane] = Number(form[`speed-${plane}`].value);
  }
  return { cell, p: { size: canvas.width, angles, speeds, projection: form.projection.value } };
}

function draw() {
  const { cell, p } = params();
  const d = { ...G.DEFAULTS[cell], ...p };
  const { points, depth, edges } = G.pose(cell, p, frame);
  ctx.fillStyle = d.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = d.lineWidth;
  ctx.shadowBlur = d.glow ? 8 : 0;
  ctx.shadowColor = d.color;
  const order = edges.map((_, i) => i).sort(
    (a, b) => depth[edges[a][0]] + depth[edges[a][1]] - depth[edges[b][0]] - depth[edges[b][1]]);
  for (const i of order) {
    const [a, b] = edges[i];
    ctx.strokeStyle = mix(d.background, d.color, d.depthCue ? 0.3 + 0.35 * (depth[a] + depth[b]) : 1);
    ctx.beginPath();
    ctx.moveTo(points[a][0], points[a][1]);
    ctx.lineTo(points[b][0], points[b][1]);
    ctx.stroke();
  }
  if (d.scanlines) {
    ctx.shadowBlur = 0;
    ctx.fillStyle = "rgba(0,0,0,0.28)";
    for (let y = 1; y < canvas.height; y += 2) ctx.fillRect(0, y, canvas.width, 1);
  }
  document.getElementById("readout").textContent =
    `${cell}: ${points.length} vertices, ${edges.length} edges, frame ${frame}`;
}

function controls() {
  const cell = form.cell.value;
  const dims = G.DEFAULTS[cell].dims;
  const box = document.getElementById("planes");
  box.replaceChildren();
  for (const plane of G.PLANES[dims]) {
    for (const [kind, max, value] of [
      ["angle", 360, G.DEFAULTS[cell].angles[plane] || 0],
      ["speed", 180, G.DEFAULTS[cell].speeds[plane] || 0],
    ]) {
      const label = document.createElement("label");
      label.textContent = `${plane} ${kind}${kind === "angle" ? " (°)" : " (°/s)"} `;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: kind === "angle" ? 0 : -max, max, step: 1, value });
      input.name = `${kind}-${plane}`;
      input.id = `${kind}-${plane}`;
      input.addEventListener("input", draw);
      label.htmlFor = input.id;
      label.append(input);
      box.append(label);
    }
  }
  document.getElementById("projection-row").hidden = dims !== 4;
  draw();
}

function tick() {
  if (playing) { frame += 1; draw(); }
  window.requestAnimationFrame(tick);
}

start(() => {
  if (!form.cell.options.length) return; // no render cell installed: the page says so
  for (const option of form.cell.options) G.define(option.value, JSON.parse(option.dataset.defaults));
  // the form only holds controls: Enter in it must not navigate (no inline handler: CSP)
  form.addEventListener("submit", (event) => event.preventDefault());
  form.cell.addEventListener("change", () => { frame = 0; controls(); });
  form.projection.addEventListener("change", draw);
  document.getElementById("play").addEventListener("click", (event) => {
    playing = !playing;
    event.target.textContent = playing ? "Pause" : "Play";
    event.target.setAttribute("aria-pressed", String(!playing));
  });
  if (new URLSearchParams(location.search).has("still")) playing = false;
  controls();
  window.requestAnimationFrame(tick);
  window.tzzrViewer = { draw, setFrame: (f) => { frame = f; draw(); } }; // for the browser test
}, { signedIn: false });
