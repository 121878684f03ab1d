// pt-BR value formatters for dash-ag-grid column definitions
// (used as {"function": "ptNum(params.value, 2)"} etc.).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
function _isnum(v) { return v !== null && v !== undefined && !Number.isNaN(v) && v !== ""; }
dagfuncs.ptNum = function (v, d) {
  if (!_isnum(v)) return "–";
  return Number(v).toLocaleString("pt-BR", { minimumFractionDigits: d, maximumFractionDigits: d });
};
dagfuncs.ptBRL = function (v, d) {
  if (!_isnum(v)) return "–";
  return "R$ " + dagfuncs.ptNum(v, d === undefined ? 2 : d);
};
dagfuncs.ptPct = function (v, d) {
  if (!_isnum(v)) return "–";
  var s = Number(v * 100).toLocaleString("pt-BR", { minimumFractionDigits: d, maximumFractionDigits: d });
  return (v > 0 ? "+" : "") + s + "%";
};
dagfuncs.ptDate = function (v) {
  if (!v) return "–";
  var p = String(v).slice(0, 10).split("-");
  return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : v;
};
dagfuncs.ptCompact = function (v) {
  if (!_isnum(v)) return "–";
  var a = Math.abs(v);
  if (a >= 1e9) return dagfuncs.ptNum(v / 1e9, 2) + " bi";
  if (a >= 1e6) return dagfuncs.ptNum(v / 1e6, 2) + " mi";
  if (a >= 1e3) return dagfuncs.ptNum(v / 1e3, 1) + " mil";
  return dagfuncs.ptNum(v, 0);
};
