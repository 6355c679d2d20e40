// PairView: two images with the patches N, their top-k action fields as chips (matched ones
// highlighted in both), the ratio |A_a ∩ A_b| / k_a. Hover a chip to outline its action field.

import {
  bytesOf, dom, onChanges, drawScaled, onWidthChange, clamp, themeColor, onThemeChange,
  infoIcon, exportButton, describeCanvas, gridOf, strokePatches, keepFocus, roving, a11yScope } from "./common.js";
import { PALETTE } from "./constants.js";

/**
 * The traits this view reads, synced from PairView (transferability.py).
 * @typedef {GridModel & ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {DataView} image_a  RGBA bytes of image a
 * @property {DataView} image_b  RGBA bytes of image b
 * @property {string} label_a  image a's label
 * @property {string} label_b  image b's label
 * @property {number} width  image width in pixels
 * @property {number} height  image height in pixels
 * @property {number[]} patches  the patches N of both images
 * @property {number[][]} top_a  image a's top-k_a action fields
 * @property {number[][]} top_b  image b's top-k_b action fields
 * @property {number[][]} matched  the action fields found in both
 * @property {number} ratio  |A_a ∩ A_b| / k_a (-1: not computed)
 * @property {number} chance  the ratio expected by chance
 * @property {number} k_a  k_a
 * @property {number} k_b  k_b
 * @property {number} components  2^n − 1
 * @property {string} status  what the view waits for
 * @property {string} refusal  why no pair is compared
 */
/** @typedef {import("./common.js").GridModel} GridModel */
/** @typedef {import("./common.js").ExportModel} ExportModel */

