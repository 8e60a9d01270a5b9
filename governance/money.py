"""Money is pounds and pence in ``Decimal``: never float. Limits shared by every form and model."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# No single amount in an innovation fund comes near a billion pounds; anything larger is a typo.
MAX_AMOUNT = Decimal("999999999.99")
PENNY = Decimal("0.01")
ZERO = Decimal("0.00")

NOT_MONEY = "Enter an amount in pounds, like 12500 or 12500.50"
TOO_MANY_DECIMALS = "Enter an amount with no more than 2 decimal places (pence)"
NEGATIVE = "Enter an amount of £0 or more"
TOO_LARGE = "Enter an amount under £1 billion"


def money_field(verbose_name: str = "", **kwargs) -> models.DecimalField:
    """A model field for a non-negative amount in pounds and pence."""
    kwargs.setdefault("max_digits", 12)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("validators", [MinValueValidator(ZERO), MaxValueValidator(MAX_AMOUNT)])
    return models.DecimalField(verbose_name, **kwargs)


def parse_money(value) -> Decimal:
    """Read a user's amount: ``£12,500.50`` and ``12500.5`` are fine; raise ValidationError else."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(",", "").replace("£", "").replace(" ", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(NOT_MONEY, code="invalid") from None
    if not amount.is_finite():
        raise ValidationError(NOT_MONEY, code="invalid")
    exponent = amount.as_tuple().exponent  # an int: the amount is finite
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError(TOO_MANY_DECIMALS, code="decimal_places")
    if amount < 0:
        raise ValidationError(NEGATIVE, code="negative")
    if amount > MAX_AMOUNT:
        raise ValidationError(TOO_LARGE, code="too_large")
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount, pence: bool = False) -> str:
    if amount is None:
        return ""
    amount = Decimal(amount)
    sign = "-" if amount < 0 else ""
    if pence or amount != amount.to_integral_value():
        return f"{sign}£{abs(amount):,.2f}"
    return f"{sign}£{abs(amount):,.0f}"
