// The inbox: entries, newest first, with their state.
import { api, start } from "../lib/api.js";
import { $, el, say, short, when } from "../lib/dom.js";

start(async () => {
  const { entries } = await api("/entries?limit=100");
  $("#entries").replaceChildren(...entries.map((e) => el("tr", {},
    el("td", {}, el("a", { href: `/app/entry?h=${e.h_entrada}` }, short(e.h_entrada))),
    el("td", {}, el("span", { class: "state", text: e.state })),
    el("td", { text: (e.contenedor.files || []).map((f) => f.name).join(", ") || "—" }),
    el("td", { text: when(e.created_at) }),
  )));
  say("#count", `${entries.length} entries`, "muted");
});
