"""Runs inside the separate pythae environment (see vae_speed.py): times pythae's own
training loop for the same VAE (784-512-16 MLP, Bernoulli/BCE decoder, Adam, batch 100).

    python _pythae_worker.py MNIST_NPY EPOCHS THREADS SEED   -> prints one JSON line
"""

import json
import sys
import tempfile
import time

import numpy as np
import torch
from pythae.data.datasets import BaseDataset
from pythae.models import VAE, VAEConfig
from pythae.trainers import BaseTrainer, BaseTrainerConfig


def main() -> None:
    path, epochs, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    x = torch.from_numpy(np.load(path, allow_pickle=False)).reshape(-1, 1, 28, 28)
    data = BaseDataset(x, torch.zeros(len(x)))
    # pythae's default MNIST MLPs are exactly 784-512-latent (encoder) and latent-512-784.
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=16, reconstruction_loss="bce"))
    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(output_dir=out, per_device_train_batch_size=100,
                                   num_epochs=epochs, learning_rate=1e-3, no_cuda=True, seed=seed)
        trainer = BaseTrainer(model, data, training_config=config)
        trainer.prepare_training()  # what train() does before its epoch loop
        rates = []
        for epoch in range(1, epochs + 1):  # pythae's inner loop, without its per-epoch extras
            t0 = time.perf_counter()
            trainer.train_step(epoch)
            rates.append(len(x) / (time.perf_counter() - t0))
    n_params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"samples_per_s": rates, "n_params": n_params, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
