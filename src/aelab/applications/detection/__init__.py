"""Anomaly detection with autoencoders: scorers and their normalisation (``scoring``),
code-space nearest neighbours (``neighbors``), ensembles and their saving (``ensemble``),
data-dependent defaults (``defaults``) and the trimmed refits of the fit (``refits``).
"""

from aelab.applications.detection.defaults import (
    AUTO_NEIGHBORS,
    NEIGHBOR_MAX_CODE,
    TARGET_STEPS,
    AutoSettings,
    auto_neighbors,
    auto_settings,
    spread_code_sizes,
)
from aelab.applications.detection.ensemble import ARRAYS_FILE, MAX_REFERENCE, Ensemble, fit_ensemble
from aelab.applications.detection.neighbors import KD_TREE_MAX_DIM, knn_distances
from aelab.applications.detection.refits import fit_detector
from aelab.applications.detection.scoring import (
    NORMALIZATIONS,
    SCORERS,
    auto_threshold,
    elbo_scores,
    explain_shares,
    feature_scores,
    reconstruction_scores,
    register_scorer,
    score_scales,
    top_features,
    trim_threshold,
)

__all__ = ["ARRAYS_FILE", "AUTO_NEIGHBORS", "KD_TREE_MAX_DIM", "MAX_REFERENCE", "NEIGHBOR_MAX_CODE",
           "NORMALIZATIONS", "SCORERS", "TARGET_STEPS", "AutoSettings", "Ensemble", "auto_neighbors",
           "auto_settings", "auto_threshold", "elbo_scores", "explain_shares", "feature_scores",
           "fit_detector", "fit_ensemble", "knn_distances", "reconstruction_scores",
           "register_scorer", "score_scales", "spread_code_sizes", "top_features", "trim_threshold"]
