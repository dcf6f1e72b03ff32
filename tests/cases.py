"""Tiny configurations of every registered model, for the registry-wide tests.

A new model adds its cases here (one per option that changes the computation);
``test_registry_covered`` fails if a registered model has none.
"""

INPUT_DIM = 12

MODEL_CASES: list[tuple[str, dict]] = [
    ("ae", {}),
    ("ae", {"tied": True}),
    ("ae", {"linear": True}),
    ("ae", {"hidden": (16, 8), "activation": "tanh"}),
    ("ae", {"likelihood": "bernoulli"}),
    ("ae", {"latent_dim": 24}),  # overcomplete
    ("sparse", {"penalty": "l1", "sparsity_weight": 0.1}),
    ("sparse", {"penalty": "kl", "sparsity_weight": 0.1, "rho": 0.1}),
    ("sparse", {"penalty": "topk", "k": 2}),
    ("denoising", {"corruption": "gaussian", "noise": 0.2}),
    ("denoising", {"corruption": "masking", "noise": 0.3}),
    ("denoising", {"corruption": "salt_pepper", "noise": 0.3}),
    ("contractive", {}),
    ("contractive", {"hidden": (10,), "code_activation": "tanh"}),
]


def case_id(case) -> str:
    name, cfg = case
    return name + ("-" + "-".join(f"{k}={v}" for k, v in cfg.items()) if cfg else "")


def build(name: str, cfg: dict, seed: int = 0):
    import aelab

    base = {"input_shape": INPUT_DIM, "latent_dim": 4, "hidden": (8,)}
    base.update(cfg)
    return aelab.create(name, seed=seed, **base)
