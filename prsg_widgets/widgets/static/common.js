// Helpers shared by the prsg_widgets views.  anywidget loads each view from one string and a
// relative import would need a build step, so the Python side (`_common.esm`) puts this file in
// front of each view's own file: every name here is visible to the view, nothing is exported.

// The bytes of a synced Bytes trait (DataView, ArrayBuffer or typed array) as a fresh copy, so
// the view never holds on to the message buffer.
function bufferOf(v) {
  if (v && ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  if (v instanceof ArrayBuffer) return v.slice(0);
  return new ArrayBuffer(0);
}

function bytesOf(v) {
  return new Uint8ClampedArray(bufferOf(v));
}

function floatsOf(v) {
  const buf = bufferOf(v);
  return new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
}

function hasPixels(data, w, h) {
  return w > 0 && h > 0 && data.length === w * h * 4;
}

function dom(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// An image canvas with the clickable patch-cell layer on top (extra nodes go last, e.g. a tip).
function imageStage(extraClass, ...extra) {
  const stage = dom("div", extraClass ? "prsg-stage " + extraClass : "prsg-stage");
  const canvas = dom("canvas", "prsg-img");
  const overlay = dom("div", "prsg-cells");
  stage.append(canvas, overlay, ...extra);
  return { stage, canvas, overlay };
}

function onChanges(model, names, fn) {
  for (const name of names) model.on("change:" + name, fn);
}

function setCssSize(nodes, w, h) {
  for (const node of nodes) {
    node.style.width = w + "px";
    node.style.height = h + "px";
  }
}

// Draw RGBA bytes `w`×`h` scaled to `size` CSS px wide without smoothing (pixels stay exact
// blocks), at devicePixelRatio (sharp on HiDPI screens); the returned context draws in CSS px.
// `background` fills first (else transparent), `style` also sets the CSS size.
function drawScaled(canvas, data, w, h, size, { background = null, style = false } = {}) {
  const dispH = Math.round((h / Math.max(1, w)) * size);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(size * dpr);
  canvas.height = Math.round(dispH * dpr);
  canvas.dataset.cssWidth = String(size);
  canvas.dataset.cssHeight = String(dispH);
  if (style) setCssSize([canvas], size, dispH);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  if (background) {
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, size, dispH);
  } else {
    ctx.clearRect(0, 0, size, dispH);
  }
  if (hasPixels(data, w, h)) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    off.getContext("2d").putImageData(new ImageData(data, w, h), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, size, dispH);
  }
  return ctx;
}

// A canvas for a plot of `W`×`H` CSS px at devicePixelRatio; the context draws in CSS px.
function hiDpiContext(canvas, W, H) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  setCssSize([canvas], W, H);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return ctx;
}

// Views size from their container: call `fn(width)` with the width available to `el` (from its
// left edge to the right edge of the cell output that holds it, which does not depend on the
// view's own content) whenever that changes by more than 2 px; returns the disconnect function.
// `{ own: true }` reports `el`'s own width instead, for a node the layout sizes (a CSS grid of
// thumbnails): its canvases then redraw at their new CSS size.
function onWidthChange(el, fn, { own = false } = {}) {
  if (!window.ResizeObserver) return () => {};
  const box = own ? el : (el.closest && el.closest(".jp-OutputArea-output")) || el.parentElement || el;
  let last = 0;
  const check = () => {
    const w = own ? el.getBoundingClientRect().width
      : Math.floor(box.getBoundingClientRect().right - el.getBoundingClientRect().left);
    if (w > 0 && Math.abs(w - last) > (own ? 0.5 : 2)) { last = w; fn(w); }
  };
  const ro = new ResizeObserver(check);
  ro.observe(box);
  requestAnimationFrame(check);
  return () => ro.disconnect();
}

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

// A JupyterLab theme colour read now (live: call it at draw time), with a fallback.
function themeColor(node, name, fallback) {
  const v = getComputedStyle(node).getPropertyValue(name).trim();
  return v || fallback;
}

// Call `fn` whenever JupyterLab switches theme (it rewrites the body's data-jp-theme-* attributes
// and the CSS variables); returns the disconnect function.
function onThemeChange(fn) {
  // redraw at the next frame and once more when the new theme's stylesheet has surely applied
  const later = () => { requestAnimationFrame(fn); setTimeout(fn, 400); };
  const obs = new MutationObserver(later);
  obs.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
  const mq = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (mq && mq.addEventListener) mq.addEventListener("change", later);
  return () => { obs.disconnect(); if (mq && mq.removeEventListener) mq.removeEventListener("change", later); };
}

// An ⓘ with the glossary entry `term` in a popover on hover or keyboard focus.
function infoIcon(term) {
  const text = GLOSSARY[term] || term;
  const node = dom("span", "prsg-info", "i");
  node.tabIndex = 0;
  node.dataset.term = term;
  node.setAttribute("aria-label", text);
  node.appendChild(dom("span", "prsg-pop", text));
  return node;
}

