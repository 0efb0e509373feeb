/* fieldwatch service worker, served at /sw.js (scope: the whole site).

   Keeps the pages people use in the field (the report form, look-back recording) and
   their scripts, styles and fonts on the device, so the form opens with no signal; the
   offline queue (offline-queue.js) keeps what is written there. Never touches the API,
   sign-in or writes: those always go to the network (and the queue retries them).
   The server replaces __VERSION__ with a hash of the static files, so a new release
   installs a fresh cache and drops the old one. */
"use strict";

var VERSION = "__VERSION__";
var STATIC_CACHE = "fw-static-" + VERSION;
var PAGE_CACHE = "fw-pages-" + VERSION;
var PRECACHE = __PRECACHE__;
/* pages kept for offline use (path prefixes); others are always fetched */
var OFFLINE_PAGES = __OFFLINE_PAGES__;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) {
      return Promise.all(PRECACHE.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) {
            return cache.put(url, response);
          }
          return null;
        }).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("fw-") === 0 && key !== STATIC_CACHE && key !== PAGE_CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function offlinePage(url) {
  return OFFLINE_PAGES.some(function (prefix) { return url.pathname.indexOf(prefix) === 0; });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;  // writes go to the network untouched
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    // stale-while-revalidate: the cached copy at once, a fresh one for next time
    event.respondWith(caches.open(STATIC_CACHE).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (cached) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) {
            cache.put(request, response.clone());
          }
          return response;
        });
        if (cached) {
          fresh.catch(function () { return null; });
          return cached;
        }
        return fresh;
      });
    }));
    return;
  }
  if (request.mode === "navigate" && url.pathname === "/login") {
    // signed out (or the session ended): pages kept for offline use show names; drop them
    event.waitUntil(forgetPages());
    return;
  }
  if (request.mode === "navigate" && offlinePage(url)) {
    // network first; the last good copy when there is no network
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(PAGE_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      // the last visit's copy, else the one fetched when the worker was installed
      return caches.match(request, { ignoreSearch: true }).then(function (cached) {
        return cached || Response.error();
      });
    }));
  }
  // everything else (API, photos, other pages): the browser's own fetch
});

function forgetPages() {
  return caches.delete(PAGE_CACHE).then(function () {
    return caches.open(STATIC_CACHE);
  }).then(function (cache) {
    return Promise.all(PRECACHE.filter(function (u) { return u.indexOf("/static/") !== 0; })
      .map(function (u) { return cache.delete(u); }));
  });
}

self.addEventListener("message", function (event) {
  if (event.data === "forget") {
    event.waitUntil(forgetPages());
  }
});
