// SparsityPlot view: |value| sorted descending on a log axis, one line per series (float32
// buffers), hover readout of rank and value (mirrored to the `hover` trait and data-*).

import {
  floatsOf, dom, onChanges, hiDpiContext, onWidthChange, themeColor, onThemeChange,
  exportButton, describeCanvas, a11yScope } from "./common.js";

/**
 * The traits this view reads, synced from SparsityPlot (sparsity_curve.py).
 * @typedef {ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {object[]} series  per curve: {offset, count, label, color, dashed, status, …}
 * @property {DataView} data  float32 ranks then values of every series, back to back
 * @property {boolean} log_x  log rank axis
 * @property {number} plot_width  CSS px
 * @property {number} plot_height  CSS px
 * @property {string} message  what the plot says while it has no curve
 * @property {object} hover  the point under the pointer (the view sets it)
 */
/** @typedef {import("./common.js").ExportModel} ExportModel */

function fmtVal(v) {
  return v === 0 ? "0" : v.toExponential(2);
}

// Fill `text` in lines at most `width` px wide (a long state message must not run off the canvas).
function wrapText(ctx, text, x, y, width, lineHeight) {
  let line = "";
  for (const word of text.split(" ")) {
    const next = line ? line + " " + word : word;
    if (line && ctx.measureText(next).width > width) {
      ctx.fillText(line, x, y);
      y += lineHeight;
      line = word;
    } else line = next;
  }
  if (line) ctx.fillText(line, x, y);
}

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  const root = dom("div", "prsg-widget prsg-plot prsg-sparsity");
  const canvas = dom("canvas");
  const legend = dom("div", "prsg-legend");
  const readout = dom("div", "prsg-readout");
  const tools = dom("div", "prsg-tools");
  tools.append(exportButton(root, model, "sparsity"));
  root.append(canvas, readout, legend, tools);
  el.appendChild(root);
  a11yScope(el);
  let fitWidth = 0; // the container's width (0: not measured yet)

  const M = { l: 62, r: 12, t: 10, b: 34 };
  let geom = null; // projection of the last draw, for hover
  let points = []; // per series: {label, color, xs, ys, ranks, values}
  let lastHoverSent = 0;

  function decode() {
    const all = floatsOf(model.get("data"));
    points = model.get("series").map((s) => {
      const ranks = all.subarray(s.offset, s.offset + s.count);
      const values = all.subarray(s.offset + s.count, s.offset + 2 * s.count);
      return { ...s, ranks, values };
    });
  }

  function draw(hoverPt) {
    // as wide as the container allows (at most plot_width), at devicePixelRatio
    const W = Math.max(240, fitWidth > 0 ? Math.min(model.get("plot_width"), fitWidth) : model.get("plot_width"));
    const H = model.get("plot_height");
    const ctx = hiDpiContext(canvas, W, H);
    root.dataset.width = String(W);
    const logX = model.get("log_x");
    let maxRank = 1, vmax = 0, vmin = Infinity;
    for (const s of points) {
      for (let i = 0; i < s.count; i++) {
        const v = s.values[i];
        maxRank = Math.max(maxRank, s.ranks[i]);
        if (v > 0) { vmax = Math.max(vmax, v); vmin = Math.min(vmin, v); }
      }
    }
    root.dataset.series = points.map((s) => s.label).join("|");
    root.dataset.seriesCount = String(points.length);
    root.dataset.status = points.map((s) => s.status).join("|");
    const fg = themeColor(root, "--jp-ui-font-color1", getComputedStyle(root).color || "#333");
    root.dataset.textColor = fg;
    ctx.font = "11px sans-serif";
    ctx.fillStyle = fg;
    if (!(vmax > 0)) {
      // the solve's state in words from Python (never "waiting" when nothing runs)
      const msg = points.length ? (model.get("message") || "waiting for the first components…") : "no explanation";
      root.dataset.message = msg;
      wrapText(ctx, msg, M.l + 10, H / 2 - 8, W - M.l - M.r - 20, 14);
      geom = null;
      drawLegend();
      return;
    }
    // log10 value axis spanning whole decades
    const ylo = Math.floor(Math.log10(Math.max(vmin, vmax * 1e-12)));
    const yhi = Math.ceil(Math.log10(vmax));
    const yTop = yhi === ylo ? yhi + 1 : yhi;
    const pw = W - M.l - M.r, ph = H - M.t - M.b;
    const xOf = logX
      ? (r) => M.l + (Math.log10(r) / Math.max(1e-9, Math.log10(maxRank))) * pw
      : (r) => M.l + ((r - 1) / Math.max(1, maxRank - 1)) * pw;
    const yOf = (v) => {
      const lv = v > 0 ? Math.log10(v) : ylo;
      return M.t + (1 - (Math.max(lv, ylo) - ylo) / (yTop - ylo)) * ph;
    };
    geom = { xOf, yOf };
    // canvas position of the first series' largest value: lets tests hover without pixel reading
    const s0 = points.find((s) => s.count > 0);
    if (s0) root.dataset.probe = `${xOf(s0.ranks[0]).toFixed(1)},${yOf(s0.values[0]).toFixed(1)}`;
    // axes and decade grid
    ctx.strokeStyle = "rgba(128,128,128,0.25)";
    ctx.lineWidth = 1;
    const step = Math.max(1, Math.ceil((yTop - ylo) / 8));
    for (let d = ylo; d <= yTop; d += step) {
      const y = yOf(Math.pow(10, d));
      ctx.beginPath();
      ctx.moveTo(M.l, y);
      ctx.lineTo(W - M.r, y);
      ctx.stroke();
      ctx.fillText(`1e${d}`, 20, y + 4);
    }
    ctx.strokeStyle = "rgba(128,128,128,0.8)";
    ctx.beginPath();
    ctx.moveTo(M.l, M.t);
    ctx.lineTo(M.l, H - M.b);
    ctx.lineTo(W - M.r, H - M.b);
    ctx.stroke();
    const xticks = logX
      ? Array.from({ length: Math.floor(Math.log10(maxRank)) + 1 }, (_, i) => Math.pow(10, i))
      : [1, Math.round(maxRank / 4), Math.round(maxRank / 2), Math.round((3 * maxRank) / 4), maxRank];
    for (const t of xticks) {
      const x = xOf(Math.max(1, t));
      const label = Math.round(t).toLocaleString("en-US");
      const tw = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(x - tw / 2, W - tw - 2), H - M.b + 14);
    }
    ctx.fillText("rank (elements sorted by |value|)", M.l + pw / 2 - 80, H - 4);
    ctx.save();
    ctx.translate(11, M.t + ph / 2 + 30);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("|value|", 0, 0);
    ctx.restore();
    // curves
    for (const s of points) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dashed ? [6, 4] : []);
      ctx.globalAlpha = s.status === "complete" ? 1 : 0.55;
      ctx.beginPath();
      for (let i = 0; i < s.count; i++) {
        const x = xOf(s.ranks[i]), y = yOf(s.values[i]);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.stroke();
      if (s.zeros && s.count) {  // where the exact zeros begin: a labelled end, not a cliff
        const x = xOf(s.ranks[s.count - 1]), y = yOf(s.values[s.count - 1]);
        ctx.setLineDash([]);
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.arc(x, y, 3, 0, 2 * Math.PI);
        ctx.fill();
        ctx.fillText("then 0", Math.min(x + 4, W - M.r - 36), y - 5);
      }
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    // where each complete curve holds 90% of its L1 mass (the health's figure): a ringed dot
    for (const s of points) {
      if (!(s.mass_rank > 0) || !(s.mass_value > 0)) continue;
      const x = xOf(s.mass_rank), y = yOf(s.mass_value);
      ctx.fillStyle = s.color;
      ctx.strokeStyle = themeColor(root, "--jp-layout-color0", "#fff");
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(x, y, 4.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    root.dataset.massRanks = points.map((s) => String(s.mass_rank || 0)).join("|");
    root.dataset.message = "";
    if (hoverPt) {
      ctx.fillStyle = hoverPt.color;
      ctx.beginPath();
      ctx.arc(xOf(hoverPt.rank), yOf(hoverPt.value), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    drawLegend();
    describeCanvas(canvas, "sparsity plot: " + points.map((s) => `${s.label}, ${s.elements} elements, largest |value| ` +
      (s.count ? fmtVal(s.values[0]) : "none") + (s.zeros ? `, ${s.zeros} exactly 0` : "")).join("; "));
  }

  function drawLegend() {
    legend.textContent = "";
    for (const s of points) {
      const item = document.createElement("span");
      const sw = document.createElement("i");
      sw.style.background = s.color;
      if (s.dashed) sw.style.background = `repeating-linear-gradient(90deg, ${s.color} 0 5px, transparent 5px 8px)`;
      const zeros = s.zeros ? ` · ${s.zeros.toLocaleString("en-US")} of ${s.elements.toLocaleString("en-US")} ` +
        "elements exactly 0 (the curve ends where they begin)" : "";
      const stopped = s.state === "stopped" ? ", solve stopped" : s.state === "failed" ? ", solve failed" : "";
      const mass = s.mass_rank > 0 ? ` · ● 90% of its mass by rank ${s.mass_rank.toLocaleString("en-US")}` : "";
      item.append(sw, document.createTextNode(`${s.label}` + (s.status === "complete" ? "" :
        ` (partial${stopped}: ${s.components}/${s.total_components} components)`) + mass + zeros));
      item.dataset.label = s.label;
      legend.appendChild(item);
    }
  }

  function nearest(mx, my) {
    if (!geom) return null;
    let best = null, bestD = Infinity;
    for (const s of points) {
      for (let i = 0; i < s.count; i++) {
        const dx = geom.xOf(s.ranks[i]) - mx, dy = geom.yOf(s.values[i]) - my;
        const d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = { label: s.label, color: s.color, rank: s.ranks[i], value: s.values[i] }; }
      }
    }
    return bestD <= 30 * 30 ? best : null;
  }

  canvas.addEventListener("pointermove", (ev) => {
    const rect = canvas.getBoundingClientRect();
    const pt = nearest(ev.clientX - rect.left, ev.clientY - rect.top);
    draw(pt);
    if (pt) {
      readout.textContent = `${pt.label}: rank ${Math.round(pt.rank).toLocaleString()} · |value| = ${fmtVal(pt.value)}`;
      root.dataset.hoverRank = String(Math.round(pt.rank));
      root.dataset.hoverValue = String(pt.value);
      root.dataset.hoverLabel = pt.label;
      const now = Date.now();
      if (now - lastHoverSent > 150) {
        lastHoverSent = now;
        model.set("hover", { label: pt.label, rank: Math.round(pt.rank), value: pt.value });
        model.save_changes();
      }
    } else {
      readout.textContent = "hover over a curve to read rank and value";
    }
  });
  canvas.addEventListener("pointerleave", () => draw(null));

  const redraw = () => { decode(); draw(null); };
  onChanges(model, ["data", "series", "message"], redraw);
  model.on("change:log_x", () => draw(null));
  model.on("change:plot_width", () => draw(null));
  const unwatch = onThemeChange(() => draw(null));
  const unfit = onWidthChange(el, (w) => { fitWidth = w - 12; draw(null); });
  readout.textContent = "hover over a curve to read rank and value";
  redraw();
  return () => { unwatch(); unfit(); };
}

export default { render };
