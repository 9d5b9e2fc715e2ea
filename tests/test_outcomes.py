"""log(pi[a]) of an action drawn from the same policy is not -inf (``analysis.outcomes``)."""

from __future__ import annotations

import pytest

from stablelint.engine import check_source

HEADER = "import numpy as np\nimport torch\nimport torch.nn.functional as F\nimport tensorflow as tf\n\n\n"


def codes(body: str) -> list[str]:
    return [d.code for d in check_source(HEADER + body, "example.py", project=False)]


SAMPLED = {
    "torch gather by the sampled action": (
        "def f(h, a):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi.gather(1, a))\n"
        "def act(h):\n    return torch.distributions.Categorical(F.softmax(h, dim=1)).sample()\n"),
    "a cast and a reshape of the actions": (
        "def f(h, actions):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi.gather(1, actions.long().unsqueeze(1)))\n"
        "def act(h):\n    return F.softmax(h, dim=1).multinomial(1)\n"),
    "a NumPy draw with p= and a TF subscript": (
        "class A:\n    def build(self, h):\n        p = tf.nn.softmax(h)\n        return tf.math.log(p[0, self.a])\n"
        "    def act(self, probs):\n        return np.random.choice(np.arange(probs.shape[1]), p=probs.ravel())\n"),
}
NOT_SAMPLED = {
    "no draw in the module": "def f(h, a):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi.gather(1, a))\n",
    "a uniform choice is no draw from the policy": (
        "def f(h, a):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi.gather(1, a))\n"
        "def act(n):\n    return np.random.choice(n)\n"),
    "labels, beside a draw": (
        "def f(h, labels):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi.gather(1, labels))\n"
        "def act(h):\n    return F.softmax(h, dim=1).multinomial(1)\n"),
    "every action, beside a draw": (
        "def f(h):\n    pi = F.softmax(h, dim=1)\n    return torch.log(pi)\n"
        "def act(h):\n    return F.softmax(h, dim=1).multinomial(1)\n"),
}


@pytest.mark.parametrize("name", SAMPLED)
def test_the_probability_of_a_drawn_action_is_not_reported(name):
    assert "STB101" not in codes(SAMPLED[name])


@pytest.mark.parametrize("name", NOT_SAMPLED)
def test_other_probabilities_are_reported(name):
    assert "STB101" in codes(NOT_SAMPLED[name])
