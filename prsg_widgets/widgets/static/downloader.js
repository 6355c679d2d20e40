// Downloader: an invisible view that hands the browser a file to download each time Python sets
// `payload` (`_export.Downloader`: the paper figure of a view as an SVG).

/**
 * The traits this view reads, synced from Downloader (_export.py).
 * @typedef {object} Model
 * @property {object} payload  the file, `{name, mime, data, n}`: its name, MIME type, base64
 *   content and a counter (so that one file downloaded twice is a change)
 */

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  el.style.display = "none";
  const go = () => {
    const p = model.get("payload");
    if (!p || !p.data) return;
    const a = document.createElement("a");
    a.download = p.name;
    a.href = "data:" + p.mime + ";base64," + p.data;
    document.body.appendChild(a);
    a.click();
    a.remove();
    el.dataset.downloaded = p.name;
  };
  model.on("change:payload", go);
}

export default { render };
