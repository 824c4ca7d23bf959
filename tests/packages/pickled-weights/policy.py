"""Loads ``weights.pkl`` (a pickled ``model.Preference``) from ctx.package_dir."""

import pickle

import model  # noqa: F401  (the pickle refers to model.Preference)


class Agent:
    def __init__(self, preference):
        self.preference = preference

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return self.preference.pick(action_mask)


def make_agent(ctx):
    with open(ctx.package_dir / "weights.pkl", "rb") as f:
        return Agent(pickle.load(f))
