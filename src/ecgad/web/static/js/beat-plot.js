/* Draws the beat figure whose Plotly JSON sits in #beat-figure-data into #beat-plot.
   No inline script: the page's Content-Security-Policy allows only our own files. */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("beat-figure-data");
    var target = document.getElementById("beat-plot");
    if (!holder || !target) { return; }
    if (!window.Plotly) {
      target.textContent = "The interactive plot could not be loaded.";
      target.setAttribute("data-rendered", "error");
      return;
    }
    var figure;
    try {
      figure = JSON.parse(holder.textContent);
    } catch (err) {
      target.textContent = "The plot data could not be read.";
      target.setAttribute("data-rendered", "error");
      return;
    }
    var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] };
    window.Plotly.newPlot(target, figure.data, figure.layout, config).then(function () {
      target.setAttribute("data-rendered", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
