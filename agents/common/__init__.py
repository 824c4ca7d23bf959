"""Parts shared by the trainers: packages, checkpoints, logs, evaluation, buffers, networks."""
