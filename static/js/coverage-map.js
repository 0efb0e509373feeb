/* The coverage page: fetch the villages in view (covered / uncovered) onto the folium
   choropleth, and the print button. Markup: <div data-coverage-map data-map="map_…"
   data-townships="geo_json_…" data-villages-url="/coverage/villages.geojson?as_of=…">. */
(function () {
  "use strict";

  var COVERED = "#1a9850";
  var UNCOVERED = "#d73027";

  var printButton = document.getElementById("print-page");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }

  var box = document.querySelector("[data-coverage-map]");
  if (!box || typeof L === "undefined") {
    return;
  }
  var map = window[box.dataset.map];
  var townships = window[box.dataset.townships];
  var toggle = document.getElementById("show-villages");
  if (!map) {
    return;
  }

  function colour(feature) {
    return feature.properties.covered ? COVERED : UNCOVERED;
  }

  function label(p) {
    var text = p.name + " · " + (p.covered ? box.dataset.labelCovered : box.dataset.labelUncovered);
    if (p.visited) {
      text += " · " + box.dataset.labelVisited;
    }
    return text;
  }

  var villages = L.geoJSON(null, {
    style: function (feature) {
      return {
        color: "#ffffff", weight: 0.8, fillColor: colour(feature), fillOpacity: 0.55,
        className: feature.properties.covered ? "village-covered" : "village-uncovered"
      };
    },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, {
        radius: 6, color: "#333333", weight: 1, fillColor: colour(feature), fillOpacity: 0.9,
        className: feature.properties.covered ? "village-covered" : "village-uncovered"
      });
    },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(label(feature.properties));
    }
  });

  var pending = null;
  var timer = null;

  function load() {
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(5); });
    bbox[1] = Math.max(-90, bbox[1]);
    bbox[3] = Math.min(90, bbox[3]);
    var url = box.dataset.villagesUrl + (box.dataset.villagesUrl.indexOf("?") < 0 ? "?" : "&") +
      "bbox=" + bbox.join(",");
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: pending.signal })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) {
          return;
        }
        villages.clearLayers();
        villages.addData(data);
        box.dataset.villagesLoaded = String(data.features.length);
      })
      .catch(function () { /* aborted by a newer view, or offline: keep what is shown */ });
  }

  function show(on) {
    if (on) {
      villages.addTo(map);
      if (townships) {
        townships.setStyle({ fillOpacity: 0, weight: 2.5, color: "#222222" });
      }
      load();
    } else {
      map.removeLayer(villages);
      if (townships) {
        townships.eachLayer(function (layer) { townships.resetStyle(layer); });
      }
    }
  }

  map.on("moveend", function () {
    if (!map.hasLayer(villages)) {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(load, 250);
  });
  if (toggle) {
    toggle.addEventListener("change", function () { show(toggle.checked); });
  }
  show(!toggle || toggle.checked);
})();
