/* fieldwatch main map: the live layers, fetched for the view and redrawn as it moves.
 *
 * folium builds the map (window[cfg.map]); this module adds townships, villages,
 * stations, problems, visits and look-backs from /api/v1/map/layers/<layer>
 * (and, for villages, /tiles/villages/{z}/{x}/{y}.pbf), plus the layer
 * switcher, legend, search, "my location" and a click that opens the place's
 * history. Coordinates are stored in WGS-84; on AMap (cfg.gcj02) what is drawn
 * is shifted to GCJ-02 with gcoord, and clicks are shifted back.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("fw-map-config");
  if (!configElement || !window.L) {
    return;
  }
  var cfg = JSON.parse(configElement.textContent);
  var map = window[cfg.map];
  var S = cfg.strings;
  var GCJ = Boolean(cfg.gcj02 && window.gcoord);

  // --- small helpers ------------------------------------------------------------------
  function fmt(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function pageUrl(kind, id) {
    return fmt(cfg.pages[kind], { id: encodeURIComponent(id) });
  }

  // --- coordinates: WGS-84 stored, GCJ-02 drawn on AMap -------------------------------
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

  function coordsToLatLng(coords) {
    return toMap(coords[0], coords[1]);
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  /* The view's WGS-84 bbox, a little larger than the screen so small pans need no fetch. */
  function viewBbox() {
    var bounds = map.getBounds().pad(0.15);
    var sw = fromMap(bounds.getSouthWest());
    var ne = fromMap(bounds.getNorthEast());
    return [
      clamp(sw.lon, -180, 180).toFixed(5),
      clamp(sw.lat, -90, 90).toFixed(5),
      clamp(ne.lon, -180, 180).toFixed(5),
      clamp(ne.lat, -90, 90).toFixed(5),
    ].join(",");
  }

  function historyLink(lon, lat) {
    var url = cfg.history_url + "?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6) + "&radius=" + cfg.history_radius_m;
    return '<a class="fw-history" href="' + esc(url) + '"><i class="fa-solid fa-clock-rotate-left"></i> ' + esc(S.places_history) + "</a>";
  }

  /* one popup, reused: a new click replaces what it shows */
  var popup = L.popup({ maxWidth: 300 });

  function popupAt(latlng, html, wgs) {
    var where = wgs || fromMap(latlng);
    popup.setLatLng(latlng).setContent(html + '<div class="mt-1">' + historyLink(where.lon, where.lat) + "</div>");
    if (!map.hasLayer(popup)) {
      popup.openOn(map);
    }
  }

  // --- colours --------------------------------------------------------------------------
  var STATUS_COLOURS = {
    reported: "#6c757d",
    accepted: "#0d6efd",
    in_progress: "#fd7e14",
    resolved: "#20c997",
    closed: "#198754",
    rejected: "#adb5bd",
    duplicate: "#adb5bd",
  };
  var OVERDUE = "#dc3545";
  var REOPENED = "#7b1fa2";
  var COVERAGE = [
    [100, "#1a9850"],
    [95, "#91cf60"],
    [80, "#fee08b"],
    [50, "#fc8d59"],
    [0, "#d73027"],
  ];
  var NO_DATA = "#bdbdbd";
  var FOLLOWUP_COLOURS = { overdue: OVERDUE, due: "#f0ad00", done: "#198754" };

  function coverageColour(pct) {
    if (pct === null || pct === undefined) {
      return NO_DATA;
    }
    for (var i = 0; i < COVERAGE.length; i++) {
      if (pct >= COVERAGE[i][0]) {
        return COVERAGE[i][1];
      }
    }
    return COVERAGE[COVERAGE.length - 1][1];
  }

  // --- panes: places under the visits and problems however late each is redrawn ----------
  map.createPane("fwTownships").style.zIndex = 350;
  map.createPane("fwVillages").style.zIndex = 360;
  // stations and look-back symbols under the problems (Leaflet's marker pane is above them)
  map.createPane("fwSymbols").style.zIndex = 390;

  // --- status line (loading, failures, "zoom in") -------------------------------------
  var Status = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      this._div = L.DomUtil.create("div", "fw-map-status");
      this._div.setAttribute("role", "status");
      this._div.setAttribute("aria-live", "polite");
      return this._div;
    },
    show: function (text, kind) {
      this._div.textContent = text || "";
      this._div.className = "fw-map-status" + (text ? " fw-show fw-" + (kind || "info") : "");
    },
  });
  var status = new Status().addTo(map);

  // --- clusters (server-side: per township at low zoom, per screen cell further in) ------
  function clusterMarker(feature, latlng, layerId) {
    var p = feature.properties;
    var hot = (p.overdue || 0) + (p.reopened || 0);
    var size = p.count < 10 ? 30 : p.count < 100 ? 36 : p.count < 1000 ? 42 : 48;
    var html = "<span>" + esc(p.count) + "</span>" + (hot ? '<b class="fw-hot">' + esc(hot) + "</b>" : "");
    var marker = L.marker(latlng, {
      icon: L.divIcon({ className: "fw-cluster fw-cluster-" + layerId, html: html, iconSize: [size, size] }),
      keyboard: true,
      title: p.name ? fmt(S.township_count, { name: p.name, n: p.count }) : fmt(S.cluster, { n: p.count }),
    });
    var lines = [p.name ? fmt(S.township_count, { name: p.name, n: p.count }) : fmt(S.cluster, { n: p.count })];
    if (p.overdue) {
      lines.push(S.overdue + " " + p.overdue);
    }
    if (p.reopened) {
      lines.push(S.reopened + " " + p.reopened);
    }
    marker.bindTooltip(lines.map(esc).join("<br>"));
    marker.on("click", function () {
      map.setView(latlng, Math.min(map.getZoom() + (p.township ? 3 : 2), 18));
    });
    return marker;
  }

  // --- each layer's drawing -----------------------------------------------------------
  function statusLabel(status) {
    return S.statuses[status] || status;
  }

  var draw = {
    townships: function (data) {
      var many = data.features.length > 60;
      return L.geoJSON(data, {
        pane: "fwTownships",
        coordsToLatLng: coordsToLatLng,
        style: function (f) {
          return { color: "#37474f", weight: 1.5, fillColor: coverageColour(f.properties.coverage_pct), fillOpacity: 0.28, bubblingMouseEvents: false };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindTooltip(esc(p.name), { permanent: !many, direction: "center", className: "fw-label" });
          layer.on("click", function (e) {
            var pct = p.coverage_pct === null ? "–" : p.coverage_pct + "%";
            popupAt(
              e.latlng,
              "<strong>" + esc(p.name) + "</strong><br>" + esc(S.coverage) + " " + esc(pct) +
                " (" + esc(p.covered) + "/" + esc(p.villages) + ")<br>" + esc(p.has_platform ? S.has_platform : S.no_platform)
            );
          });
        },
      });
    },

    villages: function (data) {
      return L.geoJSON(data, {
        pane: "fwVillages",
        coordsToLatLng: coordsToLatLng,
        style: function (f) {
          return villageStyle(f.properties);
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, L.extend({ radius: 4, pane: "fwVillages" }, villageStyle(f.properties)));
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(esc(f.properties.name), { sticky: true });
          layer.on("click", function (e) {
            popupAt(e.latlng, villageHtml(f.properties));
          });
        },
      });
    },

    stations: function (data) {
      return L.geoJSON(data, {
        coordsToLatLng: coordsToLatLng,
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          if (p.cluster) {
            return clusterMarker(f, latlng, "stations");
          }
          var marker = L.marker(latlng, {
            pane: "fwSymbols",
            icon: L.divIcon({
              className: "fw-station" + (p.open ? "" : " fw-closed"),
              html: '<i class="fa-solid fa-house-flag"></i>',
              iconSize: [26, 26],
            }),
            title: p.name,
          });
          marker.on("click", function () {
            var wgs = { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] };
            popupAt(
              latlng,
              "<strong>" + esc(p.name) + "</strong><br>" + esc(p.open ? S.station : S.station_closed) + " · " +
                esc(fmt(S.five_haves, { n: p.five_haves })) + (p.address ? "<br>" + esc(p.address) : "") +
                '<br><a href="' + esc(pageUrl("station", p.id)) + '">' + esc(S.details) + "</a>",
              wgs
            );
          });
          return marker;
        },
      });
    },

    issues: function (data) {
      return L.geoJSON(data, {
        coordsToLatLng: coordsToLatLng,
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          if (p.cluster) {
            return clusterMarker(f, latlng, "issues");
          }
          var colour = STATUS_COLOURS[p.status] || "#6c757d";
          var options = { radius: 7, weight: 2, color: "#fff", fillColor: colour, fillOpacity: 0.95, bubblingMouseEvents: false };
          if (p.reopened) {
            options = L.extend(options, { radius: 9, weight: 3, color: REOPENED, dashArray: "3 2", className: "fw-reopened" });
          }
          if (p.overdue) {
            options = L.extend(options, { radius: 10, weight: 4, color: OVERDUE, className: "fw-overdue" });
          }
          var marker = L.circleMarker(latlng, options);
          marker.bindTooltip(esc(p.ref + " " + p.title));
          marker.on("click", function () {
            var flags = (p.overdue ? '<span class="badge text-bg-danger">' + esc(S.overdue) + "</span> " : "") +
              (p.reopened ? '<span class="badge fw-badge-reopened">' + esc(S.reopened) + "</span>" : "");
            popupAt(
              latlng,
              '<div class="small text-secondary">' + esc(p.ref) + " · " + esc(p.category_name) + "</div><strong>" + esc(p.title) +
                "</strong><br>" + '<span class="badge badge-status-' + esc(p.status) + '">' + esc(statusLabel(p.status)) + "</span> " +
                flags + (p.due_on ? "<br>" + esc(fmt(S.due_on, { d: p.due_on })) : "") +
                '<br><a href="' + esc(pageUrl("issue", p.id)) + '">' + esc(S.details) + "</a>",
              { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }
            );
          });
          return marker;
        },
      });
    },

    visits: function (data) {
      var group = L.featureGroup();
      data.features.forEach(function (f) {
        var p = f.properties;
        var held = p.status === "held";
        var colour = held ? "#198754" : "#0d6efd";
        var points = (f.geometry.coordinates || []).map(coordsToLatLng);
        var open = function (e) {
          popupAt(
            e.latlng,
            "<strong>" + esc(p.title) + "</strong><br>" + esc(held ? S.visit_held : S.visit_planned) + " · " +
              esc(p.held_on || p.planned_for) + " · " + esc(fmt(S.stops, { n: p.stops })) +
              '<br><a href="' + esc(pageUrl("visit", p.id)) + '">' + esc(S.details) + "</a>"
          );
        };
        if (points.length > 1) {
          L.polyline(points, { color: colour, weight: 3, opacity: 0.8, dashArray: held ? null : "6 6", bubblingMouseEvents: false })
            .on("click", open)
            .addTo(group);
        }
        points.forEach(function (latlng, index) {
          L.circleMarker(latlng, { radius: 6, weight: 2, color: colour, fillColor: "#fff", fillOpacity: 1, bubblingMouseEvents: false })
            .bindTooltip(esc(p.title) + " · " + (index + 1))
            .on("click", open)
            .addTo(group);
        });
      });
      return group;
    },

    followups: function (data) {
      return L.geoJSON(data, {
        coordsToLatLng: coordsToLatLng,
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          if (p.cluster) {
            return clusterMarker(f, latlng, "followups");
          }
          var marker = L.marker(latlng, {
            pane: "fwSymbols",
            icon: L.divIcon({
              className: "fw-followup fw-followup-" + p.state,
              html: '<i class="fa-solid fa-rotate-left"></i>',
              iconSize: [24, 24],
            }),
            title: (p.ref || "") + " " + p.title,
          });
          marker.on("click", function () {
            var state = S["followup_" + p.state];
            var detail = p.state === "overdue" ? fmt(S.days_overdue, { n: p.days_overdue }) :
              p.state === "done" ? (S.findings[p.finding] || "") + " · " + (p.done_on || "") : fmt(S.due_on, { d: p.due_on });
            var link = p.issue_id ? pageUrl("issue", p.issue_id) : pageUrl("visit", p.visit_id);
            popupAt(
              latlng,
              "<strong>" + esc(state) + "</strong><br>" + esc((p.ref ? p.ref + " " : "") + p.title) + "<br>" + esc(detail) +
                '<br><a href="' + esc(link) + '">' + esc(S.details) + "</a>",
              { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }
            );
          });
          return marker;
        },
      });
    },
  };

  function villageStyle(p) {
    var colour = p.covered ? "#1a9850" : "#d73027";
    return { color: colour, weight: 1, opacity: 0.8, fillColor: colour, fillOpacity: 0.08, fill: true, bubblingMouseEvents: false };
  }

  function villageHtml(p) {
    return "<strong>" + esc(p.name) + "</strong><br>" + esc(p.township_name || "") + "<br>" + esc(p.covered ? S.covered : S.uncovered);
  }

  // --- a live GeoJSON layer: refetched for the view -------------------------------------
  function LiveLayer(spec) {
    this.spec = spec;
    this.group = L.featureGroup();
    this.request = null;
    this.loadedKey = null;
    this.truncated = false;
    this.hidden = false;
    this.failed = false;
  }

  LiveLayer.prototype.refresh = function () {
    var self = this;
    if (!map.hasLayer(self.group)) {
      return;
    }
    var zoom = map.getZoom();
    if (zoom < self.spec.min_zoom) {
      self.group.clearLayers();
      self.loadedKey = null;
      self.hidden = true;
      updateStatus();
      return;
    }
    self.hidden = false;
    var key = self.spec.url + "?bbox=" + viewBbox() + "&zoom=" + zoom;
    if (key === self.loadedKey) {
      return;
    }
    if (self.request) {
      self.request.abort();
    }
    var controller = new AbortController();
    self.request = controller;
    pending += 1;
    updateStatus();
    fetch(key, { credentials: "same-origin", headers: { Accept: "application/geo+json" }, signal: controller.signal })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload();
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        self.group.clearLayers();
        draw[self.spec.id](data).addTo(self.group);
        self.loadedKey = key;
        self.truncated = Boolean(data.truncated);
        self.failed = false;
        self.loads += 1;
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          self.failed = true;
        }
      })
      .then(function () {
        if (self.request === controller) {
          self.request = null;
        }
        pending -= 1;
        updateStatus();
      });
  };
  LiveLayer.prototype.loads = 0;

  LiveLayer.prototype.count = function () {
    var n = 0;
    this.group.eachLayer(function count(layer) {
      if (layer.eachLayer) {
        layer.eachLayer(count);
      } else {
        n += 1;
      }
    });
    return n;
  };

  // --- a vector-tile layer (villages where the base map is WGS-84 Web Mercator) -----------
  function TileLive(spec) {
    var self = this;
    self.spec = spec;
    self.hidden = false;
    self.truncated = false;
    self.failed = false;
    var styles = {};
    styles[spec.id] = function (properties) {
      return L.extend({ radius: 4 }, villageStyle(properties));
    };
    self.group = L.vectorGrid.protobuf(spec.url, {
      pane: "fwVillages",
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: true,
      minZoom: spec.min_zoom,
      maxNativeZoom: 16,
      fetchOptions: { credentials: "same-origin" },
      getFeatureId: function (f) {
        return f.properties.code;
      },
    });
    self.group.on("click", function (e) {
      L.DomEvent.stop(e);
      popupAt(e.latlng, villageHtml(e.layer.properties));
    });
    self.busy = false;
    self.group.on("loading", function () {
      self.busy = true;
      updateStatus();
    });
    self.group.on("load", function () {
      self.busy = false;
      self.loads += 1;
      updateStatus();
    });
    self.group.on("remove", function () {
      self.busy = false;
    });
  }
  TileLive.prototype.loads = 0;
  TileLive.prototype.refresh = function () {
    this.hidden = map.getZoom() < this.spec.min_zoom && map.hasLayer(this.group);
  };
  TileLive.prototype.count = function () {
    return this.group.getContainer ? this.group.getContainer().querySelectorAll("path").length : 0;
  };

  var pending = 0;
  var layers = {};
  var overlays = {};
  var saved = null;
  try {
    saved = JSON.parse(window.localStorage.getItem(cfg.storage_key) || "null");
  } catch (ignored) {
    saved = null;
  }

  cfg.layers.forEach(function (spec) {
    var live = spec.source === "tiles" && L.vectorGrid ? new TileLive(spec) : new LiveLayer(spec);
    layers[spec.id] = live;
    overlays['<span class="fw-swatch fw-swatch-' + spec.id + '"></span>' + esc(spec.label)] = live.group;
    var on = saved && Object.prototype.hasOwnProperty.call(saved, spec.id) ? saved[spec.id] : spec.on;
    if (on) {
      live.group.addTo(map);
    }
  });

  function busy() {
    return Object.keys(layers).some(function (id) {
      return layers[id].busy && map.hasLayer(layers[id].group);
    });
  }

  function updateStatus() {
    var failed = false;
    var zoomIn = false;
    Object.keys(layers).forEach(function (id) {
      var live = layers[id];
      if (!map.hasLayer(live.group)) {
        return;
      }
      failed = failed || live.failed;
      zoomIn = zoomIn || live.truncated || live.hidden;
    });
    if (pending > 0 || busy()) {
      status.show(S.loading, "info");
    } else if (failed) {
      status.show(S.load_failed, "danger");
    } else if (zoomIn) {
      status.show(S.zoom_in, "info");
    } else {
      status.show("");
    }
  }

  function remember() {
    var state = {};
    Object.keys(layers).forEach(function (id) {
      state[id] = map.hasLayer(layers[id].group);
    });
    try {
      window.localStorage.setItem(cfg.storage_key, JSON.stringify(state));
    } catch (ignored) {
      /* private browsing: the choice is just not remembered */
    }
  }

  L.control.layers(null, overlays, { collapsed: true, position: "topright" }).addTo(map);
  map.on("overlayadd overlayremove", function (e) {
    remember();
    Object.keys(layers).forEach(function (id) {
      if (layers[id].group === e.layer) {
        if (e.type === "overlayadd") {
          layers[id].loadedKey = null;
          layers[id].refresh();
        }
      }
    });
    updateStatus();
  });

  var timer = null;
  function refreshAll() {
    timer = null;
    Object.keys(layers).forEach(function (id) {
      layers[id].refresh();
    });
    updateStatus();
  }
  var moving = false;
  map.on("movestart", function () {
    moving = true;
  });
  map.on("moveend", function () {
    moving = false;
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshAll, 150);
  });

  // --- a click anywhere: the place's history -------------------------------------------
  map.on("click", function (e) {
    var wgs = fromMap(e.latlng);
    popupAt(e.latlng, "<strong>" + esc(S.here) + "</strong> " + wgs.lon.toFixed(5) + ", " + wgs.lat.toFixed(5), wgs);
  });

  // --- legend -----------------------------------------------------------------------------
  var Legend = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () {
      var div = L.DomUtil.create("details", "fw-legend leaflet-bar");
      if (window.matchMedia && window.matchMedia("(min-width: 768px)").matches) {
        div.open = true;
      }
      function row(swatch, label) {
        return "<li>" + swatch + esc(label) + "</li>";
      }
      function dot(colour, extra) {
        return '<i class="fw-dot" style="background:' + colour + ";" + (extra || "") + '"></i>';
      }
      var html = "<summary>" + esc(S.legend) + "</summary><ul>";
      ["reported", "accepted", "in_progress", "resolved"].forEach(function (s) {
        html += row(dot(STATUS_COLOURS[s]), statusLabel(s));
      });
      html += row(dot(STATUS_COLOURS.in_progress, "box-shadow:0 0 0 3px " + OVERDUE), S.overdue);
      html += row(dot(STATUS_COLOURS.in_progress, "box-shadow:0 0 0 3px " + REOPENED), S.reopened);
      html += row('<i class="fw-key fa-solid fa-house-flag"></i>', S.station);
      html += row('<i class="fw-line" style="border-color:#0d6efd;border-style:dashed"></i>', S.visit_planned);
      html += row('<i class="fw-line" style="border-color:#198754"></i>', S.visit_held);
      ["overdue", "due", "done"].forEach(function (s) {
        html += row('<i class="fw-key fa-solid fa-rotate-left" style="color:' + FOLLOWUP_COLOURS[s] + '"></i>', S["followup_" + s]);
      });
      html += "</ul><div class=\"fw-legend-title\">" + esc(S.coverage) + '</div><div class="fw-ramp">';
      COVERAGE.slice().reverse().forEach(function (band) {
        html += '<span style="background:' + band[1] + '">' + (band[0] === 100 ? "100%" : "≥" + band[0] + "%") + "</span>";
      });
      html += '</div><ul><li><i class="fw-dot" style="background:' + NO_DATA + '"></i>' + esc(S.no_villages) + "</li></ul>";
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    },
  });
  new Legend().addTo(map);

  // --- search: places by name, problems by ref ----------------------------------------------
  var marker = null;
  function showResult(item) {
    if (marker) {
      map.removeLayer(marker);
    }
    var at = toMap(item.lon, item.lat);
    if (item.bbox) {
      map.fitBounds(L.latLngBounds(toMap(item.bbox[0], item.bbox[1]), toMap(item.bbox[2], item.bbox[3])), { maxZoom: 16 });
    } else {
      map.setView(at, Math.max(map.getZoom(), 16));
    }
    marker = L.circleMarker(at, { radius: 14, weight: 3, color: "#ffc107", fill: false, className: "fw-found", interactive: false }).addTo(map);
    var link = item.type === "issue" ? pageUrl("issue", item.key) : item.type === "station" ? pageUrl("station", item.key) : null;
    popupAt(
      at,
      '<div class="small text-secondary">' + esc(S.kinds[item.type] || item.type) + "</div><strong>" + esc(item.label) + "</strong>" +
        (link ? '<br><a href="' + esc(link) + '">' + esc(S.details) + "</a>" : ""),
      { lon: item.lon, lat: item.lat }
    );
  }

  var Search = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "fw-search leaflet-bar");
      div.innerHTML =
        '<form role="search" class="d-flex"><input type="search" class="form-control form-control-sm" name="q" autocomplete="off" maxlength="100"' +
        ' placeholder="' + esc(S.search) + '" aria-label="' + esc(S.search) + '">' +
        '<button class="btn btn-sm btn-light" type="submit" title="' + esc(S.search_button) + '" aria-label="' + esc(S.search_button) + '">' +
        '<i class="fa-solid fa-magnifying-glass"></i></button></form><ul class="fw-results list-unstyled mb-0"></ul>';
      var form = div.querySelector("form");
      var input = div.querySelector("input");
      var list = div.querySelector("ul");
      var controller = null;
      var debounce = null;
      function run() {
        var q = input.value.trim();
        if (controller) {
          controller.abort();
        }
        if (!q) {
          list.innerHTML = "";
          return;
        }
        controller = new AbortController();
        fetch(cfg.search_url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", signal: controller.signal })
          .then(function (r) {
            return r.ok ? r.json() : { items: [] };
          })
          .then(function (data) {
            list.innerHTML = "";
            if (!data.items.length) {
              list.innerHTML = '<li class="fw-empty">' + esc(S.no_results) + "</li>";
              return;
            }
            data.items.forEach(function (item) {
              var li = document.createElement("li");
              var button = document.createElement("button");
              button.type = "button";
              button.className = "fw-result";
              button.innerHTML = '<span class="badge text-bg-light">' + esc(S.kinds[item.type] || item.type) + "</span> " + esc(item.label) +
                (item.detail ? ' <small class="text-secondary">' + esc(S.statuses[item.detail] || item.detail) + "</small>" : "");
              button.addEventListener("click", function () {
                list.innerHTML = "";
                showResult(item);
              });
              li.appendChild(button);
              list.appendChild(li);
            });
          })
          .catch(function () {
            /* aborted by the next keystroke, or offline: the list just stays */
          });
      }
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        run();
      });
      input.addEventListener("input", function () {
        window.clearTimeout(debounce);
        debounce = window.setTimeout(run, 300);
      });
      input.addEventListener("keydown", function (e) {
        if (e.key === "Escape") {
          list.innerHTML = "";
        }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      // a chosen result is removed from the list while its click is handled, so the
      // map could not tell the click came from this control: stop it here
      L.DomEvent.on(div, "click", L.DomEvent.stopPropagation);
      return div;
    },
  });
  new Search().addTo(map);

  // --- my location ------------------------------------------------------------------------
  var here = L.layerGroup().addTo(map);
  var Locate = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "leaflet-bar fw-locate");
      var button = L.DomUtil.create("a", "", div);
      button.href = "#";
      button.setAttribute("role", "button");
      button.title = S.my_location;
      button.setAttribute("aria-label", S.my_location);
      button.innerHTML = '<i class="fa-solid fa-location-crosshairs"></i>';
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        L.DomEvent.stopPropagation(e);
        locate();
      });
      return div;
    },
  });
  new Locate().addTo(map);

  function locate() {
    if (!navigator.geolocation) {
      status.show(S.locate_failed, "danger");
      return;
    }
    status.show(S.locating, "info");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var wgs = { lon: position.coords.longitude, lat: position.coords.latitude };
        var at = toMap(wgs.lon, wgs.lat);
        var accuracy = Math.round(position.coords.accuracy || 0);
        here.clearLayers();
        L.circle(at, { radius: accuracy, weight: 1, color: "#0d6efd", fillOpacity: 0.1, interactive: false }).addTo(here);
        L.circleMarker(at, { radius: 7, weight: 3, color: "#fff", fillColor: "#0d6efd", fillOpacity: 1, className: "fw-me" })
          .on("click", function () {
            popupAt(at, "<strong>" + esc(S.my_location) + "</strong><br>" + esc(fmt(S.accuracy, { m: accuracy })), wgs);
          })
          .addTo(here);
        map.setView(at, Math.max(map.getZoom(), 16));
        popupAt(at, "<strong>" + esc(S.my_location) + "</strong><br>" + esc(fmt(S.accuracy, { m: accuracy })), wgs);
        updateStatus();
      },
      function () {
        status.show(S.locate_failed, "danger");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
    );
  }

  // --- for tests and other scripts: what is drawn, and the coordinate shift ------------------
  window.fwMap = {
    map: map,
    layers: layers,
    toMap: toMap,
    fromMap: fromMap,
    /* nothing waiting to be fetched or drawn (a move's refetch is debounced) */
    idle: function () {
      return !moving && timer === null && pending === 0 && !busy();
    },
    counts: function () {
      var out = {};
      Object.keys(layers).forEach(function (id) {
        out[id] = map.hasLayer(layers[id].group) ? layers[id].count() : 0;
      });
      return out;
    },
  };

  refreshAll();
})();
