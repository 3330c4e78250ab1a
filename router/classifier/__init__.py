"""Which specialist should answer: a request → category, calibrated confidence and reasons.

`classify` is the router's classifier: deterministic signals (an image part decides vision; code
syntax, math notation and multilingual cue words are features) and a small logistic regression
shipped as `model.npz`. `classify_rules` is the rules-only baseline. Neither imports more than
numpy and the standard library.
"""

from router.classifier.conversation import MAX_CHARS
from router.classifier.model import classify
from router.classifier.result import Classification, with_fallback
from router.classifier.rules import classify_rules

__all__ = ["MAX_CHARS", "Classification", "classify", "classify_rules", "with_fallback"]
