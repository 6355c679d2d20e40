// Helpers shared by the prsg_widgets views, an ES module: each view imports the ones it uses.
// anywidget loads a view from one string, so the Python side (`_view_modules.ViewModule`) hands
// each import of a sibling file to the browser as a data: URL of that file; the constants module
// is made there from Python (the glossary and the palette).

import { GLOSSARY } from "./constants.js";

/**
 * The traits of the patch grid every grid view has (`_grid_view.GridView`), read by `gridOf`.
 * @typedef {object} GridModel
 * @property {number} grid_size  P: the grid is P × P patches
 * @property {number[]} row_edges  P + 1 pixel edges of the rows
 * @property {number[]} col_edges  P + 1 pixel edges of the columns
 */

/**
 * The traits `exportButton` reads: the caption written under the PNG and its file name.
 * @typedef {object} ExportModel
 * @property {string} caption  which explanation is shown (model · seed · N)
 * @property {string} export_stem  the PNG's name without ".png" (`_export.export_stem`)
 */

// The bytes of a synced Bytes trait (DataView, ArrayBuffer or typed array) as a fresh copy, so
// the view never holds on to the message buffer.
export function bufferOf(v) {
  if (v && ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  if (v instanceof ArrayBuffer) return v.slice(0);
  return new ArrayBuffer(0);
}

export function bytesOf(v) {
  return new Uint8ClampedArray(bufferOf(v));
}

export function floatsOf(v) {
  const buf = bufferOf(v);
  return new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
}

export function hasPixels(data, w, h) {
  return w > 0 && h > 0 && data.length === w * h * 4;
}

export function dom(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// An image canvas with the clickable patch-cell layer on top (extra nodes go last, e.g. a tip).
export function imageStage(extraClass, ...extra) {
  const stage = dom("div", extraClass ? "prsg-stage " + extraClass : "prsg-stage");
  const canvas = dom("canvas", "prsg-img");
  const overlay = dom("div", "prsg-cells");
  stage.append(canvas, overlay, ...extra);
  return { stage, canvas, overlay };
}

export function onChanges(model, names, fn) {
  for (const name of names) model.on("change:" + name, fn);
}

export function setCssSize(nodes, w, h) {
  for (const node of nodes) {
    node.style.width = w + "px";
    node.style.height = h + "px";
  }
}

// Draw RGBA bytes `w`×`h` scaled to `size` CSS px wide without smoothing (pixels stay exact
// blocks), at devicePixelRatio (sharp on HiDPI screens); the returned context draws in CSS px.
// `background` fills first (else transparent), `style` also sets the CSS size.
export function drawScaled(canvas, data, w, h, size, { background = null, style = false } = {}) {
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
export function hiDpiContext(canvas, W, H) {
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
export function onWidthChange(el, fn, { own = false } = {}) {
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

export const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

// A JupyterLab theme colour read now (live: call it at draw time), with a fallback.
export function themeColor(node, name, fallback) {
  const v = getComputedStyle(node).getPropertyValue(name).trim();
  return v || fallback;
}

// Call `fn` whenever JupyterLab switches theme (it rewrites the body's data-jp-theme-* attributes
// and the CSS variables); returns the disconnect function.
export function onThemeChange(fn) {
  // redraw at the next frame and once more when the new theme's stylesheet has surely applied
  const later = () => { requestAnimationFrame(fn); setTimeout(fn, 400); };
  const obs = new MutationObserver(later);
  obs.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
  const mq = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (mq && mq.addEventListener) mq.addEventListener("change", later);
  return () => { obs.disconnect(); if (mq && mq.removeEventListener) mq.removeEventListener("change", later); };
}

// An ⓘ with the glossary entry `term` in a popover on hover or keyboard focus: a button named
// "about <term>", described by its popover (see a11yScope for its keys).
let infoCount = 0;
export function infoIcon(term) {
  const text = GLOSSARY[term] || term;
  const node = dom("span", "prsg-info", "i");
  node.tabIndex = 0;
  node.dataset.term = term;
  node.dataset.key = "info:" + term; // keepFocus finds it again after a rebuild
  node.setAttribute("role", "button");
  node.setAttribute("aria-label", "about " + term);
  const pop = dom("span", "prsg-pop", text);
  pop.setAttribute("role", "tooltip");
  pop.id = `prsg-gloss-js-${Date.now().toString(36)}-${(infoCount += 1)}`;
  node.setAttribute("aria-describedby", pop.id);
  node.appendChild(pop);
  return node;
}

// The colour bar of a signed regional pattern, read per colour channel (R, G, B each on this
// ramp): darker (−scale) · grey (0) · lighter (+scale).  A tile is coloured where the channels
// change by different amounts (e.g. red where mostly the red channel grows).
export function colorBar(scale) {
  const bar = dom("div", "prsg-colorbar");
  const s = scale === null || scale === undefined ? "max|Δx|" : Number(scale).toPrecision(2);
  bar.append(dom("span", "", "each channel: −" + s), dom("i", "prsg-colorbar-ramp"), dom("span", "", "+" + s));
  bar.title = "regional pattern Δx, each colour channel on this ramp: grey = 0, lighter = the component adds to " +
    "that channel, darker = it takes away; colours appear where the channels change unequally. Each tile is " +
    "scaled to its own max |Δx|";
  return bar;
}

// What the PNG export draws of a view: its canvases, and every visible element's background,
// border and text as laid out on screen (so selected cells, outlines, chips, captions and
// legends are in the file exactly where they are on the screen); buttons and popovers are left out.
export const EXPORT_SKIP = "button, .prsg-btn, .prsg-pop, .prsg-info, .prsg-export, .prsg-tip";

export function alphaOf(color) {
  const m = /rgba?\(([^)]+)\)/.exec(color || "");
  if (!m) return color && color !== "transparent" ? 1 : 0;
  const parts = m[1].split(",");
  return parts.length > 3 ? Number(parts[3]) : 1;
}

export function clipOf(el, root) {
  // the rectangle an element is visible in: its nearest scrolling ancestor inside the view
  for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
    const o = getComputedStyle(p).overflowY;
    if (o === "auto" || o === "scroll" || o === "hidden") return p.getBoundingClientRect();
  }
  return null;
}

// Paint `root`'s content at its place relative to `r0` (a rectangle's left/top); returns the
// words written, in order (the PNG export mirrors them in data-exported-text for tests).
export function paintView(ctx, root, r0) {
  const written = [];
  const inside = (r, clip) => !clip || (r.bottom > clip.top + 1 && r.top < clip.bottom - 1);
  for (const el of root.querySelectorAll("*")) {
    if (el.closest(EXPORT_SKIP) || !el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
    const r = el.getBoundingClientRect(), clip = clipOf(el, root);
    if (!inside(r, clip) || r.width === 0) continue;
    const x = r.left - r0.left, y = r.top - r0.top;
    ctx.save();
    if (clip) { ctx.beginPath(); ctx.rect(clip.left - r0.left, clip.top - r0.top, clip.width, clip.height); ctx.clip(); }
    if (el.tagName === "CANVAS") {
      if (el.width > 0) ctx.drawImage(el, x, y, r.width, r.height);
    } else {
      if (alphaOf(cs.backgroundColor) > 0) { ctx.fillStyle = cs.backgroundColor; ctx.fillRect(x, y, r.width, r.height); }
      if (cs.backgroundImage.startsWith("linear-gradient") && el.classList.contains("prsg-colorbar-ramp")) {
        const g = ctx.createLinearGradient(x, 0, x + r.width, 0);
        g.addColorStop(0, "#000"); g.addColorStop(0.5, "#808080"); g.addColorStop(1, "#fff");
        ctx.fillStyle = g; ctx.fillRect(x, y, r.width, r.height);
      }
      const bw = parseFloat(cs.borderTopWidth) || 0;
      if (bw > 0 && cs.borderTopStyle !== "none" && alphaOf(cs.borderTopColor) > 0) {
        ctx.strokeStyle = cs.borderTopColor;
        ctx.lineWidth = bw;
        ctx.strokeRect(x + bw / 2, y + bw / 2, r.width - bw, r.height - bw);
      }
      ctx.fillStyle = cs.color;
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      ctx.textBaseline = "alphabetic";
      for (const node of el.childNodes) {
        if (node.nodeType !== 3 || !node.textContent.trim()) continue;
        const words = node.textContent.split(/(\s+)/);
        let off = 0;
        for (const w of words) {
          if (w.trim()) {
            const range = document.createRange();
            range.setStart(node, off);
            range.setEnd(node, off + w.length);
            for (const wr of range.getClientRects()) {
              ctx.fillText(w, wr.left - r0.left, wr.top - r0.top + wr.height * 0.78);
              written.push(w);
              break;
            }
          }
          off += w.length;
        }
      }
    }
    ctx.restore();
  }
  return written;
}

// Let every scroll box inside `root` show all of its content (the export must not cut a row of
// thumbnails off where the screen scrolls); returns the function that puts the boxes back.
export function unclip(root) {
  const saved = [];
  for (const el of root.querySelectorAll("*")) {
    const o = getComputedStyle(el).overflowY;
    if ((o === "auto" || o === "scroll" || o === "hidden") && el.scrollHeight > el.clientHeight + 1) {
      saved.push([el, el.style.maxHeight, el.style.height, el.style.overflowY]);
      el.style.maxHeight = "none";
      el.style.height = "auto";
      el.style.overflowY = "visible";
    }
  }
  return () => { for (const [el, mh, h, o] of saved) { el.style.maxHeight = mh; el.style.height = h; el.style.overflowY = o; } };
}

// What a view shows outside its own root (a caption or a health line that Python puts beside
// it): the elements marked `.prsg-export-with` in the composite view (`.prsg-live`) it belongs to.
export function companions(root) {
  const live = root.closest(".prsg-live");
  return live ? Array.from(live.querySelectorAll(".prsg-export-with")).filter((c) => !c.contains(root) &&
    c.getClientRects().length && c.closest(".prsg-live") === live) : [];
}

// "⤓ PNG" button: the view as it is on screen (at devicePixelRatio, on the theme background, see
// paintView), scroll boxes unrolled, the captions Python shows beside it (`companions`) under it,
// then the `caption` (model · seed · N); downloaded as `export_stem`.png — the name Python gives
// every export (`_export.export_stem`; `view` when the model has none).
export function exportButton(root, model, view) {
  const btn = dom("button", "prsg-btn prsg-export", "⤓ PNG");
  btn.title = "download this view as a PNG, as it is on screen (with the caption)";
  btn.setAttribute("aria-label", "download this view as a PNG");
  btn.addEventListener("click", () => {
    const restore = unclip(root);
    try {
      const r0 = root.getBoundingClientRect();
      const extra = companions(root).map((c) => ({ el: c, r: c.getBoundingClientRect() }));
      const dpr = window.devicePixelRatio || 1;
      const cap = (model.get("caption") || "").trim();
      const W = Math.ceil(Math.max(r0.width, root.scrollWidth, ...extra.map((c) => c.r.width)));
      const H = Math.ceil(r0.height + extra.reduce((h, c) => h + c.r.height + 4, 0)) + (cap ? 20 : 4);
      const out = document.createElement("canvas");
      out.width = Math.round(W * dpr);
      out.height = Math.round(H * dpr);
      const ctx = out.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = themeColor(root, "--jp-layout-color0", "#fff");
      ctx.fillRect(0, 0, W, H);
      ctx.imageSmoothingEnabled = false;
      const written = paintView(ctx, root, r0);
      let y = r0.height + 4;
      for (const c of extra) {  // each under the view, at its own left edge
        written.push(...paintView(ctx, c.el, { left: c.r.left, top: c.r.top - y }));
        y += c.r.height + 4;
      }
      if (cap) {
        ctx.fillStyle = themeColor(root, "--jp-ui-font-color1", "#222");
        ctx.font = "11px sans-serif";
        ctx.fillText(cap, 4, H - 6);
        written.push(cap);
      }
      const a = document.createElement("a");
      a.download = (model.get("export_stem") || view || "view") + ".png";
      a.href = out.toDataURL("image/png");
      document.body.appendChild(a);
      a.click();
      a.remove();
      root.dataset.exported = a.download;
      root.dataset.exportedText = written.join(" ");
      root.dataset.exportedSize = `${W}x${H}`;
    } finally {
      restore();
    }
  });
  return btn;
}

// Text alternative of a canvas (screen readers; also a tooltip).
export function describeCanvas(canvas, text) {
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", text);
}

// The patch grid of the model (`grid_size` P, pixel `row_edges`/`col_edges`), or null while the
// edges do not fit P (not synced yet).
export function gridOf(model) {
  const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
  return re.length === P + 1 && ce.length === P + 1 ? { P, re, ce } : null;
}

// Patch `p` (id = row * P + col) in display pixels: image pixels scaled by `sx`, `sy`.
export function patchBox(grid, p, sx, sy = sx) {
  const r = Math.floor(p / grid.P), c = p % grid.P;
  const { re, ce } = grid;
  return { x: ce[c] * sx, y: re[r] * sy, w: (ce[c + 1] - ce[c]) * sx, h: (re[r + 1] - re[r]) * sy };
}

// Outline `patches` on `ctx`, each stroke `inset` px inside its patch.
export function strokePatches(ctx, grid, patches, sx, sy, color, lineWidth, inset) {
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  for (const p of patches) {
    const b = patchBox(grid, p, sx, sy);
    ctx.strokeRect(b.x + inset, b.y + inset, b.w - 2 * inset, b.h - 2 * inset);
  }
}

// Fill a `.prsg-cells` overlay with one cell per patch id (`data-patch`), placed at scale `s`;
// `title(p)` is its tooltip and accessible name, `label` adds the id badge, `setup(cell, p)`
// wires it.  Returns the cells, or null (overlay left empty) while the grid is not synced.
// The overlay is a WAI-ARIA grid (rows of gridcells; the views set aria-selected) with one
// roving Tab stop: the arrow keys move between cells, Enter or Space calls `activate(cell, p)`
// (given, or a click); focus survives the rebuild (see `roving`).
export function fillOverlay(overlay, model, ids, s, { className = "prsg-cell", title, label = false, setup, activate, name, multi = false }) {
  const restore = keepFocus(overlay, "data-patch");
  overlay.textContent = "";
  const grid = gridOf(model);
  if (!grid) return null;
  overlay.setAttribute("role", "grid");
  overlay.setAttribute("aria-label", name || "patches");
  if (multi) overlay.setAttribute("aria-multiselectable", "true");
  else overlay.removeAttribute("aria-multiselectable");
  const rows = new Map(); // grid row -> role=row wrapper (unstyled: the cells stay placed in the overlay)
  const cells = ids.map((p) => {
    const cell = dom("div", className);
    cell.dataset.patch = String(p);
    cell.title = title(p, grid);
    const b = patchBox(grid, p, s);
    cell.style.left = b.x + "px";
    cell.style.top = b.y + "px";
    cell.style.width = b.w + "px";
    cell.style.height = b.h + "px";
    if (label) cell.appendChild(dom("span", "prsg-cell-id", String(p)));
    cell.setAttribute("role", "gridcell");
    cell.setAttribute("aria-selected", "false");
    cell.setAttribute("aria-label", cell.title);
    if (setup) setup(cell, p);
    const r = Math.floor(p / grid.P);
    if (!rows.has(r)) {
      const row = dom("div", "prsg-cell-row");
      row.setAttribute("role", "row");
      rows.set(r, row);
    }
    rows.get(r).appendChild(cell);
    return cell;
  });
  for (const r of Array.from(rows.keys()).sort((a, b) => a - b)) overlay.appendChild(rows.get(r));
  roving(overlay, ".prsg-cell", "data-patch", activate ? (cell) => activate(cell, Number(cell.dataset.patch)) : null);
  restore();
  return cells;
}

// The patch cells of an overlay filled by fillOverlay.
export function cellsOf(overlay) {
  return overlay.querySelectorAll(".prsg-cell");
}

// ------------------------------------------------------------------- keyboard, screen readers

// Keys a view handles itself: the default action and Lab's shortcuts (arrows move the notebook's
// cells, Space scrolls) must not run too.  Keys a view does not handle are left alone.
export function consume(ev) {
  ev.preventDefault();
  ev.stopPropagation();
}

export const MOVE_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];

// Whether a view handles `ev` itself (see roving and scopeKeys): Enter, Space and the moves in a
// roving group; an ⓘ's Enter, Space, and while its popover is open Escape and the arrows.
export function handledKey(ev) {
  const t = ev.target;
  if (ev.altKey || ev.ctrlKey || ev.metaKey || !t || !t.closest) return false;
  const info = t.closest(".prsg-info");
  if (info) {
    const open = !info.classList.contains("prsg-pop-off");
    return ev.key === "Enter" || ev.key === " " || (open && (ev.key === "Escape" || ev.key.startsWith("Arrow")));
  }
  if (t.matches("button") && t.closest(".prsg-radiogroup")) return MOVE_KEYS.includes(ev.key);
  const box = t.closest(".prsg-roving");
  const cfg = box && box.__prsgRoving;
  return !!cfg && t.matches(cfg.selector) && (ev.key === "Enter" || ev.key === " " || MOVE_KEYS.includes(ev.key));
}

// JupyterLab handles its shortcuts at the document after the event has bubbled, Notebook 7 while
// it goes down (capture): stopping the event in the view is not enough there.  So a key a view
// handles marks its target with Lumino's data-lm-suppress-shortcuts for the time of this one
// event (set before the document sees it, from the window's capture phase); other keys (Tab,
// Shift+Enter, Ctrl+S...) keep every shortcut.
if (!window.__prsgKeyClaim) {
  window.__prsgKeyClaim = true;
  window.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (!handledKey(ev) || t.hasAttribute("data-lm-suppress-shortcuts")) return;
    t.setAttribute("data-lm-suppress-shortcuts", "true");
    setTimeout(() => t.removeAttribute("data-lm-suppress-shortcuts"), 0);
  }, true);
}

// Call before emptying `container`: returns a function that, after the rebuild, puts the focus
// back on the new element with the same `attr` value (or on the container's roving Tab stop)
// when the focus was inside -- a rebuild must not drop a keyboard user to document.body.
export function keepFocus(container, attr) {
  const had = document.activeElement;
  if (!had || !container.contains(had)) return () => {};
  const value = had.getAttribute(attr);
  return () => {
    if (container.contains(document.activeElement)) return;
    const items = Array.from(container.querySelectorAll(`[${attr}]`));
    const next = items.find((n) => n.getAttribute(attr) === value) || items.find((n) => n.tabIndex === 0) || items[0];
    if (next) next.focus({ preventScroll: true });
  };
}

// The item an arrow key (or Home / End) leads to from `item`: Left / Right the previous / next in
// order; Up / Down the nearest item in the nearest row above / below as laid out on screen (a
// grid of patches, a wrapped list of thumbnails), else the previous / next.
export function rovingTarget(items, item, key) {
  const i = items.indexOf(item);
  if (key === "Home") return items[0];
  if (key === "End") return items[items.length - 1];
  if (key === "ArrowLeft") return items[i - 1] || null;
  if (key === "ArrowRight") return items[i + 1] || null;
  const down = key === "ArrowDown";
  const a = item.getBoundingClientRect();
  const ax = a.left + a.width / 2, ay = a.top + a.height / 2;
  let best = null, bestRow = Infinity, bestDx = Infinity;
  for (const n of items) {
    if (n === item) continue;
    const b = n.getBoundingClientRect();
    const dy = (b.top + b.height / 2 - ay) * (down ? 1 : -1);
    if (dy < Math.max(2, a.height / 2)) continue; // same row, or the other way
    const dx = Math.abs(b.left + b.width / 2 - ax);
    const row = Math.round(dy);
    if (row < bestRow - 2 || (Math.abs(row - bestRow) <= 2 && dx < bestDx)) { best = n; bestRow = row; bestDx = dx; }
  }
  if (best || a.width > 0) return best;
  return items[i + (down ? 1 : -1)] || null; // not laid out (hidden): in order
}

// One roving Tab stop for the items `selector` of `container` (WAI-ARIA grid / listbox pattern):
// the last focused item (else the selected one, else the first) has tabindex 0, the others -1;
// the arrow keys, Home and End move the focus, Enter and Space call `activate(item)` (default: a
// click).  Call again after each rebuild of the items; the listeners are installed once.
export function roving(container, selector, attr, activate = null) {
  let cfg = container.__prsgRoving;
  if (!cfg) {
    cfg = container.__prsgRoving = { current: null };
    container.classList.add("prsg-roving");
    const itemOf = (ev) => {
      const it = ev.target.closest && ev.target.closest(cfg.selector);
      return it && container.contains(it) ? it : null;
    };
    container.addEventListener("focusin", (ev) => {
      const it = itemOf(ev);
      if (!it) return;
      cfg.current = it.getAttribute(cfg.attr);
      for (const n of container.querySelectorAll(cfg.selector)) n.tabIndex = n === it ? 0 : -1;
    });
    container.addEventListener("keydown", (ev) => {
      const it = itemOf(ev);
      if (!it || !handledKey(ev)) return;
      if (ev.key === "Enter" || ev.key === " ") {
        consume(ev);
        if (cfg.activate) cfg.activate(it); else it.click();
        return;
      }
      consume(ev); // also at an edge: the key belongs to the grid, not to Lab's notebook
      const next = rovingTarget(Array.from(container.querySelectorAll(cfg.selector)), it, ev.key);
      if (next) next.focus();
    });
  }
  Object.assign(cfg, { selector, attr, activate });
  const items = Array.from(container.querySelectorAll(selector));
  const stop = items.find((n) => n.getAttribute(attr) === cfg.current)
    || items.find((n) => n.getAttribute("aria-selected") === "true") || items[0];
  for (const n of items) n.tabIndex = n === stop ? 0 : -1;
}

// Keyboard and screen-reader help for the whole widget a view sits in (the dashboard, a
// composite view, or the view alone), installed once per widget by whichever view renders
// first: the ⓘ keys, names for the ipywidgets controls (slider handles, symbol-only buttons,
// toggle-button groups, text boxes), one Tab stop per toggle-button group and a polite live
// region on each progress line.
export function a11yScope(el) {
  let tries = 0;
  const start = () => {
    if (!el.isConnected) { if ((tries += 1) < 600) setTimeout(start, 50); return; }
    const scope = el.closest(".prsg-dashboard")
      || el.closest(".prsg-component-browser, .prsg-sparsity-curve, .prsg-transferability") || el;
    const done = window.__prsgA11yScopes || (window.__prsgA11yScopes = new WeakSet());
    if (done.has(scope)) return;
    done.add(scope);
    scope.addEventListener("keydown", scopeKeys);
    scope.addEventListener("focusout", (ev) => {
      const info = ev.target.closest && ev.target.closest(".prsg-info");
      if (info) info.classList.remove("prsg-pop-off");
    });
    let queued = false;
    const pass = () => { queued = false; labelControls(scope); };
    new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(pass); } })
      .observe(scope, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    pass();
  };
  start();
}

