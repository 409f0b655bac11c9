// The live stream tail: records arrive over a websocket (console.consumers) and are
// added at the top of the table. Text only (textContent): nothing from an item is parsed as HTML.
"use strict";
(function () {
  const tail = document.getElementById("tail");
  if (!tail) { return; }
  const status = document.getElementById("tail-status");
  const body = document.querySelector("#tail-records tbody");
  const pause = document.getElementById("tail-pause");
  const MAX_ROWS = 500;
  let paused = false;
  const held = [];

  function compact(value) {
    if (!value) { return ""; }
    const plain = {};
    Object.keys(value).forEach(function (name) {
      const typed = value[name];
      const kind = Object.keys(typed)[0];
      plain[name] = (kind === "S" || kind === "N" || kind === "B") ? typed[kind] : typed;
    });
    return JSON.stringify(plain);
  }
  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    row.appendChild(td);
  }
  function show(message) {
    const row = document.createElement("tr");
    row.className = "record";
    const when = message.time ? new Date(message.time * 1000).toISOString().replace("T", " ").slice(0, 19) : "";
    cell(row, when);
    cell(row, message.event, "event-" + message.event);
    cell(row, compact(message.keys));
    cell(row, compact(message["new"]));
    cell(row, compact(message.old));
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
  }
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) { held.splice(0).forEach(show); }
  });
  const socket = new WebSocket("wss://" + location.host + tail.dataset.wsPath);
  socket.addEventListener("message", function (event) {
    const message = JSON.parse(event.data);
    if (message.type === "record") {
      if (paused) { held.push(message); } else { show(message); }
    } else {
      status.textContent = message.text;
      if (message.type === "error") { status.className = "bad"; }
    }
  });
  socket.addEventListener("close", function (event) {
    if (event.code === 4403) { status.textContent = "Not allowed: sign in again."; }
    else if (status.className !== "bad") { status.textContent += " (disconnected)"; }
  });
})();
