"""The monitoring factories build valid, linked records."""

import pytest

from tests.factories.reporting import (
    ReinvestmentFactory,
    ReminderSentFactory,
    ReturnMeasureActualFactory,
    ReturnMilestoneFactory,
    ReturnSavingFactory,
    ReturnSpendFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("factory", [ReturnSpendFactory, ReturnSavingFactory, ReturnMeasureActualFactory,
                                     ReturnMilestoneFactory, ReinvestmentFactory, ReminderSentFactory])
def test_each_monitoring_factory_builds_a_valid_record(factory):
    record = factory()
    record.full_clean()
    assert record.monitoring_return.award_id
