"""Plays a fixed tic-tac-toe line: two copies of this package draw.

Final board (cells 0-8 row-major): X O X / X O O / O X X.
"""

PREFERENCES = {"player_1": [0, 2, 7, 3, 8], "player_2": [4, 1, 6, 5]}


class Agent:
    def __init__(self, agent_id):
        self.order = PREFERENCES[agent_id]

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        for cell in self.order:
            if action_mask[cell]:
                return cell
        raise RuntimeError("ttt-script: script exhausted")


def make_agent(ctx):
    return Agent(ctx.agent_id)
