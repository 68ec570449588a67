// The status page, live: one EventSource on /events; every message carries the page texts by
// element id (built on the server from the same status as /status.json). Texts go in with
// textContent only, never as HTML. The browser reconnects by itself (the server asks for 1 s) and
// the first message after a reconnect is the current state, so a client that was away catches up.
// The stream is asked for in the page's own language (<html lang>), and the words for the
// connection's state come with the page (data-* on #live), so this file holds no language.
"use strict";

(function () {
  const live = document.getElementById("live");
  const lang = document.documentElement.lang || "en";
  let source = null;

  function say(state) {  // "connecting", "live", "reconnecting" or "refused"
    live.dataset.state = state;
    live.textContent = live.dataset[state] || state;
  }

  function apply(view) {
    document.body.dataset.level = view.level;
    document.title = view["doc-title"];
    for (const [id, text] of Object.entries(view)) {
      if (id === "level" || id === "contingencies" || id === "doc-title") continue;
      const el = document.getElementById(id);
      if (el && el.textContent !== text) el.textContent = text;
    }
    const list = document.getElementById("contingencies");
    const items = view.contingencies.map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    });
    list.replaceChildren(...items);
  }

  function connect() {
    source = new EventSource("/events?lang=" + encodeURIComponent(lang));
    source.onopen = () => { say("live"); };
    source.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      apply(msg.view);
      document.body.dataset.seq = String(msg.seq);
      say("live");
    };
    source.onerror = () => {
      say("reconnecting");
      if (source.readyState === EventSource.CLOSED) {  // an HTTP error, not a dropped line
        source.close();
        fetch("/status.json", {cache: "no-store"}).then((r) => {
          if (r.status === 401 || r.status === 403) {  // e.g. the server restarted, new token
            say("refused");
          } else {
            setTimeout(connect, 2000);
          }
        }, () => setTimeout(connect, 2000));
      }
    };
  }

  // Without JavaScript a <noscript> refresh reloads the page; with it, the stream takes over.
  say("connecting");
  connect();
})();
