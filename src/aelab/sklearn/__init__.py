"""scikit-learn estimators built on aelab autoencoders.

``AutoencoderTransformer`` (codes as features) and ``AutoencoderOutlierDetector``
(reconstruction-error outlier detection). Both take NumPy arrays or DataFrames (string
and categorical columns are one-hot encoded), work in ``Pipeline``/``GridSearchCV``, and
save as JSON + safetensors (:func:`load` reads either back).

>>> from aelab.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer
"""

from aelab.sklearn._base import read_estimator_file
from aelab.sklearn.detector import AutoencoderOutlierDetector
from aelab.sklearn.tabular import TabularEncoder
from aelab.sklearn.transformer import AutoencoderTransformer

ESTIMATORS = {cls.__name__: cls for cls in (AutoencoderTransformer, AutoencoderOutlierDetector)}


def load(path):
    """Load an estimator saved with ``save(path)``, whichever class it is."""
    name = read_estimator_file(path)["estimator"]
    if name not in ESTIMATORS:
        raise ValueError(f"{str(path)!r} holds an unknown estimator {name!r}; known: {sorted(ESTIMATORS)}.")
    return ESTIMATORS[name].load(path)


__all__ = ["ESTIMATORS", "EXPECTED_FAILED_CHECKS", "AutoencoderOutlierDetector",
           "AutoencoderTransformer", "TabularEncoder", "load"]

# scikit-learn estimator checks that cannot apply, per estimator, with the reason (used by
# tests/test_sklearn.py through parametrize_with_checks' expected_failed_checks). Empty:
# both estimators pass every check that scikit-learn runs on them.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "AutoencoderTransformer": {},
    "AutoencoderOutlierDetector": {},
}
