/*
 * Admissions chat widget. Embed with one tag (no inline script needed):
 *
 *   <script src="/widget/widget.js" defer
 *           data-facility="Harbor Light Recovery Center" data-phone="212-555-0187"
 *           data-tel="tel:+12125550187" data-accent="#1f5f5b"></script>
 *
 * data-phone is the admissions line as people read it and data-tel its tap-to-call link; the
 * demo page (admissions/web/templates/demo.html) fills both from facility.yml, the one place
 * the number is written, and the link comes from admissions.facility.tel_link, the one place a
 * tel: link is built. Without a valid data-tel the number is shown but not linked.
 *
 * Optional: data-accent-text (text colour on the accent, default #ffffff), data-label (launcher
 * text). Any element with a data-hlc-open attribute opens the chat when clicked (it is un-hidden
 * once the widget is ready).
 *
 * A shared device (issue 15 #7): the widget never opens by itself. When this browser has an
 * earlier chat, opening the widget first asks whether to continue it or clear it, and shows
 * none of its text until the visitor chooses to continue ("Clear this chat from this device"
 * is always on screen during a chat too). The server forgets an idle chat after 30 minutes.
 *
 * The widget talks only to its own origin (/chat/...). The conversation id lives in an
 * HttpOnly cookie the server sets; nothing of the conversation is kept in localStorage or
 * sessionStorage. Every message is rendered with textContent, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || document.querySelector(".hlc-root")) return;

  var MAX_CHARS = 2000;
  var WARN_CHARS = 1800;
  var REQUEST_TIMEOUT_MS = 20000;
  var STORAGE_PREFIX = "hlc";
  var TEL_RE = /^tel:\+?[0-9][0-9-]{1,19}$/;
  var COLOUR_RE = /^#[0-9a-fA-F]{6}$/;
  var DEFAULT_ACCENT = "#1f5f5b";
  var DEFAULT_ACCENT_TEXT = "#ffffff";
  // Kept on one line: reference codes ("K7F-2Q", the alphabet of actions/handoff.py) and US
  // phone numbers ("212-555-0187", "(412) 555-0143").
  var KEEP_TOGETHER = [
    { re: /[ACDEFGHJKMNPQRTUVWXY3479]{3}-[ACDEFGHJKMNPQRTUVWXY3479]{2}(?![A-Za-z0-9])/, className: "hlc-code" },
    { re: /(?:\(\d{3}\) ?|\d{3}[-.])\d{3}[-.]\d{4}(?![0-9])/, className: "hlc-phone" }
  ];
  var SCROLL_MARGIN = 8;  // px left above the first message of a reply
  var finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;

  // ------------------------------------------------------------------ configuration
  var data = script.dataset;
  var cfg = {
    facility: (data.facility || "").trim() || "Admissions",
    phone: (data.phone || "").trim(),
    tel: (data.tel || "").trim(),  // built by the server; telLink drops anything but a tel: link
    label: (data.label || "").trim() || "Chat with us",
    accent: DEFAULT_ACCENT,
    accentText: DEFAULT_ACCENT_TEXT
  };
  var accent = (data.accent || "").trim();
  var accentText = (data.accentText || "").trim() || DEFAULT_ACCENT_TEXT;
  if (COLOUR_RE.test(accent) && COLOUR_RE.test(accentText) &&
      contrast(accent, accentText) >= 4.5 && contrast(accent, "#ffffff") >= 3) {
    cfg.accent = accent;
    cfg.accentText = accentText;
  }
  var cssHref = new URL("widget.css", new URL(script.src, location.href)).href;

  function luminance(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }

  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(paths) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var CHAT_ICON = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  var CHEVRON_ICON = ["M5.3 8.3a1 1 0 0 1 1.4 0L12 13.6l5.3-5.3a1 1 0 1 1 1.4 1.4l-6 6a1 1 0 0 1-1.4 0l-6-6a1 1 0 0 1 0-1.4z"];
  var PHONE_ICON = ["M6.6 10.8a15.5 15.5 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.46.57 3.58a1 1 0 0 1-.25 1z"];

  function telLink(href, text, className) {
    if (!TEL_RE.test(href)) return null;
    return el("a", { href: href, className: className || "hlc-call" }, [icon(PHONE_ICON), el("span", { text: text })]);
  }

  function appendText(parent, text) {
    // Text with its codes and phone numbers in spans that never break (textContent only).
    var rest = text;
    while (rest) {
      var best = null;
      KEEP_TOGETHER.forEach(function (kind) {
        var m = kind.re.exec(rest);
        while (m && m.index > 0 && /[A-Za-z0-9]/.test(rest.charAt(m.index - 1))) {
          var after = kind.re.exec(rest.slice(m.index + 1));
          if (after) after.index += m.index + 1;
          m = after;
        }
        if (m && (!best || m.index < best.index)) best = { index: m.index, text: m[0], className: kind.className };
      });
      if (!best) {
        parent.appendChild(document.createTextNode(rest));
        break;
      }
      if (best.index) parent.appendChild(document.createTextNode(rest.slice(0, best.index)));
      parent.appendChild(el("span", { className: best.className, text: best.text }));
      rest = rest.slice(best.index + best.text.length);
    }
    return parent;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function clearStorage() {
    [window.localStorage, window.sessionStorage].forEach(function (store) {
      try {
        for (var i = store.length - 1; i >= 0; i--) {
          var key = store.key(i);
          if (key && key.indexOf(STORAGE_PREFIX) === 0) store.removeItem(key);
        }
      } catch (e) { /* storage disabled: nothing stored either */ }
    });
  }

  // ------------------------------------------------------------------ build the widget
  var stylesheet = el("link", { rel: "stylesheet", href: cssHref });
  document.head.appendChild(stylesheet);

  var root = el("div", { className: "hlc-root" });
  root.style.setProperty("--hlc-accent", cfg.accent);
  root.style.setProperty("--hlc-accent-text", cfg.accentText);

  var launcher = el("button", {
    type: "button", className: "hlc-launcher", "aria-expanded": "false", "aria-controls": "hlc-panel"
  }, [icon(CHAT_ICON), el("span", { text: cfg.label })]);

  var title = el("h2", { id: "hlc-title", className: "hlc-title", text: cfg.facility });
  var subtitle = el("p", { className: "hlc-subtitle", text: "Private chat · automated assistant" });
  var hideButton = el("button", { type: "button", className: "hlc-icon-button", "aria-label": "Hide chat" }, [
    icon(CHEVRON_ICON)
  ]);
  var header = el("div", { className: "hlc-header" }, [el("div", { className: "hlc-heading" }, [title, subtitle]), hideButton]);

  var emergency = el("p", { className: "hlc-emergency" }, [
    el("span", { className: "hlc-nowrap" }, ["In an emergency call ", telLink("tel:911", "911", "hlc-inline-call")]),
    " \u00b7 ",
    el("span", { className: "hlc-nowrap" }, ["call or text ", telLink("tel:988", "988", "hlc-inline-call")])
  ]);

  var log = el("ol", { className: "hlc-log" });
  // new messages are announced (the list keeps its list semantics inside the log region)
  var logRegion = el("div", {
    role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Messages"
  }, [log]);
  var typing = el("div", { className: "hlc-typing", hidden: true }, [
    el("span", { className: "hlc-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
    el("span", { text: "The assistant is typing\u2026" })
  ]);
  var status = el("div", { className: "hlc-status", role: "status" });
  var alertBox = el("div", { className: "hlc-alert", role: "alert" });
  var replies = el("div", {
    className: "hlc-replies", role: "group", "aria-label": "Suggested replies", tabindex: "-1"
  });

  var input = el("textarea", {
    id: "hlc-input", className: "hlc-input", rows: "1", autocomplete: "off", enterkeyhint: "send",
    "aria-describedby": "hlc-hint hlc-count", placeholder: "Type your message"
  });
  var label = el("label", { "for": "hlc-input", className: "hlc-sr", text: "Your message" });
  var hint = el("span", { id: "hlc-hint", className: "hlc-sr", text: "Press Enter to send, Shift and Enter for a new line." });
  var count = el("span", { id: "hlc-count", className: "hlc-count", "aria-live": "polite" });
  var sendButton = el("button", { type: "submit", className: "hlc-send" }, [el("span", { text: "Send" })]);
  var form = el("form", { className: "hlc-form", novalidate: true }, [
    label, hint, el("div", { className: "hlc-input-row" }, [input, sendButton]), count
  ]);

  var humanButton = el("button", { type: "button", className: "hlc-secondary" }, [icon(PHONE_ICON), el("span", { text: "Talk to a person" })]);
  var endButton = el("button", { type: "button", className: "hlc-secondary hlc-end" }, [
    el("span", { text: "Clear this chat from this device" })
  ]);
  var tools = el("div", { className: "hlc-tools" }, [humanButton, endButton]);

  var confirmYes = el("button", { type: "button", className: "hlc-danger", text: "Yes, end and clear" });
  var confirmNo = el("button", { type: "button", className: "hlc-secondary", text: "Keep chatting" });
  var confirmText = el("p", { id: "hlc-confirm-text", tabindex: "-1", text:
    "End this chat and clear it from this device? A private copy stays with our admissions team." });
  var confirmBox = el("div", {
    className: "hlc-confirm", role: "group", "aria-labelledby": "hlc-confirm-text", hidden: true
  }, [confirmText, el("div", { className: "hlc-confirm-buttons" }, [confirmYes, confirmNo])]);

  var endedText = el("p", { tabindex: "-1", className: "hlc-ended-text", text:
    "Your chat has ended and was cleared from this device. A private copy stays with our admissions team." });
  var restartButton = el("button", { type: "button", className: "hlc-primary", text: "Start a new chat" });
  var endedBox = el("div", { className: "hlc-ended", hidden: true }, [endedText, restartButton]);

  // An earlier chat on this device: asked about first, nothing of it shown (a shared device).
  var resumeText = el("p", { id: "hlc-resume-text", className: "hlc-resume-text", tabindex: "-1" }, [
    el("strong", { text: "There is an earlier chat on this device." }),
    " To keep it private, it stays hidden until you choose to continue it."
  ]);
  var resumeYes = el("button", { type: "button", className: "hlc-primary hlc-resume-yes", text: "Continue the chat" });
  var resumeClear = el("button", { type: "button", className: "hlc-secondary hlc-resume-clear", text: "Clear it from this device" });
  var resumeBox = el("div", {
    className: "hlc-resume", role: "group", "aria-labelledby": "hlc-resume-text", hidden: true
  }, [resumeText, el("div", { className: "hlc-confirm-buttons" }, [resumeYes, resumeClear])]);

  var footer = el("div", { className: "hlc-footer" }, [form, confirmBox, tools]);

  // the scrolling area: focusable so that keyboard users can scroll it
  var body = el("div", { className: "hlc-body", role: "region", "aria-label": "Conversation", tabindex: "0" },
    [resumeBox, logRegion, typing, endedBox]);
  var panel = el("section", {
    id: "hlc-panel", className: "hlc-panel", "aria-labelledby": "hlc-title", hidden: true
  }, [header, emergency, body, status, alertBox, replies, footer]);

  root.appendChild(panel);
  root.appendChild(launcher);

  // ------------------------------------------------------------------ state
  var state = {
    started: false,     // the server holds a conversation for this browser
    starting: false,
    wanted: false,      // the visitor opened the chat: a conversation should exist
    endPending: false,  // "End chat" could not reach the server yet: retried when online
    queue: [],          // messages waiting to be delivered, in order (memory only)
    sending: false,
    retryTimer: null,
    retryDelay: 2000,
    blocked: false,     // a server error waits for "Try again"
    offline: false,
    known: false,       // the server said whether this browser has an earlier chat
    asking: false,      // an earlier chat exists: continue or clear? (nothing of it shown)
    resume: false       // the visitor chose to continue the earlier chat
  };

  // ------------------------------------------------------------------ rendering
  // The first message of the latest reply: the view is scrolled so that it is at the top (or,
  // when the whole reply fits below what was there, to the end), never past it. Without one
  // (the visitor just sent something) the view goes to the end.
  var anchor = null;

  function scroller() {
    // The message area scrolls; on short screens (200 % zoom) the whole panel does.
    var overflow = window.getComputedStyle(body).overflowY;
    return overflow === "auto" || overflow === "scroll" ? body : panel;
  }

  var settledIn = null;  // the scroller settle() last used

  function fitFooter() {
    // On short screens the footer sticks to the bottom: whatever is scrolled into view keeps
    // clear of it, however tall its wrapped buttons make it.
    var sticky = window.getComputedStyle(footer).position === "sticky";
    panel.style.scrollPaddingBottom = sticky ? footer.offsetHeight + SCROLL_MARGIN + "px" : "";
  }

  function settle() {
    fitFooter();
    var box = settledIn = scroller();
    var end = box.scrollHeight - box.clientHeight;
    if (!anchor || anchor.parentNode !== log) {
      box.scrollTop = end;
      return;
    }
    var top = anchor === log.firstChild ? 0 : box.scrollTop +
      anchor.getBoundingClientRect().top - box.getBoundingClientRect().top - SCROLL_MARGIN;
    box.scrollTop = Math.max(0, Math.min(end, top));
  }

  function unhide(node) {
    // A control that gets focus is never left under the sticky footer (short screens).
    if (scroller() !== panel || footer.contains(node) || window.getComputedStyle(footer).position !== "sticky") return;
    var cover = footer.getBoundingClientRect().top;
    var box = node.getBoundingClientRect();
    // (a region taller than the room left, like the conversation itself, stays where it is)
    if (box.bottom > cover && box.height < cover - panel.getBoundingClientRect().top) {
      panel.scrollTop += box.bottom - cover + SCROLL_MARGIN;
    }
  }

  function scrollToEnd() {
    anchor = null;
    settle();
  }

  function anchorAt(items) {
    // Keep the first of the new bot messages in view (the reply starts there).
    var first = items.filter(function (item) { return item.classList.contains("hlc-bot"); })[0];
    if (first) anchor = first;
    settle();
  }

  function renderMessage(message, before) {
    var fromBot = message.from === "bot";
    var item = el("li", { className: "hlc-msg " + (fromBot ? "hlc-bot" : "hlc-visitor") });
    item.appendChild(el("span", { className: "hlc-sr", text: fromBot ? "Assistant: " : "You: " }));
    if (message.text) item.appendChild(appendText(el("p", { className: "hlc-text" }), message.text));
    if (fromBot) {
      var calls = (message.buttons || []).filter(function (b) { return b.tel; });
      if (calls.length) {
        item.appendChild(el("div", { className: "hlc-calls" }, calls.map(function (b) {
          return telLink(b.tel, b.title);
        })));
      }
    }
    log.insertBefore(item, before || null);
    return item;
  }

  function markMessage(item, text, kind) {
    var note = item.querySelector(".hlc-note");
    if (!text) {
      if (note) item.removeChild(note);
      item.classList.remove("hlc-pending", "hlc-failed");
      return;
    }
    if (!note) {
      note = el("span", { className: "hlc-note" });
      item.appendChild(note);
    }
    note.textContent = text;
    item.classList.toggle("hlc-pending", kind === "pending");
    item.classList.toggle("hlc-failed", kind === "failed");
  }

  var DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
  var dateFields = 0;

  function dateField(hint) {
    // A native date field offered with a question (a date of birth): labelled, reachable by
    // keyboard, sent as "YYYY-MM-DD" like a typed answer. Its value is never stored.
    var id = "hlc-date-" + (++dateFields);
    var field = el("input", {
      id: id, type: "date", className: "hlc-date-input", autocomplete: "off", required: true,
      min: DATE_RE.test(hint.min || "") ? hint.min : null,
      max: DATE_RE.test(hint.max || "") ? hint.max : null
    });
    var submitDate = el("button", { type: "submit", className: "hlc-reply hlc-date-send", text: "Send date" });
    var box = el("form", { className: "hlc-date", novalidate: true }, [
      el("label", { "for": id, className: "hlc-date-label", text: hint.label || "Date" }),
      el("div", { className: "hlc-date-row" }, [field, submitDate])
    ]);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = field.value;
      if (!DATE_RE.test(value)) {
        field.focus();
        return;
      }
      field.value = "";
      sendMessage({ text: value }, value, true);  // focus waits with the next suggestions
    });
    return box;
  }

  function showReplies(messages) {
    replies.textContent = "";
    var trailing = [];
    for (var i = messages.length - 1; i >= 0 && messages[i].from === "bot"; i--) trailing.unshift(messages[i]);
    trailing.forEach(function (m) {
      if (m.input && m.input.type === "date") replies.appendChild(dateField(m.input));
      (m.buttons || []).forEach(function (b) {
        if (!b.payload) return;
        var button = el("button", { type: "button", className: "hlc-reply", text: b.title });
        button.addEventListener("click", function (event) {
          sendMessage({ payload: b.payload, title: b.title }, b.title, event.detail === 0);
        });
        replies.appendChild(button);
      });
    });
    settle();  // the suggestions change the room left for the messages
  }

  function renderAll(messages, quiet, before) {
    if (quiet) logRegion.setAttribute("aria-live", "off");
    var items = messages.map(function (m) { return renderMessage(m, before); });
    if (quiet) window.setTimeout(function () { logRegion.setAttribute("aria-live", "polite"); }, 0);
    // a resumed history opens at the start of its last reply
    var lastVisitor = -1;
    items.forEach(function (item, i) { if (item.classList.contains("hlc-visitor")) lastVisitor = i; });
    anchorAt(items.slice(lastVisitor + 1));
    showReplies(messages);
  }

  function setTyping(on) {
    typing.hidden = !on;
    if (on) settle();
  }

  function setStatus(text) {
    status.textContent = text || "";
  }

  function showAlert(text, retry) {
    alertBox.textContent = "";  // live regions stay in the page (only emptied) so they announce
    if (!text) return;
    alertBox.appendChild(el("p", { text: text }));
    var actions = el("div", { className: "hlc-alert-actions" });
    var call = cfg.tel && telLink(cfg.tel, "Call " + cfg.phone);
    if (call) actions.appendChild(call);
    if (retry) {
      var again = el("button", { type: "button", className: "hlc-secondary", text: "Try again" });
      again.addEventListener("click", function () {
        showAlert("");
        retry();
        input.focus();
      });
      actions.appendChild(again);
    }
    alertBox.appendChild(actions);
  }

  function fallbackText() {
    return cfg.phone
      ? "Sorry, the chat isn't available right now. Please call admissions at " + cfg.phone + "."
      : "Sorry, the chat isn't available right now. Please try again in a moment.";
  }

  function setOffline(on) {
    state.offline = on;
    root.classList.toggle("hlc-is-offline", on);
    setStatus(on
      ? "You're offline. Your messages will be sent when the connection comes back." +
        (cfg.phone ? " To talk to someone now, call " + cfg.phone + "." : "")
      : "");
  }

  // ------------------------------------------------------------------ server calls
  function request(method, path, payload) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var options = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" },
      signal: controller ? controller.signal : undefined
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return window.fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, data: json || {} };
      });
    }, function () {
      return { status: 0, data: {} }; // network error or timeout
    }).then(function (result) {
      if (timer) window.clearTimeout(timer);
      return result;
    });
  }

  function scheduleRetry(seconds) {
    window.clearTimeout(state.retryTimer);
    var delay = seconds ? seconds * 1000 : state.retryDelay;
    if (!seconds) state.retryDelay = Math.min(state.retryDelay * 2, 15000);
    state.retryTimer = window.setTimeout(retryNow, delay);
  }

  function retryNow() {
    window.clearTimeout(state.retryTimer);
    state.retryTimer = null;
    if (state.started) pump();
    else if (state.wanted) startSession();
  }

  function startSession() {
    if (state.starting) return;
    state.starting = true;
    setTyping(true);
    request("POST", "/chat/session", {}).then(function (result) {
      state.starting = false;
      setTyping(false);
      if (result.status === 200) {
        state.retryDelay = 2000;
        setOffline(false);
        showAlert("");
        if (result.data.resumed && !state.resume) {
          // an earlier chat the visitor has not chosen to see (the widget was opened before the
          // page knew about it): its messages are dropped unread and the visitor is asked
          askResume();
          return;
        }
        state.started = true;
        var pending = state.queue.length ? state.queue[0].item : null;
        if (result.data.resumed) {
          // the server's history replaces the page's; messages not yet sent stay after it
          log.textContent = "";
          renderAll(result.data.messages || [], true);
          state.queue.forEach(function (q) { log.appendChild(q.item); });
        } else {
          renderAll(result.data.messages || [], false, pending);
        }
        pump();
      } else if (result.status === 0) {
        setOffline(true);
        scheduleRetry();
      } else if (result.status === 429) {
        scheduleRetry(result.data.retry_after || 5);
      } else {
        setOffline(false);
        showAlert(result.data.message || fallbackText(), startSession);
      }
    });
  }

  function sendMessage(body, shown, byKeyboard) {
    state.wanted = true;
    if (!state.started && !state.starting) startSession();
    var item = renderMessage({ from: "visitor", text: shown });
    scrollToEnd();
    body.id = randomId();
    state.queue.push({ body: body, item: item });
    // Keyboard users wait in the (empty) suggestions area, so Tab reaches the next buttons;
    // mouse users go back to the text box; touch users keep their screen free of the keyboard.
    if (byKeyboard) replies.focus();
    else if (finePointer) input.focus();
    replies.textContent = "";
    if (state.offline) markMessage(item, "Waiting to send", "pending");
    pump();
  }

  function pump() {
    if (state.sending || state.blocked || !state.started || !state.queue.length) return;
    var next = state.queue[0];
    state.sending = true;
    setTyping(true);
    request("POST", "/chat/send", next.body).then(function (result) {
      state.sending = false;
      setTyping(false);
      var status = result.status;
      if (status === 200) {
        state.queue.shift();
        state.retryDelay = 2000;
        setOffline(false);
        markMessage(next.item, "");
        var messages = result.data.messages || [];
        anchorAt(messages.map(function (m) { return renderMessage(m); }));
        if (!state.queue.length) showReplies(messages);
        pump();
      } else if (status === 0) {
        setOffline(true);
        state.queue.forEach(function (q) { markMessage(q.item, "Waiting to send", "pending"); });
        scheduleRetry();
      } else if (status === 429) {
        setStatus(result.data.message || "Please wait a moment.");
        markMessage(next.item, "Waiting to send", "pending");
        scheduleRetry(result.data.retry_after || 5);
      } else if (status === 401) {
        dropQueue("Not sent");
        state.started = false;
        showAlert(result.data.message || "This chat has ended. You can start a new one.", function () {
          log.textContent = "";
          startSession();
        });
      } else if (status === 503 || status === 504 || status >= 500) {
        setOffline(false);
        state.blocked = true;
        state.queue.forEach(function (q) { markMessage(q.item, "Not sent yet", "failed"); });
        showAlert(result.data.message || fallbackText(), function () {
          state.blocked = false;
          state.queue.forEach(function (q) { markMessage(q.item, "Sending\u2026", "pending"); });
          pump();
        });
      } else {
        // refused (too long, empty, bad request): say why, keep going with the rest
        state.queue.shift();
        markMessage(next.item, "Not sent", "failed");
        setOffline(false);
        showAlert(result.data.message || "That message could not be sent.", null);
        pump();
      }
    });
  }

  function dropQueue(note) {
    state.queue.forEach(function (q) { markMessage(q.item, note, "failed"); });
    state.queue = [];
  }

  // ------------------------------------------------------------------ open, close, end
  function openPanel(focusInput) {
    panel.hidden = false;
    root.classList.add("hlc-is-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    endedBox.hidden = true;
    if (state.asking) {
      showResume();
      return;
    }
    state.wanted = true;
    if (!state.started && state.known) startSession();
    else if (!state.known) setTyping(true);  // the page is still asking the server
    if (focusInput) input.focus();
    settle();
  }

  function askResume() {
    state.asking = true;
    state.wanted = false;
    if (!panel.hidden) showResume();
  }

  function showResume() {
    log.textContent = "";
    replies.textContent = "";
    setTyping(false);
    resumeBox.hidden = false;
    form.hidden = true;
    tools.hidden = true;
    confirmBox.hidden = true;
    resumeText.focus();
  }

  function continueChat() {
    state.asking = false;
    state.resume = true;
    resumeBox.hidden = true;
    form.hidden = false;
    tools.hidden = false;
    state.wanted = true;
    input.focus();
    startSession();
  }

  function clearEarlier() {
    state.asking = false;
    resumeBox.hidden = true;
    endChat();
  }

  function closePanel() {
    panel.hidden = true;
    root.classList.remove("hlc-is-open");
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function askEnd() {
    confirmBox.hidden = false;
    tools.hidden = true;
    confirmText.focus();
  }

  function cancelEnd() {
    confirmBox.hidden = true;
    tools.hidden = false;
    endButton.focus();
  }

  function sendEnd() {
    state.endPending = true;
    return request("POST", "/chat/end", {}).then(function (result) {
      if (result.status === 200) state.endPending = false;
      return result;
    });
  }

  function endChat() {
    sendEnd();
    window.clearTimeout(state.retryTimer);
    state.queue = [];
    state.started = false;
    state.wanted = false;
    state.blocked = false;
    state.resume = false;
    log.textContent = "";
    anchor = null;
    replies.textContent = "";
    input.value = "";
    updateCount();
    showAlert("");
    setStatus("");
    clearStorage();
    confirmBox.hidden = true;
    endedBox.hidden = false;
    form.hidden = true;
    tools.hidden = true;
    endedText.focus();
  }

  function restart() {
    endedBox.hidden = true;
    form.hidden = false;
    tools.hidden = false;
    state.wanted = true;
    input.focus();
    if (state.endPending) {
      // never resume the conversation the visitor ended: end it on the server first
      sendEnd().then(function (result) {
        if (result.status === 200) startSession();
        else showAlert(fallbackText(), restart);
      });
    } else {
      startSession();
    }
  }

  // ------------------------------------------------------------------ input
  function updateCount() {
    var length = input.value.length;
    count.textContent = length > WARN_CHARS
      ? length.toLocaleString("en-US") + " of " + MAX_CHARS.toLocaleString("en-US") + " characters"
      : "";
    count.classList.toggle("hlc-over", length > MAX_CHARS);
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      showAlert("That message is too long: please keep it under " + MAX_CHARS.toLocaleString("en-US") +
        " characters (it has " + text.length.toLocaleString("en-US") + ").", null);
      return;
    }
    showAlert("");
    input.value = "";
    updateCount();
    sendMessage({ text: text }, text, false);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", updateCount);
  launcher.addEventListener("click", function () { openPanel(true); });
  hideButton.addEventListener("click", closePanel);
  humanButton.addEventListener("click", function (event) {
    sendMessage({ payload: "/request_human", title: "Talk to a person" }, "Talk to a person",
      event.detail === 0);
  });
  panel.addEventListener("focusin", function (event) { unhide(event.target); });
  endButton.addEventListener("click", askEnd);
  confirmNo.addEventListener("click", cancelEnd);
  confirmYes.addEventListener("click", endChat);
  restartButton.addEventListener("click", restart);
  resumeYes.addEventListener("click", continueChat);
  resumeClear.addEventListener("click", clearEarlier);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!confirmBox.hidden) cancelEnd();
      else closePanel();
    }
  });
  window.addEventListener("resize", function () {
    // A phone keyboard or a zoom can switch between the message area scrolling and the whole
    // panel scrolling: keep the reply (or the end) in view across the switch.
    if (!panel.hidden && scroller() !== settledIn) settle();
    else if (!panel.hidden) fitFooter();
  });
  window.addEventListener("online", function () {
    if (state.endPending) sendEnd();
    if (state.offline) retryNow();
  });
  window.addEventListener("offline", function () { setOffline(true); });

  // ------------------------------------------------------------------ start
  function ready() {
    document.body.appendChild(root);
    Array.prototype.forEach.call(document.querySelectorAll("[data-hlc-open]"), function (opener) {
      opener.hidden = false;
      opener.addEventListener("click", function (event) {
        event.preventDefault();
        openPanel(true);
      });
    });
    // Only whether an earlier chat exists, never its text; the widget stays closed either way.
    request("GET", "/chat/status").then(function (result) {
      state.known = true;
      if (result.status === 200 && result.data.active) askResume();
      else if (state.wanted && !state.started) {
        setTyping(false);
        startSession();  // opened while the page was asking: start now
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
