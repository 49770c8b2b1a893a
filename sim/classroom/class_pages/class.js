// The class pages (teacher's console, student's page): one websocket, the actions of sim.shared_world, nothing else.
// The server checks every message; this script only sends what its controls offer and draws what it is sent.
"use strict";
(() => {
  const catalogue = JSON.parse(document.getElementById("catalogue").textContent);
  const page = document.body.dataset.page; // "teacher" or "student"
  const $ = (id) => document.getElementById(id);
  const MOVES = ["loosen", "keep", "deepen"];
  const ENTITIES = { lt: "<", gt: ">", quot: '"', "#x27": "'", amp: "&" };
  // names arrive HTML-escaped; they are shown as text, never as markup
  const plain = (s) => String(s).replace(/&(lt|gt|quot|#x27|amp);/g, (_, e) => ENTITIES[e]);
  const STORE = page === "teacher" ? "bamboo.teacher" : "bamboo.student";
  const remembered = () => {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || localStorage.getItem(STORE) || "null");
    } catch (e) {
      return null;
    }
  };
  const remember = (seat) => {
    const text = JSON.stringify(seat);
    sessionStorage.setItem(STORE, text);
    localStorage.setItem(STORE, text);
  };
  const forget = () => {
    sessionStorage.removeItem(STORE);
    localStorage.removeItem(STORE);
  };

  let ws = null;
  let retry = 500;
  let seat = remembered(); // {code, token, name?}
  let view = null;
  let chart = null;
  let debriefChart = null;
  let scoreChart = null; // the debrief's chart of each role's score over the quarters
  let timer = null;
  let shownRole = null;
  let shownDebrief = 0; // the class's debrief last drawn on a student's page (how many times the teacher showed it)

  function say(text) {
    $("message").textContent = text;
    clearTimeout(say.hide);
    if (text) say.hide = setTimeout(() => ($("message").textContent = ""), 8000);
  }

  function key() {
    const found = /key=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (found) sessionStorage.setItem("bamboo.key", found[1]);
    return sessionStorage.getItem("bamboo.key");
  }

  function connect() {
    const protocols = ["bamboo"];
    if (page === "teacher" && key()) protocols.push("key." + key());
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws", protocols);
    ws.onopen = () => {
      retry = 500;
      if (seat && page === "teacher") send({ action: "view", code: seat.code, token: seat.token });
      if (seat && page === "student") send({ action: "join", code: seat.code, name: seat.name, token: seat.token });
    };
    ws.onmessage = (e) => receive(JSON.parse(e.data));
    ws.onclose = () => {
      say("Connection lost; reconnecting…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    else say("Not connected yet; try again in a moment.");
  }

  function act(action, fields = {}) {
    send({ action, code: seat.code, token: seat.token, ...fields });
  }

  function receive(msg) {
    if (msg.kind === "refused") {
      if (seat && (msg.field === "token" || msg.field === "code") && !view) {
        forget(); // a seat or class that is gone: join afresh
        seat = null;
        if (page === "student") showJoin(true);
      }
      say(msg.field ? `${msg.why} (${msg.field})` : msg.why);
    } else if (msg.kind === "done") {
      done(msg);
    } else if (msg.kind === "view") {
      view = msg.view;
      draw(msg);
    } else if (msg.kind === "debrief") {
      // the teacher ended the game or opened the debrief: shown on a student's page, read-only, own row marked
      drawDebrief(msg, msg.shown !== shownDebrief || !$("debrief").hidden);
      shownDebrief = msg.shown;
    } else if (msg.kind === "closed") {
      forget();
      seat = null;
      view = null;
      say("The class is closed.");
      if (page === "student") showJoin(true);
    }
  }

  function done(msg) {
    if (msg.action === "open") {
      seat = { code: msg.code, token: msg.token };
      remember(seat);
      stopTimer();
      $("show-debrief").setAttribute("aria-pressed", "false");
      showDebrief(false);
      say(`Class ${msg.code} is open.`);
    } else if (msg.action === "join") {
      const name = seat && seat.token === msg.token ? seat.name : $("name").value;
      seat = { code: msg.code, token: msg.token, name };
      remember(seat);
    } else if (msg.action === "debrief" || msg.action === "end") {
      say(msg.action === "end" ? "The game is over: every student's page shows the debrief." : "");
      drawDebrief(msg, true);
    } else if (msg.action === "inject") {
      say("Event injected.");
    }
  }

  // -- what both pages show ------------------------------------------------------------------------------------
  function drawChart(msg) {
    if (!window.echarts) return;
    if (!chart) {
      chart = echarts.init($("chart"), null, { renderer: "canvas" });
      window.addEventListener("resize", () => chart.resize());
    }
    chart.resize();
    chart.setOption(msg.chart, true);
    $("chart").setAttribute("aria-label", msg.chart_text);
  }

  function statusLine(v) {
    const failed = v.failure_date ? ` (${v.failure_date})` : "";
    const end = v.ended ? " · the game is over" : v.running ? "" : " · the last quarter";
    return `${v.date} · quarter ${v.quarter} of ${v.quarters} · ${v.verdict}${failed}${end}`;
  }

  function drawEvents(v) {
    $("events").textContent = v.events.length ? "Events this class: " + v.events.join("; ") : "No events injected yet.";
  }

  function draw(msg) {
    const v = msg.view;
    $("status").textContent = statusLine(v);
    drawEvents(v);
    if (page === "teacher") drawConsole(v);
    else drawSeat(v);
    drawChart(msg); // once the chart's box is in view: ECharts takes its size from it
  }

  // -- the teacher's console -----------------------------------------------------------------------------------
  const roleLabel = (role) => (role === "Hanoi" ? "Hanoi (Vietnam)" : `${role} (${catalogue.powers[catalogue.capitals[role]].name})`);
  const chip = (role) => {
    const span = document.createElement("span");
    span.className = "chip";
    span.style.background = role === "Hanoi" ? "#000" : catalogue.powers[catalogue.capitals[role]].colour;
    return span;
  };

  function drawConsole(v) {
    if (v.code !== $("code").textContent) {
      $("open-panel").open = false; // a class is open: its form folds away, for the world to keep the room
      $("open-summary").textContent = "Open another class";
    }
    $("code").textContent = v.code;
    $("code").setAttribute("aria-label", `Class code ${v.code.split("").join(" ")}`);
    $("join-hint").hidden = false;
    $("student-address").textContent = location.host + "/";
    for (const id of ["advance", "timer", "inject", "end"]) $(id).disabled = !v.running;
    for (const id of ["show-debrief", "csv", "png"]) $(id).disabled = false;
    if (!v.running) stopTimer();
    const roster = $("roster");
    roster.replaceChildren();
    const groups = [...catalogue.roles, null];
    for (const role of groups) {
      const seats = v.seats.filter((s) => s.role === role);
      if (role === null && !seats.length) continue;
      const h = document.createElement("h3");
      if (role) h.append(chip(role));
      h.append(role ? roleLabel(role) : "Watching (no role yet)");
      const list = document.createElement("ul");
      if (!seats.length) {
        const li = document.createElement("li");
        li.textContent = "played by the model";
        list.append(li);
      }
      for (const s of seats) {
        const li = document.createElement("li");
        li.textContent = `${plain(s.name)}${role ? (s.chosen ? " — has chosen" : " — choosing") : ""}`;
        list.append(li);
      }
      roster.append(h, list);
    }
  }

  function stopTimer() {
    clearInterval(timer);
    timer = null;
    if ($("timer")) {
      $("timer").setAttribute("aria-pressed", "false");
      $("timer").textContent = "Start the timer";
    }
  }

  function showDebrief(on) {
    $("debrief").hidden = !on;
    $("chart").hidden = on;
    $("show-debrief").textContent = on ? "Back to the world" : "Debrief";
    if (!on && chart) chart.resize();
    if (on && debriefChart) debriefChart.resize();
    if (on && scoreChart) scoreChart.resize();
  }

  const moveWords = (m) =>
    m === null || m === undefined ? "—" : typeof m === "string" ? m : Object.entries(m).map(([p, x]) => `${x} ${p}`).join(", ");

  // rows: arrays of cells; mine (optional): the index of the row to mark as the reader's own
  function table(head, rows, mine = -1) {
    const t = document.createElement("table");
    const tr = document.createElement("tr");
    for (const h of head) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      tr.append(th);
    }
    t.append(tr);
    for (const [i, row] of rows.entries()) {
      const r = document.createElement("tr");
      if (i === mine) {
        r.className = "mine";
        r.setAttribute("aria-current", "true");
      }
      for (const cell of row) {
        const td = document.createElement("td");
        td.textContent = cell;
        r.append(td);
      }
      t.append(r);
    }
    return t;
  }

  function fateWords(f) {
    return `${f.verdict}${f.failure_date ? " (" + f.failure_date + ")" : ""}, Hanoi's security ${f.security.toFixed(2)}`;
  }

  const tieWords = (m) => Object.entries(m.ties)
    .map(([p, x]) => `${catalogue.powers[p].name} ${x.toFixed(2)} (${m.tiers[p].replaceAll("_", " ")})`).join(", ");

  // the replay: the world at quarter i of the class's record, and the chart's mark moved there
  function replayAt(d, option, i) {
    const m = d.record[i];
    const failed = m.failure_date ? ` (${m.failure_date})` : "";
    $("replay-shown").value = `${m.date}, quarter ${m.quarter}: ${tieWords(m)}; ${m.verdict}${failed}; Hanoi's security ${m.security.toFixed(2)}`;
    if (!debriefChart || !option) return;
    const mark = option.series.find((s) => s.id === "replay");
    const line = { ...mark.markLine.data[0], xAxis: m.date };
    debriefChart.setOption({ series: [{ id: "replay", markLine: { data: [line] } }] });
  }

  function debriefChartBox(d, option, text) {
    const box = document.createElement("div");
    box.id = "debrief-chart";
    box.className = "chart debrief-chart";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", text || "The debrief's chart");
    const row = document.createElement("div");
    row.className = "replay";
    const label = document.createElement("label");
    label.htmlFor = "replay";
    label.textContent = "Quarter shown";
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", id: "replay", min: "0", max: String(d.record.length - 1), step: "1" });
    slider.value = slider.max;
    const shown = document.createElement("output");
    shown.id = "replay-shown";
    shown.htmlFor = "replay";
    shown.setAttribute("aria-live", "polite");
    slider.addEventListener("input", () => replayAt(d, option, Number(slider.value)));
    row.append(label, slider, shown);
    return [box, row];
  }

  // msg: the debrief, its chart and its chart of scores; show: bring it into view (else it stays where the reader put it)
  function drawDebrief(msg, show) {
    const d = msg.debrief, option = msg.chart, text = msg.chart_text;
    const box = $("debrief");
    if (debriefChart) {
      debriefChart.dispose();
      debriefChart = null;
    }
    if (scoreChart) {
      scoreChart.dispose();
      scoreChart = null;
    }
    box.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = `Debrief: ${plain(d.scenario)}, seed ${d.seed}, ${d.dates.length} quarters played`;
    box.append(h, ...debriefChartBox(d, option, text));
    const world = document.createElement("p");
    world.textContent = `This class's world: ${fateWords(d.world)}.`;
    const model = document.createElement("p");
    model.textContent = `The model's own Vietnam (same seed and events, every capital the model's): ${fateWords(d.model)}.`;
    box.append(world, model);
    const me = page === "student" && view && view.seat ? view.seat : null;
    const roles = Object.entries(d.roles).map(([role, r]) => [
      roleLabel(role), r.played_by === "class" ? "the class" : "the model", r.score.toFixed(2), r.model_in_the_chair.toFixed(2),
    ]);
    box.append(table(["Role", "Played by", "Score", "The model in the chair"], roles,
      me ? Object.keys(d.roles).indexOf(me.role) : -1));
    const scores = document.createElement("div");
    scores.id = "score-chart";
    scores.className = "chart score-chart";
    scores.setAttribute("role", "img");
    scores.setAttribute("aria-label", msg.score_chart_text || "Each role's score over the quarters");
    box.append(scores);
    const students = d.students.map((s) => [plain(s.name) + (me && s.id === me.id ? " (you)" : ""), s.role || "no role",
      ...s.moves.map(moveWords), s.score === null ? "—" : s.score.toFixed(2)]);
    const students_table = table(["Student", "Role", ...d.dates, "Score"], students,
      me ? d.students.findIndex((s) => s.id === me.id) : -1);
    students_table.setAttribute("aria-label", "Every student's moves by quarter");
    box.append(students_table);
    for (const e of d.events) {
      const p = document.createElement("p");
      p.textContent = `Without ${e.event}: ${fateWords(e.without)}.`;
      box.append(p);
    }
    const hidden = $("debrief").hidden;
    showDebrief(true); // drawn in view: ECharts takes its size from its box
    if (window.echarts && option) {
      debriefChart = echarts.init($("debrief-chart"), null, { renderer: "canvas" });
      debriefChart.setOption(option, true);
    }
    if (window.echarts && msg.score_chart) {
      scoreChart = echarts.init(scores, null, { renderer: "canvas" });
      scoreChart.setOption(msg.score_chart, true);
    }
    replayAt(d, option, d.record.length - 1);
    if (!show && hidden) showDebrief(false);
  }

  async function download(kind) {
    const response = await fetch(`/debrief.${kind}`, {
      headers: { "X-Bamboo-Class": seat.code, Authorization: "Bearer " + seat.token },
    });
    if (!response.ok) return say(await response.text());
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `bamboo-class-${seat.code}.${kind}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function fillWho() {
    const who = $("who");
    who.replaceChildren();
    for (const [i, pair] of catalogue.events[$("event").value].entries()) {
      who.append(new Option(pair.label, String(i)));
    }
  }

  function teacher() {
    for (const name of catalogue.scenarios) $("scenario").append(new Option(name, name, false, name === "Status quo"));
    for (const kind of Object.keys(catalogue.events)) {
      const words = kind.replaceAll("_", " ");
      $("event").append(new Option(words[0].toUpperCase() + words.slice(1), kind));
    }
    fillWho();
    $("event").addEventListener("change", fillWho);
    $("strength").addEventListener("input", () => ($("strength-shown").value = $("strength").value));
    $("open-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const seed = $("seed").value.trim();
      send({ action: "open", scenario: $("scenario").value, seed: seed === "" ? null : Number(seed) });
    });
    $("advance").addEventListener("click", () => act("advance"));
    $("timer").addEventListener("click", () => {
      if (timer) return stopTimer();
      const every = Math.max(5, Number($("every").value) || 20);
      timer = setInterval(() => act("advance"), every * 1000);
      $("timer").setAttribute("aria-pressed", "true");
      $("timer").textContent = `Stop the timer (every ${every} s)`;
    });
    $("inject-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const pair = catalogue.events[$("event").value][Number($("who").value)];
      act("inject", { event: $("event").value, actor: pair.actor, target: pair.target, magnitude: Number($("strength").value) });
    });
    $("show-debrief").addEventListener("click", () => {
      if (!$("debrief").hidden) return showDebrief(false);
      say("Working out the debrief…");
      act("debrief");
    });
    $("end").addEventListener("click", () => {
      if (!confirm("End the game for the whole class? No more quarters or moves; every page shows the debrief.")) return;
      say("Working out the debrief…");
      act("end");
    });
    $("csv").addEventListener("click", () => download("csv"));
    $("png").addEventListener("click", () => download("png"));
    if (!key() && !seat) say("Open this page with the console's address from `bamboo class` (it ends with #key=…).");
  }

  // -- the student's page --------------------------------------------------------------------------------------
  function showJoin(on) {
    $("join-form").hidden = !on;
    $("seat").hidden = on;
    $("leave").hidden = on;
    if (on) $("who-am-i").textContent = "";
  }

  function drawSeat(v) {
    showJoin(false);
    const me = v.seat;
    const role = me.role;
    $("who-am-i").textContent = `Class ${v.code} · ${plain(me.name)} · ${role ? roleLabel(role) : "no role yet"}`;
    for (const b of $("roles").children) b.setAttribute("aria-pressed", String(b.dataset.role === role));
    if (role !== shownRole) moveChoices(role);
    $("move-form").hidden = !role || v.ended;
    $("send-move").disabled = !v.running;
    for (const b of $("roles").children) b.disabled = v.ended;
    $("debrief-panel").hidden = !v.debrief;
    if (!v.debrief && !$("debrief").hidden) showDebrief(false); // the game went on: back to the world
    if (role) {
      const others = v.players[role].length;
      $("move-state").textContent = (me.chosen ? "Your move is in for the next quarter. " : "No move sent yet for the next quarter. ")
        + `${v.chosen} of ${others} in ${role} have chosen.`;
      const what = role === "Hanoi" ? "Hanoi's security (mean share of demand met; 0 from a failure on)"
        : `${catalogue.powers[catalogue.capitals[role]].name}'s mean tie with Vietnam`;
      $("score").textContent = `${v.score.toFixed(2)}: ${what}`;
    }
    const why = $("why");
    why.replaceChildren();
    const lines = role ? v.why : [];
    for (const line of lines.length ? lines : ["After the first quarter, here is why your capital's ties moved."]) {
      const li = document.createElement("li");
      li.textContent = line;
      why.append(li);
    }
  }

  function radio(group, value, checked, label) {
    const l = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = group;
    input.value = value;
    input.checked = checked;
    l.append(input, " " + label);
    return l;
  }

  function moveChoices(role) {
    shownRole = role;
    const box = $("move-choices");
    box.replaceChildren();
    if (!role) return;
    const sets = role === "Hanoi"
      ? Object.entries(catalogue.powers).map(([p, power]) => [`tie-${p}`, `Tie with ${power.name}`, MOVES, "keep"])
      : [["stance", `${role}'s stance toward Vietnam`, catalogue.stances, "hold"]];
    for (const [group, legendText, options, usual] of sets) {
      const fs = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = legendText;
      fs.append(legend, ...options.map((o) => radio(group, o, o === usual, o)));
      box.append(fs);
    }
  }

  function student() {
    for (const role of catalogue.roles) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.role = role;
      b.setAttribute("aria-pressed", "false");
      b.textContent = role;
      b.title = roleLabel(role);
      b.addEventListener("click", () => act("role", { role }));
      $("roles").append(b);
    }
    $("join-form").addEventListener("submit", (e) => {
      e.preventDefault();
      seat = null;
      view = null;
      send({ action: "join", code: $("class-code").value.trim().toUpperCase(), name: $("name").value });
    });
    $("move-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const picked = (group) => document.querySelector(`input[name="${group}"]:checked`).value;
      if (shownRole === "Hanoi") {
        const moves = Object.fromEntries(Object.keys(catalogue.powers).map((p) => [p, picked(`tie-${p}`)]));
        act("move", { moves });
      } else {
        act("move", { stance: picked("stance") });
      }
    });
    $("show-debrief").addEventListener("click", () => showDebrief($("debrief").hidden));
    $("leave").addEventListener("click", () => {
      forget();
      location.reload();
    });
    const asked = new URLSearchParams(location.search).get("code");
    if (asked) $("class-code").value = asked.slice(0, catalogue.code_length);
    showJoin(!seat);
  }

  window.addEventListener("resize", () => {
    if (debriefChart) debriefChart.resize();
    if (scoreChart) scoreChart.resize();
  });
  if (page === "teacher") teacher();
  else student();
  connect();
})();
