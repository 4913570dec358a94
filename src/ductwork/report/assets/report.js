// ductwork run report: makes the drawings interactive, then says what rendered.
// All text from the run is read from the JSON data block and inserted with textContent only.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("run-data").textContent);
  var byName = {};
  data.nodes.forEach(function (node) { byName[node.name] = node; });
  var details = document.getElementById("details");

  function seconds(value) {
    return value < 1 ? Math.round(value * 1000) + " ms" : value.toFixed(2) + " s";
  }

  function line(label, text) {
    var row = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = label + ": ";
    row.appendChild(strong);
    row.appendChild(document.createTextNode(text));
    details.appendChild(row);
  }

  function describe(node) {
    details.textContent = "";
    var title = document.createElement("h2");
    title.textContent = node.name;
    details.appendChild(title);
    line("status", node.status);
    if (node.reason) { line("why", node.reason); }
    if (node.started != null && node.finished != null) {
      line("ran", seconds(node.finished - node.started) + " on " + node.worker);
    }
    line("inputs", node.inputs.join(", ") || "none");
    line("outputs", node.outputs.join(", ") || "none");
    if (node.tags.length) { line("tags", node.tags.join(", ")); }
    if (node.error) {
      line("error", node.error.type + ": " + node.error.message);
      var pre = document.createElement("pre");
      pre.textContent = node.error.traceback || "";
      details.appendChild(pre);
    }
    details.hidden = false;
  }

  function select(name) {
    document.querySelectorAll(".selected").forEach(function (el) { el.classList.remove("selected"); });
    document.querySelectorAll(".edge.hot").forEach(function (el) { el.classList.remove("hot"); });
    document.querySelectorAll("[data-node]").forEach(function (el) {
      if (el.getAttribute("data-node") === name) { el.classList.add("selected"); }
    });
    document.querySelectorAll(".edge").forEach(function (el) {
      if (el.getAttribute("data-source") === name || el.getAttribute("data-target") === name) {
        el.classList.add("hot");
      }
    });
    if (byName[name]) { describe(byName[name]); }
  }

  document.querySelectorAll("[data-node]").forEach(function (el) {
    var name = el.getAttribute("data-node");
    el.addEventListener("click", function () { select(name); });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { select(name); }
    });
  });

  var boxes = document.querySelectorAll("#graph g.node").length;
  var bars = document.querySelectorAll("#timeline g.bar").length;
  var ran = data.nodes.filter(function (n) { return n.started != null && n.finished != null; });
  if (boxes !== data.nodes.length) {
    throw new Error("the graph shows " + boxes + " of " + data.nodes.length + " nodes");
  }
  if (bars !== ran.length) {
    throw new Error("the timeline shows " + bars + " of " + ran.length + " nodes that ran");
  }
  var root = document.documentElement;
  root.setAttribute("data-graph-nodes", String(boxes));
  root.setAttribute("data-timeline-bars", String(bars));
  root.setAttribute("data-rendered", "graph timeline");
})();
