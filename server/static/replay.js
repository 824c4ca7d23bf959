// The replay viewer: step through the text frames arena.replay rebuilt, with the buttons,
// the scrubber or the keyboard (arrows, Home, End, space). Frames are JSON in the page.
(function () {
  "use strict";
  var root = document.getElementById("replay");
  var data = document.getElementById("replay-data");
  if (!root || !data) return;
  var frames = JSON.parse(data.textContent);
  var board = root.querySelector(".frame");
  var moves = root.querySelector(".moves");
  var where = root.querySelector(".where");
  var range = root.querySelector("input[type=range]");
  var playButton = root.querySelector("[data-step=play]");
  var at = 0;
  var timer = null;

  function show(i) {
    at = Math.max(0, Math.min(frames.length - 1, i));
    var f = frames[at];
    if (f.text !== null) board.textContent = f.text;
    else board.textContent = "";
    board.hidden = f.text === null;
    moves.textContent = at === 0 ? "start" : "move " + f.number + ": " +
      f.moves.map(function (m) { return m[0] + " " + m[1]; }).join(", ");
    where.textContent = at + " / " + (frames.length - 1);
    range.value = String(at);
    if (at === frames.length - 1) stop();
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    playButton.textContent = "▶";
  }
  function play() {
    if (timer) { stop(); return; }
    if (at === frames.length - 1) show(0);
    playButton.textContent = "⏸";
    timer = setInterval(function () { show(at + 1); }, 700);
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
    if (e.target.closest("input, textarea, select") && e.target !== range) return;
    var keys = { ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last", " ": "play" };
    var step = keys[e.key];
    if (!step) return;
    e.preventDefault();
    steps[step]();
  });
  show(0);
})();
