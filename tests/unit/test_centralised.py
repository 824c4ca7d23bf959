"""The centralised critics' first layer with weight rows in seat order equals the
own-seat-first input it replaces, in values and in gradients."""

from __future__ import annotations

import pytest
import torch

from agents.common.centralised import (
    JointCritic,
    joint_critic_input,
    own_first_order,
    seat_order_rows,
)
from agents.common.stacked import StackedMLP

N, OBS, A, B = 4, 7, 3, 32


def _inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(B, N, OBS, generator=g, dtype=torch.float64)
    act = torch.randn(B, N, A, generator=g, dtype=torch.float64)
    own = torch.randn(N, B, A, generator=g, dtype=torch.float64)
    return obs, act, own


def _old_joint(act: torch.Tensor, own: torch.Tensor | None) -> torch.Tensor:
    """Critic ``i``'s view of the joint action ``[N, B, N, a]``, as the trainers built it."""
    joint = act.unsqueeze(0).expand(N, *act.shape)
    if own is None:
        return joint
    eye = torch.eye(N, dtype=act.dtype)[:, None, :, None]
    return joint * (1.0 - eye) + own.unsqueeze(2) * eye


def _grads(net: StackedMLP, *tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.grad.clone() for t in (*net.parameters(), *tensors)]  # type: ignore[union-attr]


def test_rows_put_each_seat_where_its_critic_reads_it() -> None:
    rows = seat_order_rows(3, 2, 1)
    # Critic 1 reads seats (1, 0, 2): seat 0's observation is its rows 2-3, seat 1's rows 0-1.
    assert rows[1].tolist() == [2, 3, 0, 1, 4, 5, 7, 6, 8]
    assert rows[0].tolist() == list(range(9))


@pytest.mark.parametrize("seat_net", [None, [0, 0, 1, 0]])  # per seat, or shared by role
@pytest.mark.parametrize("with_own", [False, True])
def test_seat_order_weights_equal_own_first_inputs(
    seat_net: list[int] | None, with_own: bool
) -> None:
    nets = 2 if seat_net else N
    critic = StackedMLP(nets, (N * (OBS + A), 16, 16, 1), seat_net=seat_net).double()
    obs, act, own = _inputs(0)
    for t in (obs, act, own):
        t.requires_grad_(True)
    mine = own if with_own else None
    old = critic(joint_critic_input(obs, _old_joint(act, mine), own_first_order(N)))
    (old * torch.linspace(-1, 1, B, dtype=old.dtype)[:, None]).sum().backward()
    old_grads = _grads(critic, obs, act, own) if with_own else _grads(critic, obs, act)
    for p in (*critic.parameters(), obs, act, own):
        p.grad = None
    new = JointCritic(N, OBS, A)(critic, obs, act, mine)
    (new * torch.linspace(-1, 1, B, dtype=new.dtype)[:, None]).sum().backward()
    new_grads = _grads(critic, obs, act, own) if with_own else _grads(critic, obs, act)
    torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
    assert len(new_grads) == len(old_grads)
    for g_new, g_old in zip(new_grads, old_grads, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=0, atol=1e-6)


def test_twins_without_own_action_equal_the_zeroed_input() -> None:
    # Discrete MASAC: 2N critic rows (twins), own action slot zeroed, float32 as trained.
    seat_net = [0, 0, 1, 0]
    critic = StackedMLP(4, (N * (OBS + A), 16, 16, A), seat_net=[*seat_net, 2, 2, 3, 2])
    obs, act, _ = (t.float() for t in _inputs(1))
    act.requires_grad_(True)
    eye = torch.eye(N)[:, None, :, None]
    x = joint_critic_input(obs, _old_joint(act, None) * (1.0 - eye), own_first_order(N))
    old = critic(torch.cat([x, x]))
    old.sum().backward()
    old_grads = _grads(critic, act)
    for p in (*critic.parameters(), act):
        p.grad = None
    new = JointCritic(N, OBS, A, copies=2, own_action=False)(critic, obs, act)
    new.sum().backward()
    torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
    for g_new, g_old in zip(_grads(critic, act), old_grads, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=0, atol=1e-5)
