"""The replay viewer's data: board views in every frame of /api/matches/ID, poker hands
revealed after the match, PNG frames for MPE, and the page that draws them."""

from __future__ import annotations

import struct
from typing import Any

import envs
from arena.registry import get_env
from arena.replay import load_match
from envs import boards
from server.views import IMAGE_FRAME_CAP, FrameCache, replay_boards
from tests.server.server_helpers import Site, record_match

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _replayed_view(env_id: str, seed: int, actions: list[Any]) -> dict[str, Any]:
    spec = get_env(env_id)
    assert spec.render_board is not None
    env = spec.build()
    env.reset(seed=seed)
    for _seat, action in actions:
        env.step(action)
    return spec.render_board(env)


def test_connect_four_frames_carry_the_board_after_each_move(site: Site) -> None:
    match_id = record_match(site.engine, "connect_four_v3", ["one-ply", "random"], seed=3)
    data = site.client.get(f"/api/matches/{match_id}").json()
    frames = data["frames"]
    assert data["board_frames"] is True and data["image_frames"] is False
    assert len(frames) == len(data["actions"]) + 1
    start = frames[0]["board"]
    assert start["kind"] == "connect_four" and all(c["disc"] == "" for c in start["cells"])
    for k in (1, 2, len(frames) - 1):
        assert frames[k]["board"] == _replayed_view("connect_four_v3", 3, data["actions"][:k])
        assert sum(c["disc"] != "" for c in frames[k]["board"]["cells"]) == k
    assert frames[-1]["board"]["to_move"] is None  # the game is over
    assert all(f["image"] is None for f in frames)


def test_tictactoe_frame_marks_follow_the_log(site: Site) -> None:
    match_id = record_match(site.engine, "tictactoe_v3", ["random", "random"], seed=1)
    data = site.client.get(f"/api/matches/{match_id}").json()
    seat, first = data["actions"][0]
    cell = next(c for c in data["frames"][1]["board"]["cells"] if c["mark"])
    assert (seat, 3 * cell["col"] + cell["row"], cell["mark"]) == ("player_1", first, "X")


def test_a_poker_replay_shows_every_hand_from_the_start(site: Site) -> None:
    match_id = record_match(site.engine, "leduc_holdem_v4", ["random", "random"], seed=4)
    data = site.client.get(f"/api/matches/{match_id}").json()
    views = [f["board"] for f in data["frames"]]
    final = views[-1]["hands"]
    assert views[-1]["to_move"] is None and None not in final.values()
    # During play the view hides the seat not to move; after the match the replay shows it.
    live = _replayed_view("leduc_holdem_v4", 4, [])
    assert None in live["hands"].values()
    assert views[0]["hands"] == final and views[0]["revealed"] is True
    # The text frame keeps the rule of envs/render.py: one hand hidden while playing.
    assert "??" in data["frames"][0]["text"]


def test_replay_boards_drop_chess_moves_and_keep_what_never_showed() -> None:
    env = envs.make("chess_v6")
    env.reset(seed=0)
    chess = boards.chess(env)
    assert "moves" in chess
    cards = {"kind": "cards", "hands": {"a": ["HK"], "b": None}}
    shown = replay_boards([chess, cards, None])
    assert shown[0] is not None and "moves" not in shown[0] and shown[0]["fen"] == chess["fen"]
    assert shown[1] == {"kind": "cards", "hands": {"a": ["HK"], "b": None}, "revealed": True}
    assert shown[2] is None


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_an_mpe_match_plays_as_png_frames(site: Site) -> None:
    match_id = record_match(site.engine, "simple_spread_v3", ["random"], seed=0)
    data = site.client.get(f"/api/matches/{match_id}").json()
    assert data["image_frames"] is True and data["board_frames"] is False
    frames = data["frames"]
    assert len(frames) == len(data["actions"]) + 1 <= IMAGE_FRAME_CAP
    assert frames[0]["image"] == f"/api/matches/{match_id}/frames/0.png"
    first = site.client.get(frames[0]["image"])
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert _png_size(first.content) == (700, 700)
    last = site.client.get(frames[-1]["image"])
    assert last.status_code == 200 and last.content != first.content  # the agents moved
    past = site.client.get(f"/api/matches/{match_id}/frames/{len(frames)}.png")
    assert past.status_code == 404


def test_board_games_have_no_png_frames(site: Site) -> None:
    match_id = record_match(site.engine, "tictactoe_v3", ["random", "random"])
    answer = site.client.get(f"/api/matches/{match_id}/frames/0.png")
    assert answer.status_code == 404
    assert answer.json()["detail"] == f"match {match_id} has no image frames on this server"
    assert site.client.get("/api/matches/999/frames/0.png").status_code == 404


def test_the_frame_cache_keeps_the_last_matches_only(site: Site) -> None:
    spec = get_env("simple_spread_v3")
    cache = FrameCache(matches=1)
    ids = [record_match(site.engine, "simple_spread_v3", ["random"], seed=s) for s in (1, 2)]
    first = cache.frames(site.engine, load_match(site.engine, ids[0]), spec)
    assert len(cache) == 1 and all(png[:8] == PNG_MAGIC for png in first)
    cache.frames(site.engine, load_match(site.engine, ids[1]), spec)
    assert len(cache) == 1 and cache.size() > 0
    tiny = FrameCache(matches=4, max_bytes=1)  # over the byte budget: only the newest stays
    tiny.frames(site.engine, load_match(site.engine, ids[0]), spec)
    tiny.frames(site.engine, load_match(site.engine, ids[1]), spec)
    assert len(tiny) == 1


def test_the_match_page_loads_the_board_drawer(site: Site) -> None:
    match_id = record_match(site.engine, "connect_four_v3", ["one-ply", "random"])
    html = site.client.get(f"/matches/{match_id}").text
    assert '<link rel="stylesheet" href="/static/boards.css">' in html
    assert html.index('src="/static/boards.js"') < html.index('src="/static/replay.js"')
    assert '<div class="view"></div>' in html
    assert '<details class="text-frame"><summary>the position as text</summary>' in html
    for path in ("/static/boards.js", "/static/boards.css"):
        assert site.client.get(path).status_code == 200


def test_a_long_match_has_an_image_every_k_steps(site: Site, monkeypatch: Any) -> None:
    monkeypatch.setattr("server.views.IMAGE_FRAME_CAP", 10)
    match_id = record_match(site.engine, "simple_spread_v3", ["random"], seed=5)
    data = site.client.get(f"/api/matches/{match_id}").json()
    steps = len(data["frames"])
    assert steps == 26 and data["image_every"] == 3  # ceil(26 / 10)
    images = [f["image"].rsplit("/", 1)[1] for f in data["frames"]]
    assert images[:7] == ["0.png", "0.png", "0.png", "3.png", "3.png", "3.png", "6.png"]
    assert len(set(images)) == 9 <= 10
    url = f"/api/matches/{match_id}/frames"
    assert site.client.get(f"{url}/24.png").status_code == 200
    assert site.client.get(f"{url}/4.png").status_code == 404  # between two images
    assert "an image is drawn every 3 steps" in site.client.get(f"/matches/{match_id}").text