// The keys of the ⓘ buttons and of the ipywidgets toggle-button groups (delegated to the scope).
export function scopeKeys(ev) {
  if (!handledKey(ev)) return;
  const t = ev.target;
  const info = t.closest(".prsg-info");
  if (info) {
    // Enter / Space show or hide the popover, Escape hides it; while it is open the arrow keys
    // stay here (they would move Lab's active cell away from the text being read)
    if (ev.key === "Enter" || ev.key === " ") { consume(ev); info.classList.toggle("prsg-pop-off"); }
    else if (ev.key === "Escape") { consume(ev); info.classList.add("prsg-pop-off"); }
    else ev.stopPropagation();
    return;
  }
  const group = t.closest(".prsg-radiogroup");
  if (group) {
    consume(ev); // a radio group: the arrows move and choose (selection follows focus)
    const buttons = Array.from(group.querySelectorAll("button"));
    const key = { ArrowUp: "ArrowLeft", ArrowDown: "ArrowRight" }[ev.key] || ev.key;
    const next = rovingTarget(buttons, t, key);
    if (next) { next.focus(); next.click(); }
  }
}

export const NAMELESS = /^[^\p{L}\p{N}]*$/u; // text without a letter or digit (◀, ▶, ⤓) names nothing

export function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

// Names and roles for the ipywidgets controls inside `scope` (re-run when they re-render).
export function labelControls(scope) {
  const labelOf = (w) => ((w.querySelector(":scope > .widget-label") || {}).textContent || "").trim();
  for (const w of scope.querySelectorAll(".widget-slider")) {
    const name = labelOf(w);
    if (!name) continue;
    for (const h of w.querySelectorAll("[role=slider]")) setAttr(h, "aria-label", name);
    for (const r of w.querySelectorAll(".widget-readout[contenteditable=true]")) {
      setAttr(r, "role", "textbox"); // the value can be typed in
      setAttr(r, "aria-label", name + " value");
    }
  }
  // Font Awesome glyphs are private-use characters: not part of a button's name
  for (const i of scope.querySelectorAll("button > i.fa")) setAttr(i, "aria-hidden", "true");
  for (const w of scope.querySelectorAll(".widget-text, .widget-inline-hbox")) {
    const name = labelOf(w), input = w.querySelector(":scope > input, :scope > * > input");
    if (name && input && input.type !== "checkbox" && !(input.labels && input.labels.length)) setAttr(input, "aria-label", name);
  }
  for (const b of scope.querySelectorAll("button")) {
    const text = b.textContent.trim();
    if (NAMELESS.test(text) && b.title && !b.hasAttribute("aria-label")) b.setAttribute("aria-label", b.title);
  }
  for (const w of scope.querySelectorAll(".widget-toggle-buttons")) {
    const name = labelOf(w) || "options";
    const box = w.querySelector("button") && w.querySelector("button").parentElement;
    if (!box) continue;
    box.classList.add("prsg-radiogroup");
    setAttr(box, "role", "radiogroup");
    setAttr(box, "aria-label", name);
    const buttons = Array.from(box.querySelectorAll("button"));
    const on = buttons.find((b) => b.classList.contains("mod-active")) || buttons[0];
    for (const b of buttons) {
      setAttr(b, "role", "radio");
      setAttr(b, "aria-checked", String(b === on));
      setAttr(b, "aria-label", `${name} ${b.textContent.trim()}`);
      const tab = b === on ? "0" : "-1";
      if (b.getAttribute("tabindex") !== tab) b.tabIndex = Number(tab);
    }
  }
  for (const line of scope.querySelectorAll(".prsg-progress-line")) liveProgress(line);
}

