"""Plain autoencoder: undercomplete or overcomplete, optionally tied or linear.

Goodfellow, Bengio & Courville, *Deep Learning* (2016), §14.1; a ``linear`` model
trained with squared error spans the principal subspace (Baldi & Hornik 1989).
"""

from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("ae")
class AE(Autoencoder):
    """Minimises L(x, g(f(x))) alone. See :class:`aelab.models.base.Autoencoder`."""
