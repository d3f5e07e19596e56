"""The training loop: Adam on normal beats, early stopping on a validation figure."""
from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .train_config import TrainConfig  # noqa: F401 (importable from here, as before)


@dataclass
class TrainResult:
    best_epoch: int
    best_figure: float
    figure_name: str
    history: list[dict] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(
    model: torch.nn.Module,
    normals: np.ndarray,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    validate: Callable[[], tuple[str, float]],
    config: TrainConfig = TrainConfig(),
    progress: bool = True,
    desc: str = "training",
) -> TrainResult:
    """Fit ``model`` to reconstruct ``normals`` (already in model input space).

    ``validate()`` returns a (name, figure) pair where higher is better; the
    weights of the best epoch are restored at the end.
    """
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    x = torch.as_tensor(normals, dtype=torch.float32)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    best_state, result = None, TrainResult(best_epoch=-1, best_figure=-np.inf, figure_name="")
    bar = tqdm(range(config.epochs), desc=desc, unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            batch = x[order[start:start + config.batch_size]]
            noisy = batch + config.noise * torch.randn(batch.shape, generator=generator) if config.noise else batch
            loss = loss_fn(model(noisy), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        scheduler.step()
        model.eval()
        name, figure = validate()
        result.figure_name = name
        result.history.append({"epoch": epoch, "loss": total / len(x), name: figure})
        if figure > result.best_figure:
            result.best_epoch, result.best_figure = epoch, figure
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{total / len(x):.4f}", **{name: f"{figure:.4f}", "best": f"{result.best_figure:.4f}"})
        if epoch - result.best_epoch >= config.patience:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result
