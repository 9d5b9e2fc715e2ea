"""STB3xx: losses fed the wrong thing — probabilities where a fused with-logits form exists,
probabilities where log-probabilities or logits are expected.

Every rule starts at a loss call (``F.binary_cross_entropy(p, y)``, ``criterion(p, y)`` of a
loss object built anywhere in the file, ``keras.losses.categorical_crossentropy(y, p)``) and
asks the value model where its prediction came from: a sigmoid or a softmax, through names,
attributes, helpers and nn/Keras modules.

Cross-entropy written out by hand (``-(y * torch.log(F.softmax(z, -1))).sum(-1)``) is not a
loss call: STB101 (log of softmax) and STB104/STB105 (log of sigmoid) report it at the log,
which is where the fix goes. These rules never look inside a log, so one hazard gives one
finding; ``nll_loss(torch.log(F.softmax(z, 1)), y)`` is STB101's, not STB302's.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from stablelint import frameworks
from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.frameworks import LossSignature
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import activation_input, fixable, softmax_of, takes_only_input


@dataclass(frozen=True)
class LossCall:
    """One loss call: what it expects, its prediction argument and the activation behind it."""

    signature: LossSignature
    expects: str  # the signature's, or "logits" where ``from_logits=True`` says so
    qualified_name: str
    prediction: ast.expr
    activation: Value  # the sigmoid or softmax the prediction came from
    indexed: bool  # the prediction is an element or a reshaping of the activation's output
    # The call that holds the loss's options: the function's, or the loss object's constructor
    # (None: in another module).
    options: ast.Call | None
    inline_object: bool  # ``nn.BCELoss()(p, y)``: the constructor is the callee itself
    built: str | None  # where a loss object built elsewhere was built, said in messages


def loss_call(node: ast.Call, value: Value, ctx: Context) -> LossCall | None:
    """The loss call at ``node`` (a value of kind ``loss``), when its prediction is a
    sigmoid's or softmax's output; None for anything the value model does not know."""
    built = None
    if value.op is not None:
        qualified = value.op.qualified_name or ""
        signature = frameworks.loss_signature(qualified)
        options, inline = node, False
    else:
        module = ctx.value(node.func)
        if module.kind != v.MODULE:
            return None
        spec = module.detail
        if isinstance(module.node, ast.Call) and not spec.file:
            options = module.node
            qualified = ctx.imports.qualified_name(options.func) or ""
            built = f"the loss object is {spec.description}, built on line {options.lineno}"
        elif spec.file and spec.qualified:
            # Built in another module (``self.loss = nn.BCELoss()`` of a model class there):
            # its options are not in sight, so only a loss that has none deciding what it
            # expects (not Keras' ``from_logits``) is known.
            options, qualified = None, spec.qualified
            built = f"the loss object is {spec.description}, built in {spec.file}:{spec.line}"
        else:
            return None
        signature = frameworks.loss_signature(qualified, module=True)
        inline = node.func is options
        if inline:
            built = None
    if signature is None:
        return None
    if options is None and signature.prediction_names[0] == "y_pred":
        return None  # a Keras loss object built elsewhere: from_logits is not in sight
    from_logits = _from_logits(options, module_constructor=value.op is None, signature=signature) if options else False
    if from_logits is None:
        return None  # ``from_logits=flag``: the code does not say what the loss expects
    expects = "logits" if from_logits else signature.expects
    prediction = _argument(node, signature.prediction, signature.prediction_names)
    if prediction is None:
        return None
    found = ctx.value(prediction)
    inner, layers = found, 0
    while inner.kind == v.INDEX and layers < 3:  # ``torch.sigmoid(z).squeeze(1)``, ``p[:, 0]``
        inner, layers = inner.operand(), layers + 1
    activation = inner if inner.kind == "sigmoid" else softmax_of(inner)
    if activation is None:
        return None
    if signature.prediction_names[0] == "y_pred" and expects == "probabilities" and _keeps_its_logits(activation):
        return None
    return LossCall(signature, expects, qualified, prediction, activation, layers > 0, options, inline, built)


def _keeps_its_logits(activation: Value) -> bool:
    """Keras' own activations (``keras.activations.softmax``, what a ``Dense``/``Activation``
    layer applies) store their input on the output (``_keras_logits``), and Keras' TensorFlow
    backend computes the loss from those logits: such a prediction is not clipped there."""
    if activation.op is None:
        return activation.framework == "tf"  # the output of a Keras layer
    name = activation.op.qualified_name or ""
    return name.startswith(("keras.activations.", "tensorflow.keras.activations."))


def fed(node: ast.Call, value: Value, ctx: Context, expects: str, activation: str | None = None) -> LossCall | None:
    """The loss call at ``node`` when it expects ``expects`` and (if given) is a loss over
    ``activation``'s outputs fed exactly that activation."""
    loss = loss_call(node, value, ctx)
    if loss is None or loss.expects != expects:
        return None
    if activation is not None and (loss.signature.activation != activation or loss.activation.kind != activation):
        return None
    return loss


