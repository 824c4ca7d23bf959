"""Allocates 50 MB blocks (touching every page) until something stops it."""


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        hoard = []
        while True:
            block = bytearray(50 * 1024 * 1024)
            block[::4096] = b"\x01" * len(block[::4096])  # make the pages real
            hoard.append(block)


def make_agent(ctx):
    return Agent()
