"""The arena: a competition platform for multi-agent reinforcement learning."""

__version__ = "0.1.0"