const key = (s) => s.join(",");

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  let SIZE = 160; // CSS px per image: follows the container (120–240)
  const root = dom("div", "prsg-widget prsg-pairview");
  const ratio = dom("div", "prsg-ratio");
  const ratioNote = dom("div", "prsg-muted prsg-ratio-note");
  const pair = dom("div", "prsg-pair");
  const tools = dom("div", "prsg-tools");
  const key1 = dom("span", "prsg-nowrap"), key2 = dom("span", "prsg-nowrap");
  key1.append(dom("span", "prsg-swatch prsg-swatch-field", ""), dom("span", "", " action field"));
  key2.append(dom("span", "prsg-swatch prsg-swatch-match", ""), dom("span", "", " found in both images"));
  const chipKey = dom("div", "prsg-chip-key");
  const sw = (bg) => { const i = dom("i"); i.style.background = bg; return i; };
  chipKey.append(document.createTextNode("chips: the rows and columns spanned by N —"), sw(PALETTE.actionField),
    document.createTextNode("action field"), sw(PALETTE.matched), document.createTextNode("matched"), sw("#868e96"),
    document.createTextNode("other patches of N"), sw("#e9ecef"), document.createTextNode("not in N"));
  tools.append(key1, key2, exportButton(root, model, "transferability"));
  root.append(ratio, ratioNote, pair, chipKey, tools);
  el.appendChild(root);
  a11yScope(el);

  const sides = ["a", "b"].map((which) => {
    const col = dom("div", "prsg-pair-col");
    col.dataset.side = which;
    const title = dom("div", "prsg-title");
    const canvas = dom("canvas", "prsg-pix");
    const sub = dom("div", "prsg-msg");
    const chips = dom("div", "prsg-chips");
    col.append(title, canvas, sub, chips);
    pair.appendChild(col);
    return { which, col, title, canvas, sub, chips };
  });

  let highlight = null; // action field under the pointer

  function drawImage(side) {
    const w = model.get("width");
    const ctx = drawScaled(side.canvas, bytesOf(model.get("image_" + side.which)), w, model.get("height"), SIZE,
      { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
    const grid = gridOf(model);
    if (!grid) return;
    const s = SIZE / Math.max(1, w);
    strokePatches(ctx, grid, model.get("patches"), s, s, "rgba(255,255,255,0.8)", 1, 0.5);
    describeCanvas(side.canvas, `${model.get("label_" + side.which) || "image " + side.which} with the patches N ` +
      `{${model.get("patches").join(", ")}}` + (highlight ? `; action field {${highlight.join(", ")}} outlined` : ""));
    if (highlight) {
      const matched = new Set(model.get("matched").map(key)).has(key(highlight));
      const inThis = new Set(model.get("top_" + side.which).map(key)).has(key(highlight));
      if (inThis) strokePatches(ctx, grid, highlight, s, s, matched ? PALETTE.matched : PALETTE.actionField, 3, 1.5);
    }
  }

  function chipFor(field, matched) {
    const P = model.get("grid_size");
    const patches = model.get("patches");
    // mini map of the bounding rows/cols of N, action-field cells filled
    const rows = patches.map((p) => Math.floor(p / P)), cols = patches.map((p) => p % P);
    const r0 = Math.min(...rows), r1 = Math.max(...rows), c0 = Math.min(...cols), c1 = Math.max(...cols);
    const chip = dom("div", "prsg-chip" + (matched ? " matched" : ""));
    chip.style.gridTemplateColumns = `repeat(${c1 - c0 + 1}, 11px)`;
    chip.dataset.field = key(field);
    chip.title = `A(S) = {${field.join(", ")}}` + (matched ? " — found in both images" : "") +
      "\nmap of the rows and columns spanned by N: coloured = the action field, dark grey = the other " +
      "patches of N (hover to outline it on the images)";
    const inField = new Set(field), inN = new Set(patches);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const p = r * P + c;
        const i = document.createElement("i");
        if (inField.has(p)) i.className = "on";
        else if (inN.has(p)) i.className = "n";
        chip.appendChild(i);
      }
    }
    chip.setAttribute("role", "img");
    chip.setAttribute("aria-label", `action field {${field.join(", ")}}` + (matched ? ", found in both images" : ""));
    const on = () => { highlight = field; root.dataset.highlight = key(field); sides.forEach(drawImage); };
    const off = () => { highlight = null; root.dataset.highlight = ""; sides.forEach(drawImage); };
    chip.addEventListener("pointerenter", on);
    chip.addEventListener("focus", on);
    chip.addEventListener("pointerleave", off);
    chip.addEventListener("blur", off);
    return chip;
  }

  function update() {
    const matched = new Set(model.get("matched").map(key));
    const r = model.get("ratio");
    const status = model.get("status");
    const refusal = model.get("refusal");
    for (const side of sides) {
      const top = model.get("top_" + side.which);
      side.title.textContent = model.get("label_" + side.which) || `image ${side.which}`;
      const k = model.get("k_" + side.which);
      side.sub.textContent = top.length ? `top ${k} action field${k === 1 ? "" : "s"}` + (side.which === "a" ? ` · ${matched.size} found in b` : "")
        : refusal ? (side.which === "b" ? "the same image as a: not compared" : "") : status;
      const restore = keepFocus(side.chips, "data-field");
      side.chips.textContent = "";
      for (const f of top) side.chips.appendChild(chipFor(f, matched.has(key(f))));
      // one Tab stop per list of chips; the arrow keys outline one action field after another
      side.chips.setAttribute("role", "group");
      side.chips.setAttribute("aria-label", `top action fields of image ${side.which}: arrow keys outline each on the images`);
      roving(side.chips, ".prsg-chip", "data-field");
      restore();
      drawImage(side);
    }
    if (refusal) {  // image b is image a: no ratio, and why
      ratio.innerHTML = "";
      const note = dom("div", "prsg-status error prsg-pair-refused", "⚠ " + refusal);
      note.style.whiteSpace = "normal";  // a sentence, not a figure: wrap it within the view
      note.style.fontSize = "13px";
      note.style.maxWidth = "440px";
      ratio.appendChild(note);
      ratioNote.textContent = "";
    } else if (r >= 0) {
      const pct = (100 * r).toFixed(1);
      ratio.innerHTML = `|A<sub>a</sub> ∩ A<sub>b</sub>| / k<sub>a</sub> = ${matched.size} / ${model.get("k_a")} = ${pct}% ` +
        `<small>(chance ${(100 * model.get("chance")).toFixed(1)}%)</small> `;
      ratio.appendChild(infoIcon("transferability"));
      const comps = model.get("components");
      ratioNote.textContent = comps && comps < 100
        ? `only ${comps} action fields exist with n = ${Math.round(Math.log2(comps + 1))} patches, and k_b = ${model.get("k_b")} ` +
          `of them are compared: a high ratio is easy here — read it against chance (the paper uses n = 9, 511 fields).`
        : "";
    } else {
      ratio.innerHTML = `<small>${status || "waiting for both explanations"}</small>`;
      ratioNote.textContent = "";
    }
    root.dataset.ratio = r >= 0 ? String(r) : "";
    root.dataset.matched = String(matched.size);
    root.dataset.ka = String(model.get("k_a"));
    root.dataset.kb = String(model.get("k_b"));
    root.dataset.labelA = model.get("label_a");
    root.dataset.labelB = model.get("label_b");
    root.dataset.refusal = refusal;
    root.dataset.status = status;
  }

  onChanges(model, ["image_a", "image_b", "top_a", "top_b", "matched", "ratio", "status", "label_a", "label_b", "patches", "k_a", "k_b", "refusal"], update);
  const unwatch = onThemeChange(update);
  const unfit = onWidthChange(el, (w) => {
    const size = clamp(Math.floor((w - 40) / 2), 110, 200);
    if (size !== SIZE) { SIZE = size; update(); }
  });
  update();
  return () => { unwatch(); unfit(); };
}

export default { render };
