"""Every rule's failure model (``analysis.failures.FailureModel``): its formula and stable
form over named variables, the consequence, and where it happens in each dtype.

The regions are written from the dtypes' own bounds (``intervals``): exp overflows past
88.72 in float32, a probability below exp(-103.97) rounds to 0, ``1 + x`` is 1 for
|x| < eps/2. A rule with several ways to fail lists several models, tried in order.
"""

from __future__ import annotations

from stablelint.analysis import intervals as iv
from stablelint.analysis.failures import FailureModel


def _past_overflow(dtype: str) -> float:
    """A round argument past exp's overflow bound (``intervals.EXP_OVERFLOW``)."""
    return {"float16": 12.0, "bfloat16": 100.0, "float32": 100.0, "float64": 710.0}[dtype]


def _past_underflow(dtype: str) -> float:
    """A round gap past exp's underflow bound (``intervals.EXP_UNDERFLOW``): exp(-gap) is 0."""
    return {"float16": 30.0, "bfloat16": 200.0, "float32": 200.0, "float64": 800.0}[dtype]


def _below_eps(dtype: str) -> list[float]:
    """Small arguments where ``1 + x`` keeps fewer than half of the digits: around eps and below."""
    tiny = {"float16": 1e-4, "bfloat16": 1e-3, "float32": 1e-7, "float64": 1e-12}[dtype]
    eps = iv.EPS[dtype]
    return [tiny, -tiny, eps ** 0.75, -(eps ** 0.75)]


def _sigmoid_one(dtype: str) -> float:
    return float(int(iv.SIGMOID_ONE[dtype]) + 3)


