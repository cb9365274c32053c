"""Implicit cut-offs: where each assessor puts "voldaan", learned from their own phases.

Owns :func:`implicit_cutoffs` (per assessor a cross-validated model from their own phase
positions and indicator counts to their verdicts, the cut-off with a bootstrap interval,
set beside the framework's rule and the team's) and :func:`describe_cutoff`, the Dutch
sentence for a report. Methods: docs/raters.md.

Seed 001 §5.1 gives the rule (the tussenniveau profile: at least the listed phase on every
listed dimension, ``framework.profiles["tussenniveau"]``); each assessor has an implicit one.
The cut-off is read on one number per verdict: how many of the profile's dimensions the
assessor themself put at or above the expected phase ("dimensies op niveau").

>>> from calibrate.frameworks import load_framework
>>> from calibrate.devtools.simulate import simulate
>>> fw = load_framework("han-wpl2-2025")
>>> cut = implicit_cutoffs(simulate(fw).scores, fw, n_boot=50)
>>> cut.loc[cut["rater"] == "B04", "classification"].item()
'lenient'
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.loader import as_framework
from calibrate.frameworks.model import VERDICT_CODES, Framework
from calibrate.raters._door import code_judgements
from calibrate.schema import phase_item, verdict_item

__all__ = ["implicit_cutoffs", "describe_cutoff", "cutoff_features", "STATUSES"]

#: ``status`` codes of :func:`implicit_cutoffs`.
STATUSES = ("ok", "too_few_cases", "one_verdict", "no_relation")

_TEAM = "__team__"


def cutoff_features(scores: pd.DataFrame, framework: Framework | str) -> pd.DataFrame:
    """One row per verdict with the assessor's own evidence for it.

    Columns: ``session, case, rater, outcome, profile, voldaan`` (bool), ``n_meeting``
    (profile dimensions the assessor put at or above the expected phase), ``n_dimensions``
    (cells in the profile), ``indicator_share`` (share of the outcome's indicators the
    assessor marked ``gezien``, NA without any), and ``pos.<dimension>`` (0-based phase
    position) for every profile dimension. Verdicts whose profile dimensions are not all
    rated are left out (``n_meeting`` would be a guess).
    """
    fw = as_framework(framework, where="implicit_cutoffs")
    table = fw.phase_table
    if table is None or not fw.profiles:
        raise InputError(
            f"Framework {fw.id!r} has no phase table or profiles; implicit cut-offs need both.",
            hint="Use a framework with phase_table and profiles (han-wpl2-2025).",
        )
    J = code_judgements(scores, func="implicit_cutoffs", framework=fw)
    kind = J.items["kind"].to_numpy()
    ids = J.items["item"].to_numpy()
    outcome_profile = {
        o.id: fw.profiles[o.level_name] for o in fw.outcomes if o.summative and o.level_name in fw.profiles
    }
    if not outcome_profile:
        raise InputError(f"No summative outcome of {fw.id!r} has a phase profile.", hint="Add profiles to the framework.")
    R = len(J.raters)
    key = J.sc * R + J.rater  # (session-case, rater)
    n_key = len(J.session_cases) * R
    # phase positions per (sc, rater, dimension)
    dims = [d.id for d in table.dimensions]
    pos = np.full((n_key, len(dims)), -1, dtype=np.int64)
    for di, d in enumerate(dims):
        items_d = np.flatnonzero((ids == phase_item(d)) & (kind == "phase"))
        if items_d.size:
            m = np.isin(J.item, items_d)
            pos[key[m], di] = J.value[m]
    # indicators seen per (sc, rater, outcome)
    ind_outcome = {}
    for it in fw.indicators():
        ind_outcome[it.id] = it.id.split(".", 1)[0]
    rows = []
    for outcome, profile in outcome_profile.items():
        v_items = np.flatnonzero(ids == verdict_item(outcome))
        if not v_items.size:
            continue
        vm = J.item == v_items[0]
        vkey = key[vm]
        codes = J.items["codes"].iloc[v_items[0]]
        voldaan = np.asarray(codes, dtype=object)[J.value[vm]] == VERDICT_CODES[1]
        cells = [(dims.index(c.dimension_id), table.position(c.phase) - 1) for c in profile.cells]
        cpos = pos[vkey][:, [c for c, _ in cells]]
        need = np.array([e for _, e in cells])
        complete = (cpos >= 0).all(axis=1)
        n_meeting = (cpos >= need[None, :]).sum(axis=1)
        inds = np.flatnonzero((kind == "indicator") & np.isin(ids, [i for i, o in ind_outcome.items() if o == outcome]))
        im = np.isin(J.item, inds)
        seen = np.bincount(key[im], weights=(J.value[im] == 1).astype(float), minlength=n_key)
        n_ind = np.bincount(key[im], minlength=n_key)
        share = np.where(n_ind[vkey] > 0, seen[vkey] / np.maximum(n_ind[vkey], 1), np.nan)
        sc, r = vkey // R, vkey % R
        frame = pd.DataFrame({
            "session": J.session_cases["session"].to_numpy()[sc], "case": J.session_cases["case"].to_numpy()[sc],
            "rater": J.raters.to_numpy()[r], "outcome": outcome, "profile": profile.name,
            "voldaan": voldaan, "n_meeting": n_meeting, "n_dimensions": len(cells), "indicator_share": share,
        })
        for j, (c, _e) in enumerate(cells):
            frame[f"pos.{dims[c]}"] = cpos[:, j]
        rows.append(frame[complete])
    if not rows:
        raise InputError("implicit_cutoffs: the score table has no verdicts of outcomes with a profile.",
                         hint="Verdict items are '<outcome>.oordeel' (kind 'verdict').")
    return pd.concat(rows, ignore_index=True).sort_values(["rater", "session", "case", "outcome"]).reset_index(drop=True)


# ============================================================================ models
def _logistic_1d(x: np.ndarray, y: np.ndarray, w: np.ndarray, C: float, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Weighted 1-D L2 logistic regressions, batched: rows of ``w`` (M x n) are case weights.

    Minimises ``0.5 b1**2 + C sum_i w_i (log(1 + exp(eta_i)) - y_i eta_i)`` with
    ``eta = b0 + b1 x``: scikit-learn's ``LogisticRegression(C=C)`` objective (intercept not
    penalised), solved by Newton's method for all rows at once. Returns (b0, b1); rows with
    only one class (or no weight) give NaN.
    """
    M = w.shape[0]
    b = np.zeros((M, 2))
    ybar = (w * y).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    ok = (ybar > 0) & (ybar < 1)
    b[ok, 0] = np.log(ybar[ok] / (1 - ybar[ok]))
    for _ in range(iters):
        eta = b[:, :1] + b[:, 1:] * x[None, :]
        p = 1.0 / (1.0 + np.exp(-eta))
        r = w * (p - y[None, :])
        v = w * p * (1 - p)
        g0 = C * r.sum(axis=1)
        g1 = C * (r * x).sum(axis=1) + b[:, 1]
        h00 = C * v.sum(axis=1) + 1e-12
        h01 = C * (v * x).sum(axis=1)
        h11 = C * (v * x * x).sum(axis=1) + 1.0
        det = h00 * h11 - h01**2
        d0 = (h11 * g0 - h01 * g1) / det
        d1 = (h00 * g1 - h01 * g0) / det
        b[:, 0] -= np.clip(d0, -5, 5)
        b[:, 1] -= np.clip(d1, -5, 5)
        if max(np.abs(d0[ok]).max(initial=0), np.abs(d1[ok]).max(initial=0)) < 1e-12:
            break
    b[~ok] = np.nan
    return b[:, 0], b[:, 1]


