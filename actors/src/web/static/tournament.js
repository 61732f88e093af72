// The tournament page: progress, the leaderboard, the attacker x defender win-rate matrix and
// the ratings over the run, updated from `/api/tournament/events` as matches finish.
"use strict";

(function () {
  const el = NSG.el;
  const $ = (id) => document.getElementById(id);
  const ROLES = ["Attacker", "Defender", "Benign"];
  const PLURAL = { Attacker: "Attackers", Defender: "Defenders", Benign: "Benign users" };

  /** One colour per entrant, by rank within its role: the same in the table and the chart. */
  function palette(s) {
    const out = new Map();
    const standings = (s.results && s.results.standings) || [];
    for (const role of ROLES) {
      standings.filter((x) => x.role === role).forEach((x, i) => {
        const p = NSG.ROLE_COLORS[role] || ["#aaa"];
        out.set(x.entrant, p[i % p.length]);
      });
    }
    return out;
  }

  function duration(s) {
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function ciBar(p, lo, hi) {
    return el("span", { class: "ci", title: `95% CI ${NSG.pct(lo)} – ${NSG.pct(hi)}` },
      el("span", { style: { left: `${lo * 100}%`, width: `${Math.max(1, (hi - lo) * 100)}%` } }),
      el("em", { style: { left: `calc(${p * 100}% - 1px)` } }));
  }

  function render(s) {
    const done = s.played + s.resumed;
    $("t-title").textContent = `Tournament ${NSG.short(s.tournament)}`;
    $("t-title").title = s.tournament;
    $("t-sub").textContent = `${s.finished ? "finished" : "running"} · ${s.total} matches of ${s.episodes_per_match} episodes` +
      `${s.shard && s.shard !== "0/1" ? ` · shard ${s.shard}` : ""}${s.resumed ? ` · ${s.resumed} resumed from the store` : ""}`;
    $("k-done").textContent = `${done}/${s.total}`;
    $("k-running").textContent = s.running.length;
    $("k-episodes").textContent = NSG.num(s.episodes);
    $("k-forfeits").textContent = s.forfeits;
    $("k-forfeits").parentElement.classList.toggle("alert", s.forfeits > 0);
    $("k-time").textContent = duration(s.seconds);
    const bar = $("bar");
    bar.style.width = `${s.total ? (100 * done) / s.total : 0}%`;
    bar.classList.toggle("done", s.finished);
    if (s.finished) NSG.setConn("over", "finished");
    renderLeaderboard(s);
    renderMatrix(s);
    renderChart(s);
    renderMatches(s);
  }

  function renderLeaderboard(s) {
    const t = $("leaderboard");
    const r = s.results;
    if (!r || !r.standings.length) {
      t.replaceChildren(el("tr", {}, el("td", { class: "l empty" }, "No finished match yet.")));
      return;
    }
    const head = el("tr", {}, ["#", "entrant", "rating", "matches", "episodes", "wins", "win rate (95% CI)", "forfeits", "mean return", "detected"]
      .map((h, i) => el("th", { class: i === 1 ? "l" : "" }, h)));
    const rows = [head];
    for (const role of ROLES) {
      const list = r.standings.filter((x) => x.role === role);
      if (!list.length) continue;
      rows.push(el("tr", { class: "role-head" }, el("td", { colspan: 10 }, PLURAL[role])));
      const colors = palette(s);
      for (const x of list) {
        const c = colors.get(x.entrant) || "#aaa";
        rows.push(el("tr", { "data-entrant": x.entrant },
          el("td", {}, x.rank ?? "–"),
          el("td", { class: "l" }, el("b", { style: { color: c } }, x.entrant)),
          el("td", { title: x.mu !== null ? `μ ${x.mu.toFixed(2)}, σ ${x.sigma.toFixed(2)}` : "benign entrants are not rated" }, x.rating === null ? "–" : x.rating.toFixed(2)),
          el("td", {}, x.matches), el("td", {}, x.episodes), el("td", {}, x.wins),
          el("td", {}, NSG.pct(x.win_rate), ciBar(x.win_rate, x.win_rate_low, x.win_rate_high)),
          el("td", { class: x.forfeits ? "forfeit" : "" }, x.forfeits),
          el("td", {}, x.mean_return.toFixed(2)),
          el("td", {}, role === "Attacker" ? NSG.pct(x.detection_rate) : "–")));
      }
    }
    t.replaceChildren(...rows);
    $("lb-note").textContent = `From ${r.matches} finished matches and ${NSG.num(r.episodes)} episodes${s.results_stale ? " (updating…)" : ""}. Rating: Weng-Lin, mean − 3σ.`;
  }

  function heat(p) {
    // Defender blue at 0, attacker red at 1.
    const a = [77, 157, 255], b = [255, 92, 108];
    const m = a.map((x, i) => Math.round(x + (b[i] - x) * p));
    return `rgb(${m.join(",")})`;
  }

  function renderMatrix(s) {
    const t = $("matrix");
    const cells = (s.results && s.results.matrix) || [];
    if (!cells.length) {
      t.replaceChildren(el("tr", {}, el("td", { class: "l empty" }, "No pairing has finished yet.")));
      return;
    }
    const attackers = [...new Set(cells.map((c) => c.attacker))];
    const defenders = [...new Set(cells.map((c) => c.defender))];
    const by = new Map(cells.map((c) => [`${c.attacker}\u0000${c.defender}`, c]));
    const rows = [el("tr", {}, el("th", { class: "l" }, "attacker ↓ / defender →"), defenders.map((d) => el("th", {}, d)))];
    for (const a of attackers) {
      rows.push(el("tr", {}, el("td", { class: "l" }, el("b", {}, a)), defenders.map((d) => {
        const c = by.get(`${a}\u0000${d}`);
        if (!c) return el("td", { class: "cell none" }, "–");
        return el("td", { class: "cell", style: { background: heat(c.win_rate) }, title: `${c.episodes} episodes, mean return ${c.mean_return.toFixed(2)}, mean length ${c.mean_length.toFixed(1)}` },
          NSG.pct(c.win_rate), el("small", {}, `${NSG.pct(c.win_rate_low)}–${NSG.pct(c.win_rate_high)} · ${c.episodes} ep.`));
      })));
    }
    t.replaceChildren(...rows);
  }

  function renderChart(s) {
    const box = $("chart");
    const hist = (s.results && s.results.history) || [];
    if (hist.length < 1) {
      box.replaceChildren(el("div", { class: "empty" }, "Ratings appear as matches finish."));
      return;
    }
    const names = [...new Set(hist.flatMap(([, m]) => Object.keys(m)))];
    const colors = palette(s);
    const values = hist.flatMap(([, m]) => Object.values(m));
    const lo = Math.min(...values), hi = Math.max(...values);
    const W = 640, H = 220, L = 44, R = 120, T = 10, B = 24;
    const x = (i) => L + (hist.length === 1 ? 0 : (i * (W - L - R)) / (hist.length - 1));
    const y = (v) => T + (hi === lo ? (H - T - B) / 2 : ((hi - v) * (H - T - B)) / (hi - lo));
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" },
      el("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
      el("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
      el("text", { x: L - 6, y: y(hi) + 4, "text-anchor": "end" }, hi.toFixed(1)),
      el("text", { x: L - 6, y: y(lo) + 4, "text-anchor": "end" }, lo.toFixed(1)),
      el("text", { x: W - R, y: H - 6, "text-anchor": "end" }, `after match ${hist[hist.length - 1][0]}`));
    names.forEach((n) => {
      const c = colors.get(n) || "#8d99b3";
      const pts = hist.map(([, m], i) => (n in m ? `${x(i)},${y(m[n])}` : null)).filter(Boolean);
      svg.append(el("polyline", { points: pts.join(" "), fill: "none", stroke: c, "stroke-width": 2 }));
      const last = hist[hist.length - 1][1][n];
      if (last !== undefined) svg.append(el("text", { x: W - R + 6, y: y(last) + 4, style: { fill: c } }, n));
    });
    box.replaceChildren(svg);
  }

  function renderMatches(s) {
    const vs = (m) => `${m.attacker} vs ${m.defender || "(global defender)"}`;
    $("running").replaceChildren(...(s.running.length ? s.running.map((m) => el("li", {},
      `#${m.index} ${vs(m)} on ${NSG.short(m.task)} (seed ${m.seed}) · ${m.episodes} episodes so far `,
      m.game ? el("a", { href: `/?game=${m.game}` }, "watch") : null)) : [el("li", { class: "empty" }, s.finished ? "none: the tournament is over" : "none right now")]));
    $("recent").replaceChildren(...(s.recent.length ? s.recent.map((m) => el("li", {},
      `#${m.index} ${vs(m)} on ${NSG.short(m.task)}: ${m.episodes} episodes in ${m.seconds.toFixed(2)} s`,
      m.forfeits.map(([who, why]) => el("div", { class: "forfeit" }, `${who} forfeited: ${why}`)))) : [el("li", { class: "empty" }, "none yet")]));
  }

  async function main() {
    NSG.nav("tournament");
    try {
      render(await NSG.api("/api/tournament"));
    } catch (e) {
      const b = $("banner");
      b.hidden = false;
      b.textContent = e.status === 404
        ? "No tournament runs in this process. Start one with: netsecgame tournament --config tasks/tournament.yaml --http 127.0.0.1:8080"
        : `The server did not answer: ${e.message}`;
      NSG.setConn("down", e.status === 404 ? "no tournament" : "server unreachable");
      return;
    }
    const src = new EventSource("/api/tournament/events");
    let finished = false;
    src.addEventListener("open", () => { if (!finished) NSG.setConn("live", "live"); });
    src.addEventListener("error", () => { if (!finished) NSG.setConn("down", "reconnecting…"); });
    src.addEventListener("update", (ev) => {
      const s = JSON.parse(ev.data);
      finished = s.finished;
      render(s);
    });
  }

  main();
})();
