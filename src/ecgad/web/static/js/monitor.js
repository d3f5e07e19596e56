/* The live monitor (templates/monitor/monitor.html): plays a source (the synthesised example or a stored
   recording, fetched in pieces from #monitor's data-samples-url) through the WebSocket stream at real speed
   (?speed=N plays N times faster, up to 50), and shows each beat's verdict as it arrives: a scrolling chart
   of the last 10 s, the heart rate, the counts, and a list of the last anomalous beats.

   Rendering: a canvas, redrawn every animation frame while playing (a smooth sweep, about 1 ms a frame).
   Plotly (SVG, Plotly.react 10 times a second on the same 10 s) took 104 ms a redraw on average in the
   browser tests (the longest 346 ms) and left gaps of up to 367 ms between frames: it could not keep up.
   The signal is read from a fixed ring of the last HISTORY_S seconds and the markers are trimmed to the
   window, so a frame costs the same after 30 minutes as after one. The stream sends a beat 2 to 7 s after
   its R peak: markers appear behind the right edge.
   Text goes in with textContent only: nothing from the server is parsed as HTML. No inline script (CSP). */
(function () {
  "use strict";

  var WINDOW_S = 10;            // the chart's width
  var SEND_EVERY_MS = 100;      // one samples message per tick, paced by the clock (not by the timer)
  var PIECE_S = 20;             // seconds of source signal per fetch (times the speed, up to the server's 60 s)
  var MAX_PIECE_S = 60;
  var HISTORY_S = 60;           // signal kept (a ring): the chart's and the beat markers' (verdicts come up to ~25 s late at first)
  var MAX_MESSAGE = 8192;       // samples per message
  var BACKPRESSURE_BYTES = 1 << 20;  // wait while this much is still unsent on the socket
  var HR_BEATS = 8;             // the heart rate: the median of the last 8 RR intervals
  var LIST_MAX = 10;            // anomalous beats listed
  var MAX_SPEED = 50;
  var KEEPALIVE_MS = 20000;     // while paused, an empty samples message: the server closes a silent stream (60 s)
  var COLOURS = { signal: "#000000", normal: "#0072B2", abnormal: "#D7191C" };  // as ecgad.report.figures

  var root = document.getElementById("monitor");
  if (!root) { return; }

  function el(id) { return document.getElementById(id); }
  function setText(id, text) { var e = el(id); if (e) { e.textContent = text; } }

  var fs = Number(root.getAttribute("data-fs"));
  var total = root.getAttribute("data-total") ? Number(root.getAttribute("data-total")) : null;  // null: endless
  var source = root.getAttribute("data-source");
  var samplesUrl = root.getAttribute("data-samples-url");
  var beatUrl = root.getAttribute("data-beat-url");
  var speed = (function () {
    var asked = Number(new URL(window.location.href).searchParams.get("speed"));
    return isFinite(asked) && asked > 0 ? Math.min(MAX_SPEED, asked) : 1;
  })();
  var plot = el("monitor-plot");
  var config = window.ecgadPlotConfig || { displaylogo: false, showSendToCloud: false, responsive: true };

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(Math.floor(s / 3600)) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
  }

  function status(text, isError) {
    var line = el("monitor-status");
    line.textContent = text;
    line.setAttribute("role", isError ? "alert" : "status");
    line.classList.toggle("error", !!isError);
  }

  // a piece of the source's signal: {samples: [mV...], ended}
  function fetchSamples(start, count) {
    return fetch(samplesUrl + "?start=" + start + "&count=" + count,
                 { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  // ------------------------------------------------------------------ one session's state
  var s = null;

  function fresh() {
    return {
      ws: null, playing: false, ended: false, endSent: false, closing: false,
      startedAt: 0, pausedAt: 0, pausedMs: 0, lastSentAt: 0,
      buf: [], bufStart: 0, fetching: false, sourceEnded: false,  // source samples not yet sent
      sent: 0,                                                   // samples sent (stream index = source index)
      history: new Float32Array(Math.ceil(HISTORY_S * fs)),
      normal: { x: [], y: [], c: [] }, abnormal: { x: [], y: [], c: [] },
      beats: 0, anomalies: 0, rr: [], dirty: false, timer: null,
      stats: { draws: 0, drawMsMax: 0, drawMsTotal: 0 }
    };
  }

  function playedSeconds() {
    if (!s || !s.startedAt) { return 0; }
    var now = s.playing ? performance.now() : s.pausedAt;
    return (now - s.startedAt - s.pausedMs) / 1000 * speed;
  }

  // ------------------------------------------------------------------ the source, fetched ahead
  function fetchMore() {
    if (s.fetching || s.sourceEnded) { return; }
    var start = s.bufStart + s.buf.length;
    var count = Math.max(1, Math.round(Math.min(MAX_PIECE_S, PIECE_S * speed) * fs));
    if (total !== null) { count = Math.min(count, Math.max(1, total - start)); }
    var session = s;
    session.fetching = true;
    fetchSamples(start, count)
      .then(function (piece) {
        if (session !== s) { return; }
        Array.prototype.push.apply(session.buf, piece.samples);
        session.sourceEnded = !!piece.ended;
      })
      .catch(function () {
        if (session !== s) { return; }
        status("The signal could not be loaded; reload the page and try again.", true);
        session.ended = true;
        finish(true);
      })
      .then(function () { session.fetching = false; });
  }

  // ------------------------------------------------------------------ sending, paced by the clock
  function tick() {
    if (!s || !s.ws || s.ws.readyState !== WebSocket.OPEN) { return; }
    if (!s.playing) {
      if (!s.endSent && performance.now() - s.lastSentAt > KEEPALIVE_MS) { send({ type: "samples", samples: [] }); }
      return;
    }
    setText("monitor-clock", clock(s.sent / fs));
    if (s.buf.length < PIECE_S * fs * Math.min(speed, 3) / 2) { fetchMore(); }
    if (s.ws.bufferedAmount > BACKPRESSURE_BYTES) { return; }  // the server is behind: wait, drop nothing
    var due = Math.floor(playedSeconds() * fs);
    if (total !== null) { due = Math.min(due, total); }
    var n = Math.min(due - s.sent, s.buf.length);
    while (n > 0) {
      var chunk = s.buf.splice(0, Math.min(n, MAX_MESSAGE));
      send({ type: "samples", samples: chunk });
      keep(chunk);
      n -= chunk.length;
    }
    if (total !== null && s.sourceEnded && !s.buf.length && s.sent >= total && !s.endSent) {
      s.endSent = true;
      send({ type: "end" });
      status("The recording has been played to its end; waiting for the last verdicts…");
    }
  }

  function send(message) {
    s.ws.send(JSON.stringify(message));
    s.lastSentAt = performance.now();
  }

  function keep(chunk) {
    var h = s.history, size = h.length;
    for (var i = 0; i < chunk.length; i++) {
      var index = s.sent + i;
      h[index % size] = chunk[i];
    }
    s.sent += chunk.length;
    s.bufStart = s.sent;
    s.dirty = true;
  }

  // ------------------------------------------------------------------ verdicts
  function median(values) {
    var v = values.slice().sort(function (a, b) { return a - b; });
    var m = Math.floor(v.length / 2);
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  }

  function onBeat(beat) {
    s.beats += 1;
    var t = beat.sample / fs;
    var y = beat.sample >= s.sent - s.history.length ? s.history[beat.sample % s.history.length] : null;
    var marks = beat.is_anomaly ? s.abnormal : s.normal;
    marks.x.push(t);
    marks.y.push(y);
    marks.c.push([beat.score, beat.threshold, beat.confidence]);
    if (typeof beat.rr_s === "number" && isFinite(beat.rr_s) && beat.rr_s > 0) {
      s.rr.push(beat.rr_s);
      if (s.rr.length > HR_BEATS) { s.rr.shift(); }
      setText("monitor-hr", String(Math.round(60 / median(s.rr))));
    }
    setText("monitor-beats", String(s.beats));
    if (beat.is_anomaly) {
      s.anomalies += 1;
      setText("monitor-anomalies", String(s.anomalies));
      listAnomaly(beat);
    }
    s.dirty = true;
  }

  function listAnomaly(beat) {
    var list = el("monitor-anomaly-list");
    var item = document.createElement("li");
    item.setAttribute("data-testid", "monitor-anomaly");
    item.setAttribute("data-sample", String(beat.sample));
    var link = document.createElement("a");
    var when = clock(beat.sample / fs) + "." + String(Math.floor((beat.sample / fs % 1) * 10));
    link.textContent = "Beat at " + when;
    link.setAttribute("data-sample", String(beat.sample));
    if (beatUrl) {
      link.href = beatUrl + "?sample=" + beat.sample;
    } else {
      link.href = "#monitor-beat-section";
      link.setAttribute("data-score", String(beat.score));
      link.setAttribute("data-threshold", String(beat.threshold));
      link.setAttribute("data-confidence", String(beat.confidence));
    }
    var detail = document.createElement("span");
    detail.textContent = " score " + Number(beat.score).toFixed(2) + " > threshold " +
      Number(beat.threshold).toFixed(2) + ", confidence " + Number(beat.confidence).toFixed(2) +
      (beat.rr_s ? ", RR " + Number(beat.rr_s).toFixed(2) + " s" : "");
    item.appendChild(link);
    item.appendChild(detail);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > LIST_MAX) { list.removeChild(list.lastChild); }
    el("monitor-no-anomalies").hidden = true;
  }

  /* The example's beats: the beat's shape, fetched from the example (which never changes) and drawn here. */
  function showExampleBeat(link) {
    var sample = Number(link.getAttribute("data-sample"));
    var before = Math.round(0.4 * fs), count = Math.round(1.0 * fs);
    var start = Math.max(0, sample - before);
    var target = el("monitor-beat-plot");
    if (!window.Plotly) {
      setText("monitor-beat-details", "The figure could not be drawn: reload the page.");
      return;
    }
    target.setAttribute("aria-busy", "true");
    fetchSamples(start, count)
      .then(function (piece) {
        var x = piece.samples.map(function (_, i) { return (start + i - sample) / fs; });
        setText("monitor-beat-heading", "Beat at " + link.textContent.replace(/^Beat at /, ""));
        setText("monitor-beat-details", "anomalous: score " + Number(link.getAttribute("data-score")).toFixed(3) +
          " > threshold " + Number(link.getAttribute("data-threshold")).toFixed(3) + ", confidence " +
          Number(link.getAttribute("data-confidence")).toFixed(2) + ". The signal as played, in mV; 0 is the R peak.");
        var data = [
          { x: x, y: piece.samples, mode: "lines", name: "ECG", line: { color: COLOURS.signal, width: 1.5 },
            hoverinfo: "skip" },
          { x: [0], y: [piece.samples[sample - start]], mode: "markers", name: "R peak",
            marker: { color: COLOURS.abnormal, size: 12, symbol: "diamond" } }
        ];
        var layout = { margin: { l: 56, r: 16, t: 16, b: 48 }, showlegend: false, height: 320,
                       xaxis: { title: { text: "time from the R peak (s)" }, zeroline: false },
                       yaxis: { title: { text: "mV" } } };
        return window.Plotly.react(target, data, layout, config).then(function () {
          target.setAttribute("data-rendered", "true");
          target.setAttribute("data-sample", String(sample));
        });
      })
      .catch(function () { setText("monitor-beat-details", "This beat could not be loaded; try again."); })
      .then(function () { target.removeAttribute("aria-busy"); });
  }

  // ------------------------------------------------------------------ the chart (a canvas)
  function trim(marks, from) {
    var i = 0;
    while (i < marks.x.length && marks.x[i] < from) { i++; }
    if (i) {
      marks.x.splice(0, i);
      marks.y.splice(0, i);
      marks.c.splice(0, i);
    }
  }

  /* The right edge of the chart, in seconds of signal: the played time, one sending tick behind (so the
     samples are there), and never past what was sent. It moves every frame: a smooth sweep. */
  function edge() {
    var played = playedSeconds() - SEND_EVERY_MS / 1000 * speed;
    return Math.max(0, Math.min(played, s.sent / fs));
  }

  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext("2d");
  canvas.setAttribute("aria-hidden", "true");  // the container's aria-label says what it shows
  plot.appendChild(canvas);
  var size = { w: 0, h: 0, ratio: 1 };
  var yRange = [-1, 1.5];
  var MARGIN = { l: 52, r: 12, t: 10, b: 34 };

  function fit() {
    var ratio = window.devicePixelRatio || 1;
    var w = Math.max(200, plot.clientWidth), h = Math.max(160, plot.clientHeight);
    if (w !== size.w || h !== size.h || ratio !== size.ratio) {
      size = { w: w, h: h, ratio: ratio };
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
  }

  /* The y range of the samples in view, in 0.5-mV steps, widened at once but narrowed only when the
     signal has used less than half of it: the trace does not jump from one frame to the next. */
  function updateYRange(from, to) {
    var h = s.history, n = h.length, lo = Infinity, hi = -Infinity;
    for (var i = from; i < to; i++) {
      var v = h[i % n];
      if (v < lo) { lo = v; }
      if (v > hi) { hi = v; }
    }
    if (!isFinite(lo)) { return; }
    var want = [Math.floor((lo - 0.2) * 2) / 2, Math.ceil((hi + 0.2) * 2) / 2];
    var wider = want[0] < yRange[0] || want[1] > yRange[1];
    var tooWide = (want[1] - want[0]) < (yRange[1] - yRange[0]) / 2;
    if (wider || tooWide) { yRange = want; }
  }

  function drawMarks(marks, colour, diamond, x, y, t0) {
    ctx.fillStyle = colour;
    for (var i = 0; i < marks.x.length; i++) {
      if (marks.x[i] < t0 || marks.y[i] === null) { continue; }
      var px = x(marks.x[i]), py = y(marks.y[i]) - 10;  // just above the R peak
      ctx.beginPath();
      if (diamond) {
        ctx.moveTo(px, py - 7); ctx.lineTo(px + 6, py); ctx.lineTo(px, py + 7); ctx.lineTo(px - 6, py);
      } else {
        ctx.arc(px, py, 4, 0, 2 * Math.PI);
      }
      ctx.closePath();
      ctx.fill();
    }
  }

  function draw() {
    var started = performance.now();
    fit();
    var t1 = Math.max(WINDOW_S, edge()), t0 = t1 - WINDOW_S;
    trim(s.normal, t0 - 2);
    trim(s.abnormal, t0 - 2);
    var last = Math.min(s.sent, Math.floor(t1 * fs) + 1);
    var first = Math.max(0, Math.ceil(t0 * fs), s.sent - s.history.length);
    updateYRange(first, last);
    var W = size.w, H = size.h, pw = W - MARGIN.l - MARGIN.r, ph = H - MARGIN.t - MARGIN.b;
    function x(t) { return MARGIN.l + (t - t0) / WINDOW_S * pw; }
    function y(v) { return MARGIN.t + (yRange[1] - v) / (yRange[1] - yRange[0]) * ph; }
    ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
    ctx.clearRect(0, 0, W, H);
    // the grid: every second and every 0.5 mV, labelled
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#e5e9ef";
    ctx.fillStyle = "#5a6675";
    ctx.font = "12px system-ui, sans-serif";
    ctx.beginPath();
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (var sec = Math.ceil(t0); sec <= t1; sec++) {
      var gx = Math.round(x(sec)) + 0.5;
      ctx.moveTo(gx, MARGIN.t);
      ctx.lineTo(gx, MARGIN.t + ph);
      if (sec % 2 === 0) { ctx.fillText(clock(sec).replace(/^00:/, ""), gx, MARGIN.t + ph + 6); }
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    var step = yRange[1] - yRange[0] > 4 ? 1 : 0.5;
    for (var mv = Math.ceil(yRange[0] / step) * step; mv <= yRange[1] + 1e-9; mv += step) {
      var gy = Math.round(y(mv)) + 0.5;
      ctx.moveTo(MARGIN.l, gy);
      ctx.lineTo(MARGIN.l + pw, gy);
      ctx.fillText(mv.toFixed(1), MARGIN.l - 6, gy);
    }
    ctx.stroke();
    ctx.save();
    ctx.translate(12, MARGIN.t + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("mV", 0, 0);
    ctx.restore();
    // the signal: every sample, or the lowest and highest of each pixel column when there are more
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.l, MARGIN.t, pw, ph);
    ctx.clip();
    ctx.strokeStyle = COLOURS.signal;
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    var h = s.history, n = h.length, perPixel = (last - first) / pw;
    if (perPixel <= 2) {
      for (var i = first; i < last; i++) {
        if (i === first) { ctx.moveTo(x(i / fs), y(h[i % n])); } else { ctx.lineTo(x(i / fs), y(h[i % n])); }
      }
    } else {
      for (var col = 0; col < pw; col++) {
        var a = first + Math.floor(col * perPixel), b = Math.min(last, first + Math.floor((col + 1) * perPixel));
        var lo = Infinity, hi = -Infinity;
        for (var j = a; j < b; j++) { var v = h[j % n]; if (v < lo) { lo = v; } if (v > hi) { hi = v; } }
        if (!isFinite(lo)) { continue; }
        ctx.lineTo(MARGIN.l + col, y(hi));
        ctx.lineTo(MARGIN.l + col, y(lo));
      }
    }
    ctx.stroke();
    drawMarks(s.normal, COLOURS.normal, false, x, y, t0);
    drawMarks(s.abnormal, COLOURS.abnormal, true, x, y, t0);
    ctx.restore();
    var ms = performance.now() - started;
    s.stats.draws += 1;
    s.stats.drawMsTotal += ms;
    s.stats.drawMsMax = Math.max(s.stats.drawMsMax, ms);
    plot.setAttribute("data-rendered", "true");
    plot.setAttribute("data-points", String(Math.max(0, last - first)));
    plot.setAttribute("data-marks", s.normal.x.length + "," + s.abnormal.x.length);
    s.dirty = false;
  }

  /* Every animation frame while playing (the sweep moves), else only when something changed. */
  var scheduled = false;

  function frame() {
    scheduled = false;
    if (!s) { return; }
    if (s.playing || s.dirty) { draw(); }
    if (s.playing || (s.ws && s.ws.readyState === WebSocket.OPEN)) { schedule(); }
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(frame);
    }
  }

  window.addEventListener("resize", function () { if (s) { s.dirty = true; schedule(); } });

  // ------------------------------------------------------------------ the socket
  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (err) { return; }
    if (message.type === "beat") {
      onBeat(message);
    } else if (message.type === "started") {
      plot.setAttribute("data-model", String(message.model || ""));
    } else if (message.type === "end") {
      var summary = message.summary || {};
      s.ended = true;
      status("Ended: " + (summary.beats !== undefined ? summary.beats : s.beats) + " beats, " +
             (summary.anomalies !== undefined ? summary.anomalies : s.anomalies) + " anomalous, in " +
             clock(s.sent / fs) + " of signal.");
      finish();
    } else if (message.type === "error") {
      status("The stream stopped: " + String(message.detail || "an error"), true);
      s.ended = true;
      finish();
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    // the route's path (Flask writes websocket routes as ws:// URLs), on this page's own host and scheme
    var path = new URL(root.getAttribute("data-ws-url"), window.location.href).pathname;
    var ws = new WebSocket(scheme + "//" + window.location.host + path);
    var session = s;
    s.ws = ws;
    ws.onopen = function () {
      if (session !== s) { ws.close(); return; }
      var start = { type: "start", fs: fs };
      if (root.getAttribute("data-lead")) { start.lead = root.getAttribute("data-lead"); }
      send(start);
      session.startedAt = performance.now();
      session.playing = true;
      status("Playing" + (speed !== 1 ? " at " + speed + "× real speed" : " at real speed") + ".");
      buttons();
      schedule();
    };
    ws.onmessage = function (event) { if (session === s) { onMessage(event); } };
    ws.onclose = function (event) {
      if (session !== s || session.ended || session.closing) { return; }
      session.ended = true;
      status("The stream closed" + (event.reason ? ": " + event.reason : " (code " + event.code + ")") +
             ". Press Start to play again.", true);
      finish();
    };
  }

  // ------------------------------------------------------------------ buttons
  function buttons() {
    var running = !!(s && !s.ended && s.ws);
    el("monitor-start").disabled = running;
    el("monitor-pause").disabled = !running;
    el("monitor-stop").disabled = !running;
    var paused = running && !s.playing;
    el("monitor-pause").textContent = paused ? "Resume" : "Pause";
    el("monitor-pause").setAttribute("aria-pressed", paused ? "true" : "false");
  }

  function start() {
    if (s && s.ws) { s.closing = true; s.ws.close(); }
    s = fresh();
    window.ecgadMonitor = s;  // read by the browser tests (counts, draw times)
    ["monitor-hr"].forEach(function (id) { setText(id, "—"); });
    setText("monitor-beats", "0");
    setText("monitor-anomalies", "0");
    el("monitor-anomaly-list").textContent = "";
    el("monitor-no-anomalies").hidden = false;
    status("Connecting…");
    fetchMore();
    s.timer = window.setInterval(tick, SEND_EVERY_MS);
    connect();
    buttons();
  }

  function pause() {
    if (!s || s.ended) { return; }
    if (s.playing) {
      halt();
      status("Paused at " + clock(s.sent / fs) + ".");
    } else {
      s.pausedMs += performance.now() - s.pausedAt;
      s.playing = true;
      status("Playing" + (speed !== 1 ? " at " + speed + "× real speed" : " at real speed") + ".");
      schedule();
    }
    buttons();
  }

  /* Stop the clock where it is (the chart stays on the last 10 s played). */
  function halt() {
    if (s.playing) {
      s.playing = false;
      s.pausedAt = performance.now();
    }
  }

  function stop() {
    if (!s || s.ended) { return; }
    halt();
    if (s.ws && s.ws.readyState === WebSocket.OPEN && !s.endSent) {
      s.endSent = true;
      send({ type: "end" });  // the server answers with the summary, then closes
      status("Stopped; waiting for the last verdicts…");
    } else {
      s.ended = true;
      finish(true);
    }
    buttons();
  }

  /* The session is over. After the server's "end" or "error" the server closes the socket itself (closing
     it from both sides at once can leave stray bytes on the connection); ``closeSocket`` when we end it. */
  function finish(closeSocket) {
    halt();
    setText("monitor-clock", clock(s.sent / fs));
    window.clearInterval(s.timer);
    s.closing = true;
    if (closeSocket && s.ws && s.ws.readyState === WebSocket.OPEN) { s.ws.close(1000); }
    s.dirty = true;
    schedule();
    buttons();
    el("monitor-start").disabled = false;
    el("monitor-pause").disabled = true;
    el("monitor-stop").disabled = true;
  }

  el("monitor-start").addEventListener("click", start);
  el("monitor-pause").addEventListener("click", pause);
  el("monitor-stop").addEventListener("click", stop);
  el("monitor-anomaly-list").addEventListener("click", function (event) {
    var link = event.target.closest("a[data-sample]");
    if (link && !beatUrl) { showExampleBeat(link); }  // the link's #anchor scrolls to the figure
  });

  function init() {
    s = fresh();
    draw();  // the empty chart, so that the page does not jump when playing starts
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
