"""How large a value of unknown range plausibly is, next to exp's limits in its dtype.

In float32 exp overflows past 88.72 and underflows below -103.97: logits, scores and
activations of a network reach that every day. In float64 (NumPy, Python floats) the limits are
709.78 and -745.13, and the values that reach them are of one kind: log-probabilities summed over
data — a log-likelihood, a log-density of many dimensions, a log importance weight, an HMM's
forward message, an energy. A naive logsumexp of log-likelihoods in float64 gives log(0) = -inf;
a softplus of an activation, a softmax of a linear model's scores, a sigmoid of a feature do
not fail there.

``accumulates_logs`` says which unknown values are of that kind: the code computes them as a
sum or a product of logs (``np.sum(np.log(p))``, ``x @ log_theta``, ``lgamma``), or names them
so (``log_lik``, ``logp``, ``log_w``, ``energy``, ``model.log_prob(x)``, ``logpdf``). Any other
value of unknown range is taken to stay within ``FLOAT64_EVERYDAY`` in float64.

A value of a model's declared parameters alone — no data flows in: ``w @ u.t()`` of two
``nn.Parameter``s (a planar flow's invertibility term), a posterior's ``rho``, a learned
schedule evaluated at a constant time (``self.gamma(1.)``) — is where initialisation and small
optimizer steps put it, not past exp's bounds in any dtype (``of_parameters_only``). A
layer's output is not: the data it is applied to can be as large as it likes; nor are logits
held directly as a tensor marked for a gradient (``torch.autograd.Variable(z,
requires_grad=True)``), which a cross-entropy drives apart without end.
"""

from __future__ import annotations

import ast
import re

from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.ir import identifier_of

# The magnitude an unknown float64 value that accumulates no logs plausibly stays within: past
# float32's exp limits (88.7, 104) and far from float64's (709.8, 745.1).
FLOAT64_EVERYDAY = 500.0

# Names of log-probabilities and of what accumulates them (matched on the lowercased name).
_LOG_SCALE_NAME = re.compile(
    r"(?:\w*_)?(?:"
    r"log_?(?:p|px|pz|py|pxz|pzx|q|qz|prob|probs|proba|probas|probability|probabilities|lik|liks|like|likes"
    r"|likelihood|likelihoods|dens|density|densities|pdf|pdfs|pmf|pmfs|joint|post|posterior|posteriors|prior"
    r"|priors|evidence|marginal|marginals|w|ws|weight|weights|wt|wts|z|partition|odds|ratio|ratios|alpha"
    r"|alphas|beta|betas|msg|msgs|message|messages|target|targets|pi)"
    r"|loglik\w*|loglike\w*|logpdf|logpmf|logcdf|logsf|ll|lls|lp|lps|nll|nlls|elbo|energy|energies"
    r"|score_samples|log_prob_\w+|log_likelihood_\w+)(?:_\w*)?"
)
# Ops whose output is a log: summed over data, their values leave float64's exp limits.
_LOG_OPS = frozenset({"log", "log_softmax", "log_sigmoid", "lgamma", "logsumexp"})
# Ops that add up many elements of their operand.
_ACCUMULATING = frozenset({"sum", "cumsum", "matmul", "dot"})
# Ops through which a log-probability stays one (a sum, a scale, a selection of its elements).
_CARRYING = frozenset({v.ADD, v.SUB, v.NEG, v.MUL, v.DIV, v.INDEX, "sum", "cumsum", "mean", "matmul", "max",
                       "maximum", "minimum", "where", "identity", "dot", v.TUPLE})


def is_log_scale_name(name: str) -> bool:
    """Does ``name`` say it holds a log-probability or what accumulates them?"""
    return bool(name) and _LOG_SCALE_NAME.fullmatch(name.lower()) is not None


