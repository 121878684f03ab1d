/*
 * Pregão: on a page that opens with a chart, start loading plotly.js with the page.
 *
 * dcc.Graph loads plotly.js (4,8 MB) only when the first graph mounts, i.e. after the page's
 * layout and its first callback came back: fetching and compiling it then sat on the critical
 * path of the Cotações chart (issue 14). Here the script is requested as soon as the page
 * sends its first callback (the page content, computed on the server), so plotly.js is
 * fetched and compiled while the browser would otherwise only wait for that answer (not
 * earlier: compiling it during the page's own start-up would delay the renderer by as much;
 * at the latest 2 s after the window's load event). dcc.Graph waits on ``Promise.resolve(window.Plotly || <its own loader>)``: until
 * the script has run, ``window.Plotly`` is a promise of it (a thenable, adopted by
 * Promise.resolve), so the library is never loaded twice; plotly.js then sets the real
 * ``window.Plotly`` (05-locale-pt-br.js registers pt-BR on that assignment). Any other code
 * reading ``window.Plotly`` before a graph exists must check for a function (e.g.
 * ``window.Plotly.relayout``), not just truthiness.
 *
 * The URL carries a version fingerprint, so Dash serves it with a one-year cache lifetime
 * (no revalidation round trip on the next visit). The pages whose first paint holds a chart
 * (Cotações, Backtest, Carteira, Operações: issue 11) start it this way; the others are left
 * alone (their load must not pay for a library they do not draw before the user asks).
 */
(function () {
  "use strict";
  var CHART_PAGES = ["/quotes", "/backtest", "/portfolio", "/trading"];
  try {
    if (window.Plotly) return;
    var cfgEl = document.getElementById("_dash-config");
    var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : null;
    if (!cfg || cfg.serve_locally === false || !cfg.plotly_version) return;
    var prefix = cfg.requests_pathname_prefix || "/";
    var path = window.location.pathname;
    if (path.indexOf(prefix) === 0) path = "/" + path.slice(prefix.length);
    var wanted = CHART_PAGES.some(function (p) {
      return path === p || path.indexOf(p + "/") === 0;
    });
    if (!wanted) return;
    var tag = "v" + String(cfg.plotly_version).replace(/[^\w-]/g, "_") + "m0";
    var src = prefix + "_dash-component-suites/plotly/package_data/plotly." + tag + ".min.js";
    var pending = new Promise(function (resolve, reject) {
      function load(url, retry) {
        var s = document.createElement("script");
        s.src = url;
        s.async = true;
        s.onload = function () {
          if (window.Plotly && window.Plotly !== pending) resolve(window.Plotly);
          else reject(new Error("plotly.js did not define window.Plotly"));
        };
        s.onerror = function (err) {
          if (retry) { load(retry, null); } else { reject(err); }
        };
        document.head.appendChild(s);
      }
      var started = false;
      var start = function () {
        if (started) return;
        started = true;
        if (window.fetch === hooked) window.fetch = plainFetch;
        // the plain URL is the one dcc.Graph itself would use: the fallback
        load(src, prefix + "_dash-component-suites/plotly/package_data/plotly.min.js");
      };
      var plainFetch = window.fetch;
      var hooked = function (input, init) {
        var method = (init && init.method) || (input && input.method) || "GET";
        var res = plainFetch.apply(this, arguments);
        if (String(method).toUpperCase() === "POST") setTimeout(start, 0);
        return res;
      };
      if (typeof plainFetch === "function") window.fetch = hooked;
      // a page that sends no callback soon after loading still gets it
      window.addEventListener("load", function () { setTimeout(start, 2000); });
    });
    pending.catch(function () {
      if (window.Plotly === pending) window.Plotly = undefined;
    });
    window.Plotly = pending;
  } catch (e) { /* dcc.Graph loads plotly.js itself */ }
})();
