// Live agent list: listen on the registry's change feed (/v1/feed, a public WebSocket)
// and re-read the server-rendered table after each event. No framework, no external asset.
(() => {
  "use strict";
  const rows = document.getElementById("agent-rows");
  const status = document.getElementById("feed-status");
  const events = document.getElementById("events");
  if (!rows || !status || !events) return;
  const words = { registered: "joined", updated: "updated its card", deregistered: "left", expired: "lease expired" };
  let last = null;
  let refreshing = Promise.resolve();

  function say(text, live) {
    status.textContent = text;
    status.classList.toggle("live", live);
  }

  function refresh() {
    refreshing = refreshing.then(async () => {
      const response = await fetch("/ui/agents/rows" + window.location.search, { headers: { accept: "text/html" } });
      rows.innerHTML = await response.text();
    }).catch(() => say("could not refresh the list", false));
  }

  function logEvent(event) {
    const first = events.querySelector(".muted");
    if (first) first.remove();
    const item = document.createElement("li");
    item.className = "kind-" + event.kind;
    const name = event.card && event.card.name ? event.card.name + " " : "";
    const time = new Date(event.at).toISOString().slice(11, 19) + " UTC";
    item.textContent = `${time} · ${name}${event.did} ${words[event.kind] || event.kind}`;
    events.prepend(item);
    while (events.children.length > 100) events.lastElementChild.remove();
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const since = last === null ? "" : "?since=" + last;
    const socket = new WebSocket(`${scheme}//${window.location.host}/v1/feed${since}`);
    socket.addEventListener("open", () => {
      say("live", true);
      if (last === null) refresh(); // anything that changed between page load and now
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      last = event.seq;
      logEvent(event);
      refresh();
    });
    socket.addEventListener("close", (closed) => {
      if (closed.code === 4410) last = null; // cursor expired: start over from now
      say("reconnecting…", false);
      setTimeout(connect, 1000);
    });
  }
  connect();
})();
