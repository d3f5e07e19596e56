/* The ECG viewer on the recording page (templates/analyses/_viewer.html): every stored lead stacked on
   the standard paper grid (1 mm minor, 5 mm major lines; 25 or 50 mm/s; 5, 10 or 20 mm/mV), with each
   beat's machine class ("–" when none), the reference symbol when annotations were uploaded, and the
   abnormal beats marked in red.

   Millimetres are CSS millimetres: 96 CSS px per inch, 25.4 mm per inch, as browsers define them. On a
   screen that is only nominally true; true millimetres on paper are the PDF report's job.

   Data: windows of WINDOW_S seconds of every lead from #ecg-viewer-data's strip_url (strip.json), kept
   in a small cache, with the windows either side of the view fetched ahead so that dragging does not wait.
   Navigation: drag the strip (or the wheel, or the arrow keys), the next/previous abnormal beat (buttons,
   keys n and p: abnormal.json), a jump to a clock time. The overview timeline (recording-plot.js) moves
   the viewer with the "ecgad:goto" event; the viewer asks it to show a beat with "ecgad:beat".
   Text goes in with textContent only, and no inline script or style (CSP). */
(function () {
  "use strict";

  var PX_PER_MM = 96 / 25.4;
  var WINDOW_S = 20;            // seconds per fetched window
  var KEEP_WINDOWS = 12;        // windows kept in the cache (those nearest the view)
  var LEAD_MM = 25;             // height of a lead's band on the paper (leads may overlap at 20 mm/mV, as on paper)
  var LABEL_MM = 10;            // the annotation row above the leads
  var BOTTOM_MM = 5;            // below the last lead, for its downward deflections
  var COLOURS = { minor: "#f6d3d3", major: "#e7a1a1", trace: "#111111", abnormal: "#D7191C",
                  normal: "#0072B2", selected: "rgba(0, 114, 178, 0.16)", band: "rgba(215, 25, 28, 0.10)",
                  unreadable: "rgba(120, 120, 120, 0.25)" };

  var holder = document.getElementById("ecg-viewer-data");
  var canvas = document.getElementById("ecg-viewer-canvas");
  if (!holder || !canvas) { return; }
  var info;
  try { info = JSON.parse(holder.textContent); } catch (err) { return; }

  function el(id) { return document.getElementById(id); }
  function setText(id, text) { var e = el(id); if (e) { e.textContent = text; } }

  var state = {
    start: 0,                   // seconds at the left edge
    gain: 10,                   // mm/mV
    speed: 25,                  // mm/s
    width: 0,                   // CSS px
    selected: null,             // {number, time, class, annotation, anomalous}
    windows: {},                // index -> {data, used} or {pending: true}
    drag: null,
    frame: 0,
    asked: 0
  };

  function pxPerSecond() { return state.speed * PX_PER_MM; }
  function spanS() { return state.width / pxPerSecond(); }
  function duration() { return info.duration_s; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* hh:mm:ss(.s) of ``seconds`` from midnight or from the start */
  function clockText(seconds, tenths) {
    var whole = Math.floor(seconds + 1e-9);
    var text = pad(Math.floor(whole / 3600) % 24) + ":" + pad(Math.floor(whole / 60) % 60) + ":" + pad(whole % 60);
    return tenths ? text + "." + Math.floor((seconds - whole) * 10 + 1e-6) : text;
  }
  /* a time of the recording as the page shows it: time of day when the start is known, else from the start */
  function shownTime(t) {
    return info.start_of_day_s === null ? clockText(t, true) : clockText(info.start_of_day_s + t, false) +
      " (" + clockText(t, true) + ")";
  }

  // ------------------------------------------------------------------ data

  function windowOf(index) {
    var w = state.windows[index];
    if (w && w.data) { w.used = ++state.asked; return w.data; }
    if (!w && index >= 0 && index * WINDOW_S < duration()) { fetchWindow(index); }
    return null;
  }

  function fetchWindow(index) {
    state.windows[index] = { pending: true };
    var url = info.strip_url + "?start=" + index * WINDOW_S + "&end=" + (index + 1) * WINDOW_S;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        data.offsets = data.leads.map(function (lead) { return median(lead.samples); });
        state.windows[index] = { data: data, used: ++state.asked };
        trimCache();
        schedule();
      })
      .catch(function () {
        delete state.windows[index];
        setText("viewer-status", "Part of the recording could not be loaded; reload the page.");
      });
  }

  function median(values) {
    if (!values.length) { return 0; }
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    return sorted[Math.floor(sorted.length / 2)];
  }

  function trimCache() {
    var keys = Object.keys(state.windows).filter(function (k) { return state.windows[k].data; });
    if (keys.length <= KEEP_WINDOWS) { return; }
    var centre = (state.start + spanS() / 2) / WINDOW_S;
    keys.sort(function (a, b) { return Math.abs(b - centre) - Math.abs(a - centre); });
    keys.slice(0, keys.length - KEEP_WINDOWS).forEach(function (k) { delete state.windows[k]; });
  }

  // ------------------------------------------------------------------ drawing

  function schedule() {
    if (!state.frame) { state.frame = window.requestAnimationFrame(draw); }
  }

  function resize() {
    var box = canvas.parentElement.getBoundingClientRect();
    state.width = Math.max(200, Math.floor(box.width));
    var height = Math.round((LABEL_MM + LEAD_MM * info.leads.length + BOTTOM_MM) * PX_PER_MM);
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(state.width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = state.width + "px";   // CSSOM, not an inline style attribute: allowed by the CSP
    canvas.style.height = height + "px";
    schedule();
  }

  function drawGrid(ctx, height) {
    var mm = PX_PER_MM;
    var first = Math.floor(state.start * state.speed);   // mm of paper from the recording's start
    var last = Math.ceil((state.start + spanS()) * state.speed);
    [["minor", 1], ["major", 5]].forEach(function (kind) {
      ctx.beginPath();
      ctx.strokeStyle = COLOURS[kind[0]];
      ctx.lineWidth = kind[1] === 5 ? 1 : 0.6;
      for (var m = first; m <= last; m++) {
        if (kind[1] === 1 && m % 5 === 0) { continue; }
        if (kind[1] === 5 && m % 5 !== 0) { continue; }
        var x = Math.round((m / state.speed - state.start) * pxPerSecond()) + 0.5;
        ctx.moveTo(x, 0); ctx.lineTo(x, height);
      }
      for (var r = 0; r * mm <= height; r++) {
        if ((kind[1] === 1) === (r % 5 === 0)) { continue; }
        var y = Math.round(r * mm) + 0.5;
        ctx.moveTo(0, y); ctx.lineTo(state.width, y);
      }
      ctx.stroke();
    });
  }

  function xOf(t) { return (t - state.start) * pxPerSecond(); }

  function draw() {
    state.frame = 0;
    var ratio = window.devicePixelRatio || 1;
    var ctx = canvas.getContext("2d");
    var height = canvas.height / ratio;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, state.width, height);
    var end = state.start + spanS();
    var firstWindow = Math.floor(state.start / WINDOW_S), lastWindow = Math.floor(end / WINDOW_S);
    var shown = [], missing = false;
    for (var k = firstWindow - 1; k <= lastWindow + 1; k++) {   // the neighbours too: fetched ahead
      var data = windowOf(k);
      if (k >= firstWindow && k <= lastWindow) {
        if (data) { shown.push(data); } else if (k * WINDOW_S < duration()) { missing = true; }
      }
    }
    // unreadable stretches and abnormal beats under the grid's lines
    shown.forEach(function (w) {
      ctx.fillStyle = COLOURS.unreadable;
      w.unreadable.forEach(function (u) { ctx.fillRect(xOf(u[0]), 0, xOf(u[1]) - xOf(u[0]), height); });
      w.beats.forEach(function (b) {
        if (b.abnormal) { ctx.fillStyle = COLOURS.band; ctx.fillRect(xOf(b.time) - 0.12 * pxPerSecond(), 0, 0.3 * pxPerSecond(), height); }
      });
    });
    if (state.selected && state.selected.time >= state.start - 1 && state.selected.time <= end + 1) {
      ctx.fillStyle = COLOURS.selected;
      ctx.fillRect(xOf(state.selected.time) - 0.15 * pxPerSecond(), 0, 0.36 * pxPerSecond(), height);
    }
    drawGrid(ctx, height);
    var top = LABEL_MM * PX_PER_MM, band = LEAD_MM * PX_PER_MM, perMv = state.gain * PX_PER_MM;
    // the traces
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, top, state.width, height - top);   // the traces stay under the label row, which stays legible
    ctx.clip();
    ctx.strokeStyle = COLOURS.trace;
    ctx.lineWidth = 1.1;
    ctx.lineJoin = "round";
    shown.forEach(function (w) {
      var dt = 1 / w.fs;
      w.leads.forEach(function (lead, i) {
        var base = top + band * (i + 0.5), offset = w.offsets[i], samples = lead.samples;
        var from = Math.max(0, Math.floor((state.start - w.start) / dt) - 1);
        var to = Math.min(samples.length, Math.ceil((end - w.start) / dt) + 2);
        ctx.beginPath();
        for (var j = from; j < to; j++) {
          var x = xOf(w.start + j * dt), y = base - (samples[j] - offset) * perMv;
          if (j === from) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
        }
        ctx.stroke();
      });
    });
    ctx.restore();
    // the beats' labels: machine class, reference symbol under it
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    shown.forEach(function (w) {
      w.beats.forEach(function (b) {
        var x = xOf(b.time);
        if (x < -20 || x > state.width + 20) { return; }
        ctx.fillStyle = b.abnormal ? COLOURS.abnormal : COLOURS.normal;
        ctx.font = (b.abnormal ? "bold " : "") + "13px system-ui, sans-serif";
        ctx.fillText(b["class"] || "\u2013", x, 2);
        if (b.annotation) {
          ctx.fillStyle = "#444444";
          ctx.font = "12px system-ui, sans-serif";
          ctx.fillText(b.annotation, x, 19);
        }
        if (b.abnormal) {   // a tick down to the leads
          ctx.fillStyle = COLOURS.abnormal;
          ctx.beginPath();
          ctx.moveTo(x - 4, top - 6); ctx.lineTo(x + 4, top - 6); ctx.lineTo(x, top - 1);
          ctx.fill();
        }
      });
    });
    // the leads' names, on white so that the trace does not hide them
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.font = "bold 12px system-ui, sans-serif";
    info.leads.forEach(function (name, i) {
      var y = top + band * i + 10;
      var width = ctx.measureText(name).width + 8;
      ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
      ctx.fillRect(2, y - 8, width, 16);
      ctx.fillStyle = "#111111";
      ctx.fillText(name, 6, y);
    });
    canvas.setAttribute("data-start", state.start.toFixed(2));
    canvas.setAttribute("data-px-per-mv", perMv.toFixed(3));
    canvas.setAttribute("data-px-per-s", pxPerSecond().toFixed(3));
    canvas.setAttribute("data-drawn", missing ? "partial" : "true");
    canvas.setAttribute("data-beats-shown", String(shown.reduce(function (n, w) {
      return n + w.beats.filter(function (b) { return b.time >= state.start && b.time <= end; }).length;
    }, 0)));
    setText("viewer-time", shownTime(state.start) + " \u2013 " + shownTime(Math.min(end, duration())));
    setText("viewer-scale", state.speed + " mm/s \u00b7 " + state.gain + " mm/mV");
  }

  // ------------------------------------------------------------------ moving

  function moveTo(start) {
    var span = spanS();
    state.start = Math.max(0, Math.min(start, Math.max(0, duration() - span)));
    schedule();
  }

  function centreOn(t) { moveTo(t - spanS() / 2); }

  function select(beat) {
    state.selected = beat;
    centreOn(beat.time);
    setText("viewer-beat", "Beat " + beat.number + " at " + shownTime(beat.time) + " \u00b7 class " +
            (beat["class"] || "\u2013") + (beat.annotation ? " \u00b7 reference " + beat.annotation : "") +
            (beat.anomalous ? " \u00b7 anomalous" : ""));
    el("viewer-beat").setAttribute("data-beat", String(beat.number));
    var url = new URL(window.location.href);
    url.searchParams.set("beat", String(beat.number));
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    document.dispatchEvent(new CustomEvent("ecgad:beat", { detail: { beat: beat.number, from: "viewer" } }));
  }

  function abnormal(direction) {
    var centre = state.selected && Math.abs(state.selected.time - (state.start + spanS() / 2)) < 0.5
      ? state.selected.time : state.start + spanS() / 2;
    var query = direction === "next" ? "?after=" + (centre + 1e-3) : "?before=" + (centre - 1e-3);
    fetch(info.abnormal_url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (answer) {
        if (answer.beat) { select(answer.beat); setText("viewer-status", ""); } else {
          setText("viewer-status", direction === "next" ? "No abnormal beat after this one." : "No abnormal beat before this one.");
        }
      })
      .catch(function () { setText("viewer-status", "The next abnormal beat could not be found; reload the page."); });
  }

  /* "hh:mm:ss", "mm:ss" or seconds: a time of day when the recording's start is known, else from the start */
  function parseClock(text) {
    var parts = String(text).trim().split(":");
    if (!parts.length || parts.length > 3 || parts.some(function (p) { return !/^\d+(\.\d+)?$/.test(p); })) { return null; }
    var seconds = parts.reduce(function (total, p) { return total * 60 + Number(p); }, 0);
    if (info.start_of_day_s === null) { return seconds; }
    return ((seconds - info.start_of_day_s) % 86400 + 86400) % 86400;  // the first such time after the start
  }

  function jump(event) {
    event.preventDefault();
    var t = parseClock(el("viewer-clock").value);
    if (t === null || t > duration()) {
      setText("viewer-status", "Give a time within the recording as hh:mm:ss.");
      return;
    }
    setText("viewer-status", "");
    centreOn(t);
  }

  function bind() {
    el("viewer-next").addEventListener("click", function () { abnormal("next"); });
    el("viewer-previous").addEventListener("click", function () { abnormal("previous"); });
    el("viewer-jump").addEventListener("submit", jump);
    el("viewer-gain").addEventListener("change", function (e) { state.gain = Number(e.target.value); schedule(); });
    el("viewer-speed").addEventListener("change", function (e) {
      var centre = state.start + spanS() / 2;
      state.speed = Number(e.target.value);
      centreOn(centre);
    });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(tag) || e.target.isContentEditable) { return; }
      if (e.key === "n") { abnormal("next"); } else if (e.key === "p") { abnormal("previous"); } else if (e.target === canvas && (e.key === "ArrowRight" || e.key === "ArrowLeft")) {
        e.preventDefault();
        moveTo(state.start + (e.key === "ArrowRight" ? 1 : -1) * spanS() / 4);
      }
    });
    canvas.addEventListener("pointerdown", function (e) {
      state.drag = { x: e.clientX, start: state.start };
      canvas.setPointerCapture(e.pointerId);
      canvas.classList.add("dragging");
    });
    canvas.addEventListener("pointermove", function (e) {
      if (state.drag) { moveTo(state.drag.start - (e.clientX - state.drag.x) / pxPerSecond()); }
    });
    function release() { state.drag = null; canvas.classList.remove("dragging"); }
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("wheel", function (e) {
      var delta = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : (e.shiftKey ? e.deltaY : 0);
      if (!delta) { return; }   // vertical wheel scrolls the page
      e.preventDefault();
      moveTo(state.start + delta / pxPerSecond());
    }, { passive: false });
    document.addEventListener("ecgad:goto", function (e) {
      if (e.detail && isFinite(e.detail.time)) { centreOn(Number(e.detail.time)); }
    });
    window.addEventListener("resize", resize);
  }

  bind();
  resize();
  if (info.initial_s !== null) { centreOn(info.initial_s); }
  schedule();
})();
