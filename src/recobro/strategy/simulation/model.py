"""The simulated debtors: a seeded, documented model of who pays, how much, and who answers.

Nothing here touches the database: the day's routine (``recobro.strategy.simulation.day``)
reads the cases, asks this model, and writes what it says through the real services.

**Randomness.** Every draw is a hash of the seed and a stable key (the day, what is being
decided, the case's portfolio code and debtor external id…), not a position in a random
stream: the same seed and the same starting data give the same outcome whatever order the
rows come in and whatever ids the database hands out.

**Paying (a daily hazard).** Each open case pays on a given day with probability
``p = 1 / (1 + exp(-z))`` where ``z`` adds up:

- *where the case is*: not yet overdue, ``-2`` in the 3 days up to the due date and on it
  (four days of 12 %: about 40 % of current accounts pay in that window, more with a
  reminder), ``-4.5`` from 4 to 10 days before, ``-6`` earlier; overdue,
  ``-1.2 - ln(1 + dpd)``: 13 % on the first day late, 2 % a day at 15 days, 0.6 % at 45,
  0.25 % at 120, 0.07 % past a year;
- *balance*: ``-0.25 × ln(balance / typical balance)`` (the organization's median): owing
  four times the usual lowers the odds by a third;
- *contacts*: each channel that reached the debtor in the last ``CONTACT_WINDOW_DAYS`` adds
  its lift ``× exp(-age / 4)`` (age in days; today's contact counts fully): a call that
  reached the debtor 1.2, a visit or an external agency's call 1.0, WhatsApp 0.9, an
  automated voice call 0.5, SMS 0.5, a letter 0.4, email 0.3. So strategies that reach
  people on better channels collect more;
- *risk score* (when the debtor has one, 0 to 1): ``+4 × (score - 0.5)``;
- *flags*: deceased ``ln 0.1``, bankrupt ``ln 0.25``, in dispute ``ln 0.3``.

A pending promise replaces the first item: ``-3`` a day until its date and ``-0.8`` on the
date itself; with the lift of the call that took it, a little more than half of the
promises are kept, most of them on the day.

**How much.** Toward a promise: the promised amount. A case not yet overdue: its balance.
Overdue: the whole balance (40 %, 15 % when it is more than 3 × typical), the overdue part
(35 %) or part of the overdue amount (20 % to 60 %, rounded down to a round unit of the
organization's amounts). Never more than the balance.

**Answering.** A task for a call, a visit or an assignment to an external agency (the
agency calls at once) reaches the debtor with probability 0.6 up to
30 days late, 0.45 up to 90 and 0.3 beyond (3 % of calls hit a wrong number). A reached
debtor promises with probability 0.45 (0.3 past 90 days), refuses with 0.2, and otherwise
listens without a commitment. A promise is for the overdue amount (half of it when that is
more than twice the typical balance), 1 to 7 days ahead. Reviews and legal referrals are
simply done.

**Delivery.** Messages are delivered except a small share that fails (email 4 %, SMS 2 %,
WhatsApp 3 %, voice 10 %, letter 1 %); some are read (WhatsApp 60 %, email 30 %).
"""

import hashlib
import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

#: Days of contact history the payment model looks at.
CONTACT_WINDOW_DAYS = 7
CONTACT_DECAY_DAYS = 4.0
#: Lift on the log-odds of paying per channel that reached the debtor.
CONTACT_LIFT = {
    "call": 1.2,
    "visit": 1.0,
    "agency_assignment": 1.0,
    "whatsapp": 0.9,
    "voice": 0.5,
    "sms": 0.5,
    "letter": 0.4,
    "email": 0.3,
}
CURRENT_NEAR_DUE = -2.0  # 0 to 3 days before the due date
CURRENT_SOON = -4.5  # 4 to 10 days before
CURRENT_FAR = -6.0
OVERDUE_INTERCEPT = -1.2
OVERDUE_SLOPE = 1.0  # per ln(1 + dpd)
BALANCE_SLOPE = -0.25  # per ln(balance / typical)
SCORE_SLOPE = 4.0
PROMISE_BEFORE = -3.0
PROMISE_ON_DATE = -0.8
FLAG_FACTORS = {"deceased": 0.1, "bankrupt": 0.25, "disputed": 0.3}

FULL_SHARE = 0.40
FULL_SHARE_LARGE = 0.15  # balance above LARGE_BALANCE × typical
LARGE_BALANCE = 3
OVERDUE_SHARE = 0.35
PARTIAL_MIN, PARTIAL_MAX = 20, 60  # percent of the overdue amount

WRONG_NUMBER = 0.03
PROMISE_AFTER_REACH = 0.45
PROMISE_AFTER_REACH_LATE = 0.30  # past 90 days
REFUSAL_AFTER_REACH = 0.20
PROMISE_MAX_DAYS = 7
PROMISE_HALF_ABOVE = 2  # × typical balance

FAILURE_RATE = {"email": 0.04, "sms": 0.02, "whatsapp": 0.03, "voice": 0.10, "letter": 0.01}
READ_RATE = {"whatsapp": 0.60, "email": 0.30}


