/*
 * Pregão: an opened dropdown puts the cursor in its search box, so a trader can type a ticker
 * at once ("itau" finds Itaú: options carry an accent-free "search" text, see
 * components/inputs.py). Dash 4's dropdown focuses the selected option instead.
 */
(function () {
  "use strict";
  function focusSearch(content) {
    var search = content.querySelector(".dash-dropdown-search");
    if (search && document.activeElement !== search) {
      search.focus({ preventScroll: true });
    }
  }
  var openedAt = 0;
  // the list focuses its selected option right after opening: hand the focus back to search
  document.addEventListener("focusin", function (e) {
    var t = e.target;
    if (!t || !t.closest || Date.now() - openedAt > 600) return;
    var content = t.closest(".dash-dropdown-content");
    if (content && !t.classList.contains("dash-dropdown-search")) focusSearch(content);
  });
  function onMutations(records) {
    for (var i = 0; i < records.length; i++) {
      var added = records[i].addedNodes;
      for (var j = 0; j < added.length; j++) {
        var node = added[j];
        if (node.nodeType !== 1) continue;
        var content = node.classList.contains("dash-dropdown-content")
          ? node : node.querySelector && node.querySelector(".dash-dropdown-content");
        if (content) {
          openedAt = Date.now();
          // after the popover's own focus handling
          window.setTimeout(function (c) { return function () { focusSearch(c); }; }(content), 30);
        }
      }
    }
  }
  function start() {
    new MutationObserver(onMutations).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
