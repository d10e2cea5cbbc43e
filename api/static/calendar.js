// The schedule's calendar (api/templates/schedule.html): a post is moved to a free slot by
// dragging it there, or with the keyboard: Enter (or Space, or a tap) on the post picks it
// up, the free slots become buttons, Enter on one moves it there, Escape puts it down.
// Either posts the same form as the post's "Move to" menu, which works without this script.
(function () {
  "use strict";

  var calendar = document.querySelector("[data-calendar]");
  if (!calendar) return;
  var announcer = document.getElementById("calendar-announcer");
  var picked = null;

  function say(text) {
    if (announcer) announcer.textContent = text;
  }

  function slots() {
    return calendar.querySelectorAll("[data-drop]");
  }

  // The move's form, posted as the menu would post it.
  function move(post, at) {
    say(calendar.getAttribute("data-moving"));
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/schedule/" + post.getAttribute("data-post") + "/move";
    var fields = {
      csrf: calendar.getAttribute("data-csrf"),
      at: at,
      view: calendar.getAttribute("data-view"),
      from: calendar.getAttribute("data-from")
    };
    Object.keys(fields).forEach(function (name) {
      if (!fields[name]) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function targets(on) {
    slots().forEach(function (slot) {
      if (on) {
        slot.setAttribute("role", "button");
        slot.setAttribute("tabindex", "0");
        slot.classList.add("border-indigo-500", "bg-indigo-50");
      } else {
        slot.removeAttribute("role");
        slot.removeAttribute("tabindex");
        slot.classList.remove("border-indigo-500", "bg-indigo-50");
      }
    });
  }

  function pick(post) {
    picked = post;
    var grab = post.querySelector("[data-grab]");
    if (grab) grab.setAttribute("aria-pressed", "true");
    post.classList.add("ring-2", "ring-indigo-500");
    targets(true);
    say(calendar.getAttribute("data-picked"));
  }

  function drop() {
    if (!picked) return;
    var grab = picked.querySelector("[data-grab]");
    if (grab) grab.setAttribute("aria-pressed", "false");
    picked.classList.remove("ring-2", "ring-indigo-500");
    picked = null;
    targets(false);
  }

  function cancel() {
    var post = picked;
    drop();
    say(calendar.getAttribute("data-cancelled"));
    var grab = post && post.querySelector("[data-grab]");
    if (grab) grab.focus();
  }

  calendar.querySelectorAll("[data-post][draggable]").forEach(function (post) {
    var grab = post.querySelector("[data-grab]");
    post.addEventListener("dragstart", function (e) {
      e.dataTransfer.setData("text/plain", post.getAttribute("data-post"));
      e.dataTransfer.effectAllowed = "move";
      pick(post);
    });
    post.addEventListener("dragend", function () {
      // A drop posts the form and leaves the page; anything else puts the post down.
      setTimeout(drop, 0);
    });
    if (!grab) return;
    grab.setAttribute("aria-pressed", "false");
    grab.addEventListener("click", function (e) {
      e.preventDefault();
      if (picked === post) {
        drop();
        return;
      }
      drop();
      pick(post);
      var first = slots()[0];
      if (first) first.focus();
    });
    grab.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && picked) cancel();
    });
  });

  slots().forEach(function (slot) {
    slot.addEventListener("dragover", function (e) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    });
    slot.addEventListener("drop", function (e) {
      e.preventDefault();
      if (picked) move(picked, slot.getAttribute("data-drop"));
    });
    slot.addEventListener("click", function () {
      if (picked) move(picked, slot.getAttribute("data-drop"));
    });
    slot.addEventListener("keydown", function (e) {
      if (!picked) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        move(picked, slot.getAttribute("data-drop"));
      } else if (e.key === "Escape") {
        cancel();
      }
    });
  });
})();
