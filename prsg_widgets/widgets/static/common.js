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

// The colour bar of a signed regional pattern, read per colour channel (R, G, B each on this
// ramp): darker (−scale) · grey (0) · lighter (+scale).  A tile is coloured where the channels
// change by different amounts (e.g. red where mostly the red channel grows).
function colorBar(scale) {
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
const EXPORT_SKIP = "button, .prsg-btn, .prsg-pop, .prsg-info, .prsg-export, .prsg-tip";

function alphaOf(color) {
  const m = /rgba?\(([^)]+)\)/.exec(color || "");
  if (!m) return color && color !== "transparent" ? 1 : 0;
  const parts = m[1].split(",");
  return parts.length > 3 ? Number(parts[3]) : 1;
}

function clipOf(el, root) {
  // the rectangle an element is visible in: its nearest scrolling ancestor inside the view
  for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
    const o = getComputedStyle(p).overflowY;
    if (o === "auto" || o === "scroll" || o === "hidden") return p.getBoundingClientRect();
  }
  return null;
}

// Paint `root`'s content at its place relative to `r0` (a rectangle's left/top); returns the
// words written, in order (the PNG export mirrors them in data-exported-text for tests).
function paintView(ctx, root, r0) {
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
function unclip(root) {
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
function companions(root) {
  const live = root.closest(".prsg-live");
  return live ? Array.from(live.querySelectorAll(".prsg-export-with")).filter((c) => !c.contains(root) &&
    c.getClientRects().length && c.closest(".prsg-live") === live) : [];
}

// "⤓ PNG" button: the view as it is on screen (at devicePixelRatio, on the theme background, see
// paintView), scroll boxes unrolled, the captions Python shows beside it (`companions`) under it,
// then the `caption` (model · seed · N); downloaded as `export_stem`.png — the name Python gives
// every export (`_export.export_stem`; `view` when the model has none).
function exportButton(root, model, view) {
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
function describeCanvas(canvas, text) {
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", text);
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
// Cells are keyboard controls: Tab reaches them, Enter or Space calls `activate(cell, p)` (given,
// or a click), the arrow keys move to the neighbouring cell.
function fillOverlay(overlay, model, ids, s, { className = "prsg-cell", title, label = false, setup, activate, role = "button" }) {
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
    cell.tabIndex = 0;
    cell.setAttribute("role", role);
    cell.setAttribute("aria-label", cell.title);
    cell.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        if (activate) activate(cell, p); else cell.click();
        return;
      }
      const move = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -grid.P, ArrowDown: grid.P }[ev.key];
      if (move === undefined) return;
      const next = overlay.querySelector(`[data-patch='${p + move}']`);
      if (next) { ev.preventDefault(); next.focus(); }
    });
    if (setup) setup(cell, p);
    overlay.appendChild(cell);
    return cell;
  });
}
