// The network drawn as SVG: networks are boxes holding their hosts, routers (and other hosts
// with feet in several networks) sit in a band between the private and the public networks,
// joined to each network they belong to. The layout is deterministic (the same world is
// always drawn the same way) and linear in the number of hosts, so a generated world of
// thousands of hosts draws as quickly as the tiny one (past 40 hosts a box shows dots).
//
// An agent's view colours it: hosts it knows are outlined, hosts it controls are filled, in
// the colour of the agent in focus; every agent's knowledge also shows as small markers.
"use strict";

NSG.Graph = class {
  constructor(container, options = {}) {
    const el = NSG.el;
    this.container = container;
    this.onSelect = options.onSelect || (() => {});
    this.svg = el("svg", { xmlns: "http://www.w3.org/2000/svg", role: "img", "aria-label": "network graph" });
    this.root = el("g", { class: "root" });
    this.linkLayer = el("g", { class: "links" });
    this.netLayer = el("g", { class: "nets" });
    this.hostLayer = el("g", { class: "hosts" });
    this.flashLayer = el("g", { class: "flashes" });
    this.root.append(this.linkLayer, this.netLayer, this.hostLayer, this.flashLayer);
    this.svg.append(this.root);
    const tools = el("div", { class: "graph-tools" },
      el("button", { title: "Fit to the window", onclick: () => this.fit() }, "Fit"));
    this.legend = el("div", { class: "legend" },
      el("span", {}, el("i", { class: "unknown" }), "unknown"),
      el("span", {}, el("i", { class: "known" }), "known"),
      el("span", {}, el("i", { class: "controlled" }), "controlled"),
      el("span", {}, "● data found"));
    container.append(this.svg, tools, this.legend);
    this.view = { x: 0, y: 0, k: 1 };
    this.size = { w: 1, h: 1 };
    this.hostEls = new Map();
    this.netEls = new Map();
    this.selected = null;
    this.panZoom();
    window.addEventListener("resize", () => this.fit());
  }

  /** Draws a graph (`/api/games/{id}` `graph`, or a replay's). */
  setGraph(g) {
    this.g = g;
    const key = JSON.stringify([g.scenario, g.hosts.length, g.networks.map((n) => n.cidr)]);
    const same = key === this.key;
    this.key = key;
    this.layout(g);
    this.render(g);
    if (!same) this.fit();
    if (this.lastViews) this.setViews(...this.lastViews);
  }

  layout(g) {
    const isBridge = (h) => h.kind === "router" || (h.networks || []).length > 1;
    const boxes = g.networks.map((n) => ({ net: n, hosts: [] }));
    const bridges = [];
    const orphans = [];
    for (const h of g.hosts) {
      if (isBridge(h)) bridges.push(h);
      else if ((h.networks || []).length === 1 && boxes[h.networks[0]]) boxes[h.networks[0]].hosts.push(h);
      else orphans.push(h);
    }
    if (orphans.length) boxes.push({ net: { id: "other", cidr: "not in a network", private: false, hosts: [] }, hosts: orphans });
    const PAD = 14, HEAD = 36, GAP = 44;
    for (const b of boxes) {
      const n = b.hosts.length;
      b.dense = n > 40;
      b.cw = b.dense ? 20 : 122;
      b.ch = b.dense ? 20 : 62;
      b.cols = Math.max(1, Math.min(n, Math.ceil(Math.sqrt(n * (b.dense ? 3 : 1.7)))));
      b.rows = Math.max(1, Math.ceil(n / b.cols));
      b.w = Math.max(220, b.cols * b.cw + 2 * PAD);
      b.h = HEAD + (n ? b.rows * b.ch : 24) + PAD;
    }
    const area = boxes.reduce((s, b) => s + (b.w + GAP) * (b.h + GAP), 0);
    const maxW = Math.max(900, Math.sqrt(area) * 1.7);
    const shelf = (list, y0) => {
      const rows = [];
      let row = { items: [], w: 0, h: 0 };
      for (const b of list) {
        if (row.items.length && row.w + b.w > maxW) { rows.push(row); row = { items: [], w: 0, h: 0 }; }
        row.items.push(b);
        row.w += b.w + GAP;
        row.h = Math.max(row.h, b.h);
      }
      if (row.items.length) rows.push(row);
      let y = y0;
      for (const r of rows) {
        r.y = y;
        y += r.h + GAP;
      }
      return { rows, bottom: rows.length ? y - GAP : y0 };
    };
    const priv = boxes.filter((b) => b.net.private);
    const pub = boxes.filter((b) => !b.net.private);
    const BW = 116, BH = 42, MIN = BW + 24;
    const top = shelf(priv, 0);
    // The band of routers: under the private networks, above the public ones.
    const by = priv.length ? top.bottom + GAP : 0;
    const bottom = shelf(pub, by + (bridges.length ? BH + GAP : 0));
    const allRows = [...top.rows, ...bottom.rows];
    const width = Math.max(...allRows.map((r) => r.w - GAP), bridges.length * 140, 400);
    for (const r of allRows) {
      let x = (width - (r.w - GAP)) / 2;
      for (const b of r.items) {
        b.x = x;
        b.y = r.y + (r.h - b.h) / 2;
        x += b.w + GAP;
      }
    }
    const pos = new Map();
    for (const b of boxes) {
      b.hosts.forEach((h, i) => {
        const col = i % b.cols, row = Math.floor(i / b.cols);
        const x = b.x + PAD + col * b.cw, y = b.y + HEAD + row * b.ch;
        pos.set(h.id, b.dense
          ? { x, y, w: 14, h: 14, dense: true }
          : { x, y, w: b.cw - 14, h: b.ch - 14 });
      });
    }
    const boxOf = new Map(boxes.map((b) => [b.net.id, b]));
    // Bridges: at the mean of their networks' centres, spread apart left to right.
    const placed = bridges.map((h) => {
      const nets = (h.networks || []).map((k) => boxOf.get(k)).filter(Boolean);
      const cx = nets.length ? nets.reduce((s, b) => s + b.x + b.w / 2, 0) / nets.length : width / 2;
      return { h, cx };
    }).sort((a, b) => a.cx - b.cx);
    for (let i = 1; i < placed.length; i++) placed[i].cx = Math.max(placed[i].cx, placed[i - 1].cx + MIN);
    const overflow = placed.length ? placed[placed.length - 1].cx + BW / 2 - width : 0;
    if (overflow > 0) for (const p of placed) p.cx -= Math.min(overflow, placed[0].cx - BW / 2);
    for (const p of placed) pos.set(p.h.id, { x: p.cx - BW / 2, y: by, w: BW, h: BH, bridge: true });
    this.boxes = boxes;
    this.pos = pos;
    this.bounds = {
      w: width,
      h: Math.max(bottom.bottom, by + (bridges.length ? BH : 0), top.bottom) + 10,
    };
  }

  render(g) {
    const el = NSG.el;
    this.linkLayer.replaceChildren();
    this.netLayer.replaceChildren();
    this.hostLayer.replaceChildren();
    this.flashLayer.replaceChildren();
    this.hostEls.clear();
    this.netEls.clear();
    for (const b of this.boxes) {
      const grp = el("g", { class: "net", "data-cidr": b.net.cidr },
        el("rect", { class: `net-box${b.net.private ? "" : " public"}`, x: b.x, y: b.y, width: b.w, height: b.h, rx: 12 }),
        el("text", { class: "net-label", x: b.x + 12, y: b.y + 20 }, b.net.cidr),
        el("text", { class: "net-sub", x: b.x + b.w - 12, y: b.y + 20, "text-anchor": "end" },
          `${b.net.private ? "private" : "public"} · ${b.hosts.length} host${b.hosts.length === 1 ? "" : "s"}`));
      this.netLayer.append(grp);
      this.netEls.set(b.net.cidr, grp);
    }
    const boxOf = new Map(this.boxes.map((b) => [b.net.id, b]));
    for (const h of g.hosts) {
      const p = this.pos.get(h.id);
      if (!p) continue;
      if (p.bridge) {
        for (const k of h.networks || []) {
          const b = boxOf.get(k);
          if (!b) continue;
          const cx = p.x + p.w / 2, cy = p.y + p.h / 2;
          const tx = Math.min(Math.max(cx, b.x + 24), b.x + b.w - 24);
          const ty = b.y + b.h < p.y ? b.y + b.h : b.y;
          this.linkLayer.append(el("path", { class: "link", d: `M${cx},${cy} L${tx},${ty}` }));
        }
      }
      const classes = ["host", h.kind, p.dense ? "dot" : "", h.start ? "start" : "", p.bridge ? "bridge" : ""].filter(Boolean).join(" ");
      const node = el("g", { class: classes, "data-host": h.id, "data-name": h.name, "data-ip": h.ips[0] || "", transform: `translate(${p.x},${p.y})` },
        el("title", {}, `${h.name} (${h.ips.join(", ")})${h.services.length ? ` · ${h.services.length} services` : ""}${h.data.length ? ` · ${h.data.length} data` : ""}`),
        el("rect", { class: "body", width: p.w, height: p.h, rx: p.dense ? 3 : h.kind === "router" ? 18 : 7 }));
      if (!p.dense) {
        node.append(
          el("text", { class: "name", x: 9, y: 17 }, h.name.length > 14 ? `${h.name.slice(0, 13)}…` : h.name),
          el("text", { class: "ip", x: 9, y: 31 }, h.ips.length > 1 ? `${h.ips[0]} +${h.ips.length - 1}` : (h.ips[0] || "")),
        );
        if (h.services.length || h.data.length) {
          node.append(el("text", { class: "badge", x: p.w - 7, y: p.h - 6, "text-anchor": "end" },
            `${h.services.length ? `${h.services.length}s` : ""}${h.data.length ? ` ${h.data.length}d` : ""}`));
        }
      }
      node.append(el("g", { class: "markers" }));
      node.addEventListener("click", (ev) => { ev.stopPropagation(); this.select(h.id); });
      this.hostLayer.append(node);
      this.hostEls.set(h.id, node);
    }
  }

  /** Colours the graph with `agents` (with their `view`s); `focus` is the agent in focus. */
  setViews(agents, focus, colors) {
    this.lastViews = [agents, focus, colors];
    if (!this.g) return;
    const el = NSG.el;
    const sets = agents.map((a) => ({ a, s: NSG.viewSets(a.view), c: colors.of(a) }));
    const f = sets.find((x) => x.a.id === focus) || sets[0];
    this.svg.style.setProperty("--focus", f ? f.c : "#ff5c6c");
    this.container.style.setProperty("--focus", f ? f.c : "#ff5c6c");
    for (const [cidr, grp] of this.netEls) {
      grp.querySelector("rect").classList.toggle("known", !!f && f.s.networks.has(cidr));
    }
    for (const h of this.g.hosts) {
      const node = this.hostEls.get(h.id);
      if (!node) continue;
      const has = (set) => h.ips.some((ip) => set.has(ip));
      const controlled = !!f && has(f.s.controlled);
      const known = !!f && (controlled || has(f.s.known));
      node.classList.toggle("controlled", controlled);
      node.classList.toggle("known", known && !controlled);
      const p = this.pos.get(h.id);
      const marks = node.querySelector(".markers");
      marks.replaceChildren();
      if (p.dense) continue;
      let i = 0;
      for (const x of sets) {
        const c = has(x.s.controlled), k = c || has(x.s.known);
        if (!k) continue;
        marks.append(el("circle", {
          class: "marker", cx: 12 + i * 12, cy: p.h - 8, r: 4.5,
          fill: c ? x.c : "transparent", stroke: x.c, "stroke-width": c ? 1 : 2,
        }, el("title", {}, `${x.a.name}: ${c ? "controls" : "knows"} this host`)));
        i++;
      }
      if (f && h.ips.some((ip) => (f.s.data[ip] || []).length)) {
        marks.append(el("circle", { class: "datamark", cx: p.w - 9, cy: 10, r: 4 },
          el("title", {}, `${f.a.name} found data here`)));
      }
      if (f && h.ips.some((ip) => (f.s.blocks[ip] || []).length)) {
        marks.append(el("rect", { class: "blockmark", x: 3, y: 3, width: p.w - 6, height: p.h - 6, rx: 5 }));
      }
    }
  }

  select(id) {
    if (this.selected !== null && this.hostEls.get(this.selected)) this.hostEls.get(this.selected).classList.remove("selected");
    this.selected = id;
    const node = this.hostEls.get(id);
    if (node) node.classList.add("selected");
    const host = this.g && this.g.hosts.find((h) => h.id === id);
    this.onSelect(host || null);
  }

  centreOf(ipOrCidr) {
    if (!this.g || !ipOrCidr) return null;
    const hid = this.g.ips[ipOrCidr];
    if (hid !== undefined && this.pos.get(hid)) {
      const p = this.pos.get(hid);
      return { x: p.x + p.w / 2, y: p.y + p.h / 2 };
    }
    const b = this.boxes.find((x) => x.net.cidr === ipOrCidr);
    return b ? { x: b.x + b.w / 2, y: b.y + 18 } : null;
  }

  /** Shows an action as an arrow from its source to its target, fading out. */
  flash(action, color, detected) {
    if (!action || !action.params) return;
    const p = action.params;
    const from = this.centreOf(p.source_host);
    const to = this.centreOf(p.target_network || p.target_host);
    if (!from || !to) return;
    const el = NSG.el;
    while (this.flashLayer.childNodes.length > 16) this.flashLayer.firstChild.remove();
    let shape;
    if (Math.hypot(from.x - to.x, from.y - to.y) < 2) {
      shape = el("circle", { class: `flash fading${detected ? " detected" : ""}`, cx: from.x, cy: from.y, r: 34, stroke: color });
    } else {
      const mx = (from.x + to.x) / 2, my = (from.y + to.y) / 2 - Math.min(80, Math.abs(from.x - to.x) / 4 + 20);
      shape = el("g", { class: "fading" },
        el("path", { class: `flash${detected ? " detected" : ""}`, d: `M${from.x},${from.y} Q${mx},${my} ${to.x},${to.y}`, stroke: color }),
        el("circle", { class: "flash-dot", cx: to.x, cy: to.y, r: 6, fill: detected ? "#ff4757" : color }));
    }
    this.flashLayer.append(shape);
    setTimeout(() => shape.remove(), 1700);
  }

  fit() {
    const r = this.container.getBoundingClientRect();
    this.size = { w: Math.max(1, r.width), h: Math.max(1, r.height) };
    this.svg.setAttribute("viewBox", `0 0 ${this.size.w} ${this.size.h}`);
    if (!this.bounds) return;
    const m = 30;
    const k = Math.min((this.size.w - 2 * m) / this.bounds.w, (this.size.h - 2 * m - 20) / this.bounds.h, 1.6);
    this.view = { k, x: (this.size.w - this.bounds.w * k) / 2, y: m + Math.max(0, (this.size.h - 2 * m - 20 - this.bounds.h * k) / 2) };
    this.apply();
  }

  apply() {
    this.root.setAttribute("transform", `translate(${this.view.x},${this.view.y}) scale(${this.view.k})`);
  }

  panZoom() {
    let drag = null;
    this.svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = this.svg.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      const f = Math.exp(-e.deltaY * 0.0015);
      const k = Math.min(8, Math.max(0.05, this.view.k * f));
      this.view.x = px - ((px - this.view.x) * k) / this.view.k;
      this.view.y = py - ((py - this.view.y) * k) / this.view.k;
      this.view.k = k;
      this.apply();
    }, { passive: false });
    this.svg.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y, moved: false };
      this.svg.classList.add("dragging");
    });
    window.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      this.view.x = drag.vx + dx;
      this.view.y = drag.vy + dy;
      this.apply();
    });
    window.addEventListener("pointerup", () => {
      if (drag) this.svg.classList.remove("dragging");
      drag = null;
    });
    this.svg.addEventListener("click", () => { if (!drag) this.select(null); });
  }
};

