"""Latent consensus: Dawid–Skene by EM, nominal and ordinal, with a prior for small teams.

Owns :func:`latent_consensus` and :class:`LatentConsensus`: per (session, case, item) the
posterior of each category and the most likely one, per assessor a confusion matrix with
bootstrap intervals over cases. Methods and how to read them: docs/raters.md.

The model (Dawid & Skene 1979): every (session, case, item) has one latent category ``z``
with prior ``pi[item]``; assessor ``r`` reports ``l`` with probability ``theta[r, z, l]``,
independently of the other assessors given ``z``. EM alternates the posterior of ``z``
(E-step) and the maximum a posteriori ``pi`` and ``theta`` given that posterior (M-step).

>>> from calibrate.frameworks import load_framework
>>> from calibrate.devtools.simulate import simulate
>>> fw = load_framework("han-wpl2-2025")
>>> res = latent_consensus(simulate(fw).scores, kinds=["verdict"], n_boot=0)
>>> sorted(res.most_likely["value"].unique())
['niet voldaan', 'voldaan']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.raters._door import Judgements, code_judgements

__all__ = ["ConsensusPrior", "LatentConsensus", "latent_consensus", "ORDINAL_KINDS"]

#: Kinds whose categories are ordered with more than two levels: the ordinal model by default.
ORDINAL_KINDS = ("level", "phase")
#: Probability floor of crowd-kit's ``DawidSkene`` (``_EPS``), used when there is no prior.
EPS = 1e-10
#: EM rounds and posterior tolerance of each bootstrap resample (warm-started at the full fit).
BOOT_MAX_ITER, BOOT_TOL = 500, 1e-4


@dataclass(frozen=True)
class ConsensusPrior:
    """Dirichlet pseudo-counts that keep a small team's estimates stable.

    ``diagonal`` pseudo-judgements are added to each confusion row's agreeing cell and
    ``off_diagonal`` pseudo-judgements in all to its other cells, split in proportion to
    ``2 ** -(|k - l| - 1)`` (neighbouring categories get more). ``class_prior`` is added
    to every category of every item's class prior. The default (2, 1, 1) says, before any
    data: an assessor agrees with the latent category about two times in three, weighed as
    three judgements per row, and no category is impossible. It is the posterior mode of a
    Dirichlet(pseudo-count + 1) prior, so the estimate is a MAP estimate.
    """

    diagonal: float = 2.0
    off_diagonal: float = 1.0
    class_prior: float = 1.0

    def confusion(self, K: int) -> np.ndarray:
        k = np.arange(K)
        dist = np.abs(k[:, None] - k[None, :])
        share = np.where(dist > 0, 2.0 ** -(dist - 1.0), 0.0)
        share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-300)
        return np.where(dist == 0, self.diagonal, self.off_diagonal * share)


DEFAULT_PRIOR = ConsensusPrior()


@dataclass(frozen=True, eq=False)
class LatentConsensus:
    """Result of :func:`latent_consensus`.

    Attributes
    ----------
    posterior
        One row per (session, case, item, category): ``session, case, item, kind,
        category, position, p``.
    most_likely
        One row per (session, case, item): ``session, case, item, kind, value`` (the most
        likely category), ``p`` (its posterior), ``expected_position`` (posterior mean of
        the 0-based position), ``n_raters``, ``majority`` (the most chosen value; ties go to
        the lowest) and ``agrees_with_majority``.
    confusions
        One row per (rater, group, true, observed): ``rater, kind, item`` (NA unless
        ``confusion_by="item"``), ``true, observed, p, ci_low, ci_high, n`` (expected
        judgements with that true category). ``p`` is P(rater says ``observed`` | the
        latent category is ``true``).
    raters
        One row per (rater, kind): ``rater, kind, model, n, accuracy`` (expected share of
        judgements equal to the latent category), ``leniency`` (expected position said
        minus latent position; > 0: higher than the consensus), with ``ci_low/ci_high``
        columns for both from the bootstrap.
    class_prior
        One row per (item or kind, category): ``item, kind, category, p``.
    models
        Kind -> ``"nominal"`` or ``"ordinal"``.
    """

    posterior: pd.DataFrame
    most_likely: pd.DataFrame
    confusions: pd.DataFrame
    raters: pd.DataFrame
    class_prior: pd.DataFrame
    models: dict
    n_iter: dict
    converged: dict
    log_likelihood: dict
    n_boot: int
    confidence: float
    prior: ConsensusPrior | None
    judgements: pd.DataFrame = field(repr=False)

    def confusion(self, rater: str, kind: str | None = None) -> pd.DataFrame:
        """The confusion matrix of ``rater`` (long: true, observed, p, ci_low, ci_high)."""
        t = self.confusions
        if rater not in set(t["rater"]):
            raise InputError(f"Unknown rater {rater!r}.", hint=f"Raters: {', '.join(sorted(set(t['rater'])))}.")
        out = t[t["rater"] == rater]
        if kind is not None:
            out = out[out["kind"] == kind]
        return out.reset_index(drop=True)

    def differences(self, rater: str | None = None, *, min_p: float = 0.0) -> pd.DataFrame:
        """Judgements that differ from the most likely category (``p`` >= ``min_p``).

        Columns ``session, case, item, kind, rater, value, most_likely, p``, sorted by
        ``p`` (most certain first): where an assessor differs most from the model.
        """
        j = self.judgements
        if rater is not None:
            j = j[j["rater"] == rater]
        m = j.merge(self.most_likely[["session", "case", "item", "value", "p"]].rename(columns={"value": "most_likely"}),
                    on=["session", "case", "item"])
        m = m[(m["value"] != m["most_likely"]) & (m["p"] >= min_p)]
        return m.sort_values(["p", "session", "case", "item"], ascending=[False, True, True, True]).reset_index(drop=True)


# ====================================================================== the EM core
def _softmax_rows(logl: np.ndarray) -> np.ndarray:
    z = logl - logl.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


@dataclass
class _Group:
    """The arrays of one model: units of one kind (one set of codes)."""

    u: np.ndarray  # unit per judgement
    p: np.ndarray  # confusion parameter index per judgement
    y: np.ndarray  # observed position per judgement
    cls: np.ndarray  # class-prior index per unit
    unit_sc: np.ndarray  # session-case per unit
    U: int
    P: int
    K: int
    C: int
    ordinal: bool


def _ordinal_probs(alpha: np.ndarray, beta: np.ndarray, K: int) -> np.ndarray:
    """theta[p, k, l] = F(alpha_l - beta k) - F(alpha_{l-1} - beta k) (logistic F)."""
    k = np.arange(K, dtype=float)
    eta = alpha[:, None, :] - beta[:, None, None] * k[None, :, None]  # P x K x (K-1)
    cum = 1.0 / (1.0 + np.exp(-eta))
    theta = np.empty(cum.shape[:2] + (K,))  # the differences of (0, cum, 1), written in place
    theta[:, :, 0] = cum[:, :, 0]
    np.subtract(cum[:, :, 1:], cum[:, :, :-1], out=theta[:, :, 1:-1])
    np.subtract(1.0, cum[:, :, -1], out=theta[:, :, -1])
    return theta


def _ordinal_loglik(params: np.ndarray, N: np.ndarray, K: int) -> np.ndarray:
    theta = _ordinal_probs(params[:, :-1], params[:, -1], K)
    bad = (theta <= 0).any(axis=(1, 2))
    ll = (N * np.log(np.maximum(theta, 1e-300))).sum(axis=(1, 2))
    return np.where(bad, -np.inf, ll)


def _ordinal_derivs(params: np.ndarray, N: np.ndarray, K: int):
    """Gradient and Hessian of sum N_kl log theta_kl in (alpha, beta), analytically.

    Cell (k, l) has probability D = F(eta_l) - F(eta_{l-1}) with eta_m = alpha_m - beta k
    (F(eta_{-1}) = 0, F(eta_{K-1}) = 1), so each bound eta_m of row k enters two cells
    (l = m from above, l = m + 1 from below) and the Hessian in the bounds of a row is
    tridiagonal; the chain rule to (alpha, beta) is then sums over the rows k."""
    alpha, beta = params[:, :-1], params[:, -1]
    P = params.shape[0]
    k = np.arange(K, dtype=float)
    eta = alpha[:, None, :] - beta[:, None, None] * k[None, :, None]  # P x K x (K-1)
    F = 1.0 / (1.0 + np.exp(-eta))
    f = F * (1.0 - F)
    f1 = f * (1.0 - 2.0 * F)
    D = np.empty((P, K, K))
    D[:, :, :-1] = F
    D[:, :, -1] = 1.0
    D[:, :, 1:] -= F
    np.maximum(D, 1e-300, out=D)
    A = N / D
    AD = A / D
    G = f * (A[:, :, :-1] - A[:, :, 1:])  # d / d eta_m, per row
    Hd = f1 * (A[:, :, :-1] - A[:, :, 1:]) - f * f * (AD[:, :, :-1] + AD[:, :, 1:])
    Ho = f[:, :, :-1] * f[:, :, 1:] * AD[:, :, 1:-1]  # eta_m with eta_{m+1} (cell m + 1)
    g = np.empty((P, K))
    g[:, :-1] = G.sum(axis=1)
    g[:, -1] = -(G.sum(axis=2) @ k)
    H = np.zeros((P, K, K))
    m = np.arange(K - 1)
    H[:, m, m] = Hd.sum(axis=1)
    if K > 2:
        off = Ho.sum(axis=1)
        H[:, m[:-1], m[:-1] + 1] = off
        H[:, m[:-1] + 1, m[:-1]] = off
    row = Hd.copy()  # sum over the bounds m' of row k of d2 / d eta_m d eta_m'
    row[:, :, :-1] += Ho
    row[:, :, 1:] += Ho
    hb = -np.einsum("pkm,k->pm", row, k)
    H[:, :-1, -1] = hb
    H[:, -1, :-1] = hb
    H[:, -1, -1] = (Hd.sum(axis=2) + 2.0 * Ho.sum(axis=2)) @ (k * k)
    return g, H


def _ordinal_fit(params: np.ndarray, N: np.ndarray, K: int, steps: int) -> np.ndarray:
    """Batched Newton with step halving on the cumulative-logit confusion model (concave in
    (alpha, beta)); every accepted step raises the expected log-likelihood."""
    x = params.copy()
    npar = x.shape[1]
    ll = _ordinal_loglik(x, N, K)
    scale = np.maximum(N.sum(axis=(1, 2)), 1.0)
    for _ in range(steps):
        g, H = _ordinal_derivs(x, N, K)
        if (np.abs(g) / scale[:, None]).max() < 1e-10:
            break
        A = -H + 1e-9 * scale[:, None, None] * np.eye(npar)[None]
        try:
            d = np.linalg.solve(A, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # pragma: no cover - singular batch
            d = g / scale[:, None]
        ok = (d * g).sum(axis=1) > 0
        d = np.where(ok[:, None], d, g / scale[:, None])
        d = np.clip(d, -2.0, 2.0)
        step = np.ones(x.shape[0])
        done = np.abs(d).max(axis=1) < 1e-12
        slack = 1e-12 * (1.0 + np.abs(ll))
        for _ in range(30):
            cand = x + step[:, None] * d
            lc = _ordinal_loglik(cand, N, K)
            good = (lc >= ll - slack) & ~done
            x[good] = cand[good]
            ll[good] = lc[good]
            done |= good
            if done.all():
                break
            step = np.where(done, step, step * 0.5)
    return x


class _EM:
    """EM for one group, on a batch of ``B`` weightings of the units at once (``B = 1``:
    the fit itself; ``B > 1``: bootstrap resamples). Arrays in, posterior and parameters out;
    a leading batch axis on every array (q: B x U x K, theta: B x P x K x K, pi: B x C x K)."""

    def __init__(self, g: _Group, prior: ConsensusPrior | None):
        self.g = g
        self.prior = prior
        K = g.K
        self.alpha_conf = prior.confusion(K) if prior is not None else np.zeros((K, K))
        self.alpha_cls = prior.class_prior if prior is not None else 0.0
        # which (parameter, observed) pairs occur: crowd-kit's error matrix has rows only there
        used = np.zeros(g.P * K, bool)
        used[g.p * K + g.y] = True
        self.used = used.reshape(1, g.P, 1, K)
        self.ord_params: np.ndarray | None = None  # (B * P) x K
        from scipy import sparse

        # S[u, p*K + y] = 1 for every judgement: E-step logl = S @ log theta, M-step counts = S^T @ q
        self.S = sparse.csr_matrix(
            (np.ones(g.u.size), (g.u, g.p * K + g.y)), shape=(g.U, g.P * K)
        )
        self.ST = self.S.T.tocsr()

    # ------------------------------------------------------------------ M-step
    def m_step(self, q: np.ndarray, w_unit: np.ndarray | None, newton_steps: int = 2):
        g = self.g
        K, P, B = g.K, g.P, q.shape[0]
        wq = q if w_unit is None else q * w_unit[:, :, None]  # B x U x K
        # counts[b, p, k, l] = sum_u S[u, (p, l)] wq[b, u, k]
        flat = self.ST @ np.ascontiguousarray(np.transpose(wq, (1, 0, 2)).reshape(g.U, B * K))  # (P*K) x (B*K)
        counts = np.transpose(flat.reshape(P, K, B, K), (2, 0, 3, 1)).copy()  # B x P x K(true) x K(obs)
        expected = counts.copy()
        counts += self.alpha_conf[None, None]
        if g.ordinal:
            flat = counts.reshape(B * P, K, K)
            if self.ord_params is None or self.ord_params.shape[0] != B * P:
                start = np.concatenate([np.arange(K - 1) + 0.5, [1.0]])
                base = np.tile(start, (B * P, 1)) if self.ord_params is None else np.tile(self.ord_params, (B, 1))
                steps = 50 if self.ord_params is None else newton_steps
                self.ord_params = _ordinal_fit(base, flat, K, steps=steps)
            else:
                self.ord_params = _ordinal_fit(self.ord_params, flat, K, steps=newton_steps)
            theta = _ordinal_probs(self.ord_params[:, :-1], self.ord_params[:, -1], K).reshape(B, P, K, K)
        else:
            if self.prior is None:  # crowd-kit: clip the counts of observed labels, 0 elsewhere
                counts = np.where(self.used, np.maximum(counts, EPS), 0.0)
            tot = counts.sum(axis=3, keepdims=True)
            theta = np.where(tot > 0, counts / np.where(tot > 0, tot, 1.0), 1.0 / K)
        cidx = (np.arange(B)[:, None] * g.C + g.cls[None, :]).ravel()
        pi = np.empty((B, g.C, K))
        for k in range(K):
            pi[:, :, k] = np.bincount(cidx, weights=wq[:, :, k].ravel(), minlength=B * g.C).reshape(B, g.C)
        if self.prior is None:
            wu = np.ones((B, g.U)) if w_unit is None else w_unit
            n_cls = np.bincount(cidx, weights=wu.ravel(), minlength=B * g.C).reshape(B, g.C)
            pi = pi / np.maximum(n_cls, 1e-300)[:, :, None]
            pi = np.maximum(pi, EPS)  # crowd-kit clips the prior (without renormalising)
        else:
            pi += self.alpha_cls
            pi /= pi.sum(axis=2, keepdims=True)
        return theta, pi, expected

    # ------------------------------------------------------------------ E-step
    def e_step(self, theta: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = self.g
        B, K = theta.shape[0], g.K
        logt = np.log(np.maximum(theta, 1e-300))  # B x P x K(true) x K(obs)
        Lt = np.transpose(logt, (1, 3, 0, 2)).reshape(g.P * K, B * K)  # (p, obs) x (b, true)
        # in the product's own layout (unit x batch x class), the few classes one by one
        logl = (self.S @ Lt).reshape(g.U, B, K) + np.log(pi)[:, g.cls, :].transpose(1, 0, 2)
        mx = logl[..., 0].copy()
        for k in range(1, K):
            np.maximum(mx, logl[..., k], out=mx)
        logl -= mx[..., None]
        np.exp(logl, out=logl)
        tot = logl[..., 0].copy()
        for k in range(1, K):
            tot += logl[..., k]
        ll = (mx + np.log(tot)).sum(axis=0)
        logl /= tot[..., None]
        return logl.transpose(1, 0, 2), ll  # B x U x K (a view)

    def majority(self) -> np.ndarray:
        g = self.g
        votes = np.bincount(g.u * g.K + g.y, minlength=g.U * g.K).reshape(g.U, g.K).astype(float)
        return votes / votes.sum(axis=1, keepdims=True)

    def crowdkit_loss(self, q: np.ndarray, theta: np.ndarray, pi: np.ndarray) -> float:
        """crowd-kit's ``_evidence_lower_bound`` per judgement (its stopping quantity):
        sum_j sum_k q[u_j, k] (log theta[r_j, k, y_j] + log pi_k) + entropy(q clipped)."""
        g = self.g
        logt = np.log(np.maximum(theta[0], 1e-300))[g.p, :, g.y]  # n x K
        joint = (q[0][g.u] * (logt + np.log(np.maximum(pi[0], EPS))[g.cls[g.u]])).sum()
        qc = np.maximum(q[0], EPS)
        return float((joint - (qc * np.log(qc)).sum()) / g.u.size)

    def run(self, q0: np.ndarray, *, max_iter: int, tol: float, w_unit=None, stop: str = "posterior"):
        """EM from posterior ``q0`` (B x U x K): M-step, then (E, M) rounds (crowd-kit's
        order of steps) until no posterior moves more than ``tol`` (``stop="posterior"``) or
        crowd-kit's loss gains less than ``tol`` (``stop="crowdkit"``)."""
        theta, pi, expected = self.m_step(q0, w_unit)
        q = q0
        ll = np.full(q0.shape[0], -np.inf)
        loss = -np.inf
        converged = False
        it = 0
        for it in range(1, max_iter + 1):
            q_new, ll = self.e_step(theta, pi)
            theta, pi, expected = self.m_step(q_new, w_unit)
            if stop == "crowdkit":
                new_loss = self.crowdkit_loss(q_new, theta, pi)
                q = q_new
                if new_loss - loss < tol:
                    converged = True
                    break
                loss = new_loss
                continue
            delta = float(np.abs(q_new - q).max())
            q = q_new
            if delta < tol:
                converged = True
                break
        return q, theta, pi, expected, it, converged, ll

    def run_resamples(self, q0: np.ndarray, w_unit: np.ndarray, *, max_iter: int, tol: float):
        """EM on ``B`` bootstrap weightings at once (``w_unit``: B x U), each from posterior
        ``q0`` (B x U x K), each resample stopping on its own: as :meth:`run` with
        ``stop="posterior"`` on that resample alone (its rounds end when none of its
        posteriors moves more than ``tol``), but a converged resample leaves the batch, so
        the slow ones do not keep the others iterating. Returns ``theta`` (B x P x K x K),
        ``pi`` (B x C x K) and the rounds each resample took."""
        g = self.g
        B, P, K = q0.shape[0], g.P, g.K
        ords = None
        if g.ordinal:  # the Newton start of every resample: the full fit's parameters
            base = np.tile(self.ord_params, (B, 1)) if self.ord_params is not None else None
            self.ord_params = base
        theta, pi, _e = self.m_step(q0, w_unit)
        if g.ordinal:
            ords = self.ord_params.reshape(B, P, K).copy()
        out_theta, out_pi = theta.copy(), pi.copy()
        rounds = np.zeros(B, dtype=int)
        active = np.arange(B)
        q = q0
        for it in range(1, max_iter + 1):
            q_new, _ll = self.e_step(theta, pi)
            if ords is not None:
                self.ord_params = ords[active].reshape(-1, K)
            theta, pi, _e = self.m_step(q_new, w_unit[active])
            if ords is not None:
                ords[active] = self.ord_params.reshape(active.size, P, K)
            delta = np.abs(q_new - q).max(axis=(1, 2))
            out_theta[active], out_pi[active], rounds[active] = theta, pi, it
            going = delta >= tol
            if not going.any():
                break
            if not going.all():
                active, theta, pi, q_new = active[going], theta[going], pi[going], q_new[going]
            q = q_new
        return out_theta, out_pi, rounds


