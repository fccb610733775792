// DataPalooza dashboard: polls the JSON API and redraws in place (no page reloads).
// Charts are plotly.js, served by this server from the plotly Python package.
// Text from the API (stage names, track titles) is only ever set as textContent, and
// handed to plotly.js only through plotlyText (plotly reads HTML in the text it draws).
"use strict";

(function () {
  const EMOTIONS = ["HAPPY", "SURPRISED", "CALM", "CONFUSED", "SAD", "FEAR", "DISGUSTED", "ANGRY"];
  const COLORS = {
    HAPPY: "#ffc93c", SURPRISED: "#ff8c42", CALM: "#5bc0eb", CONFUSED: "#9b5de5",
    SAD: "#3a86ff", FEAR: "#7b6ca8", DISGUSTED: "#8ac926", ANGRY: "#ff595e",
  };
  const VERDICT_TEXT = {
    above: "above the set", average: "about average", below: "below the set",
    too_few_faces: "too few faces", upcoming: "not played yet",
  };
  const POLL_MS = Number(document.body.dataset.pollMs) || 3000;
  const HORIZON_MINUTES = Number(document.body.dataset.horizonMinutes) || 5;
  // The newest face older than this: the cameras are quiet, the numbers are history.
  const QUIET_AFTER_MS = 60000;
  const TICK_CHARS = 18;  // a track title on the report chart's axis; the table has it all
  const PLOT_CONFIG = { displayModeBar: false, responsive: true };
  const FONT = { color: "#e9e1ff", family: "system-ui, sans-serif", size: 12 };

  const $ = (id) => document.getElementById(id);
  const cards = new Map();
  let lastStages = [];
  let reportStage = "";
  let busy = false;
  let again = false;

  // ---- helpers ---------------------------------------------------------------
  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.message || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }
  const title = (s) => s.charAt(0) + s.slice(1).toLowerCase();
  const fmtMood = (m) => (m === null || m === undefined ? "–" : (m > 0 ? "+" : "") + m.toFixed(0));
  const moodClass = (m) => (m === null || m === undefined ? "" : m >= 10 ? "mood-pos" : m <= -10 ? "mood-neg" : "");
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const hhmm = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const TWELVE_HOUR = ["h11", "h12"].includes(
    new Intl.DateTimeFormat([], { hour: "numeric" }).resolvedOptions().hourCycle);
  const AXIS_TIME = TWELVE_HOUR
    ? { tick: "%-I:%M %p", hover: "%-I:%M:%S %p" } : { tick: "%H:%M", hover: "%H:%M:%S" };
  // plotly.js drops a time's UTC offset: hand it wall-clock times in the viewer's zone.
  function localTime(iso) {
    const t = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
      `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }
  // A setlist line's time as the parser reads it back, whatever the viewer's locale:
  // 24-hour HH:MM, with :SS only when a track starts within a minute.
  function setlistTime(iso) {
    const [, time] = localTime(iso).split(" ");
    return time.endsWith(":00") ? time.slice(0, 5) : time;
  }
  // plotly.js draws its own mini-HTML in tick labels, hover text, titles and
  // annotations (<a href>, <span style>, <b>, <br>): every string from the API it is
  // given goes through here, so a track title shows as typed, never as markup.
  // plotly turns &amp; &lt; &gt; back into the characters when it draws.
  const plotlyText = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const shorten = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- views -------------------------------------------------------------------
  function showView() {
    const view = location.hash === "#artists" ? "artists" : "fans";
    document.querySelectorAll(".view").forEach((v) => { v.hidden = v.dataset.view !== view; });
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === view));
    if (view === "fans") cards.forEach((card) => Plotly.Plots.resize(card.chart));
    else {
      // Drawn while the view was hidden, or at another width: fit the column again.
      if ($("report-chart").data) Plotly.Plots.resize($("report-chart"));
      refreshReport();
    }
  }
  window.addEventListener("hashchange", showView);

  // ---- live status ------------------------------------------------------------
  // dot: "on" (live: green, pulsing), "idle" (stopped or quiet: grey, still) or "off"
  // (connection lost: red). The text changes every poll; screen readers hear only the
  // announcement, and only when it changes (a change of state).
  let announced = "";
  function setLive(dot, text, announcement) {
    $("live-dot").className = "dot " + dot;
    $("live-text").textContent = text;
    if (announcement !== announced) $("live-announce").textContent = announcement;
    announced = announcement;
  }

  // Is what the page shows live? "stopped" when the pipeline does not run (the status
  // API says so, with a note), "quiet" when it runs but no face came for a while.
  // Both clocks are the server's (generated_at, last_seen): a viewer's clock that is
  // off changes nothing.
  function freshness(stages, status) {
    const seen = stages.stages.map((s) => s.last_seen).filter(Boolean).map((t) => Date.parse(t));
    const newest = seen.length ? Math.max(...seen) : null;
    const age = newest === null ? Infinity : Date.parse(stages.generated_at) - newest;
    const state = !status.running ? "stopped" : age > QUIET_AFTER_MS ? "quiet" : "live";
    return { state, newest: newest === null ? null : new Date(newest).toISOString() };
  }

  function showFreshness(fresh, generatedAt) {
    const since = fresh.newest ? clock(fresh.newest) : "";
    if (fresh.state === "live") {
      setLive("on", `Live · updated ${clock(generatedAt)}`, "Live");
    } else if (fresh.state === "stopped") {
      setLive("idle", since ? `Stopped · last face ${since}` : "Not running",
        "Not live: the pipeline is not running");
    } else {
      setLive("idle", since ? `Running · no new faces since ${since}` : "Running · waiting for faces",
        "Not live: no new faces");
    }
  }

  function renderPipeline(status) {
    const strip = $("pipeline");
    strip.replaceChildren();
    strip.hidden = false;
    if (!status.running) {
      // Why there are no live counters (stopped, never started, unreadable status).
      const note = el("p", "pipeline-note", `Pipeline not running: ${status.note || "no status"}`);
      if (status.updated_at) note.textContent += ` · last status ${clock(status.updated_at)}`;
      strip.append(note);
      return;
    }
    const pill = (label, value) => {
      const p = el("span", "pill");
      p.append(label + " ", el("b", "", String(value)));
      return p;
    };
    let frames = 0, faces = 0, crops = 0;
    const stages = Object.values(status.stages);
    for (const counters of stages) { frames += counters.frames; faces += counters.faces; crops += counters.crops || 0; }
    strip.append(pill("Pipeline running · frames", frames), pill("faces found", faces));
    // Faces under the detector's minimum size are found but not cropped, so never scored.
    if (stages.length && stages.every((c) => Number.isInteger(c.crops)) && faces > crops) {
      const small = pill("too small to score", faces - crops);
      small.title = "faces found but smaller than the minimum crop size: counted, not cropped or scored";
      strip.append(small);
    }
    if (status.tracker) {
      strip.append(pill("scored", status.tracker.scored), pill("waiting to be scored", status.tracker.pending));
      if (status.tracker.failed) strip.append(pill("failed", status.tracker.failed));
    }
  }

  // ---- best stage -------------------------------------------------------------
  function renderBest(best, fresh) {
    const list = $("ranking");
    list.replaceChildren();
    const top = best.ranking[0];
    // Not live: the ranking is what the last faces said, and says so.
    const asOf = fresh.newest ? hhmm(fresh.newest) : "";
    const why = fresh.state === "stopped" ? "stopped" : "no new faces";
    $("best-title").textContent = fresh.state === "live" || !asOf
      ? "Best stage right now" : `Best stage as of ${asOf} (${why})`;
    $("best-detail").textContent = top
      ? `Mood ${fmtMood(top.mood)} over the last ${HORIZON_MINUTES} minutes, from ${top.faces} faces`
      : fresh.state === "live" ? "Waiting for enough faces to rank the stages…"
        : asOf ? `No stage ranked: no faces since ${asOf}.` : "No faces yet.";
    $("best-name").textContent = top ? top.stage : "—";
    const scores = best.ranking.map((r) => Math.abs(r.score));
    const scale = Math.max(25, ...scores);
    for (const r of best.ranking) {
      const li = el("li");
      li.dataset.stage = r.stage;
      li.append(el("span", "pos", String(r.rank)), el("span", "name", r.stage));
      const track = el("span", "track");
      const fill = el("span", "fill");
      fill.style.width = `${Math.max(3, (50 + (50 * r.score) / scale)).toFixed(1)}%`;
      track.append(fill);
      li.append(track, el("span", "score " + moodClass(r.score), fmtMood(r.score)));
      li.title = `steady score ${fmtMood(r.score)}: the last ${HORIZON_MINUTES} minutes' mood, ` +
        "recent faces weighted most, pulled toward 0 when faces are few";
      list.append(li);
    }
    for (const w of best.warming_up) {
      const li = el("li", "warming");
      li.dataset.stage = w.stage;
      li.append(el("span", "pos", "·"), el("span", "name", w.stage));
      const track = el("span", "track");
      const fill = el("span", "fill");
      fill.style.width = `${Math.min(100, (100 * w.faces) / w.needed).toFixed(0)}%`;
      track.append(fill);
      li.append(track, el("span", "score", `${w.faces}/${w.needed}`));
      li.title = `warming up: ${w.faces} of ${w.needed} faces needed to be ranked`;
      list.append(li);
    }
    return new Map(best.ranking.map((r) => [r.stage, r.rank]));
  }

  // ---- stage cards ------------------------------------------------------------
  function card(stage) {
    let c = cards.get(stage);
    if (c) return c;
    const node = $("stage-card").content.firstElementChild.cloneNode(true);
    node.dataset.stage = stage;
    node.querySelector(".stage-name").textContent = stage;
    $("stages").append(node);
    c = { node, chart: node.querySelector(".stage-chart"), drawn: false };
    cards.set(stage, c);
    return c;
  }

  function renderStage(summary, ranks) {
    const c = card(summary.stage);
    const q = (sel) => c.node.querySelector(sel);
    const mood = summary.current.mood;
    const moodValue = q(".stat.mood .value");
    moodValue.textContent = fmtMood(mood);
    moodValue.className = "value " + moodClass(mood);
    q(".stat.dominant .value").textContent = summary.current.dominant ? title(summary.current.dominant) : "–";
    q(".stat.faces .value").textContent = String(summary.faces_last_minute);
    q(".mood-bar span").style.left = `calc(${mood === null ? 50 : 50 + mood / 2}% - 2px)`;
    q(".badge.path").textContent = summary.counters && summary.counters.path ? summary.counters.path : "";
    const rank = ranks.get(summary.stage);
    q(".badge.rank").textContent = rank ? `#${rank}` : "";
    c.node.classList.toggle("best-card", rank === 1);
    const parts = [];
    if (summary.last_seen) parts.push(`last face ${clock(summary.last_seen)}`);
    if (summary.counters) parts.push(`${summary.counters.fps.toFixed(1)} frames/s`);
    if (summary.has_setlist) parts.push("setlist stored");
    q(".stage-foot").textContent = parts.join(" · ") + (parts.length ? " · " : "") + "expressions, not feelings";
  }

  function drawTimeline(stage, timeline) {
    const c = card(stage);
    // A bucket that began less than 10 s ago holds a few seconds of faces, and not even
    // those yet (they are about a second behind the cameras): drawn, it would end the
    // chart in a drop every bucket. It is left out until it has run 10 s or is complete.
    const settling = (p) => !p.complete && (p.faces === 0 || Date.now() - Date.parse(p.start) < 10000);
    const points = timeline.points.filter((p, i, all) => i < all.length - 1 || !settling(p));
    const x = points.map((p) => localTime(p.start));
    const traces = EMOTIONS.filter((e) => points.some((p) => (p.mix[e] || 0) > 0)).map((e) => ({
      x, y: points.map((p) => (p.faces ? p.mix[e] || 0 : null)),
      name: title(e), type: "scatter", mode: "lines", stackgroup: "mix", line: { width: 0.5, color: COLORS[e] },
      fillcolor: COLORS[e] + "cc", hovertemplate: "%{y:.0f}%", connectgaps: false,
    }));
    traces.push({
      x, y: points.map((p) => p.faces_per_minute), name: "Faces / min", yaxis: "y2",
      type: "scatter", mode: "lines", line: { color: "#ffffff", width: 2, dash: "dot" }, hovertemplate: "%{y:.0f}/min",
    });
    const layout = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: FONT,
      margin: { l: 38, r: 42, t: 8, b: 30 }, height: 250, hovermode: "x unified",
      showlegend: true, legend: { orientation: "h", y: -0.22, font: { size: 10 } },
      // Times only (Plotly's default puts the date under the first tick, into the legend),
      // on the viewer's clock like the rest of the page.
      xaxis: { type: "date", tickformat: AXIS_TIME.tick, hoverformat: AXIS_TIME.hover, gridcolor: "rgba(255,255,255,0.06)" },
      yaxis: { title: { text: "expression mix %" , font: { size: 10 } }, range: [0, 100], gridcolor: "rgba(255,255,255,0.08)", ticksuffix: "" },
      yaxis2: { title: { text: "faces/min", font: { size: 10 } }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false },
    };
    Plotly.react(c.chart, traces, layout, PLOT_CONFIG);
    c.chart.setAttribute("aria-label", describeTimeline(stage, timeline.minutes, points));
    c.node.dataset.points = String(timeline.points.length);
    c.drawn = true;
  }

  // The chart in words, for screen readers: the faces, the expressions seen most and
  // where the mood ended.
  function describeTimeline(stage, minutes, points) {
    const faces = points.reduce((n, p) => n + p.faces, 0);
    const span = `${stage}, last ${minutes} minutes`;
    if (!faces) return `${span}: no faces.`;
    const share = Object.fromEntries(EMOTIONS.map((e) =>
      [e, points.reduce((n, p) => n + p.faces * (p.mix[e] || 0), 0) / faces]));
    const top = EMOTIONS.filter((e) => share[e] >= 0.5).sort((a, b) => share[b] - share[a]).slice(0, 2);
    const mix = top.map((e) => `${title(e)} ${share[e].toFixed(0)}%`).join(", then ");
    const withMood = points.filter((p) => p.faces && p.mood !== null);
    const last = withMood[withMood.length - 1];
    return `${span}: ${faces} faces; mostly ${mix}` +
      (last ? `; mood ${fmtMood(last.mood)} at ${hhmm(last.start)}.` : ".");
  }

  async function refreshFans() {
    const minutes = $("minutes").value;
    const [stages, best, status] = await Promise.all([
      getJSON("/api/stages"), getJSON("/api/best-stage"), getJSON("/api/status"),
    ]);
    renderPipeline(status);
    const fresh = freshness(stages, status);
    const ranks = renderBest(best, fresh);
    lastStages = stages.stages.map((s) => s.stage);
    $("no-stages").hidden = lastStages.length > 0;
    for (const [stage, c] of cards) {
      if (!lastStages.includes(stage)) { c.node.remove(); cards.delete(stage); }
    }
    // Best stages first, then the rest by name: the fans' order.
    const order = [...stages.stages].sort((a, b) =>
      (ranks.get(a.stage) || 1e9) - (ranks.get(b.stage) || 1e9) || a.stage.localeCompare(b.stage));
    for (const summary of order) {
      renderStage(summary, ranks);
      $("stages").append(card(summary.stage).node);
    }
    // Every stage's timeline in one request (one query), however many stages there are.
    const all = await getJSON(`/api/timelines?minutes=${minutes}`);
    all.timelines.filter((t) => lastStages.includes(t.stage)).forEach((t) => drawTimeline(t.stage, t));
    const names = $("stage-names");
    names.replaceChildren(...lastStages.map((s) => { const o = el("option"); o.value = s; return o; }));
    showFreshness(fresh, stages.generated_at);
  }

  // ---- artists ------------------------------------------------------------------
  function message(text, kind) {
    const m = $("sl-message");
    m.textContent = text;
    m.className = "form-message " + (kind || "");
  }

  async function refreshReport() {
    const stage = $("sl-stage").value.trim();
    if (!stage || !$("sl-stage").checkValidity()) return;
    reportStage = stage;
    let report;
    try {
      report = await getJSON(`/api/stages/${encodeURIComponent(stage)}/setlist-report`);
    } catch (error) {
      if (reportStage !== stage) return;
      $("report-summary").textContent = error.status === 404
        ? `No setlist stored for ${stage} yet: paste one on the left.` : error.message;
      $("report-table").hidden = true;
      Plotly.purge($("report-chart"));
      return;
    }
    if (reportStage === stage) renderReport(report);
  }

  function renderReport(report) {
    const who = report.artist ? `${report.artist} on ${report.stage}` : `The set on ${report.stage}`;
    $("report-summary").textContent =
      `${who}, ${hhmm(report.start)}–${hhmm(report.end)}${report.end_assumed ? " (end assumed)" : ""}: ` +
      `${report.faces} faces, set mood ${fmtMood(report.mood)}. A track lands above or below the set ` +
      `when its mood differs from the set's by more than ${report.margin} points ` +
      `(tracks need ${report.min_faces} faces).`;
    const body = $("report-table").tBodies[0];
    body.replaceChildren();
    for (const t of report.tracks) {
      const row = el("tr");
      row.dataset.verdict = t.verdict;
      const verdict = el("span", "verdict " + t.verdict, VERDICT_TEXT[t.verdict] || t.verdict);
      if (t.vs_set !== null && t.played) verdict.textContent += ` (${fmtMood(t.vs_set)})`;
      const cells = [String(t.number), t.title, `${hhmm(t.start)}–${hhmm(t.end)}`, String(t.faces),
        fmtMood(t.mood), t.dominant ? title(t.dominant) : "–"];
      for (const text of cells) row.append(el("td", "", text));
      const last = el("td");
      last.append(verdict);
      row.append(last);
      body.append(row);
    }
    $("report-table").hidden = false;
    const played = report.tracks.filter((t) => t.played);
    // Categories are the whole titles (numbered: two tracks may share one), the ticks
    // shortened so a long title does not run into the legend.
    const labels = played.map((t) => plotlyText(`${t.number}. ${t.title}`));
    const ticks = played.map((t) => plotlyText(shorten(`${t.number}. ${t.title}`, TICK_CHARS)));
    const traces = EMOTIONS.filter((e) => played.some((t) => (t.mix[e] || 0) > 0)).map((e) => ({
      x: labels, y: played.map((t) => t.mix[e] || 0), name: title(e), type: "bar",
      marker: { color: COLORS[e] }, hovertemplate: "%{y:.0f}%",
    }));
    traces.push({
      x: labels, y: played.map((t) => t.mood), name: "Mood", yaxis: "y2", type: "scatter",
      mode: "lines+markers", line: { color: "#ffffff", width: 3 }, marker: { size: 9 },
      // %{x} would be the shortened tick: the hover shows the whole title.
      customdata: labels, hovertemplate: "%{customdata}<br>mood %{y:+.0f}<extra></extra>",
    });
    Plotly.react($("report-chart"), traces, {
      barmode: "stack", paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: FONT,
      margin: { l: 40, r: 44, t: 10, b: 80 }, height: 330, legend: { orientation: "h", y: -0.4 },
      xaxis: { tickmode: "array", tickvals: labels, ticktext: ticks },
      yaxis: { title: { text: "expression mix %" }, range: [0, 100], gridcolor: "rgba(255,255,255,0.08)" },
      yaxis2: { title: { text: "mood" }, overlaying: "y", side: "right", range: [-100, 100], zeroline: true, showgrid: false },
      shapes: report.mood === null ? [] : [{ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y2",
        y0: report.mood, y1: report.mood, line: { color: "#ffb547", dash: "dash", width: 2 } }],
    }, PLOT_CONFIG);
  }

  async function saveSetlist(event) {
    event.preventDefault();
    const stage = $("sl-stage").value.trim();
    const payload = {
      artist: $("sl-artist").value.trim(), text: $("sl-text").value,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
    if ($("sl-date").value) payload.date = $("sl-date").value;
    try {
      const response = await fetch(`/api/stages/${encodeURIComponent(stage)}/setlist`, {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) { message(body.message || `error ${response.status}`, "error"); return; }
      message(`Saved ${body.tracks.length} tracks for ${body.stage}` +
        (body.end_assumed ? " (no end line: the last track's length is assumed)." : "."), "ok");
      refreshReport();
    } catch (error) {
      message(`Could not reach the dashboard: ${error.message}`, "error");
    }
  }

  async function loadStored() {
    if (!$("sl-stage").reportValidity()) return;
    const stage = $("sl-stage").value.trim();
    try {
      const setlist = await getJSON(`/api/stages/${encodeURIComponent(stage)}/setlist`);
      $("sl-artist").value = setlist.artist;
      // A title that starts like a separator or with AM/PM keeps it behind a dash.
      const line = (time, title) => `${time} ${/^([-\u2013\u2014|]|[AaPp]\.?[Mm]\.?(\s|$))/.test(title) ? "- " : ""}${title}`;
      const lines = setlist.tracks.map((t) => line(setlistTime(t.start), t.title));
      const last = setlist.tracks[setlist.tracks.length - 1];
      if (!setlist.end_assumed) lines.push(`${setlistTime(last.end)} end`);
      $("sl-text").value = lines.join("\n");
      $("sl-date").value = localTime(setlist.tracks[0].start).slice(0, 10);  // the viewer's day
      message("Loaded the stored setlist.", "ok");
    } catch (error) {
      message(error.message, "error");
    }
  }

  // ---- loop ---------------------------------------------------------------------
  async function tick() {
    if (busy) return;  // a poll while the last refresh is on its way: skip it
    busy = true;
    try {
      if (!$("view-fans").hidden) await refreshFans();
      else {
        // The report is history; the dot still says whether the pipeline runs.
        const [status] = await Promise.all([getJSON("/api/status"), refreshReport()]);
        renderPipeline(status);
        if (status.running) setLive("on", `Live · updated ${clock(status.updated_at)}`, "Live");
        else setLive("idle", "Stopped", "Not live: the pipeline is not running");
      }
    } catch (error) {
      setLive("off", `Connection lost (${error.message}) — retrying`, "Connection lost, retrying");
    } finally {
      busy = false;
      if (again) { again = false; tick(); }
    }
  }

  $("setlist-form").addEventListener("submit", saveSetlist);
  $("sl-load").addEventListener("click", loadStored);
  $("sl-stage").addEventListener("change", refreshReport);
  // A new window of minutes while a refresh is on its way refreshes again right after it,
  // instead of leaving the old window drawn until the next poll.
  function refreshNow() {
    if (busy) again = true; else tick();
  }
  $("minutes").addEventListener("change", refreshNow);
  $("sl-date").value = new Date().toLocaleDateString("sv");  // YYYY-MM-DD, local day
  showView();
  tick();
  setInterval(tick, POLL_MS);
})();
