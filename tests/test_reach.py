"""Values that reach a formula from further away: what the message says, and that such
findings carry no fix (the code computing the value is not at the use)."""

from __future__ import annotations

import textwrap

import pytest

from stablelint.engine import check_source, fix_source


def findings(code: str):
    return check_source(textwrap.dedent(code), "t.py")


@pytest.mark.parametrize(
    "code, expected_code, said",
    [
        (
            """
            import torch
            import torch.nn.functional as F

            class Model:
                def build(self, x):
                    self.probs = F.softmax(x, dim=-1)

                def loss(self, y):
                    return -(y * torch.log(self.probs)).sum()
            """,
            "STB101",
            "self.probs is set on line 7 as F.softmax(x, dim=-1)",
        ),
        (
            """
            import torch
            import torch.nn as nn

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.head = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())

                def forward(self, x):
                    h = self.head(x)
                    return torch.log(h)
            """,
            "STB104",
            "self.head(...) is the output of nn.Sequential(..., nn.Sigmoid()) (line 8)",
        ),
        (
            """
            import torch

            def unsafe_softmax(z):
                e = torch.exp(z)
                return e / e.sum(-1, keepdim=True)

            def log_probs(z):
                return torch.log(unsafe_softmax(z))
            """,
            "STB101",
            "unsafe_softmax() returns e / e.sum(-1, keepdim=True) on line 6",
        ),
        (
            """
            import jax.numpy as jnp
            import flax.linen as nn

            def bce(y_pred, y):
                return -(y * jnp.log(y_pred)).mean()

            def step(logits, y):
                return bce(nn.sigmoid(logits), y)
            """,
            "STB104",
            "y_pred receives nn.sigmoid(logits) at the call on line 9",
        ),
        (
            """
            import tensorflow.compat.v1 as tf

            class Net:
                def build(self, x, w):
                    self.y_conv = tf.nn.softmax(tf.matmul(x, w))
                    self.loss = -tf.reduce_sum(self.y_ * tf.log(self.y_conv))
            """,
            "STB101",
            "self.y_conv is set on line 6",
        ),
    ],
)
def test_value_from_elsewhere_is_reported_with_its_origin_and_no_fix(code, expected_code, said):
    found = [d for d in findings(code) if d.code == expected_code]
    assert len(found) == 1, findings(code)
    assert said in found[0].message
    assert found[0].message.endswith("not fixed: the value is computed elsewhere")
    assert found[0].fix is None
    assert fix_source(textwrap.dedent(code), "t.py", unsafe=True).source.count("log_softmax") == 0


@pytest.mark.parametrize(
    "code",
    [
        # the attribute holds two kinds of value
        """
        import torch
        import torch.nn.functional as F
        class M:
            def a(self, x):
                self.p = F.softmax(x, -1)
            def b(self):
                self.p = torch.ones(3)
            def loss(self):
                return torch.log(self.p)
        """,
        # the callers pass different kinds of value
        """
        import torch
        def score(p):
            return torch.log(p)
        def f(z):
            return score(torch.sigmoid(z)), score(torch.exp(z))
        """,
        # the function is also passed around: its callers are not all here
        """
        import torch
        def score(p):
            return torch.log(p)
        def f(z, register):
            register(score)
            return score(torch.sigmoid(z))
        """,
        # the parameter is rebound inside the function
        """
        import torch
        def score(p):
            p = p.clamp(min=1e-6)
            return torch.log(p)
        def f(z):
            return score(torch.sigmoid(z))
        """,
        # the attribute is changed in place in another method
        """
        import torch
        class M:
            def a(self, z):
                self.p = torch.sigmoid(z)
            def guard(self):
                self.p.clamp_(min=1e-6)
            def loss(self):
                return torch.log(self.p)
        """,
        # a parameter nobody constrains
        """
        import torch
        def f(p):
            return torch.log(p)
        """,
    ],
)
def test_unknown_stays_unknown(code):
    assert [d.code for d in findings(code)] == []


def test_sum_terms_in_any_order_get_the_same_verdict_and_fix():
    code = """
    import torch
    def f(high, low):
        high = high.clamp(0, 1e-5)
        low = low.clamp(0, 1e-5)
        return torch.log(high - low + 1), torch.log(high + 1 - low), torch.log(1 + high - low)
    """
    assert [d.code for d in findings(code)] == ["STB106"] * 3
    fixed = fix_source(textwrap.dedent(code), "t.py").source
    assert "return torch.log1p(high - low), torch.log1p(high - low), torch.log1p(high - low)" in fixed


def test_whole_numbers_through_call_sites_are_counts():
    code = """
    import math
    def smooth(count):
        return math.log(1 + count)
    def f(tokens, labels):
        return smooth(len(tokens)) + smooth(labels.shape[0])
    """
    assert findings(code) == []


def test_module_level_instance_of_a_class_of_the_file():
    code = """
    import torch
    import torch.nn as nn

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

        def forward(self, x):
            validity = self.model(x)
            return validity

    def boundary_loss(y_pred):
        return torch.mean(torch.log(y_pred) - torch.log(1 - y_pred))

    discriminator = Discriminator()
    for batch in range(3):
        loss = boundary_loss(discriminator(batch))
    """
    assert [d.code for d in findings(code)] == ["STB104", "STB105"]


def test_module_attribute_assignment_keeps_the_module():
    code = """
    import torch
    def f(x):
        torch.backends.cudnn.benchmark = True
        return torch.log(torch.sigmoid(x))
    """
    assert [d.code for d in findings(code)] == ["STB104"]


def test_written_out_sigmoid_is_a_sigmoid():
    code = """
    import numpy as np
    def loss(log_odds, y):
        p = 1 / (1 + np.exp(-log_odds))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))
    """
    assert [d.code for d in findings(code)] == ["STB104", "STB105"]


def test_a_named_eps_is_a_guard_for_log_one_minus():
    code = """
    import numpy as np
    def f(prob, eps=1e-10):
        return np.log(1 - prob + eps)
    class C:
        def g(self, p):
            return np.log(1 - p + self.epsilon)
    """
    assert findings(code) == []


def test_several_call_sites_are_not_quoted_as_one():
    code = """
    import numpy as np
    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    def cross_entropy(Y, pY):
        return -np.sum(Y * np.log(pY))
    def run(Xtr, Xte, log_lik, Ytr, Yte):
        pYtrain = softmax(Xtr.dot(log_lik))
        pYtest = softmax(Xte.dot(log_lik))
        return cross_entropy(Ytr, pYtrain), cross_entropy(Yte, pYtest)
    """
    [finding] = findings(code)
    assert "pY receives a softmax value at all 2 calls in this file (pYtrain, line 11, …)" in finding.message


def test_a_name_reassigned_from_itself_keeps_its_earlier_guard():
    code = """
    import numpy as np
    def f(x):
        x = x - np.max(x)
        x = np.exp(x)
        return np.log(np.sum(x))
    """
    assert findings(code) == []


def test_keras_backend_max_shift_is_a_guard():
    code = """
    import keras.backend as K
    def s(x):
        e = K.exp(x - K.max(x, axis=1, keepdims=True))
        return e / K.sum(e, axis=1, keepdims=True)
    """
    assert findings(code) == []
