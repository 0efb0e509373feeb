/* fieldwatch offline queue ("待上传"): writes kept on the device until the server has them.

   Every write (a new problem, a comment, a photo, a look-back record) is first stored in
   IndexedDB with its files as Blobs, then sent; if the network or the server is not there,
   it waits and is sent again when the browser comes back online, every 30 s while items
   wait, and when someone presses "立即发送" (send now). Each item carries a `client_id`
   (crypto.getRandomValues), so a retried send never makes a second copy on the server:
   the API answers 200 with the original. Photos are never dropped: an item the server
   refuses stays (state "failed", with the server's message) until the user deletes it.

   Sending uses the JSON API with the session cookie and no CSRF token (the API checks
   that a cookie-authenticated write is same-origin instead), so a report queued for
   days, whose page's CSRF token has long expired, is still accepted.

   API (window.FieldwatchQueue; every method returns a Promise unless noted):
     configure({user: "login"})        -> (sync) the signed-in user; call it before anything
                                          else: items are stamped with it, and only the
                                          signed-in user's items are sent
     newClientId()                     -> string (sync): 32 hex digits
     enqueue(kind, url, fields, files, options) -> id
         kind:    a word for the list ("issue", "comment", "photo", "lookback", ...)
         url:     where to POST (e.g. "/api/v1/issues")
         fields:  plain object; `client_id` is added when missing
         files:   [{field: "photo", blob: Blob|File, filename: "a.jpg"}] or []; with files
                  the body is multipart/form-data, without them JSON
         options: {label: "what the list shows", link: "/url to open once sent"}
     list()                            -> [item] newest first; item = {id, kind, url, label,
                                          state: "waiting"|"sending"|"sent"|"failed",
                                          message, attempts, created, sentAt, result, files:n}
     sendNow()                         -> {sent, failed, waiting}
     send(id)                          -> the item after one attempt (used by forms that want
                                          the answer at once: item.state, item.status,
                                          item.result (the JSON body), item.errors)
     remove(id)                        -> undefined (a failed or sent item)
     retry(id)                         -> puts a failed item back to waiting and sends
     onChange(callback)                -> function to unsubscribe (sync); callback(items)
     mount(element, messages)          -> renders the list with its "立即发送" button into
                                          `element` and keeps it current (sync)
   Sent items are kept for a day so people can see them go, then forgotten. */
