// ComponentGallery view: patch filter (click a patch of N), regional-pattern thumbnails with the
// action field outlined (pending ones greyed), and a detail panel. State mirrored in data-*.
// Everything sizes from the container: the side column (filter image, detail image) from the
// width of the cell output, the thumbnails from the cells of their CSS grid (auto-fill, a
// minimum width), each canvas drawn at devicePixelRatio for its CSS size.

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

const ACTION_FIELD = "#d6336c"; // magenta: the action field A(S), everywhere

function render({ model, el }) {
  const root = dom("div", "prsg-widget prsg-cb");
  const side = dom("div", "prsg-cb-side");
  const fTitle = dom("div", "prsg-title", "Filter by patch ");
  fTitle.appendChild(infoIcon("action field"));
  const { stage, canvas, overlay } = imageStage("prsg-filter-stage");
  const fNote = dom("div", "prsg-msg");
  const detail = dom("div", "prsg-detail");
  side.append(fTitle, stage, fNote, detail);

  const main = dom("div", "prsg-cb-main");
  const head = dom("div", "prsg-cb-head");
  const headText = dom("span", "prsg-cb-headtext");
  const legend = dom("div", "prsg-cb-legend");
  legend.append(dom("span", "", "regional patterns Δx_S "), infoIcon("regional pattern"), colorBar(null),
    dom("span", "prsg-swatch prsg-swatch-field", ""), dom("span", "", "action field A(S)"),
    exportButton(root, () => "components " + model.get("caption")));
  head.append(headText);
  const gallery = dom("div", "prsg-gallery");
  main.append(legend, head, gallery);
  root.append(side, main);
  el.appendChild(root);

  let SIDE = 200; // CSS px of the side column (filter image): follows the container (150–240)
  const detailSize = () => Math.round(SIDE * 0.64);

  function drawFilter() {
    const w = model.get("width"), h = model.get("height");
    side.style.width = SIDE + "px";
    drawScaled(canvas, bytesOf(model.get("image")), w, h, SIDE,
      { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
    setCssSize([stage], SIDE, Number(canvas.dataset.cssHeight));
    const cells = fillOverlay(overlay, model, model.get("patches"), SIDE / Math.max(1, w), {
      className: "prsg-cell selected",
      title: (p) => `patch ${p}: show the components whose action field covers it`,
      label: true,
      setup: (cell, p) => cell.addEventListener("click", () => {
        const cur = model.get("filter_patch");
        model.set("filter_patch", cur === p ? -1 : p);
        model.save_changes();
        updateFilter();
      }),
    });
    if (cells) updateFilter();
  }

  function updateFilter() {
    const fp = model.get("filter_patch");
    for (const cell of overlay.children) {
      cell.classList.toggle("filter", Number(cell.dataset.patch) === fp);
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
    gallery.textContent = "";
    let pending = 0;
    for (const it of items) {
      const tile = dom("div", "prsg-thumb");
      tile.dataset.subset = String(it.subset);
      tile.dataset.status = it.status;
      const cv = dom("canvas", "prsg-pix");
      cv.style.aspectRatio = `${Math.max(1, w)} / ${Math.max(1, h)}`;
      const cap = dom("div", "prsg-cap");
      const set = "{" + it.patches.join(",") + "}";
      if (it.status === "ready" && it.thumb >= 0 && all.length >= (it.thumb + 1) * stride) {
        cv.dataset.thumb = String(it.thumb);
        cv.dataset.patches = it.patches.join(",");
        cap.innerHTML = `<b>#${it.rank}</b> ${set}<br>‖I‖₂ = ${fmt(it.norm, 3)}`;
        tile.title = `S = ${set}, |S| = ${it.patches.length}, ‖I(S)‖₂ = ${fmt(it.norm, 4)}` +
          (it.scale ? `, colour range ±${fmt(it.scale, 3)}` : "") + " (click for details)";
        cap.title = tile.title;
      } else {
        tile.classList.add("pending");
        cap.innerHTML = `${set}<br>pending…`;
        tile.title = `S = ${set}: waiting for its minimal features`;
        pending += 1;
      }
      if (it.subset === sel) tile.classList.add("active");
      tile.addEventListener("click", () => {
        model.set("selected_subset", it.subset);
        model.save_changes();
        for (const t of gallery.children) t.classList.toggle("active", t === tile);
      });
      tile.append(cv, cap);
      gallery.appendChild(tile);
    }
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

  function drawDetail() {
    const d = model.get("detail") || {};
    detail.textContent = "";
    root.dataset.detail = d.subset !== undefined ? String(d.subset) : "";
    if (d.subset === undefined) {
      detail.innerHTML = "<div class='prsg-muted'>click a thumbnail for details</div>";
      return;
    }
    detail.appendChild(dom("div", "prsg-title", `S = {${d.patches.join(", ")}}  (|S| = ${d.order})`));
    if (!d.ready) {
      detail.appendChild(dom("div", "", "pending: its minimal features are being solved"));
      return;
    }
    const cv = dom("canvas", "prsg-pix prsg-detail-img");
    drawOutlined(cv, bytesOf(model.get("detail_image")), model.get("width"), model.get("height"), detailSize(), model,
      d.patches, null, { style: true });
    detail.appendChild(cv);
    detail.appendChild(colorBar(d.scale));
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
    detail.appendChild(kv);
    detail.title = "ρ(S): share of the regional pattern's L1 mass inside the action field A(S) " +
      "(Sec. 3.2.1); area: the share a spread-out pattern would get. salient: elements above 1% of " +
      "the largest |value|; 90% mass: fewest elements holding 90% of the L1 mass.";
  }

  onChanges(model, ["image", "patches", "row_edges"], drawFilter);
  onChanges(model, ["filter_patch", "filter_order"], () => { updateFilter(); drawGallery(); });
  onChanges(model, ["items", "thumbs", "hidden", "selected_subset"], drawGallery);
  onChanges(model, ["detail", "detail_image"], drawDetail);
  const unwatch = onThemeChange(drawFilter);
  const unfit = onWidthChange(el, (w) => {
    const s = clamp(Math.floor(w * 0.22), 150, 240);
    if (s !== SIDE) { SIDE = s; drawFilter(); drawDetail(); }
  });
  const unfitThumbs = onWidthChange(gallery, paintThumbs, { own: true });
  drawFilter();
  drawGallery();
  drawDetail();
  return () => { unwatch(); unfit(); unfitThumbs(); };
}

export default { render };