def draw(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) that depends only on the seed and the key."""
    text = "|".join([str(seed), *(str(part) for part in key)])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def round_unit(typical: Decimal) -> Decimal:
    """A round amount for the organization: 10 when balances are in the thousands, 10,000
    when they are in the millions."""
    if typical <= 0:
        return Decimal(1)
    return Decimal(10) ** max(0, math.floor(math.log10(typical)) - 2)


@dataclass(frozen=True)
class CaseView:
    """What the model knows of an open case on the simulated day."""

    key: str  # stable: "<portfolio code>/<debtor external id>"
    dpd: int
    days_to_due: int | None
    balance: Decimal
    overdue_balance: Decimal
    typical_balance: Decimal
    #: Days since each channel last reached the debtor (0 = today), within the window.
    contacts: dict[str, int] = field(default_factory=dict)
    #: A pending promise: its amount and the days left to its date (0 = today).
    promise: tuple[Decimal, int] | None = None
    score: Decimal | None = None
    deceased: bool = False
    bankrupt: bool = False
    disputed: bool = False


def log_odds(case: CaseView) -> float:
    """The log-odds that ``case`` pays today (see the module's documentation)."""
    if case.promise is not None and case.promise[1] >= 0:
        z = PROMISE_ON_DATE if case.promise[1] == 0 else PROMISE_BEFORE
    elif case.dpd <= 0:
        to_due = case.days_to_due
        if to_due is None:
            z = CURRENT_FAR
        elif to_due <= 3:
            z = CURRENT_NEAR_DUE
        elif to_due <= 10:
            z = CURRENT_SOON
        else:
            z = CURRENT_FAR
    else:
        z = OVERDUE_INTERCEPT - OVERDUE_SLOPE * math.log1p(case.dpd)
    if case.balance > 0 and case.typical_balance > 0:
        z += BALANCE_SLOPE * float((case.balance / case.typical_balance).ln())  # amounts stay Decimal
    for channel, age in case.contacts.items():
        if 0 <= age <= CONTACT_WINDOW_DAYS:
            z += CONTACT_LIFT.get(channel, 0.0) * math.exp(-age / CONTACT_DECAY_DAYS)
    if case.score is not None:
        z += SCORE_SLOPE * (float(case.score) - 0.5)
    for flag, factor in FLAG_FACTORS.items():
        if getattr(case, flag):
            z += math.log(factor)
    return z


def payment_probability(case: CaseView) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds(case)))


def payment_amount(case: CaseView, u: float) -> Decimal:
    """How much ``case`` pays, ``u`` being a uniform draw; 0 when there is nothing to pay."""
    if case.balance <= 0:
        return Decimal(0)
    if case.promise is not None and case.promise[1] >= 0:
        return min(case.promise[0], case.balance)
    if case.dpd <= 0:
        return case.balance
    overdue = case.overdue_balance if 0 < case.overdue_balance <= case.balance else case.balance
    full = FULL_SHARE_LARGE if case.balance > LARGE_BALANCE * case.typical_balance else FULL_SHARE
    if u < full:
        return case.balance
    if u < full + OVERDUE_SHARE:
        return overdue
    # Partial: a share spread evenly over [PARTIAL_MIN, PARTIAL_MAX] % by the rest of u.
    rest = (u - full - OVERDUE_SHARE) / (1 - full - OVERDUE_SHARE)
    percent = PARTIAL_MIN + int(rest * (PARTIAL_MAX - PARTIAL_MIN + 1))
    unit = round_unit(case.typical_balance)
    amount = (overdue * percent / 100 / unit).quantize(Decimal(1), rounding=ROUND_DOWN) * unit
    return min(max(amount, unit), case.balance)


def reach_probability(dpd: int) -> float:
    if dpd <= 30:
        return 0.60
    if dpd <= 90:
        return 0.45
    return 0.30


@dataclass(frozen=True)
class CallOutcome:
    result: str  # a result code: promise, right_party, refused, no_answer, wrong_number
    reached: bool
    promise_amount: Decimal | None = None
    promise_days: int = 0


def call_outcome(case: CaseView, u_reach: float, u_talk: float, u_days: float) -> CallOutcome:
    """What a call or visit to ``case`` gives, from three uniform draws."""
    if u_reach < WRONG_NUMBER:
        return CallOutcome("wrong_number", reached=False)
    if u_reach >= WRONG_NUMBER + reach_probability(case.dpd):
        return CallOutcome("no_answer", reached=False)
    promise_rate = PROMISE_AFTER_REACH if case.dpd <= 90 else PROMISE_AFTER_REACH_LATE
    if u_talk < promise_rate and case.balance > 0:
        amount = case.overdue_balance if 0 < case.overdue_balance <= case.balance else case.balance
        if amount > PROMISE_HALF_ABOVE * case.typical_balance:
            unit = round_unit(case.typical_balance)
            amount = max(unit, (amount / 2 / unit).quantize(Decimal(1), rounding=ROUND_DOWN) * unit)
        return CallOutcome(
            "promise",
            reached=True,
            promise_amount=min(amount, case.balance),
            promise_days=1 + int(u_days * PROMISE_MAX_DAYS),
        )
    if u_talk < promise_rate + REFUSAL_AFTER_REACH:
        return CallOutcome("refused", reached=True)
    return CallOutcome("right_party", reached=True)


def delivery_outcome(channel: str, u: float) -> str:
    """``failed``, ``read`` or ``delivered`` for a message on ``channel``."""
    failure = FAILURE_RATE.get(channel, 0.02)
    if u < failure:
        return "failed"
    if u < failure + READ_RATE.get(channel, 0.0) * (1 - failure):
        return "read"
    return "delivered"
