/* pinpipe live dashboard: polls /ui/api/snapshot every second and updates the page in place.

   Everything the server sends is put on the page as text (textContent, attributes), never as
   HTML. Rates come from the server (records/s from end offsets it samples; see
   pinpipe/report/rates.py); a poll answered by a worker process that has only just started
   sampling carries no rate yet, and the page then keeps the last one it showed (and fills the
   gaps of its sparkline from the previous poll's). No console output: errors become states. */
(function () {
  "use strict";
  const body = document.body;
  const API = body.getAttribute("data-api");
  const KEY = "pinpipe-api-key";
  const SVG = "http://www.w3.org/2000/svg";
  const numbers = new Intl.NumberFormat("en-US");
  const decimals = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
  const state = {
    paused: false, timer: null, updates: 0, failures: 0, refresh: 1000,
    batchId: undefined, batchBusy: false, charts: [], rates: {}, sparks: {}, names: "",
    recordsKey: null, recordsBusy: false,
  };

  const $ = (id) => document.getElementById(id);
  const fmt = (n) => (n === null || n === undefined ? "–" : numbers.format(n));
  const clock = (iso) => (iso ? iso.slice(11, 19) + " UTC" : "–");
  const day = (iso) => (iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC" : "–");

  function make(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, value);
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function storedKey() {
    try { return sessionStorage.getItem(KEY); } catch (e) { return null; }
  }

  /* GET a JSON route of the dashboard; rejects with .forbidden on a 403 (a key is needed). */
  async function getJSON(path) {
    const headers = { Accept: "application/json" };
    const key = storedKey();
    if (key) { headers["x-api-key"] = key; }
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 8000);
    try {
      const response = await fetch(API + path, { headers, signal: controller.signal, cache: "no-store" });
      if (response.status === 403) {
        const error = new Error("forbidden");
        error.forbidden = true;
        throw error;
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return await response.json();
    } finally {
      clearTimeout(timeout);
    }
  }

  /* The connection state, announced (aria-live) only when it changes. */
  function setStatus(kind, text) {
    $("status").setAttribute("data-state", kind);
    setText($("status"), text);
  }

  function setText(node, value) {
    if (node.textContent !== value) { node.textContent = value; }
  }

  /* Set a cell's text; a changed number glows for a moment. */
  function put(cell, value) {
    if (cell.textContent === value) { return; }
    const first = cell.textContent === "";
    cell.textContent = value;
    if (!first) {
      cell.classList.remove("changed");
      void cell.offsetWidth; // restart the animation
      cell.classList.add("changed");
    }
  }

  // -- sparklines ---------------------------------------------------------------------------

  function sparkline(svg, series) {
    const width = 150, height = 30, pad = 2;
    const known = series.filter((v) => v !== null);
    const top = Math.max(1, ...known);
    const step = (width - 2 * pad) / Math.max(1, series.length - 1);
    let line = "", area = "", start = null, last = null;
    series.forEach((value, i) => {
      if (value === null) {
        if (start !== null) { area += `L${last},${height - pad}L${start},${height - pad}Z`; }
        start = null;
        return;
      }
      const x = (pad + i * step).toFixed(1);
      const y = (height - pad - (value / top) * (height - 2 * pad)).toFixed(1);
      line += (start === null ? "M" : "L") + x + "," + y;
      area += (start === null ? "M" + x + "," + (height - pad) + "L" : "L") + x + "," + y;
      if (start === null) { start = x; }
      last = x;
    });
    if (start !== null) { area += `L${last},${height - pad}L${start},${height - pad}Z`; }
    svg.querySelector(".area").setAttribute("d", area);
    svg.querySelector(".line").setAttribute("d", line);
    const peak = known.length ? decimals.format(Math.max(...known)) + " records/s" : "no data yet";
    svg.setAttribute("aria-label", "Records per second over the last 5 minutes; peak " + peak);
  }

  function sparkCell(cell) {
    const value = make("span", { class: "value" });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 150 30");
    svg.setAttribute("role", "img");
    svg.setAttribute("preserveAspectRatio", "none");
    for (const [kind, tag] of [["base", "line"], ["area", "path"], ["line", "path"]]) {
      const shape = document.createElementNS(SVG, tag);
      shape.setAttribute("class", kind);
      if (kind === "base") {
        for (const [k, v] of Object.entries({ x1: 0, x2: 150, y1: 28, y2: 28 })) { shape.setAttribute(k, v); }
      }
      svg.appendChild(shape);
    }
    const wrap = make("div", { class: "rate" });
    wrap.append(value, svg);
    cell.appendChild(wrap);
  }

  // -- the topic and stream tables ----------------------------------------------------------

  /* One row per topic or stream, made once and then updated cell by cell. */
  function row(table, name, columns) {
    const tbody = table.tBodies[0];
    let tr = tbody.querySelector(`tr[data-name="${CSS.escape(name)}"]`);
    if (!tr) {
      tr = make("tr", { "data-name": name });
      for (const column of columns) {
        const cell = make(column.key === "name" ? "th" : "td", {
          "data-field": column.key, "data-label": column.label, class: column.cls || "",
        });
        if (column.key === "name") { cell.setAttribute("scope", "row"); }
        if (column.key === "rate") { sparkCell(cell); }
        tr.appendChild(cell);
      }
      tbody.appendChild(tr);
    }
    return (key) => tr.querySelector(`[data-field="${key}"]`);
  }

  function rateText(log) {
    if (log.rate !== null && log.rate !== undefined) { state.rates[log.name] = log.rate; }
    const rate = state.rates[log.name];
    return rate === undefined ? "–" : decimals.format(rate) + "/s";
  }

  function lagCell(cell, lag, pendingText) {
    const known = lag !== null && lag !== undefined;
    put(cell, known ? fmt(lag) : pendingText);
    cell.classList.toggle("lag-ok", known && lag === 0);
    cell.classList.toggle("lag-behind", known && lag > 0);
    cell.classList.toggle("muted", !known);
  }

  /* A worker process that started sampling later knows fewer buckets: its gaps are filled
     from the sparkline of the previous poll (a second old, so the buckets still line up). */
  function merged(log) {
    const series = log.spark || [];
    const previous = state.sparks[log.name];
    const now = Date.now();
    const filled = previous && now - previous.at < 5000 && previous.series.length === series.length
      ? series.map((value, i) => (value === null ? previous.series[i] : value))
      : series;
    state.sparks[log.name] = { at: now, series: filled };
    return filled;
  }

  function rate(cell, log) {
    put(cell.querySelector(".value"), rateText(log));
    sparkline(cell.querySelector("svg"), merged(log));
  }

  const TOPIC_COLUMNS = [
    { key: "name", label: "topic", cls: "name" },
    { key: "partitions", label: "partitions", cls: "num" },
    { key: "end_offset", label: "end offset", cls: "num" },
    { key: "rate", label: "records/s" },
    { key: "lag", label: "sink lag", cls: "num" },
    { key: "objects", label: "lake objects", cls: "num" },
  ];
  const STREAM_COLUMNS = [
    { key: "name", label: "stream", cls: "name" },
    { key: "partitions", label: "shards", cls: "num" },
    { key: "end_offset", label: "end offset", cls: "num" },
    { key: "rate", label: "records/s" },
    { key: "lag", label: "streamer lag", cls: "num" },
    { key: "version", label: "Delta version", cls: "num" },
    { key: "rows", label: "Delta rows", cls: "num" },
    { key: "dead", label: "dead letters", cls: "num" },
  ];

  function renderTopics(topics) {
    for (const topic of topics) {
      const cell = row($("topics-table"), topic.name, TOPIC_COLUMNS);
      put(cell("name"), topic.name);
      put(cell("partitions"), topic.exists ? fmt(topic.partitions) : "not created");
      put(cell("end_offset"), fmt(topic.end_offset));
      rate(cell("rate"), topic);
      lagCell(cell("lag"), topic.consumer.lag, "not started");
      put(cell("objects"), topic.lake_objects === null ? "counting…" : fmt(topic.lake_objects));
    }
  }

  function renderStreams(streams) {
    for (const stream of streams) {
      const cell = row($("streams-table"), stream.name, STREAM_COLUMNS);
      put(cell("name"), stream.name);
      put(cell("partitions"), stream.exists ? fmt(stream.partitions) : "not created");
      put(cell("end_offset"), fmt(stream.end_offset));
      rate(cell("rate"), stream);
      const consumer = stream.consumer;
      if (consumer.caught_up !== undefined) {
        put(cell("lag"), consumer.caught_up ? "caught up" : "behind");
      } else {
        lagCell(cell("lag"), consumer.lag, "not started");
      }
      put(cell("version"), stream.table ? fmt(stream.table.version) : "–");
      put(cell("rows"), stream.table ? fmt(stream.table.rows) : "–");
      put(cell("dead"), fmt(stream.dead_letters));
    }
  }

  // -- lake, Delta, quality -----------------------------------------------------------------

  function fillBody(table, rows) {
    const tbody = table.tBodies[0];
    const fresh = document.createElement("tbody");
    for (const cells of rows) {
      const tr = document.createElement("tr");
      cells.forEach((value, i) => {
        const cell = make(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}, value.text);
        if (value.cls) { cell.className = value.cls; }
        tr.appendChild(cell);
      });
      fresh.appendChild(tr);
    }
    if (tbody.innerHTML !== fresh.innerHTML) { table.replaceChild(fresh, tbody); }
  }

  function renderTables(snapshot) {
    const tables = [];
    for (const c of snapshot.curated) { if (c.table) { tables.push(["curated " + c.kind, c.table]); } }
    for (const s of snapshot.streams) { if (s.table) { tables.push(["stream " + s.kind, s.table]); } }
    if (snapshot.dead_letters) { tables.push(["stream dead letters", snapshot.dead_letters]); }
    put($("lake-objects"), snapshot.lake.objects === null ? "counting…" : fmt(snapshot.lake.objects));
    put($("delta-count"), fmt(tables.length));
    put($("dead-letters"), snapshot.dead_letters ? fmt(snapshot.dead_letters.rows) : "0");
    fillBody($("delta-table"), tables.map(([role, t]) => [
      { text: role }, { text: t.key, cls: "mono" }, { text: fmt(t.version), cls: "num" },
      { text: fmt(t.rows), cls: "num" }, { text: fmt(t.files), cls: "num" }, { text: day(t.last_commit) },
    ]));
  }

  const QUALITY = [
    ["raw objects", "objects"], ["lines", "lines"], ["dead letters", "dead_letters"],
    ["rows read", "rows_read"], ["duplicates dropped", "duplicates_dropped"],
    ["rows cleaned", "rows_cleaned"], ["values set to NULL", "nulled"],
  ];

  function renderQuality(kinds) {
    const table = $("quality-table");
    const head = table.tHead.rows[0];
    const wanted = ["figure", ...kinds.map((k) => k.kind)].join("|");
    if (head.getAttribute("data-kinds") !== wanted) {
      head.replaceChildren(make("th", { scope: "col" }, "figure"),
        ...kinds.map((k) => make("th", { scope: "col", class: "num" }, k.kind)));
      head.setAttribute("data-kinds", wanted);
    }
    fillBody(table, kinds.length ? QUALITY.map(([label, key]) => [
      { text: label }, ...kinds.map((k) => ({ text: fmt(k[key]), cls: "num" })),
    ]) : [[{ text: "no batch run yet" }]]);
  }

  function renderNotes(notes) {
    $("notes").hidden = notes.length === 0;
    const list = $("notes-list");
    const current = Array.from(list.children, (li) => li.textContent).join("\n");
    if (current !== notes.join("\n")) { list.replaceChildren(...notes.map((n) => make("li", {}, n))); }
  }

  // -- recent records -----------------------------------------------------------------------

  function renderChooser(snapshot) {
    const logs = [["Topics", snapshot.topics], ["Streams", snapshot.streams]];
    const names = logs.map(([, list]) => list.map((l) => l.name).join(",")).join(";");
    const select = $("records-topic");
    if (names === state.names) { return; }
    const chosen = select.value;
    select.replaceChildren(...logs.map(([label, list]) => {
      const group = make("optgroup", { label });
      group.append(...list.map((l) => make("option", { value: l.name }, l.name)));
      return group;
    }));
    if (chosen) { select.value = chosen; }
    state.names = names;
  }

  async function loadRecords(snapshot, force) {
    const name = $("records-topic").value;
    const limit = $("records-limit").value;
    if (!name || state.recordsBusy) { return; }
    const log = [...snapshot.topics, ...snapshot.streams].find((l) => l.name === name);
    const key = [name, limit, log ? log.end_offset : null].join("|");
    if (!force && key === state.recordsKey) { return; }
    if (log && !log.exists) {
      setText($("records-status"), name + " does not exist yet.");
      $("records-list").replaceChildren();
      state.recordsKey = key;
      return;
    }
    state.recordsBusy = true;
    try {
      const found = await getJSON("/topics/" + encodeURIComponent(name) + "/records?limit=" + limit);
      $("records-list").replaceChildren(...found.records.map((r) => {
        const item = make("li");
        const meta = make("div", { class: "meta" });
        meta.append(make("span", {}, "partition " + r.partition), make("span", {}, "offset " + fmt(r.offset)),
          make("span", {}, clock(r.timestamp)), make("span", {}, r.key === null ? "no key" : "key " + r.key));
        const text = r.json ? JSON.stringify(r.value, null, 2) : r.value;
        item.append(meta, make("pre", { tabindex: "0", "aria-label": "record " + r.offset }, text));
        return item;
      }));
      const count = found.records.length;
      // The status is announced (aria-live): it changes only with the topic or the count.
      setText($("records-status"), count
        ? `The newest ${count} records of ${name}, newest first.`
        : name + " holds no record yet.");
      state.recordsKey = key;
    } catch (error) {
      setText($("records-status"), "Could not read the records of " + name + "; retrying.");
    } finally {
      state.recordsBusy = false;
    }
  }

  // -- the batch run ------------------------------------------------------------------------

  function resultTable(table) {
    const scroll = make("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": table.name });
    const element = make("table");
    element.appendChild(make("caption", { class: "mono" }, table.name));
    const head = make("tr");
    head.append(...table.columns.map((c) => make("th", { scope: "col", class: c.numeric ? "num" : "" }, c.name)));
    element.appendChild(make("thead")).appendChild(head);
    const tbody = element.appendChild(make("tbody"));
    for (const cells of table.rows) {
      const tr = tbody.appendChild(make("tr"));
      tr.append(...cells.map((c) => make("td", c.class ? { class: c.class } : {}, c.text)));
    }
    scroll.appendChild(element);
    return scroll;
  }

  function question(q) {
    const article = make("article", { class: "question", id: "question-" + q.anchor, "aria-labelledby": q.anchor + "-title" });
    const head = make("div", { class: "question-head" });
    const titles = make("div");
    titles.append(make("h3", { id: q.anchor + "-title" }, q.title), make("p", { class: "ask" }, q.question));
    head.append(make("span", { class: "badge" }, q.number), titles);
    const figure = make("figure");
    const box = make("div", { class: "chart-box" });
    box.style.height = q.chart.height + "px";
    const canvas = make("canvas", { id: q.chart.id, role: "img", "aria-label": q.chart.description });
    canvas.textContent = q.chart.description + " Every value is in the data table below.";
    box.appendChild(canvas);
    const details = make("details");
    details.appendChild(make("summary", {}, "Data table"));
    details.append(...q.tables.map(resultTable));
    figure.append(box, make("figcaption", {}, q.chart.description), details);
    article.append(head, make("p", { class: "takeaway" }, q.takeaway), figure);
    return { article, canvas, config: q.chart.config };
  }

  async function loadBatch(id) {
    if (state.batchBusy) { return; }
    state.batchBusy = true;
    try {
      const batch = id === null ? { id: null, questions: [], run: null } : await getJSON("/batch");
      state.charts.forEach((chart) => chart.destroy());
      state.charts = [];
      const parts = batch.questions.map(question);
      $("questions").replaceChildren(...parts.map((p) => p.article));
      for (const part of parts) {
        const chart = window.pinpipeCharts ? window.pinpipeCharts.draw(part.canvas, part.config) : null;
        if (chart) { state.charts.push(chart); }
      }
      const run = batch.run;
      $("batch-run").textContent = run
        ? `${run.engine || "?"} · finished ${day(run.finished_at)}` +
          (run.seconds === null ? "" : ` · took ${decimals.format(run.seconds)} s`) + ` · ${parts.length} questions`
        : "No batch run yet: run pinpipe batch.";
      state.batchId = batch.id;
    } catch (error) {
      $("batch-run").textContent = "Could not read the last batch run; retrying.";
    } finally {
      state.batchBusy = false;
    }
  }

  // -- the poll loop ------------------------------------------------------------------------

  function render(snapshot) {
    state.refresh = snapshot.refresh_ms || 1000;
    setText($("updated"), clock(snapshot.generated_at));
    setText($("backends"), snapshot.backends.topics + " · " + snapshot.backends.streams);
    setText($("lake-url"), snapshot.lake_url);
    setText($("cost"), decimals.format(snapshot.cost_ms) + " ms");
    renderNotes(snapshot.notes);
    renderTopics(snapshot.topics);
    renderStreams(snapshot.streams);
    renderTables(snapshot);
    renderQuality(snapshot.quality);
    renderChooser(snapshot);
    state.snapshot = snapshot;
    loadRecords(snapshot, false);
    const id = snapshot.batch ? snapshot.batch.id : null;
    if (id !== state.batchId) { loadBatch(id); }
    state.updates += 1;
    body.setAttribute("data-updates", String(state.updates));
  }

  function schedule() {
    clearTimeout(state.timer);
    if (state.paused) { return; }
    const wait = state.failures ? Math.min(5000, 1000 * state.failures) : (document.hidden ? 5000 : state.refresh);
    state.timer = setTimeout(tick, wait);
  }

  async function tick() {
    try {
      const snapshot = await getJSON("/snapshot");
      state.failures = 0;
      if (state.paused) { return; }
      render(snapshot);
      setStatus("live", "Live");
    } catch (error) {
      if (error.forbidden) {
        $("key-form").hidden = false;
        setStatus("error", "This API needs a key");
        return; // until a key is given
      }
      state.failures += 1;
      setStatus("error", "Connection lost, retrying");
    }
    schedule();
  }

  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").setAttribute("aria-pressed", String(state.paused));
    $("pause").textContent = state.paused ? "Resume updates" : "Pause updates";
    if (state.paused) {
      clearTimeout(state.timer);
      setStatus("paused", "Paused");
    } else {
      tick();
    }
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    try { sessionStorage.setItem(KEY, $("key-input").value); } catch (e) { /* private mode */ }
    $("key-form").hidden = true;
    $("key-input").value = "";
    setStatus("connecting", "Connecting…");
    tick();
  });
  for (const id of ["records-topic", "records-limit"]) {
    $(id).addEventListener("change", () => { if (state.snapshot) { loadRecords(state.snapshot, true); } });
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !state.paused) { tick(); } });
  tick();
})();