(function () {
  "use strict";

  var DB_NAME = "fieldwatch";
  var STORE = "outbox";
  var RETRY_MS = 30000;
  var KEEP_SENT_MS = 24 * 3600 * 1000;
  var listeners = [];
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("fieldwatch-outbox") : null;
  var dbPromise = null;
  var sending = false;
  var currentUser = null;  // the signed-in login: a shared phone sends only its own items

  function open() {
    if (dbPromise) {
      return dbPromise;
    }
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("IndexedDB unavailable"));
        return;
      }
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          db.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        }
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbPromise;
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var store = t.objectStore(STORE);
        var out;
        Promise.resolve(work(store, function (value) { out = value; })).catch(reject);
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error("aborted")); };
      });
    });
  }

  function getItem(id) {
    return tx("readonly", function (store, done) {
      var r = store.get(id);
      r.onsuccess = function () { done(r.result); };
    });
  }

  function putItem(item) {
    return tx("readwrite", function (store, done) {
      var r = store.put(item);
      r.onsuccess = function () { done(r.result); };
    });
  }

  function allItems() {
    return tx("readonly", function (store, done) {
      var r = store.getAll();
      r.onsuccess = function () { done(r.result || []); };
    });
  }

  function newClientId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function summary(item) {
    return {
      id: item.id,
      kind: item.kind,
      url: item.url,
      label: item.label,
      link: item.link,
      state: item.state,
      status: item.status,
      message: item.message,
      errors: item.errors,
      attempts: item.attempts,
      created: item.created,
      sentAt: item.sentAt,
      result: item.result,
      clientId: item.fields && item.fields.client_id,
      user: item.user || null,
      mine: mine(item),
      files: (item.files || []).length,
    };
  }

  function list() {
    return allItems().then(function (items) {
      return items.sort(function (a, b) { return b.id - a.id; }).map(summary);
    });
  }

  function changed(fromOtherTab) {
    list().then(function (items) {
      listeners.forEach(function (cb) {
        try { cb(items); } catch (e) { /* one listener's bug must not stop the rest */ }
      });
    });
    if (channel && !fromOtherTab) {
      channel.postMessage("changed");
    }
  }

  if (channel) {
    channel.onmessage = function () { changed(true); };
  }

  function onChange(cb) {
    listeners.push(cb);
    list().then(cb, function () { cb([]); });
    return function () {
      listeners = listeners.filter(function (x) { return x !== cb; });
    };
  }

  function enqueue(kind, url, fields, files, options) {
    options = options || {};
    fields = Object.assign({}, fields || {});
    if (!fields.client_id) {
      fields.client_id = newClientId();
    }
    var item = {
      kind: kind,
      url: url,
      fields: fields,
      files: (files || []).map(function (f) {
        return { field: f.field || "photo", blob: f.blob, filename: f.filename || (f.blob && f.blob.name) || "photo.jpg" };
      }),
      label: options.label || kind,
      link: options.link || null,
      user: currentUser,
      state: "waiting",
      message: "",
      attempts: 0,
      created: new Date().toISOString(),
    };
    return putItem(item).then(function (id) {
      changed();
      schedule();
      return id;
    });
  }

  function body(item) {
    if (!item.files || !item.files.length) {
      return { body: JSON.stringify(item.fields), headers: { "Content-Type": "application/json", Accept: "application/json" } };
    }
    var form = new FormData();
    Object.keys(item.fields).forEach(function (key) {
      var value = item.fields[key];
      if (value !== null && value !== undefined) {
        form.append(key, value);
      }
    });
    item.files.forEach(function (f) { form.append(f.field, f.blob, f.filename); });
    return { body: form, headers: { Accept: "application/json" } };
  }

  function firstErrors(errors) {
    if (!errors) {
      return "";
    }
    return Object.keys(errors).map(function (k) { return k + ": " + [].concat(errors[k]).join(" "); }).join("; ");
  }

  /* One attempt. Waiting on network trouble, 401 (sign in again), 408/425/429 and 5xx;
     failed (kept, with the message) on any other refusal. */
  function attempt(item) {
    item.state = "sending";
    item.attempts = (item.attempts || 0) + 1;
    return putItem(item).then(function () {
      changed();
      var request = body(item);
      return fetch(item.url, {
        method: "POST",
        credentials: "same-origin",
        headers: request.headers,
        body: request.body,
      });
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        item.status = response.status;
        if (response.ok) {
          item.state = "sent";
          item.sentAt = new Date().toISOString();
          item.result = data;
          item.message = "";
          item.errors = null;
          item.files = [];  // the server has them now
          if (data && data.properties && data.properties.url) {
            item.link = data.properties.url;
          } else if (data && data.url) {
            item.link = data.url;
          }
        } else if (response.status === 401 || response.status === 408 || response.status === 425 ||
                   response.status === 429 || response.status >= 500) {
          item.state = "waiting";
          item.message = (data && data.message) || ("HTTP " + response.status);
        } else {
          item.state = "failed";
          item.message = (data && data.message) || ("HTTP " + response.status);
          item.errors = (data && data.errors) || null;
          if (item.errors && Object.keys(item.errors).length) {
            item.message += " — " + firstErrors(item.errors);
          }
          item.result = data;
        }
      });
    }, function (error) {
      item.state = "waiting";
      item.status = 0;
      item.message = (error && error.message) || "network";
    }).then(function () {
      return putItem(item);
    }).then(function () {
      changed();
      return summary(item);
    });
  }

  function withLock(work) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("fieldwatch-outbox", work);
    }
    return work();
  }

  function mine(item) {
    return !item.user || !currentUser || item.user === currentUser;
  }

  function send(id) {
    return withLock(function () {
      return getItem(id).then(function (item) {
        if (!item) {
          return null;
        }
        if (item.state === "sent" || !mine(item)) {
          return summary(item);
        }
        return attempt(item);
      });
    });
  }

  function sendNow() {
    if (sending) {
      return Promise.resolve(null);
    }
    sending = true;
    var counts = { sent: 0, failed: 0, waiting: 0 };
    return withLock(function () {
      return allItems().then(function (items) {
        var todo = items.filter(function (i) {
          return (i.state === "waiting" || i.state === "sending") && mine(i);
        })
          .sort(function (a, b) { return a.id - b.id; });
        var chain = Promise.resolve();
        var stop = false;
        todo.forEach(function (item) {
          chain = chain.then(function () {
            if (stop) {
              counts.waiting += 1;
              return null;
            }
            return attempt(item).then(function (done) {
              counts[done.state === "sent" ? "sent" : done.state === "failed" ? "failed" : "waiting"] += 1;
              if (done.state === "waiting" && done.status === 0) {
                stop = true;  // the network is down: keep the order, try all later
              }
            });
          });
        });
        return chain;
      });
    }).then(function () {
      return prune();
    }).then(function () {
      sending = false;
      return counts;
    }, function (error) {
      sending = false;
      throw error;
    });
  }

  function prune() {
    var limit = Date.now() - KEEP_SENT_MS;
    return tx("readwrite", function (store) {
      var r = store.getAll();
      r.onsuccess = function () {
        (r.result || []).forEach(function (item) {
          if (item.state === "sent" && item.sentAt && Date.parse(item.sentAt) < limit) {
            store.delete(item.id);
          }
        });
      };
    });
  }

  function remove(id) {
    return tx("readwrite", function (store) { store.delete(id); }).then(function () { changed(); });
  }

  function retry(id) {
    return getItem(id).then(function (item) {
      if (!item || item.state === "sent") {
        return null;
      }
      item.state = "waiting";
      return putItem(item).then(function () { changed(); return sendNow(); });
    });
  }

  var timer = null;
  function schedule() {
    if (timer) {
      return;
    }
    timer = setInterval(function () {
      list().then(function (items) {
        var waiting = items.some(function (i) { return i.state === "waiting"; });
        if (!waiting) {
          clearInterval(timer);
          timer = null;
        } else if (navigator.onLine !== false) {
          sendNow();
        }
      });
    }, RETRY_MS);
  }

  /* ---- a small view of the queue, shared by every page that queues writes ---- */
  var DEFAULT_MESSAGES = {
    title: "待上传",
    empty: "没有待上传的内容。",
    sendNow: "立即发送",
    retry: "重试",
    remove: "删除",
    open: "查看",
    confirmRemove: "删除后这条记录和照片将从本机清除，确定吗？",
    states: { waiting: "等待中", sending: "发送中", sent: "已发送", failed: "失败" },
    photos: "张照片",
    offline: "当前离线，联网后自动发送。",
    otherUser: "{user} 的记录：由 {user} 登录后发送。",
  };
  var BADGES = { waiting: "text-bg-warning", sending: "text-bg-info", sent: "text-bg-success", failed: "text-bg-danger" };

  function mount(element, messages) {
    var m = Object.assign({}, DEFAULT_MESSAGES, messages || {});
    m.states = Object.assign({}, DEFAULT_MESSAGES.states, (messages || {}).states || {});
    element.classList.add("fw-outbox");
    element.innerHTML = "";
    var head = document.createElement("div");
    head.className = "d-flex align-items-center justify-content-between mb-2";
    var h = document.createElement("h2");
    h.className = "h6 mb-0";
    h.textContent = m.title;
    var count = document.createElement("span");
    count.className = "badge text-bg-secondary ms-2 fw-outbox-count";
    h.appendChild(count);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-primary fw-outbox-send";
    button.textContent = m.sendNow;
    button.addEventListener("click", function () {
      button.disabled = true;
      sendNow().then(function () { button.disabled = false; }, function () { button.disabled = false; });
    });
    head.appendChild(h);
    head.appendChild(button);
    var note = document.createElement("div");
    note.className = "small text-secondary mb-1 d-none fw-outbox-offline";
    note.textContent = m.offline;
    var ul = document.createElement("ul");
    ul.className = "list-group small fw-outbox-list";
    element.appendChild(head);
    element.appendChild(note);
    element.appendChild(ul);

    function render(items) {
      var pending = items.filter(function (i) { return i.state !== "sent"; }).length;
      count.textContent = String(pending);
      button.classList.toggle("d-none", !items.some(function (i) { return i.state === "waiting" || i.state === "failed"; }));
      note.classList.toggle("d-none", navigator.onLine !== false);
      ul.innerHTML = "";
      if (!items.length) {
        var li = document.createElement("li");
        li.className = "list-group-item text-secondary fw-outbox-empty";
        li.textContent = m.empty;
        ul.appendChild(li);
        return;
      }
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "list-group-item d-flex flex-wrap gap-2 align-items-center fw-outbox-item";
        li.dataset.state = item.state;
        li.dataset.id = String(item.id);
        var badge = document.createElement("span");
        badge.className = "badge " + (BADGES[item.state] || "text-bg-secondary");
        badge.textContent = m.states[item.state] || item.state;
        var label = document.createElement("span");
        label.className = "flex-grow-1 fw-outbox-label";
        label.textContent = item.label + (item.files ? " · " + item.files + " " + m.photos : "");
        li.appendChild(badge);
        li.appendChild(label);
        if (item.state === "sent" && item.link) {
          var a = document.createElement("a");
          a.href = item.link;
          a.textContent = m.open;
          li.appendChild(a);
        }
        if (item.state === "failed") {
          var again = document.createElement("button");
          again.type = "button";
          again.className = "btn btn-sm btn-link p-0";
          again.textContent = m.retry;
          again.addEventListener("click", function () { retry(item.id); });
          li.appendChild(again);
        }
        if (item.state === "failed" || item.state === "sent") {
          var del = document.createElement("button");
          del.type = "button";
          del.className = "btn btn-sm btn-link text-danger p-0";
          del.textContent = m.remove;
          del.addEventListener("click", function () {
            if (item.state === "sent" || window.confirm(m.confirmRemove)) {
              remove(item.id);
            }
          });
          li.appendChild(del);
        }
        if (!item.mine && item.state !== "sent") {
          var who = document.createElement("div");
          who.className = "w-100 text-secondary fw-outbox-other";
          who.textContent = m.otherUser.replace("{user}", item.user);
          li.appendChild(who);
        }
        if (item.message && item.state !== "sent") {
          var msg = document.createElement("div");
          msg.className = "w-100 text-secondary fw-outbox-message";
          msg.textContent = item.message;
          li.appendChild(msg);
        }
        ul.appendChild(li);
      });
    }
    window.addEventListener("offline", function () { note.classList.remove("d-none"); });
    return onChange(render);
  }

  window.addEventListener("online", function () { sendNow(); });
  if (typeof document !== "undefined") {
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && navigator.onLine !== false) {
        sendNow();
      }
    });
  }

  /* an interrupted send (page closed mid-way) is just waiting again */
  function recover() {
    return tx("readwrite", function (store) {
      var r = store.getAll();
      r.onsuccess = function () {
        (r.result || []).forEach(function (item) {
          if (item.state === "sending") {
            item.state = "waiting";
            store.put(item);
          }
        });
      };
    }).then(function () {
      return list();
    }).then(function (items) {
      if (items.some(function (i) { return i.state === "waiting"; })) {
        schedule();
        if (navigator.onLine !== false) {
          sendNow();
        }
      }
    }, function () { /* no IndexedDB: pages fall back to sending directly */ });
  }

  /* the signed-in user's login: items are stamped with it, and only that user's are sent
     (another person signed in on a shared phone must not send them under their name) */
  function configure(options) {
    if (options && "user" in options) {
      currentUser = options.user || null;
    }
  }

  window.FieldwatchQueue = {
    configure: configure,
    newClientId: newClientId,
    enqueue: enqueue,
    list: list,
    send: send,
    sendNow: sendNow,
    remove: remove,
    retry: retry,
    onChange: onChange,
    mount: mount,
    available: function () { return open().then(function () { return true; }, function () { return false; }); },
  };
  recover();
})();
