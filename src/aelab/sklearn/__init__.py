"""scikit-learn estimators built on aelab autoencoders.

On tables (NumPy arrays or DataFrames; string and categorical columns one-hot encoded),
each passing scikit-learn's estimator checks: ``AutoencoderTransformer`` (codes as
features), ``AutoencoderOutlierDetector`` (reconstruction-error outlier detection),
``AutoencoderClusterer`` (k-means on codes, DEC, IDEC, N2D) and ``AutoencoderImputer``
(fills NaN). On other inputs, with the same conventions: ``AutoRecRecommender`` (a table
of user, item, rating) and ``SemanticHasher`` (texts → binary codes in a hash table).
Every one saves as JSON + safetensors (:func:`load` reads any of them back), never pickle;
:class:`PartitionScorer` applies a saved one to a Dask DataFrame partition by partition.

>>> from aelab.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer
"""

from aelab.sklearn.clusterer import AutoencoderClusterer
from aelab.sklearn.detector import AutoencoderOutlierDetector
from aelab.sklearn.hasher import SemanticHasher
from aelab.sklearn.imputer import AutoencoderImputer
from aelab.sklearn.recommender import AutoRecRecommender
from aelab.sklearn.saved import ESTIMATORS, PartitionScorer, load
from aelab.sklearn.tabular import TabularEncoder
from aelab.sklearn.transformer import AutoencoderTransformer

__all__ = ["ESTIMATORS", "EXPECTED_FAILED_CHECKS", "AutoRecRecommender", "AutoencoderClusterer",
           "AutoencoderImputer", "AutoencoderOutlierDetector", "AutoencoderTransformer",
           "PartitionScorer", "SemanticHasher", "TabularEncoder", "load"]

# scikit-learn estimator checks that cannot apply, per estimator, with the reason (used by
# tests/test_sklearn.py, test_clustering.py and test_imputer.py through
# parametrize_with_checks' expected_failed_checks). Empty: the table estimators pass every
# check that scikit-learn runs on them.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "AutoencoderTransformer": {},
    "AutoencoderOutlierDetector": {},
    "AutoencoderImputer": {},
    "AutoencoderClusterer": {},
}
