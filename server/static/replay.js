// The replay viewer: step through the positions arena.replay rebuilt, with the buttons,
// the scrubber or the keyboard (arrows, Home, End, space). Frames are JSON in the page;
// each is drawn as a board (boards.js), as an image (MPE, Atari: one PNG per step,
// the next ones loaded ahead), and its text, when the env has one, sits in a <details>.
(function () {
  "use strict";
  var root = document.getElementById("replay");
  var data = document.getElementById("replay-data");
  if (!root || !data) return;
  var frames = JSON.parse(data.textContent);
  var view = root.querySelector(".view");
  var text = root.querySelector(".frame");
  var moves = root.querySelector(".moves");
  var where = root.querySelector(".where");
  var range = root.querySelector("input[type=range]");
  var playButton = root.querySelector("[data-step=play]");
  var boards = window.ArenaBoards;
  var loaded = {};  // image URLs asked for already
  var AHEAD = 5;  // images loaded ahead of the step shown
  var at = 0;
  var timer = null;

  function preload(i) {
    for (var k = i + 1; k <= i + AHEAD && k < frames.length; k++) {
      var src = frames[k].image;
      if (src && !loaded[src]) { loaded[src] = true; new Image().src = src; }
    }
  }
  function draw(f) {
    if (boards && f.board && boards.draw(view, f.board, {})) return;
    if (boards && f.image) { loaded[f.image] = true; boards.drawFrame(view, f.image, "step " + f.number); return; }
    view.replaceChildren();  // no board and no image (past the image cap): the moves say it
  }
  function show(i) {
    at = Math.max(0, Math.min(frames.length - 1, i));
    var f = frames[at];
    draw(f);
    preload(at);
    if (text) text.textContent = f.text === null ? "" : f.text;
    moves.textContent = at === 0 ? "start" : "move " + f.number + ": " +
      f.moves.map(function (m) { return m[0] + " " + m[1]; }).join(", ");
    where.textContent = "step " + at + " of " + (frames.length - 1);
    range.value = String(at);
    if (at === frames.length - 1) stop();
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    playButton.textContent = "▷";
  }
  function play() {
    if (timer) { stop(); return; }
    if (at === frames.length - 1) show(0);
    playButton.textContent = "❚❚";
    // Image frames (MPE, Atari) are many short steps: play them faster than board moves.
    var images = frames.some(function (f) { return f.image; });
    timer = setInterval(function () { show(at + 1); }, images ? 150 : 700);
  }
  var steps = {
    first: function () { stop(); show(0); },
    prev: function () { stop(); show(at - 1); },
    next: function () { stop(); show(at + 1); },
    last: function () { stop(); show(frames.length - 1); },
    play: play
  };
  root.addEventListener("click", function (e) {
    var step = e.target.closest("[data-step]");
    if (step) steps[step.dataset.step]();
  });
  range.addEventListener("input", function () { stop(); show(parseInt(range.value, 10)); });
  document.addEventListener("keydown", function (e) {
    if (e.target.closest("input, textarea, select, summary") && e.target !== range) return;
    var keys = { ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last", " ": "play" };
    var step = keys[e.key];
    if (!step) return;
    e.preventDefault();
    steps[step]();
  });
  show(0);
})();
