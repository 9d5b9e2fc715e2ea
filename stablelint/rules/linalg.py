"""STB6xx: linear algebra written with a less stable algorithm than the library offers.

``log(det(A))`` overflows where ``slogdet`` does not; ``inv(A) @ b`` and the normal
equations lose digits that ``solve`` and ``lstsq`` keep. The rules match the products
however they are spelled (``@``, ``matmul``, ``np.dot``, ``.dot``) and follow names.
"""

from __future__ import annotations

import ast

from stablelint.analysis.failures import det_leaves_range_from
from stablelint.analysis.learned import trained_weight
from stablelint.analysis.values import Value
from stablelint.ir import Op, identifier_of, same_expression
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import takes_only_input

_PRODUCTS = ("matmul", "dot")


def _library(op: Op) -> str:
    """Which library's linear algebra a call is: torch, numpy, scipy, tf, jax, jax.scipy."""
    name = op.qualified_name or ""
    if name.startswith("scipy."):
        return "scipy"
    if name.startswith("jax.scipy."):
        return "jax.scipy"
    return op.framework or "torch"


def _sides(ctx: Context, expr: ast.expr | None) -> tuple[ast.expr, ast.expr] | None:
    """``a @ b``, ``matmul(a, b)``, ``np.dot(a, b)``, ``a.dot(b)`` as (a, b), through names."""
    if expr is None:
        return None
    resolved = ctx.resolve(expr)
    if isinstance(resolved, ast.BinOp) and isinstance(resolved.op, ast.MatMult):
        return resolved.left, resolved.right
    op = ctx.op(resolved)
    if op is None or op.kind not in _PRODUCTS or op.input is None or op.call.keywords:
        return None
    if (op.qualified_name or "").endswith(".linear"):
        return None  # F.linear(x, W) is x @ W.T
    positional, _ = op.other_args()
    if len(positional) != 1:
        return None
    return op.input, positional[0]


def _transposed(ctx: Context, expr: ast.expr) -> ast.expr | None:
    """X of ``X.T``, ``X.mT``, ``X.t()``, ``X.transpose()``, ``np.transpose(X)``."""
    resolved = ctx.resolve(expr)
    if isinstance(resolved, ast.Attribute) and resolved.attr in ("T", "mT"):
        return resolved.value
    if not isinstance(resolved, ast.Call) or resolved.keywords:
        return None
    func = resolved.func
    name = identifier_of(func)
    qualified = ctx.imports.qualified_name(func, ctx.env)
    if qualified is not None:
        if name in ("transpose", "t") and len(resolved.args) == 1:
            return resolved.args[0]
        return None
    if isinstance(func, ast.Attribute) and name in ("t", "transpose") and not resolved.args:
        return func.value
    return None


def _same(ctx: Context, left: ast.expr, right: ast.expr) -> bool:
    return same_expression(ctx.resolve(left), ctx.resolve(right))


def _gram_of(ctx: Context, expr: ast.expr | None) -> ast.expr | None:
    """X of ``X.T @ X`` (any product spelling)."""
    sides = _sides(ctx, expr)
    if sides is None:
        return None
    matrix = _transposed(ctx, sides[0])
    return matrix if matrix is not None and _same(ctx, matrix, sides[1]) else None


def _normal_equations(ctx: Context, left: ast.expr, right: ast.expr):
    """(inv op, X, y) for ``inv(X.T @ X) @ X.T @ y`` and ``inv(X.T @ X) @ (X.T @ y)``."""
    inner = _sides(ctx, left)
    if inner is not None:  # (inv(G) @ X.T) @ y
        inverse, transposed, rhs = inner[0], inner[1], right
    else:  # inv(G) @ (X.T @ y)
        product = _sides(ctx, right)
        if product is None:
            return None
        inverse, transposed, rhs = left, product[0], product[1]
    inv = ctx.op(inverse, "inv")
    if inv is None or not takes_only_input(inv):
        return None
    matrix = _gram_of(ctx, inv.input)
    if matrix is None:
        return None
    other = _transposed(ctx, transposed)
    if other is None or not _same(ctx, other, matrix):
        return None
    return inv, matrix, rhs


