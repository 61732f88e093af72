// The game page: pick a game, then follow it live through its event stream
// (`/api/games/{id}/events`, server-sent events). The first update carries everything (task,
// graph, agents, recent log); later ones carry what changed.
"use strict";

(function () {
  const el = NSG.el;
  const $ = (id) => document.getElementById(id);
  const MAX_LOG = 400;
  const colors = new NSG.Colors();
  const state = { id: null, game: null, agents: new Map(), focus: null, source: null, lastLine: 0, over: false, graphSet: false };
  let graph;
  // The game the address asks for (`?game=ID`), until it is opened.
  let wanted = Number(new URL(location.href).searchParams.get("game")) || null;

  function gameUrl(id) {
    const u = new URL(location.href);
    u.searchParams.set("game", id);
    return u.pathname + u.search;
  }

  async function loadList() {
    let list;
    try {
      list = await NSG.api("/api/games");
    } catch (e) {
      NSG.setConn("down", "server unreachable");
      return null;
    }
    const ul = $("game-list");
    ul.replaceChildren(...list.games.map((g) => {
      const who = g.agents.map((a) => a.name).join(", ");
      return el("li", {}, el("a", {
        href: gameUrl(g.id), class: g.id === state.id ? "active" : "", "data-game": g.id,
        onclick: (ev) => { ev.preventDefault(); open(g.id); },
        title: g.label,
      }, `#${g.id} ${NSG.short(g.label)}`,
      el("span", { class: "sub" }, `${g.scenario}${g.port ? ` · port ${g.port}` : ""} · ${g.agents.length} agent${g.agents.length === 1 ? "" : "s"}${who ? `: ${who}` : ""}`)));
    }));
    $("layout").classList.toggle("single", list.games.length <= 1 && !list.tournament);
    if (!list.games.length) {
      ul.append(el("li", { class: "empty" }, "No game runs here."));
    }
    // Nothing open (no game yet, or the one open ended): follow the first game there is.
    if ((state.id === null || state.over) && list.games.length) {
      const next = list.games.find((g) => g.id === wanted) || list.games.find((g) => g.id !== state.id);
      wanted = null;
      if (next) open(next.id);
    }
    return list;
  }

  function open(id) {
    if (state.source) state.source.close();
    Object.assign(state, { id, game: null, agents: new Map(), focus: null, lastLine: 0, over: false, graphSet: false });
    history.replaceState(null, "", gameUrl(id));
    for (const a of document.querySelectorAll("#game-list a")) a.classList.toggle("active", Number(a.dataset.game) === id);
    $("log").replaceChildren();
    $("agent-cards").replaceChildren(el("div", { class: "empty" }, "waiting for the game…"));
    $("banner").hidden = true;
    NSG.setConn("", "connecting…");
    const src = new EventSource(`/api/games/${id}/events`);
    state.source = src;
    src.addEventListener("open", () => { if (!state.over) NSG.setConn("live", "live"); });
    src.addEventListener("error", () => {
      if (state.over) return;
      NSG.setConn("down", "reconnecting…");
    });
    src.addEventListener("update", (ev) => apply(JSON.parse(ev.data)));
    src.addEventListener("over", () => gameOver());
  }

  function gameOver() {
    state.over = true;
    if (state.source) state.source.close();
    NSG.setConn("over", "game over");
    const b = $("banner");
    b.hidden = false;
    b.textContent = "This game has ended; the next one to start will show here.";
    loadList();
  }

  function apply(u) {
    if (u.full) {
      state.game = u.game;
      state.agents = new Map();
      $("log").replaceChildren();
      renderTitle();
    }
    if (u.graph) {
      graph.setGraph(u.graph);
      state.graphSet = true;
    }
    for (const a of u.agents) state.agents.set(a.id, a);
    const ids = new Set(u.agent_ids);
    for (const id of [...state.agents.keys()]) if (!ids.has(id)) state.agents.delete(id);
    if (state.focus === null || !state.agents.has(state.focus)) {
      const first = [...state.agents.values()].find((a) => a.role === "Attacker") || [...state.agents.values()][0];
      state.focus = first ? first.id : null;
    }
    $("stat-episode").textContent = NSG.num(u.episode);
    // The game's own totals when it keeps counters, else what this page saw.
    const steps = u.game_steps ?? u.steps, detections = u.game_detections ?? u.detections;
    $("stat-steps").textContent = NSG.num(steps);
    $("stat-detections").textContent = NSG.num(detections);
    $("stat-detections").parentElement.classList.toggle("alert", detections > 0);
    $("stat-agents").textContent = NSG.num(state.agents.size);
    appendLog(u.log, u.skipped);
    renderAgents();
    const agents = [...state.agents.values()];
    graph.setViews(agents, state.focus, colors);
    // Arrows for the newest few steps only: a burst of hundreds would be a blur.
    const recent = u.log.filter((l) => l.kind === "step").slice(-6);
    if (!u.full) for (const l of recent) {
      const a = state.agents.get(l.agent);
      graph.flash(l.action, a ? colors.of(a) : "#aaa", l.detected);
    }
    if (u.over) gameOver();
    if (panelHost) NSG.hostPanel($("host-panel"), panelHost, agents, colors, closePanel);
  }

  function renderTitle() {
    const g = state.game;
    const goal = g.task.roles.Attacker && g.task.roles.Attacker.goal;
    $("title").replaceChildren(
      el("h1", { title: g.label }, `#${g.id} ${NSG.short(g.label)}`),
      el("div", { class: "goal" }, `${g.scenario}${g.port ? ` · port ${g.port}` : ""} · ${g.task.required_players} player${g.task.required_players === 1 ? "" : "s"} needed · global defender ${g.task.global_defender ? "on" : "off"}`),
      goal ? el("div", { class: "goal" }, `Attacker's goal: ${goal}`) : null);
    document.title = `${NSG.short(g.label)} · NetSecGame`;
  }

  function chips(list, cls) {
    return el("span", { class: "chips" }, list.map((t) => el("span", { class: `chip ${cls || ""}` }, t)));
  }

  function renderAgents() {
    const box = $("agent-cards");
    const agents = [...state.agents.values()].sort((a, b) => a.id - b.id);
    if (!agents.length) {
      box.replaceChildren(el("div", { class: "empty" }, "No agent is playing. Connect one to the game's port."));
      return;
    }
    const inWorld = state.graphSet ? new Set(graph.g.networks.map((n) => n.cidr)) : null;
    box.replaceChildren(...agents.map((a) => {
      const v = a.view;
      const c = colors.of(a);
      const data = Object.entries(v.data).flatMap(([ip, items]) => items.filter((d) => d.id !== "logfile").map((d) => `${d.owner}/${d.id} @ ${ip}`));
      const logs = Object.entries(v.data).filter(([, items]) => items.some((d) => d.id === "logfile")).length;
      const blocks = Object.entries(v.blocks).flatMap(([ip, bs]) => bs.map((b) => `${b} at ${ip}`));
      const services = Object.values(v.services).reduce((s, x) => s + x.length, 0);
      const outside = inWorld ? v.networks.filter((n) => !inWorld.has(n)) : [];
      return el("div", {
        class: `agent${a.id === state.focus ? " focus" : ""}`, style: { "--c": c }, "data-agent": a.id, "data-name": a.name,
        title: "Show this agent's view on the graph",
        onclick: () => { state.focus = a.id; renderAgents(); graph.setViews([...state.agents.values()], state.focus, colors); },
      },
      el("header", {}, el("span", { class: "role", style: { "--c": c } }, a.role), el("b", {}, a.name),
        el("span", { class: `status ${a.status}` }, a.ended ? `${a.status} (episode over)` : a.status)),
      el("div", { class: "nums" },
        el("span", {}, "steps ", el("b", {}, NSG.num(a.steps))),
        el("span", {}, "return ", el("b", {}, NSG.num(a.return, Number.isInteger(a.return) ? 0 : 2))),
        el("span", {}, "networks ", el("b", {}, v.networks.length)),
        el("span", {}, "hosts ", el("b", {}, v.known_hosts.length)),
        el("span", {}, "services ", el("b", {}, services)),
        a.detected ? el("span", { class: "det" }, "DETECTED") : null),
      el("div", { class: "view" },
        el("div", { class: "controlled" }, el("span", { class: "k" }, "controls "),
          el("span", { class: "chips" }, v.controlled_hosts.map((ip) => el("span", { class: "chip ctl controlled-host", "data-ip": ip }, ip)))),
        data.length || logs ? el("div", {}, el("span", { class: "k" }, "data found "), chips(data, "data"), logs ? el("span", { class: "muted" }, ` + ${logs} logfile${logs === 1 ? "" : "s"}`) : null) : null,
        blocks.length ? el("div", {}, el("span", { class: "k" }, "blocks "), chips(blocks, "block")) : null,
        outside.length ? el("div", { class: "muted" }, `also knows ${outside.join(", ")} (no host there)`) : null));
    }));
  }

  function appendLog(lines, skipped) {
    const log = $("log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (skipped) log.append(el("li", { class: "skip" }, `… ${NSG.num(skipped)} lines skipped (the page fell behind)`));
    for (const l of lines) {
      const a = state.agents.get(l.agent);
      const c = a ? colors.of(a) : (l.role ? NSG.ROLE_COLORS[l.role][0] : "");
      let res = "";
      if (l.kind === "step") {
        res = `${NSG.signed(l.reward)}${l.detected ? " DETECTED" : ""}${l.ended ? ` · ${l.status}` : ""}`;
      } else if (l.kind === "episode_end") {
        res = `return ${NSG.signed(l.reward)}`;
      }
      const cls = [`kind-${l.kind}`, l.detected ? "detected" : "", l.role ? `role-${l.role}` : ""].filter(Boolean).join(" ");
      log.append(el("li", { class: cls, "data-n": l.n, style: c ? { "--c": c } : null },
        el("span", { class: "when" }, l.kind === "step" ? `${l.episode}·${l.step}` : NSG.time(l.t)),
        el("span", {}, l.name ? el("span", { class: "who" }, `${l.name} `) : null, el("span", { class: "what" }, l.text)),
        el("span", { class: `res ${l.reward > 0 ? "pos" : ""}` }, res)));
    }
    while (log.childElementCount > MAX_LOG) log.firstElementChild.remove();
    if (atBottom || lines.length && log.childElementCount === lines.length) log.scrollTop = log.scrollHeight;
  }

  let panelHost = null;
  function closePanel() {
    panelHost = null;
    $("host-panel").hidden = true;
    graph.select(null);
  }

  async function main() {
    NSG.nav("games");
    graph = new NSG.Graph($("graph"), {
      onSelect: (host) => {
        panelHost = host;
        NSG.hostPanel($("host-panel"), host, [...state.agents.values()], colors, closePanel);
      },
    });
    const list = await loadList();
    if (!list) return;
    if (!list.games.length) {
      $("agent-cards").replaceChildren(el("div", { class: "empty" }, list.tournament
        ? "No match is being played right now; see the tournament page."
        : "No game runs in this process."));
      NSG.setConn("", "no game");
    }
    // Games come and go (tournament matches): refresh the list now and then.
    setInterval(loadList, 5000);
  }

  main();
})();
