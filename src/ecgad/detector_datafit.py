"""The Detector's data-fit methods: the model's side of the check in ``ecgad.datafit``.

``datafit`` holds the rule (pure numbers); this module measures what the rule is given,
each beat's *domain distance* in the latent space of the model's members, and keeps the
reference codes the distances are measured against. ``Detector`` inherits these methods
(``data_fit``, ``predict_with_data_fit``, ``domain_distance``, ``calibrate_data_fit``,
``has_data_fit``); they use its model (``_evaluate``, ``_latent_distance``, ``_verdicts``) and
its state (``length``, ``latent_neighbours``, ``latent_train``, ``latent_abnormal``, ``fit_check``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .calibration import floored_log as _log
from .data.beats import prepare
from .datafit import DataFit
from .datafit import warnings as datafit_warnings

if TYPE_CHECKING:
    from .detector import Detector
    from .verdict import Verdict


class DataFitMethods:
    """Mixed into ``Detector`` (see the module docstring)."""

    def predict_with_data_fit(self, beats) -> tuple[list[Verdict], list[dict]]:
        """``predict(beats)`` and ``data_fit(beats)`` together, the model run once."""
        self._require_fitted()
        if (self.fit_check is None or self.fit_check.min_beats > 1) and (fast := self._one_beat(beats)):
            return [fast[0].verdict(fast[1], self.model_info())], []  # one beat: no group to judge
        prepared = prepare(beats, self.length)
        evaluated = self._evaluate(prepared, codes=bool(self.latent_neighbours))
        # under the check's minimum group size there is nothing to judge: no distances to measure
        checked = self.fit_check is not None and len(prepared) >= self.fit_check.min_beats
        warnings = datafit_warnings(self._domain_distance(evaluated[2]), self.fit_check) if checked else []
        return self._verdicts(prepared, evaluated), warnings

    def calibrate_data_fit(self, beats, is_anomaly, **settings) -> Detector:
        """Set up the data-fit check from the validation beats (never trained on) and their
        labels, ``(n,)`` booleans, as ``fit`` does; for a model fitted before the check existed. ``settings``
        override ``ecgad.datafit``'s constants (quantile, share, alpha, min_beats)."""
        self._require_fitted()
        if not self.latent_neighbours:
            raise ValueError("the data-fit check needs a model whose score has a latent part")
        prepared = prepare(beats, self.length)
        is_anomaly = np.asarray(is_anomaly, dtype=bool)
        if len(is_anomaly) != len(prepared):
            raise ValueError("validation labels and beats differ in number")
        self._calibrate_data_fit(self._evaluate(prepared, codes=True)[2], is_anomaly, **settings)
        return self

    def _calibrate_data_fit(self, latent: np.ndarray, is_anomaly: np.ndarray, **settings) -> None:
        # The reference: training normals and validation abnormal beats, each of the latter
        # measured against the others (leave one out), so all validation beats are held out alike.
        self.latent_abnormal = latent[:, is_anomaly].astype(np.float32) if is_anomaly.any() else None
        own = is_anomaly if self.latent_abnormal is not None else None
        distances = self._latent_distance(latent, refs=self._domain_refs(), skip=own)
        self.fit_check = DataFit.calibrate(_log(distances), **settings)

    def _domain_refs(self) -> np.ndarray:
        if self.latent_abnormal is None:
            return self.latent_train
        cached = getattr(self, "_domain_refs_cache", None)  # made once, not per call
        if cached is None or cached[0] is not self.latent_train or cached[1] is not self.latent_abnormal:
            both = np.concatenate([self.latent_train, self.latent_abnormal], axis=1)
            cached = self._domain_refs_cache = (self.latent_train, self.latent_abnormal, both)
        return cached[2]

    def domain_distance(self, beats, *, stored_abnormal=None) -> np.ndarray:
        """Each beat's domain distance, ``(n,)``, the log of a latent-code distance: how far
        its latent code lies from every beat the model knows of its training side
        (``ecgad.datafit``). Needs a model with the data fit.

        ``stored_abnormal``: ``(n,)`` booleans marking the beats that are the validation abnormal
        beats the model stores (in their order, as ``calibrate_data_fit`` was given them):
        each of those is measured against the others, as the calibration measured it."""
        self._require_fitted()
        if self.fit_check is None:
            raise ValueError("this model has no data-fit check (written before it existed, or no latent part)")
        latent = self._evaluate(prepare(beats, self.length), codes=True)[2]
        if stored_abnormal is None:
            return self._domain_distance(latent)
        stored_abnormal = np.asarray(stored_abnormal, dtype=bool)
        stored = 0 if self.latent_abnormal is None else self.latent_abnormal.shape[1]
        if stored_abnormal.shape != (latent.shape[1],) or stored_abnormal.sum() != stored:
            raise ValueError(f"stored_abnormal must mark {stored} of the {latent.shape[1]} beats "
                             "(the validation abnormal beats this model stores)")
        return self._domain_distance(latent, stored_abnormal if stored else None)

    def _domain_distance(self, latent: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
        return _log(self._latent_distance(latent, refs=self._domain_refs(), skip=skip))

    def data_fit(self, beats) -> list[dict]:
        """Warnings about the beats as a group: ``[{"code": "unlike_training_data", "message": ...}]``
        when they do not look like the model's training data, else ``[]``. Also ``[]`` for fewer
        than ``ecgad.datafit.MIN_BEATS`` beats and for a model without the check (see ``has_data_fit``)."""
        self._require_fitted()
        if self.fit_check is None:
            prepare(beats, self.length)  # bad beats fail here too, as everywhere else
            return []
        return datafit_warnings(self.domain_distance(beats), self.fit_check)

    @property
    def has_data_fit(self) -> bool:
        """Whether ``data_fit`` can warn (the model has the check; see ``ecgad.datafit``)."""
        return self.fit_check is not None
