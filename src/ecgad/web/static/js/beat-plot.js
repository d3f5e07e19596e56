/* Draws a Plotly figure whose JSON sits in a <script type="application/json"> block: the beat figure
   (#beat-figure-data into #beat-plot) on every analysis page, and, through window.ecgadDrawFigure,
   the recording page's timeline. No inline script: the page's Content-Security-Policy allows only
   our own files. */
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] };

  /* Draw the figure of #holderId into #targetId; the promise resolves with the target once drawn
     (data-rendered="true"), or null when there is nothing to draw or it cannot be (said in the target). */
  function drawFigure(holderId, targetId) {
    var holder = document.getElementById(holderId);
    var target = document.getElementById(targetId);
    if (!holder || !target) { return Promise.resolve(null); }
    function fail(message) {
      target.textContent = message;
      target.setAttribute("data-rendered", "error");
      return Promise.resolve(null);
    }
    if (!window.Plotly) { return fail("The interactive plot could not be loaded."); }
    var figure;
    try {
      figure = JSON.parse(holder.textContent);
    } catch (err) {
      return fail("The plot data could not be read.");
    }
    return window.Plotly.newPlot(target, figure.data, figure.layout, CONFIG).then(function () {
      target.setAttribute("data-rendered", "true");
      return target;
    });
  }

  window.ecgadPlotConfig = CONFIG;
  window.ecgadDrawFigure = drawFigure;

  function draw() { drawFigure("beat-figure-data", "beat-plot"); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
