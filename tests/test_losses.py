"""The loss rules (STB3xx) beyond their examples and fixtures: how a file without any
log or exp reaches them, what their messages say, and how they share a node with STB101."""

from __future__ import annotations

from stablelint import frameworks
from stablelint.engine import check_source
from stablelint.prefilter import might_match

TRAINING_SCRIPT = '''\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(784, 1), nn.Sigmoid())

    def forward(self, img):
        return self.model(img)


discriminator = Discriminator().cuda()
criterion = nn.BCELoss()


def step(imgs, valid):
    return criterion(discriminator(imgs), valid)
'''


def test_every_loss_word_holds_a_prefilter_stem():
    for word in frameworks.LOSS_WORDS:
        assert any(stem in word for stem in frameworks.LOSS_STEMS), word


def test_a_file_without_log_or_exp_reaches_the_loss_rules():
    assert might_match(TRAINING_SCRIPT)
    (finding,) = check_source(TRAINING_SCRIPT, "train.py")
    assert (finding.code, finding.line) == ("STB301", 19)


def test_the_message_says_where_the_loss_object_and_the_sigmoid_come_from():
    (finding,) = check_source(TRAINING_SCRIPT, "train.py")
    assert "nn.BCELoss(), built on line 15" in finding.message
    assert "is the output of Discriminator(...) (line 5)" in finding.message
    assert "use nn.BCEWithLogitsLoss on z" in finding.message
    assert finding.fix is None  # the loss object is built elsewhere


def test_a_file_naming_no_loss_is_not_read_for_losses():
    assert not might_match("import torch\ncriterion = torch.nn.MSELoss()\nentropy_weight = 0.1\n")


def test_hand_written_cross_entropy_is_one_finding_of_stb101():
    source = (
        "import torch\nimport torch.nn.functional as F\n"
        "p = F.softmax(z, dim=1)\n"
        "a = -(y * torch.log(p)).sum(-1).mean()\n"
        "b = F.nll_loss(torch.log(p), y)\n"
    )
    assert [(d.line, d.code) for d in check_source(source, "ce.py")] == [(4, "STB101"), (5, "STB101")]


def test_a_flag_for_from_logits_is_no_claim():
    source = (
        "import keras\n"
        "def loss(y, z, logits):\n"
        "    return keras.losses.binary_crossentropy(y, keras.ops.sigmoid(z), from_logits=logits)\n"
    )
    assert check_source(source, "flag.py") == []