// The colour bar of a signed regional pattern: black (−scale) · grey (0) · white (+scale).
function colorBar(scale) {
  const bar = dom("div", "prsg-colorbar");
  const s = scale === null || scale === undefined ? "max|Δx|" : Number(scale).toPrecision(2);
  bar.append(dom("span", "", "−" + s), dom("i", "prsg-colorbar-ramp"), dom("span", "", "+" + s));
  bar.title = "regional pattern Δx per colour channel: grey = 0, lighter = the component adds brightness, " +
    "darker = it removes it; each tile is scaled to its own max |Δx|";
  return bar;
}

// "⤓ PNG" button: the view's canvases composed at their on-screen positions (at
// devicePixelRatio, cropped to them) on the theme background, with an optional `legend()`
// ([{color, label, dashed}]) and the `caption()` (model · seed · N) written under them.
function exportButton(root, name, legend = null) {
  const btn = dom("button", "prsg-btn prsg-export", "⤓ PNG");
  btn.title = "save this view as a PNG (images and plots, with the caption)";
  btn.addEventListener("click", () => {
    const canvases = Array.from(root.querySelectorAll("canvas")).filter((c) => c.width > 0 && c.offsetParent !== null);
    const r0 = root.getBoundingClientRect();
    let right = 1, bottom = 1;
    for (const c of canvases) {
      const r = c.getBoundingClientRect();
      right = Math.max(right, r.right - r0.left);
      bottom = Math.max(bottom, r.bottom - r0.top);
    }
    const items = legend ? legend() : [];
    const dpr = window.devicePixelRatio || 1;
    const cap = typeof name === "function" ? name() : String(name);
    const W = Math.max(Math.ceil(right) + 4, 360), H = Math.ceil(bottom) + 22 + (items.length ? 18 : 0);
    const out = document.createElement("canvas");
    out.width = Math.round(W * dpr);
    out.height = Math.round(H * dpr);
    const ctx = out.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = themeColor(root, "--jp-layout-color0", "#fff");
    ctx.fillRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    for (const c of canvases) {
      const r = c.getBoundingClientRect();
      ctx.drawImage(c, r.left - r0.left, r.top - r0.top, r.width, r.height);
    }
    const fg = themeColor(root, "--jp-ui-font-color1", "#222");
    ctx.font = "11px sans-serif";
    let x = 6, y = Math.ceil(bottom) + 14;
    for (const it of items) {
      ctx.strokeStyle = it.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(it.dashed ? [5, 3] : []);
      ctx.beginPath();
      ctx.moveTo(x, y - 4);
      ctx.lineTo(x + 18, y - 4);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = fg;
      ctx.fillText(it.label, x + 22, y);
      x += 34 + ctx.measureText(it.label).width;
    }
    ctx.fillStyle = fg;
    ctx.fillText(cap, 4, H - 7);
    const a = document.createElement("a");
    a.download = (cap || "view").replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 120) + ".png";
    a.href = out.toDataURL("image/png");
    document.body.appendChild(a);
    a.click();
    a.remove();
    root.dataset.exported = a.download;
  });
  return btn;
}

// The patch grid of the model (`grid_size` P, pixel `row_edges`/`col_edges`), or null while the
// edges do not fit P (not synced yet).
function gridOf(model) {
  const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
  return re.length === P + 1 && ce.length === P + 1 ? { P, re, ce } : null;
}

// Patch `p` (id = row * P + col) in display pixels: image pixels scaled by `sx`, `sy`.
function patchBox(grid, p, sx, sy = sx) {
  const r = Math.floor(p / grid.P), c = p % grid.P;
  const { re, ce } = grid;
  return { x: ce[c] * sx, y: re[r] * sy, w: (ce[c + 1] - ce[c]) * sx, h: (re[r + 1] - re[r]) * sy };
}

// Outline `patches` on `ctx`, each stroke `inset` px inside its patch.
function strokePatches(ctx, grid, patches, sx, sy, color, lineWidth, inset) {
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  for (const p of patches) {
    const b = patchBox(grid, p, sx, sy);
    ctx.strokeRect(b.x + inset, b.y + inset, b.w - 2 * inset, b.h - 2 * inset);
  }
}

// Fill a `.prsg-cells` overlay with one clickable cell per patch id (`data-patch`), placed at
// scale `s`; `title(p)` is its tooltip, `label` adds the id badge, `setup(cell, p)` wires it.
// Returns the cells, or null (overlay left empty) while the grid is not synced.
function fillOverlay(overlay, model, ids, s, { className = "prsg-cell", title, label = false, setup }) {
  overlay.textContent = "";
  const grid = gridOf(model);
  if (!grid) return null;
  return ids.map((p) => {
    const cell = dom("div", className);
    cell.dataset.patch = String(p);
    cell.title = title(p, grid);
    const b = patchBox(grid, p, s);
    cell.style.left = b.x + "px";
    cell.style.top = b.y + "px";
    cell.style.width = b.w + "px";
    cell.style.height = b.h + "px";
    if (label) cell.appendChild(dom("span", "prsg-cell-id", String(p)));
    if (setup) setup(cell, p);
    overlay.appendChild(cell);
    return cell;
  });
}
