"""Applications of trained autoencoders: the layer above models and training."""
