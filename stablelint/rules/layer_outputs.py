"""STB124: exp of a trained layer's raw output, where a gradient is taken."""

from __future__ import annotations

import ast

from stablelint.analysis import intervals as iv
from stablelint.analysis.learned import learned_output
from stablelint.analysis.values import Value
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.hazards import only_under_a_constant
from stablelint.rules.matching import takes_only_input


class ExpOfLayerOutput(Rule):
    """
    ## What it does
    Finds `exp(x)` where `x` is the raw output of a trained layer — an `nn.Linear`, a Keras
    `Dense` or a convolution without an activation, `tf.matmul(h, W) + b` with `W` a
    `tf.Variable` — scaled or shifted by constants at most, in code that takes a gradient:
    a VAE's `std = torch.exp(0.5 * self.fc_logvar(h))` and its KL term `logvar.exp()`, a
    policy's `log_std.exp()`, a flow's `exp(s)` of its coupling network. The value is
    followed through names, methods, module objects of the file and the arguments of the
    calls that pass it, into pieces of the output (`h[:, k:]`, `mu, logvar = h.chunk(2,
    -1)`, `tf.split`), to layers a base class sets, and into a Keras layer's `call` where
    the layer is called as it is built (`Sampling()([z_mean, z_log_var])`). Not reported: a
    layer output bounded first (`clamp`, `tanh`, `softplus`, a `sigmoid`), the exp inside a
    formula a STB1xx rule rewrites, code where no gradient is taken (`torch.no_grad`, a
    module's `infer` pass, NumPy), and anything whose source is not a layer (a parameter
    nobody constrains, a product of two unknowns). STB402 (opt-in) reports
    exp overflow for every range the analysis proves.

    ## Why is this bad?
    Nothing keeps a layer's output below exp's overflow bound: 88.72 in float32, 11.09 in
    float16. One step with a large learning rate, an outlier batch or a diverging run pushes a
    log-variance past it, `exp` gives `inf`, the sample `mu + inf * eps` and the KL term are
    inf or NaN, the loss is NaN and so is every gradient after it — training is lost, not
    only the step. `exp(0.5 * logvar)` overflows once `logvar` passes 177 in float32 (22 in
    float16). Bound the output before the exp: `logvar.clamp(-30, 20)`, `F.softplus(raw) +
    1e-6` for a standard deviation, or `tanh` scaled to the range the model needs
    (`log_std_min + 0.5 * (log_std_max - log_std_min) * (tanh(raw) + 1)`, as SAC
    implementations do).

    ## Fix safety
    No fix is offered: the bound is a modelling choice (the range the variance may take).

    ## References
    - Kingma, Welling, *Auto-Encoding Variational Bayes* (the log-variance head).
    - Haarnoja et al., *Soft Actor-Critic Algorithms and Applications*, 2018 (clamped log-std).
    - Dinh, Sohl-Dickstein, Bengio, *Density estimation using Real NVP* (tanh-bounded scales).
    """

    code = "STB124"
    name = "exp-of-layer-output"
    message = "exp of a trained layer's raw output overflows to inf once the output passes the dtype's bound"
    fix_safety = "none"
    on = ("exp",)
    autocast = (
        "`exp` runs in float32 under CUDA autocast, so the float32 bound (88.72) applies to autocast code; "
        "outside autocast a float16 model overflows above 11.09."
    )
    gradient_only = True  # a trained layer: NumPy has none, and takes no gradient (no NumPy example)
    valid = [
        Valid("torch.exp(x)"),
        Valid("torch.exp(torch.clamp(torch.nn.Linear(4, 2)(h), max=20))"),
        Valid("torch.exp(torch.tanh(torch.nn.Linear(4, 2)(h)))"),
        Valid("torch.exp(x @ y)"),
        Valid("with torch.no_grad():\n    s = torch.exp(torch.nn.Linear(4, 2)(h))"),
    ]
    invalid = [
        Invalid("std = torch.exp(0.5 * torch.nn.Linear(4, 2)(h))", None),
        Invalid("inv_var = torch.exp(-torch.nn.Conv1d(4, 2, 1)(h))", None),
        Invalid("logvar = tf.keras.layers.Dense(2)(h)\nkl = tf.reduce_sum(tf.exp(logvar) - logvar - 1)", None, "tf"),
        Invalid("log_std = keras.layers.Dense(2)(h)\nstd = keras.ops.exp(log_std)", None, "keras"),
    ]

    def check(self, node: ast.Call, exp: Value, ctx: Context) -> None:
        if id(node) in ctx.covered or not takes_only_input(exp.op):
            return
        argument = exp.operand()
        layer = learned_output(argument)
        if layer is None:
            return
        dtype = ctx.dtype_of(exp)
        bound = iv.EXP_OVERFLOW[dtype]
        interval = ctx.range(argument)
        if interval is None or interval.hi <= bound or not ctx.known_ends(argument)[1]:
            return
        if only_under_a_constant(ctx, node):
            return  # 1 / (1 + exp(-z)): an infinite denominator gives 0, the right value
        narrowed = ctx.range_at(node, exp.op.input)
        if narrowed is not None and narrowed.hi <= bound:
            return  # ``elif x < 18: exp(x)``: the branch's condition bounds it
        if not ctx.gradient_flows(node, argument):
            return  # inference or data code: an inf there is one output, not a lost training run
        message = (
            f"exp of a trained layer's raw output overflows to inf past {bound:.2f} in {dtype}, and the loss and "
            "gradients turn NaN; bound it first (clamp, softplus, tanh)"
        )
        self.report(ctx, node, None, list(argument.via), origins=[layer], message=message, operands={"x": argument})


RULES = [ExpOfLayerOutput]
