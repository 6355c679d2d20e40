// ComponentGallery view: patch filter (click a patch of N), regional-pattern thumbnails with the
// action field outlined (pending ones greyed), and a detail panel. State mirrored in data-*.
// Everything sizes from the container: the side column (filter image, detail image) from the
// width of the cell output, the thumbnails from the cells of their CSS grid (auto-fill, a
// minimum width), each canvas drawn at devicePixelRatio for its CSS size.

import {
  bytesOf, dom, imageStage, onChanges, setCssSize, drawScaled, onWidthChange, clamp,
  themeColor, onThemeChange, infoIcon, colorBar, exportButton, describeCanvas, gridOf,
  strokePatches, fillOverlay, cellsOf, keepFocus, roving, a11yScope } from "./common.js";
import { PALETTE } from "./constants.js";

/**
 * The traits this view reads, synced from ComponentGallery (component_gallery.py).
 * @typedef {GridModel & ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {DataView} image  RGBA bytes of the explained image
 * @property {number} width  image width in pixels
 * @property {number} height  image height in pixels
 * @property {number[]} patches  the explained patches N
 * @property {object[]} items  the listed components: {subset, patches, status, norm, rank, thumb, scale, tie, negligible}
 * @property {DataView} thumbs  the thumbnails' RGBA images back to back (items[i].thumb indexes them)
 * @property {number} total  components in all (2^n − 1)
 * @property {number} hidden  components that match the filters beyond the ones listed
 * @property {number} filter_patch  the patch filter (-1: none; the view sets it)
 * @property {number} filter_order  the order filter |S| (0: all)
 * @property {number} selected_subset  the component in the detail panel (-1: none; the view sets it)
 * @property {object} detail  the detail panel's numbers
 * @property {DataView} detail_image  the selected component's regional pattern
 * @property {DataView} detail_with  g(f_N)
 * @property {DataView} detail_without  g(f_N − I(S))
 * @property {object[]} drafts  solved minimal features shown before any component: {subset, patches}
 * @property {DataView} draft_thumbs  g(f_T) of each draft, back to back
 * @property {object} drafts_state  {solved, total, state} of the solve
 */
/** @typedef {import("./common.js").GridModel} GridModel */
/** @typedef {import("./common.js").ExportModel} ExportModel */

// Draw RGBA bytes scaled up without smoothing into `canvas` (`size` CSS px wide), then outline patches.
function drawOutlined(canvas, data, w, h, size, model, outline, color, opts = {}) {
  const ctx = drawScaled(canvas, data, w, h, size, opts);
  const grid = gridOf(model);
  if (outline && outline.length && grid) {
    strokePatches(ctx, grid, outline, size / Math.max(1, w), Number(canvas.dataset.cssHeight) / Math.max(1, h),
      color || ACTION_FIELD, Math.max(1.5, size / 60), 1);
  }
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(2);
  return v.toFixed(digits);
}

