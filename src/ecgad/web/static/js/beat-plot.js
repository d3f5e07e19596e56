/* Draws a Plotly figure whose JSON sits in a <script type="application/json"> block: the beat figure
   (#beat-figure-data into #beat-plot) on every analysis page, and, through window.ecgadDrawFigure,
   the recording page's timeline. No inline script: the page's Content-Security-Policy allows only
   our own files. */
(function () {
  "use strict";

  /* How every figure is drawn: ecgad.report.figures.PLOT_CONFIG, which the page holds in #plot-config (the same
     settings as the reports: no button that sends the figure to a cloud service). Without it, no modebar. */
  function readConfig() {
    var holder = document.getElementById("plot-config");
    try {
      if (holder) { return JSON.parse(holder.textContent); }
    } catch (err) { /* fall through */ }
    return { displayModeBar: false, displaylogo: false, showSendToCloud: false, responsive: true };
  }

  var CONFIG = readConfig();

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

  /* On paper, every figure is as wide as the printable part of an A4 page (210 mm less the stylesheet's
     12 mm margins: 186 mm, about 703 CSS pixels; Letter is wider), and takes the page's width again after. */
  var PRINT_WIDTH_PX = 700;

  function fitForPrint(printing) {
    if (!window.Plotly) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".js-plotly-plot"), function (el) {
      window.Plotly.relayout(el, printing ? { width: PRINT_WIDTH_PX } : { width: null, autosize: true });
    });
  }

  window.addEventListener("beforeprint", function () { fitForPrint(true); });
  window.addEventListener("afterprint", function () { fitForPrint(false); });
  if (window.matchMedia) {  // print previews and emulated print media change the media without those events
    var media = window.matchMedia("print");
    if (media.addEventListener) { media.addEventListener("change", function (e) { fitForPrint(e.matches); }); }
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
