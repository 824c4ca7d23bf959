"""Terminal escapes in everything it says.

Retitles the window (OSC 0 ... BEL), clears the screen (CSI 2J), colours text,
uses the 8-bit C1 CSI (U+009B), a bidi override, and a carriage return to
overwrite a line; in its output and in the message it raises in its third act
(the last line of a traceback is what ``arena replay`` shows).
"""

import sys

NASTY = (
    "\x1b]0;hostile-escapes-pwned\x07\x1b[2J\x1b[H\x1b[1;31mRED\x1b[0m"
    " \x9b2J \u202egnp.exe\u202c \x1bP+q\x1b\\ fake-prompt\rOVERWRITTEN \x08\x08\x7f"
)


class Agent:
    def __init__(self):
        self.moves = 0

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        self.moves += 1
        print("hostile-escapes says " + NASTY)
        print("hostile-escapes stderr " + NASTY, file=sys.stderr)
        if self.moves == 3:
            raise RuntimeError("hostile-escapes " + NASTY)
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