def accumulates_logs(value: Value | None, depth: int = 0) -> bool:
    """Can ``value`` plausibly leave float64's exp limits: is it a sum or product of logs, or
    named as a log-probability (module doc)?"""
    if value is None or depth > 8:
        return False
    if any(is_log_scale_name(name) for name, _ in value.via) or is_log_scale_name(_written_name(value.node)):
        return True
    if value.kind == "lgamma":
        return True
    if value.kind in _ACCUMULATING and (any(_holds_log(operand) for operand in value.operands) or any(
            is_log_scale_name(_written_name(argument)) for argument in _call_arguments(value.node))):
        return True
    if value.kind in _CARRYING:
        return any(accumulates_logs(operand, depth + 1) for operand in value.operands)
    return False


def _holds_log(value: Value, depth: int = 0) -> bool:
    """Is ``value`` a log (or computed from one by sums and scales)?"""
    if depth > 6:
        return False
    if value.kind in _LOG_OPS or accumulates_logs(value, 8):
        return True
    return value.kind in _CARRYING and any(_holds_log(operand, depth + 1) for operand in value.operands)


def _call_arguments(node: ast.AST | None) -> list[ast.expr]:
    """The arguments of a call (``x.dot(log_theta)``: ``[log_theta]``), none for anything else."""
    return list(node.args) if isinstance(node, ast.Call) else []


def _written_name(node: ast.AST | None) -> str:
    """The name a value is written with: ``log_p``, ``self.log_lik``, ``dist.log_prob(x)`` -> ``log_prob``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Subscript):
        node = node.value
    return identifier_of(node) if isinstance(node, ast.expr) else ""


# Ops through which a value of trained parameters stays one (no data enters through them).
_OF_PARAMETERS = frozenset({
    v.ADD, v.SUB, v.MUL, v.DIV, v.NEG, v.POW, v.INDEX, v.TUPLE, "matmul", "dot", "abs", "identity", "sum", "mean",
    "square", "sqrt", "exp", "log", "log1p", "softplus", "sigmoid", "tanh", "clamp", "maximum", "minimum",
})


def of_parameters_only(value: Value | None) -> bool:
    """Is ``value`` computed from trained parameters and constants alone, with at least one
    parameter (module doc)?"""
    found = _parameters_and_constants(value, 0)
    return found is True


def _parameters_and_constants(value: Value | None, depth: int) -> bool | None:
    """True: parameters (and constants) only, with a parameter; None: constants only; False:
    anything else (data, an unknown)."""
    if value is None or depth > 10:
        return False
    kind = value.kind
    if kind == v.WEIGHT:
        return _declared_parameter(value)
    if _module_at_constants(value):
        return True
    if kind in (v.CONST, v.RANGED):
        return None
    if kind not in _OF_PARAMETERS or not value.operands:
        return False
    found = [_parameters_and_constants(operand, depth + 1) for operand in value.operands]
    if any(item is False for item in found):
        return False
    return True if any(found) else None


def _declared_parameter(value: Value) -> bool:
    """A parameter a model declares (``nn.Parameter``, ``tf.Variable``, ``self.param``,
    ``add_weight``), not a tensor marked for a gradient with ``torch.autograd.Variable(t,
    requires_grad=True)``: logits optimized directly under a cross-entropy run off to
    infinity, and that wrapper is how such scripts hold them."""
    node = value.node
    if not isinstance(node, ast.Call):
        return True
    func = node.func
    if identifier_of(func) != "Variable":
        return True
    marked = any(keyword.arg == "requires_grad" for keyword in node.keywords)
    through_autograd = isinstance(func, ast.Attribute) and identifier_of(func.value) == "autograd"
    return not (marked or through_autograd)


def _module_at_constants(value: Value) -> bool:
    """``self.gamma(1.)``: a module or method of the model called with numbers only — a
    function of its parameters (a noise schedule, a prior) at a constant."""
    node = value.node
    if value.kind != v.UNKNOWN or not isinstance(node, ast.Call) or node.keywords or not node.args:
        return False
    func = node.func
    owned = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
    return owned and all(
        isinstance(argument, ast.Constant) and type(argument.value) in (int, float) for argument in node.args
    )
