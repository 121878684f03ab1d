/*
 * Pregão: start loading what a page's first paint needs while its first callback is computed.
 *
 * 1. plotly.js. dcc.Graph loads plotly.js (4,8 MB) only when the first graph mounts, i.e. after
 * the page's layout and its first callback came back: fetching and compiling it then sat on
 * the critical path of the Cotações chart (issue 14). Here the script is requested as soon as
 * the page sends its first callback (the page content, computed on the server), so plotly.js
 * is fetched and compiled while the browser would otherwise only wait for that answer (not
 * earlier: compiling it during the page's own start-up would delay the renderer by as much;
 * at the latest 2 s after the window's load event). dcc.Graph waits on
 * ``Promise.resolve(window.Plotly || <its own loader>)``: until the script has run,
 * ``window.Plotly`` is a promise of it (a thenable, adopted by Promise.resolve), so the
 * library is never loaded twice; plotly.js then sets the real ``window.Plotly``
 * (05-locale-pt-br.js registers pt-BR on that assignment). Any other code reading
 * ``window.Plotly`` before a graph exists must check for a function (e.g.
 * ``window.Plotly.relayout``), not just truthiness. The pages whose first paint holds a chart
 * (Cotações, Backtest, Carteira, Operações: issue 11) start it this way; the others are left
 * alone (their load must not pay for a library they do not draw before the user asks).
 *
 * 2. The lazy chunks of dcc (dropdown, date picker, graph, upload) and of AG Grid (the grid
 * itself, 0,9 MB). Each was requested only when its first component mounted (after the page
 * content arrived), under an unversioned URL, i.e. one revalidation round trip each and then
 * its compile, in series before the grid's rows or the chart could show (issue 11). Here each
 * chunk a page shows at once is loaded at the same moment as plotly.js, under the versioned
 * URL of its package (the version tag of the package's main bundle on this page): Dash serves
 * it with a one-year lifetime, nothing is revalidated. Running the chunk registers it with
 * its package's webpack runtime (the JSONP chunk array), so the component later finds it
 * installed and requests nothing. A chunk that fails to load is simply loaded by the
 * component as before.
 *
 * URLs with a version fingerprint are served by Dash with a one-year cache lifetime (no
 * revalidation round trip on the next visit).
 */
(function () {
  "use strict";
  var CHART_PAGES = ["/quotes", "/backtest", "/portfolio", "/trading"];
  //: lazy chunk -> [package folder under _dash-component-suites, main bundle name, chunk file]
  var CHUNKS = {
    dropdown: ["dash/dcc/", "dash_core_components", "async-dropdown.js"],
    datepicker: ["dash/dcc/", "dash_core_components", "async-datepicker.js"],
    graph: ["dash/dcc/", "dash_core_components", "async-graph.js"],
    upload: ["dash/dcc/", "dash_core_components", "async-upload.js"],
    grid: ["dash_ag_grid/", "dash_ag_grid", "async-community.js"]
  };
  //: the chunks each page mounts for its first paint (what it requested otherwise); pages
  //: whose first paint needs no chunk (Modelos, Alertas) load theirs as the components mount
  var PAGE_CHUNKS = {
    "/": ["dropdown", "grid"],
    "/quotes": ["dropdown", "datepicker", "graph"],
    "/backtest": ["dropdown", "datepicker", "graph", "grid"],
    "/portfolio": ["dropdown", "datepicker", "graph"],
    "/data": ["upload", "dropdown", "grid"],
    "/trading": ["dropdown", "datepicker", "graph", "grid"]
  };
  function versionTag(folder, bundle) {
    var scripts = document.getElementsByTagName("script");
    var re = new RegExp("/_dash-component-suites/" + folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
      "(?:[^/]*/)*" + bundle + "\\.(v[\\w-]+m[0-9a-fA-F]+)\\.");
    for (var i = 0; i < scripts.length; i++) {
      var m = re.exec(scripts[i].src || "");
      if (m) return m[1];
    }
    return null;
  }
  function chunkUrls(prefix, names) {
    var out = [];
    names.forEach(function (name) {
      var c = CHUNKS[name];
      var tag = c && versionTag(c[0], c[1]);
      if (!tag) return;
      var file = c[2].replace(/\.js$/, "." + tag + ".js");
      var url = prefix + "_dash-component-suites/" + c[0] + file;
      if (out.indexOf(url) < 0) out.push(url);
    });
    return out;
  }
  function addScript(url) {
    var s = document.createElement("script");
    s.src = url;
    s.async = true;
    document.head.appendChild(s);
  }
  try {
    var cfgEl = document.getElementById("_dash-config");
    var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : null;
    if (!cfg || cfg.serve_locally === false) return;
    var prefix = cfg.requests_pathname_prefix || "/";
    var path = window.location.pathname;
    if (path.indexOf(prefix) === 0) path = "/" + path.slice(prefix.length);
    var onPage = function (p) { return path === p || path.indexOf(p + "/") === 0; };
    var chunks = [];
    Object.keys(PAGE_CHUNKS).forEach(function (p) {
      if (p === "/" ? path === "/" : onPage(p)) chunks = PAGE_CHUNKS[p];
    });
    var wanted = !window.Plotly && !!cfg.plotly_version && CHART_PAGES.some(onPage);
    // the URLs are read when loading starts: dcc's bundle is listed after this script
    var loadChunks = function () { chunkUrls(prefix, chunks).forEach(addScript); };
    if (!wanted && !chunks.length) return;
    if (!wanted) {  // chunks only: at the page's first callback, as below
      var plain = window.fetch, sent = false;
      if (typeof plain !== "function") return;
      var hook = function (input, init) {
        var method = (init && init.method) || (input && input.method) || "GET";
        var res = plain.apply(this, arguments);
        if (!sent && String(method).toUpperCase() === "POST") {
          sent = true;
          if (window.fetch === hook) window.fetch = plain;
          setTimeout(loadChunks, 0);
        }
        return res;
      };
      window.fetch = hook;
      return;
    }
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
        loadChunks();
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
