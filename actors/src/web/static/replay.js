// The replay page: a trajectory file is uploaded to `/api/replay`, which answers with its
// episodes (states without data contents; `null` for a state equal to the one before), the
// graph of its world and `netsecgame analyze`'s summary. Stepping happens here, in the page.
"use strict";

(function () {
  const el = NSG.el;
  const $ = (id) => document.getElementById(id);
  const colors = new NSG.Colors();
  const R = { data: null, episode: null, states: [], step: 0, timer: null, detected: null };
  let graph;

  async function upload(file) {
    stop();
    const status = $("upload-status");
    $("banner").hidden = true;
    status.textContent = `uploading ${file.name} (${NSG.num(file.size)} bytes)…`;
    NSG.setConn("", "reading…");
    try {
      const data = await NSG.api(`/api/replay?name=${encodeURIComponent(file.name)}`, {
        method: "POST", body: file, headers: { "Content-Type": "application/x-ndjson" },
      });
      status.textContent = `${file.name}: ${data.records} episode${data.records === 1 ? "" : "s"}` +
        `${data.bad_lines ? `, ${data.bad_lines} bad line${data.bad_lines === 1 ? "" : "s"}` : ""}`;
      NSG.setConn("live", file.name);
      show(data);
    } catch (e) {
      status.textContent = "";
      NSG.setConn("down", "not read");
      const b = $("banner");
      b.hidden = false;
      b.className = "banner bad";
      b.replaceChildren(el("b", {}, `${file.name}: ${e.message}`),
        ...((e.body && e.body.problems) || []).slice(0, 10).map((p) => el("div", { class: "mono" }, `line ${p.line}: ${p.message}`)));
    }
  }

  function show(data) {
    R.data = data;
    R.detected = data.graph;
    fillScenarios(data.graph);
    graph.setGraph(data.graph);
    if (data.problems.length) {
      const b = $("banner");
      b.hidden = false;
      b.className = "banner";
      b.replaceChildren(el("b", {}, `${data.bad_lines} line${data.bad_lines === 1 ? "" : "s"} could not be read and ${data.bad_lines === 1 ? "was" : "were"} skipped:`),
        ...data.problems.slice(0, 5).map((p) => el("div", { class: "mono" }, `line ${p.line}: ${p.message}`)));
    }
    const list = $("episodes");
    list.replaceChildren(...data.episodes.map((e, i) => {
      const role = e.agent_role || "Attacker";
      const c = (NSG.ROLE_COLORS[role] || ["#aaa"])[0];
      return el("li", { "data-episode": i, style: { "--c": c }, onclick: () => select(i) },
        el("b", {}, `${i + 1}. ${e.agent_name || "agent"}`), " ", el("span", { class: "muted" }, role),
        el("div", { class: "sub" }, `${e.end_reason || "no end"} · ${e.steps} steps · return ${NSG.signed(e.return)}${e.omitted ? " · not loaded" : ""}${e.truncated ? " · truncated" : ""}`));
    }));
    renderAnalysis(data.analysis);
    if (data.episodes.length) select(0);
  }

  function fillScenarios(detected) {
    const sel = $("scenario");
    const opts = [el("option", { value: "" }, detected.derived ? "drawn from the file" : `${detected.scenario} (detected)`)];
    sel.replaceChildren(...opts);
    NSG.api("/api/scenarios").then((r) => {
      for (const n of r.scenarios) if (n !== detected.scenario) sel.append(el("option", { value: n }, n));
    }).catch(() => {});
  }

  function select(i) {
    stop();
    const e = R.data.episodes[i];
    R.episode = e;
    for (const li of document.querySelectorAll("#episodes li")) li.classList.toggle("active", Number(li.dataset.episode) === i);
    const log = $("log");
    log.replaceChildren();
    if (e.omitted) {
      R.states = [];
      $("slider").max = 0;
      $("pos").textContent = "–";
      $("agent-cards").replaceChildren(el("div", { class: "empty" },
        "This episode's steps were not sent: the file holds more states than a replay shows at once. " +
        "Open a smaller part of the file, or analyse it whole with netsecgame analyze."));
      graph.setViews([], null, colors);
      return;
    }
    // Resolve "same as before" states.
    R.states = [];
    for (const s of e.states) R.states.push(s === null ? R.states[R.states.length - 1] : s);
    e.actions.forEach((a, k) => {
      log.append(el("li", { class: "kind-step future", "data-step": k + 1, onclick: () => go(k + 1) },
        el("span", { class: "when" }, `${k + 1}`),
        el("span", {}, el("span", { class: "what" }, a.text)),
        el("span", { class: `res ${e.rewards[k] > 0 ? "pos" : ""}` }, NSG.signed(e.rewards[k]))));
    });
    $("slider").max = e.actions.length;
    $("title").replaceChildren(el("h1", {}, `${e.agent_name || "agent"} (${e.agent_role || "?"})`),
      el("div", { class: "goal" }, `${R.data.name} · line ${e.line} · ${e.end_reason || "no end reason"} after ${e.steps} steps, return ${NSG.signed(e.return)}`));
    go(0);
  }

  function go(step, animate) {
    const e = R.episode;
    if (!e || e.omitted) return;
    step = Math.max(0, Math.min(step, e.actions.length));
    R.step = step;
    $("slider").value = step;
    $("pos").textContent = `step ${step}/${e.actions.length}`;
    const agent = { id: 0, name: e.agent_name || "agent", role: e.agent_role || "Attacker", view: R.states[step] };
    graph.setViews([agent], 0, colors);
    if (animate && step > 0) graph.flash(e.actions[step - 1], colors.of(agent), false);
    for (const li of document.querySelectorAll("#log li")) {
      const k = Number(li.dataset.step);
      li.classList.toggle("current", k === step);
      li.classList.toggle("future", k > step);
    }
    const cur = document.querySelector(`#log li[data-step="${step}"]`);
    if (cur) cur.scrollIntoView({ block: "nearest" });
    renderCard(agent, step);
  }

  function renderCard(a, step) {
    const v = a.view;
    const c = colors.of(a);
    const ret = R.episode.rewards.slice(0, step).reduce((s, x) => s + x, 0);
    const data = Object.entries(v.data).flatMap(([ip, items]) => items.filter((d) => d.id !== "logfile").map((d) => `${d.owner}/${d.id} @ ${ip}`));
    const blocks = Object.entries(v.blocks).flatMap(([ip, bs]) => bs.map((b) => `${b} at ${ip}`));
    $("agent-cards").replaceChildren(el("div", { class: "agent focus", style: { "--c": c }, "data-agent": a.id },
      el("header", {}, el("span", { class: "role" }, a.role), el("b", {}, a.name),
        el("span", { class: `status ${step === R.episode.steps ? R.episode.end_reason : ""}` }, step === R.episode.steps ? (R.episode.end_reason || "no end") : "playing")),
      el("div", { class: "nums" },
        el("span", {}, "step ", el("b", {}, step)), el("span", {}, "return ", el("b", {}, NSG.signed(ret) || "0")),
        el("span", {}, "networks ", el("b", {}, v.networks.length)), el("span", {}, "hosts ", el("b", {}, v.known_hosts.length))),
      el("div", { class: "view" },
        el("div", {}, el("span", { class: "k" }, "controls "),
          el("span", { class: "chips" }, v.controlled_hosts.map((ip) => el("span", { class: "chip ctl controlled-host", "data-ip": ip }, ip)))),
        data.length ? el("div", {}, el("span", { class: "k" }, "data found "), el("span", { class: "chips" }, data.map((d) => el("span", { class: "chip data" }, d)))) : null,
        blocks.length ? el("div", {}, el("span", { class: "k" }, "blocks "), el("span", { class: "chips" }, blocks.map((d) => el("span", { class: "chip block" }, d)))) : null)));
  }

  function renderAnalysis(a) {
    const box = $("analysis");
    box.hidden = false;
    if (a.error) {
      $("analysis-text").textContent = `The analysis failed: ${a.error}`;
      $("charts").replaceChildren();
      return;
    }
    $("analysis-text").textContent = a.text;
    const imgs = [];
    for (const [name, svg] of Object.entries(a.charts || {})) {
      if (!svg) continue;
      // As an image, not inline markup: the chart cannot run anything in the page.
      const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      imgs.push(el("div", {}, el("h2", {}, name.replaceAll("_", " ")), el("img", { src: url, alt: name })));
    }
    $("charts").replaceChildren(...imgs);
  }

  function stop() {
    if (R.timer) clearInterval(R.timer);
    R.timer = null;
    $("play").textContent = "play";
  }

  function play() {
    if (R.timer) return stop();
    if (!R.episode || R.episode.omitted) return;
    if (R.step >= R.episode.actions.length) go(0);
    $("play").textContent = "pause";
    R.timer = setInterval(() => {
      if (R.step >= R.episode.actions.length) return stop();
      go(R.step + 1, true);
    }, 1000 / Number($("speed").value));
  }

  function main() {
    NSG.nav("replay");
    graph = new NSG.Graph($("graph"), {
      onSelect: (host) => {
        const agents = R.episode && !R.episode.omitted
          ? [{ id: 0, name: R.episode.agent_name || "agent", role: R.episode.agent_role || "Attacker", view: R.states[R.step] }] : [];
        NSG.hostPanel($("host-panel"), host, agents, colors, () => { $("host-panel").hidden = true; graph.select(null); });
      },
    });
    $("file").addEventListener("change", (ev) => { if (ev.target.files[0]) upload(ev.target.files[0]); });
    const drop = $("drop");
    drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (ev) => {
      ev.preventDefault();
      drop.classList.remove("over");
      if (ev.dataTransfer.files[0]) upload(ev.dataTransfer.files[0]);
    });
    $("first").onclick = () => { stop(); go(0); };
    $("prev").onclick = () => { stop(); go(R.step - 1); };
    $("next").onclick = () => { stop(); go(R.step + 1, true); };
    $("last").onclick = () => { stop(); go(Infinity); };
    $("play").onclick = play;
    $("speed").onchange = () => { if (R.timer) { stop(); play(); } };
    $("slider").oninput = (ev) => { stop(); go(Number(ev.target.value)); };
    $("scenario").onchange = async (ev) => {
      const name = ev.target.value;
      graph.setGraph(name ? await NSG.api(`/api/scenarios/${encodeURIComponent(name)}`) : R.detected);
      if (R.episode) go(R.step);
    };
    document.addEventListener("keydown", (ev) => {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
      if (ev.key === "ArrowRight") { stop(); go(R.step + 1, true); }
      else if (ev.key === "ArrowLeft") { stop(); go(R.step - 1); }
      else if (ev.key === " ") { ev.preventDefault(); play(); }
      else if (ev.key === "Home") { stop(); go(0); }
      else if (ev.key === "End") { stop(); go(Infinity); }
    });
  }

  main();
})();
