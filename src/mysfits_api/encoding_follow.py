"""The Lambda follows its model's encoding when a retrained model with the other encoding starts serving.

The endpoint reloads its model file on its own (locally within a second; on AWS only through a deploy), so for a
moment the handler's configured ``MODEL_ENCODING`` may name the encoding of the previous model. An endpoint refuses
a row of the wrong width with a ``ModelError`` that names ``feature_dim``: on that refusal alone the row is sent
once more in the other encoding, and when that is answered, the follower keeps the new encoding for every later
request of this container. The visitor sees one answer, never an error; a switch costs one extra call, once.

Only two encodings exist, so "the other" is exact. Any other failure is left to the caller unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mysfits_api import encoding as encodings
from mysfits_api.errors import ModelFailed
from mysfits_api.recommend import Prediction, predict

_WIDTH_REFUSAL = "feature_dim"
"""What the endpoint's refusal of a row of the wrong width says (the local endpoint's parser names the model's
``feature_dim``, as SageMaker's built-in kNN names its hyperparameter)."""


class EncodingFollower:
    """Calls :func:`mysfits_api.recommend.predict` in the encoding the serving model answers to."""

    def __init__(self, configured: str, on_switch: Callable[[str, str, str], None] | None = None):
        self.encoding = encodings.check(configured)
        self._on_switch = on_switch

    def predict(self, client: Any, endpoint_name: str, answers: Sequence[int]) -> Prediction:
        encoding = self.encoding
        try:
            return predict(client, endpoint_name, answers, encoding)
        except ModelFailed as refusal:
            if _WIDTH_REFUSAL not in str(refusal):
                raise
            other = next(name for name in encodings.ENCODINGS if name != encoding)
            prediction = predict(client, endpoint_name, answers, other)  # its own failure is the one reported
            self.encoding = other
            if self._on_switch is not None:
                self._on_switch(encoding, other, str(refusal))
            return prediction