def _p50(b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Where P(voldaan) = 0.5: -b0 / b1, NaN unless the slope is positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b1 > 0, -b0 / b1, np.nan)


def _cv_accuracy(X: np.ndarray, y: np.ndarray, groups: np.ndarray, make, n_splits: int) -> tuple[int, int]:
    """Correct out-of-sample predictions, folds by case (a case's verdicts stay together)."""
    from sklearn.model_selection import GroupKFold

    k = min(n_splits, len(np.unique(groups)))
    if k < 2:
        return 0, 0
    correct = 0
    for train, test in GroupKFold(n_splits=k).split(X, y, groups):
        if y[train].min() == y[train].max():
            pred = np.full(test.size, y[train][0])
        else:
            pred = make().fit(X[train], y[train]).predict(X[test])
        correct += int((pred == y[test]).sum())
    return correct, int(y.size)


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return float(lo), float(hi)


def _tree_rule(tree, names: list[str], phase_codes: tuple[str, ...]) -> str:
    """The tree's conditions for voldaan, simplified: 'a > 1.5 and b >= groei or ...'."""
    t = tree.tree_
    if len(tree.classes_) < 2:
        return "always" if bool(tree.classes_[0]) else "never"

    def cond(node, right: bool) -> str:
        name, thr = names[t.feature[node]], float(t.threshold[node])
        if name.startswith("pos."):
            k = int(math.floor(thr))
            code = phase_codes[k + 1] if right else phase_codes[k]
            return f"{name[4:]} {'>=' if right else '<='} {code}"
        return f"{name} {'>' if right else '<='} {thr:.2f}"

    def walk(node):  # True / False / list of conjunctions (each a list of conditions)
        if t.children_left[node] == -1:
            return bool(tree.classes_[t.value[node][0].argmax()])
        left, right = walk(t.children_left[node]), walk(t.children_right[node])
        if left is right and isinstance(left, bool):
            return left
        paths = []
        for side, sub in ((False, left), (True, right)):
            if sub is True:
                paths.append([cond(node, side)])
            elif isinstance(sub, list):
                paths.extend([[cond(node, side)] + p for p in sub])
        return paths

    res = walk(0)
    if isinstance(res, bool):
        return "always" if res else "never"
    return " or ".join(" and ".join(p) for p in res)


