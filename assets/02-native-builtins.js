/*
 * Pregão: give the page back the browser's own String.prototype.trim, parseInt and parseFloat.
 *
 * Dash ships @babel/polyfill 7.12 (core-js 2) on every page. core-js 2 counts U+180E as white
 * space (it was until Unicode 6.3), so in any current browser its feature test fails and it
 * REPLACES the native trim/trimStart/trimEnd/parseInt/parseFloat with JavaScript versions that
 * are 20–70× slower. plotly.js calls them for every style it sets (d3 .style(), colours,
 * lengths): about a third of the time the Cotações chart takes to draw ~1,700 candles went
 * there (Chromium profile, issue 14). The natives are taken from a fresh realm (a detached
 * about:blank iframe: builtins of another realm work on this realm's strings) and installed
 * here, before dash-renderer and plotly.js run. If anything fails, the polyfill stays.
 * The only difference a page could see: " \u180e".trim() keeps U+180E, as the standard says.
 */
(function () {
  "use strict";
  try {
    var frame = document.createElement("iframe");
    frame.style.display = "none";
    frame.setAttribute("aria-hidden", "true");
    (document.head || document.documentElement).appendChild(frame);
    var w = frame.contentWindow;
    var S = w.String.prototype;
    if (S.trim && w.parseInt && w.parseFloat && " a ".trim.call(" a ") === "a") {
      var fix = function (obj, name, fn) {
        if (typeof fn !== "function") return;
        Object.defineProperty(obj, name, {
          value: fn, writable: true, configurable: true, enumerable: false
        });
      };
      fix(String.prototype, "trim", S.trim);
      fix(String.prototype, "trimStart", S.trimStart);
      fix(String.prototype, "trimEnd", S.trimEnd);
      fix(String.prototype, "trimLeft", S.trimLeft);
      fix(String.prototype, "trimRight", S.trimRight);
      fix(window, "parseInt", w.parseInt);
      fix(window, "parseFloat", w.parseFloat);
      fix(Number, "parseInt", w.parseInt);
      fix(Number, "parseFloat", w.parseFloat);
    }
    frame.parentNode.removeChild(frame);
  } catch (e) { /* keep the polyfill: slower, same results */ }
})();
