/* Tidings service worker. Rendered by the server: the list of shell files and their fingerprints
   below change with every release, which is what makes the browser install a new worker. */
"use strict";

const VERSION = {{ version|tojson }};
const SHELL = {{ shell|tojson }};
const SHELL_CACHE = "tidings-shell-" + VERSION;
const PAGE_CACHE = "tidings-pages";
const MAX_SAVED_PAGES = {{ max_pages }};
const ARTICLE_PATH = /^\/(en|ko|ja)\/article\/[0-9a-f]{32}$/;
const LANGUAGES = {{ languages|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("tidings-shell-") && name !== SHELL_CACHE).map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, url));
  }
});

// Static files have fingerprinted URLs: a cached copy is never out of date.
async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE);
    cache.put(request, response.clone());
  }
  return response;
}

// Pages: always the fresh one when online; the saved copy or the offline page when not.
async function networkFirst(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && ARTICLE_PATH.test(url.pathname)) {
      await savePage(request, response.clone());
    }
    return response;
  } catch (error) {
    const saved = await caches.match(request, { ignoreSearch: true });
    if (saved) return saved;
    const first = url.pathname.split("/")[1];
    const lang = LANGUAGES.includes(first) ? first : LANGUAGES[0];
    const offline = await caches.match("/" + lang + "/offline");
    return offline || Response.error();
  }
}

// Keeps the most recently visited articles: re-saving a page moves it to the end of the list.
async function savePage(request, response) {
  const cache = await caches.open(PAGE_CACHE);
  await cache.delete(request, { ignoreSearch: true });
  await cache.put(request, response);
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_SAVED_PAGES))) {
    await cache.delete(old);
  }
}