def implicit_cutoffs(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    min_cases: int = 6,
    n_splits: int = 5,
    max_depth: int = 2,
    C: float = 1.0,
    n_boot: int = 200,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Each assessor's implicit cut-off for "voldaan", beside the framework's and the team's.

    Per verdict (session, case, assessor, leeruitkomst) the evidence is the assessor's own
    phase ratings of that case and their indicators of that outcome
    (:func:`cutoff_features`). Per assessor:

    * **cut-off**: an L2 logistic regression (scikit-learn, ``C``) of voldaan on
      ``n_meeting``, the number of profile dimensions the assessor put at or above the
      expected phase; ``cutoff_p50`` is where P(voldaan) = 0.5 and ``cutoff`` the smallest
      whole number of dimensions at or above it ("geeft voldaan vanaf ... dimensies"). The
      framework's rule asks all of them (``framework_cutoff``); the team's cut-off is the
      same model on everyone's verdicts. The interval is a percentile bootstrap over
      (session, case), resampled jointly for the assessor and the team, so
      ``difference`` (assessor − team) has one too; ``classification`` is ``lenient``
      when its interval lies below 0, ``severe`` above, else ``consistent``.
    * **out-of-sample accuracy** of two models on all features (``n_meeting``, the
      indicator share, each profile dimension's phase): L2 logistic regression and a
      decision tree of depth ``max_depth``, by ``n_splits``-fold cross-validation with the
      folds by case (a case's verdicts never in train and test at once), with Wilson
      intervals; beside them the accuracy of the framework's rule applied to the
      assessor's own phases and of always saying the assessor's most common verdict.
    * ``tree_rule``: the fitted tree's paths to voldaan (English, for researchers).

    Assessors with fewer than ``min_cases`` cases get status ``too_few_cases`` and no
    estimate ("te weinig casussen om een grens te schatten"); one whose verdicts do not
    rise with ``n_meeting`` ``no_relation``. One who always gave the same verdict gets
    ``one_verdict``: no logistic fit exists, but the data still bound the cut-off (always
    voldaan: at most the fewest dimensions they saw), and the chance that an assessor who
    follows the team's model never gives the other verdict on these cases is ``p_value``
    (``lenient``/``severe`` below ``1 - confidence``).

    Returns
    -------
    DataFrame
        One row per (rater, profile): ``rater, profile, status, n_cases, n_verdicts,
        share_voldaan, n_dimensions, cutoff, cutoff_bound`` (``estimate``, or for one
        verdict throughout ``at_most`` / ``above``), ``cutoff_p50, cutoff_ci_low,
        cutoff_ci_high, framework_cutoff, team_cutoff, team_cutoff_p50, difference,
        difference_ci_low, difference_ci_high, p_value`` (one verdict throughout: the
        chance under the team's model of never giving the other verdict), ``classification, accuracy_logistic, accuracy_logistic_ci_low,
        accuracy_logistic_ci_high, accuracy_tree, accuracy_tree_ci_low,
        accuracy_tree_ci_high, accuracy_rule, accuracy_baseline, tree_rule``.
        :func:`describe_cutoff` turns a row into a Dutch sentence.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    func = "implicit_cutoffs"
    if int(min_cases) < 2:
        raise InputError(f"The 'min_cases' parameter of {func} must be at least 2. Got {min_cases!r} instead.")
    if not (0 < confidence < 1):
        raise InputError(f"The 'confidence' parameter of {func} must be between 0 and 1. Got {confidence!r} instead.")
    if int(n_splits) < 2 or int(max_depth) < 1 or int(n_boot) < 0 or not C > 0:
        raise InputError(f"{func}: n_splits >= 2, max_depth >= 1, n_boot >= 0 and C > 0 are required.")
    fw = as_framework(framework, where="implicit_cutoffs")
    feats = cutoff_features(scores, fw)
    phase_codes = fw.phase_table.codes
    rng = np.random.default_rng(random_state)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    out = []
    for profile, pf in feats.groupby("profile", sort=True):
        pf = pf.reset_index(drop=True)
        n_dim = int(pf["n_dimensions"].iloc[0])
        pos_cols = [c for c in pf.columns if c.startswith("pos.")]
        feat_cols = ["n_meeting", "indicator_share"] + pos_cols
        X_all = pf[feat_cols].to_numpy(dtype=float)
        fill = np.nanmean(X_all[:, 1]) if np.isfinite(X_all[:, 1]).any() else 0.0
        X_all[:, 1] = np.where(np.isnan(X_all[:, 1]), fill, X_all[:, 1])
        y_all = pf["voldaan"].to_numpy(dtype=float)
        sc_all = pd.factorize(pf["session"].astype(str) + "\x1f" + pf["case"].astype(str))[0]
        rater_all = pf["rater"].to_numpy()
        x_all = X_all[:, 0]
        raters = sorted(set(rater_all))
        n_sc = int(sc_all.max()) + 1
        # weights: row 0 the data itself, then n_boot resamples of the session-cases
        Wsc = np.ones((1, n_sc))
        if n_boot:
            Wsc = np.vstack([Wsc, rng.multinomial(n_sc, np.full(n_sc, 1.0 / n_sc), size=int(n_boot)).astype(float)])
        W = Wsc[:, sc_all]  # (1 + B) x rows
        team = _p50(*_logistic_1d(x_all, y_all, W, C))
        team_p50, team_boot = float(team[0]), team[1:]
        team_b0, team_b1 = (float(v[0]) for v in _logistic_1d(x_all, y_all, W[:1], C))
        for r in raters:
            m = rater_all == r
            X, y, x, groups = X_all[m], y_all[m].astype(int), x_all[m], sc_all[m]
            n_cases = int(len(np.unique(groups)))
            row = {
                "rater": r, "profile": profile, "status": "ok", "n_cases": n_cases, "n_verdicts": int(y.size),
                "share_voldaan": float(y.mean()), "n_dimensions": n_dim, "cutoff": pd.NA, "cutoff_bound": "estimate",
                "cutoff_p50": math.nan, "cutoff_ci_low": math.nan, "cutoff_ci_high": math.nan, "framework_cutoff": n_dim,
                "team_cutoff": _whole(team_p50, n_dim), "team_cutoff_p50": team_p50, "difference": math.nan,
                "difference_ci_low": math.nan, "difference_ci_high": math.nan, "p_value": math.nan,
                "classification": pd.NA,
                "accuracy_logistic": math.nan, "accuracy_logistic_ci_low": math.nan, "accuracy_logistic_ci_high": math.nan,
                "accuracy_tree": math.nan, "accuracy_tree_ci_low": math.nan, "accuracy_tree_ci_high": math.nan,
                "accuracy_rule": float(((x >= n_dim) == (y == 1)).mean()),
                "accuracy_baseline": float(max(y.mean(), 1 - y.mean())), "tree_rule": pd.NA,
            }
            if n_cases < int(min_cases):
                row["status"] = "too_few_cases"
                out.append(row)
                continue
            if y.min() == y.max():
                # one verdict throughout: the cut-off is at most (all voldaan) the fewest
                # dimensions seen, or above the most (never voldaan); judged against the team's
                # model: the chance that an assessor who reads like the team never deviates.
                row["status"] = "one_verdict"
                p_team = 1.0 / (1.0 + np.exp(-(team_b0 + team_b1 * x)))
                if y[0] == 1:
                    row["cutoff"], row["cutoff_bound"] = int(x.min()), "at_most"
                    pv = float(np.exp(np.log(np.maximum(p_team, 1e-300)).sum()))
                    row["p_value"] = pv
                    row["classification"] = "lenient" if pv < 1 - confidence else "consistent"
                else:
                    row["cutoff"], row["cutoff_bound"] = int(x.max()) + 1, "above"
                    pv = float(np.exp(np.log(np.maximum(1 - p_team, 1e-300)).sum()))
                    row["p_value"] = pv
                    row["classification"] = "severe" if pv < 1 - confidence else "consistent"
                out.append(row)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                k, n = _cv_accuracy(X, y, groups, lambda: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)), n_splits)
                row["accuracy_logistic"] = k / n if n else math.nan
                row["accuracy_logistic_ci_low"], row["accuracy_logistic_ci_high"] = _wilson(k, n, confidence)
                k, n = _cv_accuracy(X, y, groups, lambda: DecisionTreeClassifier(max_depth=max_depth, random_state=0), n_splits)
                row["accuracy_tree"] = k / n if n else math.nan
                row["accuracy_tree_ci_low"], row["accuracy_tree_ci_high"] = _wilson(k, n, confidence)
                tree = DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(X, y)
            row["tree_rule"] = _tree_rule(tree, feat_cols, phase_codes)
            est = _p50(*_logistic_1d(x, y.astype(float), W[:, m], C))
            p50 = float(est[0])
            if not math.isfinite(p50):
                row["status"] = "no_relation"
                out.append(row)
                continue
            row["cutoff_p50"] = p50
            row["cutoff"] = _whole(p50, n_dim)
            row["difference"] = p50 - team_p50
            if n_boot:
                b = est[1:]
                d = b - team_boot
                ok = np.isfinite(b) & np.isfinite(d)
                if ok.sum() >= max(10, int(0.5 * n_boot)):
                    row["cutoff_ci_low"], row["cutoff_ci_high"] = (float(v) for v in np.quantile(b[ok], [lo_q, hi_q]))
                    lo, hi = np.quantile(d[ok], [lo_q, hi_q])
                    row["difference_ci_low"], row["difference_ci_high"] = float(lo), float(hi)
                    row["classification"] = "lenient" if hi < 0 else ("severe" if lo > 0 else "consistent")
            out.append(row)
    # no profile to learn from (no verdicts beside phases): the same columns, no rows
    table = pd.DataFrame(out, columns=None if out else list(CUTOFF_COLUMNS))
    table["cutoff"] = table["cutoff"].astype("Int64")
    table["team_cutoff"] = table["team_cutoff"].astype("Int64")
    return table


CUTOFF_COLUMNS = (
    "rater", "profile", "status", "n_cases", "n_verdicts", "share_voldaan", "n_dimensions", "cutoff",
    "cutoff_bound", "cutoff_p50", "cutoff_ci_low", "cutoff_ci_high", "framework_cutoff", "team_cutoff",
    "team_cutoff_p50", "difference", "difference_ci_low", "difference_ci_high", "p_value", "classification",
    "accuracy_logistic", "accuracy_logistic_ci_low", "accuracy_logistic_ci_high", "accuracy_tree",
    "accuracy_tree_ci_low", "accuracy_tree_ci_high", "accuracy_rule", "accuracy_baseline", "tree_rule",
)
"""The columns of :func:`implicit_cutoffs`' table (also when it has no rows)."""


def _whole(p50: float, n_dim: int) -> Any:
    """The smallest whole number of dimensions at which P(voldaan) >= 0.5 (0..n_dim + 1)."""
    if not math.isfinite(p50):
        return pd.NA
    return int(min(max(math.ceil(p50 - 1e-12), 0), n_dim + 1))


def describe_cutoff(row: Mapping[str, Any] | pd.Series, *, min_cases: int = 6) -> str:
    """One Dutch sentence for a row of :func:`implicit_cutoffs` (for reports).

    >>> describe_cutoff({"rater": "B04", "status": "ok", "cutoff": 3, "n_dimensions": 8,
    ...                  "framework_cutoff": 8, "team_cutoff": 6})
    'B04 geeft voldaan vanaf 3 van de 8 dimensies op het verwachte fase-niveau; de handleiding vraagt 8, het team gemiddeld 6.'
    >>> describe_cutoff({"rater": "B07", "status": "too_few_cases", "n_cases": 3})
    'B07: te weinig casussen om een grens te schatten (3 casussen, minimaal 6 nodig).'
    """
    r = row["rater"]
    status = row["status"]
    if status == "too_few_cases":
        n = int(row["n_cases"])
        return f"{r}: te weinig casussen om een grens te schatten ({n} {'casus' if n == 1 else 'casussen'}, minimaal {min_cases} nodig)."
    if status == "one_verdict":
        n_dim, fw_cut = int(row["n_dimensions"]), int(row["framework_cutoff"])
        if float(row.get("share_voldaan", 1.0)) >= 0.5:
            return (f"{r} gaf in alle {int(row['n_verdicts'])} oordelen voldaan, ook bij maar {int(row['cutoff'])} "
                    f"van de {n_dim} dimensies op het verwachte fase-niveau; de handleiding vraagt {fw_cut}.")
        return (f"{r} gaf in alle {int(row['n_verdicts'])} oordelen niet voldaan, ook bij {int(row['cutoff']) - 1} "
                f"van de {n_dim} dimensies op het verwachte fase-niveau; de handleiding vraagt {fw_cut}.")
    if status == "no_relation":
        return (f"{r}: het oordeel hangt niet samen met het aantal dimensies op het verwachte fase-niveau; "
                "een grens is niet te schatten.")
    n_dim, cut, fw_cut = int(row["n_dimensions"]), row["cutoff"], int(row["framework_cutoff"])
    team = row.get("team_cutoff")
    tail = f"de handleiding vraagt {fw_cut}" + (f", het team gemiddeld {int(team)}" if team is not None and not pd.isna(team) else "")
    if int(cut) <= 0:
        return f"{r} geeft voldaan ook als geen van de {n_dim} dimensies op het verwachte fase-niveau is; {tail}."
    if int(cut) > n_dim:
        return f"{r} geeft geen voldaan, ook niet als alle {n_dim} dimensies op het verwachte fase-niveau zijn; {tail}."
    return f"{r} geeft voldaan vanaf {int(cut)} van de {n_dim} dimensies op het verwachte fase-niveau; {tail}."
