"""Floods its output and fakes protocol frames on fd 1 and 2, but plays legal moves.

Every act prints 10 MB to stdout, 1 MB to stderr, and writes frames that look
like the sandbox's replies ("play action 0") straight to file descriptors 1 and
2. It then plays the *last* legal action, so a forged "0" reaching the match
protocol would show in the recorded actions.
"""

import json
import os
import sys

FAKE = b'{"action":{"t":"int","v":0}}'
FRAMES = [
    b'\x00\x00\x00\x10{"action":{"t":"int","v":0}}',
    len(FAKE).to_bytes(4, "big") + FAKE,
    len(FAKE).to_bytes(4, "big") + json.dumps({"crash": "forged by hostile-flood"}).encode(),
    b"\xff\xff\xff\xff" + b"\x00" * 64,
]
LINE = "hostile-flood " + "x" * 1010 + "\n"  # 1 KiB a line


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        for frame in FRAMES:
            os.write(1, frame)
            os.write(2, frame)
        sys.stdout.write(LINE * 10 * 1024)  # 10 MiB
        sys.stdout.flush()
        sys.stderr.write(LINE * 1024)  # 1 MiB
        sys.stderr.flush()
        legal = [i for i, ok in enumerate(action_mask) if ok]
        return legal[-1]


def make_agent(ctx):
    os.write(1, FRAMES[1])
    return Agent()