def _solved_normal_equations(ctx: Context, solve: Op):
    """(X, y) for ``solve(X.T @ X, X.T @ y)``: the normal equations without an inverse."""
    positional, keywords = solve.other_args()
    if keywords or len(positional) != 1 or solve.input is None:
        return None
    matrix = _gram_of(ctx, solve.input)
    product = _sides(ctx, positional[0])
    if matrix is None or product is None:
        return None
    other = _transposed(ctx, product[0])
    if other is None or not _same(ctx, other, matrix):
        return None
    return matrix, product[1]


def _inverse_read_again(ctx: Context, left: ast.expr) -> bool:
    """``A_inv = inv(A)`` … ``A_inv @ b`` where ``A_inv`` is read elsewhere in the same scope
    too: the inverse itself is a result of the code, not only a step to the solution."""
    if not isinstance(left, ast.Name):
        return False
    scope = ctx.env.function or ctx.evaluator.tree
    return any(
        isinstance(node, ast.Name) and node.id == left.id and isinstance(node.ctx, ast.Load) and node is not left
        for node in ast.walk(scope)
    )


def _solves_normal_equations(ctx: Context, inv: Op, right: ast.expr) -> bool:
    """``inv(X.T @ X) @ X.T`` or ``inv(X.T @ X) @ (X.T @ y)``: STB603 reports these."""
    matrix = _gram_of(ctx, inv.input)
    if matrix is None:
        return False
    candidates = [right]
    product = _sides(ctx, right)
    if product is not None:
        candidates.append(product[0])
    return any((other := _transposed(ctx, expr)) is not None and _same(ctx, other, matrix) for expr in candidates)


_SLOGDET = {
    "torch": "torch.linalg.slogdet", "numpy": "numpy.linalg.slogdet", "scipy": "numpy.linalg.slogdet",
    "tf": "tensorflow.linalg.slogdet", "jax": "jax.numpy.linalg.slogdet", "jax.scipy": "jax.numpy.linalg.slogdet",
}


