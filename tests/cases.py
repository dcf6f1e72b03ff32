"""Tiny configurations of every registered model, for the registry-wide tests.

A new model adds its cases here (one per option that changes the computation);
``test_registry_covered`` fails if a registered model has none.
"""

INPUT_DIM = 12
# A fixed network for the perceptual option: a tiny ConvClassifier reading the 12 features
# as (3, 2, 2) images.
PERCEPTUAL_NET = {"kind": "conv_classifier",
                  "config": {"input_shape": (3, 2, 2), "channels": (4,), "hidden": 8}}

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
    ("ssvae", {"n_classes": 3}),  # M2; test_semi_supervised covers unlabelled rows
    ("ssvae", {"n_classes": 3, "likelihood": "bernoulli", "activation": "tanh", "beta": 0.3,
               "classifier_hidden": (5,), "k": 2}),
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
    ("autorec", {"activation": "tanh", "mask_noise": 0.2}),  # MIDA's denoising form
    ("autorec", {"mask_noise": 0.25, "visible_weight": 0.0, "read_mask": True}),  # the imputer's
    ("aae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "tanh"}),
    # Convolutional backbone, on the 12 features read as (3, 2, 2) images.
    ("ae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "elu"}),
    ("ae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4, 5), "tied": True}),
    ("denoising", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (8,), "activation": "tanh",
                   "corruption": "salt_pepper", "noise": 0.3}),
    ("contractive", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,)}),
    ("vae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,)}),
    ("wae", {"penalty": "gan", "disc_hidden": (8, 8)}),  # WAE-GAN: a latent adversary
    # VAE-GAN; a 12-unit Dis_l makes the feature term's floor the test's 12-feature one, and
    # a slow discriminator keeps that feature space still enough for the term to fall.
    ("vae_gan", {"gamma": 1.0, "disc_hidden": (12,), "beta": 0.1, "disc_lr_scale": 0.05}),
    ("vae_gan", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,), "disc_hidden": (12, 6),
                 "feature_layer": 0, "gamma": 1.0, "beta": 0.1, "disc_lr_scale": 0.05}),
    # The perceptual (DFC) option, with a tiny fixed ConvClassifier on the (3, 2, 2) view.
    ("ae", {"perceptual": {"network": PERCEPTUAL_NET, "layers": [0, 1]}}),
    ("vae", {"backbone": "conv", "input_shape": (3, 2, 2), "hidden": (4,),
             "perceptual": {"network": PERCEPTUAL_NET, "weight": 0.5, "pixel_weight": 0.5}}),
    # PixelCNN decoder over the 12 features read as tiny images.
    ("pixel_vae", {"input_shape": (1, 3, 4), "channels": 8, "n_layers": 1, "kernel_size": 3}),
    ("pixel_vae", {"input_shape": (3, 2, 2), "backbone": "conv", "hidden": (4,), "channels": 4,
                   "n_layers": 2, "objective": "iwae", "k": 3}),
    # 12 features read as a (1, 1, 12) image; conditional, two stochastic layers.
    ("pixel_vae", {"n_classes": 3, "intermediate_dims": (3,), "latent_hidden": (5,), "channels": 4,
                   "n_layers": 0, "kernel_size": 5}),
]


def case_id(case) -> str:
    name, cfg = case
    return name + ("-" + "-".join(f"{k}={v}" for k, v in cfg.items()) if cfg else "")


def build(name: str, cfg: dict, seed: int = 0):
    import aelab

    base = {"input_shape": INPUT_DIM, "latent_dim": 4, "hidden": (8,)}
    base.update(cfg)
    return aelab.create(name, seed=seed, **base)
