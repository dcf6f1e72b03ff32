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
    ("rcae", {"contraction_weight": 0.1}),
    ("dec", {"n_clusters": 3, "reconstruction_weight": 1.0}),  # IDEC; DEC in test_clustering
    ("vae", {}),
    # beta < 1: on these soft targets a Bernoulli VAE at beta=1 rightly ignores the code.
    ("vae", {"likelihood": "bernoulli", "activation": "tanh", "beta": 0.3}),
    ("vae", {"objective": "iwae", "k": 3}),
    ("vae", {"k": 2, "beta": 4.0, "warmup_epochs": 2}),
    ("vae", {"intermediate_dims": (6,), "latent_hidden": (5,)}),  # two stochastic layers
    ("vae", {"n_classes": 3}),  # conditional VAE
    ("aae", {}),
    ("aae", {"prior": "uniform", "tied": True}),
    ("aae", {"prior": "mixture", "n_components": 3, "label_prior": True}),
    ("aae", {"n_classes": 3}),  # conditional decoder
    ("wae", {}),
    ("psd", {"hidden": (), "sparsity_weight": 0.1, "inference_steps": 10}),
    ("recirculation", {"hidden": ()}),  # linear visible units, squared error reported
    ("recirculation", {"hidden": (), "likelihood": "bernoulli", "regression": 0.5}),  # logistic ones
    ("semantic_hashing", {"noise_std": 1.0, "noise_ramp_epochs": 3}),
    ("semantic_hashing", {"likelihood": "multinomial", "noise_ramp_epochs": 0}),
    ("nash", {}),
    ("nash", {"likelihood": "multinomial", "data_noise": False, "beta": 0.1}),
    ("autorec", {"weight_penalty": 0.01}),
    ("autorec", {"activation": "tanh", "mask_noise": 0.2}),  # the imputer's denoising form
    ("aae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "tanh"}),
    # Convolutional backbone, on the 12 features read as (3, 2, 2) images.
    ("ae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "elu"}),
    ("ae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4, 5), "tied": True}),
    ("denoising", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "tanh",
                   "corruption": "salt_pepper", "noise": 0.3}),
    ("contractive", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,)}),
    ("vae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,)}),
]


def case_id(case) -> str:
    name, cfg = case
    return name + ("-" + "-".join(f"{k}={v}" for k, v in cfg.items()) if cfg else "")


def build(name: str, cfg: dict, seed: int = 0):
    import aelab

    base = {"input_shape": INPUT_DIM, "latent_dim": 4, "hidden": (8,)}
    base.update(cfg)
    return aelab.create(name, seed=seed, **base)
