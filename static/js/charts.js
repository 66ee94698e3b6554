// Charts from data the page carries, so no inline script is needed (the CSP forbids it).
//   <canvas data-chart="<id>"> draws the Chart.js configuration held in the JSON of
//   <script type="application/json" id="<id>"> (Django's json_script), e.g. {"type": "bar", "data": {...},
//   "options": {...}}. A percent axis is asked for with "options": {"percentAxis": "y"}.
// Loaded after static/vendor/chartjs/chart.umd.min.js on the pages that draw charts. Parts of a page filled later
// (the KPI dashboard's cards) draw theirs with window.drawCharts(element).
(function () {
  "use strict";
  if (!window.Chart) return;

  window.drawCharts = (root) => root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    if (canvas.chart) return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const config = JSON.parse(source.textContent);
    const options = config.options || {};
    const percentAxis = options.percentAxis;
    delete options.percentAxis;
    if (percentAxis) {
      options.scales = options.scales || {};
      const axis = (options.scales[percentAxis] = options.scales[percentAxis] || {});
      // Rounded: a narrow axis otherwise reads 13.600000000000001%.
      axis.ticks = Object.assign({}, axis.ticks, { callback: (value) => Number(value.toFixed(2)) + "%" });
    }
    options.responsive = true;
    options.maintainAspectRatio = false;
    options.animation = false;
    config.options = options;
    canvas.chart = new window.Chart(canvas, config);
  });
  window.drawCharts(document);
})();
