/* The selected beat's label form (templates/analyses/_review.html) follows the beat shown: when
   recording-plot.js or the viewer shows another beat without a reload, it says "ecgad:beat-shown" with the
   beat's JSON, and the form then names and posts to that beat, never the one the page was served with.
   Text goes in with textContent only (CSP: no inline script). */
(function () {
  "use strict";
  var form = document.getElementById("beat-label-form");
  if (!form) { return; }
  document.addEventListener("ecgad:beat-shown", function (e) {
    var beat = e.detail;
    if (!beat || !beat.beat) { return; }
    form.setAttribute("action", form.getAttribute("data-action").replace(/\/0\/label$/, "/" + beat.beat + "/label"));
    form.setAttribute("data-beat", String(beat.beat));
    document.getElementById("beat-label-text").textContent = "Beat " + beat.beat + " (family " +
      (beat.family === null || beat.family === undefined ? "\u2014" : beat.family) + ", model's class " +
      (beat["class"] || "\u2014") + "):";
    var select = document.getElementById("beat-label");
    select.value = beat.reviewed_label || "model";
  });
}());
