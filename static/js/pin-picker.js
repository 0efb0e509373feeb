/* Place a point on a folium map: a click (or "use my location") sets the lon/lat inputs,
   typing in them moves the pin. Markup: <div data-pin-picker data-map="map_…"
   data-lon="#lon" data-lat="#lat">…folium div…</div>. No inline script needed. */
(function () {
  "use strict";

  function round(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  function setUp(box) {
    var map = window[box.dataset.map];
    var lonInput = document.querySelector(box.dataset.lon);
    var latInput = document.querySelector(box.dataset.lat);
    if (!map || !lonInput || !latInput || typeof L === "undefined") {
      return;
    }
    var pin = null;

    function place(lat, lon, pan) {
      var where = L.latLng(lat, lon);
      if (pin) {
        pin.setLatLng(where);
      } else {
        pin = L.marker(where, { draggable: true, title: "pin" }).addTo(map);
        pin.on("dragend", function () {
          var p = pin.getLatLng();
          fill(p.lat, p.lng);
        });
      }
      if (pan) {
        map.setView(where, Math.max(map.getZoom(), 15));
      }
    }

    function fill(lat, lon) {
      lonInput.value = round(lon);
      latInput.value = round(lat);
      lonInput.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function fromInputs(pan) {
      var lon = parseFloat(lonInput.value);
      var lat = parseFloat(latInput.value);
      if (isFinite(lon) && isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
        place(lat, lon, pan);
      }
    }

    map.on("click", function (event) {
      place(event.latlng.lat, event.latlng.lng, false);
      fill(event.latlng.lat, event.latlng.lng);
    });
    lonInput.addEventListener("input", function () { fromInputs(true); });
    latInput.addEventListener("input", function () { fromInputs(true); });
    fromInputs(false);
    box.classList.add("pin-picker-ready");

    var locate = document.getElementById("use-my-location");
    if (locate && navigator.geolocation && window.isSecureContext) {
      locate.classList.remove("d-none");
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(
          function (pos) {
            place(pos.coords.latitude, pos.coords.longitude, true);
            fill(pos.coords.latitude, pos.coords.longitude);
          },
          function () { locate.classList.add("btn-outline-danger"); },
          { enableHighAccuracy: true, timeout: 15000 }
        );
      });
    }
  }

  document.querySelectorAll("[data-pin-picker]").forEach(setUp);
})();