def _argument(call: ast.Call, position: int, names: tuple[str, ...]) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    if any(isinstance(arg, ast.Starred) for arg in call.args[: position + 1]):
        return None
    return call.args[position] if len(call.args) > position else None


def _from_logits_node(options: ast.Call, *, module_constructor: bool) -> ast.expr | None:
    """``from_logits=`` as written: a keyword, or Keras' positional place for it."""
    for keyword in options.keywords:
        if keyword.arg == "from_logits":
            return keyword.value
    position = 0 if module_constructor else 2  # BinaryCrossentropy(from_logits, ...); f(y, p, from_logits)
    return options.args[position] if len(options.args) > position else None


def _from_logits(options: ast.Call, *, module_constructor: bool, signature: LossSignature) -> bool | None:
    if signature.prediction_names[0] != "y_pred":
        return False  # only the Keras losses take from_logits
    written = _from_logits_node(options, module_constructor=module_constructor)
    if written is None:
        return False
    if isinstance(written, ast.Constant) and isinstance(written.value, bool):
        return written.value
    return None


def _spliced(ctx: Context, node: ast.AST, replacements: list[tuple[ast.AST | tuple[int, int], str]]) -> str:
    """The source of ``node`` with each of the sub-nodes (or spans) replaced by its text."""
    start, end = ctx.index.span(node)
    text = ctx.index.source[start:end]
    spans = []
    for target, content in replacements:
        low, high = target if isinstance(target, tuple) else ctx.index.span(target)
        spans.append((low - start, high - start, content))
    for low, high, content in sorted(spans, reverse=True):
        text = text[:low] + content + text[high:]
    return text


def _logits_of(loss: LossCall) -> ast.expr | None:
    """The activation's input, where a fix may move it to the loss: the activation is
    called right in the loss's prediction argument, or through names of this scope."""
    activation = loss.activation
    if loss.indexed or not fixable(activation) or not takes_only_input(activation.op):
        return None
    return activation.op.input


def _from_logits_fix(ctx: Context, node: ast.Call, loss: LossCall, logits: ast.expr) -> Fix | None:
    """Keras: the same loss on the logits with ``from_logits=True``."""
    written = _from_logits_node(loss.options, module_constructor=loss.options is not node)
    replacements: list = [(loss.prediction, ctx.text(logits))]
    if written is not None:
        replacements.append((written, "True"))
    elif loss.options.args and loss.options is not node:
        return None  # BinaryCrossentropy(False, ...) is handled above; other positionals: leave them
    else:
        _, close = ctx.index.span(loss.options)
        close -= 1  # the closing parenthesis
        separator = ", " if loss.options.args or loss.options.keywords else ""
        replacements.append(((close, close), f"{separator}from_logits=True"))
    content = _spliced(ctx, node, replacements)
    return ctx.fix(node, content, safety="unsafe", via=list(loss.activation.via), copied=[logits])


