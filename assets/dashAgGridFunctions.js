// pt-BR value formatters and comparators for dash-ag-grid column definitions
// (used as {"function": "ptNum(params.value, 2)"} etc.; see components/grid.py).
// Cells hold raw values (numbers, ISO dates); these only change what is shown.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
function _isnum(v) { return v !== null && v !== undefined && v !== "" && !Number.isNaN(Number(v)); }
dagfuncs.ptNum = function (v, d) {
  if (!_isnum(v)) return "–";
  var n = Number(v);
  if (!Number.isFinite(n)) return n > 0 ? "∞" : "-∞";
  d = d === undefined ? 2 : d;
  return n.toLocaleString("pt-BR", { minimumFractionDigits: d, maximumFractionDigits: d });
};
dagfuncs.ptBRL = function (v, d) {
  if (!_isnum(v)) return "–";
  var n = Number(v);
  return (n < 0 ? "-" : "") + "R$ " + dagfuncs.ptNum(Math.abs(n), d === undefined ? 2 : d);
};
// a percent value (12.5 -> "12,50%"); signed adds "+" to positives
dagfuncs.ptPctValue = function (v, d, signed) {
  if (!_isnum(v)) return "–";
  var n = Number(v);
  return (signed && n > 0 ? "+" : "") + dagfuncs.ptNum(n, d === undefined ? 2 : d) + "%";
};
// a fraction (0.125 -> "+12,50%"), kept for grids that still hold fractions
dagfuncs.ptPct = function (v, d) {
  if (!_isnum(v)) return "–";
  return dagfuncs.ptPctValue(Number(v) * 100, d, true);
};
dagfuncs.ptDate = function (v) {
  if (!v) return "–";
  var p = String(v).slice(0, 10).split("-");
  return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : String(v);
};
dagfuncs.ptCompact = function (v) {
  if (!_isnum(v)) return "–";
  var n = Number(v), a = Math.abs(n);
  if (a >= 1e12) return dagfuncs.ptNum(n / 1e12, 2) + " tri";
  if (a >= 1e9) return dagfuncs.ptNum(n / 1e9, 2) + " bi";
  if (a >= 1e6) return dagfuncs.ptNum(n / 1e6, 2) + " mi";
  if (a >= 1e3) return dagfuncs.ptNum(n / 1e3, 1) + " mil";
  return dagfuncs.ptNum(n, 0);
};
// agDateColumnFilter comparator for ISO "YYYY-MM-DD[...]" cell values
dagfuncs.isoDateComparator = function (filterDate, cellValue) {
  if (!cellValue) return -1;
  var p = String(cellValue).slice(0, 10).split("-");
  var cell = new Date(Number(p[0]), Number(p[1]) - 1, Number(p[2]));
  if (cell < filterDate) return -1;
  if (cell > filterDate) return 1;
  return 0;
};
// "2024-03" -> "03/2024"
dagfuncs.ptMonth = function (v) {
  if (!v) return "–";
  var p = String(v).slice(0, 7).split("-");
  return p.length === 2 ? p[1] + "/" + p[0] : String(v);
};
// "2024-11-14 10:30[:ss]" or ISO "2024-11-14T10:30" -> "14/11/2024 10:30"
dagfuncs.ptDateTime = function (v) {
  if (!v) return "–";
  var s = String(v).replace("T", " ");
  return dagfuncs.ptDate(s.slice(0, 10)) + (s.length > 10 ? " " + s.slice(11, 16) : "");
};
