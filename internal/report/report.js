(function () {
  "use strict";
  var table = document.getElementById("ftable");
  var form = document.getElementById("filters");
  if (!table || !form) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
  var count = document.getElementById("f-count");
  form.hidden = false;
  function apply() {
    var shown = 0;
    rows.forEach(function (r) {
      var ok = selects.every(function (s) { return !s.value || r.dataset[s.name] === s.value; });
      r.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " findings";
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.getElementById("f-reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    apply();
  });
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th) {
    var b = th.querySelector("button");
    if (!b) { return; }
    b.addEventListener("click", function () {
      var key = b.dataset.sort, asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      rows.sort(function (x, y) {
        var a = x.dataset[key], c = y.dataset[key];
        if (key === "rank") { a = +a; c = +c; }
        var d = a < c ? -1 : a > c ? 1 : 0;
        return (asc ? d : -d) || (+x.dataset.n - +y.dataset.n);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  apply();
})();
