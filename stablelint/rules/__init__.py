"""The rule registry: every rule class, by family."""

from stablelint.rules.activations import RULES as ACTIVATION_RULES
from stablelint.rules.base import Rule
from stablelint.rules.cancellation import CANCELLATION_LOG_EXP_RULES, CANCELLATION_STATISTICS_RULES
from stablelint.rules.clamping import LOG_EXP_RULES as CLAMPING_LOG_EXP_RULES
from stablelint.rules.clamping import PRECISION_RULES as CLAMPING_PRECISION_RULES
from stablelint.rules.clamping import STATISTICS_RULES as CLAMPING_STATISTICS_RULES
from stablelint.rules.distributions import RULES as DISTRIBUTION_RULES
from stablelint.rules.groups import RULES as GROUP_RULES
from stablelint.rules.hazards import RULES as HAZARD_RULES
from stablelint.rules.layer_outputs import RULES as LAYER_OUTPUT_RULES
from stablelint.rules.linalg import RULES as LINALG_RULES
from stablelint.rules.logexp import RULES as LOGEXP_RULES
from stablelint.rules.losses import RULES as LOSS_RULES
from stablelint.rules.precision import RULES as PRECISION_RULES
from stablelint.rules.statistics import RULES as STATISTICS_RULES

ALL_RULES: list[type[Rule]] = sorted(
    LOGEXP_RULES + ACTIVATION_RULES + STATISTICS_RULES + LOSS_RULES + HAZARD_RULES + PRECISION_RULES + LINALG_RULES
    + DISTRIBUTION_RULES + CLAMPING_LOG_EXP_RULES + CLAMPING_STATISTICS_RULES + CANCELLATION_LOG_EXP_RULES
    + CANCELLATION_STATISTICS_RULES + CLAMPING_PRECISION_RULES + GROUP_RULES + LAYER_OUTPUT_RULES,
    key=lambda rule: rule.code,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
