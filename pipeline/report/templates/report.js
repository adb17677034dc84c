// Sort, filter and expand the evidence tables. Source sentences come from the JSON blob and
// become text nodes (textContent), never markup: document text cannot inject anything.
(function () {
  "use strict";
  var sources = JSON.parse(document.getElementById("evx-sources").textContent);
  var tables = Array.prototype.slice.call(document.querySelectorAll("table.evidence"));
  var filter = document.getElementById("filter"), verdict = document.getElementById("verdict");

  function detailOf(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("detail") ? next : null;
  }

  function expand(row) {
    var open = detailOf(row);
    if (open) { open.remove(); row.classList.remove("open"); return; }
    var s = sources[row.dataset.id];
    var tr = document.createElement("tr"), td = document.createElement("td"), p = document.createElement("p");
    tr.className = "detail";
    td.colSpan = row.children.length;
    p.className = "sentence";
    p.appendChild(document.createTextNode(s[0]));
    if (s[3]) {
      var mark = document.createElement("mark");
      mark.textContent = s[1];
      p.appendChild(mark);
    }
    p.appendChild(document.createTextNode(s[2]));
    td.appendChild(p);
    var v = document.createElement("p");
    v.className = "note";
    v.textContent = s[4] ? "Verdict: " + s[4] + (s[5] ? ", corrected value " + s[5] : "") + (s[6] ? " (" + s[6] + ")" : "")
                         : (s[3] ? "Not reviewed yet." : "Not reviewed yet. The stored offsets do not fall on the figure in this sentence: nothing is marked.");
    td.appendChild(v);
    tr.appendChild(td);
    row.after(tr);
    row.classList.add("open");
  }

  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean), wanted = verdict.value, shown = 0, all = 0;
    tables.forEach(function (table) {
      var rows = table.tBodies[0].rows, n = 0;
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i];
        if (!row.classList.contains("row")) continue;
        if (row._text === undefined) row._text = row.textContent.toLowerCase();
        var ok = (!wanted || row.dataset.verdict === wanted) && words.every(function (w) { return row._text.indexOf(w) >= 0; });
        row.hidden = !ok;
        var d = detailOf(row);
        if (d) d.hidden = !ok;
        if (ok) n++;
      }
      var count = table.previousElementSibling.querySelector(".count");
      count.textContent = n + " of " + count.dataset.total + " figures";
      table.hidden = n === 0;
      shown += n; all += +count.dataset.total;
    });
    document.getElementById("shown").textContent = (words.length || wanted) ? shown + " of " + all + " figures shown" : "";
  }

  function sortBy(th) {
    var table = th.closest("table"), index = th.cellIndex, numeric = th.querySelector("button").dataset.type === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.filter.call(body.rows, function (r) { return r.classList.contains("row"); });
    function key(row) {
      var cell = row.cells[index], v = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent;
      if (numeric) { var x = parseFloat(v); return isNaN(x) ? Infinity : x; }
      return v.toLowerCase();
    }
    var keyed = rows.map(function (r, i) { return [key(r), i, r]; });
    keyed.sort(function (a, b) {
      var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
      return (ascending ? c : -c) || a[1] - b[1];
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { var d = detailOf(k[2]); fragment.appendChild(k[2]); if (d) fragment.appendChild(d); });
    body.appendChild(fragment);
  }

  document.addEventListener("click", function (event) {
    var th = event.target.closest("table.evidence th");
    if (th && th.querySelector("button")) { sortBy(th); return; }
    if (event.target.closest("a")) return;
    var row = event.target.closest("tr.row");
    if (row) expand(row);
  });
  filter.addEventListener("input", applyFilter);
  verdict.addEventListener("change", applyFilter);
})();