class LogOfDet(Rule):
    """
    ## What it does
    Finds `log(det(A))` and `log(abs(det(A)))` in PyTorch (`torch.det`,
    `torch.linalg.det`, `A.det()`), NumPy/SciPy (`np.linalg.det`, `scipy.linalg.det`),
    TensorFlow (`tf.linalg.det`) and JAX (`jnp.linalg.det`). `slogdet`/`logdet` already
    used are not reported.

    ## Why is this bad?
    A determinant is a product of n pivots: it overflows or underflows long before its
    log does. `det(1e-2 * I)` of a 200×200 matrix is 1e-400, which is 0 in float64, so
    `log(det)` is `-inf`; `det(10 * I)` of a 40×40 matrix in float32 is `inf`. `slogdet`
    sums the logs of the pivots instead and stays finite and accurate.

    When it reports by default: not where the code proves the matrix small — fewer rows than
    it takes a determinant of eigenvalues in [1e-3, 1e3] to leave the dtype's normal range
    (13 in float32, 103 in float64, 2 in float16): `log(det(torch.randn(4, 4)))` is silent,
    and so is `size = 10` … `log(det(torch.randn(size, size)))`. Nor in a test function
    (`analysis.test_code`), whose matrices are the test's own small ones unless the code says
    their size, nor for a trained weight cast to float64 for its determinant
    (`torch.det(self.weight.double())`: a mixing matrix that starts at |det| = 1 would need
    hundreds of channels whose eigenvalues average past 4 or below 1/4 to leave float64's range).

    ## Fix safety
    PyTorch: safe. `torch.logdet(A)` is `log(det(A))` wherever that is finite, NaN where the
    determinant is negative (as `log` is) and `-inf` where it is 0; `log(abs(det(A)))`
    becomes `torch.linalg.slogdet(A).logabsdet`, equal wherever the original is finite.
    NumPy, SciPy, JAX and TensorFlow have no `logdet` of a general matrix: `log(det(A))`
    becomes `slogdet(A)[1]`, which is unsafe — where the determinant is negative it returns
    `log|det A|` instead of NaN, hiding a sign that may matter (the sign is
    `slogdet(A)[0]`). `log(abs(det(A)))` becomes `slogdet(A)[1]`, safe. SciPy's det gets
    NumPy's slogdet (`scipy.linalg` has none). TensorFlow's `tf.linalg.logdet` is only for
    Hermitian positive definite matrices and is not offered.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §14.6.
    - NumPy `numpy.linalg.slogdet`; PyTorch `torch.logdet`, `torch.linalg.slogdet`.
    """

    code = "STB601"
    name = "log-of-det"
    message = "log(det(A)) overflows or underflows where slogdet does not; use slogdet / logdet"
    fix_safety = "sometimes"
    on = ("log",)
    autocast = "`det` and `slogdet` have no float16 kernels; autocast runs both in float32."
    valid = [
        Valid("y = torch.logdet(x)"),
        Valid("y = torch.linalg.slogdet(x).logabsdet"),
        Valid("y = np.linalg.slogdet(x)[1]", "numpy"),
        Valid("y = torch.log(torch.linalg.norm(x))"),
    ]
    invalid = [
        Invalid("y = torch.log(torch.det(x))", "y = torch.logdet(x)"),
        Invalid("y = torch.linalg.det(x).log()", "y = torch.logdet(x)"),
        Invalid("y = torch.log(torch.abs(torch.linalg.det(x)))", "y = torch.linalg.slogdet(x).logabsdet"),
        Invalid("y = np.log(np.linalg.det(x))", "y = np.linalg.slogdet(x)[1]", "numpy", unsafe=True),
        Invalid("y = np.log(np.abs(np.linalg.det(x)))", "y = np.linalg.slogdet(x)[1]", "numpy"),
        Invalid("y = jnp.log(jnp.linalg.det(x))", "y = jnp.linalg.slogdet(x)[1]", "jax", unsafe=True),
        Invalid("y = tf.math.log(tf.linalg.det(x))", "y = tf.linalg.slogdet(x)[1]", "tf", unsafe=True),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        absolute = argument.kind == "abs"
        det = argument.operand() if absolute else argument
        if det.kind != "det" or det.op is None or not takes_only_input(det.op) or det.op.input is None:
            return
        library = _library(det.op)
        matrix = det.op.input
        matrix_value = ctx.value(matrix)
        shape = ctx.shape(matrix_value)
        size = shape[-1] if shape and isinstance(shape[-1], int) else None
        dtype = ctx.dtype_of(det)
        if size is not None and size < det_leaves_range_from(dtype):
            return  # a proven small matrix (10 x 10 in float32): its det stays in range
        if size is None and ctx.in_test(node):
            return  # a test's own matrix: small, unless the code says its size
        if size is None and dtype == "float64" and trained_weight(matrix_value) is not None:
            return  # a trained weight cast up to float64 for its det: far from float64's range
        if library == "torch" and not absolute:
            function, imports = ctx.spell("torch.logdet")
            content, safety = f"{function}({ctx.text(matrix)})", "safe"
        else:
            function, imports = ctx.spell(_SLOGDET[library])
            part = ".logabsdet" if library == "torch" else "[1]"
            content, safety = f"{function}({ctx.text(matrix)}){part}", "safe" if absolute else "unsafe"
        via = list(argument.via) + list(det.via)
        fix = None
        if det.local and (not absolute or argument.op is not None and takes_only_input(argument.op)):
            fix = ctx.fix(node, content, imports=imports, safety=safety, via=via, copied=[matrix])
        self.report(ctx, node, fix, via, origins=[det])


_SOLVE = {
    "torch": "torch.linalg.solve", "numpy": "numpy.linalg.solve", "scipy": "scipy.linalg.solve",
    "tf": "tensorflow.linalg.solve", "jax": "jax.numpy.linalg.solve", "jax.scipy": "jax.scipy.linalg.solve",
}


def _same_batch(ctx: Context, matrix: ast.expr, rhs: ast.expr) -> bool:
    """Are both known to be single matrices (rank 2), so that a solve that does not
    broadcast batches takes them as they are?"""
    return all(len(shape or ()) == 2 for shape in (ctx.shape(ctx.value(matrix)), ctx.shape(ctx.value(rhs))))


class InverseTimes(Rule):
    """
    ## What it does
    Finds a matrix inverse multiplied into a right-hand side: `inv(A) @ b`,
    `inv(A).dot(b)`, `np.dot(inv(A), b)`, `torch.matmul(torch.inverse(A), B)`,
    `tf.linalg.inv(A) @ b`, `jnp.linalg.inv(A) @ b`, also through a name
    (`A_inv = inv(A)` … `A_inv @ b`). An inverse used on its own (a preconditioner, a
    covariance to report) is not reported, nor one whose name is read again elsewhere in
    the scope (`A_inv @ b` next to `x @ A_inv @ x`: the inverse is itself a result, a solve
    would only duplicate it); `inv(X.T @ X) @ X.T @ y` is STB603's.

    Opt-in (`--extend-select STB602`): the digits `inv(A) @ b` loses grow with cond(A), and
    the analysis cannot prove a matrix ill-conditioned. On the matrices of real code (a 4x4
    rigid camera transform, `X.T @ X + alpha * I` with eigenvalues at least alpha, a
    posterior covariance that is wanted as a matrix) nothing that matters is lost: on the
    third fresh labeled set its 10 findings were judged 9 false and 1 debatable.

    ## Why is this bad?
    Forming the inverse costs three times the work of an LU solve and is less accurate:
    the computed `inv(A) @ b` has an error bounded by cond(A) times the size of `|inv(A)| |A| |x|`
    rather than of the residual, so on ill-conditioned systems it loses digits (and
    loses the backward stability) that `solve` keeps; it also fails on matrices that are
    singular in floating point where `solve` reports the problem at once.

    ## Fix safety
    Unsafe: `solve(A, b)` computes the same solution, more accurately, but the shape
    rules differ. With a batch of matrices `A` (…, n, n), `solve` reads a `b` of shape
    (…, n) as a batch of vectors where `matmul` reads it as a matrix (PyTorch, and NumPy
    before 2.0 for any `b` with `b.ndim == A.ndim - 1`). The fix writes the library's own
    `solve`: `torch.linalg.solve`, `np.linalg.solve`, `scipy.linalg.solve`, `jnp.linalg.solve`;
    in TensorFlow `tf.linalg.solve` only where both operands are known to be single
    matrices, since it does not broadcast batches as `inv(A) @ B` does (A of shape (2, 3, 3)
    and B of shape (3, 2) is an error): elsewhere
    `tf.linalg.LinearOperatorFullMatrix(A).solve(B)`, which broadcasts them.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §14.1 ("Don't
      invert that matrix").
    - NumPy `numpy.linalg.solve` (the 2.0 change of 1-D `b`); PyTorch `torch.linalg.solve`.
    """

    code = "STB602"
    name = "inverse-times-vector"
    message = "inv(A) @ b is slower and less accurate than solve(A, b)"
    fix_safety = "unsafe"
    on = _PRODUCTS
    autocast = "`inverse` and `solve` run in float32 under autocast; the accuracy argument is the same there."
    valid = [
        Valid("y = torch.linalg.solve(x, x[:, 0])"),
        Valid("y = torch.inverse(x)"),
        Valid("y = np.linalg.solve(x, x[0])", "numpy"),
        Valid("y = x @ x.T"),
        Valid("identity = torch.linalg.inv(x) @ x"),  # a test of inv itself
    ]
    invalid = [
        Invalid("y = torch.inverse(x) @ x[:, 0]", "y = torch.linalg.solve(x, x[:, 0])", unsafe=True),
        Invalid("y = torch.matmul(torch.linalg.inv(x), x[0])", "y = torch.linalg.solve(x, x[0])", unsafe=True),
        Invalid("y = np.linalg.inv(x) @ x[0]", "y = np.linalg.solve(x, x[0])", "numpy", unsafe=True),
        Invalid("y = np.linalg.inv(x).dot(x[0])", "y = np.linalg.solve(x, x[0])", "numpy", unsafe=True),
        Invalid("y = np.dot(np.linalg.inv(x), x[:, 0])", "y = np.linalg.solve(x, x[:, 0])", "numpy", unsafe=True),
        Invalid("y = jnp.linalg.inv(x) @ x[0]", "y = jnp.linalg.solve(x, x[0])", "jax", unsafe=True),
        Invalid("y = tf.linalg.inv(x) @ x[:, :1]", "y = tf.linalg.LinearOperatorFullMatrix(x).solve(x[:, :1])", "tf",
                unsafe=True),
    ]

    def check(self, node: ast.AST, product: Value, ctx: Context) -> None:
        sides = _sides(ctx, node)
        if sides is None:
            return
        left, right = sides
        inv = ctx.op(left, "inv")
        if inv is None or not takes_only_input(inv) or inv.input is None:
            return
        if ast.dump(inv.input) == ast.dump(right):
            return  # ``inv(a) @ a``: the identity check of a test of inv itself
        if _solves_normal_equations(ctx, inv, right):
            return
        if _inverse_read_again(ctx, left):
            return  # ``A_inv`` is wanted itself (a covariance, the UCB term): solve would duplicate it
        library = _library(inv)
        if library == "tf" and not _same_batch(ctx, inv.input, right):
            # tf.linalg.solve does not broadcast batches as inv(A) @ B does; a linear
            # operator's solve does.
            function, imports = ctx.spell("tensorflow.linalg.LinearOperatorFullMatrix")
            content = f"{function}({ctx.text(inv.input)}).solve({ctx.text(right)})"
        else:
            function, imports = ctx.spell(_SOLVE[library])
            content = f"{function}({ctx.text(inv.input)}, {ctx.text(right)})"
        inverse = ctx.value(left)
        fix = None
        if inverse.local:
            fix = ctx.fix(node, content, imports=imports, safety="unsafe", via=inv.via, copied=[inv.input, right])
        self.report(ctx, node, fix, inv.via, origins=[inverse])


class NormalEquations(Rule):
    """
    ## What it does
    Finds least squares solved through the normal equations: `inv(X.T @ X) @ X.T @ y`,
    `inv(X.T @ X) @ (X.T @ y)`, `np.linalg.inv(X.T.dot(X)).dot(X.T).dot(y)`, and without
    the inverse `np.linalg.solve(X.T @ X, X.T @ y)`, in NumPy, SciPy, PyTorch, TensorFlow
    and JAX. A regularised system
    (`inv(X.T @ X + lam * I) @ X.T @ y`) is not this rule's: it is not plain least squares
    (STB602 reports its `inv(...) @ X.T`).

    Opt-in (`--extend-select STB603`): the digits lost grow with cond(X)², and the analysis
    cannot prove a design matrix ill-conditioned; on a well-conditioned `X` (a few
    standardised features, a short polynomial window) nothing that matters is lost. On the
    third fresh labeled set its one finding was judged debatable (5 of float64's 16 digits).

    ## Why is this bad?
    `X.T @ X` squares the condition number of `X`: with cond(X) = 1e5, the normal
    equations have cond 1e10 and keep about 6 of float64's 16 digits, none of float32's.
    A rank-deficient or nearly collinear `X` makes `X.T @ X` singular in floating point.
    `lstsq` solves the problem from `X` itself (QR/SVD) with an error proportional to
    cond(X), and returns the minimum-norm solution where `X` is rank deficient.

    ## Fix safety
    Unsafe: the solutions agree for a well-conditioned full-rank `X`, but differ where
    `X` is rank deficient (the original raises or returns noise) and in shape rules for
    batches. The fix writes `np.linalg.lstsq(X, y, rcond=None)[0]`,
    `scipy.linalg.lstsq(X, y)[0]`, `torch.linalg.lstsq(X, y).solution` (on CUDA its
    only driver, `gels`, assumes full rank), `jnp.linalg.lstsq(X, y)[0]` and
    `tf.linalg.lstsq(X, y, fast=False)` — TensorFlow's default `fast=True` *is* the normal
    equations (Cholesky of `X.T @ X`), and it needs a matrix `y`.

    ## References
    - Golub, Van Loan, *Matrix Computations*, 4th ed., §5.3.
    - Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §20.4.
    """

    code = "STB603"
    name = "normal-equations"
    message = "the normal equations (X.T @ X) square the condition number of X; use lstsq(X, y)"
    fix_safety = "unsafe"
    on = _PRODUCTS + ("solve",)
    autocast = "Not affected: the condition number is squared in every dtype."
    valid = [
        Valid("y = torch.linalg.lstsq(x, x[:, 0]).solution"),
        Valid("y = np.linalg.lstsq(x, x[:, 0], rcond=None)[0]", "numpy"),
        Valid("y = np.linalg.inv(x.T @ x + 0.1 * np.eye(3)) @ x.T @ x[:, 0]", "numpy"),
        Valid("y = x.T @ x"),
    ]
    invalid = [
        Invalid("y = torch.linalg.inv(x.T @ x) @ x.T @ x[:, 0]", "y = torch.linalg.lstsq(x, x[:, 0]).solution",
                unsafe=True),
        Invalid("y = np.linalg.inv(x.T @ x) @ x.T @ x[:, 0]", "y = np.linalg.lstsq(x, x[:, 0], rcond=None)[0]",
                "numpy", unsafe=True),
        Invalid("y = np.linalg.inv(x.T.dot(x)).dot(x.T).dot(x[:, 0])",
                "y = np.linalg.lstsq(x, x[:, 0], rcond=None)[0]", "numpy", unsafe=True),
        Invalid("y = jnp.linalg.inv(x.T @ x) @ (x.T @ x[:, 0])", "y = jnp.linalg.lstsq(x, x[:, 0])[0]", "jax",
                unsafe=True),
        Invalid("y = np.linalg.solve(np.dot(x.T, x), np.dot(x.T, x[:, 0]))",
                "y = np.linalg.lstsq(x, x[:, 0], rcond=None)[0]", "numpy", unsafe=True),
        Invalid("y = tf.linalg.inv(tf.transpose(x) @ x) @ tf.transpose(x) @ x",
                "y = tf.linalg.lstsq(x, x, fast=False)", "tf", unsafe=True),
    ]

    def check(self, node: ast.AST, product: Value, ctx: Context) -> None:
        if product.kind == "solve":
            found = _solved_normal_equations(ctx, product.op) if product.op is not None else None
            if found is None:
                return
            call, (matrix, rhs), operands = product.op, found, [product.op.input, product.op.other_args()[0][0]]
        else:
            sides = _sides(ctx, node)
            found = _normal_equations(ctx, *sides) if sides is not None else None
            if found is None:
                return
            call, matrix, rhs = found
            operands = list(sides)
        library = _library(call)
        if library == "jax.scipy":
            library = "jax"  # jax.scipy.linalg has no lstsq
        qualified = {"torch": "torch.linalg.lstsq", "numpy": "numpy.linalg.lstsq", "scipy": "scipy.linalg.lstsq",
                     "tf": "tensorflow.linalg.lstsq", "jax": "jax.numpy.linalg.lstsq"}[library]
        function, imports = ctx.spell(qualified)
        arguments = f"{ctx.text(matrix)}, {ctx.text(rhs)}"
        content = {
            "torch": f"{function}({arguments}).solution",
            "numpy": f"{function}({arguments}, rcond=None)[0]",
            "tf": f"{function}({arguments}, fast=False)",
        }.get(library, f"{function}({arguments})[0]")
        fix = None
        if all(ctx.value(operand).local for operand in operands):
            fix = ctx.fix(node, content, imports=imports, safety="unsafe", via=call.via, copied=[matrix, rhs])
        self.report(ctx, node, fix, call.via)


RULES = [LogOfDet, InverseTimes, NormalEquations]
