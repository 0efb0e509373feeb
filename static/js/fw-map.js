/* A small Leaflet map on our pages, from static/ only: the configured base map (none, a
   tile server, Tianditu or AMap in GCJ-02), and helpers that keep stored coordinates in
   WGS-84 whatever the tiles use.

   FieldwatchMap.create(element, config, options) -> {map, show(lat, lon) -> L.LatLng,
       toWgs(latlng) -> {lat, lon}}
     config:  {layers: [{url, attribution, subdomains, max_zoom}], gcj02: bool}
     options: {bounds: [minlon, minlat, maxlon, maxlat], zoom, centre: [lon, lat]}
   Elements with data-fw-point='{"lon":..,"lat":..,"accuracy":..}' and
   data-fw-config='{...}' get a read-only map with that point (detail pages).
   FieldwatchMap.outlines(made, config, lat, lon): with no base map, draws the village
   outlines around a point (config.outlines: the OGC items URL of the villages layer). */
(function () {
  "use strict";

  function shift(config) {
    return Boolean(config && config.gcj02 && window.gcoord);
  }

  function create(element, config, options) {
    config = config || { layers: [] };
    options = options || {};
    var map = L.map(element, { zoomControl: true, attributionControl: true, tap: true });
    (config.layers || []).forEach(function (layer) {
      L.tileLayer(layer.url, {
        attribution: layer.attribution || "",
        subdomains: layer.subdomains || "abc",
        maxZoom: layer.max_zoom || 18,
      }).addTo(map);
    });
    if (!(config.layers || []).length) {
      element.classList.add("fw-map-blank");
    }
    L.control.scale({ imperial: false }).addTo(map);

    function show(lat, lon) {
      if (shift(config)) {
        var p = window.gcoord.transform([lon, lat], window.gcoord.WGS84, window.gcoord.GCJ02);
        return L.latLng(p[1], p[0]);
      }
      return L.latLng(lat, lon);
    }

    function toWgs(latlng) {
      if (shift(config)) {
        var p = window.gcoord.transform([latlng.lng, latlng.lat], window.gcoord.GCJ02, window.gcoord.WGS84);
        return { lat: p[1], lon: p[0] };
      }
      return { lat: latlng.lat, lon: latlng.lng };
    }

    if (options.centre) {
      map.setView(show(options.centre[1], options.centre[0]), options.zoom || 16);
    } else if (options.bounds) {
      var b = options.bounds;
      map.fitBounds(L.latLngBounds(show(b[1], b[0]), show(b[3], b[2])));
    } else {
      map.setView([30.66, 104.06], 11);
    }
    return { map: map, show: show, toWgs: toWgs };
  }

  /* With no base map, draw the village and community outlines around a point, so that
     people can still see where they are (fetched once per neighbourhood; offline: none). */
  function outlines(made, config, lat, lon) {
    if (!config || !config.outlines || (config.layers || []).length) {
      return;
    }
    var last = made._outlinedAt;
    if (last && Math.abs(last[0] - lat) < 0.008 && Math.abs(last[1] - lon) < 0.01) {
      return;
    }
    made._outlinedAt = [lat, lon];
    var bbox = [lon - 0.025, lat - 0.02, lon + 0.025, lat + 0.02].map(function (v) { return v.toFixed(5); }).join(",");
    fetch(config.outlines + "?bbox=" + bbox + "&limit=200", {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json" },
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data || !data.features) {
        return;
      }
      if (made._outlines) {
        made.map.removeLayer(made._outlines);
      }
      var group = L.layerGroup();
      data.features.forEach(function (f) {
        var p = f.properties || {};
        if (f.geometry) {
          var shape = L.geoJSON(f, {
            coordsToLatLng: function (c) { return made.show(c[1], c[0]); },
            style: { color: "#0d6efd", weight: 1, fillOpacity: 0.03, interactive: false },
          });
          shape.bindTooltip(p.name || "", { permanent: true, direction: "center", className: "fw-area-label" });
          group.addLayer(shape);
        } else if (p.office_lat != null && p.office_lon != null) {
          group.addLayer(L.circleMarker(made.show(p.office_lat, p.office_lon), { radius: 4, weight: 1, color: "#0d6efd", interactive: false })
            .bindTooltip(p.name || "", { permanent: true, direction: "right", className: "fw-area-label" }));
        }
      });
      made._outlines = group.addTo(made.map);
    }, function () { /* offline: no outlines */ });
  }

  function readOnly(element) {
    var point = JSON.parse(element.dataset.fwPoint);
    var config = JSON.parse(element.dataset.fwConfig || "{}");
    var made = create(element, config, { centre: [point.lon, point.lat], zoom: 17 });
    var where = made.show(point.lat, point.lon);
    outlines(made, config, point.lat, point.lon);
    L.marker(where, { title: point.title || "" }).addTo(made.map);
    if (point.accuracy) {
      L.circle(where, { radius: point.accuracy, weight: 1, fillOpacity: 0.1 }).addTo(made.map);
    }
    (point.others || []).forEach(function (o) {
      L.circleMarker(made.show(o.lat, o.lon), { radius: 6, color: "#fd7e14", weight: 2 })
        .bindTooltip(o.label || "").addTo(made.map);
    });
  }

  window.FieldwatchMap = { create: create, outlines: outlines };
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") {
      return;
    }
    document.querySelectorAll("[data-fw-point]").forEach(readOnly);
  });
})();
