/* pinpipe's chart defaults, shared by the HTML report (inlined) and the live dashboard (served
   from /ui/static/): what the JSON chart configurations cannot carry themselves - number formats
   in tooltips, the posters' names under a bar, long category names shortened on small screens. */
(function (global) {
  "use strict";
  var numbers = new Intl.NumberFormat("en-US");
  var ready = false;

  function setup() {
    if (ready || typeof Chart === "undefined") {
      return;
    }
    ready = true;
    var styles = getComputedStyle(document.documentElement);
    Chart.defaults.animation = false;
    Chart.defaults.responsive = true;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.font.family = styles.getPropertyValue("--font").trim() || Chart.defaults.font.family;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = styles.getPropertyValue("--muted").trim() || Chart.defaults.color;
    var tooltip = Chart.defaults.plugins.tooltip.callbacks;
    tooltip.label = function (item) {
      var value = item.chart.options.indexAxis === "y" ? item.parsed.x : item.parsed.y;
      var name = item.dataset.label ? item.dataset.label + ": " : "";
      return name + (value === null || value === undefined ? "–" : numbers.format(value));
    };
    tooltip.afterLabel = function (item) {
      var notes = item.dataset.notes;
      return notes ? notes[item.dataIndex] : "";
    };
  }

  // Long names on a category axis are shortened to fit narrow screens; tooltips keep them whole.
  function shorten(value) {
    var text = String(this.getLabelForValue(value));
    var room = this.chart.width < 560 ? 18 : 34;
    return text.length > room ? text.slice(0, room - 1) + "\u2026" : text;
  }

  /* Draw one chart of a JSON configuration on a canvas; returns the Chart, or null without
     Chart.js (the tables beside each chart still hold every value). */
  function draw(canvas, config) {
    setup();
    if (typeof Chart === "undefined") {
      return null;
    }
    if (config.options && config.options.indexAxis === "y") {
      config.options.scales.y.ticks.callback = shorten;
    }
    return new Chart(canvas, config);
  }

  global.pinpipeCharts = { setup: setup, draw: draw };
})(window);
