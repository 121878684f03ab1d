/*
 * Pregão: Portuguese (Brazil) for the two libraries that draw text in the browser.
 *
 * 1. plotly.js: a "pt-BR" locale (month and day names, d/m/a dates, decimal comma, modebar
 *    texts and the candlestick hover labels abertura/máxima/mínima/fechamento). plotly.js
 *    registers window.PlotlyLocales when it loads (Dash loads it asynchronously, after this
 *    file); the setter below also makes "pt-BR" the default config locale of every graph.
 * 2. date-fns (used by Dash 4's DatePickerSingle/DatePickerRange): window.dateFns.locale.ptBR,
 *    which the pickers use for month and weekday names whatever the browser's language.
 *
 * Written for this project (MIT-licensed libraries' public locale formats).
 */
(function () {
  "use strict";
  var MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
    "setembro", "outubro", "novembro", "dezembro"];
  var SHORT_MONTHS = ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"];
  var DAYS = ["domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira",
    "sexta-feira", "sábado"];
  var SHORT_DAYS = ["dom", "seg", "ter", "qua", "qui", "sex", "sáb"];
  var MIN_DAYS = ["D", "S", "T", "Q", "Q", "S", "S"];

  // ------------------------------------------------------------------ plotly.js
  var PLOTLY_PT_BR = {
    moduleType: "locale",
    name: "pt-BR",
    dictionary: {
      "Autoscale": "Escala automática",
      "Box Select": "Selecionar retângulo",
      "Lasso Select": "Selecionar com laço",
      "Pan": "Arrastar",
      "Zoom": "Zoom",
      "Zoom in": "Aproximar",
      "Zoom out": "Afastar",
      "Reset axes": "Restaurar eixos",
      "Reset": "Restaurar",
      "Reset view": "Restaurar vista",
      "Reset views": "Restaurar vistas",
      "Toggle Spike Lines": "Linhas de referência",
      "Show closest data on hover": "Mostrar o ponto mais próximo",
      "Compare data on hover": "Comparar dados ao passar o mouse",
      "Toggle show closest data on hover": "Alternar ponto mais próximo",
      "Download plot as a png": "Baixar o gráfico como PNG",
      "Download plot as a PNG": "Baixar o gráfico como PNG",
      "Download plot as JSON": "Baixar o gráfico como JSON",
      "Download plot": "Baixar o gráfico",
      "Image download succeeded": "Imagem baixada",
      "JSON download succeeded": "JSON baixado",
      "Preparing image - this may take a few seconds": "Preparando a imagem: pode levar alguns segundos",
      "Sorry, there was a problem downloading your image!": "Não foi possível baixar a imagem.",
      "Sorry, there was a problem downloading your JSON file!": "Não foi possível baixar o JSON.",
      "Double-click on legend to isolate one trace": "Clique duas vezes na legenda para isolar uma série",
      "Share chart...": "Compartilhar gráfico...",
      "Cancel": "Cancelar",
      "Orbital rotation": "Rotação orbital",
      "Turntable rotation": "Rotação em plataforma",
      "Reset camera to default": "Restaurar câmera",
      "Reset camera to last save": "Restaurar última câmera",
      "Click to enter Plot title": "Clique para escrever o título",
      "Click to enter X axis title": "Clique para escrever o título do eixo X",
      "Click to enter Y axis title": "Clique para escrever o título do eixo Y",
      "Click to enter Colorscale title": "Clique para escrever o título da escala",
      "Double-click to zoom back out": "Clique duas vezes para desfazer o zoom",
      "Taking snapshot - this may take a few seconds": "Gerando a imagem: pode levar alguns segundos",
      "Snapshot succeeded": "Imagem gerada",
      "Sorry, there was a problem downloading your snapshot!": "Não foi possível baixar a imagem.",
      "Produced with Plotly.js": "Feito com Plotly.js",
      "Draw line": "Desenhar linha",
      "Draw open freeform": "Desenhar à mão livre",
      "Draw closed freeform": "Desenhar forma livre",
      "Draw circle": "Desenhar círculo",
      "Draw rectangle": "Desenhar retângulo",
      "Erase active shape": "Apagar forma",
      "new text": "novo texto",
      "trace": "série",
      "open:": "abertura:",
      "high:": "máxima:",
      "low:": "mínima:",
      "close:": "fechamento:",
      "incr": "alta",
      "decr": "queda",
      "min:": "mín.:",
      "max:": "máx.:",
      "mean:": "média:",
      "median:": "mediana:",
      "q1:": "q1:",
      "q3:": "q3:",
      "lower fence:": "limite inferior:",
      "upper fence:": "limite superior:",
      "source:": "origem:",
      "target:": "destino:"
    },
    format: {
      days: DAYS,
      shortDays: SHORT_DAYS,
      months: MONTHS,
      shortMonths: SHORT_MONTHS,
      periods: ["AM", "PM"],
      dateTime: "%a, %e de %b de %Y %X",
      date: "%d/%m/%Y",
      time: "%H:%M:%S",
      decimal: ",",
      thousands: ".",
      grouping: [3],
      currency: ["R$ ", ""]
    }
  };

  function configurePlotly(P) {
    try {
      P.register(PLOTLY_PT_BR);
      P.setPlotConfig({ locale: "pt-BR" });
    } catch (e) { /* an older plotly.js: per-graph config still sets the locale */ }
  }

  if (window.Plotly && window.Plotly.register) {
    configurePlotly(window.Plotly);
  } else {
    window.PlotlyLocales = (window.PlotlyLocales || []).concat([PLOTLY_PT_BR]);
    var current;
    try {
      Object.defineProperty(window, "Plotly", {
        configurable: true,
        enumerable: true,
        get: function () { return current; },
        set: function (v) {
          current = v;
          if (v && v.setPlotConfig) { configurePlotly(v); }
        }
      });
    } catch (e) { /* non-configurable: PlotlyLocales + per-graph config still apply */ }
  }

  // ------------------------------------------------------------------ date-fns
  function pick(arrays) {
    return function (index, options) {
      var width = (options && options.width) || "wide";
      return (arrays[width] || arrays.wide)[index];
    };
  }
  function matcher(arrays, toValue) {
    return function (string, options) {
      var width = (options && options.width) || "wide";
      var lists = [arrays[width] || arrays.wide, arrays.wide, arrays.abbreviated];
      var lower = String(string).toLowerCase();
      for (var l = 0; l < lists.length; l++) {
        var list = lists[l];
        if (!list) continue;
        var best = -1;
        for (var i = 0; i < list.length; i++) {
          if (lower.indexOf(list[i].toLowerCase()) === 0 && (best < 0 || list[i].length > list[best].length)) {
            best = i;
          }
        }
        if (best >= 0) {
          var value = toValue ? toValue(best) : best;
          if (options && options.valueCallback) value = options.valueCallback(value);
          return { value: value, rest: String(string).slice(list[best].length) };
        }
      }
      return null;
    };
  }
  var monthArrays = {
    narrow: ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"],
    abbreviated: SHORT_MONTHS,
    wide: MONTHS
  };
  var dayArrays = {
    narrow: MIN_DAYS,
    short: SHORT_DAYS,
    abbreviated: SHORT_DAYS,
    wide: DAYS
  };
  var periodArrays = {
    narrow: { am: "a", pm: "p", midnight: "meia-noite", noon: "meio-dia", morning: "manhã",
      afternoon: "tarde", evening: "tarde", night: "noite" },
    wide: { am: "AM", pm: "PM", midnight: "meia-noite", noon: "meio-dia", morning: "manhã",
      afternoon: "tarde", evening: "tarde", night: "noite" }
  };
  var formatLong = {
    date: function (o) {
      var w = (o && o.width) || "full";
      return { full: "EEEE, d 'de' MMMM 'de' y", long: "d 'de' MMMM 'de' y", medium: "d MMM y",
        short: "dd/MM/yyyy" }[w];
    },
    time: function (o) {
      var w = (o && o.width) || "full";
      return { full: "HH:mm:ss zzzz", long: "HH:mm:ss z", medium: "HH:mm:ss", short: "HH:mm" }[w];
    },
    dateTime: function () { return "{{date}}, {{time}}"; }
  };
  var ptBR = {
    code: "pt-BR",
    formatDistance: function (token, count) { return String(count) + " " + token; },
    formatRelative: function () { return "P"; },
    formatLong: formatLong,
    localize: {
      ordinalNumber: function (n) { return Number(n) + "º"; },
      era: pick({ narrow: ["AC", "DC"], abbreviated: ["a.C.", "d.C."], wide: ["antes de Cristo", "depois de Cristo"] }),
      quarter: pick({ narrow: ["1", "2", "3", "4"], abbreviated: ["T1", "T2", "T3", "T4"],
        wide: ["1º trimestre", "2º trimestre", "3º trimestre", "4º trimestre"] }),
      month: pick(monthArrays),
      day: pick(dayArrays),
      dayPeriod: function (p, o) {
        var w = (o && o.width) || "wide";
        return (periodArrays[w] || periodArrays.wide)[p];
      }
    },
    match: {
      ordinalNumber: function (string, options) {
        var m = /^(\d+)[ºª]?/i.exec(string);
        if (!m) return null;
        var value = parseInt(m[1], 10);
        if (options && options.valueCallback) value = options.valueCallback(value);
        return { value: value, rest: string.slice(m[0].length) };
      },
      era: matcher({ abbreviated: ["a.C.", "d.C."], wide: ["antes de Cristo", "depois de Cristo"] }),
      quarter: matcher({ abbreviated: ["T1", "T2", "T3", "T4"], wide: ["1º trimestre", "2º trimestre", "3º trimestre", "4º trimestre"] }, function (i) { return i + 1; }),
      month: matcher(monthArrays),
      day: matcher(dayArrays),
      dayPeriod: matcher({ wide: ["AM", "PM"] }, function (i) { return i ? "pm" : "am"; })
    },
    options: { weekStartsOn: 0, firstWeekContainsDate: 1 }
  };
  window.dateFns = window.dateFns || {};
  window.dateFns.locale = Object.assign({ ptBR: ptBR }, window.dateFns.locale || {});
  window.pregaoLocale = { plotly: PLOTLY_PT_BR, dateFns: ptBR };
})();