/** The host panel: what the world has on a host, and what each agent knows of it. */
NSG.hostPanel = function (panel, host, agents, colors, onClose) {
  const el = NSG.el;
  if (!host) { panel.hidden = true; return; }
  panel.hidden = false;
  const svc = (s) => `${s.name} ${s.version}${s.is_local ? " (local)" : ""}`;
  const knowledge = [];
  for (const a of agents) {
    const s = NSG.viewSets(a.view);
    const ips = host.ips.filter((ip) => s.known.has(ip) || s.controlled.has(ip));
    if (!ips.length) continue;
    const controlled = host.ips.some((ip) => s.controlled.has(ip));
    const services = host.ips.flatMap((ip) => s.services[ip] || []);
    const data = host.ips.flatMap((ip) => s.data[ip] || []);
    const blocks = host.ips.flatMap((ip) => (s.blocks[ip] || []).map((b) => `${b}`));
    knowledge.push(el("li", { style: { color: colors.of(a) } },
      el("b", {}, a.name), controlled ? " controls it" : " knows it",
      services.length ? el("div", { class: "muted" }, `services: ${services.map(svc).join(", ")}`) : null,
      data.length ? el("div", { class: "muted" }, `data: ${data.map((d) => `${d.owner}/${d.id}`).join(", ")}`) : null,
      blocks.length ? el("div", { class: "muted" }, `blocks: ${blocks.join(", ")}`) : null));
  }
  panel.replaceChildren(
    el("h3", {}, host.name, el("button", { class: "x", title: "Close", onclick: onClose }, "×")),
    el("div", { class: "muted" }, `${host.kind}${host.start ? " · start candidate" : ""}`),
    el("div", { class: "mono" }, host.ips.join(", ")),
    el("h4", {}, `Services (${host.services.length})`),
    host.services.length ? el("ul", {}, host.services.map((s) => el("li", {}, svc(s)))) : el("div", { class: "empty" }, "none"),
    el("h4", {}, `Data (${host.data.length})`),
    host.data.length ? el("ul", {}, host.data.map((d) => el("li", {}, `${d.owner}/${d.id}`, d.size ? el("span", { class: "muted" }, ` ${d.size} B`) : null))) : el("div", { class: "empty" }, "none"),
    el("h4", {}, "Agents"),
    knowledge.length ? el("ul", {}, knowledge) : el("div", { class: "empty" }, "no agent knows this host"),
  );
};
