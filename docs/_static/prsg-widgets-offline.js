// Serve the notebooks' widgets from this site, never from a CDN.  Loaded after RequireJS and
// before @jupyter-widgets/html-manager's embed-amd.js (see nb_ipywidgets_js in docs/conf.py, which
// lists the widget modules served in this script's data-modules attribute).
(function () {
  "use strict";
  var script = document.currentScript;
  var root = new URL(
    (document.documentElement.dataset.content_root || "./") + "_static/prsg-vendor/",
    document.baseURI
  ).href;
  var paths = {};
  (script.dataset.modules || "").split(" ").filter(Boolean).forEach(function (name) {
    paths[name] = root + name + "/index";
  });
  window.requirejs.config({ paths: paths });
  // the bundle's icon fonts, beside it
  window.__jupyter_widgets_assets_path__ = root + "html-manager/";
  // A module that is not here would be fetched from "<cdn>NAME@VERSION/dist/index.js"; the bundle
  // takes <cdn> from the data-jupyter-widgets-cdn attribute of any script on the page: point it
  // at this site, so that a missing module fails here, visibly, instead of reaching a CDN.
  script.setAttribute("data-jupyter-widgets-cdn", root + "npm/");
  // ipywidgets' controls typeset a label's maths with MathJax 2's MathJax.Hub.Queue whenever
  // window.MathJax exists; the site has MathJax 3 (no Hub), so each such widget threw a TypeError
  // and stayed half drawn.  Give MathJax 3 that one call.  MathJax (a deferred script) has
  // replaced its configuration object by then; the widgets render after this listener.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || !mj.version || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var el = job && job[2];
        mj.startup.promise.then(function () {
          return mj.typesetPromise(el ? [el] : undefined);
        });
      },
    };
  });
})();