// A polite live region on a progress line (role=status): it speaks when a solve starts, at each
// quarter of it, and when it stops, fails or finishes -- not at each tick of the visible line
// (speed and ETA change every second).
export function liveProgress(line) {
  if (line.querySelector(":scope > .prsg-live")) return;
  const live = dom("div", "prsg-live prsg-sr-only");
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  live.dataset.updates = "0";
  line.appendChild(live);
  let last = null;
  const update = () => {
    const status = line.querySelector(".prsg-status");
    const text = status ? status.textContent.replace(/\s+/g, " ").trim() : "";
    const btn = line.querySelector(".prsg-cancel");
    const shown = btn && btn.style.display !== "none";
    const solving = shown && /cancel/i.test(btn.textContent);
    let say = text, key = text;
    if (solving) {
      const m = /(\d+)\s*\/\s*(\d+)/.exec(text);
      const quarter = m && Number(m[2]) > 0 ? Math.floor((4 * Number(m[1])) / Number(m[2])) : 0;
      say = "solving: " + text.split(" · ")[0].replace(/\s*\([^)]*\)/g, "");
      key = "solving " + quarter;
    }
    if (!text || key === last) return;
    last = key;
    live.textContent = say;
    live.dataset.updates = String(Number(live.dataset.updates) + 1);
  };
  new MutationObserver(update).observe(line, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["style"],
  });
  update();
}
