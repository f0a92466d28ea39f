// Habits as a check-in grid of the last four weeks, with streaks and strength (Loop's
// score); a click on a day checks in (or undoes a check-in).
import { api, key, start } from "../lib/api.js";
import { $, el, say } from "../lib/dom.js";

const DAYS = 28;
const json = (body, method = "POST") => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

async function toggle(habit, day) {
  try {
    if (day.checkinId) await api(`/habits/${habit.id}/checkins/${day.checkinId}`, { method: "DELETE" });
    else {
      const body = { day: day.day };
      if (habit.kind === "numeric") {
        const amount = prompt(`${habit.name} on ${day.day} (${habit.unit || "amount"})`);
        if (amount === null) return;
        body.value = Number(amount);
      }
      const made = await api(`/habits/${habit.id}/checkins`, json(body));
      await load();
      say("#message", `${habit.name}: checked in on ${made.day}, sealed as ledger leaf ${made.leafIndex}`);
      return;
    }
    await load();
  } catch (error) { say("#message", error.message, "error"); }
}

function row(habit) {
  const cells = habit.recent.map((day) => {
    const state = day.checkinId ? "checked" : day.done ? "auto" : "empty";
    const button = el("button", { type: "button", class: `day ${state}`, "data-day": day.day, "aria-pressed": String(Boolean(day.checkinId)), "aria-label": `${habit.name} ${day.day}${day.value ? `: ${day.value}` : ""}`, text: day.checkinId ? (habit.kind === "numeric" ? String(day.value) : "✓") : day.done ? "·" : "" });
    button.addEventListener("click", () => toggle(habit, day));
    return el("td", {}, button);
  });
  const freq = habit.times === 1 && habit.intervalDays === 1 ? "daily" : `${habit.times}× / ${habit.intervalDays} d`;
  return el("tr", { "data-habit": String(habit.id) },
    el("th", { scope: "row" }, el("span", { text: habit.name }), el("br"), el("small", { class: "muted", text: freq })),
    ...cells,
    el("td", { class: "streak", text: String(habit.currentStreak) }),
    el("td", { class: "best", text: String(habit.bestStreak) }),
    el("td", { class: "strength" }, el("progress", { max: "1", value: String(habit.strength), "aria-label": `strength ${Math.round(habit.strength * 100)}%` }), el("br"), el("small", { text: `${Math.round(habit.strength * 100)}%` })));
}

async function load() {
  const { habits } = await api(`/habits?days=${DAYS}`);
  const days = habits.length ? habits[0].recent.map((d) => d.day) : [];
  $("#grid-head").replaceChildren(el("th", { scope: "col", text: "Habit" }),
    ...days.map((d) => el("th", { scope: "col", class: "day-head", text: d.slice(8) })),
    el("th", { scope: "col", text: "Streak" }), el("th", { scope: "col", text: "Best" }), el("th", { scope: "col", text: "Strength" }));
  $("#habits").replaceChildren(...(habits.length ? habits.map(row) : [el("tr", {}, el("td", { text: "No habits yet: add one above." }))]));
  const wrap = $(".grid-wrap");
  wrap.scrollLeft = wrap.scrollWidth; // today, the streak and the strength in view; older days to the left
}

start(async () => {
  const form = $("#new-habit");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const target = data.get("target");
    const body = { name: data.get("name"), times: Number(data.get("times") || 1), intervalDays: Number(data.get("intervalDays") || 1), tz: zone };
    if (target) Object.assign(body, { kind: "numeric", target: Number(target), unit: data.get("unit") || null, times: 1 });
    try { await api("/habits", json(body)); form.reset(); await load(); } catch (error) { say("#message", error.message, "error"); }
  });
  const importer = $("#import-loop");
  importer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = importer.elements.file.files[0];
    if (!file) return;
    const type = file.name.endsWith(".zip") ? "application/zip" : "text/csv";
    try {
      const done = await api(`/habits/import?tz=${encodeURIComponent(zone)}`, { method: "POST", headers: { "Content-Type": type }, body: file });
      importer.reset(); await load();
      say("#message", `Imported ${done.habits.length} habits and ${done.checkins} check-ins. ${done.notes.join(" ")}`);
    } catch (error) { say("#message", error.message, "error"); }
  });
  $("#export-loop").addEventListener("click", async () => {
    try {
      const response = await fetch("/habits/export.zip", { headers: { Authorization: `Bearer ${key()}` } });
      if (!response.ok) throw new Error(`the export answered ${response.status}`);
      const link = el("a", { href: URL.createObjectURL(await response.blob()), download: "Loop Habits CSV.zip" });
      link.click();
    } catch (error) { say("#message", error.message, "error"); }
  });
  await load();
});