FAILURES: dict[str, tuple[FailureModel, ...]] = {
    "STB101": (FailureModel(
        "log(softmax(x))", "log_softmax(x)", "underflow",
        lambda d: [{"x": (0.0, -_past_underflow(d))}],
        "log(softmax(x)) is -inf once a logit is more than ~104 below the largest in float32 (~17 in float16, "
        "~745 in float64): its probability rounds to 0.",
        exp_limits=True,
    ),),
    "STB102": (FailureModel(
        "log(sum(exp(x)))", "logsumexp(x)", "overflow",
        lambda d: [{"x": (_past_overflow(d), _past_overflow(d))}],
        "exp(x) overflows to inf past 88.72 in float32 (11.09 in float16, 709.78 in float64), and the log of "
        "the sum is inf where logsumexp is finite.",
        exp_limits=True,
    ),),
    "STB103": (FailureModel(
        "exp(x) / sum(exp(x))", "softmax(x)", "nan",
        lambda d: [{"x": (_past_overflow(d), 0.0)}],
        "exp(x) overflows to inf past 88.72 in float32 (11.09 in float16): inf / inf is NaN where softmax is "
        "finite.",
        exp_limits=True,
    ),),
    "STB104": (FailureModel(
        "log(sigmoid(x))", "logsigmoid(x)", "underflow",
        lambda d: [{"x": -_past_underflow(d)}],
        "sigmoid(x) rounds to 0 below about -104 in float32 (-17 in float16, -745 in float64): its log is "
        "-inf where logsigmoid(x) is about x.",
        exp_limits=True,
    ),),
    "STB105": (FailureModel(
        "log(1 - sigmoid(x))", "logsigmoid(-x)", "underflow",
        lambda d: [{"x": _sigmoid_one(d)}],
        "sigmoid(x) rounds to 1 above about 17 in float32 (8 in float16, 37 in float64): 1 - sigmoid(x) is 0 "
        "and its log -inf where logsigmoid(-x) is about -x.",
    ),),
    "STB106": (FailureModel(
        "log(1 + x)", "log1p(x)", "digits-lost",
        lambda d: [{"x": x} for x in _below_eps(d)],
        "log(1 + x) loses about log10(1/|x|) of the dtype's digits: all of float32's 7 once |x| < 6e-8, half "
        "of them from |x| < 3e-4 (float64: half of 16 from |x| < 1e-8).",
        proven_only=True,
    ),),
    "STB107": (FailureModel(
        "exp(x) - 1", "expm1(x)", "digits-lost",
        lambda d: [{"x": x} for x in _below_eps(d)],
        "exp(x) - 1 loses about log10(1/|x|) of the dtype's digits for small |x| (all of float32's below "
        "6e-8); expm1 keeps them.",
        proven_only=True,
    ),),
    "STB108": (
        FailureModel(
            "log(1 + exp(x))", "softplus(x)", "overflow",
            lambda d: [{"x": _past_overflow(d)}],
            "exp(x) overflows to inf past 88.72 in float32 (11.09 in float16): log(1 + exp(x)) is inf where "
            "softplus(x) is x.",
            exp_limits=True,
        ),
        # Where the result is a scale (``analysis.scales``), a zero is the hazard.
        FailureModel(
            "log(1 + exp(x))", "softplus(x)", "underflow",
            lambda d: [{"x": {"float16": -10.0, "bfloat16": -10.0, "float32": -20.0, "float64": -40.0}[d]}],
            "1 + exp(x) rounds to 1 below about -16.6 in float32 (-7.6 in float16, -36.7 in float64): "
            "log(1 + exp(x)) is 0 where softplus(x) is exp(x), a scale of 0 (log(sigma) = -inf, x / sigma = inf).",
            exp_limits=True,
        ),
    ),
    "STB109": (FailureModel(
        "log(exp(a) + exp(b))", "logaddexp(a, b)", "overflow",
        lambda d: [{"a": _past_overflow(d), "b": 0.0}],
        "exp(a) or exp(b) overflows to inf past 88.72 in float32 (11.09 in float16): the log of the sum is "
        "inf where logaddexp is finite.",
        exp_limits=True,
    ),),
    "STB110": (FailureModel(
        "log(cumsum(exp(x)))", "logcumsumexp(x)", "overflow",
        lambda d: [{"x": (_past_overflow(d), 0.0)}],
        "exp(x) overflows to inf past 88.72 in float32 (11.09 in float16): every later cumulative log is inf.",
        exp_limits=True,
    ),),
    "STB111": (FailureModel(
        "1 / (1 + exp(-x))", "sigmoid(x)", "nan-gradient",
        lambda d: [{"x": -_past_overflow(d)}],
        "exp(-x) overflows to inf below -88.72 in float32 (-11.09 in float16): the value is 0 but its gradient "
        "is inf / inf = NaN, where a gradient flows.",
        exp_limits=True,
    ),),
    "STB112": (FailureModel(
        "(exp(x) - exp(-x)) / (exp(x) + exp(-x))", "tanh(x)", "nan",
        lambda d: [{"x": _past_overflow(d)}, {"x": -_past_overflow(d)}],
        "exp(x) or exp(-x) overflows past |x| = 88.72 in float32 (11.09 in float16): inf / inf is NaN where "
        "tanh is ±1.",
        exp_limits=True,
    ),),
    "STB113": (
        FailureModel(
            "log(exp(x))", "x", "overflow",
            lambda d: [{"x": _past_overflow(d)}],
            "exp(x) overflows to inf past 88.72 in float32 and underflows to 0 below -103.97: log(exp(x)) is "
            "±inf where x is finite.",
            exp_limits=True,
        ),
        FailureModel(
            "log(exp(x))", "x", "underflow",
            lambda d: [{"x": -_past_underflow(d)}],
            "exp(x) underflows to 0 below -103.97 in float32 (-17.3 in float16): log(exp(x)) is -inf.",
            exp_limits=True,
        ),
    ),
    "STB114": (FailureModel(
        "x * log(x)", "xlogy(x, x)", "nan",
        lambda d: [{"x": 0.0}],
        "at x = 0, x * log(x) is 0 * -inf = NaN; its limit, and xlogy(x, x), is 0.",
    ),),
    "STB115": (FailureModel(
        "atan(y / x)", "atan2(y, x)", "wrong-result",
        lambda d: [{"y": 1.0, "x": -1.0}, {"y": -1.0, "x": -1.0}],
        "for x < 0, atan(y / x) is off by pi (the wrong quadrant); at x = y = 0 it is NaN.",
    ),),
    "STB116": (FailureModel(
        "where(x > 20, x, log(1 + exp(x)))", "softplus(x)", "nan-gradient",
        lambda d: [{"x": _past_overflow(d)}],
        "where() computes both branches: past 88.72 in float32 exp(x) is inf in the branch not taken, and "
        "its gradient, inf / inf = NaN, reaches x (0 * NaN = NaN).",
        exp_limits=True,
    ),),
    "STB201": (FailureModel(
        "mean(x ** 2) - mean(x) ** 2", "var(x)", "digits-lost",
        lambda d: [{"x": (m, m + 1.0)} for m in {"float16": (100.0,), "bfloat16": (100.0,), "float32": (1e4,),
                                                   "float64": (1e8,)}[d]],
        "mean(x**2) - mean(x)**2 cancels: once the mean is about 1/sqrt(eps) times the standard deviation "
        "(1e4 in float32, 1e8 in float64) no digit of the variance is left, and it can be negative (NaN under "
        "sqrt).",
        float64_magnitudes=True,
    ),),
    "STB202": (FailureModel(
        "sqrt(var(x)) + 1e-05", "sqrt(var(x) + 1e-05)", "nan-gradient",
        lambda d: [{"x": (1.0, 1.0)}],
        "at zero variance (a constant input) the gradient of sqrt(var) is 0 / 0 = NaN, which the eps added "
        "outside does not prevent, where a gradient flows.",
    ),),
    "STB203": (FailureModel(
        "x / norm(x)", "x / maximum(norm(x), 1e-12)", "nan",
        lambda d: [{"x": (0.0, 0.0)}],
        "for a zero (or constant, for a std) input the divisor is 0 and the quotient 0 / 0 = NaN.",
    ),),
    "STB204": (FailureModel(
        "dot(a, b) / (norm(a) * norm(b))", "dot(a, b) / maximum(norm(a) * norm(b), 1e-08)", "nan",
        lambda d: [{"a": (0.0, 0.0), "b": (1.0, 1.0)}],
        "for a zero vector the product of norms is 0 and the similarity 0 / 0 = NaN.",
    ),),
    "STB205": (
        FailureModel(
            "sqrt(sum(x ** 2))", "vector_norm(x)", "nan-gradient",
            lambda d: [{"x": (0.0, 0.0)}],
            "at x = 0 the gradient of sqrt(sum(x**2)) is 0 / 0 = NaN (vector_norm's is 0), where a gradient "
            "flows; in float16 the squares overflow past 256.",
        ),
        FailureModel(
            "sqrt(sum(x ** 2))", "vector_norm(x)", "overflow",
            lambda d: [{"x": {"float16": (300.0, 300.0), "float64": (1e155, 1e155)}.get(d, (2e19, 2e19))}],
            "the squares overflow: past 256 in float16, 1.8e19 in float32.",
        ),
    ),
    "STB301": (FailureModel(
        "bce(sigmoid(x), y)", "bce_with_logits(x, y)", "wrong-result",
        lambda d: [{"x": -200.0, "y": 1.0}, {"x": 200.0, "y": 0.0}],
        "sigmoid(x) rounds to 0 or 1 past |x| ≈ 17 (float32); the loss then clamps its log at -100 (PyTorch) "
        "or clips the probability at 1e-7 (Keras): the loss is capped and its gradient 0, where the logits "
        "form gives |x| and a gradient of 1.",
    ),),
    "STB302": (FailureModel(
        "-softmax(x)[0]", "-log_softmax(x)[0]", "wrong-result",
        lambda d: [{"x": (0.0, 0.0)}],
        "nll_loss takes log-probabilities: fed probabilities it computes -p[y], not -log p[y] (at equal logits "
        "-0.5 instead of 0.69).",
    ),),
    "STB303": (FailureModel(
        "-log(maximum(softmax(x), 1e-07))[0]", "-log_softmax(x)[0]", "wrong-result",
        lambda d: [{"x": (-100.0, 0.0)}],
        "Keras clips the probabilities at 1e-7: the loss of a logit 100 below the others is stuck at 16.1 "
        "(true value 100) and its gradient is 0.",
    ),),
    "STB124": (FailureModel(
        "exp(x)", "", "overflow", lambda d: [{"x": _past_overflow(d)}],
        "exp(x) is inf past 88.72 in float32 and bfloat16 (11.09 in float16): a trained layer's raw output has "
        "nothing that keeps it below, and the inf turns the loss and the gradients NaN.",
    ),),
    "STB304": (FailureModel(
        "-log_softmax(softmax(x))[0]", "-log_softmax(x)[0]", "wrong-result",
        lambda d: [{"x": (3.0, 0.0)}],
        "the loss applies its own softmax: fed probabilities it computes softmax twice (at logits (3, 0) a "
        "loss of 0.34 instead of 0.049).",
    ),),
    "STB401": (
        FailureModel(
            "log(x)", "", "nan", lambda d: [{"x": -1.0}],
            "log of a negative value is NaN, of 0 is -inf; the range the analysis proves for the argument "
            "reaches there.",
        ),
        FailureModel("log(x)", "", "overflow", lambda d: [{"x": 0.0}], "log(0) is -inf."),
    ),
    "STB402": (FailureModel(
        "exp(x)", "", "overflow", lambda d: [{"x": _past_overflow(d)}],
        "exp(x) is inf past 88.72 in float32 and bfloat16 (11.09 in float16, 709.78 in float64); the proven "
        "range of x reaches past it.",
        exp_limits=True,
    ),),
    "STB403": (
        FailureModel(
            "1 / x", "", "overflow", lambda d: [{"x": 0.0}],
            "a division by a value whose proven range holds 0 is inf there (NaN for 0 / 0).",
        ),
    ),
    "STB404": (
        FailureModel(
            "sqrt(x)", "sqrt(maximum(x, 0))", "nan", lambda d: [{"x": -1.0}, {"x": -1e-3}, {"x": -1e-7}],
            "sqrt of a negative value is NaN; the proven range of its argument reaches below 0.",
        ),
        FailureModel(
            "sqrt(x)", "", "inf-gradient", lambda d: [{"x": 0.0}],
            "sqrt's gradient at 0 is inf: an exp whose bounded argument still rounds to 0 in the dtype "
            "(exp(-100) is 0 where float32 subnormals flush to 0) makes it NaN through exp's gradient.",
            proven_only=True,
        ),
    ),
    "STB405": (FailureModel(
        "log(eps + 1 - x)", "log((1 - x) + eps)", "overflow",
        lambda d: [{"x": 1.0, "eps": 1e-10 if d != "float64" else 1e-18}],
        "an eps below half the ulp of the constant it is added to (6e-8 beside 1 in float32) is rounded away: "
        "the guard is gone, and log(1 - x) at x = 1 is -inf.",
    ),),
    "STB501": (FailureModel(
        "log(x + eps)", "log(x + 6.104e-05)", "underflow",
        lambda d: [{"x": 0.0, "eps": 1e-8}],
        "an eps below float16's smallest subnormal (6e-8) or bfloat16's rounds to 0: at x = 0 the guarded log "
        "is -inf; finfo(dtype).tiny is the smallest normal number of the dtype.",
        example_dtype="float16",
    ),),
    "STB502": (FailureModel(
        "x + c", "x + (-65504.0)", "overflow",
        lambda d: [{"x": 0.0, "c": -1e9}],
        "-1e9 is beyond float16's largest finite number (65504): it becomes -inf, and a softmax over a row "
        "masked everywhere is NaN; finfo(dtype).min stays finite.",
        example_dtype="float16",
    ),),
    "STB503": (FailureModel(
        "x == nan", "isnan(x)", "wrong-result",
        lambda d: [{"x": float("nan")}],
        "NaN compares unequal to everything, itself included: x == nan is always False (!= always True).",
    ),),
    "STB601": (FailureModel(
        "log(prod(d))", "sum(log(d))", "underflow",
        lambda d: [{"d": {"float16": (1e-2,) * 4, "float64": (1e-3,) * 120}.get(d, (1e-3,) * 16)}],
        "det(A) of a matrix with 16 eigenvalues of 1e-3 is 1e-48, below float32's range: log(det(A)) is -inf "
        "where logdet is -110.5 (with eigenvalues of 10 it overflows to inf).",
    ),),
    "STB602": (FailureModel(
        "a / (a - 1) * 2 + (-1 / (a - 1)) * b", "2 - (b - 2) / (a - 1)", "digits-lost",
        lambda d: [{"a": 1 + t, "b": 2 + t}
                   for t in {"float64": (1e-9, 3e-12), "float32": (1e-4, 3e-4)}.get(d, (1e-2,))],
        "inv(A) @ b rounds every entry of the inverse, whose size grows with the condition of A, and sums "
        "them back to a small result; solve(A, b) is backward stable. For A = [[1, 1], [1, a]], b = [2, b] "
        "(a = 1.0001, b = 2.0001 in float32: x = [1, 1]) the inverse's first component has lost more than half "
        "of the digits solve keeps.",
    ),),
    "STB603": (FailureModel(
        "((1 + d * d) * 2 - (2 + d * d)) / ((1 + d * d) - 1)", "2 - d / d", "nan",
        lambda d: [{"d": 1e-4 if d != "float64" else 1e-9}],
        "the normal equations square the condition number of X: for X = [[1, 1], [0, d]] with d = 1e-4 in "
        "float32, X.T @ X = [[1, 1], [1, 1 + d²]] rounds to a singular matrix (the solution is 0 / 0 = NaN), "
        "where lstsq on X solves exactly.",
    ),),
    "STB117": (FailureModel(
        "log(1 - tanh(x) ** 2)", "2 * (0.6931471805599453 - x - softplus(-2 * x))", "underflow",
        lambda d: [{"x": {"float16": 5.0, "bfloat16": 5.0, "float32": 10.0, "float64": 20.0}[d]}],
        "tanh(u) rounds to ±1 past |u| ≈ 9 in float32 (4.5 in float16, 19 in float64): 1 - tanh(u)**2 is 0 and "
        "its log -inf, where the softplus form gives about 1.39 - 2|u|.",
    ),),
    "STB118": (FailureModel(
        "clamp_max(exp(x), 20.0)", "exp(clamp_max(x, 2.995732273553991))", "nan-gradient",
        lambda d: [{"x": _past_overflow(d)}],
        "exp(x) overflows to inf past 88.72 in float32 before the clamp: the value is clamped, but its "
        "gradient is 0 * inf = NaN, where a gradient flows. Claimed only where the code establishes that x "
        "reaches past the bound (a layer's or a matmul's output, a range of constants), not of an unknown x.",
        proven_only=True,
    ),),
    "STB119": (FailureModel(
        "log(sigmoid(a) - sigmoid(b))", "logsigmoid(a) + logsigmoid(-b) + log(-expm1(b - a))", "underflow",
        lambda d: [{"a": _sigmoid_one(d) + 5.0, "b": _sigmoid_one(d) + 4.0}],
        "both sigmoids round to 1 past about 17 in float32 (8 in float16): their difference is 0 and its log "
        "-inf (an eps or floor the dtype rounds to 0 does not help), where the log-sigmoid form is finite.",
    ),),
    "STB120": (FailureModel(
        "exp(lgamma(a)) / exp(lgamma(b))", "exp(lgamma(a) - lgamma(b))", "nan",
        lambda d: [{"a": {"float16": 10.0, "bfloat16": 40.0, "float32": 40.0, "float64": 200.0}[d],
                    "b": {"float16": 9.5, "bfloat16": 39.5, "float32": 39.5, "float64": 199.5}[d]}],
        "lgamma(a) passes exp's overflow bound from a ≈ 35 in float32 (a ≈ 9 in float16, 171 in float64): "
        "inf / inf is NaN where the difference of lgammas is finite.",
    ),),
    "STB121": (FailureModel(
        "log(mean(exp(x) + 1e-08))", "logsumexp(x) - 0.6931471805599453", "overflow",
        lambda d: [{"x": (_past_overflow(d), _past_overflow(d))}],
        "the eps does not stop exp(x) from overflowing past 88.72 in float32: the log of the mean is inf "
        "where logsumexp(x) - log(n) is finite.",
        exp_limits=True,
    ),),
    "STB122": (FailureModel(
        "exp(x) / (1 + exp(x)) ** 2", "sigmoid(x) * sigmoid(-x)", "nan",
        lambda d: [{"x": _past_overflow(d)}],
        "exp(x) overflows past 88.72 in float32 (11.09 in float16): inf / inf is NaN where the density is ~0.",
        exp_limits=True,
    ),),
    "STB123": (FailureModel(
        "sqrt(1 + x) - 1", "x / (sqrt(1 + x) + 1)", "digits-lost",
        lambda d: [{"x": x} for x in _below_eps(d)],
        "sqrt(1 + u) - 1 cancels the leading 1: it loses about log10(1/|u|) of the dtype's digits (all of "
        "float32's below 1.2e-7).",
        proven_only=True,
    ),),
    "STB206": (FailureModel(
        "clamp_min(sqrt(var(x)), 0.001)", "sqrt(clamp_min(var(x), 1e-06))", "nan-gradient",
        lambda d: [{"x": (1.0, 1.0)}],
        "at zero variance sqrt's gradient is 0 / 0 = NaN, and the clamp after it multiplies that by 0 "
        "(still NaN), where a gradient flows.",
    ),),
    "STB207": (FailureModel(
        "mean(x ** 2) - mean(x) ** 2", "var(x)", "digits-lost",
        lambda d: [{"x": (m, m + 1.0)} for m in {"float16": (100.0,), "bfloat16": (100.0,), "float32": (1e4,),
                                                   "float64": (1e8,)}[d]],
        "running moments v - m**2 cancel like mean(x**2) - mean(x)**2: once the mean is about 1/sqrt(eps) "
        "times the spread (1e4 in float32) no digit of the variance is left, and it can be negative.",
        float64_magnitudes=True,
    ),),
    "STB208": (FailureModel(
        "a / b", "a / maximum(b, 1.0)", "nan",
        lambda d: [{"a": 0.0, "b": 0.0}],
        "a group nobody is assigned to has a count of 0 and a sum of 0: its mean is 0 / 0 = NaN, where "
        "dividing by max(count, 1) gives 0.",
    ),),
    "STB504": (FailureModel(
        "log(1 - clamp_max(x, 1 - eps))", "log(1 - clamp_max(x, 1 - half_ulp))", "overflow",
        lambda d: [{"x": 1.0, "eps": 1e-20, "half_ulp": iv.EPS[d] / 2}],
        "1 - eps is exactly 1.0 once eps is below half of the dtype's ulp under 1 (6e-8 in float32): the "
        "clamp lets p = 1 through and log(1 - p) is -inf, where 1 - finfo(dtype).eps / 2 keeps it finite.",
    ),),
}
