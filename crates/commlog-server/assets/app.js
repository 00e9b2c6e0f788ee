// Commlog web app: live updates over the WebSocket, and small conveniences (select all,
// saved filters, a call timer, search-as-you-type). Everything works without it; it never
// writes user text as HTML (rows come rendered and escaped from the server).
(function () {
  "use strict";
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const live = document.getElementById("live");
  const announce = (text) => { if (live) { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); } };

  // Select all for bulk actions.
  for (const all of document.querySelectorAll("#select-all, #select-all-phone")) {
    all.addEventListener("change", () => {
      document.querySelectorAll('#rows input[name="ids"]').forEach((box) => { box.checked = all.checked; });
    });
  }

  // Saved filters: the current list query under a name, kept in this browser.
  const save = document.getElementById("save-filter");
  const savedList = document.getElementById("saved-filters");
  if (save && savedList) {
    const tab = save.dataset.tab;
    const key = "commlog.filters." + tab;
    const load = () => { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; } };
    const show = () => {
      savedList.replaceChildren();
      for (const f of load()) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/" + tab + "?" + f.query;
        a.textContent = f.name;
        li.append(a);
        savedList.append(li);
      }
    };
    save.addEventListener("click", () => {
      const name = window.prompt("Name this filter");
      if (!name) { return; }
      const list = load().filter((f) => f.name !== name);
      list.push({ name: name.slice(0, 60), query: location.search.replace(/^\?/, "") });
      localStorage.setItem(key, JSON.stringify(list.slice(-20)));
      show();
      announce("Filter saved as " + name);
    });
    show();
  }

  // A running timer for a call in progress: fills the duration in minutes.
  const timer = document.getElementById("timer");
  if (timer) {
    const minutes = document.getElementById("minutes");
    const display = document.getElementById("timer-display");
    let started = null; let tick = null;
    timer.addEventListener("click", () => {
      if (started === null) {
        started = Date.now();
        timer.textContent = "Stop timer"; timer.setAttribute("aria-pressed", "true");
        tick = setInterval(() => {
          const s = Math.floor((Date.now() - started) / 1000);
          display.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
          minutes.value = String(Math.max(1, Math.round(s / 60)));
        }, 1000);
      } else {
        clearInterval(tick); started = null;
        timer.textContent = "Start timer"; timer.setAttribute("aria-pressed", "false");
        announce("Timer stopped at " + display.textContent);
      }
    });
  }

  // Search as you type for customers and contacts.
  document.querySelectorAll("input[data-search]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    let pending = null;
    input.addEventListener("input", () => {
      clearTimeout(pending);
      const q = input.value.trim();
      if (q.length < 2) { return; }
      pending = setTimeout(async () => {
        const r = await fetch("/web/people?kind=" + input.dataset.search + "&q=" + encodeURIComponent(q), { credentials: "same-origin" });
        if (!r.ok) { return; }
        const names = await r.json();
        list.replaceChildren(...names.map((n) => { const o = document.createElement("option"); o.value = n; return o; }));
      }, 200);
    });
  });

  // Live updates: a ticket, then the WebSocket; resume from the last sequence after a drop.
  if (document.body.dataset.live !== "true") { return; }
  const page = document.body.dataset.page;
  const rows = document.getElementById("rows");
  const badge = document.getElementById("live-badge");
  const count = document.getElementById("live-count");
  let unseen = 0; let lastSeq = null; let backoff = 1000;
  // A new log announces itself twice (created, then assigned): count and show it once.
  const seen = new Set();
  const tabOf = (type) => type === "email" ? "emails" : (["sms", "chat", "message"].includes(type) ? "messages" : "calls");
  const bump = () => { unseen += 1; if (badge) { badge.hidden = false; count.textContent = String(unseen); } };
  const addRow = async (id) => {
    if (!rows || seen.has("row:" + id) || rows.querySelector('tr[data-id="' + id + '"]')) { return; }
    seen.add("row:" + id);
    const r = await fetch("/logs/" + id + "/row", { credentials: "same-origin" });
    if (!r.ok || r.headers.get("x-commlog-tab") !== page) { return; }
    const holder = document.createElement("tbody");
    holder.innerHTML = await r.text(); // escaped by the server's templates
    const tr = holder.querySelector("tr");
    if (tr && !rows.querySelector('tr[data-id="' + id + '"]')) { tr.classList.add("new"); rows.prepend(tr); }
  };
  // Draws a listed row again from the server (its status or assignee changed). A row holding
  // the keyboard focus is left alone: replacing it would throw the user's place away.
  const redrawRow = async (id) => {
    const old = rows && rows.querySelector('tr[data-id="' + id + '"]');
    if (!old) { return; }
    const r = await fetch("/logs/" + id + "/row", { credentials: "same-origin" });
    if (!r.ok) { return; }
    const holder = document.createElement("tbody");
    holder.innerHTML = await r.text(); // escaped by the server's templates
    const tr = holder.querySelector("tr");
    const current = rows.querySelector('tr[data-id="' + id + '"]');
    if (!tr || !current || current.contains(document.activeElement)) { return; }
    const box = current.querySelector('input[type="checkbox"]');
    const fresh = tr.querySelector('input[type="checkbox"]');
    if (box && fresh) { fresh.checked = box.checked; }
    tr.className = current.className;
    current.replaceWith(tr);
  };
  const onEvent = (m) => {
    const d = m.data || {};
    const firstNews = !seen.has("news:" + d.id);
    if (m.event === "communication.created" || m.event === "communication.assigned") { seen.add("news:" + d.id); }
    if (m.event === "communication.created") {
      if (firstNews) { bump(); }
      announce("New " + (d.communication_type || "communication") + " logged");
      if (tabOf(d.communication_type) === page) { addRow(d.id); }
    } else if (m.event === "communication.assigned") {
      // A log created already assigned was announced as new; say nothing more of it.
      if (firstNews) { bump(); announce("A communication was assigned"); }
      if (tabOf(d.communication_type) === page) { addRow(d.id); redrawRow(d.id); }
    } else if (m.event === "communication.status_changed" || m.event === "communication.escalated") {
      announce("A communication changed status");
      redrawRow(d.id);
    }
  };
  const connect = async () => {
    try {
      const t = await fetch("/web/ws-ticket", { method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf() } });
      if (!t.ok) { return; }
      const { ticket } = await t.json();
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      let url = proto + "//" + location.host + "/ws?ticket=" + encodeURIComponent(ticket);
      if (lastSeq !== null) { url += "&since_seq=" + lastSeq; }
      const ws = new WebSocket(url);
      ws.addEventListener("message", (e) => {
        let m; try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.type === "hello" && lastSeq === null) { lastSeq = m.seq; }
        if (m.type === "event") { lastSeq = m.seq; onEvent(m); }
        if (m.type === "heartbeat" && typeof m.seq === "number") { lastSeq = m.seq; }
        if (m.type === "counters") {
          for (const [k, v] of Object.entries(m.data || {})) {
            document.querySelectorAll('[data-counter="' + k + '"]').forEach((el) => { el.textContent = String(v); });
          }
        }
        backoff = 1000;
      });
      ws.addEventListener("close", () => { setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 30000); });
    } catch (err) {
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 30000);
    }
  };
  connect();
  document.body.dataset.liveReady = "true";
})();