# How the numeric harness feeds a loss example: logits over R, targets in (0, 1); the fixes are unsafe.
_LOGITS_AND_TARGETS = {"domain": {"x": "real", "y": "unit_interval"}, "unsafe": True, "variables": ("x", "y")}


class BceOnSigmoid(Rule):
    """
    ## What it does
    Finds binary cross-entropy computed on the output of a sigmoid:
    `F.binary_cross_entropy(torch.sigmoid(z), y)`, `nn.BCELoss()(torch.sigmoid(z), y)` (the
    loss object may be built anywhere in the file, e.g. `self.criterion = nn.BCELoss()` in
    `__init__`), `keras.losses.binary_crossentropy(y, keras.ops.sigmoid(z))` and
    `keras.losses.BinaryCrossentropy()(y, p)` with `from_logits=False` (the default), also
    when the sigmoid is an `nn.Sigmoid` module, a Keras `Dense(..., activation="sigmoid")`
    layer, an attribute set in another method or a helper's return.

    ## Why is this bad?
    In float32 `sigmoid(z)` rounds to exactly 1 for `z > 17` and to 0 below about -104
    (float16: above 8, below -17). The loss then needs `log(0)`: PyTorch clamps each log
    term at -100, so the loss is stuck at 100 and its gradient is 0; Keras clips the
    probabilities to `[1e-7, 1 - 1e-7]`, so the loss saturates near 16.1 with a zero
    gradient. Confidently wrong predictions stop being corrected. The with-logits forms
    compute `max(z, 0) - z*y + log1p(exp(-|z|))`, exact for every `z`. Measured with
    PyTorch 2.13 in float32 (`nn.BCELoss` on `torch.sigmoid(z)` against the with-logits
    loss): at `z = 16.7` with target 0 the loss reads 100 and its gradient is exactly 0
    (with logits: 16.7 and 1); at `z = -28` with target 1 the gradient is -0.69, at
    `z = -35` -6e-4 and at `z = -90` 0 (with logits: -1 throughout), because the backward
    divides by `max(p(1 - p), 1e-12)`. A discriminator or decoder logit is the output of
    an unbounded layer: nothing in the code keeps it inside ±16.6. Under
    `torch.autocast`, `F.binary_cross_entropy` and `nn.BCELoss` raise an error
    ("unsafe to autocast", pytorch#61098); the with-logits forms are autocast-safe.

    ## Fix safety
    Unsafe. PyTorch: `F.binary_cross_entropy(torch.sigmoid(z), y, ...)` becomes
    `F.binary_cross_entropy_with_logits(z, y, ...)` and `nn.BCELoss(...)(torch.sigmoid(z), y)`
    becomes `nn.BCEWithLogitsLoss(...)(z, y)`: the weight, size_average, reduce and
    reduction arguments keep their places (the with-logits signatures start with the
    same parameters; `pos_weight` exists only there). Keras: the logits are passed and
    `from_logits=True` is set. The value is the same within rounding where the sigmoid
    does not saturate, and differs where it does: the original's clamped 100 (or Keras'
    16.1) becomes the true loss. That changes training, so the fix is not applied by
    `--fix` alone. Measured by the numeric harness: the reduced losses (`mean`, `sum`)
    are within rounding of the exact value in float16/bfloat16/float32/float64; with
    `reduction='none'` PyTorch's with-logits form is exact only in absolute terms (it
    computes `(1 - y)·z + max(-z, 0) + log1p(exp(-|z|))`, which cancels when `y ≈ 0`
    and `z ≪ 0`), so a tiny per-element loss keeps fewer relative digits than the
    original. No fix when the sigmoid is computed elsewhere (a module, another method),
    when the loss object is built elsewhere, or when the prediction is an element of the
    sigmoid's output.

    Not reported, by what Keras 3.15's source does: a prediction that is the output of
    `keras.activations.sigmoid` or of a layer with `activation="sigmoid"` (`Dense`,
    `Activation`). Those activations store their input on the output (`_keras_logits`) and
    the TensorFlow backend computes the loss from it, so `model.compile(
    loss="binary_crossentropy")` after a sigmoid last layer is stable there (the JAX and
    PyTorch backends clip instead; that case is left unreported). A `tf.sigmoid` fed
    directly to a Keras loss inside `tf.function` is recovered too (the backend checks the
    producing op's type); in eager code it is clipped, and the rule cannot tell the two
    apart: it reports both.

    ## References
    - [torch.nn.functional.binary_cross_entropy_with_logits](https://pytorch.org/docs/stable/generated/torch.nn.functional.binary_cross_entropy_with_logits.html),
      [torch.nn.BCEWithLogitsLoss](https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html)
    - [keras.losses.binary_crossentropy](https://keras.io/api/losses/probabilistic_losses/#binary_crossentropy-function)
    - pytorch/pytorch#61098 (BCELoss under autocast)
    """

    code = "STB301"
    name = "bce-on-sigmoid"
    message = (
        "binary cross-entropy of sigmoid(z) saturates once the sigmoid rounds to 0 or 1 (loss clamped, gradient 0); "
        "use the with-logits form on z (binary_cross_entropy_with_logits, BCEWithLogitsLoss, from_logits=True)"
    )
    fix_safety = "unsafe"
    on = ("loss",)
    autocast = (
        "`binary_cross_entropy` and `nn.BCELoss` raise under CUDA autocast (unsafe to autocast); "
        "`binary_cross_entropy_with_logits` runs in float32 there. The fix makes autocast possible."
    )
    valid = [
        Valid("F.binary_cross_entropy_with_logits(z, y)"),
        Valid("torch.nn.BCEWithLogitsLoss()(z, y)"),
        Valid("F.binary_cross_entropy(torch.sigmoid(z).clamp(1e-6, 1 - 1e-6), y)"),
        Valid("F.binary_cross_entropy(p, y)"),
        Valid("keras.losses.binary_crossentropy(y, z, from_logits=True)", "keras"),
        Valid("keras.losses.binary_crossentropy(y, keras.ops.sigmoid(z), from_logits=flag)", "keras"),
    ]
    invalid = [
        Invalid(
            "F.binary_cross_entropy(torch.sigmoid(x), y)", "F.binary_cross_entropy_with_logits(x, y)",
            **_LOGITS_AND_TARGETS,
        ),
        Invalid(
            "F.binary_cross_entropy(torch.sigmoid(x), y, reduction='sum')",
            "F.binary_cross_entropy_with_logits(x, y, reduction='sum')",
            **_LOGITS_AND_TARGETS,
        ),
        Invalid(
            "torch.nn.BCELoss(reduction='sum')(x.sigmoid(), y)", "torch.nn.BCEWithLogitsLoss(reduction='sum')(x, y)",
            **_LOGITS_AND_TARGETS,
        ),
        Invalid(
            "keras.losses.binary_crossentropy(y, keras.ops.sigmoid(x))",
            "keras.losses.binary_crossentropy(y, x, from_logits=True)", "keras",
            **_LOGITS_AND_TARGETS,
        ),
    ]

    def check(self, node: ast.Call, value: Value, ctx: Context) -> None:
        loss = fed(node, value, ctx, "probabilities", "sigmoid")
        if loss is None:
            return
        logits = _logits_of(loss)
        fix = self.fix(ctx, node, loss, logits) if logits is not None else None
        self.report(
            ctx, node, fix, list(loss.activation.via), origins=[loss.activation], message=_said(self, loss),
            operands=activation_input(loss.activation),
        )

    def fix(self, ctx: Context, node: ast.Call, loss: LossCall, logits: ast.expr) -> Fix | None:
        if loss.signature.logits_form is None:
            return _from_logits_fix(ctx, node, loss, logits)
        replacements: list = [(loss.prediction, ctx.text(logits))]
        if loss.inline_object:
            target = frameworks.LOSS_MODULE_LOGITS_FORM.get(frameworks.canonical_name(loss.qualified_name))
            callee = loss.options.func
        elif loss.options is node:
            target, callee = loss.signature.logits_form, node.func
        else:
            return None  # the loss object is built elsewhere: two places would change
        if target is None or not isinstance(callee, (ast.Attribute, ast.Name)):
            return None
        if isinstance(callee, ast.Attribute):
            # Spelled as the file spells the original: ``F.binary_cross_entropy`` -> ``F.…_with_logits``.
            spelled, imports = ctx.text(callee.value) + "." + target.rpartition(".")[2], ()
        else:
            spelled, imports = ctx.spell(target, like=None)
        replacements.append((callee, spelled))
        content = _spliced(ctx, node, replacements)
        return ctx.fix(node, content, imports=imports, safety="unsafe", via=list(loss.activation.via),
                       copied=[logits])


