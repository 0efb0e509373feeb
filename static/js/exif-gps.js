/* Read the GPS point from a JPEG's EXIF in the browser (no library, no network).

   FieldwatchExif.readGps(file) -> Promise<{lat, lon} | null>
   Only the first 256 KB are read: the EXIF block sits at the start of the file. Android
   browsers often strip GPS from picked photos, so this is a hint, never required. */
(function () {
  "use strict";

  function gpsFrom(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) {
      return null;
    }
    var offset = 2;
    while (offset + 4 <= view.byteLength) {
      var marker = view.getUint16(offset);
      var size = view.getUint16(offset + 2);
      if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) {  // "Exif"
        return parseTiff(view, offset + 10);
      }
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) {
        return null;  // start of image data: no EXIF
      }
      offset += 2 + size;
    }
    return null;
  }

  function parseTiff(view, start) {
    var order = view.getUint16(start);
    var little = order === 0x4949;
    if (!little && order !== 0x4d4d) {
      return null;
    }
    function u16(at) { return view.getUint16(start + at, little); }
    function u32(at) { return view.getUint32(start + at, little); }
    function entries(ifd) {
      var out = {};
      var count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var at = ifd + 2 + i * 12;
        out[u16(at)] = { type: u16(at + 2), count: u32(at + 4), value: at + 8 };
      }
      return out;
    }
    function ascii(entry) {
      var at = entry.count <= 4 ? entry.value : u32(entry.value);
      return String.fromCharCode(view.getUint8(start + at));
    }
    function rationals(entry) {
      var at = u32(entry.value);
      var out = [];
      for (var i = 0; i < entry.count; i++) {
        var den = u32(at + i * 8 + 4);
        out.push(den ? u32(at + i * 8) / den : NaN);
      }
      return out;
    }
    try {
      var ifd0 = entries(u32(4));
      if (!ifd0[0x8825]) {
        return null;
      }
      var gps = entries(u32(ifd0[0x8825].value));
      if (!gps[2] || !gps[4]) {
        return null;
      }
      var la = rationals(gps[2]);
      var lo = rationals(gps[4]);
      var lat = la[0] + (la[1] || 0) / 60 + (la[2] || 0) / 3600;
      var lon = lo[0] + (lo[1] || 0) / 60 + (lo[2] || 0) / 3600;
      if (gps[1] && ascii(gps[1]) === "S") { lat = -lat; }
      if (gps[3] && ascii(gps[3]) === "W") { lon = -lon; }
      if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180 || (lat === 0 && lon === 0)) {
        return null;
      }
      return { lat: lat, lon: lon };
    } catch (e) {
      return null;  // a damaged block: no hint
    }
  }

  function readGps(file) {
    if (!file || !/jpe?g$/i.test(file.type || file.name || "")) {
      return Promise.resolve(null);
    }
    var part = file.slice(0, 256 * 1024);
    var read = part.arrayBuffer ? part.arrayBuffer() : new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(part);
    });
    return read.then(gpsFrom, function () { return null; });
  }

  window.FieldwatchExif = { readGps: readGps, gpsFromBuffer: gpsFrom };
})();