const ACTION_FIELD = PALETTE.actionField; // magenta: the action field A(S), everywhere (palette.py)

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  const root = dom("div", "prsg-widget prsg-cb");
  const side = dom("div", "prsg-cb-side");
  const fTitle = dom("div", "prsg-title", "Filter by patch ");
  fTitle.appendChild(infoIcon("action field"));
  const { stage, canvas, overlay } = imageStage("prsg-filter-stage");
  const fNote = dom("div", "prsg-msg");
  const detail = dom("div", "prsg-detail");
  side.append(fTitle, stage, fNote);

  const main = dom("div", "prsg-cb-main");
  const head = dom("div", "prsg-cb-head");
  const headText = dom("span", "prsg-cb-headtext");
  const legend = dom("div", "prsg-cb-legend");
  const fieldKey = dom("span", "prsg-nowrap");
  fieldKey.append(dom("span", "prsg-swatch prsg-swatch-field", ""), dom("span", "", " action field A(S)"));
  legend.append(dom("span", "", "regional patterns Δx_S "), infoIcon("regional pattern"), colorBar(null), fieldKey,
    exportButton(root, model, "components"));
  head.append(headText);
  const drafts = dom("div", "prsg-drafts");
  const gallery = dom("div", "prsg-gallery");
  main.append(legend, drafts, head, gallery, detail);
  root.append(side, main);
  el.appendChild(root);
  a11yScope(el);

  let SIDE = 200; // CSS px of the side column (filter image): follows the container (150–240)
  const detailSize = () => Math.round(SIDE * 0.6);

  function drawFilter() {
    const w = model.get("width"), h = model.get("height");
    side.style.width = SIDE + "px";
    drawScaled(canvas, bytesOf(model.get("image")), w, h, SIDE,
      { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
    setCssSize([stage], SIDE, Number(canvas.dataset.cssHeight));
    const cells = fillOverlay(overlay, model, model.get("patches"), SIDE / Math.max(1, w), {
      className: "prsg-cell selected",
      name: "filter by patch: arrow keys move, Space or Enter filters",
      title: (p) => `patch ${p}: show the components whose action field covers it`,
      label: true,
      setup: (cell, p) => {
        cell.addEventListener("click", () => {
          const cur = model.get("filter_patch");
          model.set("filter_patch", cur === p ? -1 : p);
          model.save_changes();
          updateFilter();
        });
        // linked hover: a patch lights up the components whose action field covers it
        cell.addEventListener("pointerenter", () => linkPatch(p));
        cell.addEventListener("focus", () => linkPatch(p));
        cell.addEventListener("pointerleave", () => linkPatch(-1));
        cell.addEventListener("blur", () => linkPatch(-1));
      },
    });
    if (cells) updateFilter();
  }

  function linkPatch(p) {
    const linked = [];
    for (const t of gallery.children) {
      const on = p >= 0 && (t.dataset.patches || "").split(",").map(Number).includes(p);
      t.classList.toggle("linked", on);
      if (on) linked.push(t.dataset.subset);
    }
    root.dataset.linked = linked.join(",");
    root.dataset.hoverPatch = String(p);
  }

  // linked hover: a component outlines its action field on the filter image
  function linkField(patches) {
    const on = new Set(patches || []);
    for (const cell of cellsOf(overlay)) cell.classList.toggle("linked", on.has(Number(cell.dataset.patch)));
    root.dataset.hoverField = patches ? patches.join(",") : "";
  }

  function updateFilter() {
    const fp = model.get("filter_patch");
    for (const cell of cellsOf(overlay)) {
      cell.classList.toggle("filter", Number(cell.dataset.patch) === fp);
      cell.setAttribute("aria-selected", String(Number(cell.dataset.patch) === fp));
    }
    fNote.textContent = fp >= 0 ? `showing components whose action field covers patch ${fp} (click again to clear)`
      : "click a patch to list the components that cover it";
    root.dataset.filterPatch = String(fp);
    root.dataset.filterOrder = String(model.get("filter_order"));
  }

  function drawGallery() {
    const items = model.get("items");
    const w = model.get("width"), h = model.get("height");
    const all = bytesOf(model.get("thumbs"));
    const stride = w * h * 4;
    const sel = model.get("selected_subset");
    const restore = keepFocus(gallery, "data-subset");
    gallery.textContent = "";
    let pending = 0;
    for (const it of items) {
      const tile = dom("div", "prsg-thumb");
      tile.dataset.subset = String(it.subset);
      tile.dataset.status = it.status;
      tile.dataset.patches = it.patches.join(",");
      tile.setAttribute("role", "option");
      tile.setAttribute("aria-selected", String(it.subset === sel));
      const cv = dom("canvas", "prsg-pix");
      cv.style.aspectRatio = `${Math.max(1, w)} / ${Math.max(1, h)}`;
      const cap = dom("div", "prsg-cap");
      const set = "{" + it.patches.join(",") + "}";
      if (it.status === "ready" && it.thumb >= 0 && all.length >= (it.thumb + 1) * stride) {
        cv.dataset.thumb = String(it.thumb);
        cv.dataset.patches = it.patches.join(",");
        const tie = it.tie ? ` <span class="prsg-tie" title="same norm as #${it.tie} to 3 significant digits">= #${it.tie}</span>` : "";
        const zero = it.negligible ? ` <span class="prsg-tie" title="${PALETTE.negligibleWords}">≈ 0</span>` : "";
        cap.innerHTML = `<b>#${it.rank}</b> ${set}<br>‖I‖₂ = ${fmt(it.norm, 3)}${tie}${zero}`;
        tile.title = `S = ${set}, |S| = ${it.patches.length}, ‖I(S)‖₂ = ${fmt(it.norm, 4)}` +
          (it.scale ? `, colour range ±${fmt(it.scale, 3)}` : "") + " (click or Enter for details)";
        cap.title = tile.title;
        describeCanvas(cv, `regional pattern of component ${it.rank}, S = ${set}, norm ${fmt(it.norm, 3)}`);
      } else {
        tile.classList.add("pending");
        cap.innerHTML = `${set}<br>pending…`;
        tile.title = `S = ${set}: waiting for its minimal features`;
        describeCanvas(cv, `component S = ${set}: pending`);
        pending += 1;
      }
      tile.setAttribute("aria-label", tile.title);
      if (it.subset === sel) tile.classList.add("active");
      const choose = () => {
        model.set("selected_subset", it.subset);
        model.save_changes();
        // (by subset: the model change may already have rebuilt the tiles)
        for (const t of gallery.children) {
          const on = t.dataset.subset === String(it.subset);
          t.classList.toggle("active", on);
          t.setAttribute("aria-selected", String(on));
        }
      };
      tile.addEventListener("click", choose); // Enter / Space: a click (roving, below)
      tile.addEventListener("pointerenter", () => linkField(it.patches));
      tile.addEventListener("focus", () => linkField(it.patches));
      tile.addEventListener("pointerleave", () => linkField(null));
      tile.addEventListener("blur", () => linkField(null));
      tile.append(cv, cap);
      gallery.appendChild(tile);
    }
    // a listbox with one Tab stop; the focus stays on the chosen component across this rebuild
    gallery.setAttribute("role", "listbox");
    gallery.setAttribute("aria-label", "feature components, sorted by norm: arrow keys move, Enter shows the details");
    roving(gallery, ".prsg-thumb", "data-subset");
    restore();
    paintThumbs();
    const hidden = model.get("hidden");
    const fo = model.get("filter_order"), fp = model.get("filter_patch");
    const filters = [];
    if (fo > 0) filters.push(`|S| = ${fo}`);
    if (fp >= 0) filters.push(`covers patch ${fp}`);
    headText.textContent = `${items.length} of ${model.get("total")} components listed` +
      (filters.length ? ` (${filters.join(", ")})` : "") +
      (hidden > 0 ? ` · ${hidden} more not shown` : "") +
      (pending > 0 ? ` · ${pending} pending` : "") + " · sorted by ‖I(S)‖₂";
    root.dataset.listed = items.map((it) => it.subset).join(",");
    root.dataset.caption = model.get("caption");
    root.dataset.count = String(items.length);
    root.dataset.pending = String(pending);
    updateFilter();
  }

  // Draw every thumbnail at the CSS width its grid cell gives it (all cells are as wide), at
  // devicePixelRatio; pending ones only get a backing store of that size (CSS draws the hatch).
  function paintThumbs() {
    const canvases = gallery.querySelectorAll("canvas");
    if (!canvases.length) return;
    const size = canvases[0].getBoundingClientRect().width;
    if (!(size > 0)) return;
    const w = model.get("width"), h = model.get("height");
    const all = bytesOf(model.get("thumbs"));
    const stride = w * h * 4;
    for (const cv of canvases) {
      const i = cv.dataset.thumb === undefined ? -1 : Number(cv.dataset.thumb);
      const data = i >= 0 ? all.slice(i * stride, (i + 1) * stride) : new Uint8ClampedArray(0);
      const outline = i >= 0 && cv.dataset.patches ? cv.dataset.patches.split(",").map(Number) : [];
      drawOutlined(cv, data, w, h, size, model, outline);
    }
    root.dataset.thumbSize = String(Math.round(size * 10) / 10);
  }

  let removed = false; // the detail shows g(f_N − I(S)) instead of g(f_N)

  function drawDetail() {
    const d = model.get("detail") || {};
    const restore = keepFocus(detail, "data-key");
    detail.textContent = "";
    root.dataset.detail = d.subset !== undefined ? String(d.subset) : "";
    if (d.subset === undefined) {
      detail.innerHTML = "<div class='prsg-muted'>click a thumbnail (or Tab to it and press Enter) for details</div>";
      return;
    }
    detail.appendChild(dom("div", "prsg-title", `S = {${d.patches.join(", ")}}  (|S| = ${d.order})`));
    if (!d.ready) {
      detail.appendChild(dom("div", "", "pending: its minimal features are being solved"));
      return;
    }
    const w = model.get("width"), h = model.get("height"), size = detailSize();
    const row = dom("div", "prsg-detail-row");
    const colP = dom("div", "prsg-rec-col"), colX = dom("div", "prsg-rec-col");
    const cv = dom("canvas", "prsg-pix prsg-detail-img");
    drawOutlined(cv, bytesOf(model.get("detail_image")), w, h, size, model, d.patches, null, { style: true });
    describeCanvas(cv, `regional pattern of S = {${d.patches.join(", ")}}`);
    colP.append(dom("div", "", "regional pattern Δx_S"), cv, colorBar(d.scale));
    const xv = dom("canvas", "prsg-pix prsg-detail-x");
    const toggle = dom("button", "prsg-btn prsg-remove");
    toggle.dataset.key = "remove";
    const label = dom("div", "prsg-muted");
    const paintX = () => {
      const img = removed ? model.get("detail_without") : model.get("detail_with");
      drawOutlined(xv, bytesOf(img), w, h, size, model, d.patches, null, { style: true });
      toggle.textContent = removed ? "put I(S) back" : "remove I(S)";
      toggle.setAttribute("aria-pressed", String(removed));
      label.textContent = removed ? "g(f_N − I(S)): the image without this component" : "g(f_N): the image with every component";
      describeCanvas(xv, label.textContent);
      root.dataset.removed = String(removed);
    };
    toggle.title = "remove this component from f_N and show the image at once (press again to put it back)";
    toggle.addEventListener("click", () => { removed = !removed; paintX(); });
    colX.append(label, xv, toggle);
    paintX();
    const kv = dom("div", "prsg-kv");
    const rows = [
      ["rank", `${d.rank} by norm`],
      ["‖I(S)‖₂", fmt(d.norm, 4)],
      ["ρ(S)", `${fmt(d.rho)} (area ${fmt(d.rho_chance)})`],
      ["salient", `${fmt(100 * d.salient_fraction, 1)}% of ${d.d}`],
      ["90% mass", `${fmt(100 * d.mass_fraction, 1)}% of elements`],
    ];
    for (const [k, v] of rows) {
      const key = dom("span", "", k + " ");
      if (k === "ρ(S)") key.appendChild(infoIcon("rho"));
      kv.append(key, dom("span", "", v));
    }
    kv.title = "ρ(S): share of the regional pattern's L1 mass inside the action field A(S) " +
      "(Sec. 3.2.1); area: the share a spread-out pattern would get. salient: elements above 1% of " +
      "the largest |value|; 90% mass: fewest elements holding 90% of the L1 mass.";
    row.append(colP, colX, kv);
    detail.appendChild(row);
    restore();
  }

  // Before any component can be computed (the nested solve needs the largest subsets first), the
  // minimal features already solved are shown as images g(f_T), T outlined: the first picture.
  function drawDrafts() {
    const items = model.get("drafts");
    drafts.textContent = "";
    root.dataset.drafts = String(items.length);
    root.dataset.caption = model.get("caption");
    if (!items.length) { drafts.style.display = "none"; return; }
    drafts.style.display = "";
    // the count is every minimal feature solved (from Python), not the tiles drawn (the largest few)
    const st = model.get("drafts_state") || {};
    const solved = st.solved ?? items.length, total = st.total ?? 0;
    const count = `${solved.toLocaleString("en-US")}` + (total ? ` of ${total.toLocaleString("en-US")}` : "") +
      ` minimal feature${solved === 1 ? "" : "s"}`;
    const head = st.state === "stopped" ? `Solve stopped by Cancel: ${count} solved (kept; Resume continues). `
      : st.state === "failed" ? `Solve failed: ${count} solved (kept; Resume retries). `
      : `Solved so far: ${count}. `;
    // f_∅ = b counts as solved but is never drawn
    const shown = items.length < solved - 1 ? `The ${items.length} with the largest T are shown` : "Each is shown";
    root.dataset.draftsSolved = String(solved);
    root.dataset.draftsState = st.state || "";
    const note = dom("div", "prsg-muted prsg-drafts-note");
    note.append(document.createTextNode(head + shown + " as the image it regenerates, g(f_T), with its " +
      "patches T outlined. The components I(S) need the largest subsets and appear when those are solved. "),
      infoIcon("minimal feature"));
    const strip = dom("div", "prsg-draft-strip");
    const w = model.get("width"), h = model.get("height"), stride = w * h * 4;
    const all = bytesOf(model.get("draft_thumbs"));
    items.forEach((it, i) => {
      const tile = dom("div", "prsg-draft");
      tile.dataset.subset = String(it.subset);
      const cv = dom("canvas", "prsg-pix");
      if (all.length >= (i + 1) * stride) {
        drawOutlined(cv, all.slice(i * stride, (i + 1) * stride), w, h, 72, model, it.patches, PALETTE.selected, { style: true });
        cv.dataset.ready = "1";
      }
      describeCanvas(cv, `g(f_T) for T = {${it.patches.join(", ")}}`);
      tile.append(cv, dom("div", "prsg-cap", `T = {${it.patches.join(",")}}`));
      strip.appendChild(tile);
    });
    drafts.append(note, strip);
  }

  onChanges(model, ["image", "patches", "row_edges"], drawFilter);
  onChanges(model, ["filter_patch", "filter_order"], () => { updateFilter(); drawGallery(); });
  onChanges(model, ["items", "thumbs", "hidden", "selected_subset"], drawGallery);
  onChanges(model, ["detail", "detail_image", "detail_with", "detail_without"], () => { removed = false; drawDetail(); });
  onChanges(model, ["drafts", "draft_thumbs", "drafts_state"], drawDrafts);
  const unwatch = onThemeChange(drawFilter);
  const unfit = onWidthChange(el, (w) => {
    const s = clamp(Math.floor(w * 0.22), 150, 240);
    if (s !== SIDE) { SIDE = s; drawFilter(); drawDetail(); drawDrafts(); }
  });
  const unfitThumbs = onWidthChange(gallery, paintThumbs, { own: true });
  drawFilter();
  drawGallery();
  drawDetail();
  drawDrafts();
  describeCanvas(canvas, "the image with the patches N: click a patch to filter the components");
  return () => { unwatch(); unfit(); unfitThumbs(); };
}

export default { render };