def _said(rule: Rule, loss: LossCall) -> str:
    message = rule.message
    if rule.code == "STB301":
        # Say the replacement in the framework's own words.
        if loss.signature.logits_form is None:
            instead = "pass the logits z with from_logits=True"
        elif loss.qualified_name.startswith("torch.nn.functional"):
            instead = "use F.binary_cross_entropy_with_logits(z, ...)"
        else:
            instead = "use nn.BCEWithLogitsLoss on z"
        message = message.rpartition("; ")[0] + "; " + instead
    return f"{message}; {loss.built}" if loss.built else message


class NllLossOnSoftmax(Rule):
    """
    ## What it does
    Finds `F.nll_loss` and `nn.NLLLoss` fed the output of a softmax:
    `F.nll_loss(F.softmax(z, 1), y)`, `criterion = nn.NLLLoss()` … `criterion(probs, y)`.

    ## Why is this bad?
    `nll_loss` expects log-probabilities: it returns `-input[y]`. Fed probabilities it
    computes `-p_y`, a different loss whose gradient vanishes as the probabilities
    saturate — and were a log added by hand, `log(softmax(z))` underflows to `-inf`.
    The intended loss is `F.nll_loss(F.log_softmax(z, 1), y)`, which is exactly
    `F.cross_entropy(z, y)`.

    Where the log is written (`F.nll_loss(torch.log(F.softmax(z, 1)), y)`), STB101
    reports the log and fixes it to `log_softmax`; this rule does not report it again.

    ## Fix safety
    None: the loss computed is not the one intended, and the replacement changes the
    value everywhere. Use `F.log_softmax` (or `nn.LogSoftmax`) before `nll_loss`, or
    `F.cross_entropy` on the logits.

    ## References
    - [torch.nn.functional.nll_loss](https://pytorch.org/docs/stable/generated/torch.nn.functional.nll_loss.html),
      [torch.nn.NLLLoss](https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html)
      ("obtaining log-probabilities … add a LogSoftmax layer")
    - skorch-dev/skorch#481 (`torch.log(y_pred)` of a softmax fed to `nll_loss`)
    """

    code = "STB302"
    name = "nll-loss-on-softmax"
    message = (
        "nll_loss expects log-probabilities but is fed probabilities (a softmax output): it computes -p[y]; "
        "use nll_loss(log_softmax(z), y) or cross_entropy(z, y)"
    )
    fix_safety = "none"
    on = ("loss",)
    valid = [
        Valid("F.nll_loss(F.log_softmax(x, dim=1), y)"),
        Valid("F.nll_loss(torch.log(F.softmax(x, dim=1) + 1e-8), y)"),
        Valid("F.nll_loss(torch.nn.LogSoftmax(dim=1)(x), y)"),
        Valid("F.nll_loss(x, y)"),
    ]
    invalid = [
        Invalid("F.nll_loss(F.softmax(x, dim=1), y)", None),
        Invalid("torch.nn.NLLLoss()(torch.softmax(x, 1), y)", None),
        Invalid("p = F.softmax(x, dim=-1)\nloss = F.nll_loss(p, y, reduction='sum')", None),
    ]

    def check(self, node: ast.Call, value: Value, ctx: Context) -> None:
        loss = fed(node, value, ctx, "log_probabilities", "softmax")
        if loss is None:
            return
        self.report(ctx, node, None, list(loss.activation.via), origins=[loss.activation], message=_said(self, loss))


