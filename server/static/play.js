// /play/ENV: start a game against an agent, then play it by clicking the board.
// The API calls carry the session's CSRF token in the X-CSRF-Token header.
(function () {
  "use strict";
  var setup = document.getElementById("setup");
  if (!setup) return;
  var board = document.getElementById("board");
  var status = document.getElementById("status");
  var result = document.getElementById("result");
  var textView = document.getElementById("text-view");
  var startButton = document.getElementById("start");
  var game = null;
  var busy = false;

  function call(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": setup.dataset.csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || response.statusText);
        return data;
      });
    });
  }

  // Without a drawable board: the legal moves as buttons under the text position.
  function drawButtons(state, onAction) {
    var list = document.createElement("div");
    list.className = "moves-list";
    state.legal_names.forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "legal";
      button.setAttribute("data-action", String(pair[0]));
      button.textContent = pair[1];
      button.addEventListener("click", function () { onAction(pair[0]); });
      list.appendChild(button);
    });
    var pre = document.createElement("pre");
    pre.textContent = state.text || "";
    board.replaceChildren(pre, list);
  }

  // Real time (MPE, Atari): frames arrive over the game's WebSocket; the held key goes back.
  var socket = null;
  var held = 0;
  var WASD = { w: "ArrowUp", a: "ArrowLeft", s: "ArrowDown", d: "ArrowRight" };

  function keyOf(event) {
    var key = WASD[event.key.toLowerCase()] || event.key;
    return game && game.keys && Object.prototype.hasOwnProperty.call(game.keys, key) ? key : null;
  }

  function send(action) {
    if (socket && socket.readyState === WebSocket.OPEN && action !== held) {
      held = action;
      socket.send(JSON.stringify({ action: action }));
    }
  }

  document.addEventListener("keydown", function (event) {
    var key = keyOf(event);
    if (key === null || !socket) return;
    event.preventDefault();
    send(game.keys[key]);
  });
  document.addEventListener("keyup", function (event) {
    var key = keyOf(event);
    if (key === null || !socket) return;
    event.preventDefault();
    if (game.keys[key] === held) send(0);
  });

  function connect(state) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/api/games/" + state.id + "/ws");
    held = 0;
    socket.addEventListener("message", function (event) {
      if (typeof event.data !== "string") {
        var reader = new FileReader();  // a data: URL (the CSP allows no blob: images)
        reader.onload = function () { window.ArenaBoards.drawFrame(board, reader.result, "the game"); };
        reader.readAsDataURL(event.data);
        return;
      }
      var data = JSON.parse(event.data);
      if (data.error) { status.textContent = data.error; return; }
      showRealtime(data);
    });
    socket.addEventListener("close", function () {
      socket = null;  // the final state came before the close; else ask once (no reconnect loop)
      if (game && !game.done) call("GET", "/api/games/" + game.id).then(showRealtime, fail);
    });
  }

  function showRealtime(state) {
    game = state;
    textView.hidden = true;
    if (state.error) status.textContent = state.error;
    else if (state.done) status.textContent = "Game over.";
    else {
      var pair = state.of > 1 ? " (game " + state.game + " of " + state.of + ": one on each side)" : "";
      status.textContent = "Playing " + state.your_seat + " against " + state.opponent + pair + ": hold the keys.";
    }
    if (state.done && state.result) showResult(state);
    startButton.disabled = !state.done;
  }

  function show(state) {
    if (state.realtime) {
      showRealtime(state);
      if (!state.done && !socket) connect(state);
      return;
    }
    game = state;
    var mine = !state.done && state.to_move === state.your_seat;
    var options = { legal: mine ? state.legal : [], onAction: mine ? play : null };
    var drawn = state.board && window.ArenaBoards && window.ArenaBoards.draw(board, state.board, options);
    if (!drawn) drawButtons(mine ? state : Object.assign({}, state, { legal_names: [] }), play);
    textView.querySelector("pre").textContent = state.text || "";
    var last = state.opponent_move ? state.opponent + " played " + state.opponent_move + ". " : "";
    if (state.error) {
      status.textContent = state.error;
    } else if (state.done) {
      status.textContent = last + "Game over.";
    } else if (mine) {
      status.textContent = last + "Your move (you are " + state.your_seat + ").";
    } else {
      status.textContent = state.opponent + " is thinking…";
      window.setTimeout(refresh, 1000);
    }
    if (state.done && state.result) showResult(state);
    startButton.disabled = !state.done;
  }

  function showResult(state) {
    result.replaceChildren();
    var word = document.createElement("strong");
    word.className = state.result;
    word.textContent = state.result;
    result.appendChild(word);
    if (state.forfeit) result.appendChild(document.createTextNode(" (you forfeited: " + state.forfeit + ")"));
    else if (state.opponent_forfeit) result.appendChild(document.createTextNode(" (the opponent forfeited: " + state.opponent_forfeit + ")"));
    (state.games || []).forEach(function (one) {  // one game, or both of a pair
      if (one.match_id === null) return;
      result.appendChild(document.createTextNode(" · "));
      var link = document.createElement("a");
      link.href = "/matches/" + one.match_id;
      link.textContent = "match #" + one.match_id + (state.games.length > 1 ? " (" + one.seat + ", " + one.result + ")" : "");
      result.appendChild(link);
    });
    result.hidden = false;
  }

  function fail(error) {
    busy = false;
    status.textContent = error.message;
    startButton.disabled = !!(game && !game.done);
  }

  function refresh() {
    if (!game || game.done) return;
    call("GET", "/api/games/" + game.id).then(show, fail);
  }

  function play(action) {
    if (busy || !game) return;
    busy = true;
    status.textContent = "…";
    call("POST", "/api/games/" + game.id + "/moves", { action: action }).then(function (state) {
      busy = false;
      show(state);
    }, fail);
  }

  setup.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    startButton.disabled = true;
    result.hidden = true;
    status.textContent = "Starting…";
    var body = {
      env: setup.dataset.env,
      opponent: document.getElementById("opponent").value,
      seat: document.getElementById("seat").value
    };
    call("POST", "/api/games", body).then(function (state) {
      busy = false;
      show(state);
    }, fail);
  });
})();
