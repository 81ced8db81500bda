/* Draw every <canvas data-chart="..."> on the page with the vendored Chart.js.
 * The data comes from the data attribute (no inline script); clicking a bar or point opens
 * the cases behind it. Series differ by line dash and point shape as well as colour, so the
 * charts read without colour; the same numbers are in the table under each chart. */
(function () {
  "use strict";
  var COLOURS = ["#1f5fa8", "#b35900", "#2e7d32", "#6a1b9a"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var POINTS = ["circle", "rectRot", "triangle", "rect"];

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    var datasets = spec.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: s.label,
        data: s.data,
        borderColor: colour,
        backgroundColor: spec.type === "bar" ? colour + "99" : colour,
        borderWidth: 2,
        borderDash: DASHES[i % DASHES.length],
        pointStyle: POINTS[i % POINTS.length],
        pointRadius: 4,
        spanGaps: true
      };
    });
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { usePointStyle: true } } },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var el = elements[0];
          var links = spec.drill[el.datasetIndex];
          if (links && links[el.index]) { window.location.assign(links[el.index]); }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        }
      }
    });
    canvas.setAttribute("data-drawn", "true");
    return chart;
  }

  function start() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