class CrossentropyOnSoftmax(Rule):
    """
    ## What it does
    Finds Keras' categorical cross-entropy computed on a softmax's output with
    `from_logits=False` (the default): `keras.losses.categorical_crossentropy(y,
    keras.ops.softmax(z))`, `keras.losses.CategoricalCrossentropy()(y, p)`,
    `sparse_categorical_crossentropy`, and their `tf.keras` and `keras.backend` spellings.

    ## Why is this bad?
    Keras computes `-sum(y * log(clip(p, 1e-7, 1 - 1e-7)))`: once a softmax probability
    rounds below 1e-7 (logits 16 apart), the loss is stuck at 16.1 and its gradient is 0,
    so confidently wrong predictions are no longer corrected. With `from_logits=True`
    Keras computes the loss from the logits (`softmax_cross_entropy_with_logits`), exact
    for every input.

    Hand-written cross-entropy on a softmax (`-tf.reduce_sum(y * tf.log(p))`) is reported
    by STB101 at the log, not here.

    Not reported, by what Keras 3.15's source does: a prediction that is the output of
    `keras.activations.softmax` or of a Keras layer with `activation="softmax"`. Those
    store their input on the output (`_keras_logits`) and the TensorFlow backend computes
    the loss from the logits, so `model.compile(loss="categorical_crossentropy")` after a
    softmax last layer is stable there (the JAX and PyTorch backends clip instead; left
    unreported). A `tf.nn.softmax` or `keras.ops.softmax` fed directly to the loss inside
    `tf.function` is recovered by the backend's check of the producing op (`Softmax`); in
    eager code, and on the other backends, it is clipped. The rule cannot tell graph from
    eager code and reports it.

    ## Fix safety
    Unsafe: the logits are passed instead of the softmax and `from_logits=True` is set
    (in the call, or in the loss object's constructor when it is built right there). The
    value is the same within rounding where no probability is clipped and differs where
    one is (16.1 becomes the true loss), which changes training. Offered only for a
    softmax over the last axis (Keras' default), called with no other arguments. The
    numeric harness proves the fixed call against the exact loss with Keras 3.15 on the
    JAX backend (float16 and float32; that backend computes float64 inputs in float32).

    ## References
    - [keras.losses.categorical_crossentropy](https://keras.io/api/losses/probabilistic_losses/#categorical_crossentropy-function)
    - keras-team/keras-hub#1008 (`from_logits`)
    """

    code = "STB303"
    name = "crossentropy-on-softmax"
    message = (
        "categorical cross-entropy of softmax(z) clips the probabilities at 1e-7 (loss stuck at 16.1, gradient 0); "
        "pass the logits z with from_logits=True"
    )
    fix_safety = "unsafe"
    on = ("loss",)
    valid = [
        Valid("keras.losses.categorical_crossentropy(y, x, from_logits=True)", "keras"),
        Valid("keras.losses.CategoricalCrossentropy(from_logits=True)(y, x)", "keras"),
        Valid("keras.losses.categorical_crossentropy(y, keras.ops.clip(keras.ops.softmax(x), 1e-7, 1.0))", "keras"),
    ]
    invalid = [
        Invalid(
            "keras.losses.categorical_crossentropy(y, keras.ops.softmax(x))",
            "keras.losses.categorical_crossentropy(y, x, from_logits=True)", "keras",
            **_LOGITS_AND_TARGETS,
        ),
        Invalid(
            "keras.losses.CategoricalCrossentropy()(y, keras.ops.softmax(x))",
            "keras.losses.CategoricalCrossentropy(from_logits=True)(y, x)", "keras",
            **_LOGITS_AND_TARGETS,
        ),
        Invalid("tf.keras.losses.categorical_crossentropy(y, tf.nn.softmax(x, axis=1))", None, "tf"),
    ]

    def check(self, node: ast.Call, value: Value, ctx: Context) -> None:
        loss = fed(node, value, ctx, "probabilities", "softmax")
        if loss is None:
            return
        fix = None
        logits = _logits_of(loss)
        # from_logits=True takes the softmax over the loss's axis: only the last axis (the default
        # of both Keras' losses and TF's/Keras'/JAX's softmax) is known to be the same.
        axis = _argument(node, 3, ("axis",)) if "sparse" not in loss.qualified_name else None
        last_axis = axis is None or (isinstance(axis, ast.UnaryOp) and ctx.text(axis).replace(" ", "") == "-1")
        if logits is not None and last_axis and loss.activation.framework in ("tf", "jax"):
            fix = _from_logits_fix(ctx, node, loss, logits)
        self.report(
            ctx, node, fix, list(loss.activation.via), origins=[loss.activation], message=_said(self, loss),
            operands=activation_input(loss.activation),
        )


