/*
 * Pregão: keep every Plotly figure in the page's theme.
 *
 * Figures are built on the server in the theme of the moment (components/theme.py). When the
 * light/dark switch changes (Bootstrap's data-bs-theme on <html>) or a figure built earlier
 * (e.g. by a background job) is drawn in the other theme, this restyles it in the browser
 * with the same Plotly template (window.pregaoThemes, generated from plotly's templates into
 * 07-plotly-themes.js by components.theme.themes_js) instead of recomputing it.
 */
(function () {
  "use strict";
  function wanted() {
    return document.documentElement.getAttribute("data-bs-theme") === "dark" ? "dark" : "light";
  }
  function sync(gd) {
    var themes = window.pregaoThemes;
    if (!themes || !window.Plotly || !gd || !gd.layout || !gd._fullLayout) return;
    var want = wanted();
    var target = themes[want];
    var cur = gd.layout.template;
    var curBg = cur && cur.layout ? cur.layout.paper_bgcolor : undefined;
    if (curBg === target.layout.paper_bgcolor) return;
    var clear = "rgba(0,0,0,0)";
    window.Plotly.relayout(gd, {
      template: target,
      paper_bgcolor: want === "dark" ? clear : null,
      plot_bgcolor: want === "dark" ? clear : null
    });
  }
  function syncAll() {
    var plots = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < plots.length; i++) {
      var gd = plots[i];
      if (!gd.__pregaoTheme && gd.on) {
        gd.__pregaoTheme = true;
        gd.on("plotly_afterplot", function () { sync(this); }.bind(gd));
      }
      sync(gd);
    }
  }
  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; syncAll(); });
  }
  function start() {
    new MutationObserver(schedule).observe(document.documentElement, {
      attributes: true, attributeFilter: ["data-bs-theme"]
    });
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
    schedule();
  }
  window.pregaoSyncTheme = syncAll;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
