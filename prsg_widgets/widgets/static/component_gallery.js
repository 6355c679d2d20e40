// ComponentGallery view: patch filter (click a patch of N), regional-pattern thumbnails with the
// action field outlined (pending ones greyed), and a detail panel. State mirrored in data-*.

function bytesOf(v) {
  if (!v) return new Uint8ClampedArray(0);
  if (v instanceof DataView) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (v instanceof ArrayBuffer) return new Uint8ClampedArray(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return new Uint8ClampedArray(0);
}

// Draw RGBA bytes scaled up without smoothing into `canvas` (size px square-ish), then outline patches.
function drawScaled(canvas, data, w, h, size, model, outline, color) {
  const dispH = Math.round((h / Math.max(1, w)) * size);
  canvas.width = size;
  canvas.height = dispH;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, size, dispH);
  if (w > 0 && h > 0 && data.length === w * h * 4) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    off.getContext("2d").putImageData(new ImageData(data, w, h), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, size, dispH);
  }
  if (outline && outline.length) {
    const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
    const sx = size / Math.max(1, w), sy = dispH / Math.max(1, h);
    ctx.strokeStyle = color || "#e8590c";
    ctx.lineWidth = Math.max(1.5, size / 60);
    for (const p of outline) {
      const r = Math.floor(p / P), c = p % P;
      const x0 = ce[c] * sx, y0 = re[r] * sy, x1 = ce[c + 1] * sx, y1 = re[r + 1] * sy;
      ctx.strokeRect(x0 + 1, y0 + 1, x1 - x0 - 2, y1 - y0 - 2);
    }
  }
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(2);
  return v.toFixed(digits);
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "prsg-widget prsg-cb";
  const side = document.createElement("div");
  side.className = "prsg-cb-side";
  const fTitle = document.createElement("div");
  fTitle.className = "prsg-title";
  fTitle.textContent = "Filter by patch";
  const stage = document.createElement("div");
  stage.className = "prsg-stage prsg-filter-stage";
  const canvas = document.createElement("canvas");
  canvas.className = "prsg-img";
  const overlay = document.createElement("div");
  overlay.className = "prsg-cells";
  stage.append(canvas, overlay);
  const fNote = document.createElement("div");
  fNote.className = "prsg-msg";
  const detail = document.createElement("div");
  detail.className = "prsg-detail";
  side.append(fTitle, stage, fNote, detail);

  const main = document.createElement("div");
  main.className = "prsg-cb-main";
  const head = document.createElement("div");
  head.className = "prsg-cb-head";
  const gallery = document.createElement("div");
  gallery.className = "prsg-gallery";
  main.append(head, gallery);
  root.append(side, main);
  el.appendChild(root);

  const SIDE = 200;

  function drawFilter() {
    const w = model.get("width"), h = model.get("height");
    const data = bytesOf(model.get("image"));
    const dispH = Math.round((h / Math.max(1, w)) * SIDE);
    stage.style.width = SIDE + "px";
    stage.style.height = dispH + "px";
    canvas.style.width = SIDE + "px";
    canvas.style.height = dispH + "px";
    drawScaled(canvas, data, w, h, SIDE, model, null);
    overlay.textContent = "";
    const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
    if (re.length !== P + 1 || ce.length !== P + 1) return;
    const sx = SIDE / Math.max(1, w);
    for (const p of model.get("patches")) {
      const r = Math.floor(p / P), c = p % P;
      const cell = document.createElement("div");
      cell.className = "prsg-cell selected";
      cell.dataset.patch = String(p);
      cell.title = `patch ${p}: show the components whose action field covers it`;
      cell.style.left = ce[c] * sx + "px";
      cell.style.top = re[r] * sx + "px";
      cell.style.width = (ce[c + 1] - ce[c]) * sx + "px";
      cell.style.height = (re[r + 1] - re[r]) * sx + "px";
      const label = document.createElement("span");
      label.className = "prsg-cell-id";
      label.textContent = String(p);
      cell.appendChild(label);
      cell.addEventListener("click", () => {
        const cur = model.get("filter_patch");
        model.set("filter_patch", cur === p ? -1 : p);
        model.save_changes();
        updateFilter();
      });
      overlay.appendChild(cell);
    }
    updateFilter();
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
      const tile = document.createElement("div");
      tile.className = "prsg-thumb";
      tile.dataset.subset = String(it.subset);
      tile.dataset.status = it.status;
      const cv = document.createElement("canvas");
      cv.className = "prsg-pix";
      const cap = document.createElement("div");
      cap.className = "prsg-cap";
      const set = "{" + it.patches.join(",") + "}";
      if (it.status === "ready" && it.thumb >= 0 && all.length >= (it.thumb + 1) * stride) {
        drawScaled(cv, all.slice(it.thumb * stride, (it.thumb + 1) * stride), w, h, 96, model, it.patches);
        cap.innerHTML = `<b>#${it.rank}</b> ${set}<br>‖I‖₂ = ${fmt(it.norm, 3)}`;
        tile.title = `S = ${set}, |S| = ${it.patches.length}, ‖I(S)‖₂ = ${fmt(it.norm, 4)} (click for details)`;
      } else {
        tile.classList.add("pending");
        cv.width = 96;
        cv.height = 96;
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
    const hidden = model.get("hidden");
    const fo = model.get("filter_order"), fp = model.get("filter_patch");
    const filters = [];
    if (fo > 0) filters.push(`|S| = ${fo}`);
    if (fp >= 0) filters.push(`covers patch ${fp}`);
    head.textContent = `${items.length} of ${model.get("total")} components listed` +
      (filters.length ? ` (${filters.join(", ")})` : "") +
      (hidden > 0 ? ` · ${hidden} more not shown` : "") +
      (pending > 0 ? ` · ${pending} pending` : "") + " · sorted by ‖I(S)‖₂";
    root.dataset.listed = items.map((it) => it.subset).join(",");
    root.dataset.count = String(items.length);
    root.dataset.pending = String(pending);
    updateFilter();
  }

  function drawDetail() {
    const d = model.get("detail") || {};
    detail.textContent = "";
    root.dataset.detail = d.subset !== undefined ? String(d.subset) : "";
    if (d.subset === undefined) {
      detail.innerHTML = "<div class='prsg-muted'>click a thumbnail for details</div>";
      return;
    }
    const t = document.createElement("div");
    t.className = "prsg-title";
    t.textContent = `S = {${d.patches.join(", ")}}  (|S| = ${d.order})`;
    detail.appendChild(t);
    if (!d.ready) {
      const p = document.createElement("div");
      p.textContent = "pending: its minimal features are being solved";
      detail.appendChild(p);
      return;
    }
    const cv = document.createElement("canvas");
    cv.className = "prsg-pix";
    drawScaled(cv, bytesOf(model.get("detail_image")), model.get("width"), model.get("height"), 128, model, d.patches);
    cv.style.width = "128px";
    detail.appendChild(cv);
    const kv = document.createElement("div");
    kv.className = "prsg-kv";
    const rows = [
      ["rank", `${d.rank} by norm`],
      ["‖I(S)‖₂", fmt(d.norm, 4)],
      ["ρ(S)", `${fmt(d.rho)} (area ${fmt(d.rho_chance)})`],
      ["salient", `${fmt(100 * d.salient_fraction, 1)}% of ${d.d}`],
      ["90% mass", `${fmt(100 * d.mass_fraction, 1)}% of elements`],
    ];
    for (const [k, v] of rows) {
      const a = document.createElement("span");
      a.textContent = k;
      const b = document.createElement("span");
      b.textContent = v;
      kv.append(a, b);
    }
    detail.appendChild(kv);
    detail.title = "ρ(S): share of the regional pattern's L1 mass inside the action field A(S) " +
      "(Sec. 3.2.1); area: the share a spread-out pattern would get. salient: elements above 1% of " +
      "the largest |value|; 90% mass: fewest elements holding 90% of the L1 mass.";
  }

  model.on("change:image", drawFilter);
  model.on("change:patches", drawFilter);
  model.on("change:row_edges", drawFilter);
  model.on("change:filter_patch", () => { updateFilter(); drawGallery(); });
  model.on("change:filter_order", () => { updateFilter(); drawGallery(); });
  model.on("change:items", drawGallery);
  model.on("change:thumbs", drawGallery);
  model.on("change:hidden", drawGallery);
  model.on("change:selected_subset", drawGallery);
  model.on("change:detail", drawDetail);
  model.on("change:detail_image", drawDetail);
  drawFilter();
  drawGallery();
  drawDetail();
}

export default { render };
