"""Run by tests/test_distributed.py under torchrun (2 CPU ranks): trains small models with
aelab.train and writes each rank's weights, so the test can compare them with one process.

    torchrun --standalone --nproc-per-node 2 tests/ddp_job.py DATA.npy OUT_DIR
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import aelab
from aelab.training.distributed import rank

torch.set_num_threads(1)
x = np.load(sys.argv[1])
out = Path(sys.argv[2])
r = rank()


def save(name, model, result=None):
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              out / f"{name}.rank{r}.safetensors")
    if result is not None:
        (out / f"{name}.rank{r}.json").write_text(json.dumps(result.to_dict()))


# 1. A deterministic model: the same steps as one process with the same global batch.
ae = aelab.create("ae", input_shape=x.shape[1], latent_dim=3, hidden=(16,), seed=0)
save("ae", ae, aelab.train(ae, x, epochs=3, batch_size=50, seed=0))

# 2. A noisy model, interrupted and resumed under 2 ranks vs uninterrupted.
def dae():
    return aelab.create("denoising", input_shape=x.shape[1], latent_dim=3, hidden=(16,),
                        corruption="gaussian", noise=0.2, seed=0)

full = dae()
aelab.train(full, x, epochs=4, batch_size=40, seed=1, checkpoint_dir=out / "ckpt_full")
save("dae_full", full)
part = dae()
aelab.train(part, x, epochs=2, batch_size=40, seed=1, checkpoint_dir=out / "ckpt_part")
resumed = dae()
aelab.train(resumed, x, epochs=4, batch_size=40, seed=1, checkpoint_dir=out / "ckpt_part",
            resume=True)
save("dae_resumed", resumed)

# 3. A multi-phase model with validation and early stopping.
aae = aelab.create("aae", input_shape=x.shape[1], latent_dim=2, hidden=(16,), seed=0)
save("aae", aae, aelab.train(aae, x, epochs=6, batch_size=32, seed=0, validation_split=0.2,
                             early_stopping=2))
