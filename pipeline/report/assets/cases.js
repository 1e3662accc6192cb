/* List viewer of the TTHC reports: cases, directive tasks and PAKN.
 *
 * Reads the URL fragment (#scheme=…&period=…&unit=…&sector=…&procedure=…&channel=…&filter=…), loads the
 * period's data file cases/<scheme>/<period>.js with a <script> element (allowed from file://; no fetch),
 * and lists the cases of the slice and filter, a page at a time. With kind=directive or kind=feedback in
 * the fragment (#kind=directive&scheme=…&period=…&unit=…&filter=…) it lists that kind's records from
 * cases/<scheme>/<period>.<kind>.js instead. Every text it shows comes from the page's configuration or
 * from the data file; values are inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("viewer-config").textContent);
  var texts = config.texts;
  var store = (window.TTHC_CASES = window.TTHC_CASES || {});
  var recordStore = (window.TTHC_RECORDS = window.TTHC_RECORDS || {});
  var SCHEMES = { calendar: true, official: true };
  var KINDS = config.kinds || {};
  var PERIOD = /^\d{4}(-(\d{2}|Q[1-4]|H[12]))?$/;
  var SLICES = ["unit", "sector", "procedure", "channel"];
  var DICTIONARY = { unit: "units", sector: "sectors", procedure: "procedures", channel: "channels" };
  var state = { data: null, decoded: null, rows: [], page: 0, pageSize: config.page_size, request: 0, kind: "case" };
  var caseHead = null;

  function $(id) { return document.getElementById(id); }

  function grouped(n) {
    var digits = String(n), out = "";
    while (digits.length > 3) {
      out = config.group_symbol + digits.slice(-3) + out;
      digits = digits.slice(0, -3);
    }
    return digits + out;
  }

  function readFragment() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var out = { kind: params.get("kind") || "case", scheme: params.get("scheme"), period: params.get("period"),
                filter: params.get("filter") };
    SLICES.forEach(function (name) { out[name] = params.get(name); });
    return out;
  }

  function fragment(query, filterId) {
    var parts = query.kind === "case" ? [] : [["kind", query.kind]];
    parts.push(["scheme", query.scheme], ["period", query.period]);
    SLICES.forEach(function (name) { if (query[name] !== null) parts.push([name, query[name]]); });
    if (filterId) parts.push(["filter", filterId]);
    return "#" + parts.map(function (p) { return p[0] + "=" + encodeURIComponent(p[1]); }).join("&");
  }

  function dataKey(query) {
    return (query.kind === "case" ? "" : query.kind + "/") + query.scheme + "/" + query.period;
  }

  function load(query, done) {
    var key = dataKey(query), holder = query.kind === "case" ? store : recordStore;
    if (holder[key]) { done(holder[key]); return; }
    var request = ++state.request;
    var script = document.createElement("script");
    script.src = encodeURIComponent(query.scheme) + "/" + encodeURIComponent(query.period) +
      (query.kind === "case" ? "" : "." + query.kind) + ".js";
    script.onload = function () { if (request === state.request) done(holder[key] || null); };
    script.onerror = function () { if (request === state.request) done(null); };
    document.head.appendChild(script);
  }

  var TYPES = { u8: Uint8Array, u16: Uint16Array, i32: Int32Array, f64: Float64Array };
  var NO_TIME = -2147483648;

  /* A packed column (little-endian bytes in base64) as a typed array. */
  function unpack(column) {
    var text = window.atob(column.base64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new TYPES[column.type](bytes.buffer);
  }

  /* Columns decoded once per data file: packed columns as typed arrays, receipt times back from their
     deltas, sparse texts by row. */
  function decode(data) {
    var n = data.rows, cols = {}, name, i;
    for (name in data.columns) {
      cols[name] = Array.isArray(data.columns[name]) ? data.columns[name] : unpack(data.columns[name]);
    }
    var received = new Float64Array(n), total = 0;
    for (i = 0; i < n; i++) { total += cols.received[i]; received[i] = total; }
    var late = {}, notes = {};
    data.late.forEach(function (pair) { late[pair[0]] = data.late_texts[pair[1]]; });
    data.notes.forEach(function (pair) { notes[pair[0]] = data.note_texts[pair[1]]; });
    var bit = {};
    data.filters.forEach(function (id, position) { bit[id] = position; });
    return { cols: cols, received: received, late: late, notes: notes, bit: bit };
  }

  function moment(data, code) {
    if (code === null) return "–";
    var day = Math.floor(code / 1440), minute = code - day * 1440;
    var hh = Math.floor(minute / 60), mm = minute % 60;
    return data.days[day] + " " + (hh < 10 ? "0" : "") + hh + ":" + (mm < 10 ? "0" : "") + mm;
  }

  function caseCode(data, cols, row) {
    if (cols.id_text) return cols.id_text[row];
    var prefix = data.id_prefixes[cols.id_prefix ? cols.id_prefix[row] : 0];
    var number = String(cols.id_number[row]);
    while (number.length < prefix[1]) number = "0" + number;
    return prefix[0] + number;
  }

  function sliceCodes(data, query) {
    var wanted = {};
    SLICES.forEach(function (name) {
      if (query[name] === null) return;
      var entries = data[DICTIONARY[name]], code = -2;
      for (var i = 0; i < entries.length; i++) { if (entries[i][0] === query[name]) { code = i; break; } }
      wanted[name] = code;
    });
    return wanted;
  }

  function sliceText(data, query) {
    var parts = [];
    SLICES.forEach(function (name) {
      if (query[name] === null) return;
      var shown = query[name];
      data[DICTIONARY[name]].forEach(function (entry) { if (entry[0] === query[name]) shown = entry[1]; });
      parts.push(config.slice_words[name] + ": " + shown);
    });
    return parts.length ? parts.join(" · ") : config.whole;
  }

  function select(data, decoded, query) {
    var wanted = sliceCodes(data, query), names = Object.keys(wanted), cols = decoded.cols;
    var kinds = data.kinds, n = data.rows, inSlice = [], counts = {}, i, j;
    data.filters.forEach(function (id) { counts[id] = 0; });
    for (i = 0; i < n; i++) {
      var keep = true;
      for (j = 0; j < names.length; j++) { if (cols[names[j]][i] !== wanted[names[j]]) { keep = false; break; } }
      if (!keep) continue;
      inSlice.push(i);
      var mask = kinds[cols.kind[i]][0];
      for (j = 0; j < data.filters.length; j++) { if (mask & (1 << j)) counts[data.filters[j]] += 1; }
    }
    var rows = inSlice;
    if (query.filter && decoded.bit[query.filter] !== undefined) {
      var b = 1 << decoded.bit[query.filter];
      rows = inSlice.filter(function (row) { return kinds[cols.kind[row]][0] & b; });
    }
    return { rows: rows, total: inSlice.length, counts: counts };
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
  }

  function drawRows() {
    var data = state.data, decoded = state.decoded, cols = decoded.cols, body = $("cases").tBodies[0];
    var size = state.pageSize || state.rows.length || 1;
    var pages = Math.max(1, Math.ceil(state.rows.length / size));
    state.page = Math.min(state.page, pages - 1);
    var first = state.page * size, last = Math.min(state.rows.length, first + size);
    var fragmentNode = document.createDocumentFragment();
    for (var k = first; k < last; k++) {
      var row = state.rows[k], kind = data.kinds[cols.kind[row]], received = decoded.received[row];
      var tr = document.createElement("tr");
      cell(tr, grouped(k + 1), "stt");
      cell(tr, caseCode(data, cols, row), "code");
      cell(tr, data.units[cols.unit[row]][1]);
      cell(tr, data.sectors[cols.sector[row]][1]);
      cell(tr, data.procedures[cols.procedure[row]][1]);
      cell(tr, data.channels[cols.channel[row]][1]);
      cell(tr, moment(data, received));
      cell(tr, moment(data, cols.due[row] === NO_TIME ? null : received + cols.due[row]));
      cell(tr, moment(data, cols.end[row] === NO_TIME ? null : received + cols.end[row]));
      cell(tr, kind[2], "k-" + kind[1]);
      cell(tr, decoded.late[row] || "");
      cell(tr, kind[3]);
      cell(tr, decoded.notes[row] || "");
      fragmentNode.appendChild(tr);
    }
    body.replaceChildren(fragmentNode);
    $("pager").hidden = state.rows.length === 0;
    $("shown").textContent = state.rows.length
      ? texts.shown.replace("{from}", grouped(first + 1)).replace("{to}", grouped(last))
        .replace("{total}", grouped(state.rows.length))
      : texts.none;
    $("previous").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  function drawFilters(query, result) {
    var nav = $("filters");
    nav.replaceChildren();
    function add(label, id, count) {
      var a = document.createElement("a");
      a.href = fragment(query, id);
      a.textContent = label + " (" + grouped(count) + ")";
      if ((query.filter || null) === id) a.className = "current";
      nav.appendChild(a);
    }
    add(texts.all, null, result.total);
    config.filters.forEach(function (f) { if (result.counts[f.id]) add(f.label, f.id, result.counts[f.id]); });
  }

  /* --- directive tasks and PAKN ------------------------------------------------------------ */

  function setHead(kind) {
    var row = $("head-row");
    if (!caseHead) caseHead = Array.prototype.slice.call(row.childNodes).map(function (n) { return n.cloneNode(true); });
    if (kind === "case") { row.replaceChildren.apply(row, caseHead.map(function (n) { return n.cloneNode(true); })); return; }
    var cells = [];
    ["STT"].concat(KINDS[kind].columns).forEach(function (text, i) {
      var th = document.createElement("th");
      th.textContent = text;
      if (i === 0) th.className = "stt";
      cells.push(th);
    });
    row.replaceChildren.apply(row, cells);
  }

  function selectRecords(data, query) {
    var unit = -1, counts = {}, inSlice = [], i, j;
    if (query.unit !== null) {
      unit = -2;
      for (i = 0; i < data.units.length; i++) { if (data.units[i][0] === query.unit) { unit = i; break; } }
    }
    data.filters.forEach(function (id) { counts[id] = 0; });
    var bit = {};
    data.filters.forEach(function (id, position) { bit[id] = position; });
    for (i = 0; i < data.records.length; i++) {
      var record = data.records[i];
      if (unit !== -1 && record[1] !== unit) continue;
      inSlice.push(i);
      for (j = 0; j < data.filters.length; j++) { if (record[0] & (1 << j)) counts[data.filters[j]] += 1; }
    }
    var rows = inSlice;
    if (query.filter && bit[query.filter] !== undefined) {
      var b = 1 << bit[query.filter];
      rows = inSlice.filter(function (row) { return data.records[row][0] & b; });
    }
    return { rows: rows, total: inSlice.length, counts: counts, bit: bit };
  }

  function drawRecordRows() {
    var data = state.data, spec = KINDS[state.kind], body = $("cases").tBodies[0];
    var size = state.pageSize || state.rows.length || 1;
    var pages = Math.max(1, Math.ceil(state.rows.length / size));
    state.page = Math.min(state.page, pages - 1);
    var first = state.page * size, last = Math.min(state.rows.length, first + size);
    var fragmentNode = document.createDocumentFragment();
    for (var k = first; k < last; k++) {
      var record = data.records[state.rows[k]];
      var tr = document.createElement("tr");
      cell(tr, grouped(k + 1), "stt");
      for (var c = 3; c < record.length; c++) {
        cell(tr, record[c], c === 3 ? "code" : (spec.alert_texts.indexOf(record[c]) >= 0 ? "k-late" : ""));
      }
      fragmentNode.appendChild(tr);
    }
    body.replaceChildren(fragmentNode);
    $("pager").hidden = state.rows.length === 0;
    $("shown").textContent = state.rows.length
      ? spec.shown.replace("{from}", grouped(first + 1)).replace("{to}", grouped(last))
        .replace("{total}", grouped(state.rows.length))
      : spec.none;
    $("previous").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  function showRecords(query) {
    var data = state.data, spec = KINDS[query.kind];
    var result = selectRecords(data, query);
    state.rows = result.rows;
    state.page = 0;
    var label = spec.all_label;
    if (query.filter) {
      var known = spec.filters.filter(function (f) { return f.id === query.filter; })[0];
      label = known && result.bit[query.filter] !== undefined ? known.label : texts.unknown_filter;
    }
    $("cap-label").textContent = label;
    $("cap-count").textContent = grouped(result.rows.length);
    $("cap-noun").textContent = spec.noun;
    $("cap-tail").hidden = false;
    $("caption").className = "cap cap-" + (query.filter || "all");
    var where = config.whole;
    if (query.unit !== null) {
      var shown = query.unit;
      data.units.forEach(function (entry) { if (entry[0] === query.unit) shown = entry[1]; });
      where = spec.unit_word + ": " + shown;
    }
    $("where").textContent = where;
    $("period-line").textContent = spec.list_title + " – " + data.period_name + " (" + data.dates_text + ")";
    document.title = spec.list_title + " – " + where + " – " + data.period_name;
    $("back").href = "../" + data.scorecard;
    $("back").textContent = texts.back + " " + data.period_name;
    $("status").textContent = data.status_text || "";
    $("hint-kind").textContent = spec.hint;
    $("page-size-label").textContent = spec.page_size;
    var nav = $("filters");
    nav.replaceChildren();
    function add(text, id, count) {
      var a = document.createElement("a");
      a.href = fragment(query, id);
      a.textContent = text + " (" + grouped(count) + ")";
      if ((query.filter || null) === id) a.className = "current";
      nav.appendChild(a);
    }
    add(texts.all, null, result.total);
    spec.filters.forEach(function (f) { if (result.counts[f.id]) add(f.label, f.id, result.counts[f.id]); });
    drawRecordRows();
  }

  function draw() {
    if (state.kind === "case") drawRows(); else drawRecordRows();
  }

  function show(query) {
    setHead(query.kind);
    if (query.kind !== "case") { showRecords(query); return; }
    $("cap-noun").textContent = texts.cases;
    $("hint-kind").textContent = texts.hint;
    $("page-size-label").textContent = texts.page_size;
    var data = state.data;
    if (!state.decoded) state.decoded = decode(data);
    var result = select(data, state.decoded, query);
    state.rows = result.rows;
    state.page = 0;
    var label = config.all_label;
    if (query.filter) {
      var known = config.filters.filter(function (f) { return f.id === query.filter; })[0];
      label = known && state.decoded.bit[query.filter] !== undefined ? known.label : texts.unknown_filter;
    }
    $("cap-label").textContent = label;
    $("cap-count").textContent = grouped(result.rows.length);
    $("cap-tail").hidden = false;
    $("caption").className = "cap cap-" + (query.filter || "all");
    $("where").textContent = sliceText(data, query);
    $("period-line").textContent = texts.list_title + " – " + data.period_name + " (" + data.dates_text + ")";
    document.title = $("where").textContent + " – " + data.period_name;
    $("back").href = "../" + data.scorecard;
    $("back").textContent = texts.back + " " + data.period_name;
    $("status").textContent = data.status_text || "";
    drawFilters(query, result);
    drawRows();
  }

  function fail(message) {
    state.data = null;
    state.key = null;
    state.rows = [];
    $("cap-label").textContent = message;
    $("cap-tail").hidden = true;
    $("filters").replaceChildren();
    $("cases").tBodies[0].replaceChildren();
    $("pager").hidden = true;
  }

  function route() {
    var query = readFragment();
    var known = query.kind === "case" || KINDS.hasOwnProperty(query.kind);
    if (!known || !SCHEMES[query.scheme] || !PERIOD.test(query.period || "")) { fail(texts.bad_link); return; }
    var key = dataKey(query);
    if (state.data && state.key === key) { state.kind = query.kind; show(query); return; }
    $("cap-label").textContent = query.kind === "case" ? texts.loading : KINDS[query.kind].loading;
    $("cap-tail").hidden = true;
    load(query, function (data) {
      if (!data) { fail(query.kind === "case" ? texts.missing : KINDS[query.kind].missing); return; }
      state.data = data;
      state.key = key;
      state.kind = query.kind;
      state.decoded = null;
      show(query);
    });
  }

  function setUp() {
    $("previous").textContent = texts.previous;
    $("next").textContent = texts.next;
    $("page-size-label").textContent = texts.page_size;
    var sizes = config.page_sizes.concat([0]);
    sizes.forEach(function (size) {
      var option = document.createElement("option");
      option.value = String(size);
      option.textContent = size ? grouped(size) : texts.show_all;
      if (size === state.pageSize) option.selected = true;
      $("page-size").appendChild(option);
    });
    $("page-size").addEventListener("change", function () {
      state.pageSize = Number(this.value);
      state.page = 0;
      if (state.data) draw();
    });
    $("previous").addEventListener("click", function () { state.page -= 1; draw(); });
    $("next").addEventListener("click", function () { state.page += 1; draw(); });
    window.addEventListener("hashchange", route);
    route();
  }

  setUp();
})();