# ====================================================================== public API
def _option(func: str, name: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value in allowed:
        return value
    raise InputError(
        f"The {name!r} parameter of {func} must be one of {', '.join(map(repr, allowed))}. Got {value!r} instead."
    )


def latent_consensus(
    scores: pd.DataFrame,
    *,
    kinds: Iterable[str] | None = None,
    items: Iterable[str] | None = None,
    framework: Any = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    model: str | Mapping[str, str] = "auto",
    confusion_by: str = "kind",
    class_prior: str = "item",
    prior: ConsensusPrior | None | str = "default",
    init: str | np.ndarray = "majority",
    max_iter: int = 2000,
    tol: float = 1e-6,
    stop: str = "posterior",
    n_boot: int = 100,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> LatentConsensus:
    """Most likely judgement of every (session, case, item) and each assessor's confusion.

    Parameters
    ----------
    scores
        The score table (CONTRACTS §1): ``session, case, rater, item, kind, value``.
        ``n.v.t.`` and empty values are missing.
    kinds, items
        Which judgements to model (default: all). Each kind is modelled on its own (its
        categories differ), items of one kind share the assessors' confusion matrices.
    framework, categories
        Where the ordered codes of each item come from: ``categories`` (item id or kind →
        codes), the framework's item, else the kind's codes (CONTRACTS §1).
    model
        ``"nominal"`` (Dawid–Skene: a free confusion row per true category), ``"ordinal"``
        (latent classes on a line: assessor ``r`` says a category above ``l`` when
        ``beta_r * z + e > alpha_{r,l}``, ``e`` logistic — ordered thresholds, ``K``
        parameters per assessor instead of ``K(K-1)``), or ``"auto"``: ordinal for
        levels and phases, nominal otherwise. A mapping kind → model is also accepted.
    confusion_by
        ``"kind"`` (one confusion matrix per assessor and kind, pooled over its items) or
        ``"item"`` (one per assessor and item; needs many cases).
    class_prior
        ``"item"`` (each item its own category prevalence) or ``"kind"`` (one per kind, as
        crowd-kit's single prior over all tasks).
    prior
        A :class:`ConsensusPrior` (default ``ConsensusPrior(2, 1, 1)``) or ``None`` for
        maximum likelihood with crowd-kit's numerical safeguards (probabilities clipped at
        1e-10): with ``init="majority"`` and ``class_prior="kind"`` that reproduces
        crowd-kit's ``DawidSkene`` iteration by iteration.
    init
        ``"majority"`` (start from the vote shares, as crowd-kit) .
    max_iter, tol, stop
        EM stops after ``max_iter`` rounds, or earlier when no posterior moves more than
        ``tol`` (``stop="posterior"``) or, as crowd-kit stops, when its loss (expected
        complete log-likelihood plus entropy, per judgement) gains less than ``tol``
        (``stop="crowdkit"``; crowd-kit's default ``tol`` is 1e-5). ``tol < 0`` runs
        exactly ``max_iter`` rounds.
    n_boot, confidence, random_state
        Bootstrap over (session, case): ``n_boot`` resamples (0: no intervals), percentile
        intervals at ``confidence``; each resample restarts EM from the full fit.

    Returns
    -------
    LatentConsensus

    Notes
    -----
    The E-step is ``log P(z=k | data) = log pi[item, k] + sum_r log theta[r, k, y_r] + c``.
    The M-step adds the prior's pseudo-counts to the expected counts:
    ``theta[r, k, l] ∝ sum_j P(z_j = k) [r_j = r, y_j = l] + a_kl`` (nominal), or maximises
    the same expected log-likelihood plus pseudo-counts over the threshold family
    (ordinal; a few Newton steps per round, a generalised EM that never lowers the
    likelihood). Crowd-kit (Toloka, ``crowdkit.aggregation.DawidSkene``) is the peer:
    ``tests/raters`` checks the posteriors at 1e-6 in the same run.

    Reference: Dawid, A.P. & Skene, A.M. (1979). Maximum likelihood estimation of observer
    error-rates using the EM algorithm. *JRSS C* 28(1), 20–28.
    """
    func = "latent_consensus"
    _option(func, "confusion_by", confusion_by, ("kind", "item"))
    _option(func, "class_prior", class_prior, ("item", "kind"))
    _option(func, "stop", stop, ("posterior", "crowdkit"))
    if isinstance(prior, str):
        _option(func, "prior", prior, ("default",))
        prior = DEFAULT_PRIOR
    elif prior is not None and not isinstance(prior, ConsensusPrior):
        raise InputError(f"The 'prior' parameter of {func} must be a ConsensusPrior, 'default' or None. Got {prior!r} instead.")
    if not (0 < confidence < 1):
        raise InputError(f"The 'confidence' parameter of {func} must be between 0 and 1. Got {confidence!r} instead.")
    if int(n_boot) < 0 or int(max_iter) < 1:
        raise InputError(f"{func}: n_boot must be >= 0 and max_iter >= 1 (got {n_boot}, {max_iter}).")
    if not (isinstance(init, str) and init == "majority"):
        raise InputError(f"The 'init' parameter of {func} must be 'majority'. Got {init!r} instead.")
    J = code_judgements(scores, func=func, kinds=kinds, items=items, framework=framework, categories=categories)
    rng = np.random.default_rng(random_state)
    n_sc = len(J.session_cases)
    boot_w = [rng.multinomial(n_sc, np.full(n_sc, 1.0 / n_sc)).astype(float) for _ in range(int(n_boot))]

    post_rows, ml_rows, conf_rows, rater_rows, prior_rows = [], [], [], [], []
    models, n_iter, conv, loglik = {}, {}, {}, {}
    items_df = J.items
    groups = items_df.groupby([items_df["kind"], items_df["codes"].map(tuple)], sort=True)
    for (kind, codes), idf in groups:
        codes = tuple(codes)
        K = len(codes)
        if isinstance(model, Mapping):
            m = model.get(kind, "auto")
        else:
            m = model
        _option(func, "model", m, ("auto", "nominal", "ordinal"))
        ordinal = (kind in ORDINAL_KINDS and K > 2) if m == "auto" else (m == "ordinal" and K > 2)
        label = kind if len([1 for (k2, _c) in groups.groups if k2 == kind]) == 1 else f"{kind}:{'/'.join(codes)}"
        models[label] = "ordinal" if ordinal else "nominal"
        item_idx = idf.index.to_numpy()
        mask = np.isin(J.item, item_idx)
        sub = J.subset(mask)
        local_item = np.searchsorted(item_idx, sub.item)
        unit_key = sub.sc * len(item_idx) + local_item
        unit_uni, u = np.unique(unit_key, return_inverse=True)
        unit_sc = unit_uni // len(item_idx)
        unit_item = unit_uni % len(item_idx)
        R = len(J.raters)
        if confusion_by == "item":
            p = sub.rater * len(item_idx) + local_item
            P = R * len(item_idx)
        else:
            p = sub.rater
            P = R
        cls = unit_item if class_prior == "item" else np.zeros_like(unit_item)
        C = len(item_idx) if class_prior == "item" else 1
        g = _Group(u=u, p=p, y=sub.value, cls=cls, unit_sc=unit_sc, U=len(unit_uni), P=P, K=K, C=C, ordinal=ordinal)
        em = _EM(g, prior)
        q0 = em.majority()[None]
        q, theta, pi, expected, it, ok, ll = em.run(q0, max_iter=int(max_iter), tol=float(tol), stop=stop)
        n_iter[label], conv[label], loglik[label] = it, ok, float(ll[0])
        saved = None if em.ord_params is None else em.ord_params.copy()
        q, theta, pi, expected = q[0], theta[0], pi[0], expected[0]

        # bootstrap over session-cases: batches of resamples, warm-started at the full fit
        boot_theta, boot_pi = [], []
        if boot_w:
            per = max(1, int(4_000_000 // max(g.u.size * K, 1)))
            W = np.stack(boot_w)[:, unit_sc]  # B x U
            for b0 in range(0, W.shape[0], per):
                wb = W[b0:b0 + per]
                em.ord_params = saved
                th_b, pi_b, _rounds = em.run_resamples(
                    np.broadcast_to(q, (wb.shape[0],) + q.shape).copy(), wb,
                    max_iter=min(int(max_iter), BOOT_MAX_ITER), tol=max(float(tol), BOOT_TOL),
                )
                boot_theta.append(th_b)
                boot_pi.append(pi_b)
        thetas = list(zip(np.concatenate(boot_theta), np.concatenate(boot_pi))) if boot_theta else []
        lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2

        # ----- posterior and most likely
        sess = J.session_cases["session"].to_numpy()[unit_sc]
        case = J.session_cases["case"].to_numpy()[unit_sc]
        item_ids = items_df["item"].to_numpy()[item_idx][unit_item]
        codes_arr = np.array(codes, dtype=object)
        post_rows.append(pd.DataFrame({
            "session": np.repeat(sess, K), "case": np.repeat(case, K), "item": np.repeat(item_ids, K),
            "kind": kind, "category": np.tile(codes_arr, g.U), "position": np.tile(np.arange(K), g.U),
            "p": q.ravel(),
        }))
        best = q.argmax(axis=1)
        votes = np.bincount(u * K + g.y, minlength=g.U * K).reshape(g.U, K)
        maj = votes.argmax(axis=1)
        ml_rows.append(pd.DataFrame({
            "session": sess, "case": case, "item": item_ids, "kind": kind, "value": codes_arr[best],
            "p": q[np.arange(g.U), best], "expected_position": q @ np.arange(K, dtype=float),
            "n_raters": votes.sum(axis=1), "majority": codes_arr[maj], "agrees_with_majority": best == maj,
        }))

        # ----- confusion matrices with intervals
        rater_of_p = np.arange(P) // (len(item_idx) if confusion_by == "item" else 1)
        item_of_p = (np.arange(P) % len(item_idx)) if confusion_by == "item" else None
        seen_p = np.bincount(p, minlength=P) > 0
        if thetas:
            stack = np.stack([t for t, _ in thetas])
            t_lo, t_hi = np.quantile(stack, lo_q, axis=0), np.quantile(stack, hi_q, axis=0)
        else:
            t_lo = t_hi = np.full_like(theta, np.nan)
        kk, ll_ = np.meshgrid(np.arange(K), np.arange(K), indexing="ij")
        sel = np.flatnonzero(seen_p)  # one block of K x K rows per parameter with judgements
        if sel.size:
            KK = K * K
            conf_rows.append(pd.DataFrame({
                "rater": np.repeat(J.raters.to_numpy(dtype=object)[rater_of_p[sel]], KK), "kind": kind,
                "item": (np.repeat(items_df["item"].to_numpy(dtype=object)[item_idx[item_of_p[sel]]], KK)
                         if item_of_p is not None else pd.NA),
                "true": np.tile(codes_arr[kk.ravel()], sel.size), "observed": np.tile(codes_arr[ll_.ravel()], sel.size),
                "p": theta[sel].reshape(-1), "ci_low": t_lo[sel].reshape(-1), "ci_high": t_hi[sel].reshape(-1),
                "n": expected[sel].reshape(-1),
            }))

        # ----- per-rater summaries: accuracy and leniency under the model
        pos = np.arange(K, dtype=float)

        def summaries(th, pi_):
            w_true = pi_.mean(axis=0)  # average class prevalence of the group
            acc = np.einsum("k,pkk->p", w_true, th)
            len_ = np.einsum("k,pkl,kl->p", w_true, th, pos[None, :] - pos[:, None])
            # per rater: average over its parameters (items) weighted by judgements
            n_p = np.bincount(p, minlength=P).astype(float)
            a = np.bincount(rater_of_p, weights=acc * n_p, minlength=R)
            b = np.bincount(rater_of_p, weights=len_ * n_p, minlength=R)
            n_r = np.bincount(rater_of_p, weights=n_p, minlength=R)
            with np.errstate(invalid="ignore", divide="ignore"):
                return a / n_r, b / n_r, n_r

        acc, len_, n_r = summaries(theta, pi)
        if thetas:
            bs = np.array([summaries(t, pb)[:2] for t, pb in thetas])  # B x 2 x R
            acc_lo, acc_hi = np.quantile(bs[:, 0], lo_q, axis=0), np.quantile(bs[:, 0], hi_q, axis=0)
            len_lo, len_hi = np.quantile(bs[:, 1], lo_q, axis=0), np.quantile(bs[:, 1], hi_q, axis=0)
        else:
            acc_lo = acc_hi = len_lo = len_hi = np.full(R, np.nan)
        present = n_r > 0
        rater_rows.append(pd.DataFrame({
            "rater": J.raters[present], "kind": kind, "model": models[label], "n": n_r[present].astype(int),
            "accuracy": acc[present], "accuracy_ci_low": acc_lo[present], "accuracy_ci_high": acc_hi[present],
            "leniency": len_[present], "leniency_ci_low": len_lo[present], "leniency_ci_high": len_hi[present],
        }))
        prior_items = items_df["item"].to_numpy()[item_idx] if class_prior == "item" else np.array([pd.NA], dtype=object)
        prior_rows.append(pd.DataFrame({
            "item": np.repeat(prior_items, K), "kind": kind, "category": np.tile(codes_arr, C), "p": pi.ravel(),
        }))

    sort_u = ["session", "case", "item"]
    judg = pd.DataFrame({
        "session": J.session_cases["session"].to_numpy()[J.sc], "case": J.session_cases["case"].to_numpy()[J.sc],
        "item": J.items["item"].to_numpy()[J.item], "kind": J.items["kind"].to_numpy()[J.item],
        "rater": J.raters.to_numpy()[J.rater],
        "value": _values(J),
    })
    return LatentConsensus(
        posterior=pd.concat(post_rows, ignore_index=True).sort_values(sort_u + ["position"], kind="stable").reset_index(drop=True),
        most_likely=pd.concat(ml_rows, ignore_index=True).sort_values(sort_u, kind="stable").reset_index(drop=True),
        confusions=pd.concat(conf_rows, ignore_index=True),
        raters=pd.concat(rater_rows, ignore_index=True),
        class_prior=pd.concat(prior_rows, ignore_index=True),
        models=models, n_iter=n_iter, converged=conv, log_likelihood=loglik,
        n_boot=int(n_boot), confidence=float(confidence), prior=prior, judgements=judg,
    )


def _values(J: Judgements) -> np.ndarray:
    """The code string of every judgement, vectorised over items."""
    out = np.empty(J.n, dtype=object)
    for i, codes in enumerate(J.items["codes"]):
        m = J.item == i
        out[m] = np.array(codes, dtype=object)[J.value[m]]
    return out
