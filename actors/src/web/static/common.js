// Helpers shared by the pages. Everything a game or a file says is put in the page as text
// (textContent), never as HTML: agent names and data ids are whatever agents chose.
"use strict";

const NSG = {};

/** Builds an element: el("li", {class: "x", "data-ip": ip}, "text", child, ...). */
NSG.el = function (tag, attrs, ...children) {
  const svg = NSG.SVG_TAGS.has(tag);
  const e = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "onclick") e.addEventListener("click", v);
    else if (k === "style" && typeof v === "object") {
      for (const [name, value] of Object.entries(v)) {
        if (name.startsWith("--")) e.style.setProperty(name, value);
        else e.style[name] = value;
      }
    }
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
};
NSG.SVG_TAGS = new Set(["svg", "g", "rect", "circle", "line", "path", "text", "title", "polyline", "defs", "marker", "tspan"]);

/** Fetches JSON; throws an Error carrying the server's message. */
NSG.api = async function (url, options) {
  const r = await fetch(url, options);
  let body = null;
  try { body = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) {
    const err = new Error((body && body.error) || `${r.status} ${r.statusText}`);
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
};

NSG.ROLE_COLORS = {
  Attacker: ["#ff5c6c", "#ff9f43", "#f368e0", "#ff7979", "#e056fd"],
  Defender: ["#4d9dff", "#48dbfb", "#7f8fff", "#00d2d3", "#6c5ce7"],
  Benign: ["#3ecf8e", "#badc58", "#7bed9f", "#55efc4", "#b8e994"],
};

/** A stable colour per agent: its role's palette, by order of arrival within the role. */
NSG.Colors = class {
  constructor() { this.byId = new Map(); this.count = {}; }
  of(agent) {
    const key = `${agent.id}`;
    if (!this.byId.has(key)) {
      const palette = NSG.ROLE_COLORS[agent.role] || ["#a0a8b8"];
      const n = this.count[agent.role] || 0;
      this.count[agent.role] = n + 1;
      this.byId.set(key, palette[n % palette.length]);
    }
    return this.byId.get(key);
  }
};

/** A label that is a file path reads as its file name (the whole path stays in tooltips). */
NSG.short = function (label) {
  return /^[^\s]*\/[^\s]*$/.test(label || "") ? label.split("/").pop() : label;
};

NSG.num = function (x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
};

NSG.signed = function (x) {
  if (x === null || x === undefined) return "";
  const t = Number.isInteger(x) ? String(x) : x.toFixed(2);
  return x > 0 ? `+${t}` : t;
};

NSG.pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(1)}%`);

NSG.time = function (ms) {
  const d = new Date(ms);
  return d.toTimeString().slice(0, 8);
};

/** Marks the nav link of the current page, and shows the tournament link when one runs. */
NSG.nav = async function (page) {
  for (const a of document.querySelectorAll(".top nav a")) {
    a.classList.toggle("active", a.dataset.page === page);
  }
  try {
    const r = await fetch("/api/tournament", { method: "GET" });
    const link = document.getElementById("nav-tournament");
    if (link) link.hidden = !r.ok && page !== "tournament";
  } catch (_) { /* the server is gone: the pages say so elsewhere */ }
};

/** The connection badge in the top bar. */
NSG.setConn = function (state, text) {
  const c = document.getElementById("conn");
  if (!c) return;
  c.className = `conn ${state}`;
  c.textContent = text;
};

/** The view (`known_hosts`, ...) of an agent as sets, for quick lookups. */
NSG.viewSets = function (view) {
  const v = view || {};
  return {
    networks: new Set(v.networks || []),
    known: new Set(v.known_hosts || []),
    controlled: new Set(v.controlled_hosts || []),
    services: v.services || {},
    data: v.data || {},
    blocks: v.blocks || {},
  };
};
