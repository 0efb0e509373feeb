/* The phone report form (/issues/new): location from the phone, a photo or the map;
   live possible duplicates; everything sent through the offline queue, so nothing is lost
   when there is no signal. Without JavaScript the same form posts to the server. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  var configNode = document.getElementById("report-config");
  if (!form || !configNode || typeof L === "undefined") {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var t = config.messages;
  var $ = function (id) { return document.getElementById(id); };
  var lonInput = form.elements.lon;
  var latInput = form.elements.lat;
  var accuracyInput = form.elements.accuracy_m;
  var sourceInput = form.elements.location_source;
  var fixBadge = $("fix-status");
  var chosen = [];  // the photos picked so far (several picks add up)
  var exifPoint = null;
  var source = null;  // gps | exif | manual
  var watchId = null;

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(config.worker).catch(function () { /* pages still work */ });
  }
  if (window.FieldwatchQueue) {
    FieldwatchQueue.configure({ user: config.user });
    FieldwatchQueue.mount($("outbox"), t.outbox);
  }
  function newClientId() {
    form.elements.client_id.value = window.FieldwatchQueue ? FieldwatchQueue.newClientId() : "";
  }
  if (!form.elements.client_id.value) {
    newClientId();
  }

  /* ---- the map and the pin ---- */
  var mapBox = $("report-map");
  var made = FieldwatchMap.create(mapBox, config.map, { bounds: config.bounds });
  var map = made.map;
  var pin = null;
  var ring = null;

  function round(v) { return Math.round(v * 1e7) / 1e7; }

  function setPoint(lat, lon, how, accuracy, pan) {
    source = how;
    lonInput.value = round(lon);
    latInput.value = round(lat);
    sourceInput.value = how;
    accuracyInput.value = accuracy != null ? Math.round(accuracy * 10) / 10 : "";
    var where = made.show(lat, lon);
    if (!pin) {
      pin = L.marker(where, { draggable: true, autoPan: true, title: t.pin }).addTo(map);
      pin.on("dragend", function () {
        var p = made.toWgs(pin.getLatLng());
        stopWatching();
        setPoint(p.lat, p.lon, "manual", null, false);
      });
    } else {
      pin.setLatLng(where);
    }
    if (ring) {
      map.removeLayer(ring);
      ring = null;
    }
    if (accuracy) {
      ring = L.circle(where, { radius: accuracy, weight: 1, fillOpacity: 0.08, interactive: false }).addTo(map);
    }
    if (pan) {
      // with no base map, stay far enough out to see the village outlines
      var close = (config.map.layers || []).length ? 17 : 15;
      map.setView(where, Math.max(map.getZoom(), accuracy && accuracy > 100 ? 15 : close));
    }
    clearError("lon");
    clearError("lat");
    FieldwatchMap.outlines(made, config.map, lat, lon);
    showFix();
    lookForDuplicates();
  }

  function showFix() {
    var acc = parseFloat(accuracyInput.value);
    var cls = "text-bg-secondary";
    var text = t.noFix;
    if (source === "gps" && isFinite(acc)) {
      if (acc <= 10) { cls = "text-bg-success"; text = t.good; }
      else if (acc <= 100) { cls = "text-bg-warning"; text = t.acceptable; }
      else { cls = "text-bg-danger"; text = t.poor; }
      text += " ±" + Math.round(acc) + " m";
    } else if (source === "exif") {
      cls = "text-bg-info"; text = t.fromPhoto;
    } else if (source === "manual") {
      cls = "text-bg-primary"; text = t.manual;
    }
    fixBadge.className = "badge " + cls;
    fixBadge.textContent = text;
    fixBadge.dataset.quality = source === "gps" ? (acc <= 10 ? "good" : acc <= 100 ? "acceptable" : "poor") : (source || "none");
    offerExif();
  }

  map.on("click", function (event) {
    if (source === "gps") {
      return;  // with a fix, drag the pin to correct it
    }
    var p = made.toWgs(event.latlng);
    stopWatching();
    setPoint(p.lat, p.lon, "manual", null, false);
  });

  function stopWatching() {
    if (watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
  }

  function locate() {
    if (!navigator.geolocation) {
      fixBadge.textContent = t.noGeolocation;
      return;
    }
    stopWatching();
    fixBadge.className = "badge text-bg-secondary";
    fixBadge.textContent = t.locating;
    watchId = navigator.geolocation.watchPosition(function (pos) {
      if (source === "manual" || source === "exif") {
        return;  // the member placed it: keep it
      }
      setPoint(pos.coords.latitude, pos.coords.longitude, "gps", pos.coords.accuracy, source !== "gps");
    }, function (error) {
      if (source === null) {
        fixBadge.className = "badge text-bg-danger";
        fixBadge.textContent = (error.code === 1 ? t.denied : t.noFix) + " — " + t.tapMap;
        offerExif();
      }
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
    setTimeout(stopWatching, 120000);  // two minutes is enough; save the battery
  }
  $("locate-again").addEventListener("click", function () {
    source = null;
    locate();
  });
  locate();

  if (latInput.value && lonInput.value) {
    var lat0 = parseFloat(latInput.value);
    var lon0 = parseFloat(lonInput.value);
    if (isFinite(lat0) && isFinite(lon0)) {
      setPoint(lat0, lon0, sourceInput.value || "manual", parseFloat(accuracyInput.value) || null, true);
    }
  }
  [lonInput, latInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var lat = parseFloat(latInput.value);
      var lon = parseFloat(lonInput.value);
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        stopWatching();
        setPoint(lat, lon, "manual", null, true);
      }
    });
  });

  /* ---- photos ---- */
  var photoInput = form.elements.photos;
  var previews = $("photo-previews");
  var exifButton = $("use-exif");

  function renderPhotos() {
    previews.innerHTML = "";
    chosen.forEach(function (file, index) {
      var box = document.createElement("div");
      box.className = "fw-photo-preview";
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-light";
      remove.setAttribute("aria-label", t.removePhoto);
      remove.innerHTML = "&times;";
      remove.addEventListener("click", function () {
        chosen.splice(index, 1);
        renderPhotos();
      });
      box.appendChild(img);
      box.appendChild(remove);
      previews.appendChild(box);
    });
    $("photo-count").textContent = chosen.length ? t.photoCount.replace("{n}", chosen.length) : "";
  }

  function offerExif() {
    var show = exifPoint && source !== "gps" && source !== "exif";
    exifButton.classList.toggle("d-none", !show);
  }

  photoInput.addEventListener("change", function () {
    var files = Array.prototype.slice.call(photoInput.files || []);
    files.forEach(function (f) { chosen.push(f); });
    photoInput.value = "";  // the next pick adds to these
    clearError("photos");
    renderPhotos();
    if (!exifPoint && window.FieldwatchExif) {
      files.reduce(function (p, file) {
        return p.then(function (found) { return found || FieldwatchExif.readGps(file); });
      }, Promise.resolve(null)).then(function (point) {
        if (point) {
          exifPoint = point;
          offerExif();
        }
      });
    }
  });
  exifButton.addEventListener("click", function () {
    if (exifPoint) {
      stopWatching();
      setPoint(exifPoint.lat, exifPoint.lon, "exif", null, true);
    }
  });

  /* ---- possible duplicates ---- */
  var dupBox = $("duplicates");
  var dupList = $("duplicate-list");
  var dupTimer = null;
  var dupTarget = null;

  function lookForDuplicates() {
    clearTimeout(dupTimer);
    dupTimer = setTimeout(function () {
      var lon = lonInput.value;
      var lat = latInput.value;
      var category = form.elements.category.value;
      if (!lon || !lat || !navigator.onLine) {
        return;
      }
      var url = config.nearby + "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat) +
        (category ? "&category=" + encodeURIComponent(category) : "") + "&limit=5";
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(showDuplicates, function () { /* offline: no hints */ });
    }, 500);
  }
  form.elements.category.addEventListener("change", function () {
    clearError("category");
    lookForDuplicates();
  });

  function showDuplicates(data) {
    var features = (data && data.features) || [];
    dupList.innerHTML = "";
    dupBox.classList.toggle("d-none", !features.length);
    features.forEach(function (f) {
      var p = f.properties;
      var li = document.createElement("li");
      li.className = "list-group-item d-flex gap-2 align-items-center fw-duplicate";
      li.dataset.issueId = String(p.id);
      if (p.thumb_url) {
        var img = document.createElement("img");
        img.src = p.thumb_url;
        img.alt = "";
        img.className = "fw-dup-thumb";
        li.appendChild(img);
      }
      var text = document.createElement("div");
      text.className = "flex-grow-1 small";
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.title;
      link.target = "_blank";
      var meta = document.createElement("div");
      meta.className = "text-secondary";
      meta.textContent = p.ref + " · " + (t.statuses[p.status] || p.status) + " · " + t.distance.replace("{n}", Math.round(p.distance_m));
      text.appendChild(link);
      text.appendChild(meta);
      var add = document.createElement("button");
      add.type = "button";
      add.className = "btn btn-sm btn-outline-primary text-nowrap";
      add.textContent = t.addThere;
      add.addEventListener("click", function () { openAddThere(p); });
      li.appendChild(text);
      li.appendChild(add);
      dupList.appendChild(li);
    });
  }

  var addPanel = $("add-there");
  function openAddThere(p) {
    dupTarget = p;
    $("add-there-title").textContent = p.ref + " " + p.title;
    var note = [form.elements.title.value, form.elements.description.value].filter(Boolean).join("\n");
    $("add-there-note").value = note;
    $("add-there-photos").textContent = chosen.length ? t.photoCount.replace("{n}", chosen.length) : t.noPhotos;
    addPanel.classList.remove("d-none");
    addPanel.scrollIntoView({ behavior: "smooth", block: "center" });
  }
  $("add-there-cancel").addEventListener("click", function () {
    addPanel.classList.add("d-none");
    dupTarget = null;
  });
  $("add-there-send").addEventListener("click", function () {
    var note = $("add-there-note").value.trim();
    if (!dupTarget || (!note && !chosen.length)) {
      $("add-there-note").classList.add("is-invalid");
      return;
    }
    var base = config.api + "/" + dupTarget.id;
    var label = dupTarget.ref;
    var link = dupTarget.url;
    var writes = [];
    if (note) {
      writes.push(FieldwatchQueue.enqueue("comment", base + "/comments", { note: note }, [], { label: t.commentOn + " " + label, link: link }));
    }
    chosen.forEach(function (file) {
      writes.push(FieldwatchQueue.enqueue("photo", base + "/photos", {}, [{ field: "photo", blob: file, filename: file.name }], { label: t.photoFor + " " + label, link: link }));
    });
    var button = this;
    button.disabled = true;
    Promise.all(writes).then(function () {
      return FieldwatchQueue.sendNow();
    }).then(function (counts) {
      button.disabled = false;
      if (counts && counts.waiting === 0 && counts.failed === 0) {
        window.location.href = link;
      } else {
        resetForm(t.queuedThere);
      }
    }, function () {
      button.disabled = false;
    });
  });

  /* ---- errors on the fields ---- */
  function fieldBox(name) {
    var input = form.elements[name];
    return input && (input.closest(".mb-3") || input.parentNode);
  }
  function clearError(name) {
    var box = fieldBox(name);
    if (!box) {
      return;
    }
    box.querySelectorAll(".invalid-feedback[data-js]").forEach(function (n) { n.remove(); });
    var input = form.elements[name];
    if (input && input.classList) {
      input.classList.remove("is-invalid");
    }
  }
  function showErrors(errors) {
    var first = null;
    Object.keys(errors || {}).forEach(function (name) {
      var target = name === "photo" ? "photos" : name;
      var box = fieldBox(target) || $("form-errors");
      clearError(target);
      [].concat(errors[name]).forEach(function (message) {
        var div = document.createElement("div");
        div.className = "invalid-feedback d-block";
        div.dataset.js = "1";
        div.dataset.field = target;
        div.textContent = message;
        box.appendChild(div);
      });
      if (form.elements[target] && form.elements[target].classList) {
        form.elements[target].classList.add("is-invalid");
      }
      if (target === "lon" || target === "lat") {
        $("coords").open = true;
      }
      first = first || box;
    });
    if (first) {
      first.scrollIntoView({ behavior: "smooth", block: "center" });
    }
  }

  function checkHere() {
    var errors = {};
    if (!form.elements.category.value) { errors.category = [t.needCategory]; }
    if (!form.elements.title.value.trim()) { errors.title = [t.needTitle]; }
    if (!lonInput.value || !latInput.value) { errors.lon = [t.needPlace]; }
    return errors;
  }

  /* ---- send ---- */
  var status = $("report-status");
  function say(message, kind) {
    status.className = "alert alert-" + kind;
    status.textContent = message;
    status.classList.remove("d-none");
  }

  function resetForm(message) {
    var keepLon = lonInput.value;
    var keepLat = latInput.value;
    form.elements.title.value = "";
    form.elements.description.value = "";
    chosen = [];
    renderPhotos();
    addPanel.classList.add("d-none");
    newClientId();
    lonInput.value = keepLon;
    latInput.value = keepLat;
    say(message, "info");
    status.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  form.addEventListener("submit", function (event) {
    if (!window.FieldwatchQueue || !window.indexedDB) {
      return;  // the server handles the plain form
    }
    event.preventDefault();
    var errors = checkHere();
    if (Object.keys(errors).length) {
      showErrors(errors);
      return;
    }
    var submit = $("report-submit");
    submit.disabled = true;
    var fields = {
      title: form.elements.title.value.trim(),
      category: form.elements.category.value,
      description: form.elements.description.value.trim(),
      lon: lonInput.value,
      lat: latInput.value,
      accuracy_m: accuracyInput.value,
      location_source: sourceInput.value || "manual",
      observed_at: new Date().toISOString(),
      client_id: form.elements.client_id.value || FieldwatchQueue.newClientId(),
    };
    var files = chosen.map(function (file) { return { field: "photos", blob: file, filename: file.name }; });
    FieldwatchQueue.enqueue("issue", config.api, fields, files, { label: fields.title }).then(function (id) {
      return FieldwatchQueue.send(id).then(function (item) {
        submit.disabled = false;
        if (item && item.state === "sent") {
          say(t.sent, "success");
          var url = item.result && item.result.properties && item.result.properties.url;
          window.location.href = url || config.list;
        } else if (item && item.state === "failed") {
          // the member is here to fix it: show the errors, and keep nothing half-sent
          FieldwatchQueue.remove(id);
          showErrors(item.errors && Object.keys(item.errors).length ? item.errors : { _schema: [item.message] });
          say(item.message, "danger");
        } else {
          resetForm(item && item.status === 401 ? t.signIn : t.queued);
        }
      });
    }).catch(function () {
      submit.disabled = false;
      form.submit();  // no IndexedDB after all: the plain form
    });
  });
})();
