"""Which phase dimensions predict the verdict: logistic regression with case-clustered CIs.

Owns :class:`PhaseRegression` and :func:`phase_predictors` (statsmodels ``Logit`` with
cluster-robust covariance by case; Firth's penalised likelihood under separation).
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.model import VERDICT_CODES, Framework

from calibrate.options import Integer, Interval, OneOf, validate_options

from ._common import REFERENCES, _check_values, _framework, _table, _verdict_rows
from .profiles import _reference_phases, _resolve_profiles

@dataclass(frozen=True)
class PhaseRegression:
    """Logistic regression of the verdict (1 = voldaan) on phase scores (0/1/2).

    Attributes
    ----------
    coefficients : DataFrame
        One row per term (``const`` and each dimension id): ``term``, ``coef`` (log odds
        per phase step), ``se``, ``ci_low``, ``ci_high``, ``odds_ratio``, ``or_ci_low``,
        ``or_ci_high``, ``p_value``.
    method : str
        ``"logit"`` (maximum likelihood) or ``"firth"`` (penalised, used after separation).
    cov_type : str
        ``"cluster"`` (cluster-robust by case) or ``"nonrobust"``.
    n, n_events, n_clusters, n_predictors : int
        Observations, the rarer outcome's count, clusters (cases), predictors.
    epv : float
        Events per variable, ``n_events / n_predictors``.
    reliable : bool
        False when EPV < 10, separation occurred, the fit did not converge or there were
        too few clusters; ``warnings`` says which.
    warnings : tuple[str, ...]
        Plain-language reasons to distrust the numbers.
    dropped : tuple[str, ...]
        Dimensions left out because nobody varied on them.
    """

    coefficients: pd.DataFrame
    method: str
    cov_type: str
    n: int
    n_events: int
    n_clusters: int
    n_predictors: int
    epv: float
    reliable: bool
    warnings: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    confidence: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)


def _firth(X: np.ndarray, y: np.ndarray, *, maxiter: int = 200, tol: float = 1e-8):
    """Firth's (1993) penalised logistic regression: maximise l(b) + ½ log det I(b).

    Newton steps on the modified score U* = X'(y − p + h(½ − p)), h the diagonal of the hat
    matrix W½X(X'WX)⁻¹X'W½ (Heinze & Schemper 2002), with step halving. Returns
    (coef, covariance = I(b)⁻¹, converged).
    """
    from scipy.special import expit

    def penalised(b):
        p = np.clip(expit(X @ b), 1e-12, 1 - 1e-12)
        info = X.T @ ((p * (1 - p))[:, None] * X)
        sign, logdet = np.linalg.slogdet(info)
        return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * logdet)

    b = np.zeros(X.shape[1])
    for _ in range(maxiter):
        p = expit(X @ b)
        w = p * (1 - p)
        info = X.T @ (w[:, None] * X)
        cov = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, cov, X)
        step = cov @ (X.T @ (y - p + h * (0.5 - p)))
        step = np.clip(step, -5, 5)
        base = penalised(b)
        for _half in range(30):
            if penalised(b + step) >= base - 1e-12:
                break
            step = step / 2
        b = b + step
        if np.max(np.abs(step)) < tol:
            p = expit(X @ b)
            info = X.T @ ((p * (1 - p))[:, None] * X)
            return b, np.linalg.pinv(info), True
    p = expit(X @ b)
    return b, np.linalg.pinv(X.T @ ((p * (1 - p))[:, None] * X)), False


@validate_options(reference=OneOf(*REFERENCES), method=OneOf("auto", "logit", "firth"), min_clusters=Integer(1),
                  confidence=Interval(0, 1))
def phase_predictors(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    reference: str = "own",
    dimensions: Sequence[str] | str | None = None,
    outcomes: Sequence[str] | None = None,
    method: str = "auto",
    min_clusters: int = 20,
    consensus: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> PhaseRegression:
    """Which phase dimensions predict the verdicts? Logistic regression with CIs.

    Model: logit P(voldaan) = b0 + sum_d b_d * score_d, score_d = 0/1/2 for
    begin/groei/vergevorderd on dimension d (the ``reference`` phases: the assessor's own
    by default). One observation per verdict; outcomes pooled unless ``outcomes`` picks
    some. ``exp(b_d)`` is the odds ratio of voldaan per phase step on d, the others held
    equal.

    Parameters
    ----------
    dimensions
        Predictors: ``None`` = the dimensions of the outcomes' profiles (tussenniveau: 8),
        ``"all"`` = every row of the phase table, or a list of dimension ids. Dimensions
        nobody varied on are dropped (``dropped``).
    method
        ``"logit"`` (statsmodels ``Logit``, maximum likelihood), ``"firth"`` (penalised,
        finite under separation) or ``"auto"``: logit, and firth when separation or
        non-convergence occurs.
    min_clusters
        Verdicts on one case are correlated, so standard errors are cluster-robust by case
        (statsmodels ``cov_type="cluster"``) — but only with at least this many cases; with
        fewer the model-based SEs are used, which are too small, and the result is marked
        unreliable (Cameron & Miller 2015 on few clusters).

    Returns
    -------
    PhaseRegression
        ``reliable`` is False and ``warnings`` explain why when events per variable < 10
        (Peduzzi et al. 1996), under separation, without convergence, or with too few cases.
    """
    import statsmodels.api as sm
    from scipy import stats

    func = "phase_predictors"
    fw = _framework(framework)
    df = _table(scores, func)
    prof = _resolve_profiles(fw, None)
    ver = _verdict_rows(df)
    if outcomes is not None:
        unknown = [o for o in outcomes if o not in set(ver["outcome"])]
        if unknown:
            raise InputError(f"{func}: no verdicts for outcome(s) {', '.join(map(repr, unknown))}.")
        ver = ver[ver["outcome"].isin(outcomes)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    all_dims = [d.id for d in fw.phase_table.dimensions]
    if dimensions is None:
        chosen = set()
        for o in set(ver["outcome"]):
            if o in prof:
                chosen |= {c.dimension_id for c in prof[o].cells}
        dims = [d for d in all_dims if d in chosen] or all_dims
    elif dimensions == "all":
        dims = all_dims
    else:
        dims = list(dimensions)
        for d in dims:
            fw.phase_table.dimension(d)
    ref, per_rater = _reference_phases(df, fw, reference, consensus, func)
    recs = []
    for r in ver.itertuples(index=False):
        key = (r.session, r.case, r.rater) if per_rater else (r.session, r.case)
        ph = ref.get(key) or {}
        if all(d in ph for d in dims):
            recs.append([float(r.value == "voldaan"), r.case] + [ph[d] - 1 for d in dims])
    data = pd.DataFrame(recs, columns=["y", "case"] + dims)
    warn: list[str] = []
    n_dropped_rows = len(ver) - len(data)
    if n_dropped_rows:
        warn.append(f"{n_dropped_rows} verdict(s) left out: a phase of one of the predictors is missing.")
    dropped = tuple(d for d in dims if len(data) and data[d].nunique() < 2)
    if dropped:
        warn.append(f"Left out (nobody varied on them): {', '.join(dropped)}.")
    dims = [d for d in dims if d not in dropped]
    n = len(data)
    n_events = int(min(data["y"].sum(), n - data["y"].sum())) if n else 0
    k = len(dims)
    epv = n_events / k if k else math.nan
    n_clusters = int(data["case"].nunique()) if n else 0
    if n == 0 or k == 0 or n_events == 0:
        why = "no verdicts with complete phases" if n == 0 else (
            "no dimension varies" if k == 0 else "every verdict is the same")
        empty = pd.DataFrame(columns=["term", "coef", "se", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"])
        return PhaseRegression(empty, "none", "none", n, n_events, n_clusters, k, epv, False,
                               tuple(warn + [f"Nothing to fit: {why}."]), dropped, confidence)
    if epv < 10:
        warn.append(
            f"Too few data to say: {n_events} events for {k} predictors (EPV {epv:.1f} < 10); "
            "coefficients and their CIs are unstable (Peduzzi et al. 1996)."
        )
    X = sm.add_constant(data[dims].to_numpy(dtype=float), has_constant="add")
    y = data["y"].to_numpy()
    robust = n_clusters >= min_clusters
    if not robust:
        warn.append(
            f"Only {n_clusters} cases: too few for cluster-robust SEs (need {min_clusters}); the "
            "model-based SEs treat verdicts on the same case as independent and are too small."
        )
    separated = False
    fit_method = method
    coef = cov = None
    converged = True
    if method in ("auto", "logit"):
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

        try:
            PerfectSeparationError = __import__(
                "statsmodels.tools.sm_exceptions", fromlist=["PerfectSeparationError"]
            ).PerfectSeparationError
        except AttributeError:  # pragma: no cover - older statsmodels
            PerfectSeparationError = RuntimeError
        try:
            with _warnings.catch_warnings(record=True) as caught:
                _warnings.simplefilter("always")
                kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(data["case"])[0]}} if robust else {}
                res = sm.Logit(y, X).fit(disp=0, maxiter=200, **kw)
            separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
            converged = bool(res.mle_retvals.get("converged", True)) and not any(
                issubclass(w.category, ConvergenceWarning) for w in caught)
            coef, cov = np.asarray(res.params), np.asarray(res.cov_params())
            fitted = res.predict()
            if np.any(np.abs(coef) > 15) or np.mean((fitted < 1e-6) | (fitted > 1 - 1e-6)) > 0.05:
                separated = True
        except (PerfectSeparationError, np.linalg.LinAlgError):
            separated, converged = True, False
        if separated:
            warn.append("Separation: some phase pattern predicts the verdict perfectly, so maximum-likelihood "
                        "estimates run off to infinity.")
        if not converged and not separated:
            warn.append("The maximum-likelihood fit did not converge.")
        fit_method = "logit"
        if method == "auto" and (separated or not converged):
            fit_method = "firth"
    if fit_method == "firth":
        coef, cov, converged = _firth(X, y)
        robust = False
        if method == "auto":
            warn.append("Fitted with Firth's penalised likelihood instead (finite estimates; Wald CIs).")
        if not converged:
            warn.append("The Firth fit did not converge.")
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pval = 2 * stats.norm.sf(np.abs(coef / se))
        table = pd.DataFrame({
            "term": ["const"] + dims,
            "coef": coef, "se": se, "ci_low": coef - z * se, "ci_high": coef + z * se,
        })
        table["odds_ratio"] = np.exp(table["coef"])
        table["or_ci_low"] = np.exp(table["ci_low"])
        table["or_ci_high"] = np.exp(table["ci_high"])
    table["p_value"] = pval
    reliable = epv >= 10 and not separated and converged and robust
    return PhaseRegression(
        coefficients=table, method=fit_method, cov_type="cluster" if robust else "nonrobust",
        n=n, n_events=n_events, n_clusters=n_clusters, n_predictors=k, epv=float(epv),
        reliable=bool(reliable), warnings=tuple(warn), dropped=dropped, confidence=confidence,
        details={"reference": reference, "outcomes": tuple(sorted(set(ver["outcome"])))},
    )


