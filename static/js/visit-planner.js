/* fieldwatch visit pages: the planner on a map, the holding form, the print button.
 *
 * The planner (templates/visits/plan.html) reads its settings from the JSON in
 * #fw-planner-config; folium built the map (window[cfg.map]) with the township
 * outlines and Leaflet.draw. This module fetches the candidate problems for the
 * current view from /api/v1/visits/candidates (never inlined in the page), asks
 * /api/v1/visits/batches for batches, and /api/v1/visits/route for the suggested
 * order and the geodesic km (one implementation of the route, on the server). It
 * draws the numbered route, lets the leader reorder by hand, and writes the
 * ordered stops into the form's hidden fields. Coordinates stay WGS-84; on AMap
 * (cfg.gcj02) what is drawn is shifted to GCJ-02 with gcoord and clicks shifted back.
 */
(function () {
  "use strict";

  // Leaflet.draw's toolbar in Chinese: set before folium's script creates the control.
  if (window.L && L.drawLocal && document.documentElement.lang === "zh-CN") {
    var t = L.drawLocal.draw.toolbar;
    t.buttons.polygon = "画多边形区域";
    t.buttons.rectangle = "画矩形区域";
    t.actions.title = "取消画图";
    t.actions.text = "取消";
    t.finish.title = "完成";
    t.finish.text = "完成";
    t.undo.title = "删除最后一个点";
    t.undo.text = "撤销";
    var h = L.drawLocal.draw.handlers;
    h.polygon.tooltip = { start: "点击开始画区域", cont: "继续点击", end: "点击第一个点结束" };
    h.rectangle.tooltip = { start: "按住并拖动画出矩形" };
    h.simpleshape.tooltip = { end: "松开鼠标完成" };
  }

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  var STATUS_COLOURS = {
    reported: "#6c757d",
    accepted: "#0d6efd",
    in_progress: "#fd7e14",
    resolved: "#20c997",
  };

  function initPlanner() {
    var configElement = document.getElementById("fw-planner-config");
    if (!configElement || !window.L) {
      return;
    }
    var cfg = JSON.parse(configElement.textContent);
    var map = window[cfg.map];
    if (!map) {
      return;
    }
    var S = cfg.strings;
    var GCJ = Boolean(cfg.gcj02 && window.gcoord);
    var drawn = cfg.draw ? window["drawnItems_" + cfg.draw] : null;
    var $ = function (id) {
      return document.getElementById(id);
    };

    var state = {
      candidates: {}, // issue id -> candidate properties (with lon, lat)
      stops: [], // [{issue_id|null, lon, lat, title, ref, status, km}]
      start: null, // {lon, lat, label, kind}
      manual: false, // the leader reordered by hand: keep the order
      within: null, // drawn area (GeoJSON geometry, WGS-84)
      township: cfg.township || "",
      clickMode: null, // "start" | "point"
      total: null,
    };
    var candidateLayer = L.featureGroup().addTo(map);
    var batchLayer = L.featureGroup().addTo(map);
    var routeLayer = L.featureGroup().addTo(map);
    var routeSeq = 0;
    var loadSeq = 0;

    // --- coordinates ----------------------------------------------------------------
    function toMap(lon, lat) {
      if (!GCJ) {
        return L.latLng(lat, lon);
      }
      var p = window.gcoord.transform([lon, lat], window.gcoord.WGS84, window.gcoord.GCJ02);
      return L.latLng(p[1], p[0]);
    }

    function fromMap(latlng) {
      if (!GCJ) {
        return { lon: latlng.lng, lat: latlng.lat };
      }
      var p = window.gcoord.transform([latlng.lng, latlng.lat], window.gcoord.GCJ02, window.gcoord.WGS84);
      return { lon: p[0], lat: p[1] };
    }

    function geometryFromMap(geometry) {
      function walk(coords) {
        if (typeof coords[0] === "number") {
          var p = fromMap(L.latLng(coords[1], coords[0]));
          return [p.lon, p.lat];
        }
        return coords.map(walk);
      }
      return { type: geometry.type, coordinates: walk(geometry.coordinates) };
    }

    function viewBbox() {
      var b = map.getBounds().pad(0.1);
      var sw = fromMap(b.getSouthWest());
      var ne = fromMap(b.getNorthEast());
      var clamp = function (v, lo, hi) {
        return Math.max(lo, Math.min(hi, v));
      };
      return [clamp(sw.lon, -180, 180), clamp(sw.lat, -90, 90), clamp(ne.lon, -180, 180), clamp(ne.lat, -90, 90)]
        .map(function (v) {
          return v.toFixed(5);
        })
        .join(",");
    }

    // --- filters ------------------------------------------------------------------------
    function filterParams(withBbox) {
      var params = new URLSearchParams();
      if (withBbox) {
        params.set("bbox", viewBbox());
      }
      if (state.township) {
        params.set("township", state.township);
      }
      if (state.within) {
        params.set("within", JSON.stringify(state.within));
      }
      var statuses = Array.prototype.map.call(
        document.querySelectorAll("input[name=f-status]:checked"),
        function (box) {
          return box.value;
        }
      );
      if (statuses.length) {
        params.set("status", statuses.join(","));
      }
      if ($("f-category").value) {
        params.set("category", $("f-category").value);
      }
      if ($("f-priority").value) {
        params.set("priority", $("f-priority").value);
      }
      ["overdue_lookback", "reopened", "overdue"].forEach(function (name) {
        if ($("f-" + name).checked) {
          params.set(name, "true");
        }
      });
      return params;
    }

    // --- candidates -------------------------------------------------------------------------
    function isStop(id) {
      return state.stops.some(function (s) {
        return s.issue_id === id;
      });
    }

    function flags(p) {
      var out = [];
      if (p.priority === "urgent") out.push(S.urgent);
      if (p.overdue) out.push(S.overdue);
      if (p.lookback_overdue) out.push(S.lookback_overdue);
      if (p.reopen_count) out.push(S.reopened);
      return out;
    }

    function drawCandidates() {
      candidateLayer.clearLayers();
      Object.keys(state.candidates).forEach(function (key) {
        var p = state.candidates[key];
        var chosen = isStop(p.id);
        var alarm = p.overdue || p.lookback_overdue || p.reopen_count > 0;
        var marker = L.circleMarker(toMap(p.lon, p.lat), {
          radius: chosen ? 9 : 7,
          color: alarm ? "#b02a37" : "#ffffff",
          weight: alarm ? 3 : 1.5,
          fillColor: STATUS_COLOURS[p.status] || "#6c757d",
          fillOpacity: chosen ? 1 : 0.85,
          className: "fw-candidate" + (chosen ? " fw-chosen" : ""),
        });
        var extra = flags(p);
        marker.bindTooltip(
          "<strong>" + esc(p.ref) + "</strong> " + esc(p.title) + "<br>" +
            esc(cfg.status_names[p.status] || p.status) +
            (p.village ? " · " + esc(p.village) : "") +
            (extra.length ? '<br><span class="text-danger">' + esc(extra.join("、")) + "</span>" : "") +
            "<br><em>" + esc(chosen ? S.remove : S.add) + "</em>"
        );
        marker.on("click", function (event) {
          L.DomEvent.stopPropagation(event);
          toggle(p);
        });
        marker.addTo(candidateLayer);
        if (marker._path) {
          marker._path.setAttribute("data-issue-id", p.id);
        }
      });
    }

    var loadTimer = null;
    function loadCandidates() {
      clearTimeout(loadTimer);
      loadTimer = setTimeout(fetchCandidates, 150);
    }

    function fetchCandidates() {
      var seq = ++loadSeq;
      var status = $("candidate-status");
      status.textContent = S.loading;
      fetch(cfg.urls.candidates + "?" + filterParams(true).toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/geo+json" },
      })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (fc) {
          if (seq !== loadSeq) return;
          state.candidates = {};
          fc.features.forEach(function (f) {
            var p = f.properties;
            p.lon = f.geometry.coordinates[0];
            p.lat = f.geometry.coordinates[1];
            state.candidates[p.id] = p;
          });
          drawCandidates();
          var more = (fc.links || []).some(function (l) {
            return l.rel === "next";
          });
          status.textContent = fc.features.length
            ? fmt(S.candidates, { n: fc.features.length }) + (more ? fmt(S.more, { n: fc.features.length }) : "") +
              (state.within ? " · " + S.area_set : "")
            : S.none;
          status.setAttribute("data-count", String(fc.features.length));
        })
        .catch(function () {
          if (seq === loadSeq) status.textContent = S.load_failed;
        });
    }

    // --- batches -----------------------------------------------------------------------------
    function runBatches() {
      var params = filterParams(!state.township && !state.within);
      params.set("eps_m", $("eps").value || cfg.eps_m);
      var box = $("batches");
      box.textContent = S.loading;
      batchLayer.clearLayers();
      fetch(cfg.urls.batches + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (data) {
          box.innerHTML = "";
          if (!data.batches.length) {
            box.textContent = S.no_batches;
            return;
          }
          var list = document.createElement("ul");
          list.className = "list-unstyled mb-1";
          data.batches.forEach(function (b) {
            var li = document.createElement("li");
            li.className = "d-flex align-items-center gap-2 border-bottom py-1 fw-batch";
            li.innerHTML =
              '<span class="me-auto"><strong>' + esc(fmt(S.batch, { n: b.id })) + "</strong> · " +
              esc(fmt(S.batch_count, { n: b.count })) +
              (b.townships.length ? ' <span class="text-secondary">' + esc(b.townships.join("、")) + "</span>" : "") +
              "</span>";
            var take = document.createElement("button");
            take.type = "button";
            take.className = "btn btn-sm btn-outline-success";
            take.textContent = S.take_batch;
            take.addEventListener("click", function () {
              takeBatch(b);
            });
            li.appendChild(take);
            list.appendChild(li);
            // a dashed circle around the batch: from its centre to its farthest problem
            var centre = toMap(b.lon, b.lat);
            var reach = b.issues.reduce(function (far, i) {
              return Math.max(far, map.distance(centre, toMap(i.lon, i.lat)));
            }, 0);
            L.circle(centre, {
              radius: reach + 120,
              color: "#198754",
              weight: 2,
              dashArray: "6 5",
              fillOpacity: 0.05,
              interactive: false,
            })
              .bindTooltip(fmt(S.batch, { n: b.id }), { permanent: false })
              .addTo(batchLayer);
          });
          box.appendChild(list);
          if (data.loners.length) {
            var note = document.createElement("div");
            note.className = "text-secondary";
            note.textContent = fmt(S.loners, { n: data.loners.length });
            box.appendChild(note);
          }
        })
        .catch(function () {
          box.textContent = S.load_failed;
        });
    }

    function takeBatch(batch) {
      state.stops = batch.issues.map(function (i) {
        return { issue_id: i.id, lon: i.lon, lat: i.lat, title: i.title, ref: i.ref, status: i.status };
      });
      state.manual = false;
      refreshRoute(true);
      var points = state.stops.map(function (s) {
        return toMap(s.lon, s.lat);
      });
      if (state.start) {
        points.push(toMap(state.start.lon, state.start.lat));
      }
      map.fitBounds(L.latLngBounds(points).pad(0.2));
    }

    // --- the route -----------------------------------------------------------------------------
    function toggle(p) {
      if (isStop(p.id)) {
        state.stops = state.stops.filter(function (s) {
          return s.issue_id !== p.id;
        });
      } else {
        state.stops.push({ issue_id: p.id, lon: p.lon, lat: p.lat, title: p.title, ref: p.ref, status: p.status });
      }
      refreshRoute(!state.manual);
    }

    function stopPayload(s) {
      return s.issue_id ? { issue_id: s.issue_id } : { lon: s.lon, lat: s.lat, label: s.title };
    }

    function refreshRoute(optimise) {
      writeHidden();
      if (!state.stops.length) {
        state.total = null;
        render();
        return;
      }
      var seq = ++routeSeq;
      var body = {
        start: state.start ? { lon: state.start.lon, lat: state.start.lat } : null,
        stops: state.stops.map(stopPayload),
        optimise: Boolean(optimise),
      };
      var sent = state.stops.slice();
      fetch(cfg.urls.route, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      })
        .then(function (r) {
          return r.json().then(function (data) {
            if (!r.ok) throw new Error(data.message || r.status);
            return data;
          });
        })
        .then(function (data) {
          if (seq !== routeSeq) return;
          state.stops = data.order.map(function (i) {
            return sent[i];
          });
          data.route.stops.forEach(function (leg, i) {
            state.stops[i].km = leg.km_from_previous;
          });
          state.total = data.route.total_km;
          if (optimise && sent.length > 1) {
            $("candidate-status").setAttribute("data-ordered", "1");
          }
          writeHidden();
          render();
        })
        .catch(function (error) {
          if (seq !== routeSeq) return;
          $("route-total").textContent = String(error.message || S.load_failed);
        });
    }

    function move(index, delta) {
      var target = index + delta;
      if (target < 0 || target >= state.stops.length) return;
      var item = state.stops.splice(index, 1)[0];
      state.stops.splice(target, 0, item);
      state.manual = true;
      refreshRoute(false);
    }

    function render() {
      drawCandidates();
      drawRoute();
      renderList();
      var total = $("route-total");
      if (state.total === null) {
        total.textContent = state.stops.length ? "" : "";
        total.removeAttribute("data-km");
      } else {
        total.textContent = fmt(S.total, { km: state.total.toFixed(2) });
        total.setAttribute("data-km", state.total.toFixed(3));
      }
      if (totalControl) {
        totalControl.getContainer().textContent = state.total === null ? "" : fmt(S.total, { km: state.total.toFixed(2) });
        totalControl.getContainer().style.display = state.total === null ? "none" : "";
      }
    }

    function renderList() {
      var list = $("stops");
      list.innerHTML = "";
      if (!state.stops.length) {
        var empty = document.createElement("li");
        empty.className = "list-group-item small text-secondary fw-no-stops";
        empty.textContent = S.no_stops;
        list.appendChild(empty);
        return;
      }
      state.stops.forEach(function (s, i) {
        var li = document.createElement("li");
        li.className = "list-group-item d-flex align-items-start gap-1 py-1 fw-stop";
        li.setAttribute("data-issue-id", s.issue_id || "");
        var km = typeof s.km === "number"
          ? (i === 0 ? (state.start ? S.from_start : S.first_stop) : S.from_previous) +
            (i === 0 && !state.start ? "" : " " + s.km.toFixed(2) + " " + S.km)
          : "";
        li.innerHTML =
          '<div class="ms-1 me-auto small"><div class="fw-semibold">' +
          (s.ref ? '<span class="font-monospace">' + esc(s.ref) + "</span> " : "") +
          esc(s.title || S.free_point) + '</div><div class="text-secondary">' + esc(km) + "</div></div>";
        [
          ["fa-arrow-up", S.up, function () { move(i, -1); }, i === 0],
          ["fa-arrow-down", S.down, function () { move(i, 1); }, i === state.stops.length - 1],
          ["fa-xmark", S.remove, function () {
            state.stops.splice(i, 1);
            refreshRoute(false);
          }, false],
        ].forEach(function (b) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-sm btn-outline-secondary py-0 px-1 fw-" + b[0].slice(3);
          button.title = b[1];
          button.setAttribute("aria-label", b[1]);
          button.disabled = b[3];
          button.innerHTML = '<i class="fa-solid ' + b[0] + '"></i>';
          button.addEventListener("click", b[2]);
          li.appendChild(button);
        });
        list.appendChild(li);
      });
    }

    function drawRoute() {
      routeLayer.clearLayers();
      var points = [];
      if (state.start) {
        points.push(toMap(state.start.lon, state.start.lat));
        L.marker(points[0], {
          icon: L.divIcon({
            className: "fw-stop-icon",
            html: '<div class="fw-stop-start"><i class="fa-solid fa-flag"></i></div>',
            iconSize: [26, 26],
            iconAnchor: [13, 13],
          }),
          keyboard: false,
        })
          .bindTooltip(esc(S.start + (state.start.label ? "：" + state.start.label : "")))
          .addTo(routeLayer);
      }
      state.stops.forEach(function (s, i) {
        var at = toMap(s.lon, s.lat);
        points.push(at);
        L.marker(at, {
          icon: L.divIcon({
            className: "fw-stop-icon",
            html: '<div class="fw-stop-number">' + (i + 1) + "</div>",
            iconSize: [26, 26],
            iconAnchor: [13, 13],
          }),
          zIndexOffset: 1000,
          title: (i + 1) + ". " + (s.title || S.free_point),
        })
          .on("click", function () {
            state.stops.splice(i, 1);
            refreshRoute(false);
          })
          .addTo(routeLayer);
      });
      if (points.length > 1) {
        L.polyline(points, { color: "#0d6efd", weight: 4, opacity: 0.8, dashArray: "8 6", interactive: false })
          .addTo(routeLayer);
      }
    }

    function writeHidden() {
      $("stops-field").value = JSON.stringify(state.stops.map(stopPayload));
      $("start-lon").value = state.start ? String(state.start.lon) : "";
      $("start-lat").value = state.start ? String(state.start.lat) : "";
      $("start-label").value = state.start ? state.start.label || "" : "";
      $("start-kind-field").value = state.start ? state.start.kind || "" : "";
    }

    // --- the start point --------------------------------------------------------------------------
    function setStartFrom(kind) {
      state.clickMode = null;
      map.getContainer().classList.remove("fw-picking");
      if (!kind) {
        state.start = null;
      } else if (kind === "office" && cfg.office) {
        state.start = { lon: cfg.office.lon, lat: cfg.office.lat, label: cfg.office.label, kind: "office" };
      } else if (kind.indexOf("station:") === 0) {
        var id = Number(kind.slice(8));
        var station = cfg.stations.filter(function (s) {
          return s.id === id;
        })[0];
        if (station) {
          state.start = { lon: station.lon, lat: station.lat, label: station.name, kind: kind };
        }
      } else if (kind === "click") {
        state.clickMode = "start";
        map.getContainer().classList.add("fw-picking");
        $("candidate-status").textContent = S.pick_start;
        return;
      }
      refreshRoute(!state.manual);
    }

    map.on("click", function (event) {
      if (!state.clickMode) return;
      var p = fromMap(event.latlng);
      if (state.clickMode === "start") {
        state.start = { lon: p.lon, lat: p.lat, label: $("start-kind").selectedOptions[0].textContent.replace("…", ""), kind: "click" };
      } else {
        var label = window.prompt(S.free_point_prompt, "") || S.free_point;
        state.stops.push({ issue_id: null, lon: p.lon, lat: p.lat, title: label });
      }
      state.clickMode = null;
      map.getContainer().classList.remove("fw-picking");
      refreshRoute(!state.manual);
    });

    // --- a control on the map with the total ----------------------------------------------------------
    var TotalControl = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "fw-route-total-map leaflet-bar");
        div.id = "route-total-map";
        div.style.display = "none";
        return div;
      },
    });
    var totalControl = new TotalControl().addTo(map);

    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "fw-planner-legend leaflet-bar");
        var rows = Object.keys(STATUS_COLOURS).map(function (status) {
          return '<div><span class="fw-dot" style="background:' + STATUS_COLOURS[status] + '"></span>' +
            esc(cfg.status_names[status] || status) + "</div>";
        });
        rows.push('<div><span class="fw-dot fw-dot-alarm"></span>' + esc(S.legend_alarm) + "</div>");
        rows.push('<div><span class="fw-stop-number fw-inline">1</span> ' + esc(S.legend_stop) + "</div>");
        div.innerHTML = "<strong>" + esc(S.legend) + "</strong>" + rows.join("");
        L.DomEvent.disableClickPropagation(div);
        return div;
      },
    });
    new Legend().addTo(map);

    // --- wiring ----------------------------------------------------------------------------------
    map.on("moveend", loadCandidates);
    document.querySelectorAll(".fw-filter").forEach(function (input) {
      input.addEventListener("change", function () {
        loadCandidates();
        batchLayer.clearLayers();
        $("batches").innerHTML = "";
      });
    });
    $("f-township").addEventListener("change", function () {
      state.township = this.value;
      var box = cfg.townships.filter(function (t) {
        return t.code === state.township;
      })[0];
      batchLayer.clearLayers();
      $("batches").innerHTML = "";
      if (box) {
        map.fitBounds(L.latLngBounds(toMap(box.bbox[0], box.bbox[1]), toMap(box.bbox[2], box.bbox[3])));
      }
      loadCandidates();
    });
    $("run-batches").addEventListener("click", runBatches);
    $("optimise").addEventListener("click", function () {
      state.manual = false;
      refreshRoute(true);
    });
    $("add-point").addEventListener("click", function () {
      state.clickMode = "point";
      map.getContainer().classList.add("fw-picking");
      $("candidate-status").textContent = S.pick_point;
    });
    $("start-kind").addEventListener("change", function () {
      setStartFrom(this.value);
    });
    map.on("draw:drawstart", function () {
      if (drawn) drawn.clearLayers();
    });
    map.on("draw:created", function (event) {
      state.within = geometryFromMap(event.layer.toGeoJSON().geometry);
      $("clear-area").classList.remove("d-none");
      batchLayer.clearLayers();
      $("batches").innerHTML = "";
      loadCandidates();
    });
    $("clear-area").addEventListener("click", function () {
      if (drawn) drawn.clearLayers();
      state.within = null;
      this.classList.add("d-none");
      loadCandidates();
    });
    $("visit-form").addEventListener("submit", writeHidden);

    // --- what the page was given: a saved visit, or a form sent back with errors ------------------
    state.stops = (cfg.selection || []).map(function (s) {
      return { issue_id: s.issue_id, lon: s.lon, lat: s.lat, title: s.title, ref: s.ref, status: s.status };
    });
    if (cfg.start) {
      state.start = cfg.start;
      var select = $("start-kind");
      var wanted = cfg.start.kind && cfg.start.kind !== "click" ? cfg.start.kind : "click";
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === wanted) select.selectedIndex = i;
      }
    }
    state.manual = state.stops.length > 0; // keep a saved order until asked to reorder
    refreshRoute(false);
    fetchCandidates();
  }

  // --- the visit record: show only the fields each agreed action needs --------------------------
  function initRecord() {
    document.querySelectorAll("select.fw-action-move").forEach(function (select) {
      var box = document.getElementById(select.getAttribute("data-fields"));
      function update() {
        if (!box) return;
        var move = select.value;
        box.querySelectorAll("[data-for]").forEach(function (el) {
          var wanted = el.getAttribute("data-for").split(" ");
          el.classList.toggle("d-none", wanted.indexOf(move) < 0);
        });
      }
      select.addEventListener("change", update);
      update();
    });
  }

  function initPrint() {
    document.querySelectorAll("[data-action=print]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initPlanner();
    initRecord();
    initPrint();
  });
})();
