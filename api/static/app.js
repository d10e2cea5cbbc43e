// The pages' only script, served from /static (the CSP allows scripts from us
// only: nothing inline). Everything here adds to a page that already works without it.
(function () {
  "use strict";

  // Times the server wrote in UTC (it does not know the reader's time zone), shown in the
  // browser's own, on a 24-hour clock in both languages as every other time of the pages
  // (pages/times.rs): "17:48", never "05:48 PM".
  function localTimes(root) {
    var lang = document.documentElement.lang || undefined;
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      el.textContent = when.toLocaleTimeString(lang, {
        hour: "numeric",
        minute: "2-digit",
        hourCycle: "h23",
      });
      el.removeAttribute("data-local");
    });
  }

  // A campaign page's live progress (pages/live.rs). Each "update" message is HTML: <li>
  // lines go on top of the activity list, every other element replaces the element with
  // its id (table rows come inside a table[data-rows], since HTML drops a bare <tr>).
  // "done" means the campaign is over: the stream is closed for good.
  function live(section) {
    var url = section.getAttribute("data-live-url");
    var list = document.getElementById("activity-list");
    var wait = 5000;
    var source;

    function apply(html) {
      var parsed = document.createElement("template");
      parsed.innerHTML = html;
      Array.prototype.slice.call(parsed.content.children).forEach(function (node) {
        if (node.tagName === "LI") {
          list.insertBefore(node, list.firstChild);
          return;
        }
        if (node.hasAttribute("data-rows")) {
          node.querySelectorAll("tr[id]").forEach(replace);
          return;
        }
        replace(node);
      });
      localTimes(document);
    }

    function replace(node) {
      var old = node.id && document.getElementById(node.id);
      if (!old) return;
      // A breakdown the reader opened stays open when its row is replaced.
      var open = {};
      old.querySelectorAll("details[open][data-key]").forEach(function (d) {
        open[d.getAttribute("data-key")] = true;
      });
      node.querySelectorAll("details[data-key]").forEach(function (d) {
        if (open[d.getAttribute("data-key")]) d.open = true;
      });
      old.replaceWith(node);
    }

    function connect() {
      source = new EventSource(url);
      source.onopen = function () {
        section.hidden = false;
        wait = 5000;
      };
      source.addEventListener("update", function (e) {
        apply(e.data);
      });
      source.addEventListener("done", function () {
        source.close();
        section.setAttribute("data-over", "");
      });
      source.onerror = function () {
        // CONNECTING: the browser reconnects by itself (after the stream's `retry`).
        // CLOSED: the server refused (signed out, too many tabs, gone): try again later,
        // less and less often.
        if (source.readyState === EventSource.CLOSED) {
          window.setTimeout(connect, wait);
          wait = Math.min(wait * 2, 300000);
        }
      };
    }

    connect();
  }

  // The notice a change comes back with (post/redirect/get), as a toast. Screen readers
  // announce a live region when its content changes, not what it held when the page
  // loaded, so the text is copied into an empty one a moment after load (and the toast
  // itself stops being a second status region). Its close link, a plain link to the same
  // list without the notice, just hides it here.
  function toast(region) {
    var text = region.querySelector("[data-toast-text]");
    var announcer = document.getElementById("toast-announcer");
    if (text && announcer) {
      region.removeAttribute("role");
      window.setTimeout(function () {
        announcer.textContent = text.textContent;
      }, 150);
    }
    var close = region.querySelector("[data-toast-close]");
    if (close) {
      close.addEventListener("click", function (e) {
        e.preventDefault();
        region.remove();
      });
    }
  }

  // A schedule never saved offers the browser's own time zone instead of the default.
  function browserTimeZone(input) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) input.value = zone;
    } catch (e) {
      // An old browser: the default stays.
    }
  }

  // The phone menu (base.html) is a disclosure that works without this; here Escape and a
  // tap outside close it, as people expect of a menu.
  function phoneMenu(menu) {
    var button = menu.querySelector("summary");
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        if (button) button.focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
  }

  function start() {
    localTimes(document);
    document.querySelectorAll("input[data-browser-time-zone]").forEach(browserTimeZone);
    document.querySelectorAll("[data-live-url]").forEach(live);
    document.querySelectorAll("[data-toast]").forEach(toast);
    var menu = document.getElementById("phone-menu");
    if (menu) phoneMenu(menu);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