class LogitsLossOnProbabilities(Rule):
    """
    ## What it does
    Finds losses that take logits fed the output of a softmax or a sigmoid:
    `F.cross_entropy(F.softmax(z, 1), y)`, `nn.CrossEntropyLoss()(probs, y)`,
    `F.binary_cross_entropy_with_logits(torch.sigmoid(z), y)`, `nn.BCEWithLogitsLoss`,
    `tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=tf.nn.softmax(z))`,
    `optax.softmax_cross_entropy(jax.nn.softmax(z), y)`, and Keras losses with
    `from_logits=True` fed a softmax or sigmoid.

    ## Why is this bad?
    The loss applies its own softmax (or sigmoid): the activation runs twice. The
    probabilities lie in [0, 1], so the second softmax sees inputs at most 1 apart and
    its output can never be confident: the loss cannot go below `log(1 + (C-1)/e)`, and
    its gradient is squeezed by the first activation's saturation. The model trains
    slowly or not at all. This is a modelling bug rather than a rounding one, reported
    because it is the same "which tensor goes into the loss" mistake as STB301–STB303.

    ## Fix safety
    None: dropping the first activation changes the loss everywhere. Pass the logits
    (`F.cross_entropy(z, y)`), or, if the probabilities are what you have, use the
    probability form of the loss.

    ## References
    - [torch.nn.CrossEntropyLoss](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html)
      ("The input is expected to contain the unnormalized logits for each class")
    - [optax.softmax_cross_entropy](https://optax.readthedocs.io/en/latest/api/losses.html)
    """

    code = "STB304"
    name = "logits-loss-on-probabilities"
    message = (
        "this loss applies its own softmax/sigmoid but is fed probabilities (the activation runs twice); "
        "pass the logits"
    )
    fix_safety = "none"
    on = ("loss",)
    valid = [
        Valid("F.cross_entropy(x, y)"),
        Valid("F.binary_cross_entropy_with_logits(x, y)"),
        Valid("F.cross_entropy(torch.log(F.softmax(x, 1) + 1e-8), y)"),
        Valid("optax.softmax_cross_entropy(x, y)", "optax"),
    ]
    invalid = [
        Invalid("F.cross_entropy(F.softmax(x, dim=1), y)", None),
        Invalid("torch.nn.CrossEntropyLoss()(x.softmax(-1), y)", None),
        Invalid("F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)", None),
        Invalid("optax.softmax_cross_entropy(jax.nn.softmax(x), y)", None, "optax"),
    ]

    def check(self, node: ast.Call, value: Value, ctx: Context) -> None:
        loss = fed(node, value, ctx, "logits")
        if loss is None:
            return
        self.report(ctx, node, None, list(loss.activation.via), origins=[loss.activation], message=_said(self, loss))


RULES: list[type[Rule]] = [BceOnSigmoid, NllLossOnSoftmax, CrossentropyOnSoftmax, LogitsLossOnProbabilities]
