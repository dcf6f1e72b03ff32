"""`aelab sample`: draw new examples from a saved generative model's prior."""

from __future__ import annotations

import io
import math

import numpy as np

from aelab.cli.options import Formatter
from aelab.core.io import atomic_write_bytes
from aelab.models import list_models
from aelab.models.persistence import load_model, read_config
from aelab.report.figures import image_grid


def add_parser(sub):
    p = sub.add_parser("sample", help="draw samples from a saved generative model "
                                      f"({', '.join(list_models(can_sample=True))})",
                       formatter_class=Formatter)
    p.add_argument("model_dir", help="directory written by `aelab train`")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw")
    p.add_argument("--label", type=int, default=None,
                   help="class to draw from (conditional models; label-assigned priors)")
    p.add_argument("--out", required=True,
                   help="output file: .png draws an image grid (image data), .npy saves the array")
    p.set_defaults(func=run)


def run(args) -> int:
    model = load_model(args.model_dir)
    samples = model.sample(args.n, seed=args.seed, y=args.label)
    if str(args.out).endswith(".npy"):
        buf = io.BytesIO()
        np.save(buf, samples.astype(np.float32), allow_pickle=False)
        atomic_write_bytes(args.out, buf.getvalue())
    else:
        shape = image_shape(model, read_config(args.model_dir).get("metadata", {}))
        image_grid(samples, shape, args.out, ncols=int(math.ceil(math.sqrt(args.n))), unit_range=True,
                   title=f"{model.name}: {args.n} samples (seed {args.seed})")
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def image_shape(model, metadata: dict) -> tuple[int, ...]:
    """(H, W) of the model's examples, from its saved metadata or its input shape."""
    if metadata.get("image_shape"):
        return tuple(metadata["image_shape"])
    if len(model.input_shape) == 3 and model.input_shape[0] == 1:
        return model.input_shape[1:]
    if len(model.input_shape) == 2:
        return model.input_shape
    raise ValueError(f"{model.name} was not trained on grayscale images, so its samples cannot be "
                     "drawn as a grid; use --out samples.npy.")
