/* Tidings progressive enhancement. Every page works without this file. */
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        /* No offline reading, nothing else lost. */
      });
    });
  }

  // The install button stays hidden until the browser says installation is possible.
  var installPrompt = null;

  function installButtons() {
    return document.querySelectorAll("[data-install-button]");
  }

  function showInstallButtons(visible) {
    installButtons().forEach(function (button) {
      button.hidden = !visible;
    });
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    installPrompt = event;
    showInstallButtons(true);
  });

  window.addEventListener("appinstalled", function () {
    installPrompt = null;
    showInstallButtons(false);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-install-button]");
    if (!button || !installPrompt) return;
    var prompt = installPrompt;
    installPrompt = null;
    prompt.prompt();
    prompt.userChoice.finally(function () {
      showInstallButtons(false);
    });
  });

  // AI answers from a model stream over Server-Sent Events: the draft appears as it is written,
  // then the server's verified answer (every sentence checked against its citation) replaces it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-stream]") || !window.EventSource) return;
    var slot = document.querySelector(form.getAttribute("data-target"));
    var input = form.querySelector("[name=q]");
    if (!slot || !input || !input.value.trim()) return;
    event.preventDefault();
    var draft = document.createElement("p");
    draft.className = "ai-draft";
    slot.replaceChildren(draft);
    var source = new EventSource(form.getAttribute("data-stream") + "?q=" + encodeURIComponent(input.value));
    source.addEventListener("delta", function (message) {
      draft.textContent += JSON.parse(message.data).text;
    });
    source.addEventListener("done", function (message) {
      source.close();
      slot.innerHTML = JSON.parse(message.data).html;
    });
    source.onerror = function () {
      source.close();
      form.submit(); // fall back to the plain page
    };
  });

  // A refused comment form (403, 404, 409, 422, 429) answers with the thread and a message saying
  // why: show it in place, as the page without JavaScript does. htmx leaves 4xx answers unswapped.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if (status >= 400 && status < 500 && status !== 401 && target && target.closest && target.closest("[data-comments]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

/* Following: the reading-history beacon, and anonymous readers' follows kept in this browser. */
(function () {
  "use strict";

  // The article page is cached and shared, so it cannot carry a CSRF token. The beacon proves it
  // comes from this site's own script with a custom header instead (a cross-site form cannot set
  // one; a cross-site fetch would need a CORS preflight the server never grants). It only records
  // a read; for readers who are not signed in the server drops it.
  function sendReadBeacon() {
    var article = document.querySelector("[data-read-beacon]");
    if (!article || !window.fetch) return;
    window.setTimeout(function () {
      if (document.visibilityState === "hidden") return;
      fetch(article.getAttribute("data-read-beacon"), {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-Requested-With": "tidings" }
      }).catch(function () {
        /* History is a hint for ranking: losing one read loses nothing else. */
      });
    }, 3000);
  }

  var STORE = "tidings.follows";

  function loadFollows() {
    try {
      var data = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      return { tag: Array.isArray(data.tag) ? data.tag : [], source: Array.isArray(data.source) ? data.source : [] };
    } catch (error) {
      return { tag: [], source: [] };
    }
  }

  function saveFollows(follows) {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(follows));
    } catch (error) {
      /* Storage full or disabled: the button simply does not stick. */
    }
  }

  // Signed-out readers get [data-local-follow] buttons (the server renders them hidden); signed-in
  // readers get ordinary forms that post to their account instead.
  function refreshButtons(root) {
    var follows = loadFollows();
    (root || document).querySelectorAll("[data-local-follow]").forEach(function (button) {
      var list = follows[button.getAttribute("data-kind")] || [];
      var on = list.indexOf(button.getAttribute("data-target")) !== -1;
      button.textContent = button.getAttribute(on ? "data-label-following" : "data-label-follow");
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-local-follow]");
    if (!button) return;
    var follows = loadFollows();
    var kind = button.getAttribute("data-kind");
    var target = button.getAttribute("data-target");
    if (!follows[kind]) return;
    var at = follows[kind].indexOf(target);
    if (at === -1) follows[kind].push(target);
    else follows[kind].splice(at, 1);
    follows[kind] = follows[kind].slice(-50);
    saveFollows(follows);
    refreshButtons(document);
  });

  // The anonymous "For you" page: the server ranks the browser's set and keeps nothing.
  function fillLocalForYou() {
    var slot = document.querySelector("[data-local-for-you]");
    if (!slot || !window.fetch) return;
    var follows = loadFollows();
    if (!follows.tag.length && !follows.source.length) return;
    var url =
      slot.getAttribute("data-local-for-you") +
      "?tags=" + encodeURIComponent(follows.tag.join(",")) +
      "&sources=" + encodeURIComponent(follows.source.join(","));
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        slot.innerHTML = html; // same-origin, server-rendered and escaped
        var forget = document.createElement("button");
        forget.type = "button";
        forget.textContent = slot.getAttribute("data-label-forget");
        forget.addEventListener("click", function () {
          saveFollows({ tag: [], source: [] });
          window.location.reload();
        });
        slot.appendChild(forget);
      })
      .catch(function () {
        /* The explanation stays in place. */
      });
  }

  document.addEventListener("htmx:load", function (event) {
    refreshButtons(event.target);
  });

  function start() {
    sendReadBeacon();
    refreshButtons(document);
    fillLocalForYou();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
