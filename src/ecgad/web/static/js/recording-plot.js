/* The recording page: draws the timeline whose Plotly JSON sits in #timeline-figure-data (with
   beat-plot.js's ecgadDrawFigure, loaded first), follows the view, and on a click on a beat fetches
   that beat's figure and details into the beat panel.
   Text goes in with textContent only: nothing from the server is parsed as HTML. */
(function () {
  "use strict";

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function signed(value) {
    return value === null || value === undefined ? "—" : (value >= 0 ? "+" : "") + Number(value).toFixed(2);
  }

  function showBeat(beat) {
    setText("beat-heading", "Beat " + beat.beat + " at " + beat.time);
    var line = document.getElementById("beat-verdict-line");
    if (line) {
      line.className = "verdict " + (beat.is_anomaly ? "verdict-anomalous" : "verdict-normal");
    }
    setText("beat-verdict", beat.verdict);
    setText("beat-score", "score " + fixed(beat.score, 3) + (beat.is_anomaly ? " > " : " ≤ ") +
            "threshold " + fixed(beat.threshold, 3));
    var details = document.getElementById("beat-details");
    if (details) {
      var items = ["RR " + (beat.rr_s ? fixed(beat.rr_s, 3) + " s" : "—")];
      if (beat["class"]) { items.push("class " + beat["class"] + " (" + fixed(beat.class_confidence, 2) + ")"); }
      Object.keys(beat.parts || {}).forEach(function (name) { items.push(name + " " + signed(beat.parts[name])); });
      if (beat.annotation) { items.push("annotation " + beat.annotation); }
      details.textContent = "";
      items.forEach(function (text) {
        var span = document.createElement("span");
        span.textContent = text;
        details.appendChild(span);
      });
    }
    var explained = document.getElementById("beat-explanation");
    if (explained) {   // what each part of the score adds and which line shows it
      explained.textContent = "";
      (beat.explanation || []).forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        explained.appendChild(item);
      });
    }
    var target = document.getElementById("beat-plot");
    setText("beat-figure-note", beat.figure ? "" : beat.figure_note || "");
    if (beat.figure) {
      window.Plotly.react(target, beat.figure.data, beat.figure.layout, window.ecgadPlotConfig).then(function () {
        target.setAttribute("data-rendered", "true");
        target.setAttribute("data-beat", String(beat.beat));
      });
    } else {
      window.Plotly.purge(target);  // the server's note (#beat-figure-note) says why
      target.removeAttribute("data-rendered");
      target.setAttribute("data-beat", String(beat.beat));
    }
    // the table row of this beat, when it is on the page, is now the selected one
    Array.prototype.forEach.call(document.querySelectorAll("#beat-table tr[data-beat]"), function (row) {
      var chosen = row.getAttribute("data-beat") === String(beat.beat);
      row.classList.toggle("selected", chosen);
      if (chosen) { row.setAttribute("aria-current", "true"); } else { row.removeAttribute("aria-current"); }
    });
    document.dispatchEvent(new CustomEvent("ecgad:beat-shown", { detail: beat }));  // review.js: the label form
    var url = new URL(window.location.href);
    url.searchParams.set("beat", String(beat.beat));
    window.history.replaceState(null, "", url.pathname + url.search + "#beat-plot-section");
  }

  var beatTicket = 0;  // only the latest request's beat is shown: answers may come back out of order (n, n, p)

  function loadBeat(timeline, number) {
    var url = timeline.getAttribute("data-beat-url").replace(/\/0\.json$/, "/" + number + ".json");
    var target = document.getElementById("beat-plot");
    var ticket = ++beatTicket;
    target.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (beat) { if (ticket === beatTicket) { showBeat(beat); } })
      .catch(function () {
        setText("beat-heading", "Beat " + number + ": could not be loaded; reload the page and try again.");
      })
      .then(function () { target.removeAttribute("aria-busy"); });
  }

  /* The time axis counts milliseconds on a date axis from origin, the recording's start (see
     ecgad.report.figures.clock_axis): its range comes back as numbers or as "2000-01-01 00:00:30.5" strings. */
  function axisSeconds(value, origin) {
    if (typeof value === "number") { return (value - origin) / 1000; }
    var text = String(value).trim().replace(" ", "T");
    if (text.indexOf("T") < 0) { text += "T00:00:00"; }
    return (Date.parse(text + "Z") - origin) / 1000;
  }

  /* Seconds as date strings of the axis ("2000-01-01 00:10:00.422"): after a restyle plotly.js
     shows numbers given to a date axis raw in hover texts, but formats dates. */
  function toAxis(seconds, origin) {
    return seconds.map(function (s) {
      return new Date(origin + Math.round(s * 1000)).toISOString().replace("T", " ").replace("Z", "");
    });
  }

  /* Grey bands over the window's unreadable stretches (ecgad.report.figures.unreadable_shapes, same look);
     other shapes of the layout are kept. */
  function showUnreadable(timeline, stretches, origin) {
    var others = (timeline.layout.shapes || []).filter(function (s) { return s.name !== "unreadable"; });
    var bands = (stretches || []).map(function (u) {
      var x = toAxis([u[0], u[1]], origin);
      return { type: "rect", name: "unreadable", xref: "x", yref: "paper", x0: x[0], x1: x[1], y0: 0, y1: 1,
               fillcolor: "#999999", opacity: 0.3, line: { width: 0 }, layer: "below",
               label: { text: String(u[2]), textposition: "top left", font: { size: 11 } } };
    });
    return window.Plotly.relayout(timeline, { shapes: others.concat(bands) });
  }

  /* Row 1 holds the window in view only: when the view moves, fetch the new window's signal and beats. */
  function followView(timeline) {
    var url = timeline.getAttribute("data-window-url");
    var note = document.getElementById("timeline-note");
    var origin = Number((timeline.layout.meta || {}).time_origin_ms) || 0;
    var shown = null;
    var timer = null;
    var asked = 0;

    function load() {
      var range = timeline.layout.xaxis.range;
      var start = Math.max(0, axisSeconds(range[0], origin)), end = axisSeconds(range[1], origin);
      if (!(end > start)) { return; }
      var key = start.toFixed(3) + ":" + end.toFixed(3);
      if (key === shown) { return; }
      var ticket = ++asked;
      timeline.setAttribute("aria-busy", "true");
      fetch(url + "?start=" + encodeURIComponent(start) + "&end=" + encodeURIComponent(end),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (w) {
          if (ticket !== asked) { return; }  // the view moved on meanwhile
          shown = key;
          return window.Plotly.restyle(timeline, {
            x: [toAxis(w.signal.x, origin), toAxis(w.normal.x, origin), toAxis(w.abnormal.x, origin)],
            y: [w.signal.y, w.normal.y, w.abnormal.y],
            customdata: [null, w.normal.customdata, w.abnormal.customdata]
          }, [0, 1, 2]).then(function () {
            return showUnreadable(timeline, w.unreadable, origin);
          }).then(function () {
            timeline.setAttribute("data-window", start.toFixed(1) + "-" + end.toFixed(1));
            if (note) {
              note.textContent = w.complete ? "" : w.beats + " beats in view: only the anomalous ones are marked; zoom in to see every beat.";
            }
          });
        })
        .catch(function () {
          if (note) { note.textContent = "This part of the recording could not be loaded; reload the page."; }
        })
        .then(function () { if (ticket === asked) { timeline.removeAttribute("aria-busy"); } });
    }

    timeline.on("plotly_relayout", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 150);
    });
  }

  /* The Holter summary's event links (?beat=N, data-time in seconds): move the timeline to the event
     (a 20-s window around it, within the recording) and show its first beat, without reloading. */
  function followEventLinks(timeline) {
    var origin = Number((timeline.layout.meta || {}).time_origin_ms) || 0;
    var xaxis = timeline.layout.xaxis || {};
    var duration = xaxis.maxallowed !== undefined ? axisSeconds(xaxis.maxallowed, origin) : Infinity;
    Array.prototype.forEach.call(document.querySelectorAll("a.event-link[data-time]"), function (link) {
      link.addEventListener("click", function (event) {
        var time = Number(link.getAttribute("data-time"));
        if (!isFinite(time)) { return; }  // the link itself still works (a page load)
        event.preventDefault();
        var span = Math.min(20, duration);
        var start = Math.max(0, Math.min(time - span / 2, duration - span));
        window.Plotly.relayout(timeline, { "xaxis.range": toAxis([start, start + span], origin) });
        goto(time);
        document.getElementById("timeline-section").scrollIntoView();
        loadBeat(timeline, Number(link.getAttribute("data-beat")));
      });
    });
  }

  /* The ECG viewer (ecg-viewer.js) follows the overview: a click in it or an event link centres the viewer there. */
  function goto(seconds) {
    if (isFinite(seconds)) { document.dispatchEvent(new CustomEvent("ecgad:goto", { detail: { time: seconds } })); }
  }

  function draw() {
    window.ecgadDrawFigure("timeline-figure-data", "timeline-plot").then(function (timeline) {
      if (!timeline) { return; }
      var origin = Number((timeline.layout.meta || {}).time_origin_ms) || 0;
      timeline.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var custom = point && point.customdata;
        if (point && point.x !== undefined) { goto(axisSeconds(point.x, origin)); }
        if (custom && custom.length) { loadBeat(timeline, Math.round(custom[0])); }
      });
      // the viewer's next/previous abnormal beat: its figure and details below
      document.addEventListener("ecgad:beat", function (e) {
        if (e.detail && e.detail.from === "viewer") { loadBeat(timeline, e.detail.beat); }
      });
      followView(timeline);
      followEventLinks(timeline);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
