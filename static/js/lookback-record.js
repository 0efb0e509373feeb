/* Recording a look-back (回头看) on a phone: /followups/<id>.

   - watches the browser's position and shows its accuracy and the distance to the
     place to check (the problem, or a visit's nearest stop), live, with "on site" or
     "off site" as the server will reckon it (ONSITE_DISTANCE_M, default 200 m);
   - marks the inspector on the page's folium map;
   - sends the record through the offline queue (offline-queue.js): one item for the
     record (JSON, with a client_id) and, once it is accepted or waiting, one item per
     photo. With no signal both wait on the device ("待上传") and go when it returns; a
     refusal from the server (409, 422) is shown here and nothing is kept;
   - without IndexedDB it posts the record directly; without JavaScript the form posts
     to the page itself. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("lookback-config").textContent);
  var M = config.messages;
  var card = document.getElementById("position-card");
  var form = document.getElementById("record-form");
  if (!card || !form) {
    return;
  }
  var targets = JSON.parse(card.getAttribute("data-targets") || "[]");
  var onsiteM = Number(card.getAttribute("data-onsite-m")) || 200;
  var text = document.getElementById("position-text");
  var detail = document.getElementById("position-detail");
  var badge = document.getElementById("onsite-badge");
  var errorBox = document.getElementById("record-error");
  var queuedBox = document.getElementById("record-queued");
  var submit = document.getElementById("record-submit");
  var position = null;
  var watchId = null;
  var me = null;
  var meCircle = null;
  var Q = window.FieldwatchQueue;
  // one client_id per page: a resend after a lost answer is recognised by the server
  var clientId = form.elements.client_id.value || newClientId();
  form.elements.client_id.value = clientId;

  function newClientId() {
    if (Q) {
      return Q.newClientId();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function format(template, value) {
    return template.replace("%(m)s", value);
  }

  /* the geodesic distance is the server's business; haversine is within 0.5 % here */
  function metres(a, b) {
    var rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad;
    var dLon = (b.lon - a.lon) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function nearest(here) {
    var best = null;
    targets.forEach(function (t) {
      var d = metres(here, t);
      if (best === null || d < best) {
        best = d;
      }
    });
    return best;
  }

  function mapObject() {
    return config.map ? window[config.map] : null;
  }

  function show(pos) {
    position = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy };
    form.elements.lon.value = position.lon.toFixed(7);
    form.elements.lat.value = position.lat.toFixed(7);
    form.elements.accuracy_m.value = Math.round(position.accuracy * 10) / 10;
    var distance = nearest(position);
    text.textContent = distance === null ? "" : format(M.distance, Math.round(distance));
    detail.textContent = format(M.accuracy, Math.round(position.accuracy));
    var onSite = distance !== null && distance <= onsiteM;
    badge.hidden = false;
    badge.textContent = onSite ? M.on_site : M.off_site;
    badge.className = "badge " + (onSite ? "text-bg-success" : "text-bg-warning");
    card.setAttribute("data-distance", distance === null ? "" : String(Math.round(distance)));
    var map = mapObject();
    if (map && window.L) {
      var latlng = [position.lat, position.lon];
      if (!me) {
        meCircle = L.circle(latlng, { radius: position.accuracy, weight: 1, color: "#0d6efd", fillOpacity: 0.1 }).addTo(map);
        me = L.circleMarker(latlng, { radius: 7, weight: 2, color: "#fff", fillColor: "#0d6efd", fillOpacity: 1 }).addTo(map);
        var group = [latlng].concat(targets.map(function (t) { return [t.lat, t.lon]; }));
        map.fitBounds(group, { padding: [24, 24], maxZoom: 17 });
      } else {
        me.setLatLng(latlng);
        meCircle.setLatLng(latlng).setRadius(position.accuracy);
      }
    }
  }

  function fail(error) {
    if (position) {
      return;  // keep the last good fix
    }
    text.textContent = error && error.code === 1 ? M.denied : M.no_geo;
    detail.textContent = M.no_position;
    badge.hidden = false;
    badge.textContent = M.off_site;
    badge.className = "badge text-bg-warning";
  }

  function locate() {
    if (!navigator.geolocation) {
      fail(null);
      return;
    }
    text.textContent = M.locating;
    if (watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
    }
    watchId = navigator.geolocation.watchPosition(show, fail, {
      enableHighAccuracy: true, maximumAge: 5000, timeout: 30000,
    });
  }

  function showError(message, errors) {
    var lines = [message || M.failed];
    Object.keys(errors || {}).forEach(function (key) {
      lines.push([].concat(errors[key]).join(" "));
    });
    errorBox.textContent = lines.join(" — ");
    errorBox.classList.remove("d-none");
  }

  function payload() {
    var checked = form.querySelector("input[name=finding]:checked");
    var satisfaction = form.querySelector("input[name=satisfaction]:checked");
    return {
      finding: checked ? checked.value : null,
      satisfaction: satisfaction ? satisfaction.value : null,
      note: form.elements.note.value || null,
      lon: position ? position.lon : null,
      lat: position ? position.lat : null,
      accuracy_m: position ? Math.round(position.accuracy * 10) / 10 : null,
      client_id: clientId,
    };
  }

  function photoFiles() {
    var input = form.elements.photos;
    return input && input.files ? Array.prototype.slice.call(input.files) : [];
  }

  function done() {
    window.location.assign(form.getAttribute("data-done-url"));
  }

  function queuePhotos(label) {
    var photoApi = form.getAttribute("data-photo-api");
    return photoFiles().reduce(function (chain, file, index) {
      return chain.then(function () {
        return Q.enqueue("photo", photoApi, {}, [{ field: "photo", blob: file, filename: file.name || ("photo" + index + ".jpg") }],
          { label: label + " · " + (index + 1) });
      });
    }, Promise.resolve());
  }

  function viaQueue(body) {
    var label = form.getAttribute("data-title");
    var api = form.getAttribute("data-api");
    return Q.enqueue("lookback", api, body, [], { label: label, link: form.getAttribute("data-done-url") })
      .then(function (id) {
        return Q.send(id).then(function (item) {
          if (item.state === "failed") {
            // refused (already recorded, not awaiting, invalid): nothing to keep
            return Q.remove(id).then(function () {
              showError(item.message && item.result ? item.result.message : item.message, item.result && item.result.errors);
              submit.disabled = false;
            });
          }
          return queuePhotos(label).then(function () {
            if (item.state === "sent") {
              return Q.sendNow().then(done, done);
            }
            queuedBox.textContent = M.queued;
            queuedBox.classList.remove("d-none");
            submit.disabled = true;
            return null;
          });
        });
      });
  }

  function direct(body) {
    return fetch(form.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          showError(data.message, data.errors);
          submit.disabled = false;
          return null;
        }
        var photoApi = form.getAttribute("data-photo-api");
        return photoFiles().reduce(function (chain, file) {
          return chain.then(function () {
            var data = new FormData();
            data.append("photo", file, file.name);
            data.append("client_id", newClientId());
            return fetch(photoApi, { method: "POST", credentials: "same-origin", body: data });
          });
        }, Promise.resolve()).then(done);
      });
    }, function () {
      showError(M.failed);
      submit.disabled = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.classList.add("d-none");
    var body = payload();
    if (!body.finding) {
      showError(M.choose);
      return;
    }
    submit.disabled = true;
    submit.textContent = M.sending;
    var go = function (queueWorks) {
      return queueWorks ? viaQueue(body) : direct(body);
    };
    (Q ? Q.available() : Promise.resolve(false)).then(go).catch(function (error) {
      showError(error && error.message);
      submit.disabled = false;
    }).then(function () {
      submit.innerHTML = submit.getAttribute("data-label") || submit.innerHTML;
    });
  });
  submit.setAttribute("data-label", submit.innerHTML);

  document.getElementById("locate").addEventListener("click", locate);
  locate();
  var outbox = document.getElementById("lookback-outbox");
  if (Q && outbox) {
    Q.mount(outbox, config.queue || {});
  }
  if (config.sw && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.sw).catch(function () { /* pages still work online */ });
  }
})();
