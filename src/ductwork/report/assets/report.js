// ductwork run report: pan and zoom, the switches, details, the filtered and sorted table, and
// (when served live) the updates. All text from the run is read from the JSON data block and
// inserted with textContent only; the one exception is the traceback, which the report's
// Python side built from escaped text.
(function () {
  "use strict";
  const PAGE = 500; // table rows added at a time
  const root = document.documentElement;

  function readData() {
    return JSON.parse(document.getElementById("run-data").textContent);
  }

  function seconds(value) {
    return value < 1 ? Math.round(value * 1000) + " ms" : value.toFixed(2) + " s";
  }

  function bytes(value) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
    return (i ? value.toFixed(1) : String(value)) + " " + units[i];
  }

  function shortWorker(worker) {
    return String(worker || "").replace(/^(tcp|tls|inproc):\/\//, "");
  }

  // Where a node ran; a worker named by its address (Dask) also says its process.
  function workerOf(node) {
    const worker = shortWorker(node.worker);
    return node.pid != null && /:\/\//.test(String(node.worker || ""))
      ? worker + " \u00b7 pid " + node.pid : worker;
  }

  function topNamespace(node) {
    return node.namespace ? String(node.namespace).split(".")[0] : "";
  }

  function init(state) {
    const data = readData();
    const byName = new Map(data.nodes.map((node) => [node.name, node]));
    const details = document.getElementById("details");
    const view = document.getElementById("graph-view");
    const svgs = Array.from(document.querySelectorAll("svg.graph"));
    const boxes = new Map(); // svg -> viewBox [x, y, w, h]

    // ---- details -------------------------------------------------------------------------
    function line(label, text) {
      const row = document.createElement("p");
      const strong = document.createElement("strong");
      strong.textContent = label + ": ";
      row.appendChild(strong);
      row.appendChild(document.createTextNode(text));
      details.appendChild(row);
    }

    function heading(text, kind) {
      details.textContent = "";
      const title = document.createElement("h2");
      title.textContent = text;
      const small = document.createElement("small");
      small.textContent = " " + kind;
      title.appendChild(small);
      details.appendChild(title);
    }

    function describeNode(node) {
      heading(node.name, "node");
      line("status", node.status);
      if (node.reason) { line("why", node.reason); }
      if (node.started != null && node.finished != null) {
        line("took", seconds(node.finished - node.started) + " on " + workerOf(node));
      } else if (node.started != null) {
        line("started", "on " + workerOf(node) + ", never finished");
      }
      if (node.attempts != null && node.attempts > 1) {
        const retries = node.attempts - 1;
        line("attempts", node.attempts + " (" + retries + (retries === 1 ? " retry)" : " retries)"));
      }
      if (node.peak_rss != null) {
        line("peak memory (RSS) of its process", bytes(node.peak_rss));
      }
      if (node.cpu_time != null) { line("CPU time", seconds(node.cpu_time)); }
      if (node.load_time != null) { line("loading its inputs", seconds(node.load_time)); }
      if (node.save_time != null) { line("saving its outputs", seconds(node.save_time)); }
      line("inputs", (node.inputs || []).join(", ") || "none");
      line("outputs", (node.outputs || []).join(", ") || "none");
      if (node.tags && node.tags.length) { line("tags", node.tags.join(", ")); }
      if (node.namespace) {
        line("namespace", node.namespace);
        namespaceAction(topNamespace(node));
      }
      if (node.error) {
        line("error", node.error.type + ": " + node.error.message);
        const holder = document.createElement("div");
        holder.innerHTML = node.error.traceback; // built from escaped text by the report
        details.appendChild(holder);
      }
      details.hidden = false;
    }

    function describeDataset(name) {
      const facts = data.datasets[name] || {};
      heading(name, "dataset");
      const kind = name.startsWith("params:") || name === "parameters" ? "parameters"
        : facts.persisted ? "persisted" : "in memory";
      line("kind", kind);
      if (facts.type) { line("type", facts.type); }
      if (facts.size != null) { line("size on disk", bytes(facts.size)); }
      if (facts.memory != null) { line("size in memory", bytes(facts.memory)); }
      if (facts.rows != null) { line("rows", String(facts.rows)); }
      if (facts.columns != null) { line("columns", String(facts.columns)); }
      if (facts.save_time != null) { line("save time", seconds(facts.save_time)); }
      if (facts.load_time != null) {
        const loads = facts.loads || 1;
        line("load time", seconds(facts.load_time)
          + (loads > 1 ? " in all, " + loads + " loads" : ""));
      }
      const base = (n) => String(n).split("@")[0];
      const made = data.nodes.filter((n) => (n.outputs || []).some((o) => base(o) === name));
      const read = data.nodes.filter((n) => (n.inputs || []).some((i) => base(i) === name));
      line("made by", made.map((n) => n.name).join(", ") || "nothing in this run (an input)");
      line("read by", read.map((n) => n.name).join(", ") || "nothing in this run");
      details.hidden = false;
    }

    function action(id, text, handler) {
      const row = document.createElement("p");
      const button = document.createElement("button");
      button.type = "button";
      button.id = id;
      button.textContent = text;
      button.addEventListener("click", handler);
      row.appendChild(button);
      details.appendChild(row);
    }

    // Expand or collapse namespace ``name`` from the details, when the report drew that mix.
    function namespaceAction(name) {
      if (!groupNames.includes(name) || expanded === null) { return; }
      const verb = isExpanded(name) ? "collapse" : "expand";
      if (canToggle(name)) {
        action(verb + "-namespace", verb + " namespace " + name, () => toggleNamespace(name));
      } else {
        line(verb, "not drawn in this report (too many boxes); filter the table by namespace");
      }
    }

    function describeNamespace(name, filter) {
      const members = data.nodes.filter((n) => topNamespace(n) === name);
      heading(name, "namespace");
      const counts = {};
      members.forEach((n) => { counts[n.status] = (counts[n.status] || 0) + 1; });
      line("nodes", members.length + " (" + Object.keys(counts).sort()
        .map((s) => counts[s] + " " + s).join(", ") + ")");
      const failed = members.filter((n) => n.status === "failed").map((n) => n.name);
      if (failed.length) { line("failed", failed.join(", ")); }
      namespaceAction(name);
      details.hidden = false;
      const select = document.getElementById("filter-namespace");
      if (select && filter !== false) { select.value = name; applyFilters(); }
    }

    function select(name, kind) {
      document.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
      document.querySelectorAll(".edge.hot").forEach((el) => el.classList.remove("hot"));
      const attribute = kind === "dataset" ? "data-dataset" : "data-node";
      document.querySelectorAll("[" + attribute + "]").forEach((el) => {
        if (el.getAttribute(attribute) === name) { el.classList.add("selected"); }
      });
      document.querySelectorAll(".edge").forEach((el) => {
        if (el.getAttribute("data-source") === name || el.getAttribute("data-target") === name) {
          el.classList.add("hot");
        }
      });
      state.selected = [name, kind];
      if (kind === "dataset") { describeDataset(name); }
      else if (byName.has(name)) { describeNode(byName.get(name)); }
      else { describeNamespace(name); }
    }

    // ---- pan and zoom --------------------------------------------------------------------
    function setBox(svg, box) {
      boxes.set(svg, box);
      svg.setAttribute("viewBox", box.map((v) => v.toFixed(1)).join(" "));
    }

    function boxOf(el) {
      const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(el.getAttribute("transform") || "");
      const rect = el.querySelector("rect");
      return [Number(m[1]), Number(m[2]), Number(rect.getAttribute("width")),
        Number(rect.getAttribute("height"))];
    }

    function union(list) {
      const x0 = Math.min(...list.map((b) => b[0]));
      const y0 = Math.min(...list.map((b) => b[1]));
      const x1 = Math.max(...list.map((b) => b[0] + b[2]));
      const y1 = Math.max(...list.map((b) => b[1] + b[3]));
      return [x0, y0, x1 - x0, y1 - y0];
    }

    function scaleFor(target) {
      const w = view.clientWidth || 800;
      const h = view.clientHeight || 500;
      return Math.min(w / (target[2] + 40), h / (target[3] + 40), 1.4);
    }

    function show(svg, target, scale) {
      const w = (view.clientWidth || 800) / scale;
      const h = (view.clientHeight || 500) / scale;
      setBox(svg, [target[0] + target[2] / 2 - w / 2, target[1] + target[3] / 2 - h / 2, w, h]);
    }

    // The names upstream of ``name`` in the drawing, at most ``depth`` edges away.
    function ancestors(svg, name, depth) {
      const parents = new Map();
      svg.querySelectorAll(".edge").forEach((edge) => {
        const target = edge.getAttribute("data-target");
        if (!parents.has(target)) { parents.set(target, []); }
        parents.get(target).push(edge.getAttribute("data-source"));
      });
      const seen = new Map([[name, 0]]);
      const queue = [name];
      while (queue.length) {
        const next = queue.shift();
        const level = seen.get(next);
        if (level >= depth) { continue; }
        (parents.get(next) || []).forEach((p) => {
          if (!seen.has(p)) { seen.set(p, level + 1); queue.push(p); }
        });
      }
      return new Set(seen.keys());
    }

    function elementsNamed(svg, names) {
      return Array.from(svg.querySelectorAll("g.node, g.dataset")).filter((el) =>
        names.has(el.getAttribute("data-node") || el.getAttribute("data-dataset")));
    }

    // The box that stands for the failed node here: its own, or its namespace's.
    function failedBox(svg) {
      if (!data.failed) { return null; }
      const failed = byName.get(data.failed);
      const names = [data.failed, failed ? topNamespace(failed) : ""];
      return Array.from(svg.querySelectorAll("g.node"))
        .find((el) => names.includes(el.getAttribute("data-node"))) || null;
    }

    // The failed node and as much of the path to it as can be read; else the whole graph, or
    // its first layers at a readable size.
    function fit(svg) {
      const whole = [0, 0, Number(svg.getAttribute("data-width")),
        Number(svg.getAttribute("data-height"))];
      const readable = 0.5;
      const failed = failedBox(svg);
      if (failed) {
        const wholeScale = scaleFor(whole);
        if (wholeScale >= readable) { show(svg, whole, wholeScale); return; }
        const name = failed.getAttribute("data-node");
        for (const depth of [Infinity, 8, 6, 4, 2]) {
          const target = union(elementsNamed(svg, ancestors(svg, name, depth)).map(boxOf));
          const scale = Math.min(scaleFor(target), 1);
          if (scale >= readable) { show(svg, target, scale); return; }
        }
        show(svg, boxOf(failed), 1);
        return;
      }
      const scale = scaleFor(whole);
      if (scale >= readable) { show(svg, whole, scale); return; }
      const w = (view.clientWidth || 800) / 0.55;
      const h = (view.clientHeight || 500) / 0.55;
      setBox(svg, [whole[2] > w ? 0 : whole[2] / 2 - w / 2, 0, w, h]);
    }

    function zoom(svg, factor, cx, cy) {
      const [x, y, w, h] = boxes.get(svg);
      const px = cx == null ? x + w / 2 : cx;
      const py = cy == null ? y + h / 2 : cy;
      setBox(svg, [px - (px - x) / factor, py - (py - y) / factor, w / factor, h / factor]);
    }

    function visibleSvg() {
      return svgs.find((svg) => !svg.hasAttribute("hidden"));
    }

    // ---- which drawing: the datasets switch, and which namespaces are expanded ----------
    // A drawing's data-expanded names the namespaces it draws node by node ("*": all, "":
    // none); the others are one box each. Only the mixes the report drew can be shown.
    const groupNames = Array.from(new Set(data.nodes.map(topNamespace).filter(Boolean))).sort();
    const datasetSwitch = document.getElementById("show-datasets");
    let expanded = null;

    function expandedSet(key) {
      return key === "*" ? groupNames.slice() : key.split(",").filter(Boolean);
    }

    function keyOf(names) {
      const unique = Array.from(new Set(names)).sort();
      return unique.length === groupNames.length && groupNames.length ? "*" : unique.join(",");
    }

    function viewFor(key, withDatasets) {
      const matching = svgs.filter((svg) => svg.getAttribute("data-expanded") === key);
      return matching.find((svg) => (svg.getAttribute("data-datasets") === "1") === withDatasets)
        || matching[0] || null;
    }

    function wantDatasets() {
      return datasetSwitch ? datasetSwitch.checked : true;
    }

    function toggled(name) {
      const names = expandedSet(expanded || "");
      const at = names.indexOf(name);
      if (at >= 0) { names.splice(at, 1); } else { names.push(name); }
      return keyOf(names);
    }

    function isExpanded(name) {
      return expanded === "*" || expandedSet(expanded || "").includes(name);
    }

    function canToggle(name) {
      return Boolean(viewFor(toggled(name), wantDatasets()));
    }

    function showSvg(target) {
      svgs.forEach((svg) => {
        if (svg === target) { svg.removeAttribute("hidden"); }
        else { svg.setAttribute("hidden", ""); }
      });
      const first = !boxes.has(target);
      if (first) { fit(target); }
      expanded = target.getAttribute("data-expanded");
      state.expanded = expanded;
      state.datasets = wantDatasets();
      root.setAttribute("data-graph-view", target.getAttribute("data-view"));
      root.setAttribute("data-expanded", expanded);
      if (datasetSwitch) {
        // A mix drawn without datasets (a big graph) says so at the switch.
        const missing = datasetSwitch.checked && target.getAttribute("data-datasets") !== "1";
        datasetSwitch.indeterminate = missing;
        datasetSwitch.parentElement.title = missing
          ? "datasets are not drawn in this mix of namespaces (too many boxes)" : "";
      }
      updateGroupControls();
      return first;
    }

    // The boxes of namespace ``name`` in ``svg``: its own box, or its nodes'.
    function namespaceBoxes(svg, name) {
      return Array.from(svg.querySelectorAll("g.node")).filter((el) => {
        const label = el.getAttribute("data-node");
        const node = byName.get(label);
        return node ? topNamespace(node) === name : label === name;
      });
    }

    function setExpanded(key, focus) {
      const svg = viewFor(key, wantDatasets());
      if (!svg) { return false; }
      const first = showSvg(svg);
      if (focus && first) {
        const whole = [0, 0, Number(svg.getAttribute("data-width")),
          Number(svg.getAttribute("data-height"))];
        const members = namespaceBoxes(svg, focus);
        if (members.length && scaleFor(whole) < 0.5) {
          const target = union(members.map(boxOf));
          show(svg, target, Math.max(Math.min(scaleFor(target), 1), 0.3));
        }
      }
      return true;
    }

    function toggleNamespace(name) {
      if (setExpanded(toggled(name), name)) { describeNamespace(name, false); }
    }

    function updateGroupControls() {
      const all = document.getElementById("expand-all");
      const none = document.getElementById("collapse-all");
      if (all) { all.disabled = expanded === "*" || !viewFor("*", wantDatasets()); }
      if (none) { none.disabled = expanded === "" || !viewFor("", wantDatasets()); }
    }

    function initialSvg() {
      if (state.expanded != null) {
        if (datasetSwitch && state.datasets != null) { datasetSwitch.checked = state.datasets; }
        const saved = viewFor(state.expanded, wantDatasets());
        if (saved) { return saved; }
      }
      const shown = visibleSvg() || svgs[0];
      if (datasetSwitch) { datasetSwitch.checked = shown.getAttribute("data-datasets") === "1"; }
      return shown;
    }

    if (view && svgs.length) {
      svgs.forEach((svg) => {
        const saved = state.boxes && state.boxes[svg.getAttribute("data-view")];
        if (saved) { setBox(svg, saved); }
      });
      showSvg(initialSvg());
      if (datasetSwitch) {
        datasetSwitch.addEventListener("change", () => {
          const svg = viewFor(expanded, wantDatasets());
          if (svg) { showSvg(svg); }
        });
      }
      const all = document.getElementById("expand-all");
      const none = document.getElementById("collapse-all");
      if (all) { all.addEventListener("click", () => setExpanded("*", null)); }
      if (none) { none.addEventListener("click", () => setExpanded("", null)); }
      svgs.forEach((svg) => svg.querySelectorAll("g.group").forEach((el) => {
        el.addEventListener("dblclick", () => toggleNamespace(el.getAttribute("data-node")));
      }));
      document.getElementById("zoom-fit").addEventListener("click", () => fit(visibleSvg()));
      document.getElementById("zoom-in").addEventListener("click", () => zoom(visibleSvg(), 1.25));
      document.getElementById("zoom-out").addEventListener("click", () => zoom(visibleSvg(), 0.8));
      let drag = null;
      view.addEventListener("pointerdown", (event) => {
        drag = { x: event.clientX, y: event.clientY, moved: false, box: boxes.get(visibleSvg()) };
      });
      window.addEventListener("pointermove", (event) => {
        if (!drag) { return; }
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
        if (!drag.moved) { return; }
        const [x, y, w, h] = drag.box;
        const per = w / view.clientWidth;
        setBox(visibleSvg(), [x - dx * per, y - dy * per, w, h]);
      });
      window.addEventListener("pointerup", () => {
        if (drag && drag.moved) { view.classList.add("dragged"); }
        drag = null;
        setTimeout(() => view.classList.remove("dragged"), 0);
      });
      view.addEventListener("wheel", (event) => {
        event.preventDefault();
        const svg = visibleSvg();
        const [x, y, w] = boxes.get(svg);
        const rect = view.getBoundingClientRect();
        const per = w / rect.width;
        zoom(svg, event.deltaY < 0 ? 1.15 : 1 / 1.15,
          x + (event.clientX - rect.left) * per, y + (event.clientY - rect.top) * per);
      }, { passive: false });
    }

    document.querySelectorAll("[data-node], [data-dataset]").forEach((el) => {
      if (el.tagName === "TR") { return; }
      const kind = el.hasAttribute("data-dataset") ? "dataset" : "node";
      const name = el.getAttribute(kind === "dataset" ? "data-dataset" : "data-node");
      el.addEventListener("click", () => {
        if (!view || !view.classList.contains("dragged")) { select(name, kind); }
      });
      el.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { select(name, kind); }
      });
    });

    // ---- table: filters, sorting, pages ------------------------------------------------
    const start = data.started || Math.min(...data.nodes.filter((n) => n.started != null)
      .map((n) => n.started));
    const rows = data.nodes.map((node, i) => ({
      node,
      order: i + 1,
      name: node.name,
      status: node.status,
      worker: workerOf(node),
      start: node.started != null ? node.started - start : null,
      took: node.started != null && node.finished != null ? node.finished - node.started : null,
      io: node.load_time != null || node.save_time != null
        ? (node.load_time || 0) + (node.save_time || 0) : null,
      cpu: node.cpu_time != null ? node.cpu_time : null,
      rss: node.peak_rss != null ? node.peak_rss / 1e6 : null,
      note: node.error ? node.error.type + ": " + node.error.message : node.reason || "",
    }));
    const tbody = document.querySelector("#nodes tbody");
    const metrics = Boolean(document.querySelector('#nodes th[data-key="cpu"]'));
    const more = document.getElementById("more-rows");
    let shown = PAGE;
    let matching = rows;
    const sort = state.sort || { key: "order", down: false };

    function cell(tr, text, cls) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) { td.className = cls; }
      tr.appendChild(td);
      return td;
    }

    function renderRows() {
      tbody.textContent = "";
      const fragment = document.createDocumentFragment();
      matching.slice(0, shown).forEach((row) => {
        const tr = document.createElement("tr");
        tr.setAttribute("data-row", row.name);
        tr.setAttribute("data-status", row.status);
        cell(tr, String(row.order), "num");
        cell(tr, row.name);
        const status = cell(tr, " " + row.status);
        const dot = document.createElement("i");
        dot.className = "dot " + (statusClass[row.status] || "st-unknown");
        status.insertBefore(dot, status.firstChild);
        cell(tr, row.worker);
        cell(tr, row.start == null ? "" : row.start.toFixed(2), "num");
        cell(tr, row.took == null ? "" : row.took.toFixed(3), "num");
        if (metrics) {
          cell(tr, row.io == null ? "" : row.io.toFixed(3), "num");
          cell(tr, row.cpu == null ? "" : row.cpu.toFixed(3), "num");
          cell(tr, row.rss == null ? "" : row.rss.toFixed(1), "num");
        }
        cell(tr, row.note);
        tr.addEventListener("click", () => select(row.name, "node"));
        if (state.selected && state.selected[0] === row.name) { tr.classList.add("selected"); }
        fragment.appendChild(tr);
      });
      tbody.appendChild(fragment);
      more.hidden = matching.length <= shown;
      more.textContent = "show " + Math.min(PAGE, matching.length - shown) + " more of "
        + (matching.length - shown);
    }

    const statusClass = {
      "done": "st-done", "failed": "st-failed", "skipped": "st-skipped", "not run": "st-notrun",
      "running": "st-running", "interrupted": "st-interrupted",
    };

    function compare(a, b) {
      const x = a[sort.key];
      const y = b[sort.key];
      if (x == null && y == null) { return a.order - b.order; }
      if (x == null) { return 1; }
      if (y == null) { return -1; }
      const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
      return (sort.down ? -order : order) || a.order - b.order;
    }

    const membersOf = new Map();
    data.nodes.forEach((node) => {
      const top = topNamespace(node);
      if (top) {
        if (!membersOf.has(top)) { membersOf.set(top, []); }
        membersOf.get(top).push(node);
      }
    });

    function applyFilters() {
      const status = (document.getElementById("filter-status") || {}).value || "";
      const namespace = (document.getElementById("filter-namespace") || {}).value || "";
      const name = ((document.getElementById("filter-name") || {}).value || "").toLowerCase();
      const keep = (node) => (!status || node.status === status)
        && (!namespace || topNamespace(node) === namespace)
        && (!name || node.name.toLowerCase().includes(name));
      matching = rows.filter((row) => keep(row.node)).sort(compare);
      shown = PAGE;
      renderRows();
      const filtering = Boolean(status || namespace || name);
      document.querySelectorAll("svg.timeline g.bar, svg.graph g.node").forEach((el) => {
        const node = byName.get(el.getAttribute("data-node"));
        // A namespace's box stays lit while any of its nodes passes the filter.
        let kept = true;
        if (filtering && node !== undefined) { kept = keep(node); }
        else if (filtering) {
          const members = membersOf.get(el.getAttribute("data-node"));
          kept = !members || members.some(keep);
        }
        el.classList.toggle("filtered-out", !kept);
      });
      document.getElementById("filter-count").textContent = filtering
        ? matching.length + " of " + rows.length + " nodes" : rows.length + " nodes";
      state.filters = { status, namespace, name };
      root.setAttribute("data-table-rows", String(tbody.children.length));
    }

    document.querySelectorAll("#nodes th[data-key]").forEach((th) => {
      th.addEventListener("click", () => {
        const key = th.getAttribute("data-key");
        sort.down = sort.key === key ? !sort.down : ["took", "io", "cpu", "rss"].includes(key);
        sort.key = key;
        state.sort = sort;
        document.querySelectorAll("#nodes th").forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", sort.down ? "descending" : "ascending");
        applyFilters();
      });
    });
    const saved = state.filters || {};
    [["filter-status", saved.status], ["filter-namespace", saved.namespace],
      ["filter-name", saved.name]].forEach(([id, value]) => {
      const input = document.getElementById(id);
      if (!input) { return; }
      if (value) { input.value = value; }
      input.addEventListener("input", applyFilters);
      input.addEventListener("change", applyFilters);
    });
    more.addEventListener("click", () => { shown += PAGE; renderRows(); });
    // The timeline of the nodes alone, or of the whole run with its start-up.
    const wholeRun = document.getElementById("timeline-whole-run");
    if (wholeRun) {
      const showWhole = () => {
        document.getElementById("timeline").toggleAttribute("hidden", wholeRun.checked);
        document.getElementById("timeline-whole").toggleAttribute("hidden", !wholeRun.checked);
        state.wholeRun = wholeRun.checked;
      };
      wholeRun.checked = Boolean(state.wholeRun);
      wholeRun.addEventListener("change", showWhole);
      showWhole();
    }
    applyFilters();
    if (state.selected) { select(state.selected[0], state.selected[1]); }

    // ---- what rendered -----------------------------------------------------------------
    const visible = svgs.find((svg) => !svg.hasAttribute("hidden")) || null;
    const drawn = [];
    if (visible) { drawn.push("graph"); }
    if (document.getElementById("timeline")) { drawn.push("timeline"); }
    drawn.push("table");
    root.setAttribute("data-graph-nodes", String(visible
      ? visible.querySelectorAll("g.node").length : 0));
    root.setAttribute("data-timeline-bars",
      String(document.querySelectorAll("#timeline g.bar").length));
    root.setAttribute("data-rendered", drawn.join(" "));
    return { boxes, svgs, data };
  }

  // ---- live updates: ask the server for a new version, swap the page's content --------
  const state = {};
  let current = init(state);
  root.setAttribute("data-ready-ms", performance.now().toFixed(0));
  requestAnimationFrame(() => requestAnimationFrame(() => {
    root.setAttribute("data-painted-ms", performance.now().toFixed(0));
  }));

  if (current.data.live) {
    let version = current.data.version || null;
    let updates = 0;
    const badge = document.getElementById("live-badge");
    const poll = () => {
      fetch("version", { cache: "no-store" }).then((response) => response.text()).then((text) => {
        if (version === null) { version = text; }
        if (text === version) { return null; }
        version = text;
        return fetch("report.html", { cache: "no-store" }).then((response) => response.text())
          .then((html) => {
            const fresh = new DOMParser().parseFromString(html, "text/html");
            state.boxes = {};
            current.boxes.forEach((box, svg) => {
              state.boxes[svg.getAttribute("data-view")] = box;
            });
            ["header", "#report", "#run-data"].forEach((selector) => {
              document.querySelector(selector).replaceWith(fresh.querySelector(selector));
            });
            current = init(state);
            updates += 1;
            root.setAttribute("data-live-updates", String(updates));
          });
      }).then(() => {
        setTimeout(poll, 300);
      }).catch((error) => {
        root.setAttribute("data-live-error", String(error));
        const live = document.getElementById("live-badge") || badge;
        if (live) { live.textContent = "live: the run has ended"; live.classList.add("ended"); }
        root.setAttribute("data-live-ended", "true");
      });
    };
    setTimeout(poll, 300);
  }
})();
