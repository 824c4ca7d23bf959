// Boards as SVG: ArenaBoards.draw(container, view, options) draws a board view of
// envs/boards.py (tic-tac-toe, connect four, chess, poker cards) in place of the
// container's content. With options.onAction(action), the squares (or buttons) whose
// action is in options.legal get class "legal" and data-action="N", and a click plays
// them; chess plays by clicking a piece, then its target (promotions to a queen).
// ArenaBoards.drawFrame(container, src) shows an image frame (MPE, Atari) instead.
// Text goes in with textContent only: nothing here parses HTML.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, content, cls, size) {
    var t = el("text", { x: x, y: y, "class": cls || "", "text-anchor": "middle",
      "dominant-baseline": "central", "font-size": size || 16 }, parent);
    t.textContent = content;
    return t;
  }
  function svg(width, height, kind) {
    return el("svg", { "class": "board board-" + kind, viewBox: "0 0 " + width + " " + height,
      role: "img", "aria-label": kind.replace("_", " ") + " board" });
  }
  function isLegal(options, action) {
    return action !== null && action !== undefined && !!options.onAction &&
      (options.legal || []).indexOf(action) >= 0;
  }
  // A square or button that plays `action` on click when it is legal.
  function playable(node, action, options) {
    if (!isLegal(options, action)) return;
    node.classList.add("legal");
    node.setAttribute("data-action", String(action));
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    var go = function () { options.onAction(action); };
    node.addEventListener("click", go);
    node.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); }
    });
  }

  function tictactoe(view, options) {
    var s = svg(300, 300, "tictactoe");
    view.cells.forEach(function (cell) {
      var g = el("g", { "class": "cell", "data-row": cell.row, "data-col": cell.col }, s);
      el("rect", { x: cell.col * 100 + 2, y: cell.row * 100 + 2, width: 96, height: 96 }, g);
      if (cell.mark) text(g, cell.col * 100 + 50, cell.row * 100 + 52, cell.mark, "mark mark-" + cell.mark, 64);
      playable(g, cell.action, options);
    });
    return s;
  }

  function connectFour(view, options) {
    var size = 60, s = svg(view.cols * size, view.rows * size, "connect_four");
    el("rect", { "class": "frame", x: 0, y: 0, width: view.cols * size, height: view.rows * size, rx: 10 }, s);
    var columns = [];
    view.cells.forEach(function (cell) {
      var g = columns[cell.col];
      if (!g) {  // one clickable group per column: every cell of it plays the column
        g = columns[cell.col] = el("g", { "class": "column", "data-col": cell.col }, s);
        el("rect", { "class": "hit", x: cell.col * size, y: 0, width: size, height: view.rows * size }, g);
        playable(g, cell.action, options);
      }
      el("circle", { "class": "disc " + (cell.disc || "empty"), cx: cell.col * size + size / 2,
        cy: cell.row * size + size / 2, r: size * 0.4 }, g);
    });
    return s;
  }

  // One filled glyph per piece for both colours (the CSS fills white pieces white),
  // with U+FE0E so that no font draws the pawn as an emoji.
  var GLYPHS = { k: "\u265A", q: "\u265B", r: "\u265C", b: "\u265D", n: "\u265E", p: "\u265F" };

  function chess(view, options) {
    var size = 50, s = svg(8 * size + 20, 8 * size + 20, "chess");
    var moves = view.moves || {};
    var flip = !!options.flip;  // black at the bottom
    var selected = null;
    var squares = {};
    var last = view.last_move || "";
    function place(cell) { return flip ? { r: 7 - cell.row, c: 7 - cell.col } : { r: cell.row, c: cell.col }; }
    function targets(from) {
      return Object.keys(moves).filter(function (u) { return u.slice(0, 2) === from; })
        .map(function (u) { return u.slice(2, 4); });
    }
    function clearMarks() {
      Object.keys(squares).forEach(function (k) { squares[k].classList.remove("selected", "target"); });
    }
    function click(square) {
      if (selected) {
        var uci = selected + square;
        var action = uci in moves ? moves[uci] : moves[uci + "q"];  // a promotion: a queen
        if (action !== undefined && isLegal(options, action)) { options.onAction(action); return; }
      }
      clearMarks();
      selected = null;
      var to = targets(square);
      if (!to.length) return;
      selected = square;
      squares[square].classList.add("selected");
      to.forEach(function (t) { squares[t].classList.add("target"); });
    }
    view.cells.forEach(function (cell) {
      var p = place(cell), x = 10 + p.c * size, y = 10 + p.r * size;
      var dark = (cell.row + cell.col) % 2 === 1;
      var g = el("g", { "class": "square " + (dark ? "dark" : "light"), "data-square": cell.square }, s);
      if (last.slice(0, 2) === cell.square || last.slice(2, 4) === cell.square) g.classList.add("last");
      el("rect", { x: x, y: y, width: size, height: size }, g);
      if (cell.piece) {
        var white = cell.piece === cell.piece.toUpperCase();
        var glyph = GLYPHS[cell.piece.toLowerCase()];
        text(g, x + size / 2, y + size / 2 + 2, glyph ? glyph + "\uFE0E" : cell.piece,
          "piece " + (white ? "white" : "black"), 40);
      }
      squares[cell.square] = g;
      if (options.onAction) {
        var from = targets(cell.square).length > 0;
        if (from && Object.keys(moves).some(function (u) {
          return u.slice(0, 2) === cell.square && isLegal(options, moves[u]);
        })) g.classList.add("legal");
        g.addEventListener("click", function () { click(cell.square); });
      }
    });
    for (var i = 0; i < 8; i++) {  // coordinates: files along the bottom, ranks down the left
      text(s, 10 + i * size + size / 2, 8 * size + 15, "abcdefgh"[flip ? 7 - i : i], "coord", 10);
      text(s, 5, 10 + i * size + size / 2, String(flip ? i + 1 : 8 - i), "coord", 10);
    }
    return s;
  }

  var SUITS = { S: "♠", H: "♥", D: "♦", C: "♣" };

  function card(parent, x, y, code) {
    var g = el("g", { "class": "card" + (code ? "" : " hidden") }, parent);
    el("rect", { x: x, y: y, width: 44, height: 62, rx: 5 }, g);
    if (!code) return g;
    var suit = code.charAt(0), rank = code.slice(1);
    g.classList.add(suit === "H" || suit === "D" ? "red" : "black");
    g.setAttribute("data-card", code);
    text(g, x + 22, y + 22, rank === "T" ? "10" : rank, "rank", 20);
    text(g, x + 22, y + 45, SUITS[suit] || suit, "suit", 20);
    return g;
  }

  function cards(view, options) {
    var seats = Object.keys(view.hands);
    var held = view.game === "leduc" ? 1 : 2;
    var width = Math.max(5 * 50 + 20, 2 * 200), height = 110 + seats.length * 80 + 50;
    var s = svg(width, height, "cards");
    text(s, 10, 20, "board", "label", 14);
    var shown = view.board.length ? view.board : [];
    for (var b = 0; b < Math.max(shown.length, 1); b++) {
      if (shown[b]) card(s, 10 + b * 50, 32, shown[b]);
      else el("rect", { "class": "slot", x: 10 + b * 50, y: 32, width: 44, height: 62, rx: 5 }, s);
    }
    text(s, width - 70, 60, "pot " + view.pot, "pot", 16);
    seats.forEach(function (seat, i) {
      var y = 110 + i * 80;
      var g = el("g", { "class": "seat" + (seat === view.to_move ? " to-move" : ""), "data-seat": seat }, s);
      var name = el("text", { x: 10, y: y + 12, "class": "label", "font-size": 14 }, g);
      name.textContent = seat + (seat === view.to_move ? " (to move)" : "");
      var hand = view.hands[seat];
      for (var k = 0; k < (hand ? hand.length : held); k++) card(g, 10 + k * 50, y + 18, hand ? hand[k] : null);
      var bet = "bet " + view.chips[seat] + (view.stacks ? ", stack " + view.stacks[seat] : "");
      var t = el("text", { x: 130, y: y + 50, "class": "chips", "font-size": 14 }, g);
      t.textContent = bet;
    });
    if (options.onAction) {  // betting: one button per legal action
      var x = 10, y = height - 40;
      view.actions.forEach(function (a) {
        if (!isLegal(options, a.action)) return;
        var g = el("g", { "class": "action-button" }, s);
        var w = 14 + a.name.length * 9;
        el("rect", { x: x, y: y, width: w, height: 30, rx: 6 }, g);
        text(g, x + w / 2, y + 15, a.name.replace(/_/g, " "), "", 14);
        playable(g, a.action, options);
        x += w + 8;
      });
    }
    return s;
  }

  var KINDS = { tictactoe: tictactoe, connect_four: connectFour, chess: chess, cards: cards };

  // Replaces the container's content with the board; false (and nothing drawn) for a
  // view this file cannot draw, so the caller can show the text frame instead.
  function draw(container, view, options) {
    var make = view && KINDS[view.kind];
    if (!make) return false;
    var board = make(view, options || {});
    container.replaceChildren(board);
    return true;
  }

  // An image frame; the <img> is kept between calls so stepping does not flicker.
  function drawFrame(container, src, alt) {
    var img = container.querySelector("img.frame-image");
    if (!img || container.children.length !== 1) {
      img = document.createElement("img");
      img.className = "frame-image";
      container.replaceChildren(img);
    }
    img.alt = alt || "frame";
    if (img.getAttribute("src") !== src) img.src = src;
    return img;
  }

  window.ArenaBoards = { draw: draw, drawFrame: drawFrame };
})();
