"""The factories build valid, linked records: later tests rely on them."""

import pytest

from tests.factories.applications import (
    BenefitMeasureFactory,
    BidCostFactory,
    BidPartnerFactory,
    ProjectedSavingFactory,
)
from tests.factories.assessment import ConflictDeclarationFactory, ScoreFactory
from tests.factories.awards import AwardYearFactory
from tests.factories.reporting import MonitoringReturnFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory",
    [BidCostFactory, BidPartnerFactory, BenefitMeasureFactory, ProjectedSavingFactory, ConflictDeclarationFactory,
     ScoreFactory, AwardYearFactory, MonitoringReturnFactory],
)
def test_each_factory_builds_a_valid_record(factory):
    record = factory()
    record.full_clean()
