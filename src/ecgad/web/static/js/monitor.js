/* The live monitor (templates/monitor/monitor.html): plays a source (the synthesised example or a stored
   recording, fetched in pieces from #monitor's data-samples-url) through the WebSocket stream at real speed
   (?speed=N plays N times faster, up to 50), and shows each beat's verdict as it arrives: a scrolling chart
   of the last 10 s, the heart rate, the counts, and a list of the last anomalous beats.

   Rendering: Plotly (SVG), redrawn with Plotly.react at most every DRAW_EVERY_MS from requestAnimationFrame,
   one redraw per update (extendTraces followed by a relayout of the range would draw twice). The traces hold
   only the last KEEP_S seconds (about 4,300 points at 360 Hz), so a redraw costs the same after 30 minutes
   as after one. The stream sends a beat 2 to 7 s after its R peak: markers appear behind the right edge.
   Text goes in with textContent only: nothing from the server is parsed as HTML. No inline script (CSP). */
(function () {
  "use strict";

  var WINDOW_S = 10;            // the chart's width
  var KEEP_S = 12;              // what the traces keep: the window and a little more
  var SEND_EVERY_MS = 100;      // one samples message per tick, paced by the clock (not by the timer)
  var DRAW_EVERY_MS = 100;      // chart redraws, at most this often
  var PIECE_S = 20;             // seconds of source signal per fetch (times the speed, up to the server's 60 s)
  var MAX_PIECE_S = 60;
  var HISTORY_S = 60;           // signal kept to place a beat's marker (verdicts come up to ~25 s late at first)
  var MAX_MESSAGE = 8192;       // samples per message
  var BACKPRESSURE_BYTES = 1 << 20;  // wait while this much is still unsent on the socket
  var HR_BEATS = 8;             // the heart rate: the median of the last 8 RR intervals
  var LIST_MAX = 10;            // anomalous beats listed
  var MAX_SPEED = 50;
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

  // ------------------------------------------------------------------ one session's state
  var s = null;

  function fresh() {
    return {
      ws: null, playing: false, ended: false, endSent: false, closing: false,
      startedAt: 0, pausedAt: 0, pausedMs: 0,
      buf: [], bufStart: 0, fetching: false, sourceEnded: false,  // source samples not yet sent
      sent: 0,                                                   // samples sent (stream index = source index)
      history: new Float32Array(Math.ceil(HISTORY_S * fs)),
      signal: { x: [], y: [] }, normal: { x: [], y: [], c: [] }, abnormal: { x: [], y: [], c: [] },
      beats: 0, anomalies: 0, rr: [], dirty: false, lastDraw: 0, timer: null,
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
    fetch(samplesUrl + "?start=" + start + "&count=" + count,
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (piece) {
        if (session !== s) { return; }
        Array.prototype.push.apply(session.buf, piece.samples);
        session.sourceEnded = !!piece.ended;
      })
      .catch(function () {
        if (session !== s) { return; }
        status("The signal could not be loaded; reload the page and try again.", true);
        stop(true);
      })
      .then(function () { session.fetching = false; });
  }

  // ------------------------------------------------------------------ sending, paced by the clock
  function tick() {
    if (!s || !s.playing || !s.ws || s.ws.readyState !== WebSocket.OPEN) { return; }
    setText("monitor-clock", clock(s.sent / fs));
    if (s.buf.length < PIECE_S * fs * Math.min(speed, 3) / 2) { fetchMore(); }
    if (s.ws.bufferedAmount > BACKPRESSURE_BYTES) { return; }  // the server is behind: wait, drop nothing
    var due = Math.floor(playedSeconds() * fs);
    if (total !== null) { due = Math.min(due, total); }
    var n = Math.min(due - s.sent, s.buf.length);
    while (n > 0) {
      var chunk = s.buf.splice(0, Math.min(n, MAX_MESSAGE));
      s.ws.send(JSON.stringify({ type: "samples", samples: chunk }));
      keep(chunk);
      n -= chunk.length;
    }
    if (total !== null && s.sourceEnded && !s.buf.length && s.sent >= total && !s.endSent) {
      s.endSent = true;
      s.ws.send(JSON.stringify({ type: "end" }));
      status("The recording has been played to its end; waiting for the last verdicts…");
    }
  }

  function keep(chunk) {
    var h = s.history, size = h.length;
    for (var i = 0; i < chunk.length; i++) {
      var index = s.sent + i;
      h[index % size] = chunk[i];
      s.signal.x.push(index / fs);
      s.signal.y.push(chunk[i]);
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
    target.setAttribute("aria-busy", "true");
    fetch(samplesUrl + "?start=" + start + "&count=" + count,
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
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

  // ------------------------------------------------------------------ the chart
  function trim(marks, from) {
    var i = 0;
    while (i < marks.x.length && marks.x[i] < from) { i++; }
    if (i) {
      marks.x.splice(0, i);
      marks.y.splice(0, i);
      if (marks.c) { marks.c.splice(0, i); }
    }
  }

  function yRange(values) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      if (values[i] < lo) { lo = values[i]; }
      if (values[i] > hi) { hi = values[i]; }
    }
    if (!isFinite(lo)) { return [-1, 1.5]; }
    return [Math.floor((lo - 0.2) * 2) / 2, Math.ceil((hi + 0.2) * 2) / 2];  // 0.5-mV steps: no jitter
  }

  var HOVER = "%{x:.2f} s<br>score %{customdata[0]:.3f} (threshold %{customdata[1]:.3f})<br>" +
              "confidence %{customdata[2]:.2f}";

  function figure() {
    var end = Math.max(WINDOW_S, s.sent / fs);
    return {
      data: [
        { x: s.signal.x.slice(), y: s.signal.y.slice(), mode: "lines", name: "ECG", hoverinfo: "skip",
          line: { color: COLOURS.signal, width: 1 } },
        { x: s.normal.x.slice(), y: s.normal.y.slice(), customdata: s.normal.c.slice(), mode: "markers",
          name: "normal beat", marker: { color: COLOURS.normal, size: 7, symbol: "circle" },
          hovertemplate: HOVER + "<extra>normal beat</extra>" },
        { x: s.abnormal.x.slice(), y: s.abnormal.y.slice(), customdata: s.abnormal.c.slice(), mode: "markers",
          name: "anomalous beat", marker: { color: COLOURS.abnormal, size: 11, symbol: "diamond" },
          hovertemplate: HOVER + "<extra>anomalous beat</extra>" }
      ],
      layout: {
        margin: { l: 56, r: 16, t: 8, b: 44 }, height: 360, showlegend: true,
        legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
        xaxis: { range: [end - WINDOW_S, end], fixedrange: true, title: { text: "time (s)" }, zeroline: false },
        yaxis: { range: yRange(s.signal.y), fixedrange: true, title: { text: "mV" }, zeroline: false },
        dragmode: false, hovermode: "closest"
      }
    };
  }

  function draw() {
    var from = s.sent / fs - KEEP_S;
    trim(s.signal, from);
    trim(s.normal, from);
    trim(s.abnormal, from);
    var f = figure();
    var t0 = performance.now();
    window.Plotly.react(plot, f.data, f.layout, config);
    var ms = performance.now() - t0;
    s.stats.draws += 1;
    s.stats.drawMsTotal += ms;
    s.stats.drawMsMax = Math.max(s.stats.drawMsMax, ms);
    plot.setAttribute("data-rendered", "true");
    plot.setAttribute("data-points", String(f.data[0].x.length));
    s.dirty = false;
  }

  function frame(now) {
    if (!s) { return; }
    if (s.dirty && now - s.lastDraw >= DRAW_EVERY_MS) {
      draw();
      s.lastDraw = now;
    }
    if (s.playing || s.dirty || (s.ws && s.ws.readyState === WebSocket.OPEN)) {
      window.requestAnimationFrame(frame);
    }
  }

  // ------------------------------------------------------------------ the socket
  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (err) { return; }
    if (message.type === "beat") {
      onBeat(message);
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
    var ws = new WebSocket(scheme + "//" + window.location.host + root.getAttribute("data-ws-path"));
    var session = s;
    s.ws = ws;
    ws.onopen = function () {
      if (session !== s) { ws.close(); return; }
      var start = { type: "start", fs: fs };
      if (root.getAttribute("data-lead")) { start.lead = root.getAttribute("data-lead"); }
      ws.send(JSON.stringify(start));
      session.startedAt = performance.now();
      session.playing = true;
      status("Playing" + (speed !== 1 ? " at " + speed + "× real speed" : " at real speed") + ".");
      buttons();
      window.requestAnimationFrame(frame);
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
      s.playing = false;
      s.pausedAt = performance.now();
      status("Paused at " + clock(s.sent / fs) + ".");
    } else {
      s.pausedMs += performance.now() - s.pausedAt;
      s.playing = true;
      status("Playing" + (speed !== 1 ? " at " + speed + "× real speed" : " at real speed") + ".");
      window.requestAnimationFrame(frame);
    }
    buttons();
  }

  function stop(quiet) {
    if (!s || s.ended) { return; }
    s.playing = false;
    if (s.ws && s.ws.readyState === WebSocket.OPEN && !s.endSent) {
      s.endSent = true;
      s.ws.send(JSON.stringify({ type: "end" }));  // the server answers with the summary, then closes
      if (!quiet) { status("Stopped; waiting for the last verdicts…"); }
    } else {
      s.ended = true;
      finish();
    }
    buttons();
  }

  function finish() {
    s.playing = false;
    window.clearInterval(s.timer);
    s.closing = true;
    if (s.ws && s.ws.readyState === WebSocket.OPEN) { s.ws.close(1000); }
    s.dirty = true;
    window.requestAnimationFrame(frame);
    buttons();
    el("monitor-start").disabled = false;
    el("monitor-pause").disabled = true;
    el("monitor-stop").disabled = true;
  }

  el("monitor-start").addEventListener("click", start);
  el("monitor-pause").addEventListener("click", pause);
  el("monitor-stop").addEventListener("click", function () { stop(false); });
  el("monitor-anomaly-list").addEventListener("click", function (event) {
    var link = event.target.closest("a[data-sample]");
    if (link && !beatUrl) { showExampleBeat(link); }  // the link's #anchor scrolls to the figure
  });

  function init() {
    if (!window.Plotly) {
      status("The chart could not be loaded; reload the page.", true);
      el("monitor-start").disabled = true;
      return;
    }
    s = fresh();
    draw();  // the empty chart, so that the page does not jump when playing starts
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
